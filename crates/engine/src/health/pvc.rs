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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bound_is_healthy_lost_is_degraded() {
        assert_eq!(
            health(&json!({"status": {"phase": "Bound"}})).status,
            HealthStatus::Healthy
        );
        assert_eq!(
            health(&json!({"status": {"phase": "Lost"}})).status,
            HealthStatus::Degraded
        );
        assert_eq!(
            health(&json!({"status": {"phase": "Pending"}})).status,
            HealthStatus::Progressing
        );
    }
}
