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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn load_balancers_and_ingresses_wait_for_an_address() {
        assert_eq!(
            health(&json!({"spec": {"type": "ClusterIP"}})).status,
            HealthStatus::Healthy
        );
        let pending = json!({"spec": {"type": "LoadBalancer"}});
        assert_eq!(health(&pending).status, HealthStatus::Progressing);
        let addressed = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}});
        assert_eq!(health(&addressed).status, HealthStatus::Healthy);
        assert_eq!(ingress_health(&json!({})).status, HealthStatus::Progressing);
        assert_eq!(ingress_health(&addressed).status, HealthStatus::Healthy);
    }
}
