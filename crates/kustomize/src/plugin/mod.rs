//! `transformers:` and `generators:` entries: Kustomize's built-in plugins configured by
//! objects of `apiVersion: builtin` (`kind: LabelTransformer`, `ConfigMapGenerator`, …),
//! written inline, in files, or produced by a kustomization directory.
//!
//! ```text
//!  entries ─▶ configs (inline YAML │ a file's objects │ a directory's build)
//!          ─▶ builtin kind ─▶ the same transformer or generator the kustomization's own
//!             fields run, with the configuration's field specs instead of the defaults
//! ```
//!
//! They run after the kustomization's own generators (and before its components), or
//! after its own transformers: the inline configurations in the order written, then
//! those of files and directories, as Kustomize orders them. Plugins that are not built in (exec,
//! Go and KRM-function plugins) are refused by name: plumb runs no code from the
//! repository, and Kustomize runs them only with alpha plugins enabled.

mod config;
mod run;

use serde_json::{Map, Value};

use super::kustomization::Kustomization;
use super::load::Loader;
use super::resource::Resource;
use crate::error::{Error, Result};

/// One plugin configuration and the kind it asks for.
pub(crate) struct Config {
    pub(crate) kind: String,
    pub(crate) fields: Map<String, Value>,
    /// The file it was written in, relative to the repository root.
    pub(crate) source: String,
}

impl Config {
    /// `metadata.<field>` of the configuration.
    pub(crate) fn metadata(&self, field: &str) -> &str {
        self.fields
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The configuration without `apiVersion`, `kind` and `metadata`, as `T`.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(&self, loader: &Loader) -> Result<T> {
        let mut fields = self.fields.clone();
        for key in ["apiVersion", "kind", "metadata"] {
            fields.remove(key);
        }
        serde_json::from_value(Value::Object(fields)).map_err(|err| {
            loader.error(format!(
                "builtin {} configuration: {err}; see Kustomize's documentation of its fields",
                self.kind
            ))
        })
    }
}

/// Runs the `transformers` entries of a kustomization over its objects.
pub(crate) fn transform(
    loader: &Loader,
    entries: &[String],
    resources: &mut Vec<Resource>,
) -> Result<()> {
    for config in configs(loader, "transformers", entries)? {
        run::transformer(loader, &config, resources)?;
        if loader.context.transformations.get() {
            let name = config.metadata("name");
            super::resource::Transformation::note(resources, &config.source, &config.kind, name);
        }
    }
    Ok(())
}

/// Runs the `generators` entries of a kustomization, adding what they make.
pub(crate) fn generate(
    loader: &Loader,
    entries: &[String],
    resources: &mut Vec<Resource>,
) -> Result<()> {
    for config in configs(loader, "generators", entries)? {
        run::generator(loader, &config, resources)?;
    }
    Ok(())
}

/// The plugin configurations `entries` name, each checked to be a built-in one.
fn configs(loader: &Loader, field: &str, entries: &[String]) -> Result<Vec<Config>> {
    // Kustomize takes the inline configurations first, then those of the paths.
    let mut objects = Vec::new();
    let mut paths = Vec::new();
    for entry in entries {
        match inline(loader, entry) {
            Some(documents) => {
                let file = loader.kustomization_file();
                objects.extend(documents.into_iter().map(|d| (d, file.clone())));
            }
            None => paths.push(entry),
        }
    }
    for path in paths {
        objects.extend(from_path(loader, path)?);
    }
    objects
        .into_iter()
        .map(|(object, source)| {
            let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
            let (api_version, kind) = (text("apiVersion").to_owned(), text("kind").to_owned());
            if api_version != "builtin" {
                return Err(Error::KustomizePlugin {
                    file: loader.kustomization_file(),
                    field: field.to_owned(),
                    plugin: format!("{api_version}/{kind}"),
                });
            }
            Ok(Config {
                kind,
                fields: object,
                source,
            })
        })
        .collect()
}

/// An entry that is YAML objects rather than a path, as Kustomize tells them apart.
fn inline(loader: &Loader, entry: &str) -> Option<Vec<Map<String, Value>>> {
    let documents = loader.parse_yaml("", entry.as_bytes()).ok()?;
    let objects: Vec<Map<String, Value>> = documents
        .into_iter()
        .filter(|d| !d.is_null())
        .map(|d| match d {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!objects.is_empty()).then_some(objects)
}

/// The configurations in a file, or what the kustomization in a directory builds, with
/// the file each came from.
fn from_path(loader: &Loader, path: &str) -> Result<Vec<(Map<String, Value>, String)>> {
    let target = loader.resolve(path)?;
    let resources = if target.is_dir() {
        let sub = Loader::open(loader.context, target)?;
        let sub_k =
            Kustomization::from_document(&sub.kustomization_file(), sub.read_kustomization()?)?;
        super::build(loader.context, &sub, &sub_k)?.resources
    } else {
        loader.resource_file(&target)?
    };
    Ok(resources
        .into_iter()
        .map(|r| (r.object, r.origin.path))
        .collect())
}
