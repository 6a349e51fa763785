//! The test control plane is a real Kubernetes: every later capability of plumb is proven
//! against it, so these tests prove the parts plumb relies on actually work.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use plumb_testkit::{Cluster, UNPRIVILEGED, eventually};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn server_side_apply_records_plumb_as_the_field_manager() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("ssa").await.unwrap();
    let config_maps = Api::<ConfigMap>::namespaced(cluster.client().await.unwrap(), &namespace);

    let desired = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"color": "blue"},
    });
    config_maps
        .patch(
            "settings",
            &PatchParams::apply("plumb"),
            &Patch::Apply(&desired),
        )
        .await
        .unwrap();

    let live = config_maps.get("settings").await.unwrap();
    assert_eq!(live.data.unwrap()["color"], "blue");
    let managers = live.metadata.managed_fields.unwrap();
    let plumb = managers
        .iter()
        .find(|entry| entry.manager.as_deref() == Some("plumb"))
        .expect("an entry for field manager plumb");
    assert_eq!(plumb.operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_string(&plumb.fields_v1).unwrap();
    assert!(
        fields.contains("f:color"),
        "plumb should own data.color: {fields}"
    );
}

#[tokio::test]
async fn a_deployment_gets_a_replicaset_from_the_controller_manager() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("deploy").await.unwrap();
    let client = cluster.client().await.unwrap();
    let deployments = Api::<Deployment>::namespaced(client.clone(), &namespace);
    let replica_sets = Api::<ReplicaSet>::namespaced(client, &namespace);

    let web = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    });
    let created = deployments
        .patch("web", &PatchParams::apply("plumb"), &Patch::Apply(&web))
        .await
        .unwrap();
    let uid = created.metadata.uid.unwrap();

    let owned = eventually("a ReplicaSet owned by Deployment web", WAIT, || async {
        let list = replica_sets.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|owner| owner.uid == uid)
        })
    })
    .await;
    assert_eq!(owned.spec.unwrap().replicas, Some(2));
}

#[tokio::test]
async fn a_watch_sees_a_change() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("watch").await.unwrap();
    let config_maps = Api::<ConfigMap>::namespaced(cluster.client().await.unwrap(), &namespace);
    let apply = |value: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}, "data": {"v": value}});
    let first = config_maps
        .patch(
            "watched",
            &PatchParams::apply("plumb"),
            &Patch::Apply(apply("1")),
        )
        .await
        .unwrap();
    let version = first.metadata.resource_version.unwrap();

    // Only this object: kube-controller-manager adds kube-root-ca.crt to every new
    // namespace, possibly after it, and that Added event is not the change watched for.
    let mut events = config_maps
        .watch(
            &WatchParams::default()
                .fields("metadata.name=watched")
                .timeout(60),
            &version,
        )
        .await
        .unwrap()
        .boxed();
    config_maps
        .patch(
            "watched",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(apply("2")),
        )
        .await
        .unwrap();

    let event = tokio::time::timeout(WAIT, events.next())
        .await
        .expect("a watch event in time")
        .expect("the watch stream stays open")
        .unwrap();
    match event {
        WatchEvent::Modified(changed) => assert_eq!(changed.data.unwrap()["v"], "2"),
        other => panic!("expected a Modified event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_namespace_deletion_completes() {
    let cluster = Cluster::shared().await;
    let name = cluster.namespace("doomed").await.unwrap();
    let client = cluster.client().await.unwrap();
    let content = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "content"}});
    Api::<ConfigMap>::namespaced(client.clone(), &name)
        .patch(
            "content",
            &PatchParams::apply("plumb"),
            &Patch::Apply(&content),
        )
        .await
        .unwrap();

    let namespaces = Api::<Namespace>::all(client);
    namespaces
        .delete(&name, &DeleteParams::background())
        .await
        .unwrap();

    // The namespace controller empties it and removes the `kubernetes` finalizer.
    plumb_testkit::wait::until_deleted(&namespaces, &name, WAIT).await;
}

#[tokio::test]
async fn an_identity_without_rbac_bindings_is_refused() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("rbac").await.unwrap();
    let config_maps =
        Api::<ConfigMap>::namespaced(cluster.client_as(UNPRIVILEGED).await.unwrap(), &namespace);

    let err = config_maps.list(&ListParams::default()).await.unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(status.message.contains(UNPRIVILEGED), "{}", status.message);
        }
        other => panic!("expected 403 Forbidden, got {other}"),
    }
}
