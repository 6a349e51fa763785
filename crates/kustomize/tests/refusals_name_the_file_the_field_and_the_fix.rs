//! What plumb's engine refuses, it refuses by name: the kustomization file, the field
//! (or plugin), and what to do instead.

use std::path::Path;

use plumb_kustomize::{BuildOptions, render};
use plumb_manifest::Root;

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";

fn refusal(kustomization: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("apps/web");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("kustomization.yaml"), kustomization).unwrap();
    std::fs::write(app.join("cm.yaml"), CONFIG_MAP).unwrap();
    let root = Root::new(dir.path()).unwrap();
    let (relative, path) = root.directory("apps/web").unwrap();
    render(root, Path::new(&path), &relative, &BuildOptions::default())
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn an_exec_plugin_is_refused_naming_its_kind_and_the_builtin_alternative() {
    let message = refusal(
        "resources: [cm.yaml]\ntransformers:\n- |-\n  apiVersion: example.com/v1\n  kind: SopsDecryptor\n  metadata:\n    name: decrypt\n",
    );
    assert!(message.contains("apps/web/kustomization.yaml"), "{message}");
    assert!(message.contains("transformers"), "{message}");
    assert!(
        message.contains("example.com/v1/SopsDecryptor"),
        "{message}"
    );
    assert!(message.contains("apiVersion: builtin"), "{message}");
}

#[test]
fn a_builtin_plugin_plumb_lacks_is_refused_by_name() {
    let message = refusal(
        "resources: [cm.yaml]\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: ValueAddTransformer\n  metadata:\n    name: add\n",
    );
    assert!(message.contains("apps/web/kustomization.yaml"), "{message}");
    assert!(message.contains("ValueAddTransformer"), "{message}");
    assert!(message.contains("--kustomize-external"), "{message}");
}

#[test]
fn a_conflicting_field_spec_names_the_configurations_file_and_the_fix() {
    let dir_message = {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources: [cm.yaml]\nconfigurations: [images.yaml]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("cm.yaml"), CONFIG_MAP).unwrap();
        std::fs::write(
            dir.path().join("images.yaml"),
            "images:\n- path: spec/template/spec/containers[]/image\n  kind: Rollout\n",
        )
        .unwrap();
        let root = Root::new(dir.path()).unwrap();
        let (relative, path) = root.directory(".").unwrap();
        render(root, Path::new(&path), &relative, &BuildOptions::default())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert!(dir_message.contains("images.yaml"), "{dir_message}");
    assert!(dir_message.contains("create: true"), "{dir_message}");
}

#[test]
fn a_var_without_its_object_names_the_var_and_the_object() {
    let message = refusal(
        "resources: [cm.yaml]\nvars:\n- name: DB_HOST\n  objref: {kind: Service, name: db, apiVersion: v1}\n",
    );
    assert!(message.contains("DB_HOST"), "{message}");
    assert!(message.contains("Service named db"), "{message}");
}
