//! People use the dashboard in a browser: Debian's headless Chromium, driven by
//! `playwright-core` (`tests/browser/dashboard.spec.mjs`), against `plumb controller` on the
//! real control plane. They log in with a ServiceAccount token, see every application's
//! state, follow one's resource tree down to its Pods, see a `kubectl` edit as drift with its
//! diff and field manager, watch a pushed commit arrive without reloading, and sync, suspend,
//! resume and roll back, see apps grouped by the cluster they apply to (one unreachable,
//! flagged) — while a read-only token sees no buttons and is refused by the API,
//! as is a click on Sync once RBAC has taken `patch` away.
//!
//! The screenshots of each step are kept in `target/browser-artifacts/` (the target
//! directory of the build).

mod support;

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::http::{free_address, until_ready};
use support::{World, bob, text};

/// Where the node side lives, from the workspace root.
const BROWSER_TESTS: &str = "tests/browser";
/// Debian's chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole browser session, generously: it takes about half a minute.
const BROWSER_PATIENCE: Duration = Duration::from_secs(300);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<target dir>/browser-artifacts`, next to the binaries under test.
fn artifacts() -> PathBuf {
    let plumb = Path::new(env!("CARGO_BIN_EXE_plumb"));
    let target = plumb.parent().and_then(Path::parent).unwrap();
    target.join("browser-artifacts")
}

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  \
         selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    \
         spec:\n      containers:\n      - {{name: {name}, image: \"nginx:1.27\"}}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: {name}}}\n  \
         ports: [{{port: 80}}]\n"
    )
}

fn settings(name: &str, color: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  color: {color}\n")
}

/// The browser's playwright-core, installed from the committed lock file when missing.
fn node_modules() {
    let dir = workspace().join(BROWSER_TESTS);
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser tests run Debian's chromium package (bash scripts/provision.sh installs it)"
    );
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .expect("npm is needed for the browser tests (Debian's nodejs and npm)");
    assert!(
        out.status.success(),
        "npm ci in {} failed:\n{}",
        dir.display(),
        text(&out)
    );
}

#[tokio::test]
async fn the_dashboard_shows_and_operates_applications_in_a_real_browser() {
    node_modules();
    let mut world = World::new(
        "dashboard",
        &[
            ("shop/web.yaml", &deployment("web", 2)),
            ("shop/settings.yaml", &settings("settings", "blue")),
            (
                "manual/settings.yaml",
                &settings("manual-settings", "plain"),
            ),
        ],
    )
    .await;
    // No kubelet on the control plane: this marks Pods Ready, so the Deployment turns
    // Healthy. (It marks every Pod of the cluster; this test binary runs alone.)
    let kubelet = tokio::spawn(plumb_testkit::kubelet::run(world.client.clone()));
    let operator = world.token_for("operator", "get,list,watch,patch").await;
    let viewer = world.token_for("viewer", "get,list,watch").await;

    let address = free_address();
    let namespace = world.namespace.clone();
    world.start_controller(&[
        "--listen",
        &address.to_string(),
        "--lease-namespace",
        &namespace,
    ]);
    until_ready(address).await;
    // shop: automated without self-heal, so a kubectl edit stays as drift; manual: not
    // automated, applied only when someone asks.
    world
        .create_app(
            "shop",
            "shop",
            json!({"syncPolicy": {"automated": {"prune": true}}}),
        )
        .await;
    world.create_app("manual", "manual", json!({})).await;
    let first = world.repo.rev_parse("main").unwrap();
    world
        .until_app("shop", "synced and healthy", |app| {
            app.status.as_ref().is_some_and(|s| {
                s.sync.status == "Synced"
                    && s.health.status == "Healthy"
                    && s.sync.last_applied_revision.as_deref() == Some(&first)
            })
        })
        .await;
    world
        .until_app("manual", "out of sync", |app| {
            app.status
                .as_ref()
                .is_some_and(|s| s.sync.status == "OutOfSync")
        })
        .await;

    let artifacts = artifacts();
    let _ = std::fs::remove_dir_all(&artifacts);
    let answers = world.dir.path().join("browser-answers");
    std::fs::create_dir_all(&answers).unwrap();
    let mut command = Command::new("node");
    command
        .arg("dashboard.spec.mjs")
        .current_dir(workspace().join(BROWSER_TESTS))
        .env("PLUMB_URL", format!("http://{address}"))
        .env("PLUMB_NAMESPACE", &namespace)
        .env("PLUMB_OPERATOR_TOKEN", &operator)
        .env("PLUMB_VIEWER_TOKEN", &viewer)
        .env("PLUMB_FIRST_COMMIT", &first)
        .env("PLUMB_ARTIFACTS", &artifacts)
        .env("PLUMB_ANSWERS", &answers)
        .env("PLUMB_CHROMIUM", CHROMIUM);
    let log = world.dir.path().join("browser.log");
    let mut browser =
        plumb_testkit::process::Supervised::spawn("node dashboard.spec.mjs", command, &log)
            .unwrap();

    // Answer the browser's requests (`@@ N what`) until it exits.
    let mut reader = BufReader::new(std::fs::File::open(&log).unwrap());
    let mut pending = String::new();
    let mut remembered = None;
    let started = Instant::now();
    let status = loop {
        let exited = browser.exited();
        pending.clear();
        while reader.read_line(&mut pending).unwrap() > 0 {
            if !pending.ends_with('\n') {
                // A line still being written: read it again whole.
                let back = i64::try_from(pending.len()).unwrap();
                reader.seek(SeekFrom::Current(-back)).unwrap();
                break;
            }
            if let Some(request) = pending.trim_end().strip_prefix("@@ ") {
                let (number, what) = request.split_once(' ').unwrap();
                let answer = answer(&world, what, &mut remembered).await;
                let file = answers.join(number);
                std::fs::write(file.with_extension("tmp"), answer).unwrap();
                std::fs::rename(file.with_extension("tmp"), file).unwrap();
            }
            pending.clear();
        }
        if let Some(status) = exited {
            break status;
        }
        if started.elapsed() > BROWSER_PATIENCE {
            browser.stop();
            panic!(
                "the browser tests took longer than {BROWSER_PATIENCE:?}:\n{}\ncontroller:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default(),
                world.logs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kubelet.abort();
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    println!("{output}");
    assert!(
        status.success(),
        "the browser tests failed ({status}); screenshots in {}:\n{output}\ncontroller:\n{}",
        artifacts.display(),
        world.logs()
    );
    let screenshots = std::fs::read_dir(&artifacts).unwrap().count();
    assert!(
        screenshots >= 10,
        "expected a screenshot per step in {}",
        artifacts.display()
    );
}

/// Does what the browser asks for, and answers `ok [value]`.
async fn answer(world: &World, what: &str, remembered: &mut Option<Value>) -> String {
    match what {
        "drift settings with kubectl" => {
            let out = world.kubectl(&[
                "patch",
                "configmap",
                "settings",
                "--type=merge",
                "-p",
                r#"{"data":{"color":"red"}}"#,
            ]);
            assert!(out.status.success(), "{}", text(&out));
            "ok".into()
        }
        "commit settings green and push" => {
            let commit = world.commit(
                &[("shop/settings.yaml", Some(&settings("settings", "green")))],
                "settings: green",
                &bob(),
            );
            // What a webhook does on a push (the apps poll hourly).
            world.request_reconcile("shop").await;
            format!("ok {commit}")
        }
        "make the operator read-only" => {
            let out = world.kubectl(&[
                "patch",
                "role",
                "operator",
                "--type=json",
                "-p",
                r#"[{"op": "replace", "path": "/rules/0/verbs", "value": ["get", "list", "watch"]}]"#,
            ]);
            assert!(out.status.success(), "{}", text(&out));
            "ok".into()
        }
        "register two clusters with an app each" => {
            // `edge` is this very control plane registered under another name (a
            // registered cluster is whatever its Secret points at); `gone` points at a
            // port nothing listens on.
            let edge = format!("edge-{}", world.namespace);
            let gone = format!("gone-{}", world.namespace);
            world.commit(
                &[(
                    "edge/settings.yaml",
                    Some(&settings("edge-settings", "amber")),
                )],
                "edge settings",
                &bob(),
            );
            let ca = std::fs::read_to_string(&world.cluster.ca_file).unwrap();
            let token = world.cluster.token(plumb_testkit::ADMIN).unwrap();
            for (name, server) in [
                (&edge, world.cluster.server.clone()),
                (&gone, format!("https://{}", free_address())),
            ] {
                let secret = json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": name, "labels": {"plumb.dev/cluster": "true"}},
                    "stringData": {"server": server, "token": token, "ca.crt": ca}});
                let path = world.dir.path().join(format!("{name}.json"));
                std::fs::write(&path, secret.to_string()).unwrap();
                let out = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
                assert!(out.status.success(), "{}", text(&out));
            }
            for (app, cluster) in [("edge", &edge), ("far", &gone)] {
                let destination = json!({"cluster": cluster, "namespace": world.namespace});
                world
                    .create_app(
                        app,
                        "edge",
                        json!({"destination": destination, "syncPolicy": {"automated": {"prune": true}}}),
                    )
                    .await;
            }
            format!("ok {edge} {gone}")
        }
        "remember manual" => {
            *remembered = Some(app_json(world, "manual").await);
            "ok".into()
        }
        "check manual was not changed" => {
            let now = app_json(world, "manual").await;
            let before = remembered.take().unwrap();
            if now["metadata"]["annotations"] == before["metadata"]["annotations"]
                && now["spec"] == before["spec"]
            {
                "ok".into()
            } else {
                format!(
                    "error: the read-only token changed the Application: {} → {}",
                    before["metadata"], now["metadata"]
                )
            }
        }
        other => format!("error: no such request {other:?}"),
    }
}

async fn app_json(world: &World, name: &str) -> Value {
    serde_json::to_value(world.apps().get(name).await.unwrap()).unwrap()
}
