//! A user keeps a base and one overlay per environment and runs `plumb render` on an overlay:
//! the output is what `kubectl kustomize` prints. What plumb's engine does not support fails
//! by name, unless the user hands it to an external binary; remote bases stay refused unless
//! allowed.

use std::path::Path;
use std::process::{Command, Output};

fn write(root: &Path, path: &str, contents: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn plumb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .arg("render")
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn kubectl_kustomize(dir: &Path) -> String {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl (the Kustomize oracle) runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A web app: a base and dev/prod overlays that change namespace, image, replicas and config.
fn web_repository(root: &Path) {
    write(
        root,
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: web\n  literals:\n  - LOG_LEVEL=info\n",
    );
    write(
        root,
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef: {name: web}\n",
    );
    write(
        root,
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
    );
    for (env, tag, replicas) in [("dev", "1.26", 1), ("prod", "1.25.3", 3)] {
        write(
            root,
            &format!("envs/{env}/kustomization.yaml"),
            &format!(
                "namespace: web-{env}\nnamePrefix: {env}-\nlabels:\n- pairs: {{env: {env}}}\n  includeSelectors: true\nresources:\n- ../../base\nimages:\n- name: nginx\n  newTag: \"{tag}\"\nreplicas:\n- name: web\n  count: {replicas}\nconfigMapGenerator:\n- name: web\n  behavior: merge\n  literals:\n  - LOG_LEVEL={env}\npatches:\n- target: {{kind: Deployment}}\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/resources\n      value: {{limits: {{memory: 256Mi}}}}\n"
            ),
        );
    }
}

#[test]
fn each_environment_renders_exactly_as_kubectl_kustomize_prints_it() {
    let repo = tempfile::tempdir().unwrap();
    web_repository(repo.path());
    for env in ["envs/dev", "envs/prod"] {
        let plumb = stdout(&plumb(repo.path(), &[env]));
        assert_eq!(plumb, kubectl_kustomize(&repo.path().join(env)), "{env}");
    }
    let prod = stdout(&plumb(repo.path(), &["envs/prod"]));
    assert!(prod.contains("image: nginx:1.25.3"), "{prod}");
    assert!(
        prod.contains("name: prod-web-"),
        "hashed ConfigMap name: {prod}"
    );
}

#[test]
fn an_unsupported_field_is_named_unless_an_external_kustomize_is_allowed() {
    let repo = tempfile::tempdir().unwrap();
    web_repository(repo.path());
    // The ValueAdd transformer is a Kustomize built-in plumb's engine does not implement.
    write(
        repo.path(),
        "envs/legacy/kustomization.yaml",
        "resources:\n- ../../base\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: ValueAddTransformer\n  metadata:\n    name: add-team\n  value: payments\n  targets:\n  - fieldPath: metadata/annotations/team\n",
    );

    let refused = plumb(repo.path(), &["envs/legacy"]);
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "nothing is printed on failure");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("ValueAddTransformer")
            && message.contains("envs/legacy/kustomization.yaml"),
        "the error names the field and the file: {message}"
    );

    let external = stdout(&plumb(
        repo.path(),
        &["envs/legacy", "--kustomize-external", "kubectl"],
    ));
    assert_eq!(
        external,
        kubectl_kustomize(&repo.path().join("envs/legacy"))
    );
}

#[test]
fn a_remote_base_is_refused_unless_allowed() {
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "envs/remote/kustomization.yaml",
        "resources:\n- https://github.com/example/deploy//base?ref=v1\n",
    );

    let refused = plumb(repo.path(), &["envs/remote"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("https://github.com/example/deploy//base?ref=v1")
            && message.contains("remote"),
        "{message}"
    );

    // An external binary alone does not let a remote base through: it would fetch it.
    let still_refused = plumb(
        repo.path(),
        &["envs/remote", "--kustomize-external", "kubectl"],
    );
    assert!(!still_refused.status.success());
    let message = String::from_utf8_lossy(&still_refused.stderr);
    assert!(message.contains("is refused"), "{message}");

    // Allowed but with no external binary to fetch it: still an error that says what to add.
    let allowed = plumb(repo.path(), &["envs/remote", "--allow-remote-bases"]);
    assert!(!allowed.status.success());
    let message = String::from_utf8_lossy(&allowed.stderr);
    assert!(message.contains("--kustomize-external"), "{message}");
}
