//! APIService: healthy when Available.

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus};

pub(super) fn health(live: &Value) -> Health {
    match condition(live, "Available") {
        Some(("True", _)) => Health::healthy(),
        Some(("False", message)) => Health::new(HealthStatus::Degraded, message),
        _ => Health::new(HealthStatus::Progressing, "not available yet"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn available_decides() {
        let with = |status: &str| json!({"status": {"conditions": [{"type": "Available", "status": status, "message": "no endpoints"}]}});
        assert_eq!(health(&with("True")).status, HealthStatus::Healthy);
        assert_eq!(
            health(&with("False")),
            Health::new(HealthStatus::Degraded, "no endpoints")
        );
        assert_eq!(health(&json!({})).status, HealthStatus::Progressing);
    }
}
