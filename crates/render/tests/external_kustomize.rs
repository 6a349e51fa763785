//! A tenant's repository cannot use the external kustomize (`--kustomize-external`) to
//! escape: bases and files outside the repository are refused before it runs, and the
//! binary runs with a scrubbed environment, a deadline and a bound on what it prints —
//! each attack fails with an error naming what was refused. The binary here is a shell
//! script the test writes, standing in for a kustomize that misbehaves.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plumb_render::{Error, KustomizeOptions, Limits, RenderOptions, render};

/// A repository whose kustomization plumb's engine refuses (`validators`), so it goes to
/// the fake external kustomize; and a marker file the fake writes when it runs.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(kustomization: &str, script: &str) -> Self {
        let setup = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        setup.file(
            "repo/app/kustomization.yaml",
            &format!("validators: []\n{kustomization}"),
        );
        let fake = setup.dir.path().join("kustomize");
        let marker = setup.dir.path().join("ran");
        std::fs::write(
            &fake,
            format!("#!/bin/sh\necho \"$@\" > '{}'\n{script}", marker.display()),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        setup
    }

    fn file(&self, path: &str, contents: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    fn path(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    fn render(&self, limits: Limits) -> Result<plumb_render::Rendered, Error> {
        let options = RenderOptions {
            limits,
            kustomize: KustomizeOptions {
                allow_remote_bases: false,
                external: Some(self.path("kustomize").display().to_string()),
            },
            ..RenderOptions::default()
        };
        render(&self.path("repo"), "app", &options)
    }

    fn ran(&self) -> bool {
        self.path("ran").exists()
    }
}

const CONFIG_MAP: &str = "echo 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}'\n";

#[test]
fn a_base_outside_the_repository_is_refused_before_the_binary_runs() {
    // Kustomize reads field names in any case: `Resources:` is `resources:` to it
    // (`validators`, which plumb's engine refuses, hands the kustomization to the binary).
    for (field, base) in [
        ("resources", "../../outside"),
        ("resources", "/etc/kubernetes"),
        ("validators: []\nResources", "/etc/kubernetes"),
    ] {
        let setup = Setup::new(&format!("{field}: [{base}]\n"), CONFIG_MAP);
        setup.file("outside/kustomization.yaml", "resources: []\n");
        let err = setup.render(Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Manifest(plumb_manifest::Error::PathOutsideRoot { .. })
            ),
            "{base}: {err}"
        );
        assert!(!setup.ran(), "{base}: the binary ran");
    }
}

#[test]
fn a_symlinked_patch_leading_outside_is_refused_before_the_binary_runs() {
    let setup = Setup::new(
        "resources: [cm.yaml]\npatches:\n- path: patch.yaml\n",
        CONFIG_MAP,
    );
    setup.file("token", "secret-token\n");
    setup.file(
        "repo/app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    std::os::unix::fs::symlink(setup.path("token"), setup.path("repo/app/patch.yaml")).unwrap();
    let err = setup.render(Limits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("app/patch.yaml"), "{err}");
    assert!(!setup.ran());
}

#[test]
fn a_file_url_base_is_refused_even_with_remote_bases_allowed() {
    let setup = Setup::new(
        "resources: ['file:///var/cache/plumb/repos/other']\n",
        CONFIG_MAP,
    );
    let options = RenderOptions {
        kustomize: KustomizeOptions {
            allow_remote_bases: true,
            external: Some(setup.path("kustomize").display().to_string()),
        },
        ..RenderOptions::default()
    };
    let err = render(&setup.path("repo"), "app", &options).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::PathOutsideRoot { .. })
        ),
        "{err}"
    );
    assert!(!setup.ran());
}

#[test]
fn a_binary_that_never_ends_is_killed_with_its_children_at_the_deadline() {
    // The child holds the output pipe open: killing the script alone would not end it.
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    let setup = Setup::new(
        "",
        &format!(
            "sleep 1000 &\necho $! > '{}'\nwait\n",
            pid_file.path().display()
        ),
    );
    let started = Instant::now();
    let err = setup
        .render(Limits {
            max_external_seconds: 1,
            ..Limits::default()
        })
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_external_seconds",
                ..
            })
        ),
        "{err}"
    );
    let pid = std::fs::read_to_string(pid_file.path()).unwrap();
    assert!(gone(pid.trim()), "the background sleep {pid} survived");
}

/// Whether a process is gone (a zombie left for a container's init to reap counts).
fn gone(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return true;
            }
            Ok(_) if Instant::now() > deadline => return false,
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[test]
fn a_binary_printing_without_end_is_stopped_at_the_output_bound() {
    let setup = Setup::new("", "yes 'a: b'\n");
    let started = Instant::now();
    let err = setup
        .render(Limits {
            max_total_bytes: 256 * 1024,
            ..Limits::default()
        })
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_total_bytes",
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("killed"), "{err}");
}

#[test]
fn the_binary_sees_a_scrubbed_environment_and_plumbs_load_restrictor() {
    // It prints its environment into the ConfigMap it renders.
    let setup = Setup::new(
        "",
        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: env}\\ndata:\\n  env: |\\n'\nenv | sed 's/^/    /'\n",
    );
    let rendered = setup.render(Limits::default()).unwrap();
    let object = rendered.objects.iter().next().unwrap();
    let env = object.manifest()["data"]["env"]
        .as_str()
        .unwrap()
        .to_owned();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"PATH"), "{env}");
    assert!(
        !names.iter().any(|n| n.starts_with("CARGO")),
        "the test's own environment leaked: {env}"
    );
    let home = env
        .lines()
        .find_map(|l| l.strip_prefix("HOME="))
        .expect("a HOME");
    assert_ne!(Some(home.to_owned()), std::env::var("HOME").ok());
    assert!(
        !Path::new(home).exists(),
        "the private HOME {home} is removed"
    );
    let args = std::fs::read_to_string(setup.path("ran")).unwrap();
    assert!(args.starts_with("build "), "{args}");
    assert!(
        args.trim_end()
            .ends_with("--load-restrictor LoadRestrictionsNone"),
        "{args}"
    );
}

#[test]
fn a_kustomization_inside_the_repository_still_renders_through_the_binary() {
    let setup = Setup::new(
        "resources: [../base]\nconfigMapGenerator:\n- name: g\n  files: [conf=settings.txt]\n",
        CONFIG_MAP,
    );
    setup.file("repo/base/kustomization.yaml", "resources: [cm.yaml]\n");
    setup.file(
        "repo/base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    setup.file("repo/app/settings.txt", "x=1\n");
    let rendered = setup.render(Limits::default()).unwrap();
    assert!(setup.ran());
    assert_eq!(rendered.objects.iter().next().unwrap().id().name, "made");
}
