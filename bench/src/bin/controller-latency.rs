//! The controller's latencies and footprint, against the test control plane and a real
//! git server, with `plumb controller` running as a process:
//!
//! - commit → applied: push a commit, set the reconcile annotation (what `plumb sync`
//!   does), time until the cluster shows the new value;
//! - push → webhook → applied: push a commit and deliver GitHub's signed push event to the
//!   controller's webhook endpoint, time until the cluster shows the new value;
//! - drift → corrected: change a managed object as a person would, time until plumb has
//!   put it back;
//! - memory: the controller's resident set size managing `--apps` apps of `--objects`
//!   objects each, once all are synced.
//!
//! Medians (and 90th percentiles) over `--trials` trials. Goals: under 1 s each, and
//! under 64 MiB for 50 apps of 20 objects.
//!
//! ```text
//! cargo build --release -p plumb && \
//! cargo run --release -p plumb-bench --bin controller-latency -- [--trials 20] [--apps 50] [--objects 20]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use plumb_bench::{arg, report, run};
use plumb_testkit::process::Supervised;
use plumb_testkit::{Author, Cluster, GitServer};
use serde_json::json;

const POLL: Duration = Duration::from_millis(5);
const WEBHOOK_SECRET: &str = "bench-webhook-secret";

#[tokio::main]
async fn main() {
    let trials = arg("--trials", 20);
    let apps = arg("--apps", 50);
    let objects = arg("--objects", 20);
    let cluster = Cluster::shared().await;
    let plumb = std::env::current_exe().unwrap().with_file_name("plumb");
    assert!(
        plumb.exists(),
        "build the plumb binary first: cargo build --release -p plumb"
    );
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    run(Command::new(&plumb).args([
        "install",
        "--crds-only",
        "--apply",
        "--kubeconfig",
        &kubeconfig,
    ]));
    let namespace = cluster.namespace("bench-controller").await.unwrap();
    let client = cluster.client().await.unwrap();

    let git = GitServer::start().unwrap();
    let repo = git.create_repo("deploy").unwrap();
    let tree = repo.work_tree().unwrap();
    let author = Author::new("Bench", "bench@example.com");
    tree.write("latency/a.yaml", config_map("latency", "0"))
        .unwrap();
    // One object per drift trial: drifting one object again and again within two
    // minutes is a fight with another controller, which plumb backs off from on purpose.
    for trial in 1..=trials {
        tree.write(
            &format!("latency/drift-{trial}.yaml"),
            config_map(&format!("drift-{trial}"), "git"),
        )
        .unwrap();
    }
    for app in 0..apps {
        for object in 0..objects {
            tree.write(
                &format!("fleet/app-{app}/cm-{object}.yaml"),
                config_map(&format!("app-{app}-cm-{object}"), "1"),
            )
            .unwrap();
        }
    }
    tree.commit("initial", &author).unwrap();
    tree.push().unwrap();

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let webhook_secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plumb-webhooks"},
                                "stringData": {"github": WEBHOOK_SECRET}});
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(webhook_secret).unwrap(),
        )
        .await
        .unwrap();
    let server = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let mut command = Command::new(&plumb);
    command
        .args([
            "controller",
            "--watch-namespace",
            &namespace,
            "--kubeconfig",
            &kubeconfig,
        ])
        .arg("--cache-dir")
        .arg(scratch.path().join("cache"))
        .arg("--allow-local-repositories")
        .args([
            "--listen",
            &server.to_string(),
            "--lease-namespace",
            &namespace,
        ]);
    let mut controller = Supervised::spawn(
        "plumb controller",
        command,
        &scratch.path().join("controller.log"),
    )
    .unwrap();

    let applications: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "plumb.dev",
            "v1alpha1",
            "Application",
        )),
    );
    let create = |name: String, path: String| {
        let applications = applications.clone();
        let url = repo.git_url.clone();
        async move {
            let app = json!({
                "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": name},
                "spec": {"source": {"repoURL": url, "revision": "main", "path": path},
                         "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}},
            });
            applications
                .patch(
                    &name,
                    &PatchParams::apply("bench").force(),
                    &Patch::Apply(&app),
                )
                .await
                .unwrap();
        }
    };
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    create("latency".into(), "latency".into()).await;
    wait_value(&config_maps, "latency", "0").await;
    println!("controller-latency: {trials} trials; memory with {apps} apps of {objects} objects");

    let mut commit_to_applied = Vec::new();
    for trial in 1..=trials {
        let value = trial.to_string();
        tree.write("latency/a.yaml", config_map("latency", &value))
            .unwrap();
        tree.commit(&format!("value {value}"), &author).unwrap();
        let started = Instant::now();
        tree.push().unwrap();
        let request = json!({"metadata": {"annotations": {"plumb.dev/reconcile-requested-at": format!("trial-{trial}")}}});
        applications
            .patch("latency", &PatchParams::default(), &Patch::Merge(&request))
            .await
            .unwrap();
        wait_value(&config_maps, "latency", &value).await;
        commit_to_applied.push(started.elapsed());
    }

    let mut push_to_applied = Vec::new();
    let push = json!({"ref": "refs/heads/main", "repository": {"full_name": "org/deploy", "git_url": repo.git_url}})
        .to_string();
    for trial in 1..=trials {
        let value = format!("webhook-{trial}");
        tree.write("latency/a.yaml", config_map("latency", &value))
            .unwrap();
        tree.commit(&format!("value {value}"), &author).unwrap();
        let started = Instant::now();
        tree.push().unwrap();
        let status = deliver_github_push(server, push.as_bytes());
        assert_eq!(status, 202, "the webhook was not accepted");
        wait_value(&config_maps, "latency", &value).await;
        push_to_applied.push(started.elapsed());
    }

    let mut drift_to_corrected = Vec::new();
    for trial in 1..=trials {
        let name = format!("drift-{trial}");
        let drift = json!({"data": {"value": "by hand"}});
        let started = Instant::now();
        config_maps
            .patch(&name, &PatchParams::default(), &Patch::Merge(&drift))
            .await
            .unwrap();
        wait_value(&config_maps, &name, "git").await;
        drift_to_corrected.push(started.elapsed());
    }

    for app in 0..apps {
        create(format!("app-{app}"), format!("fleet/app-{app}")).await;
    }
    for app in 0..apps {
        wait_value(&config_maps, &format!("app-{app}-cm-{}", objects - 1), "1").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = rss_kib(controller.pid());

    report(
        "commit -> applied, median",
        millis(median(&commit_to_applied)),
        "ms",
    );
    report(
        "commit -> applied, p90",
        millis(p90(&commit_to_applied)),
        "ms",
    );
    report(
        "push -> webhook -> applied, median",
        millis(median(&push_to_applied)),
        "ms",
    );
    report(
        "push -> webhook -> applied, p90",
        millis(p90(&push_to_applied)),
        "ms",
    );
    report(
        "drift -> corrected, median",
        millis(median(&drift_to_corrected)),
        "ms",
    );
    report(
        "drift -> corrected, p90",
        millis(p90(&drift_to_corrected)),
        "ms",
    );
    report(
        &format!("controller RSS, {apps} apps x {objects} objects"),
        rss as f64 / 1024.0,
        "MiB",
    );
    controller.stop();
}

/// Posts GitHub's push event, signed as GitHub signs it; returns the status code.
fn deliver_github_push(server: std::net::SocketAddr, body: &[u8]) -> u16 {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, WEBHOOK_SECRET.as_bytes());
    let signature: String = ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut stream = std::net::TcpStream::connect(server).unwrap();
    let head = format!(
        "POST /api/v1/webhooks/github HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nX-GitHub-Event: push\r\n\
         X-Hub-Signature-256: sha256={signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

async fn wait_value(api: &Api<ConfigMap>, name: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(cm)) = api.get_opt(name).await
            && cm
                .data
                .as_ref()
                .and_then(|d| d.get("value"))
                .map(String::as_str)
                == Some(value)
        {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never reached {value}");
        tokio::time::sleep(POLL).await;
    }
}

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"
    )
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(times: &[Duration]) -> Duration {
    percentile(times, 50)
}

fn p90(times: &[Duration]) -> Duration {
    percentile(times, 90)
}

fn percentile(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
