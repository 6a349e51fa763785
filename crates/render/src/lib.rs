//! The second stage of plumb's data flow: a path inside a snapshot → DesiredSet.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!                                  ^^^^^^^^^^^^^^^^^^^^^^^^
//!
//!  render(root, path) ─▶ Root (plumb-manifest) ─▶ Renderer::detect ─▶ plain manifests ─┐
//!                                                                 ├─▶ plumb-kustomize ──┤
//!                                                                 └─▶ plumb-helm ───────┴▶ DesiredSet
//! ```
//!
//! It picks the format of a path, renders it with the crate that owns that format, and
//! gathers the objects with their provenance (file and line) into one DesiredSet — or
//! fails as a whole with an error naming the file. Every format reads through
//! `plumb-manifest`, so everything is confined to the snapshot root and bounded by
//! [`Limits`], because a repository is untrusted input. It knows nothing of the cluster.
//!
//! Kustomize and Helm are rendered natively (crates `plumb-kustomize`, `plumb-helm`): the
//! same bytes as `kubectl kustomize` and `helm template` on corpora of fixtures checked
//! against them in the tests.
//!
//! Dependencies, chosen once: `globset` for include/exclude patterns of plain directories;
//! YAML, JSON and SOPS come from the crates below.

mod desired_set;
mod directory;
mod error;
mod format;
mod helm;
pub use helm::missing_dependencies as missing_helm_dependencies;
mod options;
mod packed_set;
mod rendered;
mod renderer;

pub use desired_set::DesiredSet;
pub use directory::DirectoryOptions;
pub use error::{Duplicate, Error, Result};
pub use format::Renderer;
pub use options::{HelmOptions, RenderOptions};
pub use packed_set::PackedSet;
pub use plumb_helm::{
    Capabilities, RandomKey, merge_user_values as merge_helm_values,
    read_values as read_helm_values,
};
// The types of what a render returns and is given, from the crates that own them.
pub use plumb_kustomize::{KustomizeOptions, LoadRestrictor};
pub use plumb_manifest::{
    DesiredObject, Ignored, Limits, MASK, ObjectId, Origin, write_identity, yaml_reading_options,
};
pub use rendered::Rendered;
pub use renderer::render;
