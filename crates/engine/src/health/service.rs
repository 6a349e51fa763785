//! Service and Ingress: a LoadBalancer Service or an Ingress is healthy once it has an
//! address; other Services are healthy as soon as they exist.

use serde_json::Value;

use super::{Health, HealthStatus};

fn has_address(live: &Value) -> bool {
    live.pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|addresses| !addresses.is_empty())
}

pub(super) fn health(live: &Value) -> Health {
    let load_balancer = live.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer");
    if load_balancer && !has_address(live) {
        return Health::new(
            HealthStatus::Progressing,
            "waiting for a load balancer address",
        );
    }
    Health::healthy()
}

pub(super) fn ingress_health(live: &Value) -> Health {
    if has_address(live) {
        Health::healthy()
    } else {
        Health::new(HealthStatus::Progressing, "waiting for an address")
    }
}
