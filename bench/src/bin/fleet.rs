//! The fleet benchmark, in the shape of Flux's MTTP benchmark: `--apps` Applications
//! (100, 500, 1,000), each a small Kustomize app of 10 objects (Deployment, Service,
//! ConfigMaps, Secret, ServiceAccount, Role, RoleBinding, NetworkPolicy,
//! PodDisruptionBudget — no Namespace) from one Git repository served on loopback, synced
//! by `plumb controller` running as a process:
//!
//! - create → all Synced and Healthy: from creating the Applications until every one
//!   reports the commit applied, in sync and healthy (a stand-in kubelet marks Pods Ready,
//!   so Deployments become Available);
//! - commit → applied everywhere: a commit to the base every app uses, announced by a
//!   signed GitHub push webhook, until every app reports it applied;
//! - the controller's peak resident memory over the run, and its steady memory once synced;
//! - Kubernetes API requests per app, counted by the controller
//!   (`plumb_kube_api_requests_total`), for the first sync and for the commit.
//!
//! Medians over `--trials` trials (each on a namespace and repository of its own).
//!
//! ```text
//! cargo build --release -p plumb && \
//! cargo run --release -p plumb-bench --bin fleet -- [--apps 100] [--trials 3]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use plumb_bench::controller::{
    WEBHOOK_SECRET, applications, create_webhook_secret, deliver_github_push, plumb_binary,
    rss_kib, start_controller,
};
use plumb_bench::{arg, report, run};
use plumb_testkit::{Author, Cluster, GitServer, WorkTree};
use serde_json::{Value, json};

/// How long one phase may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(1800);

/// What one trial measured.
struct Trial {
    synced: Duration,
    commit: Duration,
    peak_kib: u64,
    steady_kib: u64,
    requests_sync: f64,
    requests_commit: f64,
    /// Mean time per reconcile in each phase, over the whole trial (ms): where it went.
    phases: Vec<(String, f64)>,
}

#[tokio::main]
async fn main() {
    let apps = arg("--apps", 100);
    let trials = arg("--trials", 1);
    let cluster = Cluster::shared().await;
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    run(Command::new(plumb_binary()).args([
        "install",
        "--crds-only",
        "--apply",
        "--kubeconfig",
        &kubeconfig,
    ]));
    let client = cluster.client().await.unwrap();
    // No kubelet on the test control plane: this marks Pods Ready, as one would.
    let kubelet = tokio::spawn(plumb_testkit::kubelet::run(client.clone()));
    println!("fleet: {apps} apps of 10 objects, {trials} trial(s)");
    let mut results = Vec::new();
    for number in 1..=trials {
        let trial = trial(cluster, apps).await;
        println!(
            "  trial {number}: synced {:.1} s, commit {:.1} s, peak {} MiB",
            trial.synced.as_secs_f64(),
            trial.commit.as_secs_f64(),
            trial.peak_kib / 1024
        );
        results.push(trial);
    }
    kubelet.abort();
    let median = |values: Vec<f64>| {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let of = |f: &dyn Fn(&Trial) -> f64| median(results.iter().map(f).collect());
    report(
        "create -> all Synced and Healthy, median",
        of(&|t| t.synced.as_secs_f64()),
        "s",
    );
    report(
        "commit -> applied everywhere, median",
        of(&|t| t.commit.as_secs_f64()),
        "s",
    );
    report(
        "controller peak RSS, median",
        of(&|t| t.peak_kib as f64 / 1024.0),
        "MiB",
    );
    report(
        "controller steady RSS, median",
        of(&|t| t.steady_kib as f64 / 1024.0),
        "MiB",
    );
    report(
        "API requests per app, first sync",
        of(&|t| t.requests_sync / apps as f64),
        "requests",
    );
    report(
        "API requests per app, one commit",
        of(&|t| t.requests_commit / apps as f64),
        "requests",
    );
    for (index, (phase, _)) in results[0].phases.iter().enumerate() {
        report(
            &format!("reconcile phase {phase}, mean"),
            of(&|t| t.phases.get(index).map_or(0.0, |(_, ms)| *ms)),
            "ms",
        );
    }
}

async fn trial(cluster: &Cluster, apps: usize) -> Trial {
    let namespace = cluster.namespace("bench-fleet").await.unwrap();
    let client = cluster.client().await.unwrap();
    let git = GitServer::start().unwrap();
    let repo = git.create_repo("fleet").unwrap();
    let tree = repo.work_tree().unwrap();
    let author = Author::new("Bench", "bench@example.com");
    write_fleet(&tree, apps, "1");
    let first = tree.commit("the fleet", &author).unwrap();
    tree.push().unwrap();

    create_webhook_secret(&client, &namespace).await;
    let scratch = tempfile::tempdir().unwrap();
    let (controller, server) = start_controller(cluster, &namespace, scratch.path());
    let pid = controller.pid();
    let token = scraper_token(cluster, &namespace);
    let requests =
        || scrape(server, &token).map(|text| sum_of(&text, "plumb_kube_api_requests_total"));
    wait_for(|| requests().is_some(), "the controller's metrics").await;
    let before = requests().unwrap();

    // The controller's memory, sampled while it works.
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let applications = applications(&client, &namespace);
    let started = Instant::now();
    // Created 16 at a time, as a person applying a folder of them with kubectl would.
    let mut creating = tokio::task::JoinSet::new();
    for index in 0..apps {
        if creating.len() >= 16 {
            creating.join_next().await.unwrap().unwrap();
        }
        let applications = applications.clone();
        let url = repo.git_url.clone();
        creating.spawn(async move {
            let name = format!("app-{index}");
            let app = json!({
                "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": name},
                "spec": {"source": {"repoURL": url, "revision": "main", "path": format!("apps/{name}")},
                         "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}},
            });
            applications
                .patch(&name, &PatchParams::apply("bench").force(), &Patch::Apply(&app))
                .await
                .unwrap();
        });
    }
    while let Some(created) = creating.join_next().await {
        created.unwrap();
    }
    until_all(&applications, apps, &first, true).await;
    let synced = started.elapsed();
    let after_sync = requests().unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let steady_kib = rss_kib(pid);

    write_fleet(&tree, apps, "2");
    let second = tree.commit("every app: version 2", &author).unwrap();
    let started = Instant::now();
    tree.push().unwrap();
    let status = deliver_github_push(server, &repo.git_url, WEBHOOK_SECRET);
    assert_eq!(status, 202, "the webhook was not accepted");
    until_all(&applications, apps, &second, false).await;
    let commit = started.elapsed();
    let metrics = scrape(server, &token).unwrap();
    let after_commit = sum_of(&metrics, "plumb_kube_api_requests_total");
    sampler.abort();

    drop(controller);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let _ = namespaces
        .delete(&namespace, &DeleteParams::default())
        .await;
    Trial {
        synced,
        commit,
        peak_kib: peak.load(Ordering::Relaxed),
        steady_kib,
        requests_sync: after_sync - before,
        requests_commit: after_commit - after_sync,
        phases: phase_means(&metrics),
    }
}

/// The shared base (10 objects, `version` in its ConfigMap) and an overlay per app that
/// gives the objects the app's name.
fn write_fleet(tree: &WorkTree, apps: usize, version: &str) {
    tree.write("base/kustomization.yaml", BASE_KUSTOMIZATION)
        .unwrap();
    tree.write(
        "base/objects.yaml",
        BASE_OBJECTS.replace("VERSION", version),
    )
    .unwrap();
    for index in 0..apps {
        tree.write(
            &format!("apps/app-{index}/kustomization.yaml"),
            format!(
                "resources: [../../base]\nnamePrefix: app-{index}-\nlabels:\n- pairs: {{app: app-{index}}}\n  includeSelectors: true\n"
            ),
        )
        .unwrap();
    }
}

const BASE_KUSTOMIZATION: &str = "resources: [objects.yaml]\n";

const BASE_OBJECTS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {component: web}}
  template:
    metadata: {labels: {component: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        envFrom: [{configMapRef: {name: settings}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {component: web}
  ports: [{port: 80, protocol: TCP}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {version: "VERSION", mode: production}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: features}
data: {search: "on", checkout: "on"}
---
apiVersion: v1
kind: Secret
metadata: {name: credentials}
stringData: {token: not-a-real-token}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web}
subjects: [{kind: ServiceAccount, name: web}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {matchLabels: {component: web}}
  ingress: [{ports: [{port: 80, protocol: TCP}]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {component: web}}
"#;

/// Waits until every one of the `apps` Applications has applied `commit` and is in sync
/// (and, with `healthy`, Healthy).
async fn until_all(applications: &Api<DynamicObject>, apps: usize, commit: &str, healthy: bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let listed = applications.list(&ListParams::default()).await.unwrap();
        let done = listed
            .items
            .iter()
            .filter(|app| {
                let status = app.data.get("status").cloned().unwrap_or(Value::Null);
                status["sync"]["status"] == "Synced"
                    && status["sync"]["lastAppliedRevision"] == commit
                    && (!healthy || status["health"]["status"] == "Healthy")
            })
            .count();
        if done == apps {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {apps} apps reached {commit} within {PATIENCE:?}"
        );
        // Listing a thousand Applications four times a second would load the API server
        // the controller shares: a look per millisecond of app, at least every 250 ms.
        tokio::time::sleep(Duration::from_millis(250.max(apps as u64))).await;
    }
}

async fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The controller's `/metrics`.
fn scrape(server: std::net::SocketAddr, token: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server).ok()?;
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply.starts_with("HTTP/1.1 200").then_some(reply)
}

/// The sum of every series of the metric `name` (the first word of its lines).
fn sum_of(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The mean milliseconds per reconcile of each phase (`plumb_reconcile_phase_duration_seconds`).
fn phase_means(metrics: &str) -> Vec<(String, f64)> {
    const NAME: &str = "plumb_reconcile_phase_duration_seconds";
    let series = |suffix: &str| -> Vec<(String, f64)> {
        let prefix = format!("{NAME}_{suffix}{{phase=\"");
        metrics
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(&prefix)?;
                let (phase, value) = rest.split_once("\"}")?;
                Some((phase.to_owned(), value.trim().parse().ok()?))
            })
            .collect()
    };
    let counts = series("count");
    series("sum")
        .into_iter()
        .filter_map(|(phase, sum)| {
            let count = counts.iter().find(|(p, _)| *p == phase)?.1;
            (count > 0.0).then(|| (phase, sum / count * 1000.0))
        })
        .collect()
}

/// A token for `/metrics`, as a Prometheus would have one: a ServiceAccount bound to `get`
/// on the path, its token made for plumb's audience.
fn scraper_token(cluster: &Cluster, namespace: &str) -> String {
    let kubectl = |args: &[&str]| {
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let role = "plumb-bench-metrics";
    let exists = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["get", "clusterrole", role])
        .output()
        .unwrap();
    if !exists.status.success() {
        kubectl(&[
            "create",
            "clusterrole",
            role,
            "--verb=get",
            "--non-resource-url=/metrics",
        ]);
    }
    kubectl(&["-n", namespace, "create", "serviceaccount", "scraper"]);
    kubectl(&[
        "create",
        "clusterrolebinding",
        &format!("{role}-{namespace}"),
        &format!("--clusterrole={role}"),
        &format!("--serviceaccount={namespace}:scraper"),
    ]);
    kubectl(&[
        "-n",
        namespace,
        "create",
        "token",
        "scraper",
        "--audience",
        "plumb",
    ])
}
