//! Which images an overlay's workloads run, before and after the overlay's own `images:`.
//!
//! An `images:` entry matches the images its kustomization's transformer is *given* —
//! after bases, patches and components, before the overlay's own entries. Telling whether
//! an entry name is used, which version an environment runs, and whether an edit does
//! what it meant, all need both sides; so the overlay is rendered twice, with and without
//! its own `images:`, and the containers paired by object and position.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::load::{Context, Loader};
use super::render_native;
use super::transform::images::containers;
use crate::error::{Error, Result};
use crate::options::BuildOptions;
use plumb_manifest::Root;

/// One container of a rendered object and its image on both sides of the overlay's
/// `images:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerImage {
    /// The object, as `Kind namespace/name` (`Kind name` when cluster-scoped).
    pub object: String,
    /// Where the container is in the object (`/spec/template/spec/containers/0`).
    pub container: String,
    /// The image the overlay's images transformer is given: what an entry's `name` matches.
    pub input: String,
    /// The image the overlay renders.
    pub output: String,
}

/// The kustomization file of the overlay at `path`, relative to the root: the file
/// `set-image` and `promote` edit.
pub fn kustomization_file(snapshot_root: &Path, path: &str) -> Result<String> {
    let root = Root::new(snapshot_root)?;
    let (relative, dir) = root.directory(path)?;
    if crate::options::kustomization_in(&dir).is_none() {
        return Err(Error::KustomizationMissing { path: relative });
    }
    let options = BuildOptions::default();
    let context = Context::new(root, &options);
    let loader = Loader::open(&context, context.root.resolve(&relative)?)?;
    Ok(loader.kustomization_file())
}

/// The containers the overlay at `path` renders, with their images. With `contents`, the
/// overlay's kustomization file is read as `contents` instead of from disk — how an edit
/// is checked before it is written. Only plumb's own Kustomize engine can tell the two
/// sides apart, so the overlay must render natively.
pub fn overlay_images(
    snapshot_root: &Path,
    path: &str,
    options: &BuildOptions,
    contents: Option<&str>,
) -> Result<Vec<ContainerImage>> {
    let file = kustomization_file(snapshot_root, path)?;
    let render = |own_images: bool| -> Result<Vec<Map<String, Value>>> {
        let root = Root::new(snapshot_root)?;
        let (relative, _) = root.directory(path)?;
        let mut context = Context::new(root, options);
        context.replaced = contents.map(|c| (file.clone(), c.as_bytes().to_vec()));
        let directory = context.root.resolve(&relative)?;
        let built = render_native(&context, directory, own_images)?;
        Ok(built.into_iter().map(|(object, _, _)| object).collect())
    };
    let given = render(false)?;
    let rendered = render(true)?;
    let mut inputs: HashMap<(String, String), String> = HashMap::new();
    for object in &given {
        let id = identity(object);
        for (pointer, image) in containers(object) {
            inputs.insert((id.clone(), pointer), image);
        }
    }
    let mut out = Vec::new();
    for object in &rendered {
        let id = identity(object);
        for (pointer, image) in containers(object) {
            let input = inputs
                .get(&(id.clone(), pointer.clone()))
                .cloned()
                .unwrap_or_else(|| image.clone());
            out.push(ContainerImage {
                object: id.clone(),
                container: pointer,
                input,
                output: image,
            });
        }
    }
    Ok(out)
}

fn identity(object: &Map<String, Value>) -> String {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_owned();
    let kind = text(object.get("kind"));
    let metadata = object.get("metadata");
    let name = text(metadata.and_then(|m| m.get("name")));
    match metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(namespace) if !namespace.is_empty() => format!("{kind} {namespace}/{name}"),
        _ => format!("{kind} {name}"),
    }
}
