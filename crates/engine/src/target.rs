//! Targets: desired objects resolved against the catalog — version, scope, namespace
//! defaulted, tracking marks added — ready to be dry-run and applied.

use std::collections::{BTreeMap, HashSet};

use plumb_render::{DesiredObject, DesiredSet};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::cache::desired_key;
use crate::catalog::{Catalog, KindInfo};
use crate::error::{Error, Result};
use crate::hook_annotations::{self, DeletePolicy, Phase};
use crate::object_options::ObjectOptions;
use crate::object_ref::ObjectRef;
use crate::order::kind_rank;
use crate::quirks;
use crate::tracking::{self, AppId};

/// One object to apply.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) object: ObjectRef,
    pub(crate) kind: KindInfo,
    /// The manifest to apply: namespace defaulted, tracking marks added.
    pub(crate) manifest: PackedManifest,
    /// The phases and delete policy its hook annotations ask for, when it is a hook.
    pub(crate) hook: Option<(Vec<Phase>, DeletePolicy)>,
    pub(crate) wave: i64,
    pub(crate) rank: u32,
    /// Its values must be masked wherever shown.
    pub(crate) sensitive: bool,
    /// Its key in the incremental cache ([`desired_key`]).
    pub(crate) key: u64,
    /// What its annotations ask of a sync.
    pub(crate) options: ObjectOptions,
    /// Whether it belongs to the app (marked, in the inventory, pruned). A namespace
    /// plumb creates for the app's objects does not: it is created when missing, never
    /// updated, pruned or deleted with the app.
    pub(crate) tracked: bool,
}

/// Labels and annotations of the namespaces an app's objects need, created when missing
/// (Argo CD's `CreateNamespace=true` with `managedNamespaceMetadata`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceMetadata {
    /// Labels of a created namespace.
    pub labels: BTreeMap<String, String>,
    /// Annotations of a created namespace.
    pub annotations: BTreeMap<String, String>,
}

/// A manifest as its compact JSON text.
///
/// A controller keeps each app's resolution between reconciles, so that a no-op reconcile
/// of 10,000 objects does not copy and hash them again. Held as trees of maps, those
/// manifests would be most of its memory at 1,000 apps: each small mapping is a B-tree
/// node of several hundred bytes. The text is what an apply sends anyway; the few readers
/// of the tree (hooks, CRDs) parse it back.
#[derive(Clone, Debug)]
pub(crate) struct PackedManifest(Box<RawValue>);

impl PackedManifest {
    pub(crate) fn pack(manifest: &Map<String, Value>) -> PackedManifest {
        // A map with string keys always serialises, to valid JSON.
        let text = serde_json::to_string(manifest).unwrap_or_else(|_| "{}".to_owned());
        PackedManifest(RawValue::from_string(text).unwrap_or_else(|_| empty()))
    }

    /// The manifest as a tree again.
    pub(crate) fn unpack(&self) -> Map<String, Value> {
        // Packed from a map, the text parses back to one.
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// The JSON text, to send as it is.
    pub(crate) fn raw(&self) -> &RawValue {
        &self.0
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| unreachable!("{{}} is JSON"))
}

impl Target {
    /// The order key: wave, kind rank, then identity for a stable order.
    pub(crate) fn order_key(&self) -> (i64, u32, &ObjectRef) {
        (self.wave, self.rank, &self.object)
    }

    /// The (group, kind) it defines, when it is a CustomResourceDefinition.
    pub(crate) fn defined_kind(&self) -> Option<(String, String)> {
        if self.object.group != "apiextensions.k8s.io"
            || self.object.kind != "CustomResourceDefinition"
        {
            return None;
        }
        let manifest = self.manifest.unpack();
        let spec = manifest.get("spec")?;
        let group = spec.get("group")?.as_str()?;
        let kind = spec.pointer("/names/kind")?.as_str()?;
        Some((group.to_owned(), kind.to_owned()))
    }
}

/// Resolves every desired object. CRDs in the set make their kinds known (but unserved).
/// `rules` is the [`crate::cache::rules_hash`] of the `ignoreDifferences` the targets are compared under.
pub(crate) fn resolve(
    desired: &DesiredSet,
    catalog: &Catalog,
    app: &AppId,
    default_namespace: Option<&str>,
    rules: u64,
    create_namespaces: Option<&NamespaceMetadata>,
) -> Result<Vec<Target>> {
    let crds: Vec<_> = desired
        .iter()
        .filter(|o| {
            o.id().group == "apiextensions.k8s.io" && o.id().kind == "CustomResourceDefinition"
        })
        .collect();
    // Copied only when the set brings CRDs: the common plan reads the shared catalog.
    let extended;
    let catalog = if crds.is_empty() {
        catalog
    } else {
        let mut with_crds = catalog.clone();
        crds.iter()
            .for_each(|crd| with_crds.add_crd(crd.manifest()));
        extended = with_crds;
        &extended
    };
    let mut targets: Vec<Target> = desired
        .iter()
        .map(|object| resolve_one(object, catalog, app, default_namespace, rules))
        .collect::<Result<_>>()?;
    if let Some(metadata) = create_namespaces {
        let needed = namespaces_to_create(&targets, catalog, metadata, rules);
        targets.extend(needed);
    }
    targets.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    // Render refuses duplicates by written identity; defaulting namespaces can still
    // make two manifests one object.
    let mut seen = HashSet::new();
    for target in &targets {
        let key = (
            &target.object.group,
            &target.object.kind,
            &target.object.namespace,
            &target.object.name,
        );
        if !seen.insert(key) {
            return Err(Error::Scope {
                object: target.object.to_string(),
                detail: "defined twice once namespaces are defaulted".into(),
            });
        }
    }
    Ok(targets)
}

/// A namespace for every one the targets are in that the set does not define, in the
/// first wave: created when missing, before anything that goes in it.
fn namespaces_to_create(
    targets: &[Target],
    catalog: &Catalog,
    metadata: &NamespaceMetadata,
    rules: u64,
) -> Vec<Target> {
    let Some(kind) = catalog.get("", "v1", "Namespace") else {
        return Vec::new();
    };
    let defined: HashSet<&str> = targets
        .iter()
        .filter(|t| t.object.group.is_empty() && t.object.kind == "Namespace")
        .map(|t| t.object.name.as_str())
        .collect();
    let needed: std::collections::BTreeSet<&str> = targets
        .iter()
        .filter_map(|t| t.object.namespace.as_deref())
        .filter(|ns| !defined.contains(ns))
        .collect();
    let wave = targets.iter().map(|t| t.wave).min().unwrap_or(0);
    needed
        .into_iter()
        .map(|name| {
            let mut meta = Map::new();
            meta.insert("name".into(), name.into());
            if !metadata.labels.is_empty() {
                meta.insert("labels".into(), serde_json::json!(metadata.labels));
            }
            if !metadata.annotations.is_empty() {
                meta.insert(
                    "annotations".into(),
                    serde_json::json!(metadata.annotations),
                );
            }
            let mut manifest = Map::new();
            manifest.insert("apiVersion".into(), "v1".into());
            manifest.insert("kind".into(), "Namespace".into());
            manifest.insert("metadata".into(), Value::Object(meta));
            Target {
                key: desired_key(&manifest, rules),
                object: ObjectRef {
                    group: String::new(),
                    version: "v1".into(),
                    kind: "Namespace".into(),
                    namespace: None,
                    name: name.to_owned(),
                },
                rank: kind_rank("", "Namespace"),
                kind: kind.clone(),
                manifest: PackedManifest::pack(&manifest),
                hook: None,
                wave,
                sensitive: false,
                options: ObjectOptions {
                    wave,
                    ..ObjectOptions::default()
                },
                tracked: false,
            }
        })
        .collect()
}

fn resolve_one(
    object: &DesiredObject,
    catalog: &Catalog,
    app: &AppId,
    default_namespace: Option<&str>,
    rules: u64,
) -> Result<Target> {
    let id = object.id();
    let version = object
        .api_version()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    // Only errors show it: not formatted for each of thousands of objects.
    let shown = || id.to_string();
    let kind = catalog
        .get(&id.group, &version, &id.kind)
        .cloned()
        .ok_or_else(|| Error::UnknownKind {
            object: shown(),
            api_version: object.api_version().to_owned(),
            kind: id.kind.clone(),
        })?;
    let mut manifest = object.manifest().clone();
    let namespace = match (kind.namespaced, &id.namespace) {
        (true, Some(namespace)) => Some(namespace.clone()),
        (true, None) => {
            let namespace = default_namespace.ok_or_else(|| Error::Scope {
                object: shown(),
                detail: "namespaced, but names no namespace and no default namespace is set".into(),
            })?;
            set_namespace(&mut manifest, Some(namespace));
            Some(namespace.to_owned())
        }
        (false, Some(_)) => {
            // The API server ignores it too; removing it keeps diffs honest.
            set_namespace(&mut manifest, None);
            None
        }
        (false, None) => None,
    };
    let options = ObjectOptions::of(&manifest).map_err(|detail| Error::Scope {
        object: shown(),
        detail,
    })?;
    let tracking_id = tracking::tracking_id(
        app,
        &id.group,
        &id.kind,
        namespace.as_deref().unwrap_or_default(),
        &id.name,
    );
    tracking::mark(&mut manifest, app, &tracking_id);
    quirks::apply(catalog.server_minor, &id.group, &id.kind, &mut manifest);
    let hook = hook_annotations::hook_of(&manifest).map_err(|detail| Error::Scope {
        object: shown(),
        detail,
    })?;
    Ok(Target {
        key: desired_key(&manifest, rules),
        object: ObjectRef {
            group: id.group.clone(),
            version,
            kind: id.kind.clone(),
            namespace,
            name: id.name.clone(),
        },
        rank: kind_rank(&id.group, &id.kind),
        kind,
        manifest: PackedManifest::pack(&manifest),
        hook,
        wave: options.wave,
        sensitive: object.is_sensitive(),
        options,
        tracked: true,
    })
}

fn set_namespace(manifest: &mut Map<String, Value>, namespace: Option<&str>) {
    if let Some(Value::Object(metadata)) = manifest.get_mut("metadata") {
        match namespace {
            Some(namespace) => metadata.insert("namespace".into(), namespace.into()),
            None => metadata.remove("namespace"),
        };
    }
}
