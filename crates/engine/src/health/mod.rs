//! Health: is a live object doing its job? One small function per kind, and for every
//! other kind the kstatus conventions (`status.conditions`, `observedGeneration`).
//!
//! Values have a total order, worst last, so an app's health is the worst of its objects'.

mod apiservice;
mod conditions;
mod crd;
mod daemonset;
mod deployment;
mod job;
mod pod;
mod pvc;
mod replicaset;
mod service;
mod statefulset;

use std::fmt;

use serde_json::Value;

/// How healthy an object is. Ordered best to worst: the worst of a set is its health.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum HealthStatus {
    /// Doing its job.
    Healthy,
    /// Paused or suspended on purpose.
    Suspended,
    /// On its way to healthy.
    Progressing,
    /// Should exist, does not.
    Missing,
    /// Failed, or cannot progress.
    Degraded,
    /// Cannot be told.
    Unknown,
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A health status and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// The status.
    pub status: HealthStatus,
    /// A short explanation, e.g. `1 of 3 replicas available`.
    pub message: String,
}

impl Health {
    pub(crate) fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Health {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn healthy() -> Self {
        Health::new(HealthStatus::Healthy, "")
    }
}

/// The health of a live object of `group`/`kind` (`None`: it does not exist).
pub fn assess(group: &str, kind: &str, live: Option<&Value>) -> Health {
    let Some(live) = live else {
        return Health::new(HealthStatus::Missing, "does not exist");
    };
    if live.pointer("/metadata/deletionTimestamp").is_some() {
        return Health::new(HealthStatus::Progressing, "being deleted");
    }
    match (group, kind) {
        ("apps" | "extensions", "Deployment") => deployment::health(live),
        ("apps", "StatefulSet") => statefulset::health(live),
        ("apps" | "extensions", "DaemonSet") => daemonset::health(live),
        ("apps" | "extensions", "ReplicaSet") => replicaset::health(live),
        ("batch", "Job") => job::health(live),
        ("", "Pod") => pod::health(live),
        ("", "PersistentVolumeClaim") => pvc::health(live),
        ("", "Service") => service::health(live),
        ("networking.k8s.io" | "extensions", "Ingress") => service::ingress_health(live),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd::health(live),
        ("apiregistration.k8s.io", "APIService") => apiservice::health(live),
        _ => conditions::kstatus(live),
    }
}

/// Whether an existing object of `group`/`kind` is Healthy whatever it holds: kinds that
/// neither the API server nor a controller writes a status for, so [`assess`] of one that
/// exists (and is not being deleted) is always Healthy. Knowing an object exists — the plan
/// found it in sync, or this sync just applied it — then tells its health without reading
/// it, which matters for an app of thousands of ConfigMaps and Secrets.
pub fn existence_is_health(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "ConfigMap" | "Secret" | "ServiceAccount" | "LimitRange")
            | (
                "rbac.authorization.k8s.io",
                "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding"
            )
            | ("networking.k8s.io", "NetworkPolicy")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("storage.k8s.io", "StorageClass")
            | (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
            )
    )
}

/// An integer at a JSON pointer, 0 when absent.
pub(crate) fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Whether the controller has seen the latest spec (`observedGeneration >= generation`).
pub(crate) fn observed(live: &Value) -> bool {
    int(live, "/status/observedGeneration") >= int(live, "/metadata/generation")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_wins() {
        let statuses = [
            HealthStatus::Healthy,
            HealthStatus::Degraded,
            HealthStatus::Progressing,
        ];
        assert_eq!(statuses.iter().max(), Some(&HealthStatus::Degraded));
        assert!(HealthStatus::Healthy < HealthStatus::Suspended);
        assert!(HealthStatus::Missing < HealthStatus::Degraded);
    }

    #[test]
    fn kinds_healthy_by_existence_have_no_status_to_assess() {
        for (group, kind) in [
            ("", "ConfigMap"),
            ("", "Secret"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("networking.k8s.io", "NetworkPolicy"),
        ] {
            assert!(existence_is_health(group, kind), "{kind}");
            let object = serde_json::json!({"metadata": {"name": "x"}, "data": {"a": "b"}});
            assert_eq!(
                assess(group, kind, Some(&object)).status,
                HealthStatus::Healthy
            );
        }
        for (group, kind) in [
            ("apps", "Deployment"),
            ("", "Service"),
            ("", "Pod"),
            ("example.com", "Widget"),
        ] {
            assert!(!existence_is_health(group, kind), "{kind}");
        }
    }

    #[test]
    fn an_absent_object_is_missing() {
        assert_eq!(
            assess("apps", "Deployment", None).status,
            HealthStatus::Missing
        );
    }
}
