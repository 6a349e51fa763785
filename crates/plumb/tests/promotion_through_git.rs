//! Promotion through Git, as a platform team wires it into CI: a build sets the new tag
//! in the dev overlay with `plumb set-image … --commit --push`, promotion to the next
//! environment is `plumb promote` in a reviewed commit, and rollback is `git revert`.
//! Against real git (testkit's smart-HTTP and git:// servers), `kubectl kustomize` as the
//! oracle of what an overlay renders, and the real control plane for the controller.

mod support;

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

#[test]
fn set_image_changes_what_the_overlay_renders_and_nothing_else_in_the_file() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    let output = plumb_in(
        dir,
        &[
            "set-image",
            "envs/dev",
            "app=registry.example.com/team/app:1.4.0",
            "nginx:1.27",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    let after = std::fs::read_to_string(dir.join("envs/dev/kustomization.yaml")).unwrap();
    // Every byte but the two edited values is as the team wrote it; the tags keep their
    // quoting, and `1.27` stays a string.
    assert_eq!(
        after,
        DEV.replace("newTag: \"1.3.0\"", "newTag: \"1.4.0\"")
            .replace("newTag: '1.26'", "newTag: '1.27'")
    );
    assert_eq!(
        kustomize_images(&dir.join("envs/dev")),
        ["registry.example.com/team/app:1.4.0", "nginx:1.27"]
    );
    // The diff was printed; running it again changes nothing and says so (exit 3).
    assert!(
        text(&output).contains("+    newTag: \"1.4.0\""),
        "{}",
        text(&output)
    );
    let again = plumb_in(
        dir,
        &[
            "set-image",
            "envs/dev",
            "app=registry.example.com/team/app:1.4.0",
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));

    // A digest replaces the tag; a new entry lands in the file's own list style.
    let digest = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";
    let output = plumb_in(
        dir,
        &[
            "set-image",
            "envs/prod",
            &format!("app=ghcr.io/team/app@{digest}"),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        kustomize_images(&dir.join("envs/prod")),
        [format!("ghcr.io/team/app@{digest}"), "nginx:1.25".into()]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("envs/prod/kustomization.yaml")).unwrap(),
        PROD.replace(
            "  newName: registry.example.com/team/app\n  newTag: 1.1.0\n",
            &format!("  newName: ghcr.io/team/app\n  digest: {digest}\n")
        )
    );
}

#[test]
fn bad_input_is_refused_clearly_and_the_repository_is_untouched() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    let head = git(dir, &["rev-parse", "HEAD"]);
    for (args, says) in [
        (vec!["set-image", "envs/qa", "app:1"], "envs/qa"),
        (
            vec!["set-image", "envs/dev", "app=Registry/App:1"],
            "not a valid image name",
        ),
        (
            vec!["set-image", "envs/dev", "app:"],
            "tag after ':' is empty",
        ),
        (
            vec!["set-image", "envs/dev", "app@sha256:abc"],
            "64 hex digits",
        ),
        (
            vec!["set-image", "envs/dev", "redis:7", "--strict"],
            "no workload of envs/dev uses image \"redis\"",
        ),
        (
            vec!["promote", "--from", "envs/nope", "--to", "envs/prod"],
            "--from envs/nope",
        ),
        (
            vec![
                "promote",
                "--from",
                "envs/dev",
                "--to",
                "envs/prod",
                "--image",
                "redis",
                "--strict",
            ],
            "no workload of envs/prod uses image \"redis\"",
        ),
    ] {
        let output = plumb_in(dir, &args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
    }
    // Without --strict an unused name is a warning, and the entry is still written.
    let output = plumb_in(dir, &["set-image", "envs/dev", "redis:7", "--dry-run"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("warning: no workload of envs/dev uses image \"redis\""));
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "",
        "nothing was written"
    );
    assert_eq!(
        git(dir, &["rev-parse", "HEAD"]),
        head,
        "nothing was committed"
    );
}

#[test]
fn promote_copies_exactly_what_the_source_renders_and_refuses_a_target_that_would_not_render() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    // Dev runs a newer build and a newer proxy; staging takes both.
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/staging",
            "--commit",
            "--author",
            "Release Bot <release@example.com>",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        kustomize_images(&dir.join("envs/staging")),
        kustomize_images(&dir.join("envs/dev")),
        "staging renders exactly dev's images"
    );
    let message = git(dir, &["log", "-1", "--format=%an <%ae>%n%B"]);
    assert!(
        message.starts_with(
            "Release Bot <release@example.com>\nenvs/staging: promote 2 images from envs/dev"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "- app: registry.example.com/team/app:1.2.0 -> registry.example.com/team/app:1.3.0"
        ),
        "{message}"
    );
    assert_eq!(
        git(dir, &["show", "--stat", "--format=", "HEAD"])
            .lines()
            .count(),
        2,
        "one file in the commit"
    );

    // Only the named image moves with --image.
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/prod",
            "--image",
            "app",
            "-o",
            "json",
            "--dry-run",
        ],
        &[],
    );
    let report = json_of(&output);
    assert_eq!(report["result"], "changed");
    assert_eq!(
        report["images"],
        json!([{"name": "app", "from": ["registry.example.com/team/app:1.1.0"], "to": ["registry.example.com/team/app:1.3.0"]}])
    );
    assert!(
        report["diff"]
            .as_str()
            .unwrap()
            .contains("+  newTag: 1.3.0"),
        "{report}"
    );

    // A target whose replacements would undo the promotion is refused, not half-promoted.
    std::fs::write(
        dir.join("envs/prod/pin.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pin\ndata:\n  image: registry.example.com/team/app:0.9.0\n",
    )
    .unwrap();
    let pinned = "\
resources:
- ../../base
- pin.yaml
images:
- name: app
  newName: registry.example.com/team/app
  newTag: 1.1.0
replacements:
- source: {kind: ConfigMap, name: pin, fieldPath: data.image}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.0.image]
";
    std::fs::write(dir.join("envs/prod/kustomization.yaml"), pinned).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "prod pins its image"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/prod",
            "--image",
            "app",
            "--commit",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("would run registry.example.com/team/app:0.9.0"),
        "{}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("envs/prod/kustomization.yaml")).unwrap(),
        pinned
    );
    assert_eq!(git(dir, &["rev-parse", "HEAD"]), head);

    // An overlay that does not render is refused before anything is edited.
    std::fs::remove_dir_all(dir.join("base")).unwrap();
    let output = plumb_in(
        dir,
        &["promote", "--from", "envs/staging", "--to", "envs/prod"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("does not render"),
        "{}",
        text(&output)
    );
}

#[tokio::test]
async fn two_ci_jobs_set_images_at_once_and_both_changes_land_without_a_force_push() {
    let (_server, repo) = repository();
    let first = ci_clone(&repo);
    let second = ci_clone(&repo);
    let start = repo.rev_parse("main").unwrap();
    let job = |dir: std::path::PathBuf, image: &'static str| {
        std::thread::spawn(move || {
            plumb_in(
                &dir,
                &[
                    "set-image",
                    "envs/dev",
                    image,
                    "--push",
                    "-o",
                    "json",
                    "--token-env",
                    "CI_PUSH_TOKEN",
                    "--git-username",
                    "ci",
                    "--author",
                    "CI <ci@example.com>",
                ],
                &[("CI_PUSH_TOKEN", "s3cret-t0ken")],
            )
        })
    };
    let a = job(
        first.path().to_owned(),
        "app=registry.example.com/team/app:2.0.0",
    );
    let b = job(second.path().to_owned(), "nginx:1.27");
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let (a, b) = (json_of(&a), json_of(&b));
    assert_eq!(
        (a["pushed"].clone(), b["pushed"].clone()),
        (json!(true), json!(true))
    );
    let mut attempts = [
        a["attempts"].as_u64().unwrap(),
        b["attempts"].as_u64().unwrap(),
    ];
    attempts.sort_unstable();
    assert_eq!(
        attempts,
        [1, 2],
        "exactly one job found the branch moved and retried"
    );

    // Both changes are on main, one after the other on top of where both started.
    let checkout = ci_clone(&repo);
    let dir = checkout.path();
    assert_eq!(
        kustomize_images(&dir.join("envs/dev")),
        ["registry.example.com/team/app:2.0.0", "nginx:1.27"]
    );
    let history = git(dir, &["log", "--format=%H %s", &format!("{start}..main")]);
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(history.contains("envs/dev: set app to registry.example.com/team/app:2.0.0 (was registry.example.com/team/app:1.3.0)"), "{history}");
    assert!(
        history.contains("envs/dev: set nginx to nginx:1.27 (was nginx:1.26)"),
        "{history}"
    );
    assert_eq!(git(dir, &["rev-list", "--merges", "--count", "main"]), "0");
    // The token never reached the checkouts' configuration.
    for clone in [&first, &second] {
        let config = std::fs::read_to_string(clone.path().join(".git/config")).unwrap();
        assert!(!config.contains("s3cret"), "{config}");
    }
    // And a wrong token is an authentication error, not a retry loop.
    let third = ci_clone(&repo);
    let output = plumb_in(
        third.path(),
        &[
            "set-image",
            "envs/dev",
            "app:9.9.9",
            "--push",
            "--git-username",
            "ci",
        ],
        &[("PLUMB_GIT_TOKEN", "wrong")],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("refused the credentials"),
        "{}",
        text(&output)
    );
    assert!(!text(&output).contains("wrong"), "{}", text(&output));
}

#[tokio::test]
async fn a_promotion_is_applied_by_the_controller_and_its_revert_restores_the_previous_image() {
    let mut world = World::new("promotion", &seed()).await;
    world.start_controller(&[]);
    // The checkout pushes through the git daemon, as a CI runner would over the network.
    world
        .tree
        .git(&["remote", "set-url", "origin", &world.repo.git_url])
        .unwrap();
    let namespace = world.namespace.clone();
    world
        .create_app(
            "web-prod",
            "envs/prod",
            json!({"destination": {"namespace": namespace},
                   "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}),
        )
        .await;
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &world.namespace);
    let image_is = |wanted: &'static str| {
        let deployments = deployments.clone();
        async move {
            eventually(&format!("web runs {wanted}"), PATIENCE, || async {
                let deployment = deployments.get_opt("web").await.ok()??;
                let image = deployment.spec?.template.spec?.containers[0]
                    .image
                    .clone()?;
                (image == wanted).then_some(())
            })
            .await;
        }
    };
    image_is("registry.example.com/team/app:1.1.0").await;

    let tree = world.tree.path().to_owned();
    let output = plumb_in(
        &tree,
        &[
            "promote",
            "--from",
            "envs/staging",
            "--to",
            "envs/prod",
            "--push",
            "--author",
            "Release Bot <release@example.com>",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    let promotion = world.repo.rev_parse("main").unwrap();
    world.request_reconcile("web-prod").await;
    image_is("registry.example.com/team/app:1.2.0").await;
    let app = world
        .until_app("web-prod", "synced at the promotion", |a| {
            support::synced_at(a, &promotion)
        })
        .await;
    let entry = &app.status.unwrap().history[0];
    assert_eq!(entry.author, "Release Bot <release@example.com>");
    assert!(entry.message.starts_with("envs/prod: promote app registry.example.com/team/app:1.2.0 from envs/staging (was registry.example.com/team/app:1.1.0)"), "{}", entry.message);

    // Rollback is the GitOps way: revert the promotion commit.
    world
        .tree
        .git(&[
            "-c",
            "user.name=Bob",
            "-c",
            "user.email=bob@example.com",
            "revert",
            "--no-edit",
            "HEAD",
        ])
        .unwrap();
    world.tree.push().unwrap();
    world.request_reconcile("web-prod").await;
    image_is("registry.example.com/team/app:1.1.0").await;
}

#[test]
fn a_ci_job_pushes_over_ssh_with_a_deploy_key_and_refuses_an_unknown_host() {
    let (_server, repo) = repository();
    let ssh = SshServer::start().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let key = secrets.path().join("deploy-key");
    std::fs::write(&key, ssh.client_private_key()).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let known_hosts = secrets.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", ssh.known_hosts_line())).unwrap();
    let stranger = secrets.path().join("stranger_hosts");
    std::fs::write(&stranger, "").unwrap();
    let before = repo.rev_parse("main").unwrap();
    // Each attempt from a fresh CI checkout whose remote is the SSH URL.
    let set_image = |known: &Path| {
        let clone = ci_clone(&repo);
        git(
            clone.path(),
            &["remote", "set-url", "origin", &ssh.url(&repo)],
        );
        plumb_in(
            clone.path(),
            &[
                "set-image",
                "envs/dev",
                "app=registry.example.com/team/app:3.0.0",
                "--push",
                "--ssh-key-file",
                key.to_str().unwrap(),
                "--known-hosts-file",
                known.to_str().unwrap(),
                "--author",
                "CI <ci@example.com>",
            ],
            &[],
        )
    };

    // A host the known_hosts file does not vouch for is refused; nothing reaches it.
    let refused = set_image(&stranger);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert_eq!(repo.rev_parse("main").unwrap(), before);

    let pushed = set_image(&known_hosts);
    assert!(pushed.status.success(), "{}", text(&pushed));
    let after = repo.rev_parse("main").unwrap();
    assert_ne!(after, before, "the commit reached the server over SSH");
    let shown = git(&repo.path, &["show", "main:envs/dev/kustomization.yaml"]);
    assert!(shown.contains("3.0.0"), "{shown}");
}
