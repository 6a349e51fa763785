//! A directory of plain YAML and JSON manifests renders into exactly the objects it
//! describes, in a stable order, and anything odd in it is reported, never applied.

use std::path::Path;

use plumb_render::{DirectoryOptions, Error, RenderOptions, Renderer, render};

/// A repository on disk, written file by file.
struct Repo(tempfile::TempDir);

impl Repo {
    fn new() -> Self {
        Repo(tempfile::tempdir().unwrap())
    }

    fn file(&self, path: &str, contents: &str) -> &Self {
        let full = self.0.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
        self
    }

    fn root(&self) -> &Path {
        self.0.path()
    }
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n")
}

fn names(options: &RenderOptions, repo: &Repo, path: &str) -> Vec<String> {
    let rendered = render(repo.root(), path, options).unwrap();
    rendered
        .objects
        .iter()
        .map(|o| o.id().name.clone())
        .collect()
}

fn recursive() -> RenderOptions {
    RenderOptions {
        directory: DirectoryOptions {
            recursive: true,
            ..DirectoryOptions::default()
        },
        ..RenderOptions::default()
    }
}

#[test]
fn nested_directories_are_read_only_when_recursive() {
    let repo = Repo::new();
    repo.file("app/top.yaml", &config_map("top"))
        .file("app/sub/deeper/inner.yml", &config_map("inner"))
        .file("app/README.md", "# not a manifest");

    assert_eq!(names(&RenderOptions::default(), &repo, "app"), ["top"]);
    assert_eq!(names(&recursive(), &repo, "app"), ["inner", "top"]);
}

#[test]
fn objects_come_out_in_file_then_document_order_every_time() {
    let repo = Repo::new();
    repo.file(
        "b.yaml",
        &format!("{}---\n{}", config_map("b1"), config_map("b2")),
    )
    .file(
        "a.yaml",
        &format!("---\n{}\n---\n---\n{}", config_map("a1"), config_map("a2")),
    )
    .file("c/z.yaml", &config_map("z"));

    let first = names(&recursive(), &repo, ".");
    assert_eq!(first, ["a1", "a2", "b1", "b2", "z"]);
    for _ in 0..5 {
        assert_eq!(names(&recursive(), &repo, "."), first);
    }
    let rendered = render(repo.root(), ".", &recursive()).unwrap();
    let origins: Vec<String> = rendered
        .objects
        .iter()
        .map(|o| o.origin().to_string())
        .collect();
    assert_eq!(
        origins,
        [
            "a.yaml:2",
            "a.yaml:11",
            "b.yaml:1",
            "b.yaml:8",
            "c/z.yaml:1"
        ]
    );
}

#[test]
fn lists_and_json_files_render_beside_yaml() {
    let repo = Repo::new();
    repo.file(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: sa}}\n\
         - {apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: prod}}\n",
    )
    .file(
        "svc.json",
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}"#,
    );

    let rendered = render(repo.root(), ".", &RenderOptions::default()).unwrap();
    let ids: Vec<String> = rendered
        .objects
        .iter()
        .map(|o| o.id().to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "ServiceAccount sa",
            "Deployment.apps prod/web",
            "Service web"
        ]
    );
    assert_eq!(rendered.renderer, Renderer::PlainManifests);
    let service = rendered.objects.iter().last().unwrap();
    assert_eq!(service.manifest()["spec"]["ports"][0]["port"], 80);
}

#[test]
fn a_values_file_is_reported_and_not_rendered() {
    let repo = Repo::new();
    repo.file("app.yaml", &config_map("app"))
        .file("values.yaml", "replicaCount: 3\nimage:\n  tag: v1\n");

    let rendered = render(repo.root(), ".", &RenderOptions::default()).unwrap();
    assert_eq!(rendered.objects.len(), 1);
    assert_eq!(rendered.ignored.len(), 1);
    assert_eq!(rendered.ignored[0].origin.to_string(), "values.yaml:1");
    assert!(
        rendered.ignored[0]
            .reason
            .contains("not a Kubernetes object")
    );
}

#[test]
fn a_duplicate_object_is_an_error_naming_both_files() {
    let repo = Repo::new();
    repo.file("one.yaml", &config_map("settings")).file(
        "two/again.yaml",
        &format!("---\n{}", config_map("settings")),
    );

    let err = render(repo.root(), ".", &recursive()).unwrap_err();
    assert!(matches!(err, Error::DuplicateObject(_)));
    assert_eq!(
        err.to_string(),
        "ConfigMap settings is defined twice: in one.yaml:1 and in two/again.yaml:2; remove one of them"
    );
}

#[test]
fn include_and_exclude_globs_choose_the_files() {
    let repo = Repo::new();
    repo.file("app/web.yaml", &config_map("web"))
        .file("app/web-test.yaml", &config_map("web-test"))
        .file(
            "app/db.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"db"}}"#,
        )
        .file("app/jobs/batch.yaml", &config_map("batch"));
    let options = |include: &[&str], exclude: &[&str]| RenderOptions {
        directory: DirectoryOptions {
            recursive: true,
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        },
        ..RenderOptions::default()
    };

    assert_eq!(
        names(&options(&["*.yaml"], &["*-test.yaml"]), &repo, "app"),
        ["batch", "web"]
    );
    assert_eq!(
        names(&options(&[], &["jobs/**"]), &repo, "app"),
        ["db", "web-test", "web"]
    );
    assert_eq!(names(&options(&["*.json"], &[]), &repo, "app"), ["db"]);
}

#[test]
fn one_broken_file_fails_the_whole_render() {
    let repo = Repo::new();
    repo.file("a-good.yaml", &config_map("good")).file(
        "b-broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
    );

    let err = render(repo.root(), ".", &RenderOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::Manifest(plumb_manifest::Error::Syntax { .. })),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("b-broken.yaml: line 3"),
        "{err}"
    );
}

#[test]
fn an_object_with_no_name_fails_the_render_with_its_place() {
    let repo = Repo::new();
    repo.file(
        "x.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: Secret\nmetadata: {{}}\n",
            config_map("a")
        ),
    );

    let err = render(repo.root(), ".", &RenderOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "x.yaml:8: metadata.name is required");
}

#[test]
fn a_directory_with_a_kustomization_renders_what_it_lists_not_every_file() {
    let repo = Repo::new();
    repo.file("overlay/kustomization.yaml", "resources: [cm.yaml]\n")
        .file("overlay/cm.yaml", &config_map("cm"));

    repo.file("overlay/ignored.yaml", &config_map("not-listed"));
    let rendered = render(repo.root(), "overlay", &RenderOptions::default()).unwrap();
    assert_eq!(rendered.renderer, Renderer::Kustomize("kustomization.yaml"));
    let names: Vec<&str> = rendered
        .objects
        .iter()
        .map(|o| o.id().name.as_str())
        .collect();
    assert_eq!(names, ["cm"]);
}

#[test]
fn an_empty_directory_renders_nothing_without_error() {
    let repo = Repo::new();
    std::fs::create_dir(repo.root().join("empty")).unwrap();
    let rendered = render(repo.root(), "empty", &RenderOptions::default()).unwrap();
    assert!(rendered.objects.is_empty());
}

#[test]
fn a_large_directory_renders_in_file_order_and_names_its_first_broken_file() {
    let repo = Repo::new();
    for index in 0..40 {
        repo.file(
            &format!("app/m{index:02}.yaml"),
            &config_map(&format!("c{index:02}")),
        );
    }
    let rendered = names(&RenderOptions::default(), &repo, "app");
    let expected: Vec<String> = (0..40).map(|index| format!("c{index:02}")).collect();
    assert_eq!(rendered, expected);

    // Files are parsed in parallel; the error is still the first broken file's.
    repo.file("app/m07.yaml", "kind: [unclosed\n")
        .file("app/m31.yaml", "kind: [unclosed\n");
    let err = render(repo.root(), "app", &RenderOptions::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Manifest(plumb_manifest::Error::Syntax { path, .. }) if path == "app/m07.yaml"),
        "{err}"
    );
}

#[test]
fn a_helm_chart_renders_with_helm_and_one_inside_a_plain_directory_is_named() {
    let chart = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
    let template = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n";
    let repo = Repo::new();
    repo.file("charts/web/Chart.yaml", chart)
        .file("charts/web/values.yaml", "replicas: 2\n")
        .file("charts/web/templates/service.yaml", template)
        .file("apps/web/Chart.yaml", chart)
        .file("apps/other.yaml", &config_map("other"));
    let rendered = render(repo.root(), "charts/web", &RenderOptions::default()).unwrap();
    assert_eq!(rendered.renderer, Renderer::Helm);
    let service = rendered.objects.iter().next().expect("the chart's Service");
    assert_eq!(service.id().name, "release-name");
    assert_eq!(
        service.origin().to_string(),
        "charts/web/templates/service.yaml:1"
    );
    // Found below the app's path, when reading recursively: not manifests.
    let err = render(repo.root(), "apps", &recursive()).unwrap_err();
    assert!(
        matches!(&err, Error::HelmChart { chart } if chart == "apps/web"),
        "{err}"
    );
    assert!(
        err.to_string().contains("make apps/web the app's path"),
        "{err}"
    );
}
