//! PersistentVolumeClaim: healthy when bound.

use serde_json::Value;

use super::{Health, HealthStatus};

pub(super) fn health(live: &Value) -> Health {
    match live.pointer("/status/phase").and_then(Value::as_str) {
        Some("Bound") => Health::healthy(),
        Some("Lost") => Health::new(HealthStatus::Degraded, "volume lost"),
        _ => Health::new(HealthStatus::Progressing, "waiting to be bound"),
    }
}
