//! CustomResourceDefinition: healthy once Established (its kinds are served).

use serde_json::Value;

use super::conditions::condition;
use super::{Health, HealthStatus};

pub(super) fn health(live: &Value) -> Health {
    if let Some(("False", message)) = condition(live, "NamesAccepted") {
        return Health::new(HealthStatus::Degraded, message);
    }
    match condition(live, "Established") {
        Some(("True", _)) => Health::healthy(),
        _ => Health::new(HealthStatus::Progressing, "not established yet"),
    }
}
