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
