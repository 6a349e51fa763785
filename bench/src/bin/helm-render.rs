//! Renders a Helm chart with plumb's native engine and with `helm template` in the same
//! run, checks they print the same bytes, and reports the ratio of plumb's time to helm's
//! (goal: at most 0.2).
//!
//! The chart is generated (`--files` templates, each a Deployment, a Service and a
//! ConfigMap through shared helpers, `toYaml`, `include`, `range` — the shape of a large
//! umbrella chart), or any chart directory given with `--chart DIR` (with `--values FILE`):
//! a way to try plumb on a real chart by hand. Each figure is the median of `--trials`
//! trials (`--baseline-trials` for helm). plumb's time covers loading the chart from disk,
//! rendering and printing; helm's is the whole `helm template` process.
//!
//! helm is `$PLUMB_HELM` (scripts/provision.sh builds it), else `helm` on the PATH.
//!
//! ```text
//! cargo run --release -p plumb-bench --bin helm-render -- [--files N] [--trials N] [--baseline-trials N]
//! cargo run --release -p plumb-bench --bin helm-render -- --chart DIR [--values FILE] [--out DIR]
//! ```
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use plumb_bench::{arg, median_time, report};
use plumb_helm::{Capabilities, Chart, RenderOptions, merge_user_values, read_values, render};
use plumb_manifest::{Limits, Root};

fn main() {
    let trials = arg("--trials", 5);
    let baseline_trials = arg("--baseline-trials", 3);
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1))
            .map(PathBuf::from)
    };
    let generated = tempfile::tempdir().expect("a temporary directory");
    let (chart, values, what) = match flag("--chart") {
        Some(chart) => (
            chart.clone(),
            flag("--values"),
            format!("chart {}", chart.display()),
        ),
        None => {
            let files = arg("--files", 100);
            write_chart(generated.path(), files);
            (
                generated.path().to_path_buf(),
                None,
                format!(
                    "a generated chart of {files} templates ({} objects)",
                    files * 3
                ),
            )
        }
    };
    println!("helm-render: {what}; median of {trials} trials (baseline: {baseline_trials})");

    let ours = plumb(&chart, values.as_deref());
    let theirs = helm(&chart, values.as_deref());
    if let Some(out) = flag("--out") {
        // Both renders, to compare by hand (`diff OUT/helm.yaml OUT/plumb.yaml`).
        std::fs::create_dir_all(&out).expect("the --out directory");
        for (name, text) in [("plumb.yaml", &ours), ("helm.yaml", &theirs)] {
            let text = text.clone().unwrap_or_else(|e| format!("error: {e}\n"));
            std::fs::write(out.join(name), text).expect("a written render");
        }
    }
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) if a == b => println!("identical to helm template: yes ({} bytes)", a.len()),
        (Ok(a), Ok(b)) => {
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(a.lines().count().min(b.lines().count()));
            println!("identical to helm template: NO, from line {}", line + 1);
            println!("  helm:  {:?}", b.lines().nth(line));
            println!("  plumb: {:?}", a.lines().nth(line));
        }
        (Err(e), _) => println!("plumb fails: {e}"),
        (_, Err(e)) => println!("helm fails: {e}"),
    }
    if flag("--chart").is_none() {
        assert_eq!(
            ours, theirs,
            "plumb and helm template disagree on the generated chart"
        );
    }
    if ours.is_err() || theirs.is_err() {
        return;
    }
    let plumb_time = median_time(trials, || {
        plumb(&chart, values.as_deref()).expect("it rendered once");
    });
    report("plumb: render", ms(plumb_time), "ms");
    let helm_time = median_time(baseline_trials, || {
        helm(&chart, values.as_deref()).expect("it rendered once");
    });
    report("helm template", ms(helm_time), "ms");
    report(
        "ratio plumb/helm",
        plumb_time.as_secs_f64() / helm_time.as_secs_f64(),
        "",
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn plumb(chart_dir: &Path, values: Option<&Path>) -> Result<String, String> {
    let root = Root::new(chart_dir).map_err(|e| e.to_string())?;
    let limits = Limits {
        max_total_bytes: 64 << 20,
        max_file_bytes: 16 << 20,
        max_files: 100_000,
        ..Limits::default()
    };
    let chart = Chart::load(&root, ".", &limits).map_err(|e| e.to_string())?;
    let mut layers = Vec::new();
    if let Some(file) = values {
        layers.push(read_values(
            &std::fs::read_to_string(file).map_err(|e| e.to_string())?,
        )?);
    }
    let options = RenderOptions {
        release_name: "rel".into(),
        namespace: "bench".into(),
        is_upgrade: false,
        values: merge_user_values(&layers),
        capabilities: Capabilities::helm_template_default(),
        max_output_bytes: 256 << 20,
        random_key: None,
    };
    let rendered = render(&chart, &options).map_err(|e| e.to_string())?;
    Ok(rendered.helm_template_text(false))
}

fn helm(chart_dir: &Path, values: Option<&Path>) -> Result<String, String> {
    let helm = std::env::var("PLUMB_HELM").unwrap_or_else(|_| "helm".into());
    let home = tempfile::tempdir().expect("a scratch directory");
    let mut command = Command::new(helm);
    command
        .args(["template", "rel"])
        .arg(chart_dir)
        .args(["--namespace", "bench", "--include-crds"])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"));
    if let Some(file) = values {
        command.arg("-f").arg(file);
    }
    let output = command
        .output()
        .map_err(|e| format!("helm does not run: {e} (set PLUMB_HELM)"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}

/// A chart of `files` templates over shared helpers, each rendering three objects.
fn write_chart(dir: &Path, files: usize) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("a written file");
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: platform\nversion: 3.1.0\nappVersion: \"3.1\"\n",
    );
    let mut values = String::from(
        "global:\n  registry: registry.example.com\n  labels:\n    team: platform\ncomponents:\n",
    );
    for n in 0..files {
        let _ = write!(
            values,
            "  c{n}:\n    enabled: true\n    replicas: {}\n    image: app-{n}\n    tag: \"1.{n}.0\"\n    port: {}\n    env:\n      LOG_LEVEL: info\n      WORKERS: {}\n    resources:\n      limits: {{cpu: 500m, memory: 256Mi}}\n      requests: {{cpu: 100m, memory: 128Mi}}\n    config:\n      feature.flags: \"a,b,c\"\n      timeout: 30s\n",
            n % 3 + 1,
            8000 + n,
            n % 8 + 1
        );
    }
    write("values.yaml", &values);
    write("templates/_helpers.tpl", HELPERS);
    for n in 0..files {
        write(
            &format!("templates/component-{n}.yaml"),
            &COMPONENT.replace("NAME", &format!("c{n}")),
        );
    }
}

const HELPERS: &str = r#"{{- define "platform.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "platform.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- range $k, $v := .root.Values.global.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}
"#;

const COMPONENT: &str = r#"{{- $c := .Values.components.NAME }}
{{- $ctx := dict "root" . "name" "NAME" }}
{{- if $c.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "platform.fullname" $ctx }}
  labels:
    {{- include "platform.labels" $ctx | nindent 4 }}
data:
  {{- toYaml $c.config | nindent 2 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "platform.fullname" $ctx }}
  labels:
    {{- include "platform.labels" $ctx | nindent 4 }}
spec:
  ports:
    - port: {{ $c.port }}
      targetPort: http
  selector:
    app.kubernetes.io/name: NAME
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "platform.fullname" $ctx }}
  labels:
    {{- include "platform.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ $c.replicas }}
  template:
    metadata:
      annotations:
        checksum/config: {{ toYaml $c.config | sha256sum }}
    spec:
      containers:
        - name: NAME
          image: "{{ .Values.global.registry }}/{{ $c.image }}:{{ $c.tag | default .Chart.AppVersion }}"
          env:
          {{- range $k, $v := $c.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
{{- end }}
"#;
