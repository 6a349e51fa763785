//! A resource being built: its object, where it came from, and the bookkeeping Kustomize
//! keeps beside it (previous names, prefixes, generator behaviour) to fix references and
//! merge generated objects.

use serde_json::{Map, Value};

use super::schema;
use plumb_manifest::Origin;

/// Identity as Kustomize compares it: group, version, kind, name and effective namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResId {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    /// As written (empty when none).
    pub(crate) namespace: String,
}

impl ResId {
    /// The namespace Kustomize compares: `default` for a namespaced object without one,
    /// nothing for a cluster-scoped one.
    pub(crate) fn effective_namespace(&self) -> &str {
        if schema::is_cluster_scoped(&self.group, &self.kind) {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub(crate) fn is_cluster_scoped(&self) -> bool {
        schema::is_cluster_scoped(&self.group, &self.kind)
    }

    pub(crate) fn same(&self, other: &ResId) -> bool {
        self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
            && self.name == other.name
            && self.effective_namespace() == other.effective_namespace()
    }

    /// `Kind.version.group/name.namespace`, as Kustomize prints ids in errors.
    pub(crate) fn describe(&self) -> String {
        let group = if self.group.is_empty() {
            "[noGrp]"
        } else {
            &self.group
        };
        let namespace = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        format!(
            "{}.{}.{}/{}.{}",
            self.kind, self.version, group, self.name, namespace
        )
    }
}

/// How a generated object meets one of the same id already accumulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behavior {
    Create,
    Merge,
    Replace,
}

/// One object in the build.
#[derive(Clone, Debug)]
pub(crate) struct Resource {
    pub(crate) object: Map<String, Value>,
    pub(crate) origin: Origin,
    pub(crate) decrypted: bool,
    /// Names, namespaces and kinds it had before transformers changed them, oldest first.
    pub(crate) previous: Vec<(String, String, String)>,
    pub(crate) prefixes: Vec<String>,
    pub(crate) suffixes: Vec<String>,
    /// Set on generated objects.
    pub(crate) behavior: Option<Behavior>,
    pub(crate) needs_hash: bool,
    /// The `vars` that read this object.
    pub(crate) vars: Vec<String>,
    /// The generator that made it (`ConfigMapGenerator`, …), for its origin annotation.
    pub(crate) configured_by: Option<&'static str>,
    /// The transformers that ran over it, when the build notes them.
    pub(crate) transformations: Vec<Transformation>,
}

/// A transformer that ran over an object: where it was configured (relative to the
/// repository root), its kind, and its name when it is a plugin configuration.
#[derive(Clone, Debug)]
pub(crate) struct Transformation {
    pub(crate) configured_in: String,
    pub(crate) kind: String,
    pub(crate) name: String,
}

impl Transformation {
    /// Notes a transformer (configured in `file`, of `kind`, named `name` for a plugin) on
    /// every object it ran over.
    pub(crate) fn note(resources: &mut [Resource], file: &str, kind: &str, name: &str) {
        for resource in resources {
            resource.transformations.push(Transformation {
                configured_in: file.to_owned(),
                kind: kind.to_owned(),
                name: name.to_owned(),
            });
        }
    }
}

impl Resource {
    pub(crate) fn new(object: Map<String, Value>, origin: Origin, decrypted: bool) -> Self {
        Resource {
            object,
            origin,
            decrypted,
            previous: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: None,
            needs_hash: false,
            vars: Vec::new(),
            configured_by: None,
            transformations: Vec::new(),
        }
    }

    pub(crate) fn api_version(&self) -> &str {
        self.object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn kind(&self) -> &str {
        self.object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn group_version(&self) -> (&str, &str) {
        split_api_version(self.api_version())
    }

    pub(crate) fn metadata_str(&self, field: &str) -> &str {
        self.object
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn name(&self) -> &str {
        self.metadata_str("name")
    }

    pub(crate) fn namespace(&self) -> &str {
        self.metadata_str("namespace")
    }

    pub(crate) fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let metadata = self
            .object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        metadata.as_object_mut().expect("made a mapping above")
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.metadata_mut().insert("name".into(), name.into());
    }

    pub(crate) fn set_namespace(&mut self, namespace: &str) {
        if namespace.is_empty() {
            self.metadata_mut().remove("namespace");
        } else {
            self.metadata_mut()
                .insert("namespace".into(), namespace.into());
        }
    }

    pub(crate) fn string_map(&self, field: &str) -> Map<String, Value> {
        self.object
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn cur_id(&self) -> ResId {
        let (group, version) = self.group_version();
        ResId {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace: self.namespace().to_owned(),
        }
    }

    /// Every id it had before, oldest first, with its current group and version.
    pub(crate) fn prev_ids(&self) -> Vec<ResId> {
        let (group, version) = self.group_version();
        self.previous
            .iter()
            .map(|(name, namespace, kind)| ResId {
                group: group.to_owned(),
                version: version.to_owned(),
                kind: kind.clone(),
                name: name.clone(),
                namespace: namespace.clone(),
            })
            .collect()
    }

    /// The id it was born with.
    pub(crate) fn org_id(&self) -> ResId {
        self.prev_ids()
            .into_iter()
            .next()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Its current and previous ids.
    pub(crate) fn any_ids(&self) -> Vec<ResId> {
        let mut ids = vec![self.cur_id()];
        ids.extend(self.prev_ids());
        ids
    }

    /// Remembers the current id before a transformer changes it.
    pub(crate) fn store_previous_id(&mut self) {
        let id = self.cur_id();
        let namespace = id.effective_namespace().to_owned();
        self.previous
            .push((id.name.clone(), namespace, id.kind.clone()));
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}
