//! What `plumb install` prints or applies: the CRDs (Application, AppPolicy, ApplicationSet), the controller's namespace,
//! ServiceAccount, RBAC and Deployment.
//!
//! The Deployment is hardened the way the Pod Security Standards' `restricted` profile
//! asks (non-root uid 65532 — the user of plumb's image, `scripts/image.sh` — no privilege
//! escalation, every capability dropped, the runtime's seccomp profile, a read-only root
//! file system with `/tmp` and the cache on emptyDirs), probed on `/healthz` (liveness) and
//! `/readyz` (readiness), with requests and a memory limit, leader election on, and a
//! PodDisruptionBudget plus spreading over nodes when it runs more than one replica.
//! No CPU limit: throttling a controller that is catching up only makes it later.
//!
//! RBAC is least privilege for what the controller itself does (Applications, their
//! status, Events, Leases, inventory ConfigMaps, reading Secrets it is pointed at,
//! impersonating ServiceAccounts). Applying arbitrary objects is the one broad grant; with
//! `impersonation_only` it is left out, and every Application must then name a
//! ServiceAccount (`destination.serviceAccountName`) whose own RBAC bounds what it changes.

use kube::CustomResourceExt;
use serde_json::{Value, json};

use crate::application::Application;
use crate::appset::ApplicationSet;
use crate::policy::AppPolicy;

/// Options of `plumb install`.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Namespace of the controller.
    pub namespace: String,
    /// Container image of plumb.
    pub image: String,
    /// Replicas (leader election keeps one active).
    pub replicas: u32,
    /// Leave out the cluster-wide apply grant.
    pub impersonation_only: bool,
    /// Hosts repositories may be fetched from (the controller's `--allowed-source-hosts`);
    /// any host when empty.
    pub allowed_source_hosts: Vec<String>,
    /// A `kubernetes.io/tls` Secret of the controller's namespace to serve HTTPS with (its
    /// `tls.crt` and `tls.key`, e.g. made by cert-manager); plain HTTP when `None`.
    pub tls_secret: Option<String>,
    /// More arguments of `plumb controller` (e.g. `--allow-plain-text-sources`), after
    /// those the install sets.
    pub controller_args: Vec<String>,
}

/// The objects to install, in apply order.
pub fn manifests(options: &InstallOptions) -> Vec<Value> {
    let namespace = &options.namespace;
    let mut args = vec![
        "controller",
        "--leader-election",
        "--cache-dir",
        "/var/cache/plumb",
        "--listen",
        "0.0.0.0:8080",
    ];
    for host in &options.allowed_source_hosts {
        args.extend(["--allowed-source-hosts", host]);
    }
    let mut mounts = vec![
        json!({"name": "cache", "mountPath": "/var/cache/plumb"}),
        json!({"name": "tmp", "mountPath": "/tmp"}),
    ];
    // The cache keeps within its budgets (plumb_source::CachePolicy: 4 GiB of snapshots,
    // 4 GiB of git data, 1 GiB per repository being fetched); the limit is the node's guard
    // should it not.
    let mut volumes = vec![
        json!({"name": "cache", "emptyDir": {"sizeLimit": "10Gi"}}),
        json!({"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}),
    ];
    args.extend(options.controller_args.iter().map(String::as_str));
    let (scheme, port) = match &options.tls_secret {
        Some(secret) => {
            args.extend([
                "--tls-cert-file",
                "/etc/plumb/tls/tls.crt",
                "--tls-private-key-file",
                "/etc/plumb/tls/tls.key",
            ]);
            mounts.push(json!({"name": "tls", "mountPath": "/etc/plumb/tls", "readOnly": true}));
            // A renewed Secret reaches the mounted files within a minute; plumb serves it then.
            volumes.push(json!({"name": "tls", "secret": {"secretName": secret}}));
            ("HTTPS", 443)
        }
        None => ("HTTP", 80),
    };
    let mut crd = serde_json::to_value(Application::crd()).unwrap_or(Value::Null);
    strip_defaults(&mut crd);
    let mut policy_crd = serde_json::to_value(AppPolicy::crd()).unwrap_or(Value::Null);
    strip_defaults(&mut policy_crd);
    let mut set_crd = serde_json::to_value(ApplicationSet::crd()).unwrap_or(Value::Null);
    strip_defaults(&mut set_crd);
    let mut objects = vec![
        crd,
        policy_crd,
        set_crd,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "plumb-controller", "namespace": namespace}}),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "plumb-controller"},
            "rules": [
                // ApplicationSets in admin namespaces create and delete their Applications
                // as the controller.
                {"apiGroups": ["plumb.dev"], "resources": ["applications"], "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
                {"apiGroups": ["plumb.dev"], "resources": ["applicationsets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["plumb.dev"], "resources": ["applicationsets/status"], "verbs": ["get", "patch", "update"]},
                {"apiGroups": ["plumb.dev"], "resources": ["apppolicies"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["plumb.dev"], "resources": ["applications/status"], "verbs": ["get", "patch", "update"]},
                {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
                // The API server answers who a dashboard or CI token is and what it may do.
                {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
                {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "plumb-controller"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "plumb-controller"},
            "subjects": [{"kind": "ServiceAccount", "name": "plumb-controller", "namespace": namespace}],
        }),
        // Whoever is admin or editor of a namespace manages its Applications (and an app
        // acting as such an account may render Applications: app of apps); viewers read
        // them. Applications act as accounts of their own namespace, so this gives no
        // right the namespace's admins do not have. AppPolicies stay the operators'.
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "plumb-edit", "labels": {
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            }},
            "rules": [{"apiGroups": ["plumb.dev"], "resources": ["applications", "applicationsets"],
                       "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "plumb-view", "labels": {
                "rbac.authorization.k8s.io/aggregate-to-view": "true",
            }},
            "rules": [{"apiGroups": ["plumb.dev"], "resources": ["applications", "applicationsets"],
                       "verbs": ["get", "list", "watch"]}],
        }),
        // The controller makes the Secret of Helm's random key in its own namespace on first
        // start (`random_key.rs`); it reads it with the cluster-wide `get` above.
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "plumb-random-key", "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "plumb-random-key", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "plumb-random-key"},
            "subjects": [{"kind": "ServiceAccount", "name": "plumb-controller", "namespace": namespace}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "plumb-leader-election", "namespace": namespace},
            // Leader election reads and renews its Lease; sharded replicas apply, list and
            // (leaving) delete their membership Leases.
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "create", "update", "patch", "delete"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "plumb-leader-election", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "plumb-leader-election"},
            "subjects": [{"kind": "ServiceAccount", "name": "plumb-controller", "namespace": namespace}],
        }),
    ];
    if !options.impersonation_only {
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "plumb-applier"},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        }));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "plumb-applier"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "plumb-applier"},
            "subjects": [{"kind": "ServiceAccount", "name": "plumb-controller", "namespace": namespace}],
        }));
    }
    // `/metrics` answers only tokens allowed to `get` it, as Kubernetes components do:
    // bind a Prometheus's ServiceAccount to this role to let it scrape.
    objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "plumb-metrics-reader"},
        "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
    }));
    objects.push(deployment(options, &args, mounts, volumes, scheme));
    if options.replicas > 1 {
        // Voluntary disruptions (node drains, upgrades) leave one replica serving.
        objects.push(json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "plumb-controller", "namespace": namespace, "labels": {"app.kubernetes.io/name": "plumb"}},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "plumb"}}},
        }));
    }
    // Every replica serves the API, webhooks and metrics; the Service spreads them.
    objects.push(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "plumb", "namespace": namespace, "labels": {"app.kubernetes.io/name": "plumb"}},
        "spec": {
            "selector": {"app.kubernetes.io/name": "plumb"},
            "ports": [{"name": scheme.to_ascii_lowercase(), "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }));
    // Defence in depth behind plumb's own address checks (git resolves a name again after
    // plumb checked it): the controller reaches anything but link-local addresses, where
    // cloud metadata services hand out the node's credentials. Enforced where the network
    // plugin enforces NetworkPolicies.
    objects.push(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "plumb-controller-egress", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "plumb"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [
                {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16", "100.100.100.200/32"]}},
                {"ipBlock": {"cidr": "::/0", "except": ["fe80::/10", "fd00:ec2::254/128"]}},
            ]}],
        },
    }));
    objects
}

/// The controller's Deployment: see the module documentation for what each part is for.
fn deployment(
    options: &InstallOptions,
    args: &[&str],
    mounts: Vec<Value>,
    volumes: Vec<Value>,
    scheme: &str,
) -> Value {
    let labels = json!({"app.kubernetes.io/name": "plumb"});
    let probe = |path: &str, period: u32| {
        json!({"httpGet": {"path": path, "port": "http", "scheme": scheme},
               "periodSeconds": period, "timeoutSeconds": 3, "failureThreshold": 3})
    };
    let mut pod = json!({
        "serviceAccountName": "plumb-controller",
        "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "controller",
            "image": options.image,
            "imagePullPolicy": "IfNotPresent",
            "args": args,
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            // The first list of Applications and a cold cache may take a while on a big
            // cluster: the startup probe gives it five minutes before liveness counts.
            "startupProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": scheme},
                             "periodSeconds": 5, "failureThreshold": 60},
            "livenessProbe": probe("/healthz", 10),
            "readinessProbe": probe("/readyz", 5),
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                // git, ssh and gpg write under HOME; the root file system is read-only.
                {"name": "HOME", "value": "/tmp"},
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "volumeMounts": mounts,
        }],
        "volumes": volumes,
    });
    if options.replicas > 1 {
        pod["topologySpreadConstraints"] = json!([{
            "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": labels},
        }]);
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "plumb-controller", "namespace": options.namespace, "labels": labels},
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    })
}

/// Removes `default` from the CRD's schema. Defaults are applied when plumb reads an
/// Application (serde), and Kubernetes 1.20 rejects the empty-string defaults the schema
/// generator writes (`in body must be of type string: "null"`).
fn strip_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("default");
            map.values_mut().for_each(strip_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(options: &InstallOptions) -> Vec<String> {
        manifests(options)
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn impersonation_only_leaves_out_the_apply_grant() {
        let mut options = InstallOptions {
            namespace: "plumb-system".into(),
            image: "plumb:dev".into(),
            replicas: 2,
            impersonation_only: false,
            allowed_source_hosts: vec![],
            tls_secret: None,
            controller_args: vec![],
        };
        assert!(kinds(&options).contains(&"ClusterRoleBinding/plumb-applier".to_owned()));
        options.impersonation_only = true;
        let objects = kinds(&options);
        assert!(!objects.iter().any(|o| o.contains("applier")));
        assert_eq!(
            objects[0],
            "CustomResourceDefinition/applications.plumb.dev"
        );
        assert!(objects.contains(&"Deployment/plumb-controller".to_owned()));
        assert_eq!(
            objects.last().unwrap(),
            "NetworkPolicy/plumb-controller-egress"
        );
    }

    #[test]
    fn the_operators_source_hosts_and_certificate_reach_the_controller_and_the_cache_is_bounded() {
        let options = InstallOptions {
            namespace: "plumb-system".into(),
            image: "plumb:dev".into(),
            replicas: 1,
            impersonation_only: true,
            allowed_source_hosts: vec!["github.com".into(), "*.corp.example".into()],
            tls_secret: Some("plumb-tls".into()),
            controller_args: vec![],
        };
        let objects = manifests(&options);
        let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        let args: Vec<&str> = pod["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let hosts: Vec<&str> = args
            .windows(2)
            .filter(|pair| pair[0] == "--allowed-source-hosts")
            .map(|pair| pair[1])
            .collect();
        assert_eq!(hosts, ["github.com", "*.corp.example"]);
        assert!(!args.contains(&"--allow-plain-text-sources"));
        assert_eq!(pod["volumes"][0]["emptyDir"]["sizeLimit"], "10Gi");
        assert_eq!(pod["volumes"][2]["secret"]["secretName"], "plumb-tls");
        assert!(args.contains(&"--tls-cert-file"));
        assert_eq!(
            pod["containers"][0]["livenessProbe"]["httpGet"]["scheme"],
            "HTTPS"
        );
        let service = objects.iter().find(|o| o["kind"] == "Service").unwrap();
        assert_eq!(service["spec"]["ports"][0]["port"], 443);
    }

    #[test]
    fn the_controller_runs_hardened_probed_and_bounded_with_a_budget_when_replicated() {
        let mut options = InstallOptions {
            namespace: "plumb-system".into(),
            image: "registry.example/plumb:1.2.3".into(),
            replicas: 2,
            impersonation_only: false,
            allowed_source_hosts: vec![],
            tls_secret: None,
            controller_args: vec!["--allow-plain-text-sources".into()],
        };
        let objects = manifests(&options);
        let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "registry.example/plumb:1.2.3");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_eq!(security["capabilities"]["drop"][0], "ALL");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(container["resources"]["requests"]["memory"].is_string());
        assert!(container["resources"]["limits"]["memory"].is_string());
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args[..2], ["controller", "--leader-election"]);
        assert!(args.contains(&"--allow-plain-text-sources"));
        // Every path written is an emptyDir: /tmp (HOME) and the cache.
        let mounts: Vec<&str> = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["mountPath"].as_str().unwrap())
            .collect();
        assert_eq!(mounts, ["/var/cache/plumb", "/tmp"]);
        let budget = objects
            .iter()
            .find(|o| o["kind"] == "PodDisruptionBudget")
            .unwrap();
        assert_eq!(budget["spec"]["minAvailable"], 1);
        assert!(pod["topologySpreadConstraints"].is_array());

        options.replicas = 1;
        let objects = manifests(&options);
        assert!(!objects.iter().any(|o| o["kind"] == "PodDisruptionBudget"));
    }
}
