//! The kustomization field `openapi`: which schema tells strategic merge how to merge lists
//! — `{path: FILE}`, a custom OpenAPI document (JSON or YAML) declaring custom resources'
//! `x-kubernetes-patch-strategy`, `-patch-merge-key` and `-list-map-keys`; or `{version:
//! v1.21.2}`, the built-in Kubernetes schema (the only version Kustomize v5.5 has, and its
//! default).
//!
//! As in Kustomize, one schema serves the whole build and the first kustomization to name
//! one wins: the kustomization built is asked first, then bases and components as they are
//! loaded. A custom schema replaces the built-in one rather than adding to it, so a
//! Deployment's containers no longer merge by name unless the custom schema says so — the
//! same surprise `kubectl kustomize` gives.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::error::Result;
use crate::load::Loader;
use crate::schema::{CustomSchema, OpenApi};

/// The only built-in schema version Kustomize v5.5 knows (and the one plumb's tables hold).
const BUILTIN_VERSION: &str = "v1.21.2";

/// Takes the `openapi` field of the kustomization `loader` opened. `first` is the
/// kustomization being built: it names the schema even when one is set (Kustomize resets
/// it there); a base or component names it only when none is set yet. The file is read
/// either way, so a missing one fails the build as it does in Kustomize.
pub(crate) fn declare(
    loader: &Loader,
    field: &BTreeMap<String, String>,
    first: bool,
) -> Result<()> {
    let path = field.get("path");
    let document = match path {
        Some(path) if path.contains("://") => {
            return Err(loader.error(format!(
                "openapi: path {path} is a URL; plumb reads no remote files — put the schema in the repository and name its path"
            )));
        }
        Some(path) => {
            let bytes = loader.read_relative(path)?;
            Some((path, loader.parse_yaml(path, &bytes)?))
        }
        None => None,
    };
    let context = loader.context;
    if !first && !matches!(*context.openapi.borrow(), OpenApi::Unset) {
        return Ok(());
    }
    let version = field.get("version");
    let chosen = match (version, document) {
        (Some(_), Some(_)) => {
            return Err(loader.error(
                "openapi: builtin version and custom schema provided, cannot use both; keep either `version` or `path`".into(),
            ));
        }
        (_, Some((path, documents))) => {
            let document = documents.into_iter().next().unwrap_or_default();
            let schema = CustomSchema::parse(&document).map_err(|detail| {
                loader.error(format!(
                    "openapi: {path} is not an OpenAPI schema: {detail}"
                ))
            })?;
            OpenApi::Custom(Rc::new(schema))
        }
        (Some(version), None) if version.is_empty() => OpenApi::Unset,
        (Some(version), None) if version == BUILTIN_VERSION => OpenApi::Builtin,
        (Some(version), None) => {
            return Err(loader.error(format!(
                "openapi: version {version} is not built in; the only built-in schema is {BUILTIN_VERSION} (or name a schema file with `path`)"
            )));
        }
        (None, None) => OpenApi::Unset,
    };
    if first || !matches!(chosen, OpenApi::Unset) {
        context.openapi.replace(chosen);
    }
    Ok(())
}
