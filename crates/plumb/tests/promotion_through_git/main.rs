//! Promotion through Git, as a platform team wires it into CI: a build sets the new tag
//! in the dev overlay with `plumb set-image … --commit --push`, promotion to the next
//! environment is `plumb promote` in a reviewed commit, and rollback is `git revert`.
//! Against real git (testkit's smart-HTTP and git:// servers), `kubectl kustomize` as the
//! oracle of what an overlay renders, and the real control plane for the controller.

#[path = "../support/mod.rs"]
mod support;

mod ci;
mod promote;
mod set_image;

use std::path::Path;
use std::process::{Command, Output};

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use plumb_testkit::{GitServer, SshServer, eventually};
use serde_json::{Value, json};
use support::{PATIENCE, World, alice, text};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: app:latest
      - name: proxy
        image: nginx:1.25
";

/// The dev overlay as a team writes it: comments everywhere, an indented list, quoting.
const DEV: &str = "\
# Dev: CI sets the tag of every build here.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
  - ../../base   # shared by every environment

images:
  # the application, from our registry
  - name: app
    newName: registry.example.com/team/app   # pushed by CI
    newTag: \"1.3.0\"
  - name: nginx
    newTag: '1.26'  # proxy

commonLabels:
  env: dev
";

const STAGING: &str = "\
resources:
- ../../base
images:
- name: app
  newName: registry.example.com/team/app
  newTag: 1.2.0
";

const PROD: &str = "\
resources:
- ../../base
# prod follows staging, one reviewed promotion at a time
images:
- name: app
  newName: registry.example.com/team/app
  newTag: 1.1.0
";

fn seed() -> Vec<(&'static str, &'static str)> {
    vec![
        ("base/deployment.yaml", DEPLOYMENT),
        ("base/kustomization.yaml", "resources:\n- deployment.yaml\n"),
        ("envs/dev/kustomization.yaml", DEV),
        ("envs/staging/kustomization.yaml", STAGING),
        ("envs/prod/kustomization.yaml", PROD),
    ]
}

/// Runs `plumb ARGS` in `dir` with `env`.
fn plumb_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("PLUMB_GIT_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The images `kubectl kustomize DIR` renders, in order.
fn kustomize_images(dir: &Path) -> Vec<String> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("- image: ")
                .or(l.trim().strip_prefix("image: "))
        })
        .map(str::to_owned)
        .collect()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(output)))
}

/// A repository on a git server (smart HTTP demanding a token) seeded with the overlays.
fn repository() -> (GitServer, plumb_testkit::Repo) {
    let git_server = GitServer::start_with_basic_auth("ci", "s3cret-t0ken").unwrap();
    let repo = git_server.create_repo("deploy").unwrap();
    let tree = repo.work_tree().unwrap();
    for (path, contents) in seed() {
        tree.write(path, contents).unwrap();
    }
    tree.commit("environments", &alice()).unwrap();
    tree.push().unwrap();
    // A force push would have to rewrite history; the server refuses that outright.
    git(
        &repo.path,
        &["config", "receive.denyNonFastForwards", "true"],
    );
    (git_server, repo)
}

/// A CI runner's checkout: cloned, with the HTTP URL as its remote and no credentials in
/// it — they come from the job's environment at push time.
fn ci_clone(repo: &plumb_testkit::Repo) -> tempfile::TempDir {
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "--quiet", &repo.path.display().to_string(), "."],
    );
    git(
        clone.path(),
        &["remote", "set-url", "origin", &repo.http_url],
    );
    clone
}
