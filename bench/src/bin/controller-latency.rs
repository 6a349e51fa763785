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
//!   objects each, once all are synced;
//! - with `--remote-cluster 1`: a second control plane registered as a cluster, drift →
//!   corrected there, and the memory with the fleet applied to both clusters.
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

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use plumb_bench::controller::{
    WEBHOOK_SECRET, applications, config_map, create_webhook_secret, deliver_github_push,
    install_plumb_crds, rss_kib, start_controller, wait_value,
};
use plumb_bench::{arg, report};
use plumb_testkit::{ADMIN, Author, Cluster, ControlPlane, GitServer};
use serde_json::json;

#[tokio::main]
async fn main() {
    let trials = arg("--trials", 20);
    let apps = arg("--apps", 50);
    let objects = arg("--objects", 20);
    let remote = arg("--remote-cluster", 0) > 0;
    let cluster = Cluster::shared().await;
    install_plumb_crds(cluster);
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

    create_webhook_secret(&client, &namespace).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let scratch = tempfile::tempdir().unwrap();
    let (mut controller, server) = start_controller(cluster, &namespace, scratch.path());

    let applications = applications(&client, &namespace);
    let create = |name: String, path: String, destination: serde_json::Value| {
        let applications = applications.clone();
        let url = repo.git_url.clone();
        async move {
            let app = json!({
                "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": name},
                "spec": {"source": {"repoURL": url, "revision": "main", "path": path},
                         "destination": destination,
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
    create("latency".into(), "latency".into(), json!({})).await;
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
    for trial in 1..=trials {
        let value = format!("webhook-{trial}");
        tree.write("latency/a.yaml", config_map("latency", &value))
            .unwrap();
        tree.commit(&format!("value {value}"), &author).unwrap();
        let started = Instant::now();
        tree.push().unwrap();
        let status = deliver_github_push(server, &repo.git_url, WEBHOOK_SECRET);
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
        create(format!("app-{app}"), format!("fleet/app-{app}"), json!({})).await;
    }
    for app in 0..apps {
        wait_value(&config_maps, &format!("app-{app}-cm-{}", objects - 1), "1").await;
    }

    // A second cluster, registered in this namespace (the controller's here): drift there
    // is seen through its own watch, and the fleet doubles across the two clusters.
    let mut remote_drift = Vec::new();
    let _remote_plane = if remote {
        let plane = ControlPlane::start().await.unwrap();
        let remote_cluster = plane.cluster().clone();
        let remote_namespace = remote_cluster.namespace("bench-remote").await.unwrap();
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "remote", "labels": {"plumb.dev/cluster": "true"}},
            "stringData": {"server": remote_cluster.server, "token": remote_cluster.token(ADMIN).unwrap(),
                           "ca.crt": std::fs::read_to_string(&remote_cluster.ca_file).unwrap()}});
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(secret).unwrap(),
            )
            .await
            .unwrap();
        let destination = json!({"cluster": "remote", "namespace": remote_namespace});
        let remote_config_maps: Api<ConfigMap> =
            Api::namespaced(remote_cluster.client().await.unwrap(), &remote_namespace);
        create(
            "latency-remote".into(),
            "latency".into(),
            destination.clone(),
        )
        .await;
        for trial in 1..=trials {
            wait_value(&remote_config_maps, &format!("drift-{trial}"), "git").await;
        }
        for trial in 1..=trials {
            let name = format!("drift-{trial}");
            let drift = json!({"data": {"value": "by hand"}});
            let started = Instant::now();
            remote_config_maps
                .patch(&name, &PatchParams::default(), &Patch::Merge(&drift))
                .await
                .unwrap();
            wait_value(&remote_config_maps, &name, "git").await;
            remote_drift.push(started.elapsed());
        }
        for app in 0..apps {
            let path = format!("fleet/app-{app}");
            create(format!("app-{app}-remote"), path, destination.clone()).await;
        }
        for app in 0..apps {
            wait_value(
                &remote_config_maps,
                &format!("app-{app}-cm-{}", objects - 1),
                "1",
            )
            .await;
        }
        Some(plane)
    } else {
        None
    };
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
    if remote {
        report(
            "drift -> corrected, remote cluster, median",
            millis(median(&remote_drift)),
            "ms",
        );
        report(
            "drift -> corrected, remote cluster, p90",
            millis(p90(&remote_drift)),
            "ms",
        );
    }
    let clusters = if remote { "2 clusters x " } else { "" };
    report(
        &format!("controller RSS, {clusters}{apps} apps x {objects} objects"),
        rss as f64 / 1024.0,
        "MiB",
    );
    controller.stop();
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
