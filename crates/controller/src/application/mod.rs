//! The `Application` resource (`plumb.dev/v1alpha1`): what to deploy from where, how to
//! keep it in sync, and — in its status — what happened.
//!
//! The CRD's YAML, structural schema included, is generated from these types
//! (`plumb install` prints it), so the schema and the code cannot disagree.
//!
//! Empty strings are never written (`skip_serializing_if`): the Kubernetes 1.20 API
//! server this is tested against rejects `""` in a string field of a custom resource as
//! `"null"`; reading fills them back in (`serde(default)`).

mod status;

use std::collections::BTreeMap;

use kube::CustomResource;
use plumb_engine::IgnoreRule;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use status::{
    ApplicationStatus, Condition, Drift, HealthStatus, Pin, ResourceStatus, SyncRecord, SyncStatus,
};

/// Annotation the CLI and webhooks set (to the current time) to ask for a reconcile now.
pub const RECONCILE_REQUESTED_AT: &str = "plumb.dev/reconcile-requested-at";
/// Annotation saying who sent the request of [`RECONCILE_REQUESTED_AT`] when it was not a
/// person (`webhook`), so the history tells what happened.
pub const RECONCILE_REQUESTED_BY: &str = "plumb.dev/reconcile-requested-by";
/// Annotation `plumb rollback` sets while `spec.source.revision` is pinned to an earlier
/// commit: it holds the revision to return to. While it is set, plumb applies the pinned
/// commit once and then stops automated syncs and self-heal until the pin is removed.
pub const PINNED_FROM: &str = "plumb.dev/pinned-from";
/// Finalizer that makes deleting an Application delete its objects too (cascade), as
/// Argo CD's resources finalizer does. Without it, the objects stay in the cluster.
pub const PRUNE_ON_DELETE: &str = "plumb.dev/prune-on-delete";
/// How many syncs the status history keeps.
pub const HISTORY_LIMIT: usize = 10;
/// How many managed objects `status.resources` lists: a few hundred bytes each, so the
/// status of an app of tens of thousands of objects stays well below the API server's
/// limit on an object's size (about 1.5 MiB in etcd).
pub const RESOURCES_LIMIT: usize = 2000;
/// The longest message a condition carries (the API's own bound on a condition message is
/// 32 KiB); a longer one is cut, saying so.
pub const MESSAGE_LIMIT: usize = 8192;

/// An application: a path in a Git repository kept applied to the cluster.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "plumb.dev",
    version = "v1alpha1",
    kind = "Application",
    namespaced,
    status = "ApplicationStatus",
    shortname = "app",
    category = "plumb",
    doc = "A path in a Git repository that plumb keeps applied to the cluster.",
    printcolumn = r#"{"name": "Sync", "type": "string", "jsonPath": ".status.sync.status"}"#,
    printcolumn = r#"{"name": "Health", "type": "string", "jsonPath": ".status.health.status"}"#,
    printcolumn = r#"{"name": "Revision", "type": "string", "jsonPath": ".status.sync.shortRevision"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// Where the desired state comes from.
    pub source: SourceSpec,
    /// Where it goes.
    #[serde(default)]
    pub destination: DestinationSpec,
    /// When and how plumb applies.
    #[serde(default)]
    pub sync_policy: SyncPolicy,
    /// Fields left out of the comparison (e.g. `/spec/replicas` of a Deployment an HPA scales).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<IgnoreDifference>")]
    pub ignore_differences: Vec<IgnoreRule>,
    /// Applications (in this namespace) that must be Healthy at their current revision
    /// before this one syncs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
    /// Stops applying (new commits and self-heal); drift is still reported.
    #[serde(default)]
    pub suspend: bool,
    /// Who hears about syncs, drift and degraded health.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationSpec>,
}

/// A receiver of notifications, described by a Secret of the Application's namespace:
/// `type` (`webhook`, `slack`, `github`, `gitlab` or `gitea`), `url` (the webhook, or the
/// API base for commit statuses, e.g. `https://api.github.com`), optional `token`, and for
/// commit statuses optional `repository` (`owner/name`; default: from `repoURL`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSpec {
    /// The Secret describing the receiver.
    pub secret_ref: LocalRef,
    /// Which events: `SyncSucceeded`, `SyncFailed`, `DriftDetected`, `DriftCorrected`,
    /// `HealthDegraded`. All when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

/// The repository, revision and path.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSpec {
    /// `https://`, `http://`, `ssh://`, `git@host:path` or `git://` URL of the repository.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag, commit or semver range (`>=1.2.0 <2`); the default branch when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision: String,
    /// Directory inside the repository. `Chart.yaml` there means a Helm chart, a
    /// kustomization Kustomize, anything else plain manifests.
    #[serde(default = "dot")]
    pub path: String,
    /// A chart's name in a Helm repository: `repoURL` is then that repository (its
    /// `index.yaml`), `revision` the chart's version or range (newest stable when empty),
    /// and `path` is not used.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chart: String,
    /// Secret (this namespace) with `username`/`password` (or token as password) for
    /// HTTPS, or `identity` (private key) and `known_hosts` for SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalRef>,
    /// How encrypted files are decrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// How a plain-manifest directory is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectorySpec>,
    /// How a Helm chart is rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSpec>,
}

/// Rendering a Helm chart, as Argo CD's `source.helm`: values, lowest precedence first —
/// the chart's `values.yaml`, `valueFiles` in order, `values`, `parameters`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmSpec {
    /// `.Release.Name`; the Application's name when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release_name: String,
    /// Values files, relative to the chart's directory (`../../envs/prod/values.yaml`
    /// reaches out of it, never out of the repository).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_files: Vec<String>,
    /// Skip a values file that does not exist rather than fail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_missing_value_files: bool,
    /// Values from ConfigMaps and Secrets in the Application's namespace (read as the app's
    /// ServiceAccount), in order, over the files — Flux's `valuesFrom`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_from: Vec<ValuesReference>,
    /// Values as a YAML document, over the files and `valuesFrom`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub values: String,
    /// `--set` parameters, over everything else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<HelmParameter>,
    /// Leave out the chart's `crds/`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_crds: bool,
    /// Credentials for the repositories dependencies are fetched from: the first entry
    /// whose `url` starts the dependency's repository gives its Secret (this namespace,
    /// `username`/`password`); other repositories are read anonymously.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryCredentials>,
}

/// A Secret holding credentials for the chart repositories under a URL.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentials {
    /// A URL prefix (`https://charts.example.com/`, `oci://registry.example.com/team`).
    pub url: String,
    /// The Secret, in the Application's namespace.
    pub secret_ref: LocalRef,
}

/// Values kept in a ConfigMap or Secret.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its name, in the Application's namespace.
    pub name: String,
    /// The key holding the YAML; `values.yaml` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub values_key: String,
    /// A missing object or key is skipped rather than an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// One `--set name=value`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct HelmParameter {
    /// A dotted path (`image.tag`, `hosts[0].name`).
    pub name: String,
    /// Typed as `--set` types it (`true`, `3`, `null`); else a string.
    pub value: String,
}

fn dot() -> String {
    ".".to_owned()
}

/// SOPS decryption.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// Only `sops`.
    pub provider: String,
    /// Secret (this namespace) whose `*.agekey` entries hold age identities.
    pub secret_ref: LocalRef,
}

/// Reading a plain-manifest directory.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySpec {
    /// Read subdirectories too.
    #[serde(default)]
    pub recurse: bool,
    /// Globs of files to read (all YAML/JSON when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Globs of files to skip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// An object in the Application's own namespace, by name.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct LocalRef {
    /// Its name.
    pub name: String,
}

/// The cluster side.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSpec {
    /// The cluster to apply to: a cluster registered by the operators (the name of a Secret
    /// labelled `plumb.dev/cluster` in the controller's namespace); the controller's own
    /// when empty or `in-cluster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Namespace for namespaced objects that name none; the Application's own when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// ServiceAccount (in the Application's namespace) every apply and prune is made as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// When and how to apply.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Apply without being asked; absent means report only (and `plumb sync` applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<Automated>,
    /// How often the repository is checked (`30s`, `1m`, `1h`). Webhooks and the
    /// reconcile annotation make it sooner; live drift is seen at once.
    #[serde(default = "default_interval")]
    pub interval: String,
    /// Retries after a failed sync.
    #[serde(default)]
    pub retry: Retry,
    /// Take over fields other managers own (default), rather than fail with a conflict.
    #[serde(default = "yes")]
    pub force_conflicts: bool,
    /// Accept a render with no objects (which prunes everything, when pruning).
    #[serde(default)]
    pub allow_empty: bool,
    /// Create the namespaces the app's objects go in when they are missing (Argo CD's
    /// `CreateNamespace=true`). Such a namespace is not the app's: it is not updated,
    /// pruned, or deleted with the app.
    #[serde(default)]
    pub create_namespace: bool,
    /// Labels and annotations of the namespaces `createNamespace` creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_namespace_metadata: Option<NamespaceMetadata>,
}

/// Labels and annotations for created namespaces.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
pub struct NamespaceMetadata {
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            automated: None,
            interval: default_interval(),
            retry: Retry::default(),
            force_conflicts: true,
            allow_empty: false,
            create_namespace: false,
            managed_namespace_metadata: None,
        }
    }
}

fn default_interval() -> String {
    "3m".to_owned()
}

fn yes() -> bool {
    true
}

/// Automated syncing.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Delete objects that left Git.
    #[serde(default)]
    pub prune: bool,
    /// Revert changes made to live objects by anyone else.
    #[serde(default)]
    pub self_heal: bool,
}

/// Retries with exponential backoff.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Attempts after the first failure before waiting for the next interval (or change).
    #[serde(default = "default_retry_limit")]
    pub limit: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            limit: default_retry_limit(),
        }
    }
}

fn default_retry_limit() -> u32 {
    5
}

/// Another Application this one waits for.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct Dependency {
    /// Its name, in this namespace.
    pub name: String,
}

/// The schema of one `ignoreDifferences` entry (the engine's `IgnoreRule`).
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "only its schema is used")]
struct IgnoreDifference {
    group: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    json_pointers: Option<Vec<String>>,
    managed_fields_managers: Option<Vec<String>>,
}

impl Application {
    /// Whether deleting it deletes its objects ([`PRUNE_ON_DELETE`]).
    pub fn prunes_on_delete(&self) -> bool {
        self.metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| f == PRUNE_ON_DELETE))
    }

    /// `namespace/name`.
    pub fn key(&self) -> AppKey {
        AppKey {
            namespace: self.metadata.namespace.clone().unwrap_or_default(),
            name: self.metadata.name.clone().unwrap_or_default(),
        }
    }

    /// Who sent the pending reconcile request when it was not a person (`webhook`).
    pub fn requested_by(&self) -> Option<&str> {
        self.annotation(RECONCILE_REQUESTED_BY)
    }

    /// Whether apps that depend on this one may sync: Healthy and Synced at its current
    /// generation.
    pub fn is_ready_for_dependents(&self) -> bool {
        self.status.as_ref().is_some_and(|status| {
            status.health.status == "Healthy"
                && status.sync.status == "Synced"
                && status.observed_generation == self.metadata.generation
        })
    }

    /// The pending reconcile request, if any (see [`RECONCILE_REQUESTED_AT`]).
    pub fn requested_at(&self) -> Option<&str> {
        self.annotation(RECONCILE_REQUESTED_AT)
    }

    /// The revision a rollback pin returns to, if pinned.
    pub fn pinned_from(&self) -> Option<&str> {
        self.annotation(PINNED_FROM)
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a: &BTreeMap<String, String>| a.get(key))
            .map(String::as_str)
    }

    /// The condition of this type, if any.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
    }
}

/// An Application's identity: `namespace/name`. Its engine app id is the same string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The longest interval an Application may ask for: a year.
const MAX_INTERVAL_SECONDS: u64 = 365 * 24 * 3600;

/// Parses an interval: `90s`, `5m`, `1h`, `1h30m`.
pub fn parse_interval(text: &str) -> Option<std::time::Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let value: u64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(unit)?)?;
    }
    if !number.is_empty() {
        return None;
    }
    // Beyond a year is no interval anyone means, and a deadline that far overflows a clock.
    (total > 0 && total <= MAX_INTERVAL_SECONDS).then(|| std::time::Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;

    use super::*;

    #[test]
    fn intervals_read_like_go_durations() {
        assert_eq!(parse_interval("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_interval("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_interval("5"), None);
        assert_eq!(parse_interval("0s"), None);
        assert_eq!(parse_interval("3d"), None);
        // Found by fuzzing: a number that overflows, or an interval past any clock.
        assert_eq!(parse_interval("9999999999999999h"), None);
        assert_eq!(parse_interval("99999999999999999999s"), None);
        assert_eq!(parse_interval("8761h"), None);
        assert_eq!(parse_interval("8760h").unwrap().as_secs(), 365 * 24 * 3600);
    }

    #[test]
    fn the_crd_is_structural_with_a_status_subresource_and_columns() {
        let crd = serde_json::to_value(Application::crd()).unwrap();
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        assert!(version["subresources"]["status"].is_object());
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["Sync", "Health", "Revision", "Age"]);
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["required"], serde_json::json!(["source"]));
        assert!(
            spec["properties"]["ignoreDifferences"]["items"]["properties"]["jsonPointers"]
                .is_object()
        );
    }
}
