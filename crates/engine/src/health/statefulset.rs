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
