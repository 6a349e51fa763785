//! What an external kustomize may read, checked before it runs: every base, resource,
//! component and file named by the kustomizations it would build must lie inside the
//! repository, through the same confinement as plumb's own engine (canonical paths,
//! symlinks that stay inside). Kustomize's own `LoadRestrictionsRootOnly` keeps files
//! below each kustomization's directory but lets bases sit anywhere on the machine —
//! another tenant's snapshot, `/var/run/secrets` — and follows a symlinked file, so plumb
//! checks these itself.
//!
//! Read as plain YAML, not as plumb's `Kustomization`: the kustomizations handed to an
//! external binary are exactly those plumb's schema does not cover.

use std::collections::HashSet;

use serde_json::Value;

use super::super::is_remote;
use super::super::load::{Context, Loader};
use crate::error::{Error, Result};
use plumb_manifest::RepoFile;

/// Fields holding bases: directories with their own kustomization (or files).
const BASES: &[&str] = &["resources", "bases", "components"];

/// Fields holding paths of files (or, for plugins, of directories of configurations).
const FILES: &[&str] = &[
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
];

/// Keys that name files inside plugin configurations and generator entries.
const NESTED: &[&str] = &[
    "path",
    "paths",
    "files",
    "envs",
    "env",
    "valuesFile",
    "additionalValuesFiles",
    "chartHome",
    "configHome",
];

/// Checks the kustomization in `dir` and everything it reaches.
pub(crate) fn check(context: &Context<'_>, dir: RepoFile) -> Result<()> {
    let mut visited = HashSet::new();
    visit(context, dir, &mut visited)
}

fn visit(context: &Context<'_>, dir: RepoFile, visited: &mut HashSet<String>) -> Result<()> {
    if !visited.insert(dir.relative.clone()) {
        return Ok(());
    }
    let loader = Loader::open(context, dir)?;
    // Kustomize reads `Resources:` as `resources:`; so must the check.
    let kustomization = crate::spelling::canonical(loader.read_kustomization()?);
    let Value::Object(fields) = &kustomization else {
        return Ok(());
    };
    for (field, value) in fields {
        let bases = BASES.contains(&field.as_str());
        let files = FILES.contains(&field.as_str());
        if !(bases || files) {
            nested(&loader, field, value)?;
            continue;
        }
        for entry in strings(value) {
            // An inline plugin configuration, not a path.
            if entry.contains('\n') {
                let documents =
                    loader.parse_yaml(&loader.kustomization_file(), entry.as_bytes())?;
                for document in &documents {
                    nested(&loader, field, document)?;
                }
                continue;
            }
            path(&loader, entry, files, visited, context)?;
        }
    }
    Ok(())
}

/// Checks one path a kustomization names, and what it leads to.
fn path(
    loader: &Loader<'_, '_>,
    entry: &str,
    plugin: bool,
    visited: &mut HashSet<String>,
    context: &Context<'_>,
) -> Result<()> {
    if is_remote(entry) {
        if entry.starts_with("file:") {
            return Err(Error::Manifest(plumb_manifest::Error::PathOutsideRoot {
                path: entry.to_owned(),
                reason: "a file:// base reads the machine's file system, not the repository".into(),
            }));
        }
        if !context.options.kustomize.allow_remote_bases {
            return Err(Error::KustomizeRemoteBase {
                file: loader.kustomization_file(),
                url: entry.to_owned(),
                allowed: false,
            });
        }
        return Ok(());
    }
    let target = loader.resolve(entry)?;
    if target.is_dir() {
        return visit(context, target, visited);
    }
    // A plugin configuration names files of its own (a resource's fields are data).
    if plugin {
        let bytes = context.read(&target)?;
        for document in loader.parse_yaml(&target.relative, &bytes)? {
            nested(loader, "", &document)?;
        }
    }
    Ok(())
}

/// Walks a value for [`NESTED`] keys naming files (`patches[].path`, generators' `files`
/// and `envs`, Helm values files, …) and checks each.
fn nested(loader: &Loader<'_, '_>, key: &str, value: &Value) -> Result<()> {
    match value {
        Value::Object(fields) => {
            for (key, value) in fields {
                nested(loader, key, value)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                nested(loader, key, item)?;
            }
        }
        // Plugin configurations are decoded by Go too: field names in any case.
        Value::String(text) if NESTED.iter().any(|n| n.eq_ignore_ascii_case(key)) => {
            // Generator files may be written `key=path`.
            let file = text.split_once('=').map_or(text.as_str(), |(_, path)| path);
            if !file.is_empty() && !file.contains('\n') {
                match loader.resolve(file) {
                    // Also what field specs' `path: spec/template` come to: not files.
                    Ok(_) | Err(Error::Manifest(plumb_manifest::Error::NotFound { .. })) => {}
                    Err(escape) => return Err(escape),
                }
            }
        }
        // `patchesStrategicMerge` entries are paths unless they are inline patches.
        Value::String(text)
            if key == "patchesStrategicMerge" && !(text.contains('\n') || text.contains(": ")) =>
        {
            loader.resolve(text)?;
        }
        _ => {}
    }
    Ok(())
}

/// The strings of a field that holds one or a list.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(text) => vec![text],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}
