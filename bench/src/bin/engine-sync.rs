//! Sync performance against the test control plane, each figure beside the kubectl command
//! that does the same job, in the same run:
//!
//! (a) first apply of N objects: `plumb apply` vs `kubectl apply --server-side`
//!     (`--validate=false`, as for every kubectl apply here);
//! (b) re-apply with nothing changed: `plumb apply` (a fresh process: no cache), the
//!     engine as the controller runs it (warm cache), vs `kubectl apply --server-side`;
//! (c) diff: `plumb diff` vs `kubectl diff --server-side`;
//! (d) first apply of a Namespace and N ConfigMaps in it (a namespace that does not exist
//!     yet): `plumb apply` vs `kubectl apply --server-side`.
//!
//! First applies also report the API server's CPU per object (its own
//! `process_cpu_seconds_total`): plumb validates every object with a dry-run before the
//! first write, two requests per object where kubectl makes one, so on a control plane
//! short of cores that CPU, not round trips, bounds plumb's time.
//!
//! ```text
//! cargo run --release -p plumb-bench --bin engine-sync -- [--objects N] [--trials N]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use plumb_bench::metrics::api_server_cpu_seconds;
use plumb_bench::{arg, report, run, run_diff};
use plumb_engine::{AppId, Engine, Inventory, PlanOptions};
use plumb_render::{RenderOptions, render};
use plumb_testkit::Cluster;

#[tokio::main]
async fn main() {
    let objects = arg("--objects", 1_000);
    let trials = arg("--trials", 3);
    let cluster = Cluster::shared().await;
    let plumb_bin = std::env::current_exe().unwrap().with_file_name("plumb");
    assert!(
        plumb_bin.exists(),
        "build the plumb binary first: cargo build --release -p plumb"
    );
    let admin = cluster.client().await.unwrap();
    quiet(&admin).await;
    let repo = tempfile::tempdir().unwrap();
    write_objects(repo.path(), objects);
    println!("engine-sync: {objects} objects, median of {trials} trials");

    let mut first = Figures::default();
    let mut noop = Figures::default();
    let mut diff = Figures::default();
    let mut fresh = Figures::default();
    let mut namespaces = Vec::new();
    for trial in 0..trials {
        let ours = cluster
            .namespace(&format!("bench-plumb-{trial}"))
            .await
            .unwrap();
        let theirs = cluster
            .namespace(&format!("bench-kubectl-{trial}"))
            .await
            .unwrap();
        namespaces.extend([ours.clone(), theirs.clone()]);
        let plumb = |verb: &str, namespace: &str| {
            let mut command = Command::new(&plumb_bin);
            command
                .args([verb, "app", "--app", "bench", "-n", namespace, "--root"])
                .arg(repo.path())
                .env("KUBECONFIG", &cluster.kubeconfig);
            command
        };
        // Applies run with `--validate=false` (`kubectl diff` has no such flag and does not
        // validate): plumb leaves validation to the API server's dry-run, and
        // kubectl 1.32 validating against a 1.37 server spends 10 of 10.6 s on 300 objects
        // fetching schemas (1.2 s against 1.20) — that would measure kubectl, not the work.
        let kubectl = |verb: &[&str], namespace: &str| {
            let mut command = Command::new("kubectl");
            command
                .args(verb)
                .args(["--server-side", "-n", namespace, "-f"])
                .arg(repo.path().join("app"))
                .env("KUBECONFIG", &cluster.kubeconfig);
            command
        };
        let cpu = ApiServerCpu::start(&admin).await;
        first.plumb.push(time(|| run(&mut plumb("apply", &ours))));
        first
            .plumb_cpu
            .extend(cpu.per_object(&admin, objects).await);
        let cpu = ApiServerCpu::start(&admin).await;
        first.kubectl.push(time(|| {
            run(&mut kubectl(
                &["apply", "--validate=false", "--field-manager=kubectl-bench"],
                &theirs,
            ))
        }));
        first
            .kubectl_cpu
            .extend(cpu.per_object(&admin, objects).await);
        // Nothing changed means the cluster is done with the first apply too: its
        // controllers create a ReplicaSet for each Deployment and write its status.
        settle(cluster, &[&ours, &theirs]).await;
        noop.plumb.push(time(|| run(&mut plumb("apply", &ours))));
        noop.kubectl.push(time(|| {
            run(&mut kubectl(
                &["apply", "--validate=false", "--field-manager=kubectl-bench"],
                &theirs,
            ))
        }));
        noop.warm.push(warm_noop(cluster, repo.path(), &ours).await);
        diff.plumb
            .push(time(|| run_diff(&mut plumb("diff", &ours))));
        diff.kubectl.push(time(|| {
            run_diff(&mut kubectl(
                &["diff", "--field-manager=kubectl-bench"],
                &theirs,
            ))
        }));
    }
    for trial in 0..trials {
        let names = [
            format!("bench-fresh-{}-{trial}-p", std::process::id()),
            format!("bench-fresh-{}-{trial}-k", std::process::id()),
        ];
        let dirs = names.clone().map(|name| {
            let dir = repo.path().join(&name);
            write_fresh_namespace(&dir, &name, objects);
            dir
        });
        let cpu = ApiServerCpu::start(&admin).await;
        fresh.plumb.push(time(|| {
            run(Command::new(&plumb_bin)
                .args(["apply", "--app", &names[0], "--root"])
                .arg(repo.path())
                .arg(&names[0])
                .env("KUBECONFIG", &cluster.kubeconfig))
        }));
        fresh
            .plumb_cpu
            .extend(cpu.per_object(&admin, objects).await);
        let cpu = ApiServerCpu::start(&admin).await;
        fresh.kubectl.push(time(|| {
            run(Command::new("kubectl")
                .args([
                    "apply",
                    "--server-side",
                    "--validate=false",
                    "--field-manager=kubectl-bench",
                    "-f",
                ])
                .arg(&dirs[1])
                .env("KUBECONFIG", &cluster.kubeconfig))
        }));
        fresh
            .kubectl_cpu
            .extend(cpu.per_object(&admin, objects).await);
        namespaces.extend(names);
    }
    // Thousands of objects left behind would slow whatever shares the control plane.
    let _ = Command::new("kubectl")
        .args(["delete", "namespace", "--wait=false"])
        .args(&namespaces)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output();
    first.report("(a) first apply");
    noop.report("(b) no-op re-apply");
    diff.report("(c) diff");
    fresh.report("(d) first apply into a new namespace");
}

#[derive(Default)]
struct Figures {
    plumb: Vec<Duration>,
    warm: Vec<Duration>,
    kubectl: Vec<Duration>,
    /// The API server's CPU seconds per object while each ran.
    plumb_cpu: Vec<f64>,
    kubectl_cpu: Vec<f64>,
}

/// The API server's CPU time at the start of a run.
struct ApiServerCpu(Option<f64>);

impl ApiServerCpu {
    async fn start(admin: &kube::Client) -> Self {
        ApiServerCpu(api_server_cpu_seconds(admin).await)
    }

    /// Its CPU seconds per object since the start; `None` when it cannot be read.
    async fn per_object(self, admin: &kube::Client, objects: usize) -> Option<f64> {
        let end = api_server_cpu_seconds(admin).await?;
        Some((end - self.0?) / objects as f64)
    }
}

impl Figures {
    fn report(&self, name: &str) {
        let kubectl = median(&self.kubectl);
        let plumb = median(&self.plumb);
        report(&format!("{name}: plumb"), plumb * 1000.0, "ms");
        report(
            &format!("{name}: kubectl --server-side"),
            kubectl * 1000.0,
            "ms",
        );
        report(
            &format!("{name}: ratio plumb/kubectl"),
            plumb / kubectl,
            "x",
        );
        if !self.plumb_cpu.is_empty() && !self.kubectl_cpu.is_empty() {
            let plumb_cpu = median_of(self.plumb_cpu.clone());
            let kubectl_cpu = median_of(self.kubectl_cpu.clone());
            report(
                &format!("{name}: API server CPU per object, plumb"),
                plumb_cpu * 1000.0,
                "ms",
            );
            report(
                &format!("{name}: API server CPU per object, kubectl"),
                kubectl_cpu * 1000.0,
                "ms",
            );
        }
        if !self.warm.is_empty() {
            let warm = median(&self.warm);
            report(&format!("{name}: engine, warm cache"), warm * 1000.0, "ms");
            report(&format!("{name}: ratio warm/kubectl"), warm / kubectl, "x");
        }
    }
}

fn median(times: &[Duration]) -> f64 {
    median_of(times.iter().map(Duration::as_secs_f64).collect())
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn time(job: impl FnOnce()) -> Duration {
    let started = Instant::now();
    job();
    started.elapsed()
}

/// Waits (up to five minutes) for the namespaces an earlier run left terminating to go:
/// deleting their thousands of objects keeps the API server busy, and a run measured
/// meanwhile measures that too.
async fn quiet(admin: &kube::Client) {
    let api: kube::Api<Namespace> = kube::Api::all(admin.clone());
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let list = api.list(&Default::default()).await.unwrap();
        let terminating = list
            .items
            .iter()
            .filter(|ns| ns.metadata.deletion_timestamp.is_some())
            .count();
        if terminating == 0 {
            return;
        }
        if Instant::now() > deadline {
            println!("note: {terminating} namespaces are still being deleted; figures include it");
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Waits (up to five minutes) until kube-controller-manager has caught up with every
/// Deployment in `namespaces`.
async fn settle(cluster: &Cluster, namespaces: &[&str]) {
    let client = cluster.client().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    for namespace in namespaces {
        let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), namespace);
        loop {
            let list = api.list(&Default::default()).await.unwrap();
            let behind = list
                .items
                .iter()
                .filter(|d| {
                    d.status.as_ref().and_then(|s| s.observed_generation) < d.metadata.generation
                })
                .count();
            if behind == 0 {
                break;
            }
            if Instant::now() > deadline {
                println!("note: {behind} Deployments in {namespace} still unobserved");
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// A plan and apply by an engine that has already synced the app once, as the controller
/// keeps one: what a reconcile costs when nothing changed.
async fn warm_noop(cluster: &Cluster, repo: &Path, namespace: &str) -> Duration {
    let config = cluster.config_as(plumb_testkit::ADMIN).await.unwrap();
    let engine = Engine::new(plumb_engine::client::client(config).unwrap())
        .await
        .unwrap();
    let desired = render(repo, "app", &RenderOptions::default())
        .unwrap()
        .objects;
    let app = AppId::new("bench");
    // As the controller runs it: its watches cover later changes, so lists may come from
    // the API server's watch cache.
    let options = PlanOptions {
        default_namespace: Some(namespace.to_owned()),
        cached_reads: true,
        ..PlanOptions::default()
    };
    let plan = engine
        .plan(&app, &desired, &Inventory::default(), &options)
        .await
        .unwrap();
    let _ = engine.apply(&plan, &Default::default()).await;
    let started = Instant::now();
    let plan = engine
        .plan(&app, &desired, &Inventory::default(), &options)
        .await
        .unwrap();
    let result = engine.apply(&plan, &Default::default()).await;
    let elapsed = started.elapsed();
    assert!(plan.is_in_sync() && result.succeeded());
    elapsed
}

/// ConfigMaps, Services and Deployments in turn, ten to a file.
/// A Namespace named `namespace` and `objects` ConfigMaps in it, in one file of `dir`.
fn write_fresh_namespace(dir: &Path, namespace: &str, objects: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut text = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n");
    for index in 0..objects {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{index}, namespace: {namespace}}}\ndata: {{k: \"{index}\"}}\n"
        ));
    }
    std::fs::write(dir.join("all.yaml"), text).unwrap();
}

fn write_objects(root: &Path, objects: usize) {
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    for file in 0..objects.div_ceil(10) {
        let mut text = String::new();
        for index in file * 10..((file + 1) * 10).min(objects) {
            text.push_str(&match index % 3 {
                0 => format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{index}}}\ndata: {{k: \"{index}\"}}\n"),
                1 => format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{index}}}\nspec: {{selector: {{app: d{index}}}, ports: [{{port: 80, protocol: TCP}}]}}\n"),
                _ => format!(
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{index}}}\nspec:\n  replicas: 0\n  selector: {{matchLabels: {{app: d{index}}}}}\n  template:\n    metadata: {{labels: {{app: d{index}}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
                ),
            });
        }
        std::fs::write(app.join(format!("m{file:04}.yaml")), text).unwrap();
    }
}
