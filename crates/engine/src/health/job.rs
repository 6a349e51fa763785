//! Job: healthy once complete, degraded when failed, suspended when suspended.

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus};

pub(super) fn health(live: &Value) -> Health {
    if let Some(("True", message)) = condition(live, "Failed") {
        return Health::new(HealthStatus::Degraded, message);
    }
    if let Some(("True", _)) = condition(live, "Complete") {
        return Health::healthy();
    }
    if live.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
        return Health::new(HealthStatus::Suspended, "suspended");
    }
    Health::new(HealthStatus::Progressing, "running")
}
