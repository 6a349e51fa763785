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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn complete_failed_suspended_and_running() {
        let with = |conditions: Value| json!({"status": {"conditions": conditions}});
        assert_eq!(
            health(&with(json!([{"type": "Complete", "status": "True"}]))).status,
            HealthStatus::Healthy
        );
        assert_eq!(
            health(&with(
                json!([{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}])
            )),
            Health::new(HealthStatus::Degraded, "BackoffLimitExceeded")
        );
        assert_eq!(
            health(&json!({"spec": {"suspend": true}})).status,
            HealthStatus::Suspended
        );
        assert_eq!(
            health(&json!({"status": {"active": 1}})).status,
            HealthStatus::Progressing
        );
    }
}
