//! Deployment: healthy when the latest template is rolled out and every replica available.

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus, int, observed};

pub(super) fn health(live: &Value) -> Health {
    if live.pointer("/spec/paused") == Some(&Value::Bool(true)) {
        return Health::new(HealthStatus::Suspended, "rollout paused");
    }
    if !observed(live) {
        return Health::new(
            HealthStatus::Progressing,
            "waiting for the rollout to start",
        );
    }
    if let Some(("False", message)) = condition(live, "Progressing") {
        return Health::new(HealthStatus::Degraded, message);
    }
    let wanted = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = int(live, "/status/updatedReplicas");
    let total = int(live, "/status/replicas");
    let available = int(live, "/status/availableReplicas");
    if updated < wanted {
        return Health::new(
            HealthStatus::Progressing,
            format!("{updated} of {wanted} replicas updated"),
        );
    }
    if total > updated {
        return Health::new(
            HealthStatus::Progressing,
            format!("{} old replicas pending termination", total - updated),
        );
    }
    if available < updated {
        return Health::new(
            HealthStatus::Progressing,
            format!("{available} of {updated} updated replicas available"),
        );
    }
    Health::healthy()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(status: Value) -> Value {
        json!({"metadata": {"generation": 2}, "spec": {"replicas": 3}, "status": status})
    }

    #[test]
    fn rolled_out_and_available_is_healthy() {
        let live = deployment(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
        );
        assert_eq!(health(&live).status, HealthStatus::Healthy);
    }

    #[test]
    fn partly_available_is_progressing_with_counts() {
        let live = deployment(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}),
        );
        assert_eq!(
            health(&live),
            Health::new(
                HealthStatus::Progressing,
                "1 of 3 updated replicas available"
            )
        );
    }

    #[test]
    fn a_stuck_rollout_is_degraded() {
        let live = deployment(json!({"observedGeneration": 2, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "deadline exceeded"}]}));
        assert_eq!(health(&live).status, HealthStatus::Degraded);
    }

    #[test]
    fn paused_is_suspended() {
        let mut live = deployment(json!({}));
        live["spec"]["paused"] = json!(true);
        assert_eq!(health(&live).status, HealthStatus::Suspended);
    }
}
