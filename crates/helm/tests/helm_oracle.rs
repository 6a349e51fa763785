//! plumb renders every chart of the corpus exactly as `helm template` does — same bytes,
//! or both fail.
//!
//! Each directory under `tests/fixtures/charts/` is a chart, rendered with its own values,
//! with `oracle-values.yaml` on top when it has one (`helm template -f`), and then with the
//! `--set` parameters its `oracle-set` file lists, one per line. Charts
//! named `error-*` must fail in both. The real helm (v4.3.2, built by scripts/provision.sh,
//! found through `PLUMB_HELM`) is the oracle: without it this test fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use plumb_helm::{Capabilities, Chart, RenderOptions, merge_user_values, render};
use plumb_manifest::{Limits, Root};

const RELEASE: &str = "rel";
const NAMESPACE: &str = "oracle-ns";

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    all.sort();
    all
}

/// `--set` parameters of a run: the lines of the chart's `oracle-set` file.
fn parameters(chart_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(chart_dir.join("oracle-set"))
        .map(|text| {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn plumb(chart_dir: &Path, values_file: Option<&Path>, set: &[String]) -> Result<String, String> {
    let root = Root::new(chart_dir).map_err(|e| e.to_string())?;
    let chart = Chart::load(&root, ".", &Limits::default()).map_err(|e| e.to_string())?;
    let mut layers = Vec::new();
    if let Some(file) = values_file {
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        layers.push(plumb_helm::read_values(&text).map_err(|e| e.to_string())?);
    }
    let mut values = merge_user_values(&layers);
    for parameter in set {
        let (name, value) = parameter.split_once('=').expect("name=value");
        plumb_helm::set_parameter(&mut values, name, value)?;
    }
    let options = RenderOptions {
        release_name: RELEASE.into(),
        namespace: NAMESPACE.into(),
        is_upgrade: false,
        values,
        capabilities: Capabilities::helm_template_default(),
        max_output_bytes: 64 << 20,
        random_key: None,
    };
    let rendered = render(&chart, &options).map_err(|e| e.to_string())?;
    Ok(rendered.helm_template_text(false))
}

fn helm(chart_dir: &Path, values_file: Option<&Path>, set: &[String]) -> Result<String, String> {
    let helm = std::env::var("PLUMB_HELM")
        .expect("PLUMB_HELM names the real helm, the oracle of this test (scripts/test.sh sets it; scripts/provision.sh builds it)");
    let home = tempfile::tempdir().expect("a scratch directory");
    let mut command = Command::new(helm);
    command
        .args(["template", RELEASE])
        .arg(chart_dir)
        .args(["--namespace", NAMESPACE, "--include-crds"])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"));
    if let Some(file) = values_file {
        command.arg("-f").arg(file);
    }
    for parameter in set {
        command.arg("--set").arg(parameter);
    }
    let output = command.output().expect("helm runs");
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("helm prints UTF-8"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The first line where two renders differ, with a little context.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let at = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let from = at.saturating_sub(3);
    format!(
        "line {}:\n  helm:  {:?}\n  plumb: {:?}\n",
        at + 1,
        &w[from..(at + 2).min(w.len())],
        &g[from..(at + 2).min(g.len())]
    )
}

#[test]
fn every_chart_renders_exactly_as_helm_template() {
    let mut failures = Vec::new();
    let corpus = corpus();
    assert!(corpus.len() >= 7, "the corpus shrank to {}", corpus.len());
    let mut cases = 0;
    for chart in &corpus {
        let name = chart
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let overlay = chart.join("oracle-values.yaml");
        let overlay = overlay.exists().then_some(overlay.as_path());
        let set = parameters(chart);
        let mut runs: Vec<(Option<&Path>, &[String])> = vec![(None, &[])];
        if overlay.is_some() {
            runs.push((overlay, &[]));
        }
        if !set.is_empty() {
            runs.push((overlay, &set));
        }
        for (values, set) in runs {
            cases += 1;
            let label = format!(
                "{name}{}{}",
                if values.is_some() {
                    " -f oracle-values.yaml"
                } else {
                    ""
                },
                if set.is_empty() { "" } else { " --set …" }
            );
            match (helm(chart, values, set), plumb(chart, values, set)) {
                (Ok(want), Ok(got)) if want == got => {}
                (Ok(want), Ok(got)) => failures.push(format!(
                    "{label}: output differs at {}",
                    first_difference(&want, &got)
                )),
                (Err(_), Err(_)) if name.starts_with("error-") => {}
                (Ok(_), Err(e)) => {
                    failures.push(format!("{label}: helm renders it, plumb fails: {e}"))
                }
                (Err(e), Ok(_)) => {
                    failures.push(format!("{label}: plumb renders it, helm fails: {e}"))
                }
                (Err(e), Err(_)) => failures.push(format!(
                    "{label}: both fail, but it is not an error-* case: {e}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} renders differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
