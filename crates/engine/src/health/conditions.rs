//! kstatus conventions for kinds plumb has no specific rule for: `Ready`, `Stalled` and
//! `Reconciling` conditions, and `observedGeneration`.

use serde_json::Value;

use super::{Health, HealthStatus, observed};

/// The condition of `type_`, as (status, reason/message).
pub(crate) fn condition<'a>(live: &'a Value, type_: &str) -> Option<(&'a str, String)> {
    live.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            let status = c.get("status").and_then(Value::as_str).unwrap_or("Unknown");
            let message = c
                .get("message")
                .or_else(|| c.get("reason"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (status, message)
        })
}

pub(super) fn kstatus(live: &Value) -> Health {
    if live.get("status").is_none() {
        // Objects without status (ConfigMaps, RBAC, most custom resources at rest) exist,
        // and that is all they do.
        return Health::healthy();
    }
    if !observed(live) {
        return Health::new(
            HealthStatus::Progressing,
            "waiting for the controller to observe the latest generation",
        );
    }
    if let Some(("True", message)) = condition(live, "Stalled") {
        return Health::new(HealthStatus::Degraded, message);
    }
    if let Some(("True", message)) = condition(live, "Reconciling") {
        return Health::new(HealthStatus::Progressing, message);
    }
    match condition(live, "Ready") {
        Some(("False", message)) => Health::new(HealthStatus::Degraded, message),
        Some(("Unknown", message)) => Health::new(HealthStatus::Progressing, message),
        _ => Health::healthy(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn conditions_decide_for_unknown_kinds() {
        let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(kstatus(&ready).status, HealthStatus::Healthy);
        let failing = json!({"status": {"conditions": [{"type": "Ready", "status": "False", "message": "no quota"}]}});
        assert_eq!(
            kstatus(&failing),
            Health::new(HealthStatus::Degraded, "no quota")
        );
        let stale = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}});
        assert_eq!(kstatus(&stale).status, HealthStatus::Progressing);
        assert_eq!(kstatus(&json!({"data": {}})).status, HealthStatus::Healthy);
    }
}
