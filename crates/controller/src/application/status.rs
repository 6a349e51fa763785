//! The Application's status: what plumb observed and did — sync, health, conditions, each
//! managed object with its drift, and the history of syncs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What plumb observed and did.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationStatus {
    /// The spec generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The last `plumb.dev/reconcile-requested-at` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// Sync state.
    #[serde(default)]
    pub sync: SyncStatus,
    /// Aggregated health: the worst of the resources'.
    #[serde(default)]
    pub health: HealthStatus,
    /// kstatus conditions: `Ready`, `Reconciling`, `Stalled`, and `SyncLoop` when another
    /// controller fights plumb over a field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Per managed object: at most [`RESOURCES_LIMIT`], those out of sync or not healthy
    /// kept before the others, so that a huge app's status stays within the API server's object size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceStatus>,
    /// How many managed objects are left out of `resources` for its bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_omitted: Option<u32>,
    /// The last syncs, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<SyncRecord>,
    /// Set while `spec.source.revision` is pinned by a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Pin>,
}

/// Whether the cluster matches Git.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `Synced`, `OutOfSync` or `Unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The commit compared with (full id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Its first 7 characters, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_revision: Option<String>,
    /// The last commit applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
}

/// Aggregated health.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
pub struct HealthStatus {
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Why, when not healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A kstatus-style condition.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Reconciling`, `Stalled` or `SyncLoop`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A PascalCase reason.
    pub reason: String,
    /// For people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// When the status last changed (RFC 3339).
    pub last_transition_time: String,
    /// The generation it was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One managed object.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// API group (empty for core).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace, for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// `Synced` or `OutOfSync`.
    pub status: String,
    /// Its health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Why it is not healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_message: Option<String>,
    /// The difference from Git while out of sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
}

/// How a live object differs from Git, and who changed it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The fields that differ (JSON pointers).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The field managers that changed them.
    #[serde(default)]
    pub changed_by: Vec<String>,
    /// Unified diff live → Git, Secret values masked; cut at 4 KiB.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub diff: String,
    /// When plumb saw it (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detected_at: String,
}

/// One sync in the history.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncRecord {
    /// Increasing number of the sync.
    pub id: u64,
    /// Commit applied.
    pub revision: String,
    /// Its author, `Name <email>`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// The first line of its message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Why it ran: `NewRevision` (a new spec, the first sync, a commit found on restart),
    /// `Poll` (a commit found when the interval came round), `Webhook` (a Git host's push),
    /// `Requested` (a person: `plumb sync`, the API), `Resumed`, `SelfHeal`, `Rollback`,
    /// `Retry`.
    pub trigger: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// `Succeeded` or `Failed`.
    pub result: String,
    /// What changed: `3 created, 1 updated, 2 pruned`, or why it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

/// A rollback pin.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pin {
    /// The commit the app is pinned to.
    pub revision: String,
    /// The revision it returns to when unpinned.
    pub from: String,
}
