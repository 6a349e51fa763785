//! The in-cluster story, as a user lives it: plumb's own image (scripts/image.sh) is
//! installed with `plumb install --image`, onto a real node (testkit's [`Node`]: kubelet,
//! containerd, runc), where its Pod becomes Ready on its own probes; from inside the cluster
//! it syncs an Application from a git server the Pod reaches over the pod network, the
//! workload's containers (a locally built busybox image) really start and become Ready,
//! drift is corrected, and `plumb uninstall` removes the controller but not the Application.
//!
//! Needs root, the node's parts (scripts/provision.sh) and the image archive named by
//! `PLUMB_TEST_IMAGE` (built by scripts/image.sh, named `PLUMB_TEST_IMAGE_REF`, default
//! `plumb.test/plumb:dev`). It starts the one node a machine can have and a scheduler, which
//! would make other tests' Pods really run: so it is ignored in the main run, and
//! scripts/test.sh runs it alone (`-- --ignored`).

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use plumb_controller::Application;
use plumb_testkit::node::images::{BUSYBOX_IMAGE, busybox_archive};
use plumb_testkit::{Cluster, GitServer, Node};
use serde_json::json;
use support::{alice, plumb, text};

/// Pulling nothing, a Pod starts in seconds; the controller's first sync includes a git
/// fetch and a wave wait.
const IN_TIME: Duration = Duration::from_secs(180);

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: IMAGE
        args: [sh, -c, "mkdir -p /tmp/www && echo ok > /tmp/www/ready && exec /bin/busybox httpd -f -p 8080 -h /tmp/www"]
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
"#;

#[tokio::test]
#[ignore = "starts the machine's one real node: scripts/test.sh runs it alone, with --ignored"]
async fn plumb_installed_from_its_image_syncs_from_inside_the_cluster() {
    let archive = std::env::var("PLUMB_TEST_IMAGE")
        .expect("PLUMB_TEST_IMAGE must name plumb's image archive: build it with `bash scripts/image.sh --name plumb.test/plumb:dev`");
    let image =
        std::env::var("PLUMB_TEST_IMAGE_REF").unwrap_or_else(|_| "plumb.test/plumb:dev".into());
    let cluster = Cluster::shared().await;
    let mut node = Node::start(cluster).await.unwrap();
    node.import_image(std::path::Path::new(&archive)).unwrap();
    node.import_image(&busybox_archive().unwrap()).unwrap();
    let client = cluster.client().await.unwrap();

    // The repository, served by git daemon on loopback and reached by Pods on the node's IP.
    let git = GitServer::start().unwrap();
    let repo = git.create_repo("deploy").unwrap();
    let port: u16 = repo
        .git_url
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split('/').next()?.parse().ok())
        .unwrap();
    node.expose_loopback_port(port).unwrap();
    let tree = repo.work_tree().unwrap();
    tree.write("web/web.yaml", WEB.replace("IMAGE", BUSYBOX_IMAGE))
        .unwrap();
    tree.commit("web, two replicas", &alice()).unwrap();
    tree.push().unwrap();

    // plumb install, with the image built from this tree.
    let system = cluster.namespace("incluster-plumb").await.unwrap();
    let apps_namespace = cluster.namespace("incluster-web").await.unwrap();
    let installed = plumb(
        cluster,
        &[
            "install",
            "--image",
            &image,
            "--install-namespace",
            &system,
            "--replicas",
            "1",
            // git:// from the node's address: plain text beyond loopback must be allowed.
            "--controller-arg=--allow-plain-text-sources",
            "--apply",
        ],
    );
    assert!(installed.status.success(), "{}", text(&installed));

    let pods: Api<Pod> = Api::namespaced(client.clone(), &system);
    let controller_ready = within(|| async {
        let list = pods
            .list(&ListParams::default().labels("app.kubernetes.io/name=plumb"))
            .await
            .ok()?;
        list.items.into_iter().find(ready)
    })
    .await;
    let Some(controller_ready) = controller_ready else {
        let list = pods.list(&ListParams::default()).await.unwrap();
        panic!(
            "the controller Pod is not Ready after {IN_TIME:?}: {:#?}\nkubelet:\n{}",
            list.items.iter().map(|p| &p.status).collect::<Vec<_>>(),
            node.kubelet_log_tail()
        );
    };
    let status = controller_ready.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    let container = &status.container_statuses.unwrap()[0];
    assert_eq!(container.image, image);
    assert!(container.started == Some(true), "{container:?}");

    // An Application, synced by the controller inside the cluster (nothing outside runs one).
    let pod_url = repo
        .git_url
        .replace("127.0.0.1", &node.host_ip().to_string());
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "web", "namespace": system},
        "spec": {
            "source": {"repoURL": pod_url, "revision": "main", "path": "web"},
            "destination": {"namespace": apps_namespace},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"},
        },
    }))
    .unwrap();
    let apps: Api<Application> = Api::namespaced(client.clone(), &system);
    apps.create(&PostParams::default(), &app).await.unwrap();
    let synced = within(|| async {
        let app = apps.get("web").await.ok()?;
        let status = app.status.as_ref()?;
        (status.sync.status == "Synced" && status.health.status == "Healthy").then_some(())
    })
    .await;
    if synced.is_none() {
        let app = apps.get("web").await.ok();
        let logs = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cat {}/pod-logs/{system}_*/controller/*.log | tail -40",
                node.dir().display()
            ))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "the Application is not Synced and Healthy after {IN_TIME:?}: {:#?}\ncontroller log:\n{logs}",
            app.and_then(|a| a.status)
        );
    }

    // Healthy because its containers really run and answer their probes.
    let web_pods: Api<Pod> = Api::namespaced(client.clone(), &apps_namespace);
    let running = web_pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(running.items.iter().filter(|pod| ready(pod)).count(), 2);
    for pod in &running.items {
        let status = pod.status.as_ref().unwrap();
        assert!(
            status.pod_ip.as_deref().unwrap().starts_with("10.88."),
            "{status:?}"
        );
        assert_eq!(
            status.container_statuses.as_ref().unwrap()[0].image,
            BUSYBOX_IMAGE
        );
    }

    // Drift: someone scales the workload by hand; the controller in the cluster reverts it.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &apps_namespace);
    deployments
        .patch(
            "web",
            &PatchParams::apply("someone-by-hand").force(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"}, "spec": {"replicas": 0},
            })),
        )
        .await
        .unwrap();
    within(|| async {
        let web = deployments.get("web").await.ok()?;
        let spec = web.spec?.replicas?;
        let ready = web.status?.ready_replicas.unwrap_or(0);
        (spec == 2 && ready == 2).then_some(())
    })
    .await
    .expect("the drift reverted and both Pods Ready again");

    // plumb uninstall: the controller goes, the Application stays.
    let uninstalled = plumb(cluster, &["uninstall", "--install-namespace", &system]);
    assert!(uninstalled.status.success(), "{}", text(&uninstalled));
    let controllers: Api<Deployment> = Api::namespaced(client.clone(), &system);
    within(|| async {
        let left = controllers.get_opt("plumb-controller").await.ok()?;
        left.is_none().then_some(())
    })
    .await
    .expect("the controller's Deployment deleted");
    assert!(apps.get_opt("web").await.unwrap().is_some());
    drop(node);
}

/// Polls `check` until it answers, for at most [`IN_TIME`].
async fn within<T, F, Fut>(mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + IN_TIME;
    while std::time::Instant::now() < deadline {
        if let Some(value) = check().await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}
