//! Renders kustomizations with plumb's native engine and with `kubectl kustomize` in the
//! same run, and reports the ratio of plumb's time to kubectl's (goal: under 0.1):
//!
//! - (a) a base with three overlays (dev, staging, prod: namespaces, prefixes, labels,
//!   image overrides, replicas, patches, generators merged into the base's);
//! - (b) one overlay over a base of `--objects` objects (default 2,000).
//!
//! Each figure is the median of `--trials` trials (`--baseline-trials` for kubectl).
//! plumb's time covers everything `plumb render` does: reading, building and printing.
//!
//! ```text
//! cargo run --release -p plumb-bench --bin kustomize-render -- [--objects N] [--trials N] [--baseline-trials N]
//! ```
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use plumb_bench::{arg, median_time, report};
use plumb_kustomize::yaml_stream as kustomize_yaml;
use plumb_render::{RenderOptions, render};

fn main() {
    let objects = arg("--objects", 2_000);
    let trials = arg("--trials", 5);
    let baseline_trials = arg("--baseline-trials", 3);
    let repo = tempfile::tempdir().expect("a temporary directory");
    write_base(&repo.path().join("base"), 12);
    for env in ["dev", "staging", "prod"] {
        write_overlay(repo.path(), &format!("envs/{env}"), "../../base", env);
    }
    write_base(&repo.path().join("big/base"), objects / 3);
    write_overlay(repo.path(), "big/overlay", "../base", "big");
    println!(
        "kustomize-render: (a) 3 overlays of a {}-object base, (b) one overlay of {} objects; \
         median of {trials} trials (baseline: {baseline_trials})",
        12 * 3 + 2,
        (objects / 3) * 3 + 2,
    );

    let envs = ["envs/dev", "envs/staging", "envs/prod"];
    let plumb_a = median_time(trials, || {
        for env in envs {
            plumb(repo.path(), env);
        }
    });
    let plumb_b = median_time(trials, || {
        plumb(repo.path(), "big/overlay");
    });
    report("plumb: 3 overlays", ms(plumb_a), "ms");
    report("plumb: large overlay", ms(plumb_b), "ms");

    for env in envs.iter().chain(["big/overlay"].iter()) {
        let ours = plumb(repo.path(), env);
        let theirs = kubectl(repo.path(), env);
        assert_eq!(ours, theirs, "{env}: plumb and kubectl kustomize disagree");
    }
    let kubectl_a = median_time(baseline_trials, || {
        for env in envs {
            kubectl(repo.path(), env);
        }
    });
    let kubectl_b = median_time(baseline_trials, || {
        kubectl(repo.path(), "big/overlay");
    });
    report("kubectl kustomize: 3 overlays", ms(kubectl_a), "ms");
    report("kubectl kustomize: large overlay", ms(kubectl_b), "ms");
    report(
        "ratio plumb/kubectl: 3 overlays",
        ratio(plumb_a, kubectl_a),
        "",
    );
    report(
        "ratio plumb/kubectl: large overlay",
        ratio(plumb_b, kubectl_b),
        "",
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(ours: Duration, theirs: Duration) -> f64 {
    ours.as_secs_f64() / theirs.as_secs_f64()
}

/// What `plumb render` prints for the directory.
fn plumb(root: &Path, path: &str) -> String {
    let rendered = render(root, path, &RenderOptions::default()).expect("plumb renders");
    kustomize_yaml(rendered.objects.iter().map(|o| o.manifest()))
}

fn kubectl(root: &Path, path: &str) -> String {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(root.join(path))
        .output()
        .expect("kubectl runs (it is the baseline)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// A base of `apps` apps, each a Deployment, a Service and a ConfigMap, plus RBAC.
fn write_base(dir: &Path, apps: usize) {
    std::fs::create_dir_all(dir).expect("create the base");
    let mut text = String::new();
    for i in 0..apps {
        write!(
            text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels: {{app: app-{i}}}\n\
             spec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n\
             \x20   spec:\n      serviceAccountName: runner\n      containers:\n      - name: app\n        image: registry.example.com/app:1.{i}\n\
             \x20       envFrom: [{{configMapRef: {{name: settings}}}}]\n        ports: [{{containerPort: 8080, name: http}}]\n\
             \x20       resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n      volumes:\n      - name: config\n        configMap: {{name: app-{i}}}\n\
             ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\nspec:\n  selector: {{app: app-{i}}}\n  ports: [{{port: 80, targetPort: http}}]\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\ndata:\n  index: \"{i}\"\n  mode: production\n"
        )
        .expect("write to a string");
    }
    text.push_str(
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n\
         ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: runner\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
         subjects: [{kind: ServiceAccount, name: runner}]\n",
    );
    std::fs::write(dir.join("objects.yaml"), text).expect("write the base");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources: [objects.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [LOG_LEVEL=info]\n",
    )
    .expect("write the base kustomization");
}

fn write_overlay(root: &Path, path: &str, base: &str, env: &str) {
    let dir = root.join(path);
    std::fs::create_dir_all(&dir).expect("create the overlay");
    let text = format!(
        "resources: [{base}]\nnamespace: web-{env}\nnamePrefix: {env}-\ncommonLabels:\n  env: {env}\n\
         commonAnnotations:\n  team: platform\nimages:\n- name: registry.example.com/app\n  newTag: \"2.0-{env}\"\n\
         replicas:\n- name: app-0\n  count: 3\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [LOG_LEVEL=debug]\n\
         patches:\n- target: {{kind: Deployment}}\n  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: any}}\n\
         \x20   spec:\n      template:\n        spec:\n          containers:\n          - name: app\n            env: [{{name: ENV, value: {env}}}]\n"
    );
    std::fs::write(dir.join("kustomization.yaml"), text).expect("write the overlay");
}
