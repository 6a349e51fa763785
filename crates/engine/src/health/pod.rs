//! Pod: healthy when running and ready (or succeeded); degraded when failed or crash-looping.

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus};

pub(super) fn health(live: &Value) -> Health {
    let phase = live
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    let waiting_reasons = live
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str));
    for reason in waiting_reasons {
        if matches!(
            reason,
            "CrashLoopBackOff"
                | "ErrImagePull"
                | "ImagePullBackOff"
                | "CreateContainerConfigError"
                | "InvalidImageName"
        ) {
            return Health::new(HealthStatus::Degraded, reason);
        }
    }
    match phase {
        "Succeeded" => Health::healthy(),
        "Failed" => Health::new(HealthStatus::Degraded, "failed"),
        "Running" => match condition(live, "Ready") {
            Some(("True", _)) => Health::healthy(),
            _ => Health::new(HealthStatus::Progressing, "running, not ready"),
        },
        other => Health::new(HealthStatus::Progressing, other.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ready_running_pods_are_healthy_and_crash_loops_degraded() {
        let ready = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(health(&ready).status, HealthStatus::Healthy);
        let unready = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}});
        assert_eq!(health(&unready).status, HealthStatus::Progressing);
        let crashing = json!({"status": {"phase": "Running", "containerStatuses": [
            {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(
            health(&crashing),
            Health::new(HealthStatus::Degraded, "CrashLoopBackOff")
        );
        assert_eq!(
            health(&json!({"status": {"phase": "Succeeded"}})).status,
            HealthStatus::Healthy
        );
        assert_eq!(health(&json!({})).status, HealthStatus::Progressing);
    }
}
