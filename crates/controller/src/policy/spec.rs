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
    /// The registered clusters they may apply to (`*` allowed; `in-cluster` is the
    /// controller's own). Unset: the controller's own only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_clusters: Option<Vec<String>>,
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
    /// Who may operate their Applications through plumb's API and dashboard (sync, roll
    /// back, suspend, resume, unpin), as Argo CD's project roles do. Unset: whoever RBAC
    /// lets `patch` the Application. Set: RBAC must allow it *and* a role must name the
    /// caller and the action. It grants nothing RBAC does not; `kubectl` is RBAC's alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<PolicyRole>>,
}

/// Some users and groups, and what they may ask of the API.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct PolicyRole {
    /// A name for messages and audit logs.
    pub name: String,
    /// Users as the API server names them (`alice@example.com`,
    /// `system:serviceaccount:ci:deployer`); `*` matches any run of characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Groups (`team-a-deployers`, `system:serviceaccounts:ci`); `*` allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// What they may do.
    pub actions: Vec<ApiAction>,
}

/// An operation of plumb's API on an Application.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ApiAction {
    /// Request a sync (also `POST /api/v1/trigger`).
    #[serde(rename = "sync")]
    Sync,
    /// Pin an earlier revision, or take the pin off (`unpin`).
    #[serde(rename = "rollback")]
    Rollback,
    /// Suspend or resume automation.
    #[serde(rename = "suspend")]
    Suspend,
    /// Every action.
    #[serde(rename = "*")]
    All,
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

impl ApiAction {
    /// The verb, for messages: `sync`, `roll back`, `suspend or resume`.
    pub fn verb(self) -> &'static str {
        match self {
            ApiAction::Sync => "sync",
            ApiAction::Rollback => "roll back",
            ApiAction::Suspend => "suspend or resume",
            ApiAction::All => "operate",
        }
    }
}
