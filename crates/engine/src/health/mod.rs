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
    fn an_absent_object_is_missing() {
        assert_eq!(
            assess("apps", "Deployment", None).status,
            HealthStatus::Missing
        );
    }
}
