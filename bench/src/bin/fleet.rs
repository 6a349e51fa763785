//! The fleet benchmark, in the shape of Flux's MTTP benchmark: `--apps` Applications
//! (100, 500, 1,000), each a small Kustomize app of 10 objects (Deployment, Service,
//! ConfigMaps, Secret, ServiceAccount, Role, RoleBinding, NetworkPolicy,
//! PodDisruptionBudget — no Namespace) from one Git repository served on loopback, synced
//! by `plumb controller` running as a process:
//!
//! - create → all Synced: from creating the Applications until every one reports the
//!   commit applied and in sync, health aside;
//! - create → all Synced and Healthy: until every one is also healthy (a stand-in kubelet
//!   marks Pods Ready, so Deployments become Available);
//! - commit → applied everywhere: a commit to the base every app uses, announced by a
//!   signed GitHub push webhook, until every app reports it applied;
//! - the controller's peak resident memory over the run, and its steady memory once synced;
//! - Kubernetes API requests per app, counted by the controller
//!   (`plumb_kube_api_requests_total`), for the first sync and for the commit.
//!
//! Medians over `--trials` trials (each on a namespace and repository of its own). What
//! the benchmark waits on it reads from a watch, not by listing the apps again and again,
//! which would load the API server it measures.
//!
//! `--tool flux` runs Flux instead (`--tool both`: plumb, then Flux, in each trial), on the
//! same control plane, the same repository layout and the same apps: Flux's
//! source-controller and kustomize-controller as processes (plumb_bench::flux), one
//! GitRepository for the repository (served by `git http-backend`, as Flux speaks no
//! `git://`) and a Kustomization per app (`path` its overlay, `targetNamespace` the
//! trial's namespace, `prune: true`, `wait: true`, interval 1h as plumb's apps):
//!
//! - create → all Ready: until every Kustomization is Ready with the commit as its
//!   lastAppliedRevision — with `wait: true` Flux sets both only once every object it
//!   applied is ready by kstatus (the Deployment Available), as plumb's Healthy;
//! - commit → applied everywhere: the commit is announced as Flux's notification-controller
//!   announces a push webhook a Receiver accepts — `reconcile.fluxcd.io/requestedAt` set on
//!   the GitRepository (notification-controller itself is not run) — until every
//!   Kustomization is Ready with it as lastAppliedRevision;
//! - the two controllers' peak and steady memory, summed and each;
//! - API requests per app: client-go's `rest_client_requests_total` of both controllers.
//!
//! ```text
//! cargo build --release -p plumb -p plumb-bench && \
//! $CARGO_TARGET_DIR/release/fleet [--apps 100] [--trials 3] [--tool plumb|flux|both] [--flux-api-qps N]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one. Flux is built by
//! `PLUMB_FLUX=1 scripts/provision.sh` (scripts/flux.sh); PLUMB_FLUX_DIR names its build.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use plumb_bench::controller::{
    WEBHOOK_SECRET, applications, create_webhook_secret, deliver_github_push, install_plumb_crds,
    metrics_scraper, rss_kib, start_controller,
};
use plumb_bench::flux::{self, Flux};
use plumb_bench::metrics::{api_server_cpu_seconds, sum_of};
use plumb_bench::watched::Watched;
use plumb_bench::{arg, report};
use plumb_testkit::{Author, Cluster, GitServer, WorkTree};
use serde_json::json;

/// How long one phase may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(1800);

/// What one trial measured.
struct Trial {
    /// From creating the apps until all were applied and in sync, health aside (plumb only:
    /// Flux's Ready with `wait: true` tells no such moment).
    applied: Option<Duration>,
    synced: Duration,
    commit: Duration,
    /// The controller's peak memory; for Flux, the peak of the two controllers' sum.
    peak_kib: u64,
    steady_kib: u64,
    /// Each process's own peak and steady memory (for Flux, its two controllers).
    processes: Vec<(&'static str, u64, u64)>,
    requests_sync: f64,
    requests_commit: f64,
    /// The API server's CPU seconds over the first sync and over the commit (`None` when
    /// it does not show them): what the fleet costs the control plane.
    server_cpu: Option<(f64, f64)>,
    /// Mean time per reconcile in each phase, over the whole trial (ms): where it went.
    phases: Vec<(String, f64)>,
}

/// Which GitOps controller a trial runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Plumb,
    Flux,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Plumb => "plumb",
            Tool::Flux => "flux",
        }
    }
}

/// `--tool plumb|flux|both` (default plumb).
fn tools() -> Vec<Tool> {
    let args: Vec<String> = std::env::args().collect();
    let chosen = args
        .iter()
        .position(|a| a == "--tool")
        .and_then(|at| args.get(at + 1))
        .map_or("plumb", String::as_str);
    match chosen {
        "plumb" => vec![Tool::Plumb],
        "flux" => vec![Tool::Flux],
        "both" => vec![Tool::Plumb, Tool::Flux],
        other => panic!("--tool {other}: expected plumb, flux or both"),
    }
}

#[tokio::main]
async fn main() {
    let apps = arg("--apps", 100);
    let trials = arg("--trials", 1);
    let tools = tools();
    let cluster = Cluster::shared().await;
    if tools.contains(&Tool::Plumb) {
        install_plumb_crds(cluster);
    }
    if tools.contains(&Tool::Flux) {
        flux::install_crds(cluster);
    }
    let client = cluster.client().await.unwrap();
    // No kubelet on the test control plane: this marks Pods Ready, as one would.
    let kubelet = tokio::spawn(plumb_testkit::kubelet::run(client.clone()));
    let names: Vec<&str> = tools.iter().map(|tool| tool.name()).collect();
    println!(
        "fleet: {apps} apps of 10 objects, {trials} trial(s), {}",
        names.join(" and ")
    );
    let mut results: Vec<(Tool, Vec<Trial>)> = tools.iter().map(|&t| (t, Vec::new())).collect();
    for number in 1..=trials {
        for (tool, done) in &mut results {
            let trial = match tool {
                Tool::Plumb => trial(cluster, apps).await,
                Tool::Flux => flux_trial(cluster, apps).await,
            };
            println!(
                "  {} trial {number}: synced {:.1} s, commit {:.1} s, peak {} MiB",
                tool.name(),
                trial.synced.as_secs_f64(),
                trial.commit.as_secs_f64(),
                trial.peak_kib / 1024
            );
            done.push(trial);
        }
    }
    kubelet.abort();
    // With plumb alone the report reads as it always has; with Flux each line names its tool.
    let named = tools != [Tool::Plumb];
    for (tool, done) in &results {
        report_tool(*tool, done, apps, named);
    }
    if let [(_, plumb), (_, flux)] = results.as_slice() {
        side_by_side(plumb, flux, apps);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn median_of(trials: &[Trial], f: impl Fn(&Trial) -> f64) -> f64 {
    median(trials.iter().map(f).collect())
}

/// A figure every tool has: its line in the report, its label side by side, its value
/// in a trial, its unit.
struct Figure {
    name: String,
    label: &'static str,
    value: Box<dyn Fn(&Trial) -> f64>,
    unit: &'static str,
}

fn figures(tool: Tool, apps: usize) -> Vec<Figure> {
    let (ready, process) = match tool {
        Tool::Plumb => ("all Synced and Healthy", "controller"),
        Tool::Flux => ("all Ready (wait: true)", "controllers (sum)"),
    };
    let apps = apps as f64;
    let figure = |name: String, label, value: Box<dyn Fn(&Trial) -> f64>, unit| Figure {
        name,
        label,
        value,
        unit,
    };
    vec![
        figure(
            format!("create -> {ready}, median"),
            "create -> all synced and healthy",
            Box::new(|t| t.synced.as_secs_f64()),
            "s",
        ),
        figure(
            "commit -> applied everywhere, median".to_owned(),
            "commit -> applied everywhere",
            Box::new(|t| t.commit.as_secs_f64()),
            "s",
        ),
        figure(
            format!("{process} peak RSS, median"),
            "peak RSS",
            Box::new(|t| t.peak_kib as f64 / 1024.0),
            "MiB",
        ),
        figure(
            format!("{process} steady RSS, median"),
            "steady RSS",
            Box::new(|t| t.steady_kib as f64 / 1024.0),
            "MiB",
        ),
        figure(
            "API requests per app, first sync".to_owned(),
            "API requests per app, first sync",
            Box::new(move |t| t.requests_sync / apps),
            "requests",
        ),
        figure(
            "API requests per app, one commit".to_owned(),
            "API requests per app, one commit",
            Box::new(move |t| t.requests_commit / apps),
            "requests",
        ),
        figure(
            "API server CPU per app, first sync".to_owned(),
            "API server CPU per app, first sync",
            Box::new(move |t| {
                t.server_cpu
                    .map_or(f64::NAN, |(sync, _)| sync * 1000.0 / apps)
            }),
            "ms",
        ),
        figure(
            "API server CPU per app, one commit".to_owned(),
            "API server CPU per app, one commit",
            Box::new(move |t| {
                t.server_cpu
                    .map_or(f64::NAN, |(_, commit)| commit * 1000.0 / apps)
            }),
            "ms",
        ),
    ]
}

fn report_tool(tool: Tool, trials: &[Trial], apps: usize, named: bool) {
    let prefix = if named {
        format!("{}: ", tool.name())
    } else {
        String::new()
    };
    if tool == Tool::Plumb {
        report(
            &format!("{prefix}create -> all Synced, median"),
            median_of(trials, |t| t.applied.map_or(f64::NAN, |d| d.as_secs_f64())),
            "s",
        );
    }
    for figure in figures(tool, apps) {
        report(
            &format!("{prefix}{}", figure.name),
            median_of(trials, &figure.value),
            figure.unit,
        );
    }
    if tool == Tool::Flux {
        for (index, (process, _, _)) in trials[0].processes.iter().enumerate() {
            report(
                &format!("{prefix}{process} peak RSS, median"),
                median_of(trials, |t| t.processes[index].1 as f64 / 1024.0),
                "MiB",
            );
            report(
                &format!("{prefix}{process} steady RSS, median"),
                median_of(trials, |t| t.processes[index].2 as f64 / 1024.0),
                "MiB",
            );
        }
    }
    for (index, (phase, _)) in trials[0].phases.iter().enumerate() {
        report(
            &format!("{prefix}reconcile phase {phase}, mean"),
            median_of(trials, |t| t.phases.get(index).map_or(0.0, |(_, ms)| *ms)),
            "ms",
        );
    }
}

/// plumb and Flux on one line per figure, medians, with Flux's over plumb's.
fn side_by_side(plumb: &[Trial], flux: &[Trial], apps: usize) {
    println!(
        "{:<40} {:>14} {:>14} {:>11}",
        "side by side, medians", "plumb", "flux", "flux/plumb"
    );
    for (ours, theirs) in figures(Tool::Plumb, apps)
        .iter()
        .zip(figures(Tool::Flux, apps))
    {
        let (mine, flux) = (
            median_of(plumb, &ours.value),
            median_of(flux, &theirs.value),
        );
        println!(
            "{:<40} {mine:>14.3} {flux:>14.3} {:>10.1}x {}",
            ours.label,
            flux / mine,
            ours.unit
        );
    }
}

/// Samples the resident memory of `pids` every 250 ms until aborted: the peak of their
/// sum (slot 0) and each one's peak (slots 1..).
fn sample_memory(pids: Vec<u32>) -> (Arc<Vec<AtomicU64>>, tokio::task::JoinHandle<()>) {
    let peaks: Arc<Vec<AtomicU64>> =
        Arc::new((0..=pids.len()).map(|_| AtomicU64::new(0)).collect());
    let sampler = {
        let peaks = Arc::clone(&peaks);
        tokio::spawn(async move {
            loop {
                let each: Vec<u64> = pids.iter().map(|&pid| rss_kib(pid)).collect();
                peaks[0].fetch_max(each.iter().sum(), Ordering::Relaxed);
                for (slot, kib) in each.into_iter().enumerate() {
                    peaks[slot + 1].fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    (peaks, sampler)
}

/// The fleet's repository, served on loopback with its first commit pushed: the same for
/// plumb and Flux.
struct FleetRepo {
    /// Kept for the repository to stay served.
    _git: GitServer,
    repo: plumb_testkit::Repo,
    tree: WorkTree,
    author: Author,
    first: String,
}

impl FleetRepo {
    fn serve(apps: usize) -> FleetRepo {
        let git = GitServer::start().unwrap();
        let repo = git.create_repo("fleet").unwrap();
        let tree = repo.work_tree().unwrap();
        let author = Author::new("Bench", "bench@example.com");
        write_fleet(&tree, apps, "1");
        let first = tree.commit("the fleet", &author).unwrap();
        tree.push().unwrap();
        FleetRepo {
            _git: git,
            repo,
            tree,
            author,
            first,
        }
    }
}

async fn trial(cluster: &Cluster, apps: usize) -> Trial {
    let namespace = cluster.namespace("bench-fleet").await.unwrap();
    let client = cluster.client().await.unwrap();
    let FleetRepo {
        _git,
        repo,
        tree,
        author,
        first,
    } = FleetRepo::serve(apps);

    create_webhook_secret(&client, &namespace).await;
    let scratch = tempfile::tempdir().unwrap();
    let (controller, server) = start_controller(cluster, &namespace, scratch.path());
    let pid = controller.pid();
    let scraper = metrics_scraper(cluster, &namespace, server).await;
    let before = scraper.sum("plumb_kube_api_requests_total");

    // The controller's memory, sampled while it works.
    let (peaks, sampler) = sample_memory(vec![pid]);

    let applications = applications(&client, &namespace);
    let watched = Watched::start(applications.clone());
    let cpu_before = api_server_cpu_seconds(&client).await;
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
    until_all(&watched, apps, &first, false).await;
    let applied = started.elapsed();
    until_all(&watched, apps, &first, true).await;
    let synced = started.elapsed();
    let cpu_synced = api_server_cpu_seconds(&client).await;
    let after_sync = scraper.sum("plumb_kube_api_requests_total");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let steady_kib = rss_kib(pid);

    write_fleet(&tree, apps, "2");
    let second = tree.commit("every app: version 2", &author).unwrap();
    let started = Instant::now();
    tree.push().unwrap();
    let status = deliver_github_push(server, &repo.git_url, WEBHOOK_SECRET);
    assert_eq!(status, 202, "the webhook was not accepted");
    until_all(&watched, apps, &second, false).await;
    let commit = started.elapsed();
    let cpu_committed = api_server_cpu_seconds(&client).await;
    let metrics = scraper.text().expect("the controller's /metrics answers");
    let after_commit = sum_of(&metrics, "plumb_kube_api_requests_total");
    sampler.abort();

    drop(controller);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let _ = namespaces
        .delete(&namespace, &DeleteParams::default())
        .await;
    let peak_kib = peaks[0].load(Ordering::Relaxed);
    Trial {
        applied: Some(applied),
        synced,
        commit,
        peak_kib,
        steady_kib,
        processes: vec![("plumb controller", peak_kib, steady_kib)],
        requests_sync: after_sync - before,
        requests_commit: after_commit - after_sync,
        server_cpu: cpu_spent(cpu_before, cpu_synced, cpu_committed),
        phases: phase_means(&metrics),
    }
}

/// The same trial with Flux: one GitRepository, a Kustomization per app.
async fn flux_trial(cluster: &Cluster, apps: usize) -> Trial {
    let namespace = cluster.namespace("bench-flux").await.unwrap();
    let client = cluster.client().await.unwrap();
    let FleetRepo {
        _git,
        repo,
        tree,
        author,
        first,
    } = FleetRepo::serve(apps);

    let scratch = tempfile::tempdir().unwrap();
    // `--flux-api-qps N` lifts Flux's client-side limit of 50 requests a second.
    let api_qps = Some(arg("--flux-api-qps", 0) as u32).filter(|&qps| qps > 0);
    let mut controllers = Flux::start(cluster, &namespace, scratch.path(), api_qps);
    let pids = vec![controllers.source.pid(), controllers.kustomize.pid()];
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        if let Some(requests) = controllers.api_requests() {
            break requests;
        }
        controllers.check_running();
        assert!(
            Instant::now() < deadline,
            "Flux's metrics never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (peaks, sampler) = sample_memory(pids.clone());

    let sources = flux::git_repositories(&client, &namespace);
    let kustomizations = flux::kustomizations(&client, &namespace);
    let watched = Watched::start(kustomizations.clone());
    let cpu_before = api_server_cpu_seconds(&client).await;
    let started = Instant::now();
    flux::apply(
        &sources,
        &flux::git_repository("fleet", &repo.http_url, "1h"),
    )
    .await;
    // Created 16 at a time, as plumb's Applications are.
    let mut creating = tokio::task::JoinSet::new();
    for index in 0..apps {
        if creating.len() >= 16 {
            creating.join_next().await.unwrap().unwrap();
        }
        let kustomizations = kustomizations.clone();
        let namespace = namespace.clone();
        creating.spawn(async move {
            let name = format!("app-{index}");
            let object =
                flux::kustomization(&name, "fleet", &format!("./apps/{name}"), &namespace, "1h");
            flux::apply(&kustomizations, &object).await;
        });
    }
    while let Some(created) = creating.join_next().await {
        created.unwrap();
    }
    until_all_ready(&mut controllers, &watched, apps, &flux::revision(&first)).await;
    let synced = started.elapsed();
    let cpu_synced = api_server_cpu_seconds(&client).await;
    let after_sync = controllers.api_requests().unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let steady: Vec<u64> = pids.iter().map(|&pid| rss_kib(pid)).collect();

    write_fleet(&tree, apps, "2");
    let second = tree.commit("every app: version 2", &author).unwrap();
    let started = Instant::now();
    tree.push().unwrap();
    flux::request_reconcile(&sources, "fleet").await;
    until_all_ready(&mut controllers, &watched, apps, &flux::revision(&second)).await;
    let commit = started.elapsed();
    let cpu_committed = api_server_cpu_seconds(&client).await;
    let after_commit = controllers.api_requests().unwrap();
    sampler.abort();

    // Stopped first, so that nothing is pruned; then the namespace goes, and with it the
    // Flux objects once their finalizers (which only the stopped controllers would remove)
    // are cleared.
    drop(controllers);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let _ = namespaces
        .delete(&namespace, &DeleteParams::default())
        .await;
    clear_finalizers(&kustomizations).await;
    clear_finalizers(&sources).await;
    Trial {
        applied: None,
        synced,
        commit,
        peak_kib: peaks[0].load(Ordering::Relaxed),
        steady_kib: steady.iter().sum(),
        processes: vec![
            (
                "source-controller",
                peaks[1].load(Ordering::Relaxed),
                steady[0],
            ),
            (
                "kustomize-controller",
                peaks[2].load(Ordering::Relaxed),
                steady[1],
            ),
        ],
        requests_sync: after_sync - before,
        requests_commit: after_commit - after_sync,
        server_cpu: cpu_spent(cpu_before, cpu_synced, cpu_committed),
        phases: Vec::new(),
    }
}

/// The API server's CPU seconds between the three readings, when it gave all three.
fn cpu_spent(
    before: Option<f64>,
    synced: Option<f64>,
    committed: Option<f64>,
) -> Option<(f64, f64)> {
    Some((synced? - before?, committed? - synced?))
}

async fn clear_finalizers(api: &Api<DynamicObject>) {
    let patch = json!({"metadata": {"finalizers": null}});
    for object in api.list(&ListParams::default()).await.unwrap().items {
        if let Some(name) = object.metadata.name {
            let _ = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await;
        }
    }
}

/// Waits until every one of the `apps` Kustomizations is Ready, for its current
/// generation, with `revision` applied.
async fn until_all_ready(controllers: &mut Flux, watched: &Watched, apps: usize, revision: &str) {
    let what = format!("Kustomizations reached {revision}");
    watched
        .until(
            apps,
            PATIENCE,
            &what,
            || controllers.check_running(),
            |kustomization| {
                let status = &kustomization["status"];
                let ready = status["conditions"].as_array().is_some_and(|conditions| {
                    conditions
                        .iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
                ready
                    && status["lastAppliedRevision"] == revision
                    && status["observedGeneration"] == kustomization["metadata"]["generation"]
            },
        )
        .await;
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
async fn until_all(watched: &Watched, apps: usize, commit: &str, healthy: bool) {
    let what = format!("apps reached {commit}");
    watched
        .until(
            apps,
            PATIENCE,
            &what,
            || {},
            |app| {
                let status = &app["status"];
                status["sync"]["status"] == "Synced"
                    && status["sync"]["lastAppliedRevision"] == commit
                    && (!healthy || status["health"]["status"] == "Healthy")
            },
        )
        .await;
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
