//! The controller under churn for a long time: `--apps` apps of `--objects` objects, and for
//! `--seconds` (default 30 minutes) a commit with its signed webhook every few seconds, a
//! person's drift every other second, and forged webhook deliveries between them. Its
//! resident set and open file descriptors are sampled every ten seconds; what a person
//! compares across commits is their growth from the first sample after warm-up to the last
//! (flat is the goal), the peak, and that every change still converged.
//!
//! ```text
//! cargo build --release -p plumb && \
//! cargo run --release -p plumb-bench --bin soak -- [--seconds 1800] [--apps 50] [--objects 10]
//! ```
//! Uses the control plane named by PLUMB_TEST_CLUSTER, or starts one.
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_bench::controller::{
    WEBHOOK_SECRET, applications, config_map, create_webhook_secret, deliver_github_push,
    install_plumb_crds, open_fds, rss_kib, start_controller, wait_value,
};
use plumb_bench::{arg, report};
use plumb_testkit::{Author, Cluster, GitServer};
use serde_json::json;

/// How often the footprint is sampled, and how long the warm-up before the first sample
/// that counts.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const WARM_UP: Duration = Duration::from_secs(20);
/// The churn: a commit (and its webhook) every `COMMIT_EVERY`, a drift every tick.
const TICK: Duration = Duration::from_secs(2);
const COMMIT_EVERY: u32 = 3;

#[derive(Clone, Copy)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    fds: usize,
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 1800) as u64;
    let apps = arg("--apps", 50);
    let objects = arg("--objects", 10);
    let cluster = Cluster::shared().await;
    install_plumb_crds(cluster);
    let namespace = cluster.namespace("bench-soak").await.unwrap();
    let client = cluster.client().await.unwrap();

    let git = GitServer::start().unwrap();
    let repo = git.create_repo("deploy").unwrap();
    let tree = repo.work_tree().unwrap();
    let author = Author::new("Bench", "bench@example.com");
    let name = |app: usize, object: usize| format!("app-{app}-cm-{object}");
    for app in 0..apps {
        for object in 0..objects {
            let path = format!("fleet/app-{app}/cm-{object}.yaml");
            tree.write(&path, config_map(&name(app, object), "0"))
                .unwrap();
        }
    }
    tree.commit("initial", &author).unwrap();
    tree.push().unwrap();
    create_webhook_secret(&client, &namespace).await;
    let scratch = tempfile::tempdir().unwrap();
    let (mut controller, server) = start_controller(cluster, &namespace, scratch.path());
    let pid = controller.pid();

    let applications = applications(&client, &namespace);
    for app in 0..apps {
        let app_name = format!("app-{app}");
        let application = json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": app_name},
            "spec": {"source": {"repoURL": repo.git_url, "revision": "main", "path": format!("fleet/app-{app}")},
                     "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}},
        });
        applications
            .patch(
                &app_name,
                &PatchParams::apply("bench").force(),
                &Patch::Apply(&application),
            )
            .await
            .unwrap();
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    for app in 0..apps {
        wait_value(&config_maps, &name(app, objects - 1), "0").await;
    }
    println!("soak: {apps} apps x {objects} objects for {seconds}s of commits, webhooks and drift");

    // The churn. Each commit changes one object of one app (the next in turn), so every
    // app's revision moves and is rendered and applied again; each drift changes the next
    // object by hand, so no object is corrected often enough to look like a fight.
    let started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_sample = WARM_UP;
    let (mut commits, mut drifts, mut forged) = (0usize, 0usize, 0usize);
    let mut values = vec![0usize; apps * objects];
    let mut tick = 0u32;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick += 1;
        if tick.is_multiple_of(COMMIT_EVERY) {
            let slot = commits % values.len();
            values[slot] += 1;
            let (app, object) = (slot % apps, (slot / apps) % objects);
            let path = format!("fleet/app-{app}/cm-{object}.yaml");
            tree.write(
                &path,
                config_map(&name(app, object), &values[slot].to_string()),
            )
            .unwrap();
            tree.commit(&format!("churn {commits}"), &author).unwrap();
            tree.push().unwrap();
            assert_eq!(
                deliver_github_push(server, &repo.git_url, WEBHOOK_SECRET),
                202
            );
            commits += 1;
        } else {
            assert_eq!(deliver_github_push(server, &repo.git_url, "forged"), 401);
            forged += 1;
        }
        let slot = (drifts * 7 + 3) % values.len();
        let drift = json!({"data": {"value": "by hand"}});
        config_maps
            .patch(
                &name(slot % apps, (slot / apps) % objects),
                &PatchParams::default(),
                &Patch::Merge(&drift),
            )
            .await
            .unwrap();
        drifts += 1;
        if started.elapsed() >= next_sample {
            samples.push(Sample {
                at: started.elapsed(),
                rss_kib: rss_kib(pid),
                fds: open_fds(pid),
            });
            next_sample += SAMPLE_EVERY;
        }
        tokio::time::sleep(TICK).await;
    }

    // Everything converged: every object holds its last committed value.
    let settle = Instant::now();
    for (slot, value) in values.iter().enumerate() {
        wait_value(
            &config_maps,
            &name(slot % apps, (slot / apps) % objects),
            &value.to_string(),
        )
        .await;
    }
    let settled = settle.elapsed();
    samples.push(Sample {
        at: started.elapsed(),
        rss_kib: rss_kib(pid),
        fds: open_fds(pid),
    });
    controller.stop();

    let first = samples[0];
    let last = samples[samples.len() - 1];
    let peak_rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let peak_fds = samples.iter().map(|s| s.fds).max().unwrap_or(0);
    let mib = |kib: u64| kib as f64 / 1024.0;
    report("commits (each with a signed webhook)", commits as f64, "");
    report("drifts by hand", drifts as f64, "");
    report("forged webhooks refused", forged as f64, "");
    report("converged after the churn in", settled.as_secs_f64(), "s");
    report(
        &format!("RSS after warm-up ({}s)", first.at.as_secs()),
        mib(first.rss_kib),
        "MiB",
    );
    report("RSS at the end", mib(last.rss_kib), "MiB");
    report("RSS peak", mib(peak_rss), "MiB");
    report(
        "RSS growth per 10 minutes",
        mib(last.rss_kib.saturating_sub(first.rss_kib)) * 600.0
            / (last.at - first.at).as_secs_f64().max(1.0),
        "MiB",
    );
    // The curve, in quarters: growth that levels off is caches filling, growth that does
    // not is a leak.
    for quarter in 1..=3 {
        let at = first.at + (last.at - first.at) * quarter / 4;
        if let Some(sample) = samples.iter().find(|s| s.at >= at) {
            report(
                &format!("RSS at {}s", sample.at.as_secs()),
                mib(sample.rss_kib),
                "MiB",
            );
        }
    }
    report("open fds after warm-up", first.fds as f64, "");
    report("open fds at the end", last.fds as f64, "");
    report("open fds peak", peak_fds as f64, "");
}
