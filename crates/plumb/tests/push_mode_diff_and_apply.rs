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
