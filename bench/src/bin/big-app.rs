//! One Application of `--objects` objects (default 10,000) — ConfigMaps, Secrets,
//! ServiceAccounts and Services, one file per ten, as a large app's folder is — synced by
//! `plumb controller` running as a process:
//!
//! - first sync: from creating the Application until it reports the commit applied, in
//!   sync and healthy; beside it, `kubectl apply --server-side` of the same files into a
//!   namespace of its own (the baseline, and the ratio);
//! - no-op reconcile: a reconcile requested (`plumb.dev/reconcile-requested-at`, what
//!   `plumb sync` sets) with nothing changed, until the status says it was handled;
//! - one-object change: a commit changing one ConfigMap, pushed and requested, until the
//!   cluster shows the new value;
//! - the controller's peak resident memory over the run, and its steady memory once synced;
//! - Kubernetes API requests made by the controller for the first sync and per no-op
//!   reconcile (`plumb_kube_api_requests_total`).
//!
//! The first sync and the baseline run `--trials` times (each on namespaces of its own, with
//! a fresh controller); the no-op and one-object figures are medians over `--repeats`
//! repeats within each trial.
//!
//! ```text
//! cargo build --release -p plumb && \
//! cargo run --release -p plumb-bench --bin big-app -- [--objects 10000] [--trials 1] [--repeats 5]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use plumb_bench::controller::{
    applications, config_map, create_webhook_secret, install_plumb_crds, metrics_scraper, rss_kib,
    start_controller, wait_value,
};
use plumb_bench::{arg, report, run};
use plumb_testkit::{Author, Cluster, GitServer, WorkTree};
use serde_json::{Value, json};

/// How long the first sync may take before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(1800);

/// What one trial measured.
struct Trial {
    first_sync: Duration,
    kubectl: Duration,
    no_op: Duration,
    one_object: Duration,
    peak_kib: u64,
    steady_kib: u64,
    requests_first_sync: f64,
    requests_no_op: f64,
}

#[tokio::main]
async fn main() {
    let objects = arg("--objects", 10_000).div_ceil(10) * 10;
    let trials = arg("--trials", 1);
    let repeats = arg("--repeats", 5);
    // `--kubectl 0` leaves the baseline out (it takes minutes at 10,000 objects), to
    // iterate on plumb's own figures or to profile the controller.
    let baseline = arg("--kubectl", 1) > 0;
    let cluster = Cluster::shared().await;
    install_plumb_crds(cluster);
    println!(
        "big-app: one Application of {objects} objects, {trials} trial(s), {repeats} repeats each"
    );
    let mut results = Vec::new();
    for _ in 0..trials {
        results.push(trial(cluster, objects, repeats, baseline).await);
    }
    let median = |f: &dyn Fn(&Trial) -> f64| {
        let mut values: Vec<f64> = results.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    report(
        "first sync (create → Synced, Healthy)",
        median(&|t| t.first_sync.as_secs_f64()),
        "s",
    );
    if baseline {
        report(
            "baseline: kubectl apply --server-side",
            median(&|t| t.kubectl.as_secs_f64()),
            "s",
        );
        report(
            "ratio first sync / kubectl",
            median(&|t| t.first_sync.as_secs_f64() / t.kubectl.as_secs_f64()),
            "x",
        );
    }
    report(
        "no-op reconcile (requested → handled)",
        median(&|t| t.no_op.as_secs_f64() * 1000.0),
        "ms",
    );
    report(
        "one-object change (push → applied)",
        median(&|t| t.one_object.as_secs_f64() * 1000.0),
        "ms",
    );
    report(
        "controller peak RSS",
        median(&|t| t.peak_kib as f64 / 1024.0),
        "MiB",
    );
    report(
        "controller steady RSS (synced)",
        median(&|t| t.steady_kib as f64 / 1024.0),
        "MiB",
    );
    report(
        "API requests, first sync",
        median(&|t| t.requests_first_sync),
        "requests",
    );
    report(
        "API requests per no-op reconcile",
        median(&|t| t.requests_no_op),
        "requests",
    );
}

async fn trial(cluster: &Cluster, objects: usize, repeats: usize, baseline: bool) -> Trial {
    let namespace = cluster.namespace("bench-big-app").await.unwrap();
    let destination = cluster.namespace("bench-big-app-objects").await.unwrap();
    let client = cluster.client().await.unwrap();
    let git = GitServer::start().unwrap();
    let repo = git.create_repo("big").unwrap();
    let tree = repo.work_tree().unwrap();
    let author = Author::new("Bench", "bench@example.com");
    write_app(&tree, objects);
    tree.write("app/changing.yaml", config_map("changing", "0"))
        .unwrap();
    let first = tree.commit("a big app", &author).unwrap();
    tree.push().unwrap();

    create_webhook_secret(&client, &namespace).await;
    let scratch = tempfile::tempdir().unwrap();
    let (controller, server) = start_controller(cluster, &namespace, scratch.path());
    let pid = controller.pid();
    let scraper = metrics_scraper(cluster, &namespace, server).await;
    let requests = || scraper.sum("plumb_kube_api_requests_total");
    let before = requests();

    // The controller's memory, sampled while it works.
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let applications = applications(&client, &namespace);
    let started = Instant::now();
    let app = json!({
        "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "big"},
        "spec": {"source": {"repoURL": repo.git_url, "revision": "main", "path": "app"},
                 "destination": {"namespace": destination},
                 "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}},
    });
    applications
        .patch(
            "big",
            &PatchParams::apply("bench").force(),
            &Patch::Apply(&app),
        )
        .await
        .unwrap();
    until(&applications, PATIENCE, |status| {
        status["sync"]["status"] == "Synced"
            && status["sync"]["lastAppliedRevision"] == first.as_str()
            && status["health"]["status"] == "Healthy"
    })
    .await;
    let first_sync = started.elapsed();
    let requests_first_sync = requests() - before;

    // The baseline: the same files, applied by kubectl into a namespace of its own.
    let kubectl_namespace = cluster.namespace("bench-big-app-kubectl").await.unwrap();
    let started = Instant::now();
    if baseline {
        run(Command::new("kubectl")
            .args([
                "apply",
                "--server-side",
                "--field-manager=bench",
                "--recursive",
            ])
            .args(["--kubeconfig", &cluster.kubeconfig.to_string_lossy()])
            .args(["-n", &kubectl_namespace, "-f"])
            .arg(tree.path().join("app")));
    }
    let kubectl = started.elapsed();

    tokio::time::sleep(Duration::from_secs(5)).await;
    let steady_kib = rss_kib(pid);

    let mut no_ops = Vec::new();
    let mut no_op_requests = Vec::new();
    for repeat in 0..repeats {
        let token = format!("no-op-{repeat}");
        let before = requests();
        let started = Instant::now();
        request_reconcile(&applications, &token).await;
        until(&applications, Duration::from_secs(300), |status| {
            status["lastHandledReconcileAt"] == token.as_str()
        })
        .await;
        no_ops.push(started.elapsed());
        // The status patch that says "handled" lands before its request is counted.
        tokio::time::sleep(Duration::from_millis(200)).await;
        no_op_requests.push(requests() - before);
    }

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &destination);
    let mut one_object = Vec::new();
    for repeat in 1..=repeats {
        let value = repeat.to_string();
        tree.write("app/changing.yaml", config_map("changing", &value))
            .unwrap();
        tree.commit(&format!("changing: {value}"), &author).unwrap();
        let started = Instant::now();
        tree.push().unwrap();
        request_reconcile(&applications, &format!("change-{repeat}")).await;
        wait_value(&config_maps, "changing", &value).await;
        one_object.push(started.elapsed());
    }
    sampler.abort();
    drop(controller);

    let namespaces: Api<Namespace> = Api::all(client);
    for name in [&namespace, &destination, &kubectl_namespace] {
        let _ = namespaces.delete(name, &DeleteParams::default()).await;
    }
    Trial {
        first_sync,
        kubectl,
        no_op: median(no_ops),
        one_object: median(one_object),
        peak_kib: peak.load(Ordering::Relaxed),
        steady_kib,
        requests_first_sync,
        requests_no_op: {
            let mut values = no_op_requests;
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        },
    }
}

/// The app's folder: one file per ten objects — six ConfigMaps, two Secrets, a
/// ServiceAccount and a Service.
fn write_app(tree: &WorkTree, objects: usize) {
    for group in 0..objects / 10 {
        let mut text = String::new();
        for index in 0..6 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{group}-{index}\n  labels: {{group: g{group}}}\ndata:\n  mode: production\n  replicas: \"{index}\"\n"
            ));
        }
        for index in 0..2 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: credentials-{group}-{index}\ntype: Opaque\nstringData:\n  token: not-a-real-token-{group}-{index}\n"
            ));
        }
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: worker-{group}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: worker-{group}\nspec:\n  selector: {{group: g{group}}}\n  ports:\n  - {{port: 80, targetPort: 8080, protocol: TCP}}\n"
        ));
        tree.write(&format!("app/group-{group}.yaml"), text)
            .unwrap();
    }
}

async fn request_reconcile(applications: &Api<DynamicObject>, token: &str) {
    let request = json!({"metadata": {"annotations": {"plumb.dev/reconcile-requested-at": token}}});
    applications
        .patch("big", &PatchParams::default(), &Patch::Merge(&request))
        .await
        .unwrap();
}

/// Waits until the Application's status satisfies `done`.
async fn until(
    applications: &Api<DynamicObject>,
    patience: Duration,
    done: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + patience;
    loop {
        let app = applications.get("big").await.unwrap();
        let status = app.data.get("status").cloned().unwrap_or(Value::Null);
        if done(&status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Application did not get there in {patience:?}: sync {}, health {}, message {}",
            status["sync"]["status"],
            status["health"]["status"],
            status["conditions"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
