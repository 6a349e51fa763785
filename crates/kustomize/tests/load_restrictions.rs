//! A Flux-style repository names shared files in sibling folders (`../shared/patch.yaml`):
//! under `LoadRestrictionsNone`, plumb's default, they load; under
//! `LoadRestrictionsRootOnly` they are refused as kubectl refuses them; and under either,
//! nothing outside the repository is read — neither by a path nor through a symlink.
//! (The oracle corpus compares the renders with kubectl; kubectl has no repository to stay
//! inside, so the escapes are checked here.)

use std::path::Path;

use plumb_kustomize::{BuildOptions, LoadRestrictor, render};
use plumb_manifest::Root;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
";

const PATCH: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
";

fn write(root: &Path, path: &str, contents: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// `repo/base` (a Deployment), `repo/shared/patch.yaml`, and `repo/clusters/prod` naming
/// `patch` as its patch's path.
fn repository(patch: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write(
        &repo,
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(&repo, "base/deployment.yaml", DEPLOYMENT);
    write(&repo, "shared/patch.yaml", PATCH);
    write(
        &repo,
        "clusters/prod/kustomization.yaml",
        &format!("resources:\n- ../../base\npatches:\n- path: {patch}\n"),
    );
    dir
}

fn build(repo: &Path, restrictor: LoadRestrictor) -> Result<String, String> {
    let root = Root::new(repo).map_err(|e| e.to_string())?;
    let (relative, dir) = root.directory("clusters/prod").map_err(|e| e.to_string())?;
    let options = BuildOptions {
        load_restrictor: restrictor,
        ..BuildOptions::default()
    };
    let built = render(root, &dir, &relative, &options).map_err(|e| e.to_string())?;
    Ok(plumb_kustomize::yaml_stream(
        built.iter().map(|(m, _, _)| m),
    ))
}

#[test]
fn a_patch_in_a_sibling_folder_loads_by_default() {
    assert_eq!(
        BuildOptions::default().load_restrictor,
        LoadRestrictor::None
    );
    let dir = repository("../../shared/patch.yaml");
    let out = build(&dir.path().join("repo"), LoadRestrictor::None).unwrap();
    assert!(out.contains("replicas: 3"), "{out}");
}

#[test]
fn root_only_refuses_a_sibling_patch_and_says_what_to_do() {
    let dir = repository("../../shared/patch.yaml");
    let err = build(&dir.path().join("repo"), LoadRestrictor::RootOnly).unwrap_err();
    assert!(err.contains("clusters/prod/kustomization.yaml"), "{err}");
    assert!(err.contains("is not in or below"), "{err}");
    assert!(
        err.contains("--load-restrictor LoadRestrictionsNone"),
        "{err}"
    );
}

#[test]
fn a_path_leaving_the_repository_is_refused_under_none() {
    let dir = repository("../../../outside.yaml");
    write(dir.path(), "outside.yaml", PATCH);
    let err = build(&dir.path().join("repo"), LoadRestrictor::None).unwrap_err();
    assert!(err.contains("outside"), "{err}");
    assert!(!err.contains("replicas"), "{err}");
}

#[test]
fn a_symlink_leaving_the_repository_is_refused_under_none() {
    let dir = repository("../../shared/linked.yaml");
    write(dir.path(), "outside.yaml", PATCH);
    std::os::unix::fs::symlink(
        dir.path().join("outside.yaml"),
        dir.path().join("repo/shared/linked.yaml"),
    )
    .unwrap();
    let err = build(&dir.path().join("repo"), LoadRestrictor::None).unwrap_err();
    assert!(err.contains("linked.yaml"), "{err}");
}

#[test]
fn a_resource_file_and_generator_source_in_a_sibling_folder_load() {
    let dir = repository("../../shared/patch.yaml");
    let repo = dir.path().join("repo");
    write(
        &repo,
        "shared/extra.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n",
    );
    write(&repo, "shared/app.env", "MODE=prod\n");
    write(
        &repo,
        "clusters/prod/kustomization.yaml",
        "resources:\n- ../../base\n- ../../shared/extra.yaml\nconfigMapGenerator:\n- name: web\n  envs:\n  - ../../shared/app.env\n",
    );
    let out = build(&repo, LoadRestrictor::None).unwrap();
    assert!(
        out.contains("kind: ServiceAccount") && out.contains("MODE: prod"),
        "{out}"
    );
    assert!(build(&repo, LoadRestrictor::RootOnly).is_err());
}
