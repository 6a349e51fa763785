//! What every engine test needs: the shared control plane, a namespace, a client whose
//! requests are counted, desired sets written as YAML, and a stand-in kubelet.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    unreachable_pub,
    reason = "shared by test binaries through `mod common`"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use plumb_engine::{AppId, Engine, Inventory, Plan, PlanOptions, SyncResult};
use plumb_render::{DesiredSet, RenderOptions, render};
use plumb_testkit::{ADMIN, Cluster};

/// Requests seen by a counting client, by what they do to the cluster.
#[derive(Debug, Default)]
pub struct Requests {
    pub reads: AtomicUsize,
    pub dry_runs: AtomicUsize,
    pub writes: AtomicUsize,
}

impl Requests {
    pub fn reset(&self) {
        for counter in [&self.reads, &self.dry_runs, &self.writes] {
            counter.store(0, Ordering::SeqCst);
        }
    }
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
    pub fn dry_runs(&self) -> usize {
        self.dry_runs.load(Ordering::SeqCst)
    }
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Counting<S> {
    inner: S,
    requests: Arc<Requests>,
}

impl<S, B> tower::Service<http::Request<B>> for Counting<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let dry_run = request.uri().query().is_some_and(|q| q.contains("dryRun="));
        let counter = match (request.method().as_str(), dry_run) {
            ("GET" | "HEAD", _) => &self.requests.reads,
            (_, true) => &self.requests.dry_runs,
            _ => &self.requests.writes,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }
}

struct CountingLayer(Arc<Requests>);

impl<S> tower::Layer<S> for CountingLayer {
    type Service = Counting<S>;
    fn layer(&self, inner: S) -> Counting<S> {
        Counting {
            inner,
            requests: self.0.clone(),
        }
    }
}

/// One test's world: a namespace, a plain client, and an engine whose requests are counted.
pub struct World {
    pub cluster: &'static Cluster,
    pub namespace: String,
    pub client: Client,
    pub engine: Arc<Engine>,
    pub requests: Arc<Requests>,
}

impl World {
    pub async fn new(hint: &str) -> World {
        let cluster = Cluster::shared().await;
        let namespace = cluster.namespace(hint).await.unwrap();
        let client = cluster.client().await.unwrap();
        let (engine, requests) = counted_engine(cluster).await;
        World {
            cluster,
            namespace,
            client,
            engine: Arc::new(engine),
            requests,
        }
    }

    /// A fresh engine (empty cache) on the same cluster, as after a controller restart.
    pub async fn restarted_engine(&self) -> Engine {
        Engine::new(self.client.clone()).await.unwrap()
    }

    /// Renders YAML documents as a DesiredSet, through the real render stage.
    pub fn desired(&self, yaml: &str) -> DesiredSet {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("set.yaml"), yaml).unwrap();
        render(dir.path(), ".", &RenderOptions::default())
            .unwrap()
            .objects
    }

    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            default_namespace: Some(self.namespace.clone()),
            prune: true,
            ..PlanOptions::default()
        }
    }

    pub async fn plan(&self, app: &str, yaml: &str, previous: &Inventory) -> Plan {
        self.plan_with(app, yaml, previous, &self.options())
            .await
            .unwrap()
    }

    /// Plans with other options; the error is the test's to inspect.
    pub async fn plan_with(
        &self,
        app: &str,
        yaml: &str,
        previous: &Inventory,
        options: &PlanOptions,
    ) -> plumb_engine::Result<Plan> {
        self.engine
            .plan(&AppId::new(app), &self.desired(yaml), previous, options)
            .await
    }
    /// Plans and applies; panics when the sync fails.
    pub async fn sync(&self, app: &str, yaml: &str, previous: &Inventory) -> SyncResult {
        let plan = self.plan(app, yaml, previous).await;
        let result = self.engine.apply(&plan, &Default::default()).await;
        assert!(result.succeeded(), "{result:#?}");
        result
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }
}

pub async fn counted_engine(cluster: &Cluster) -> (Engine, Arc<Requests>) {
    let requests = Arc::new(Requests::default());
    let config = cluster.config_as(ADMIN).await.unwrap();
    let client = plumb_engine::client::builder(config)
        .unwrap()
        .with_layer(&CountingLayer(requests.clone()))
        .build();
    (Engine::new(client).await.unwrap(), requests)
}

/// Marks every Pod matching `selector` Running and Ready, as a kubelet would, so the
/// ReplicaSet and Deployment controllers count them available.
pub async fn make_pods_ready(world: &World, selector: &str) {
    let pods: Api<Pod> = world.api();
    let list = plumb_testkit::eventually("pods to exist", Duration::from_secs(60), || async {
        let list = pods
            .list(&ListParams::default().labels(selector))
            .await
            .ok()?;
        (!list.items.is_empty()).then_some(list)
    })
    .await;
    let now = "2026-01-01T00:00:00Z";
    for pod in list.items {
        let name = pod.metadata.name.unwrap();
        let containers: Vec<_> = pod
            .spec
            .unwrap()
            .containers
            .iter()
            .map(|c| serde_json::json!({"name": c.name, "ready": true, "restartCount": 0, "image": c.image,
                "imageID": "", "started": true, "state": {"running": {"startedAt": now}}}))
            .collect();
        let status = serde_json::json!({"status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastTransitionTime": now}],
            "containerStatuses": containers,
        }});
        pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
}

/// A Deployment manifest.
pub fn deployment(name: &str, replicas: u32, extra_annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  annotations: {{{extra_annotations}}}\n\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n\
         \x20   spec:\n      containers:\n      - name: main\n        image: nginx:1.27\n"
    )
}

/// The schema of a custom resource that takes any fields.
pub const ANY_FIELDS: &str = "type: object\nx-kubernetes-preserve-unknown-fields: true";

/// A CustomResourceDefinition of the namespaced `kind` in `group` (plural: `kind`
/// lowercased, plus "s"), served and stored as v1, validated by `schema` (the YAML of its
/// `openAPIV3Schema`).
pub fn crd(group: &str, kind: &str, schema: &str) -> String {
    let singular = kind.to_lowercase();
    let schema: String = schema
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {singular}s.{group}}}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: {singular}s, singular: {singular}, kind: {kind}}}\n\
         \x20 versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n{schema}"
    )
}

/// A ConfigMap manifest.
pub fn config_map(name: &str, value: &str, extra_annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {{{extra_annotations}}}\ndata:\n  value: \"{value}\"\n"
    )
}

pub fn join(documents: &[String]) -> String {
    documents.iter().map(|d| format!("---\n{d}")).collect()
}
