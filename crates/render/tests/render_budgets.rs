//! A tenant's commit cannot make render exhaust the controller's memory by multiplying
//! data: JSON patch `copy`, `replacements` and patches aimed at every object are measured
//! as they run, and the render fails fast with an error naming the kustomization, the
//! patch and the limit — rendering nothing — while ordinary patches still render.
//!
//! Each attack would need terabytes without the budgets; the tests also check that the
//! process's peak memory stayed far below the controller pod's 256 MiB.

use std::time::{Duration, Instant};

use plumb_render::{Error, Limits, RenderOptions, render};

/// A repository in a temporary directory.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        Repo {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, path: &str, contents: &str) -> &Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
        self
    }

    /// Renders `app`, requiring it to fail within seconds; the error.
    fn refused(&self) -> Error {
        let started = Instant::now();
        let err = render(self.dir.path(), "app", &RenderOptions::default())
            .expect_err("the render is refused");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "refused only after {:?}",
            started.elapsed()
        );
        assert_peak_memory_below_mib(200);
        err
    }
}

/// The peak resident memory of this test process (all its tests together), from Linux.
fn assert_peak_memory_below_mib(limit: u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    assert!(kib / 1024 < limit, "peak memory {} MiB", kib / 1024);
}

/// A ConfigMap whose `data` holds one value of `bytes` bytes.
fn config_map(name: &str, bytes: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata:\n  seed: \"{}\"\n",
        "x".repeat(bytes)
    )
}

/// `count` JSON patch operations copying `/data` into itself: each doubles it.
fn doubling_ops(count: usize) -> String {
    (0..count)
        .map(|i| format!("      - {{op: copy, from: /data, path: /data/a{i}}}\n"))
        .collect()
}

#[test]
fn forty_inline_copy_operations_doubling_data_fail_fast_naming_the_patch_and_limit() {
    let repo = Repo::new();
    repo.file("app/bomb.yaml", &config_map("bomb", 1024)).file(
        "app/kustomization.yaml",
        &format!(
            "resources: [bomb.yaml]\npatches:\n- target: {{kind: ConfigMap, name: bomb}}\n  patch: |\n{}",
            doubling_ops(40)
        ),
    );

    let err = repo.refused();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_copy_bytes",
                ..
            })
        ),
        "{err}"
    );
    let message = err.to_string();
    for expected in [
        "render exceeds limits.max_copy_bytes",
        "app/kustomization.yaml",
        "JSON inline patch on ConfigMap.v1.[noGrp]/bomb",
        "(copy from /data to /data/a",
    ] {
        assert!(message.contains(expected), "{expected:?} in {message}");
    }
}

#[test]
fn forty_patches_of_one_copy_each_are_stopped_by_the_object_size_limit() {
    let repo = Repo::new();
    let patches: String = (0..40)
        .map(|i| {
            format!(
                "- target: {{kind: ConfigMap}}\n  patch: '[{{op: copy, from: /data, path: /data/a{i}}}]'\n"
            )
        })
        .collect();
    repo.file("app/bomb.yaml", &config_map("bomb", 1024)).file(
        "app/kustomization.yaml",
        &format!("resources: [bomb.yaml]\npatches:\n{patches}"),
    );

    let err = repo.refused();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_object_bytes",
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "JSON inline patch on ConfigMap.v1.[noGrp]/bomb.[noNs]: the patched object is"
        ),
        "{err}"
    );
}

#[test]
fn replacements_doubling_a_map_into_itself_are_stopped() {
    let repo = Repo::new();
    let replacements: String = (0..40)
        .map(|i| {
            format!(
                "- source: {{kind: ConfigMap, name: bomb, fieldPath: data}}\n  targets:\n  - select: {{kind: ConfigMap, name: bomb}}\n    fieldPaths: [data.a{i}]\n    options: {{create: true}}\n"
            )
        })
        .collect();
    repo.file("app/bomb.yaml", &config_map("bomb", 1024)).file(
        "app/kustomization.yaml",
        &format!("resources: [bomb.yaml]\nreplacements:\n{replacements}"),
    );

    let err = repo.refused();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_object_bytes" | "max_copy_bytes",
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("ConfigMap.v1.[noGrp]/bomb"),
        "{err}"
    );
}

#[test]
fn a_patch_aimed_at_every_object_cannot_grow_the_render_past_its_budget() {
    let repo = Repo::new();
    let many: String = (0..2_000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"))
        .collect();
    repo.file("app/many.yaml", &many).file(
        "app/kustomization.yaml",
        &format!(
            "resources: [many.yaml]\npatches:\n- target: {{kind: ConfigMap}}\n  patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: any}}\n    data: {{padding: \"{}\"}}\n",
            "y".repeat(10 * 1024)
        ),
    );

    let err = repo.refused();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_rendered_bytes",
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("strategic merge inline patch"),
        "{err}"
    );
}

#[test]
fn an_object_larger_than_the_api_server_accepts_is_refused_by_name() {
    let repo = Repo::new();
    repo.file("app/big.yaml", &config_map("big", 3 * 1024 * 1024));
    let err = repo.refused();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit: "max_object_bytes",
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("app/big.yaml:1"), "{err}");
}

#[test]
fn ordinary_copies_and_patches_still_render() {
    let repo = Repo::new();
    repo.file("app/cm.yaml", &config_map("web", 16)).file(
        "app/kustomization.yaml",
        "resources: [cm.yaml]\npatches:\n- target: {kind: ConfigMap}\n  patch: |\n    - {op: copy, from: /data/seed, path: /data/copy}\n",
    );
    let rendered = render(repo.dir.path(), "app", &RenderOptions::default()).unwrap();
    let object = rendered.objects.iter().next().unwrap();
    assert_eq!(object.manifest()["data"]["copy"], "x".repeat(16));
}

#[test]
fn budgets_can_be_raised_for_trusted_repositories() {
    let repo = Repo::new();
    repo.file("app/big.yaml", &config_map("big", 3 * 1024 * 1024));
    let options = RenderOptions {
        limits: Limits {
            max_object_bytes: 4 * 1024 * 1024,
            ..Limits::default()
        },
        ..RenderOptions::default()
    };
    assert_eq!(
        render(repo.dir.path(), "app", &options)
            .unwrap()
            .objects
            .len(),
        1
    );
}
