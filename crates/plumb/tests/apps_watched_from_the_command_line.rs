//! An operator keeps `plumb get apps -w` open in a terminal, as with `kubectl get -w`: the
//! table comes first, then a new row each time an Application changes what the table shows
//! (here: someone suspends it), until the operator interrupts it. `-o wide` tells where an
//! Application comes from.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::json;
use support::{PATIENCE, World, config_map, text};

/// `plumb ARGS` running in the world's namespace, its stdout read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(world: &World, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(args)
            .args(["-n", &world.namespace])
            .env("KUBECONFIG", &world.cluster.kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// The next line printed; fails the story if none comes within [`PATIENCE`].
    fn next_line(&self, waiting_for: &str) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no line printed while waiting for {waiting_for}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_watching_operator_sees_a_new_row_when_an_app_is_suspended() {
    let world = World::new("watch", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.create_app("web", "app", json!({})).await;

    let watch = Running::start(&world, &["get", "apps", "-w"]);
    let header = watch.next_line("the header");
    assert!(
        header.starts_with("NAMESPACE") && header.contains("SYNC") && header.contains("HEALTH"),
        "{header}"
    );
    let first = watch.next_line("the row of web");
    assert!(first.contains(" web "), "{first}");
    assert!(!first.contains("(suspended)"), "{first}");

    world
        .patch_app("web", json!({"spec": {"suspend": true}}))
        .await;
    let changed = watch.next_line("the row of web, suspended");
    assert!(
        changed.contains(" web ") && changed.contains("(suspended)"),
        "a change prints the row again, and only the row: {changed}"
    );
    assert_eq!(
        changed.find(" web "),
        first.find(" web "),
        "new rows keep the table's columns: {first:?} / {changed:?}"
    );
    drop(watch);

    let watch_one = Running::start(&world, &["get", "app", "web", "--watch", "-o", "wide"]);
    let header = watch_one.next_line("the wide header");
    assert!(
        header.contains("REPO") && header.contains("SERVICE ACCOUNT"),
        "{header}"
    );
    let row = watch_one.next_line("the wide row of web");
    assert!(
        row.contains(" web ") && row.contains("(suspended)"),
        "{row}"
    );
    world
        .patch_app("web", json!({"spec": {"suspend": false}}))
        .await;
    let resumed = watch_one.next_line("the row of web, resumed");
    assert!(
        resumed.contains(" web ") && !resumed.contains("(suspended)"),
        "{resumed}"
    );
    drop(watch_one);

    let wide = world.plumb(&["get", "apps", "-o", "wide"]);
    assert!(wide.status.success(), "{}", text(&wide));
    let printed = String::from_utf8_lossy(&wide.stdout);
    assert!(
        printed.contains(&world.repo.git_url) && printed.contains("main"),
        "{printed}"
    );
    let history = world.plumb(&["history", "web", "-o", "json"]);
    assert!(history.status.success(), "{}", text(&history));
    let records: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert!(records.is_array(), "{records}");
}
