//! DaemonSet: healthy when every scheduled pod is updated and available.

use serde_json::Value;

use super::{Health, HealthStatus, int, observed};

pub(super) fn health(live: &Value) -> Health {
    if !observed(live) {
        return Health::new(
            HealthStatus::Progressing,
            "waiting for the rollout to start",
        );
    }
    let wanted = int(live, "/status/desiredNumberScheduled");
    let updated = int(live, "/status/updatedNumberScheduled");
    let available = int(live, "/status/numberAvailable");
    if updated < wanted {
        return Health::new(
            HealthStatus::Progressing,
            format!("{updated} of {wanted} pods updated"),
        );
    }
    if available < wanted {
        return Health::new(
            HealthStatus::Progressing,
            format!("{available} of {wanted} pods available"),
        );
    }
    Health::healthy()
}
