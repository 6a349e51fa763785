//! Workarounds for API-server bugs that break server-side apply of valid manifests, one
//! function per quirk, each saying which versions need it and why. They only add what the
//! server would default anyway, so they never change the meaning of a manifest.

use serde_json::{Map, Value};

/// Applies every workaround that concerns `group`/`kind` on a server of minor version
/// `server_minor` (`None`: unknown, so every workaround applies) to a manifest about to be
/// applied.
pub(crate) fn apply(
    server_minor: Option<u32>,
    group: &str,
    kind: &str,
    manifest: &mut Map<String, Value>,
) {
    let before = |fixed_in: u32| server_minor.is_none_or(|minor| minor < fixed_in);
    if before(21) {
        default_port_protocols(group, kind, manifest);
    }
}

/// Kubernetes < 1.21 refuses a server-side apply whose Service ports or container ports
/// omit `protocol` ("associative list with keys has an element that omits key field
/// \"protocol\""), although the field is optional and defaults to TCP: `protocol` is part
/// of those lists' merge key and the server did not use the default for key fields.
/// <https://github.com/kubernetes-sigs/structured-merge-diff/issues/130>,
/// fixed by <https://github.com/kubernetes/kubernetes/pull/98576>.
fn default_port_protocols(group: &str, kind: &str, manifest: &mut Map<String, Value>) {
    let pod_spec = match (group, kind) {
        ("", "Service") => {
            default_protocol(manifest.get_mut("spec").and_then(|s| s.get_mut("ports")));
            return;
        }
        ("", "Pod") => "/spec",
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return,
    };
    let mut manifest_value = Value::Object(std::mem::take(manifest));
    if let Some(spec) = manifest_value.pointer_mut(pod_spec) {
        for list in ["containers", "initContainers"] {
            for container in spec
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                default_protocol(container.get_mut("ports"));
            }
        }
    }
    if let Value::Object(map) = manifest_value {
        *manifest = map;
    }
}

fn default_protocol(ports: Option<&mut Value>) {
    for port in ports.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Value::Object(port) = port {
            port.entry("protocol").or_insert_with(|| "TCP".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixed(group: &str, kind: &str, manifest: Value) -> Value {
        let Value::Object(mut map) = manifest else {
            panic!()
        };
        apply(Some(20), group, kind, &mut map);
        Value::Object(map)
    }

    #[test]
    fn servers_that_default_key_fields_get_the_manifest_as_written() {
        let service = json!({"spec": {"ports": [{"port": 80}]}});
        for server_minor in [Some(21), Some(37)] {
            let Value::Object(mut map) = service.clone() else {
                panic!()
            };
            apply(server_minor, "", "Service", &mut map);
            assert_eq!(Value::Object(map), service);
        }
    }

    #[test]
    fn service_ports_get_tcp_unless_they_say_otherwise() {
        let service = fixed(
            "",
            "Service",
            json!({"spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}}),
        );
        assert_eq!(service["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(service["spec"]["ports"][1]["protocol"], "UDP");
    }

    #[test]
    fn container_ports_in_workload_templates_get_tcp() {
        let deployment = fixed(
            "apps",
            "Deployment",
            json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a", "ports": [{"containerPort": 8080}]}],
            "initContainers": [{"name": "b", "ports": [{"containerPort": 9}]}]}}}}),
        );
        assert_eq!(
            deployment.pointer("/spec/template/spec/containers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );
        assert_eq!(
            deployment.pointer("/spec/template/spec/initContainers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );
        let cron = fixed(
            "batch",
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "ports": [{"containerPort": 1}]}]}}}}}}),
        );
        assert_eq!(
            cron.pointer("/spec/jobTemplate/spec/template/spec/containers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );
    }

    #[test]
    fn other_kinds_are_untouched() {
        let original = json!({"spec": {"ports": [{"port": 1}]}});
        assert_eq!(fixed("example.com", "Widget", original.clone()), original);
    }
}
