//! Native Helm: charts rendered in Rust, identical to `helm template`.
//!
//! ```text
//!  chart dir ─▶ Chart (Chart.yaml, values.yaml, templates/, charts/, .Files) ─▶ values (user
//!  files merged, coalesced with each chart's defaults, globals down, conditions and tags)
//!  ─▶ template (Go text/template + Sprig + Helm functions) ─▶ manifests (split, install
//!  order, hooks apart, crds/ first)
//! ```
//!
//! Go's types decide the bytes a chart renders (see [`value`]): values read from YAML are
//! floats, maps are shared references, comparison across types fails. The crate follows
//! Go's `text/template`, Sprig v3 and Helm 4's engine closely enough to be checked byte for
//! byte against `helm template` (the oracle tests).
//!
//! Supported: every function name helm v4.3.2 offers (`tests/fixtures/helm-4.3.2-functions.txt`,
//! checked by a test) — Helm 4's `toToml`/`fromToml`, `toYamlPretty` (go-yaml v3) and
//! duration helpers included; subcharts, library charts, aliases, globals, `condition` and
//! `tags`, `import-values` in both forms; `values.schema.json`; `crds/`; hooks apart.
//! Dependencies missing from `charts/` are listed for `plumb-source` to fetch (from Helm
//! repositories and OCI registries) at the versions `Chart.lock` pins when its digest says it
//! belongs to `Chart.yaml`.
//!
//! Where it cannot be the same, it refuses by name or says how it differs:
//!
//! - random functions — `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`,
//!   `randInt`, `shuffle`, `genPrivateKey` (rsa 4096, ed25519; not dsa or ecdsa), `genCA`,
//!   `genSelfSignedCert`, `genSignedCert` and their `WithKey` forms (RSA keys only) — draw
//!   from ChaCha20 keyed by HMAC of [`RenderOptions::random_key`], the release, the template
//!   and the draw ([`randomness`]): stable under one key, so a GitOps controller sees no
//!   drift, and secret without it. Without a key each render draws a fresh one, as helm does.
//!   Certificates have Sprig's shape but run from the start of a rotation window (half their
//!   lifetime, an hour at least) for `days`: never rendered expired, renewed (new key and
//!   serial) when the window turns. `derivePassword` and `buildCustomCert` are as Sprig's;
//! - functions whose output would change every render — `bcrypt`, `htpasswd`, `uuidv4`,
//!   `randBytes`, `encryptAES`, `now`, `date`… — are errors (set the value in values
//!   instead); `fromToml` refuses TOML dates, and its `Error` text (for a document that does
//!   not parse) is plumb's own, as `fromYaml`'s is;
//! - `lookup` returns an empty map, as under `helm template`.
//!
//! Known to differ (found against helm, not yet matched):
//!
//! - U+2028 and U+2029 in YAML read as plain characters; helm's reader breaks lines at
//!   them while keeping them in the value (`toYaml` writes them as helm does);
//! - `typeOf` of a semver's `.Major`/`.Minor`/`.Patch` says `int64`, helm `uint64`; a semver's
//!   `.Compare` method is not callable;
//! - `mustToYaml` of a value that contains itself gives an empty string where helm fails;
//! - where both fail, some error texts are worded differently (`first` of a string).
//!
//! Dependencies, chosen once: serde-saphyr reads YAML (values, `Chart.yaml`, `fromYaml`);
//! its parser, granit-parser, is driven directly to read rendered documents' heads
//! (`head.rs`), after a line scanner that needs no parser for plain block YAML
//! (`head_lines.rs`); the `toml` crate reads `fromToml`; every writer (`toYaml`, `toJson`,
//! `toToml`) is plumb's own, to match Go's bytes. Randomness is ChaCha20 (`rand_chacha`)
//! keyed by HMAC-SHA256 (`hmac`, `sha2`); RSA keys and signatures come from `rsa`, and
//! certificates are written by plumb (`der.rs`), as Go lays them out; `scrypt` serves
//! `derivePassword`.

mod chart;
mod der;
mod error;
mod funcs;
/// Entry points for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing;
mod glob;
#[cfg(test)]
mod go_semantics;
mod go_time;
pub mod gofmt;
mod head;
mod head_lines;
mod import_values;
mod lock;
mod lock_readable;
mod manifests;
mod objects;
pub mod randomness;
mod render;
mod schema;
mod strvals;
pub mod template;
pub mod value;
mod values;
mod values_file;
mod yaml_breaks;

pub use chart::{Chart, Dependency, Maintainer, Metadata};
pub use error::{Error, Result};
pub use manifests::Manifest;
pub use objects::Capabilities;
pub use randomness::RandomKey;
pub use render::{RenderOptions, Rendered, render};
pub use strvals::set_parameter;
pub use value::Value;
pub use values_file::{merge_user_values, read_values};

/// The Helm release whose behaviour this crate reproduces.
pub const HELM_VERSION: &str = "v4.3.2";
