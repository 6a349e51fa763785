//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: which objects a patch
//! reaches (its own id, or a target selector) and which kind of patch it is.
//!
//! A patch can be aimed at every object, so each object it changes is measured as it is
//! changed ([`Tally`]): one grown past `max_object_bytes`, or patched objects together
//! past `max_rendered_bytes`, stop the build at that patch.

use serde_json::Value;

use super::kustomization::{Patch, Selector};
use super::load::Loader;
use super::resource::{ResId, Resource, split_api_version};
use super::selector::Compiled;
use super::{BuildError, json6902, smp};
use crate::error::Result;
use plumb_manifest::Limits;
use plumb_manifest::size::Tally;

/// A loaded patch.
enum Loaded {
    Strategic(Vec<Value>),
    Json(Value),
}

/// Reads a patch given inline or by path, and tells its kind by its shape: a list of
/// operations is a JSON patch, mappings are strategic merge patches.
fn load(loader: &Loader, path: Option<&str>, inline: Option<&str>) -> Result<Loaded> {
    let (text, source) = match (path, inline) {
        (Some(path), None) => (
            String::from_utf8(loader.read_relative(path)?)
                .map_err(|_| loader.error(format!("patch {path} is not UTF-8")))?,
            path.to_owned(),
        ),
        (None, Some(inline)) => (inline.to_owned(), "inline patch".to_owned()),
        (Some(_), Some(_)) => {
            return Err(loader.error("a patch has both path and patch; give one".into()));
        }
        (None, None) => return Err(loader.error("a patch has neither path nor patch".into())),
    };
    let documents = loader.parse_yaml(&source, text.as_bytes())?;
    let documents: Vec<Value> = documents.into_iter().filter(|d| !d.is_null()).collect();
    match documents.as_slice() {
        [Value::Array(_)] => Ok(Loaded::Json(
            documents.into_iter().next().unwrap_or_default(),
        )),
        docs if !docs.is_empty() && docs.iter().all(Value::is_object) => {
            Ok(Loaded::Strategic(documents))
        }
        _ => Err(loader.error(format!("unable to parse SM or JSON patch from {source}"))),
    }
}

/// A `patches` entry.
pub(crate) fn apply_patch(
    loader: &Loader,
    resources: &mut Vec<Resource>,
    patch: &Patch,
) -> Result<()> {
    let fail = |err: BuildError| loader.fail(err);
    let changes = Changes {
        name: patch.options.get("allowNameChange") == Some(&true),
        kind: patch.options.get("allowKindChange") == Some(&true),
    };
    let limits = &loader.context.options.limits;
    let label = label(patch.path.as_deref());
    match load(loader, patch.path.as_deref(), patch.patch.as_deref())? {
        Loaded::Strategic(patches) => {
            for smp_patch in &patches {
                let selected = match &patch.target {
                    Some(target) => select(resources, target).map_err(fail)?,
                    None => vec![by_id(resources, smp_patch).map_err(fail)?],
                };
                apply_strategic(loader, resources, &selected, smp_patch, changes, &label)
                    .map_err(fail)?;
            }
        }
        Loaded::Json(ops) => {
            let Some(target) = &patch.target else {
                return Err(loader.error("must specify a target for JSON patch".into()));
            };
            apply_json(resources, target, &ops, limits, &label).map_err(fail)?;
        }
    }
    Ok(())
}

/// A `patchesStrategicMerge` entry: a path or an inline patch, applied to its own id.
pub(crate) fn apply_legacy_strategic(
    loader: &Loader,
    resources: &mut Vec<Resource>,
    entry: &str,
) -> Result<()> {
    let fail = |err: BuildError| loader.fail(err);
    let inline = entry.contains('\n') || entry.contains(": ");
    let loaded = if inline {
        load(loader, None, Some(entry))?
    } else {
        load(loader, Some(entry), None)?
    };
    let Loaded::Strategic(patches) = loaded else {
        return Err(loader.error(format!("{entry}: patchesStrategicMerge holds a JSON patch")));
    };
    let label = label((!inline).then_some(entry));
    for smp_patch in &patches {
        let selected = vec![by_id(resources, smp_patch).map_err(fail)?];
        let changes = Changes::default();
        apply_strategic(loader, resources, &selected, smp_patch, changes, &label).map_err(fail)?;
    }
    Ok(())
}

/// A `patchesJson6902` entry.
pub(crate) fn apply_legacy_json(
    loader: &Loader,
    resources: &mut [Resource],
    patch: &Patch,
) -> Result<()> {
    let Some(target) = &patch.target else {
        return Err(loader.error("must specify a target for patch".into()));
    };
    let ops = match load(loader, patch.path.as_deref(), patch.patch.as_deref())? {
        Loaded::Json(ops) => ops,
        Loaded::Strategic(_) => {
            return Err(loader.error("patchesJson6902 holds no JSON patch".into()));
        }
    };
    let limits = &loader.context.options.limits;
    let label = label(patch.path.as_deref());
    apply_json(resources, target, &ops, limits, &label).map_err(|err| loader.fail(err))
}

/// How a patch is named in errors: its file, or `inline patch`.
fn label(path: Option<&str>) -> String {
    path.map_or_else(|| "inline patch".to_owned(), |path| format!("patch {path}"))
}

fn apply_json(
    resources: &mut [Resource],
    target: &Selector,
    ops: &Value,
    limits: &Limits,
    label: &str,
) -> Result<(), BuildError> {
    let compiled = Compiled::new(target)?;
    let mut tally = Tally::new(limits);
    for resource in resources.iter_mut().filter(|r| compiled.matches(r)) {
        resource.store_previous_id();
        let id = resource.cur_id().describe();
        let within = || format!("JSON {label} on {id}");
        let mut object = Value::Object(std::mem::take(&mut resource.object));
        json6902::apply(&mut object, ops, limits).map_err(|e| e.within(within()))?;
        resource.object = super::transform::namespace::into_map(object);
        tally
            .add(&resource.object, || "the patched object".to_owned())
            .map_err(|e| BuildError::from(e).within(within()))?;
    }
    Ok(())
}

/// Indices of the objects a selector picks.
fn select(resources: &[Resource], target: &Selector) -> Result<Vec<usize>, BuildError> {
    let compiled = Compiled::new(target)?;
    Ok((0..resources.len())
        .filter(|&i| compiled.matches(&resources[i]))
        .collect())
}

/// The object a patch names by its own apiVersion, kind, name and namespace.
fn by_id(resources: &[Resource], patch: &Value) -> Result<usize, BuildError> {
    let text = |field: &str| patch.get(field).and_then(Value::as_str).unwrap_or("");
    let meta = |field: &str| {
        patch
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (group, version) = split_api_version(text("apiVersion"));
    let id = ResId {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: text("kind").to_owned(),
        name: meta("name").to_owned(),
        namespace: meta("namespace").to_owned(),
    };
    let found: Vec<usize> = (0..resources.len())
        .filter(|&i| resources[i].any_ids().iter().any(|other| other.same(&id)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(BuildError::new(format!(
            "no resource matches strategic merge patch \"{}\"",
            id.describe()
        ))),
        _ => Err(BuildError::new(format!(
            "multiple matches for Id {}",
            id.describe()
        ))),
    }
}

/// What a strategic merge patch may change of an object's id (`patches[].options`); it
/// never changes the namespace.
#[derive(Clone, Copy, Default)]
struct Changes {
    /// `allowNameChange`: the patch's name becomes the object's.
    name: bool,
    /// `allowKindChange`: the patch's kind becomes the object's.
    kind: bool,
}

/// Applies one strategic merge patch to the selected objects; objects it deletes go.
fn apply_strategic(
    loader: &Loader,
    resources: &mut Vec<Resource>,
    selected: &[usize],
    patch: &Value,
    changes: Changes,
    label: &str,
) -> Result<(), BuildError> {
    let mut tally = Tally::new(&loader.context.options.limits);
    let openapi = loader.context.openapi.borrow();
    let mut deleted = Vec::new();
    for &index in selected {
        let resource = &mut resources[index];
        let (name, namespace, kind) = (
            resource.name().to_owned(),
            resource.namespace().to_owned(),
            resource.kind().to_owned(),
        );
        let api_version = resource.api_version().to_owned();
        if changes.name || changes.kind {
            resource.store_previous_id();
        }
        let mut patch = patch.clone();
        if let Value::Object(map) = &mut patch {
            map.insert("apiVersion".into(), api_version.clone().into());
        }
        let object = Value::Object(std::mem::take(&mut resource.object));
        let merged = smp::merge(object, patch, openapi.schema_of(&api_version, &kind))?;
        match merged {
            Some(Value::Object(map)) if !map.is_empty() => {
                resource.object = map;
                if !changes.kind || resource.kind().is_empty() {
                    resource.object.insert("kind".into(), kind.into());
                }
                if !changes.name || resource.name().is_empty() {
                    resource.set_name(&name);
                }
                resource.set_namespace(&namespace);
                let id = resource.cur_id().describe();
                tally
                    .add(&resource.object, || "the patched object".to_owned())
                    .map_err(|e| {
                        BuildError::from(e).within(format!("strategic merge {label} on {id}"))
                    })?;
            }
            _ => deleted.push(index),
        }
    }
    deleted.sort_unstable();
    for index in deleted.into_iter().rev() {
        resources.remove(index);
    }
    Ok(())
}
