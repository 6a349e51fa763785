//! What every input format of plumb stands on: reading a repository's files safely and
//! turning them into objects with their provenance.
//!
//! ```text
//!  snapshot root ─▶ Root (confine: no `..`, no symlink out, regular files only, bounded reads)
//!                     └▶ bytes ─▶ parse_decrypted (SOPS, then YAML/JSON) ─▶ DesiredObjects (file, line)
//!                                                                         └▶ size: Limits per object and render
//! ```
//!
//! Plain manifests, Kustomize and Helm (crates `plumb-render`, `plumb-kustomize`) read
//! through this crate only, so a repository — untrusted input — is confined and bounded the
//! same way whatever format it is written in. It knows nothing of formats beyond YAML and
//! JSON, nor of the cluster.

mod confine;
mod error;
pub mod go_json;
pub mod go_yaml;
pub mod go_yaml_end;
mod limits;
mod object;
mod parse;
pub mod size;
mod sops;
mod yaml_reading;

pub use confine::{RepoFile, Root};
pub use error::{Error, Result};
pub use limits::Limits;
pub use object::{DesiredObject, MASK, ObjectId, Origin, write_identity};
pub use parse::{FileContents, Ignored, Syntax, parse, parse_with};
pub use sops::parse_decrypted;
pub use yaml_reading::{yaml_parser_options, yaml_reading_options};
