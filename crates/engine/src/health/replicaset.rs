//! ReplicaSet: healthy when every replica is available.

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus, int, observed};

pub(super) fn health(live: &Value) -> Health {
    if !observed(live) {
        return Health::new(HealthStatus::Progressing, "waiting for the controller");
    }
    if let Some(("True", message)) = condition(live, "ReplicaFailure") {
        return Health::new(HealthStatus::Degraded, message);
    }
    let wanted = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let available = int(live, "/status/availableReplicas");
    if available < wanted {
        return Health::new(
            HealthStatus::Progressing,
            format!("{available} of {wanted} replicas available"),
        );
    }
    Health::healthy()
}
