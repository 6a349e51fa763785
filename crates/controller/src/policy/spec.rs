//! The AppPolicy resource: what the Applications of some namespaces may render and apply.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Guardrails an operator sets for the Applications of some namespaces (Argo CD's
/// AppProject, bound to namespaces). It counts only in one of the controller's admin
/// namespaces: a team that may write in its own namespace cannot loosen its own policy.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "plumb.dev",
    version = "v1alpha1",
    kind = "AppPolicy",
    namespaced,
    shortname = "apppolicy",
    category = "plumb",
    doc = "What the Applications of some namespaces may render and apply; counts only in an admin namespace of plumb."
)]
#[serde(rename_all = "camelCase")]
pub struct AppPolicySpec {
    /// The namespaces whose Applications it governs (`*` matches any run of characters:
    /// `team-*`). An Application governed by several policies must satisfy each.
    pub namespaces: Vec<String>,
    /// The repositories they may render, as URLs spelled any way git accepts, with `*`
    /// (`https://github.com/acme/*`). Unset: any repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repos: Option<Vec<String>>,
    /// The namespaces their objects may be in (`*` allowed). Unset: the Application's own
    /// namespace only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_namespaces: Option<Vec<String>>,
    /// The cluster-scoped kinds they may apply. Unset: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_resources: Vec<KindPattern>,
    /// Namespaced kinds they may not apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_resources: Vec<KindPattern>,
    /// Whether Kustomize remote bases may be fetched for them (the controller's own flag
    /// must allow it too). Default: no.
    #[serde(default)]
    pub allow_remote_bases: bool,
    /// Whether the external Kustomize binary (`--kustomize-external`) may render them.
    /// Default: no.
    #[serde(default)]
    pub allow_external_renderers: bool,
}

/// A kind, by API group and name; `*` in either matches any.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct KindPattern {
    /// API group: empty or absent for the core group (`""`), `*` for any. Nullable: the
    /// 1.20 API server stores an empty string here as null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind, `*` for any.
    pub kind: String,
}
