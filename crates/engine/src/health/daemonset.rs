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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_scheduled_pod_updated_and_available() {
        let status = |updated: i64, available: i64| {
            json!({"status": {"desiredNumberScheduled": 3,
            "updatedNumberScheduled": updated, "numberAvailable": available}})
        };
        assert_eq!(health(&status(3, 3)).status, HealthStatus::Healthy);
        assert_eq!(health(&status(2, 3)).status, HealthStatus::Progressing);
        assert_eq!(
            health(&status(3, 1)),
            Health::new(HealthStatus::Progressing, "1 of 3 pods available")
        );
    }
}
