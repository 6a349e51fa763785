//! The `ApplicationSet` resource (`plumb.dev/v1alpha1`): generators that produce sets of
//! parameters, and a template that makes an Application of each — Argo CD's
//! ApplicationSet, in the shape its users write.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::application::{ApplicationSpec, LocalRef};

/// Applications made from a template, one per set of parameters its generators produce.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "plumb.dev",
    version = "v1alpha1",
    kind = "ApplicationSet",
    namespaced,
    status = "ApplicationSetStatus",
    shortname = "appset",
    category = "plumb",
    doc = "Applications made from a template, one per set of parameters its generators produce (a list, a Git repository's folders or files, the registered clusters, or a matrix of two).",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Applications", "type": "integer", "jsonPath": ".status.applicationCount"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSpec {
    /// Where the parameters come from; the Applications are the union of what each makes.
    pub generators: Vec<Generator>,
    /// The Application made for each set of parameters: `{{name}}` in any string is
    /// replaced by the parameter's value.
    pub template: ApplicationTemplate,
    /// What happens to Applications the generators no longer produce.
    #[serde(default)]
    pub sync_policy: SetSyncPolicy,
    /// How often Git generators look at their repository (`3m` unless set); a change to
    /// the ApplicationSet generates again at once.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interval: String,
}

/// One generator: exactly one of its fields is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    /// Parameters written out, one set per element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListGenerator>,
    /// A set per folder or per file of a Git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitGenerator>,
    /// A set per registered cluster (and the controller's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClustersGenerator>,
    /// Every combination of the sets two generators produce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixGenerator>,
}

/// A generator inside a matrix: any but another matrix.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NestedGenerator {
    /// Parameters written out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListGenerator>,
    /// Folders or files of a Git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitGenerator>,
    /// The registered clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClustersGenerator>,
}

/// Parameters written out: each element is a set (nested maps give `key.inner` names).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListGenerator {
    /// The sets of parameters.
    #[schemars(schema_with = "free_form_list")]
    pub elements: Vec<serde_json::Value>,
}

/// Folders or files of a Git repository, at a revision.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GitGenerator {
    /// The repository (as an Application's `source.repoURL`).
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag or commit; `HEAD` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision: String,
    /// Folders matching these globs (`apps/*`; `**` crosses folders), minus those of entries
    /// with `exclude: true`: a set per folder with `path`, `path.basename`, `path[N]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<DirectoryMatch>,
    /// Files matching these globs, JSON or YAML: a set per file (per element when it
    /// holds a list) with its keys flattened (`cluster.name`) and `path` (its folder),
    /// `path.filename`, `path.basename`, `path[N]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileMatch>,
    /// Credentials for the repository, as an Application's `source.secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalRef>,
}

/// Folders to generate for (or, with `exclude`, not to).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryMatch {
    /// A glob over folder paths from the repository's root.
    pub path: String,
    /// Folders matching it are left out, whatever else matches them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclude: bool,
}

/// Files to generate from.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileMatch {
    /// A glob over file paths from the repository's root.
    pub path: String,
}

/// The registered clusters (Secrets labelled `plumb.dev/cluster` in the controller's
/// namespace) and the controller's own (`in-cluster`): a set each with `name`, `server`,
/// `metadata.labels.<key>` and `metadata.annotations.<key>`. Only the clusters the
/// namespace's AppPolicies let its apps use are listed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClustersGenerator {
    /// Only clusters whose Secret carries these labels (the controller's own has none,
    /// so it is left out when any is given).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// Every combination of two generators' sets, merged.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatrixGenerator {
    /// Exactly two generators.
    pub generators: Vec<NestedGenerator>,
}

/// The Application made for a set of parameters.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationTemplate {
    /// Its name, labels, annotations and finalizers (it is made in the ApplicationSet's
    /// namespace, whatever is written here).
    pub metadata: TemplateMetadata,
    /// Its spec.
    pub spec: ApplicationSpec,
}

/// What of an Application's metadata a template sets.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMetadata {
    /// The Application's name (`{{path.basename}}`, say): one per set of parameters.
    pub name: String,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Finalizers (`plumb.dev/prune-on-delete` deletes an app's objects with it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

/// What happens to generated Applications.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SetSyncPolicy {
    /// Delete the Applications the generators no longer produce (`true`). With `false`
    /// they stay, no longer updated, and the status lists them as orphaned.
    #[serde(default = "yes")]
    pub prune: bool,
}

impl Default for SetSyncPolicy {
    fn default() -> Self {
        SetSyncPolicy { prune: true }
    }
}

fn yes() -> bool {
    true
}

/// What happened at the last generation.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetStatus {
    /// `Ready`: whether the last generation succeeded, and why not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::application::Condition>,
    /// The generation the status speaks of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Applications generated, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
    /// How many (for `kubectl get`).
    #[serde(default)]
    pub application_count: u32,
    /// Applications this set made that no generator produces any more, kept because
    /// `syncPolicy.prune` is false.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphaned: Vec<String>,
    /// The commit each Git generator read, by repository.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revisions: BTreeMap<String, String>,
}

/// `type: object` that keeps whatever it is given (list elements are the user's own maps).
fn free_form_list(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    })
}
