//! One controller in a hub applies to clusters the operators registered: a second, real
//! control plane stands for a remote cluster, registered as a Secret in the hub. The app
//! applies there, its drift there is corrected, and a remote cluster that goes away holds
//! up only its own apps and catches up when it is back.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_testkit::{ADMIN, ControlPlane};
use serde_json::json;
use support::http::{free_address, request};
use support::{World, alice, config_map, is, text};

fn self_healing(cluster: &str, namespace: &str) -> serde_json::Value {
    json!({
        "destination": {"cluster": cluster, "namespace": namespace},
        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"},
    })
}

/// The hub (the shared control plane, with the world), a remote control plane with a
/// namespace for the app, and the remote registered in the hub under a name of its own.
/// The app's account (`plumb` of the world's namespace) is admin of that namespace in the
/// remote cluster, as an operator would grant it there. The world's namespace stands for
/// the controller's own (where registered clusters are, and the fleet's state is kept), so
/// that stories running at once each have theirs.
async fn hub_and_remote(hint: &str) -> (World, ControlPlane, String, String) {
    let (world, remote, namespace) = hub_and_unregistered_remote(hint).await;
    let name = format!("remote-{}", world.namespace);
    register(&world, &remote, &name);
    (world, remote, name, namespace)
}

/// The hub and a remote control plane the app may use, not registered yet.
async fn hub_and_unregistered_remote(hint: &str) -> (World, ControlPlane, String) {
    let world = World::new(hint, &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let remote = ControlPlane::start().await.unwrap();
    let cluster = remote.cluster();
    let namespace = cluster.namespace(hint).await.unwrap();
    let kubectl_remote = |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    };
    kubectl_remote(&[
        "-n",
        &namespace,
        "create",
        "rolebinding",
        "plumb",
        "--clusterrole=admin",
        &format!("--serviceaccount={}:plumb", world.namespace),
    ]);
    (world, remote, namespace)
}

/// Registers `remote` in the hub as `name`: a Secret of the controller's namespace (the
/// world's) with the server, a token and the CA.
fn register(world: &World, remote: &ControlPlane, name: &str) {
    let cluster = remote.cluster();
    let ca = std::fs::read_to_string(&cluster.ca_file).unwrap();
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "labels": {"plumb.dev/cluster": "true"}},
        "stringData": {"server": cluster.server, "token": cluster.token(ADMIN).unwrap(), "ca.crt": ca},
    });
    let path = world.dir.path().join(format!("{name}.json"));
    std::fs::write(&path, secret.to_string()).unwrap();
    let applied = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));
}

async fn until_value(api: &Api<ConfigMap>, name: &str, value: &str) {
    plumb_testkit::eventually(
        &format!("{name} = {value} in the remote cluster"),
        support::PATIENCE,
        || async {
            let found = api.get_opt(name).await.ok()??;
            (found.data?.get("value")? == value).then_some(())
        },
    )
    .await;
}

/// A person sets ConfigMap `alpha`'s value by hand.
async fn drift(api: &Api<ConfigMap>) {
    api.patch(
        "alpha",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"value": "by hand"}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_app_applies_to_a_registered_cluster_and_its_drift_there_is_corrected() {
    let (mut world, remote, cluster, namespace) = hub_and_remote("fleet").await;
    let own = world.namespace.clone();
    let address = free_address();
    let listen = address.to_string();
    world.start_controller(&["--lease-namespace", &own, "--listen", &listen]);
    world
        .create_app("web-remote", "app", self_healing(&cluster, &namespace))
        .await;
    world
        .create_app("web-local", "app", json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}))
        .await;
    let remote_config_maps: Api<ConfigMap> =
        Api::namespaced(remote.cluster().client().await.unwrap(), &namespace);
    until_value(&remote_config_maps, "alpha", "1").await;
    // A change made right after the first apply, likely before the new cluster's watch
    // has listed ConfigMaps, which shows it as the object's first state, not as a change:
    // the app is checked again once the list is in.
    drift(&remote_config_maps).await;
    until_value(&remote_config_maps, "alpha", "1").await;
    world.until_config_map("alpha", Some("1")).await;
    let app = world
        .until_app("web-remote", "synced and healthy", |a| {
            is(a, "Ready", "True", "")
        })
        .await;
    assert_eq!(
        app.spec.destination.cluster.as_deref(),
        Some(cluster.as_str())
    );

    // A person changes the object in the remote cluster: the remote watch sees it.
    let started = Instant::now();
    drift(&remote_config_maps).await;
    until_value(&remote_config_maps, "alpha", "1").await;
    println!(
        "drift in the remote cluster corrected in {:?}",
        started.elapsed()
    );

    // The fleet view: both clusters, reachable, with the remote's version.
    let listed = plumb_testkit::eventually("the fleet view", support::PATIENCE, || async {
        let out = world.plumb(&["get", "clusters", "--controller-namespace", &own]);
        let listed = text(&out);
        let row = listed.lines().find(|l| l.starts_with(&cluster))?.to_owned();
        (out.status.success() && row.contains(" yes ") && row.contains(" v1.")).then_some(row)
    })
    .await;
    assert!(listed.contains(&remote.cluster().server), "{listed}");

    // The API (and so the dashboard, which groups apps by cluster) says the same to a
    // token that may see the apps.
    let token = world.token_for("viewer", "get,list").await;
    let auth = format!("Bearer {token}");
    let clusters = request(
        address,
        "GET",
        "/api/v1/clusters",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(clusters.status, 200, "{}", clusters.body);
    let items = clusters.json()["items"].clone();
    let remote_item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == cluster.as_str())
        .unwrap_or_else(|| panic!("{items}"))
        .clone();
    assert_eq!(remote_item["apps"], 1, "{items}");
    assert_eq!(remote_item["reachable"], true, "{items}");
    let apps = request(
        address,
        "GET",
        "/api/v1/applications",
        &[("Authorization", &auth)],
        b"",
    );
    let summaries = apps.json()["items"].clone();
    assert!(
        summaries
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "web-remote" && a["cluster"] == cluster.as_str()),
        "{summaries}"
    );
}

#[tokio::test]
async fn a_cluster_that_goes_away_holds_up_only_its_apps_and_catches_up_when_back() {
    let (mut world, mut remote, cluster, namespace) = hub_and_remote("away").await;
    let own = world.namespace.clone();
    world.start_controller(&["--lease-namespace", &own, "--request-timeout", "5s"]);
    world
        .create_app("web-remote", "app", self_healing(&cluster, &namespace))
        .await;
    world
        .create_app("web-local", "app", json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}))
        .await;
    let remote_config_maps: Api<ConfigMap> =
        Api::namespaced(remote.cluster().client().await.unwrap(), &namespace);
    until_value(&remote_config_maps, "alpha", "1").await;
    world.until_config_map("alpha", Some("1")).await;

    remote.stop_apiserver();
    world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "v2",
        &alice(),
    );
    world.request_reconcile("web-remote").await;
    world.request_reconcile("web-local").await;
    // The local app is not held up by the remote one...
    world.until_config_map("alpha", Some("2")).await;
    // ...which says why it cannot sync.
    let app = world
        .until_app("web-remote", "its cluster unreachable", |a| {
            is(a, "Ready", "False", "ClusterUnreachable")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(message.contains(&cluster), "{message}");

    // Back: the remote app catches up by itself (no request needed).
    remote.start_apiserver().await.unwrap();
    let remote_config_maps: Api<ConfigMap> =
        Api::namespaced(remote.cluster().client().await.unwrap(), &namespace);
    tokio::time::timeout(
        Duration::from_secs(120),
        until_value(&remote_config_maps, "alpha", "2"),
    )
    .await
    .expect("the remote app caught up");
}

/// An app may name a cluster before the operators register it: it waits, saying so, and
/// applies there as soon as the Secret is written — not after its interval, although it
/// allows no retries at all (tries that wait on a cluster do not use up `retry.limit`).
#[tokio::test]
async fn an_app_named_for_a_cluster_registered_later_applies_once_it_is_registered() {
    let (mut world, remote, namespace) = hub_and_unregistered_remote("late").await;
    let own = world.namespace.clone();
    let late = format!("late-{own}");
    world.start_controller(&["--lease-namespace", &own]);
    let mut spec = self_healing(&late, &namespace);
    spec["syncPolicy"]["retry"] = json!({"limit": 0});
    world.create_app("web-remote", "app", spec).await;
    let app = world
        .until_app("web-remote", "waiting for its cluster", |a| {
            is(a, "Ready", "False", "ClusterUnknown")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(
        message.contains(&format!("no cluster {late} is registered")),
        "{message}"
    );
    // Past its first retry, so that only the cluster's registration can bring it back
    // within the story's patience (its interval is an hour).
    tokio::time::sleep(Duration::from_secs(3)).await;

    let started = Instant::now();
    register(&world, &remote, &late);
    let remote_config_maps: Api<ConfigMap> =
        Api::namespaced(remote.cluster().client().await.unwrap(), &namespace);
    until_value(&remote_config_maps, "alpha", "1").await;
    println!(
        "applied {:?} after the cluster was registered",
        started.elapsed()
    );
    world
        .until_app("web-remote", "ready", |a| is(a, "Ready", "True", ""))
        .await;
}

/// A tenant cannot point plumb at a cluster of its own making: only Secrets of the
/// controller's namespace register clusters, and a registered kubeconfig that would run a
/// program in the controller's pod is refused.
#[tokio::test]
async fn a_tenant_cannot_register_a_cluster_and_a_kubeconfig_cannot_run_a_program() {
    let mut world = World::new("fleet-attack", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let planted = format!("planted-{}", world.namespace);
    let kubeconfig = |exec: bool| {
        let user = if exec {
            json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/sh",
                            "args": ["-c", "touch /tmp/plumb-pwned"], "interactiveMode": "Never"}})
        } else {
            json!({"token": "whatever"})
        };
        json!({"apiVersion": "v1", "kind": "Config",
               "clusters": [{"name": "x", "cluster": {"server": world.cluster.server, "insecure-skip-tls-verify": true}}],
               "users": [{"name": "x", "user": user}],
               "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
               "current-context": "x"})
        .to_string()
    };
    let secret = |name: &str, namespace: &str, exec: bool| {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": {"plumb.dev/cluster": "true"}},
            "stringData": {"kubeconfig": kubeconfig(exec)}});
        let path = world.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, secret.to_string()).unwrap();
        let applied = world.kubectl(&["apply", "-n", namespace, "-f", path.to_str().unwrap()]);
        assert!(applied.status.success(), "{}", text(&applied));
    };
    let tenant_namespace = world.namespace.clone();
    secret("mine", &tenant_namespace, false);
    secret(&planted, "plumb-system", true);
    world.start_controller(&[]);
    let automated = json!({"automated": {"prune": true, "selfHeal": true}, "interval": "1h"});
    world
        .create_app(
            "own-cluster",
            "app",
            json!({"destination": {"cluster": "mine"}, "syncPolicy": automated}),
        )
        .await;
    world
        .create_app(
            "exec",
            "app",
            json!({"destination": {"cluster": planted}, "syncPolicy": automated}),
        )
        .await;

    let own = world
        .until_app("own-cluster", "refused", |a| {
            is(a, "Ready", "False", "ClusterUnknown")
        })
        .await;
    let message = &own.condition("Ready").unwrap().message;
    assert!(
        message.contains("no cluster mine is registered"),
        "{message}"
    );
    let exec = world
        .until_app("exec", "refused", |a| {
            is(a, "Ready", "False", "ClusterUnknown")
        })
        .await;
    let message = &exec.condition("Ready").unwrap().message;
    assert!(message.contains("runs a program"), "{message}");
    assert!(!std::path::Path::new("/tmp/plumb-pwned").exists());
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_none()
    );
    let deleted = world.kubectl(&["-n", "plumb-system", "delete", "secret", &planted]);
    assert!(deleted.status.success(), "{}", text(&deleted));
}
