//! plumb renders every kustomization of the corpus exactly as `kubectl kustomize` does —
//! same bytes, or both fail.
//!
//! Each directory under `tests/fixtures/kustomize/` is one repository; the kustomization
//! rendered is the directory itself, or the path written in its `render-path` file.
//! Both build with Kustomize's default load restrictor, `LoadRestrictionsRootOnly`, unless
//! the fixture's `load-restrictor` file names another (`LoadRestrictionsNone`, Flux's).
//! Fixtures named `error-*` must fail in both. kubectl (embedding Kustomize v5.5.0) is the
//! oracle: without it this test fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use plumb_kustomize::{BuildOptions, LoadRestrictor, render, yaml_stream};
use plumb_manifest::Root;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    all.sort();
    all
}

fn render_path(fixture: &Path) -> String {
    std::fs::read_to_string(fixture.join("render-path"))
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| ".".into())
}

fn load_restrictor(fixture: &Path) -> LoadRestrictor {
    std::fs::read_to_string(fixture.join("load-restrictor"))
        .map(|text| {
            text.trim()
                .parse()
                .expect("a load restrictor kubectl knows")
        })
        .unwrap_or(LoadRestrictor::RootOnly)
}

fn plumb(fixture: &Path) -> Result<String, String> {
    let root = Root::new(fixture).map_err(|err| err.to_string())?;
    let (relative, dir) = root
        .directory(&render_path(fixture))
        .map_err(|err| err.to_string())?;
    let options = BuildOptions {
        load_restrictor: load_restrictor(fixture),
        ..BuildOptions::default()
    };
    let built = render(root, &dir, &relative, &options).map_err(|err| err.to_string())?;
    Ok(yaml_stream(built.iter().map(|(manifest, _, _)| manifest)))
}

/// A `helm` for kubectl's Kustomize v5.5, which asks `helm version -c` (a Helm 3 flag): the
/// real helm v4.3.2 (`PLUMB_HELM`) for everything else.
fn helm_shim() -> PathBuf {
    let helm = std::env::var("PLUMB_HELM").expect(
        "PLUMB_HELM names the real helm, the oracle of helmCharts fixtures (scripts/test.sh sets it)",
    );
    let shim = std::env::temp_dir().join(format!("plumb-helm-shim-{}", std::process::id()));
    std::fs::write(
        &shim,
        format!("#!/bin/sh\nif [ \"$1\" = version ]; then echo v3.17.3+gdeadbee; exit 0; fi\nexec '{helm}' \"$@\"\n"),
    )
    .expect("the shim is written");
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    shim
}

fn kubectl(fixture: &Path) -> Result<String, String> {
    let dir = fixture.join(render_path(fixture));
    let mut command = Command::new("kubectl");
    command
        .arg("kustomize")
        .arg(&dir)
        .arg("--load-restrictor")
        .arg(load_restrictor(fixture).flag());
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap_or_default();
    if kustomization.contains("helmCharts") || kustomization.contains("HelmChartInflationGenerator")
    {
        // Kustomize inflates charts only when told to, with helm; plumb always, natively.
        command
            .arg("--enable-helm")
            .arg("--helm-command")
            .arg(helm_shim());
    }
    let output = command
        .output()
        .expect("kubectl runs: it is the oracle of this test (scripts/provision.sh checks for it)");
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("kubectl prints UTF-8"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_fixture_renders_exactly_as_kubectl_kustomize() {
    let mut failures = Vec::new();
    let corpus = fixtures();
    assert!(corpus.len() >= 40, "the corpus shrank to {}", corpus.len());
    for fixture in &corpus {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let expect_error = name.starts_with("error-");
        match (plumb(fixture), kubectl(fixture)) {
            (Ok(ours), Ok(theirs)) if !expect_error => {
                if ours != theirs {
                    failures.push(format!(
                        "{name}: output differs\n--- plumb\n{ours}\n--- kubectl\n{theirs}"
                    ));
                }
            }
            (Err(_), Err(_)) if expect_error => {}
            (ours, theirs) => failures.push(format!(
                "{name}: expected {}; plumb: {ours:?}\nkubectl: {theirs:?}",
                if expect_error {
                    "both to fail"
                } else {
                    "both to succeed"
                }
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures disagree with kubectl kustomize:\n\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n\n")
    );
}
