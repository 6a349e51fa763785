//! A chart plumb's engine refuses renders with the real helm when the operator opts in
//! (`--helm-external`): on a private copy of the chart's files, with the values plumb
//! composed — and a chart both can render gives the same objects either way.

use plumb_render::{HelmOptions, RenderOptions, Renderer, render};

fn helm() -> String {
    std::env::var("PLUMB_HELM").expect(
        "PLUMB_HELM names the real helm (scripts/test.sh sets it; scripts/provision.sh builds it)",
    )
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write("charts/web/values.yaml", "greeting: hello\ntls: false\n");
    write(
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-web\ndata:\n  value: {{ .Values.greeting | quote }}\n",
    );
    write(
        "charts/web/templates/tls.yaml",
        "{{- if .Values.tls }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-ca\ndata:\n  htpasswd: {{ htpasswd \"admin\" \"secret\" | b64enc }}\n{{- end }}\n",
    );
    write("envs/prod.yaml", "greeting: hello prod\n");
    dir
}

fn options(external: bool, tls: bool) -> RenderOptions {
    RenderOptions {
        helm: HelmOptions {
            release_name: Some("shop".into()),
            namespace: Some("prod".into()),
            value_files: vec!["../../envs/prod.yaml".into()],
            parameters: vec![("tls".into(), tls.to_string())],
            external: external.then(helm),
            ..HelmOptions::default()
        },
        ..RenderOptions::default()
    }
}

fn manifests(rendered: &plumb_render::Rendered) -> Vec<serde_json::Value> {
    rendered
        .objects
        .iter()
        .map(|o| serde_json::Value::Object(o.manifest().clone()))
        .collect()
}

#[test]
fn a_chart_both_render_gives_the_same_objects() {
    let repo = repo();
    let native = render(repo.path(), "charts/web", &options(false, false)).unwrap();
    let external = render(repo.path(), "charts/web", &options(true, false)).unwrap();
    assert_eq!(external.renderer, Renderer::Helm);
    assert_eq!(manifests(&native), manifests(&external));
    assert!(format!("{:?}", manifests(&external)).contains("hello prod"));
}

#[test]
fn a_chart_the_engine_refuses_renders_with_the_external_helm() {
    let repo = repo();
    let refused = render(repo.path(), "charts/web", &options(false, true)).unwrap_err();
    assert!(refused.to_string().contains("htpasswd"), "{refused}");
    let external = render(repo.path(), "charts/web", &options(true, true)).unwrap();
    let secret = external
        .objects
        .iter()
        .find(|o| o.id().kind == "Secret")
        .expect("the CA Secret");
    assert_eq!(secret.id().name, "shop-ca");
}

#[test]
fn a_missing_external_helm_is_named() {
    let repo = repo();
    let mut options = options(true, false);
    options.helm.external = Some("/nonexistent/helm".into());
    let err = render(repo.path(), "charts/web", &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("--helm-external /nonexistent/helm"),
        "{err}"
    );
}
