//! Renders a directory of plain manifests (default 5,000 objects in 500 files) and reports
//! objects per second, against `kubectl kustomize` reading the same files (a kustomization
//! listing them) as the baseline — what Argo CD runs per render of such a directory.
//!
//! ```text
//! cargo run --release -p plumb-bench --bin render-directory -- [--objects N] [--trials N] [--baseline-trials N]
//! ```
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use plumb_bench::{arg, median_time, report};
use plumb_render::{RenderOptions, render};

const OBJECTS_PER_FILE: usize = 10;

fn main() {
    let objects = arg("--objects", 5_000);
    let trials = arg("--trials", 5);
    // kubectl kustomize takes about a minute per run of 5,000 objects here: fewer trials.
    let baseline_trials = arg("--baseline-trials", 3);
    let repo = tempfile::tempdir().expect("a temporary directory");
    let files = write_manifests(repo.path(), objects);
    println!(
        "render-directory: {objects} objects in {files} files, median of {trials} trials \
         (baseline: {baseline_trials})"
    );

    let options = RenderOptions::default();
    let mut rendered = 0;
    let plumb = median_time(trials, || {
        rendered = render(repo.path(), "app", &options)
            .expect("the corpus renders")
            .objects
            .len();
    });
    assert_eq!(rendered, objects, "plumb rendered every object");
    report("plumb render", plumb.as_secs_f64() * 1000.0, "ms");
    report(
        "plumb render objects/s",
        objects as f64 / plumb.as_secs_f64(),
        "objects/s",
    );

    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("kubectl not found: no baseline");
        return;
    }
    write_kustomization(repo.path(), files);
    let kubectl = median_time(baseline_trials, || {
        let output = Command::new("kubectl")
            .args(["kustomize", "kustomized"])
            .current_dir(repo.path())
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
    report(
        "kubectl kustomize (baseline)",
        kubectl.as_secs_f64() * 1000.0,
        "ms",
    );
    report(
        "kubectl kustomize objects/s",
        objects as f64 / kubectl.as_secs_f64(),
        "objects/s",
    );
    report(
        "speed-up vs kubectl kustomize",
        kubectl.as_secs_f64() / plumb.as_secs_f64(),
        "x",
    );
}

/// Writes `objects` objects (Deployments, Services, ConfigMaps in turn) under `app/`.
fn write_manifests(root: &Path, objects: usize) -> usize {
    let app = root.join("app");
    std::fs::create_dir_all(&app).expect("create app/");
    let files = objects.div_ceil(OBJECTS_PER_FILE);
    for file in 0..files {
        let mut text = String::new();
        for index in file * OBJECTS_PER_FILE..((file + 1) * OBJECTS_PER_FILE).min(objects) {
            text.push_str("---\n");
            text.push_str(&manifest(index));
        }
        std::fs::write(app.join(format!("m{file:05}.yaml")), text).expect("write a manifest");
    }
    files
}

fn manifest(index: usize) -> String {
    match index % 3 {
        0 => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{index}\n  labels: {{app: web-{index}, tier: frontend}}\n\
             spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web-{index}}}\n  template:\n    metadata:\n      labels: {{app: web-{index}}}\n\
             \x20   spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.{index}\n\
             \x20       ports: [{{containerPort: 8080}}]\n        env:\n        - {{name: MODE, value: production}}\n\
             \x20       resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n"
        ),
        1 => format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-{index}\nspec:\n  selector: {{app: web-{index}}}\n  ports:\n  - {{port: 80, targetPort: 8080}}\n"
        ),
        _ => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{index}\ndata:\n  color: blue\n  size: \"{index}\"\n  notes: |\n    line one\n    line two\n"
        ),
    }
}

/// A kustomization in `kustomized/` listing every manifest: kubectl's way to read them.
fn write_kustomization(root: &Path, files: usize) {
    let dir = root.join("kustomized");
    std::fs::create_dir_all(&dir).expect("create kustomized/");
    let mut text = String::from("resources:\n");
    for file in 0..files {
        let name = format!("m{file:05}.yaml");
        std::fs::copy(root.join("app").join(&name), dir.join(&name)).expect("copy a manifest");
        writeln!(text, "- {name}").expect("write to a string");
    }
    std::fs::write(dir.join("kustomization.yaml"), text).expect("write the kustomization");
}
