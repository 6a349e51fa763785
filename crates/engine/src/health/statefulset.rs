//! StatefulSet: healthy when every replica is ready at the current revision.

use serde_json::Value;

use super::{Health, HealthStatus, int, observed};

pub(super) fn health(live: &Value) -> Health {
    if !observed(live) {
        return Health::new(
            HealthStatus::Progressing,
            "waiting for the rollout to start",
        );
    }
    let wanted = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let ready = int(live, "/status/readyReplicas");
    if ready < wanted {
        return Health::new(
            HealthStatus::Progressing,
            format!("{ready} of {wanted} replicas ready"),
        );
    }
    let on_rolling_update = live
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        != Some("OnDelete");
    let current = live.pointer("/status/currentRevision");
    let update = live.pointer("/status/updateRevision");
    if on_rolling_update && update.is_some() && current != update {
        return Health::new(HealthStatus::Progressing, "rolling update in progress");
    }
    Health::healthy()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ready_replicas_and_revisions_decide() {
        let base = |status: Value| json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": status});
        let done = base(
            json!({"observedGeneration": 1, "readyReplicas": 2, "currentRevision": "a", "updateRevision": "a"}),
        );
        assert_eq!(health(&done).status, HealthStatus::Healthy);
        let rolling = base(
            json!({"observedGeneration": 1, "readyReplicas": 2, "currentRevision": "a", "updateRevision": "b"}),
        );
        assert_eq!(health(&rolling).status, HealthStatus::Progressing);
        let short = base(json!({"observedGeneration": 1, "readyReplicas": 1}));
        assert_eq!(
            health(&short),
            Health::new(HealthStatus::Progressing, "1 of 2 replicas ready")
        );
    }
}
