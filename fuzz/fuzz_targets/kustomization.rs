#![no_main]
//! plumb-kustomize's build: the input is an overlay's kustomization file, built over a small
//! repository written once per process (a base, a component, resources, patches, generator
//! sources, a chart, and a symlink and a file outside the root that must never be read).
//!
//! Checks: never a panic, a hang or unbounded memory (Ok or a typed error); nothing from
//! outside the repository renders, whatever the paths say; the output stays within the
//! render's limits; and the YAML `kubectl kustomize` would print, read back, is the objects.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use plumb_kustomize::{BuildOptions, fuzzing, yaml_stream};
use plumb_manifest::Limits;
use serde_json::{Map, Value};

/// The repository: path → contents (`->` makes a symlink).
const FILES: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - LOG_LEVEL=info\n",
    ),
    (
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.example/web:1.0\n        ports:\n        - containerPort: 8080\n          name: http\n        envFrom:\n        - configMapRef: {name: web-config}\n        volumeMounts:\n        - {name: data, mountPath: /data}\n      - name: sidecar\n        image: registry.example/proxy:2.1\n      volumes:\n      - name: data\n        persistentVolumeClaim: {claimName: web-data}\n",
    ),
    (
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - {port: 80, targetPort: http}\n",
    ),
    (
        "component/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- pvc.yaml\nlabels:\n- pairs: {tier: backend}\n",
    ),
    (
        "component/pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: web-data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests: {storage: 1Gi}\n",
    ),
    ("app/kustomization.yaml", "resources:\n- ../base\n"),
    (
        "app/ingress.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - host: web.example\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service: {name: web, port: {number: 80}}\n",
    ),
    (
        "app/patch-replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: web\n        resources:\n          limits: {memory: 256Mi}\n",
    ),
    (
        "app/patch-json.yaml",
        "- op: replace\n  path: /spec/replicas\n  value: 5\n- op: add\n  path: /metadata/annotations\n  value: {team: shop}\n",
    ),
    ("app/app.env", "MODE=production\nWORKERS=4\n"),
    ("app/config.properties", "cache.size=128\ncache.ttl=60s\n"),
    (
        "app/replacements.yaml",
        "- source: {kind: Service, name: web, fieldPath: metadata.name}\n  targets:\n  - select: {kind: Ingress}\n    fieldPaths: [spec.rules.0.host]\n    options: {delimiter: '.', index: 0}\n",
    ),
    (
        "app/charts/hello/Chart.yaml",
        "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
    ),
    (
        "app/charts/hello/values.yaml",
        "greeting: hello\nreplicas: 1\n",
    ),
    (
        "app/charts/hello/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hello\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    ),
    ("app/escape.yaml", "-> ../../outside/secret.yaml"),
    (
        "../outside/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: outside-the-root\nstringData: {token: never-read}\n",
    ),
];

/// The repository's root, written on first use under the temporary directory.
fn repository() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let top =
            std::env::temp_dir().join(format!("plumb-fuzz-kustomization-{}", std::process::id()));
        let root = top.join("repo");
        for (path, contents) in FILES {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().expect("a file has a directory")).expect("mkdir");
            match contents.strip_prefix("-> ") {
                Some(target) => std::os::unix::fs::symlink(target, &file).expect("symlink"),
                None => std::fs::write(&file, contents).expect("write"),
            }
        }
        root
    })
}

fuzz_target!(|data: &[u8]| {
    let options = BuildOptions::default();
    let Ok(built) = fuzzing::render_kustomization(repository(), "app", data, &options) else {
        return;
    };
    let limits = &options.limits;
    assert!(built.len() <= limits.max_objects);
    let mut total = 0;
    for (object, origin, _) in &built {
        let name = object.get("metadata").and_then(|m| m.get("name"));
        assert_ne!(
            name,
            Some(&Value::from("outside-the-root")),
            "read outside the root"
        );
        assert!(
            !origin.path.starts_with('/') && !origin.path.split('/').any(|c| c == ".."),
            "an object from {} left the root",
            origin.path
        );
        let bytes = plumb_manifest::size::object_bytes(object);
        assert!(
            bytes <= limits.max_object_bytes,
            "an object of {bytes} bytes"
        );
        total += bytes;
    }
    assert!(total <= limits.max_rendered_bytes, "{total} bytes rendered");
    check_yaml(&built.iter().map(|(o, _, _)| o).collect::<Vec<_>>());
});

/// The objects as `kubectl kustomize` prints them, read back, are the objects.
fn check_yaml(objects: &[&Map<String, Value>]) {
    let text = yaml_stream(objects.iter().copied());
    let options = Limits {
        max_yaml_nodes_per_file: usize::MAX / 8,
        max_depth: 1000,
        max_objects: usize::MAX / 8,
        ..Limits::default()
    }
    .kustomize_yaml_options();
    let documents: Vec<Value> = serde_saphyr::from_str_multiple_with_options(&text, options)
        .unwrap_or_else(|e| panic!("the printed YAML does not read back: {e}\n{text}"));
    assert_eq!(documents.len(), objects.len(), "{text}");
    for (object, document) in objects.iter().zip(&documents) {
        let object = Value::Object((*object).clone());
        assert!(
            common::same(&object, document),
            "printed\n{text}\nread back as {document}\nfrom {object}"
        );
    }
}
