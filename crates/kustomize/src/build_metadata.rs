//! `buildMetadata`: what a build tells about itself in its output — the
//! `app.kubernetes.io/managed-by` label (`managedByLabel`), each object's
//! `config.kubernetes.io/origin` annotation (`originAnnotations`: the file it came from,
//! relative to the kustomization built, or the kustomization and generator that made it)
//! and `alpha.config.kubernetes.io/transformations` (`transformerAnnotations`: every
//! transformer that ran over it, noted by `transformers` as the build went).
//! Only the kustomization built decides, as Kustomize passes its own to every base.
//!
//! Kustomize removes origin and transformation annotations an object carries unless they
//! are asked for, so a repository cannot pass them off as its build's; plumb does too.

use serde_json::{Map, Value};

use super::resource::Resource;

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// What kubectl's embedded Kustomize (and Flux's) writes: its module version is not
/// stamped into those binaries.
const MANAGED_BY_VALUE: &str = "kustomize-(devel)";
const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// An option plumb does not produce.
pub(crate) struct Unsupported(pub(crate) &'static str);

/// Applies the kustomization's `buildMetadata` options to the final objects; `top` is
/// the built kustomization's directory, relative to the repository root.
pub(crate) fn apply(
    resources: &mut [Resource],
    options: &[String],
    top: &str,
) -> Result<(), Unsupported> {
    let wants = |option: &str| options.iter().any(|o| o == option);
    let origins = wants("originAnnotations");
    let transformations = wants("transformerAnnotations");
    if origins && resources.iter().any(|r| r.configured_by == Some(HELM)) {
        return Err(Unsupported(
            "buildMetadata: originAnnotations with helmCharts",
        ));
    }
    for resource in resources.iter_mut() {
        let origin = origins.then(|| origin(resource, top));
        let notes = transformations.then(|| notes(resource, top));
        let metadata = resource.metadata_mut();
        match metadata.get_mut("annotations") {
            Some(Value::Object(annotations)) => {
                annotations.remove(ORIGIN);
                annotations.remove(TRANSFORMATIONS);
                if annotations.is_empty() {
                    metadata.remove("annotations");
                }
            }
            // Kustomize writes the annotations back, and none is no field at all.
            Some(Value::Null) => {
                metadata.remove("annotations");
            }
            _ => {}
        }
        let mut added = Vec::new();
        if let Some(origin) = origin {
            added.push((ORIGIN, origin));
        }
        if let Some(notes) = notes.filter(|n| !n.is_empty()) {
            added.push((TRANSFORMATIONS, notes));
        }
        if !added.is_empty() {
            let annotations = metadata
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(annotations) = annotations {
                for (key, value) in added {
                    annotations.insert(key.into(), value.into());
                }
            }
        }
        if wants("managedByLabel") {
            let labels = metadata
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(labels) = labels {
                labels.insert(MANAGED_BY.into(), MANAGED_BY_VALUE.into());
            }
        }
    }
    Ok(())
}

/// The kind of generator that made a Helm chart's objects.
pub(crate) const HELM: &str = "HelmChartInflationGenerator";

/// The origin annotation's text, as Kustomize marshals it.
fn origin(resource: &Resource, top: &str) -> String {
    let path = relative(top, &resource.origin.path);
    match resource.configured_by {
        Some(kind) => {
            format!("configuredIn: {path}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n")
        }
        None => format!("path: {path}\n"),
    }
}

/// The transformations annotation's text: the transformers that ran over the object.
fn notes(resource: &Resource, top: &str) -> String {
    let mut text = String::new();
    for note in &resource.transformations {
        text.push_str(&format!(
            "- configuredIn: {}\n  configuredBy:\n    apiVersion: builtin\n    kind: {}\n",
            relative(top, &note.configured_in),
            note.kind
        ));
        if !note.name.is_empty() {
            text.push_str(&format!("    name: {}\n", note.name));
        }
    }
    text
}

/// `file` (relative to the repository root) as a path from directory `from`.
fn relative(from: &str, file: &str) -> String {
    let from: Vec<&str> = from
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let to: Vec<&str> = file
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn paths_from_the_built_kustomization() {
        assert_eq!(relative(".", "base/app.yaml"), "base/app.yaml");
        assert_eq!(
            relative("overlays/prod", "base/app.yaml"),
            "../../base/app.yaml"
        );
        assert_eq!(
            relative("overlays/prod", "overlays/prod/patch.yaml"),
            "patch.yaml"
        );
        assert_eq!(
            relative("apps/web", "apps/shared/x.yaml"),
            "../shared/x.yaml"
        );
    }
}
