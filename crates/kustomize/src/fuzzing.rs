//! Entry points for the fuzz targets in `fuzz/` at the repository's root; not an API.
//!
//! They reach what `render` reaches, minus the file system where a fuzzer would only slow
//! down: a kustomization read from bytes instead of its file, and one strategic merge patch.

use std::path::Path;

use serde_json::Value;

use super::load::{Context, Loader};
use super::schema::Schema;
use super::{Built, render_native, smp};
use crate::error::Result;
use crate::options::BuildOptions;
use plumb_manifest::Root;

/// The objects of the kustomization in directory `relative` of `snapshot_root`, with its
/// kustomization file read as `contents` (as `overlay_images` checks an edit).
pub fn render_kustomization(
    snapshot_root: &Path,
    relative: &str,
    contents: &[u8],
    options: &BuildOptions,
) -> Result<Vec<Built>> {
    let root = Root::new(snapshot_root)?;
    let (relative, _) = root.directory(relative)?;
    let mut context = Context::new(root, options);
    let directory = context.root.resolve(&relative)?;
    let file = Loader::open(&context, directory.clone())?.kustomization_file();
    context.replaced = Some((file, contents.to_vec()));
    render_native(&context, directory, true)
}

/// `patch` merged into `object` as a `patches` entry merges it: with the schema of the
/// object's `apiVersion` and `kind`. `None` when the patch deletes the object.
pub fn strategic_merge(object: Value, patch: Value) -> std::result::Result<Option<Value>, String> {
    let text = |field: &str| object.get(field).and_then(Value::as_str).unwrap_or("");
    let schema = Schema::of(text("apiVersion"), text("kind"));
    smp::merge(object, patch, schema).map_err(|e| e.detail)
}
