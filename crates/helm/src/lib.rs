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
//! byte against `helm template` (the oracle tests); where it cannot be the same, it refuses
//! by name:
//!
//! - functions whose output changes every render — `genCA`, `genSignedCert`,
//!   `genPrivateKey`, `bcrypt`, `htpasswd`, `uuidv4`, `now`, `date`… — are errors (set the
//!   value in values instead); `randAlphaNum` and its kin are *stable*: seeded per release
//!   and template, so a GitOps controller does not see drift on every render;
//! - `lookup` returns an empty map, as under `helm template`;
//! - every function name helm v4.3.2 offers is defined (`tests/fixtures/helm-4.3.2-functions.txt`),
//!   Helm 4's `toToml`/`fromToml` and duration helpers included; `derivePassword` is refused by
//!   name; `fromToml` refuses TOML dates; where Go tells `int` from `int64` (`typeOf`, Sprig's
//!   `duration` and `durationRound`), plumb's integers are `int64`;
//! - charts come from a directory or an archive (`plumb-source` fetches them from Helm
//!   repositories and OCI registries), dependencies must be in `charts/`.

mod chart;
mod error;
mod funcs;
/// Entry points for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing;
mod glob;
#[cfg(test)]
mod go_semantics;
pub mod gofmt;
mod head;
mod head_lines;
mod import_values;
mod lock;
mod manifests;
mod objects;
mod render;
mod schema;
mod strvals;
pub mod template;
pub mod value;
mod values;
mod values_file;

pub use chart::{Chart, Dependency, Maintainer, Metadata};
pub use error::{Error, Result};
pub use manifests::Manifest;
pub use objects::Capabilities;
pub use render::{RenderOptions, Rendered, render};
pub use strvals::set_parameter;
pub use value::Value;
pub use values_file::{merge_user_values, read_values};

/// The Helm release whose behaviour this crate reproduces.
pub const HELM_VERSION: &str = "v4.3.2";
