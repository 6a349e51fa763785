//! The second stage of plumb's data flow: a path inside a snapshot → DesiredSet.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!                                  ^^^^^^^^^^^^^^^^^^^^^^^^
//!
//!  render(root, path) ─▶ confine (Root) ─▶ Renderer::detect ─▶ plain manifests ─▶ DesiredSet
//!                                                          └─▶ Kustomize (native, see kustomize/)
//! ```
//!
//! It turns files into objects with their provenance (file and line), or fails as a whole
//! with an error naming the file. Everything it reads is confined to the snapshot root and
//! bounded by [`Limits`], because a repository is untrusted input. It knows nothing of the
//! cluster.
//!
//! Kustomize is rendered natively (module `kustomize`): the same bytes as
//! `kubectl kustomize` on a corpus of 51 fixtures checked against it in the tests.
//!
//! Dependencies, chosen once: `serde-saphyr` for YAML (pure Rust, multi-document, with a
//! budget that stops alias bombs; kube-client already uses it), `serde_json` for JSON and
//! for the object model, `globset` for include/exclude patterns, `regex` for Kustomize's
//! selectors, `sha2` for its name hashes (and SOPS MACs).

mod confine;
mod desired_set;
mod directory;
mod error;
mod format;
mod kustomize;
mod limits;
mod manifest;
mod object;
mod options;
mod renderer;
mod size;

pub use desired_set::DesiredSet;
pub use directory::DirectoryOptions;
pub use error::{Duplicate, Error, Result};
pub use format::{KUSTOMIZATION_FILES, Renderer};
pub use kustomize::edit::{FieldChange, ImageEntryChange, set_images};
pub use kustomize::image_ref::{ImageRef, check_image_name};
pub use kustomize::image_use::{ContainerImage, kustomization_file, overlay_images};
pub use kustomize::transform::images::{matches as image_matches, split as split_image};
pub use limits::Limits;
pub use manifest::Ignored;
pub use object::{DesiredObject, MASK, ObjectId, Origin, write_identity};
pub use options::{KustomizeOptions, RenderOptions};
pub use renderer::{Rendered, render};

/// Objects as YAML exactly as `kubectl kustomize` prints them: `---` between documents,
/// keys in go-yaml v2's order, its quoting and folding.
pub fn kustomize_yaml<'a>(
    objects: impl IntoIterator<Item = &'a serde_json::Map<String, serde_json::Value>>,
) -> String {
    kustomize::yaml_stream(objects)
}
