//! A user with a kubeconfig diffs and applies a directory with the `plumb` binary, as they
//! would with kubectl: exit codes tell in-sync from changed from broken, and removing a
//! file from the directory prunes its object.

use std::path::Path;
use std::process::{Command, Output};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use plumb_testkit::Cluster;

fn plumb(cluster: &Cluster, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .arg("--root")
        .arg(dir)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{value: \"{value}\"}}\n"
    )
}

#[tokio::test]
async fn diff_then_apply_then_prune_from_the_command_line() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("cli").await.unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("app")).unwrap();
    std::fs::write(repo.path().join("app/a.yaml"), config_map("alpha", "1")).unwrap();
    std::fs::write(repo.path().join("app/b.yaml"), config_map("beta", "1")).unwrap();
    let ns = namespace.as_str();

    let diff = plumb(
        cluster,
        repo.path(),
        &["diff", "app", "--app", "demo", "-n", ns],
    );
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains(&format!("+ ConfigMap {ns}/alpha (create)")),
        "{}",
        text(&diff)
    );

    let apply = plumb(
        cluster,
        repo.path(),
        &["apply", "app", "--app", "demo", "-n", ns],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply));
    let config_maps: Api<ConfigMap> = Api::namespaced(cluster.client().await.unwrap(), ns);
    assert!(config_maps.get_opt("alpha").await.unwrap().is_some());

    let again = plumb(
        cluster,
        repo.path(),
        &["diff", "app", "--app", "demo", "-n", ns],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "in sync after apply: {}",
        text(&again)
    );

    std::fs::write(repo.path().join("app/a.yaml"), config_map("alpha", "2")).unwrap();
    let json = plumb(
        cluster,
        repo.path(),
        &["diff", "app", "--app", "demo", "-n", ns, "-o", "json"],
    );
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["inSync"], false);
    let update = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["change"] == "update")
        .unwrap();
    assert_eq!(update["object"]["name"], "alpha");
    assert!(
        update["diff"]["text"]
            .as_str()
            .unwrap()
            .contains("+  value: \"2\""),
        "{update}"
    );

    std::fs::remove_file(repo.path().join("app/b.yaml")).unwrap();
    let prune = plumb(
        cluster,
        repo.path(),
        &["apply", "app", "--app", "demo", "-n", ns, "--prune"],
    );
    assert_eq!(prune.status.code(), Some(0), "{}", text(&prune));
    assert!(
        text(&prune).contains(&format!("- ConfigMap {ns}/beta pruned")),
        "{}",
        text(&prune)
    );
    plumb_testkit::wait::until_deleted(&config_maps, "beta", std::time::Duration::from_secs(30))
        .await;
}

#[tokio::test]
async fn a_broken_directory_exits_with_2_and_says_why() {
    let cluster = Cluster::shared().await;
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("bad.yaml"), "apiVersion: v1\nkind: [\n").unwrap();
    let output = plumb(cluster, repo.path(), &["diff", ".", "--app", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("bad.yaml: line"),
        "{}",
        text(&output)
    );
}

/// Runs plumb from `cwd` without `--root`, as a user types it.
fn plumb_in(cluster: &Cluster, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .current_dir(cwd)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .unwrap()
}

/// A Git checkout with a base and a prod overlay that uses it, and a tools directory to
/// run from: `checkout/{deploy/base, deploy/envs/prod, tools}`.
fn checkout_with_an_overlay() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let checkout = dir.path().join("checkout");
    let init = Command::new("git")
        .args(["init", "--quiet"])
        .arg(&checkout)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", text(&init));
    for (path, contents) in [
        (
            "deploy/base/kustomization.yaml",
            "resources: [web.yaml]\n".to_owned(),
        ),
        ("deploy/base/web.yaml", config_map("web", "base")),
        (
            "deploy/envs/prod/kustomization.yaml",
            "resources: [../../base]\nnameSuffix: -prod\n".to_owned(),
        ),
        ("tools/README", String::new()),
    ] {
        let file = checkout.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, contents).unwrap();
    }
    dir
}

#[tokio::test]
async fn render_diff_and_apply_take_a_path_as_users_write_it() {
    let cluster = Cluster::shared().await;
    let namespace = cluster.namespace("paths").await.unwrap();
    let ns = namespace.as_str();
    let dir = checkout_with_an_overlay();
    let checkout = dir.path().join("checkout");
    let tools = checkout.join("tools");
    let prod = checkout.join("deploy/envs/prod");
    let absolute = prod.to_str().unwrap();

    // From a sibling directory, and from anywhere by absolute path: the overlay reads its
    // base from the same Git work tree.
    for (cwd, path) in [
        (tools.as_path(), "../deploy/envs/prod"),
        (dir.path(), absolute),
    ] {
        let render = plumb_in(cluster, cwd, &["render", path]);
        assert!(render.status.success(), "{path}: {}", text(&render));
        assert!(
            text(&render).contains("name: web-prod"),
            "{}",
            text(&render)
        );
    }
    let diff = plumb_in(
        cluster,
        dir.path(),
        &["diff", absolute, "--app", "prod", "-n", ns],
    );
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    let apply = plumb_in(
        cluster,
        &tools,
        &["apply", "../deploy/envs/prod", "--app", "prod", "-n", ns],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply));
    let config_maps: Api<ConfigMap> = Api::namespaced(cluster.client().await.unwrap(), ns);
    assert!(config_maps.get_opt("web-prod").await.unwrap().is_some());
    let again = plumb_in(cluster, &prod, &["diff", ".", "--app", "prod", "-n", ns]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));

    // Confinement holds inside the work tree: a base outside it is refused, and so is a
    // path outside an explicit --root.
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("kustomization.yaml"), "resources: []\n").unwrap();
    std::fs::write(
        prod.join("kustomization.yaml"),
        "resources: [../../base, ../../../../outside]\n",
    )
    .unwrap();
    let escaped = plumb_in(cluster, &tools, &["render", "../deploy/envs/prod"]);
    assert_eq!(escaped.status.code(), Some(2), "{}", text(&escaped));
    assert!(
        text(&escaped).contains("repository root")
            && text(&escaped).contains(checkout.canonicalize().unwrap().to_str().unwrap()),
        "{}",
        text(&escaped)
    );
    let explicit = plumb_in(
        cluster,
        &tools,
        &["render", "../base", "--root", prod.to_str().unwrap()],
    );
    assert_eq!(explicit.status.code(), Some(2), "{}", text(&explicit));
    assert!(
        text(&explicit).contains("`..` leads above the repository root"),
        "{}",
        text(&explicit)
    );
}
