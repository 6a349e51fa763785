//! The configurations of Kustomize's built-in plugins, as their YAML spells them. Like
//! Kustomize, fields a plugin does not know are ignored; `apiVersion`, `kind` and
//! `metadata` are read by [`super`] before a configuration reaches these types.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::fieldspec::FieldSpec;
use crate::kustomization::{FieldSpecEntry, Image, ReplacementEntry, Selector};

/// `PrefixSuffixTransformer`, `PrefixTransformer`, `SuffixTransformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Affix {
    #[serde(default)]
    pub(crate) prefix: String,
    #[serde(default)]
    pub(crate) suffix: String,
    /// Kustomize refuses a configuration without them.
    #[serde(default)]
    pub(crate) field_specs: Option<Vec<FieldSpecEntry>>,
}

/// `LabelTransformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Labels {
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) field_specs: Vec<FieldSpecEntry>,
}

/// `AnnotationsTransformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Annotations {
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) field_specs: Vec<FieldSpecEntry>,
}

/// `NamespaceTransformer` (its namespace is its `metadata.namespace`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Namespace {
    #[serde(default)]
    pub(crate) field_specs: Vec<FieldSpecEntry>,
    #[serde(default)]
    pub(crate) unset_only: bool,
    #[serde(default)]
    pub(crate) set_role_binding_subjects: String,
}

/// `ImageTagTransformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageTag {
    #[serde(default)]
    pub(crate) image_tag: Image,
    #[serde(default)]
    pub(crate) field_specs: Vec<FieldSpecEntry>,
}

/// `ReplicaCountTransformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplicaCount {
    #[serde(default)]
    pub(crate) replica: Replica,
    #[serde(default)]
    pub(crate) field_specs: Vec<FieldSpecEntry>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Replica {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) count: i64,
}

/// `PatchTransformer`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Patch {
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) patch: Option<String>,
    #[serde(default)]
    pub(crate) target: Option<Selector>,
    #[serde(default)]
    pub(crate) options: BTreeMap<String, bool>,
}

/// `PatchStrategicMergeTransformer`: files (or inline patches) and inline documents.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StrategicMerge {
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    #[serde(default)]
    pub(crate) patches: String,
}

/// `PatchJson6902Transformer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Json6902 {
    #[serde(default)]
    pub(crate) target: Option<Selector>,
    #[serde(default)]
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) json_op: String,
}

/// `ReplacementTransformer`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Replacements {
    #[serde(default)]
    pub(crate) replacements: Vec<ReplacementEntry>,
}

/// Field specs of a configuration.
pub(crate) fn specs(entries: &[FieldSpecEntry]) -> Vec<FieldSpec> {
    entries
        .iter()
        .map(|f| FieldSpec::new(&f.group, &f.version, &f.kind, &f.path, f.create))
        .collect()
}
