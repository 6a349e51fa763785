//! A team ships its service as a Helm chart kept in Git, with a values file per
//! environment. plumb renders the chart itself — no `helm` binary, no release Secrets — and
//! keeps each environment's release in sync: drift made by hand is put back, and a change
//! to an environment's values is applied by the next sync.

mod support;

use serde_json::json;
use support::{World, alice, text};

const CHART: &str = r#"apiVersion: v2
name: web
version: 1.2.0
appVersion: "2.4.1"
"#;

const VALUES: &str = r#"greeting: hello
tier: dev
replicas: 1
labels:
  team: web
"#;

const HELPERS: &str = r#"{{- define "web.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "web.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
"#;

const CONFIG_MAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
data:
  value: {{ .Values.greeting | quote }}
  tier: {{ .Values.tier }}
  replicas: {{ .Values.replicas | quote }}
  namespace: {{ .Release.Namespace }}
{{- if semverCompare ">=1.20-0" .Capabilities.KubeVersion.Version }}
  modern: "true"
{{- end }}
"#;

fn automated(value_file: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut helm = json!({"valueFiles": [value_file]});
    if let (Some(helm), Some(extra)) = (helm.as_object_mut(), extra.as_object()) {
        helm.extend(extra.clone());
    }
    json!({
        "source": {"helm": helm},
        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
    })
}

#[tokio::test]
async fn a_chart_in_git_syncs_per_environment_heals_drift_and_applies_a_values_change() {
    let mut world = World::new(
        "helm",
        &[
            ("charts/web/Chart.yaml", CHART),
            ("charts/web/values.yaml", VALUES),
            ("charts/web/templates/_helpers.tpl", HELPERS),
            ("charts/web/templates/configmap.yaml", CONFIG_MAP),
            ("envs/dev/values.yaml", "greeting: hello dev\n"),
            (
                "envs/prod/values.yaml",
                "greeting: hello prod\ntier: prod\n",
            ),
        ],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app(
            "dev",
            "charts/web",
            automated("../../envs/dev/values.yaml", json!({})),
        )
        .await;
    world
        .create_app(
            "prod",
            "charts/web",
            automated(
                "../../envs/prod/values.yaml",
                json!({"parameters": [{"name": "replicas", "value": "3"}]}),
            ),
        )
        .await;

    // Each environment is its own release, named after its app, with its own values.
    world.until_config_map("dev-web", Some("hello dev")).await;
    world.until_config_map("prod-web", Some("hello prod")).await;
    let prod = world.config_maps().get("prod-web").await.unwrap();
    let data = prod.data.clone().unwrap_or_default();
    assert_eq!(data.get("tier").map(String::as_str), Some("prod"));
    assert_eq!(
        data.get("replicas").map(String::as_str),
        Some("3"),
        "the parameter wins over the files"
    );
    assert_eq!(
        data.get("namespace"),
        Some(&world.namespace),
        ".Release.Namespace is the destination"
    );
    assert_eq!(
        data.get("modern").map(String::as_str),
        Some("true"),
        ".Capabilities come from the cluster"
    );
    let labels = prod.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("web"));
    assert_eq!(
        labels.get("app.kubernetes.io/instance").map(String::as_str),
        Some("prod")
    );

    // Drift made by hand is put back.
    let out = world.kubectl(&[
        "patch",
        "configmap",
        "prod-web",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"value":"edited by hand"}}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    world.until_config_map("prod-web", Some("hello prod")).await;

    // A change to prod's values is a commit; dev is untouched by it.
    world.commit(
        &[(
            "envs/prod/values.yaml",
            Some("greeting: hello again\ntier: prod\n"),
        )],
        "prod: new greeting",
        &alice(),
    );
    world.request_reconcile("prod").await;
    world.request_reconcile("dev").await;
    world
        .until_config_map("prod-web", Some("hello again"))
        .await;
    world.until_config_map("dev-web", Some("hello dev")).await;
}

#[tokio::test]
async fn a_chart_that_fails_to_render_changes_nothing_and_says_why() {
    let broken = CONFIG_MAP.replace(
        "{{ .Values.greeting | quote }}",
        r#"{{ required "greeting is required" .Values.greeting | quote }}"#,
    );
    let mut world = World::new(
        "helm-fail",
        &[
            ("charts/web/Chart.yaml", CHART),
            ("charts/web/values.yaml", VALUES),
            ("charts/web/templates/_helpers.tpl", HELPERS),
            ("charts/web/templates/configmap.yaml", &broken),
        ],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app("web", "charts/web", automated("values.yaml", json!({})))
        .await;
    world.until_config_map("web-web", Some("hello")).await;

    // A values change that leaves the required value empty fails the render as a whole.
    world.commit(
        &[(
            "charts/web/values.yaml",
            Some("greeting: \"\"\ntier: dev\nreplicas: 1\n"),
        )],
        "empty greeting",
        &alice(),
    );
    world.request_reconcile("web").await;
    let app = world
        .until_app("web", "the render error in its status", |app| {
            app.status.as_ref().is_some_and(|s| {
                serde_json::to_string(s)
                    .unwrap_or_default()
                    .contains("greeting is required")
            })
        })
        .await;
    assert!(
        serde_json::to_string(&app.status)
            .unwrap()
            .contains("configmap.yaml"),
        "the error names the template"
    );
    world.until_config_map("web-web", Some("hello")).await;
}

#[tokio::test]
async fn a_charts_dependencies_follow_their_conditions_and_globals_per_environment() {
    let parent = r#"apiVersion: v2
name: shop
version: 0.3.0
dependencies:
  - name: cache
    version: ">=1.0.0"
    repository: file://charts/cache
    condition: cache.enabled
"#;
    let cache_chart = "apiVersion: v2\nname: cache\nversion: 1.4.0\n";
    let cache_values = "enabled: false\nmaxMemory: 64mb\n";
    let cache_template = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cache
data:
  value: {{ .Values.maxMemory | quote }}
  owner: {{ .Values.global.team }}
"#;
    let shop_template = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-shop
data:
  value: {{ .Values.global.team | quote }}
"#;
    let mut world = World::new(
        "helm-deps",
        &[
            ("charts/shop/Chart.yaml", parent),
            (
                "charts/shop/values.yaml",
                "global:\n  team: shop\ncache:\n  enabled: false\n",
            ),
            ("charts/shop/templates/shop.yaml", shop_template),
            ("charts/shop/charts/cache/Chart.yaml", cache_chart),
            ("charts/shop/charts/cache/values.yaml", cache_values),
            (
                "charts/shop/charts/cache/templates/cache.yaml",
                cache_template,
            ),
            (
                "envs/prod.yaml",
                "cache:\n  enabled: true\n  maxMemory: 2gb\n",
            ),
        ],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app("dev", "charts/shop", automated("values.yaml", json!({})))
        .await;
    world
        .create_app(
            "prod",
            "charts/shop",
            automated("../../envs/prod.yaml", json!({})),
        )
        .await;
    world.until_config_map("prod-cache", Some("2gb")).await;
    world.until_config_map("dev-shop", Some("shop")).await;
    let prod_cache = world.config_maps().get("prod-cache").await.unwrap();
    assert_eq!(
        prod_cache
            .data
            .unwrap_or_default()
            .get("owner")
            .map(String::as_str),
        Some("shop"),
        "globals flow down to the dependency"
    );
    assert!(
        world
            .config_maps()
            .get_opt("dev-cache")
            .await
            .unwrap()
            .is_none(),
        "dev's condition leaves the dependency out"
    );
}

/// The real helm, to package charts and index a repository as chart publishers do.
fn helm(args: &[&str]) {
    let helm = std::env::var("PLUMB_HELM")
        .expect("PLUMB_HELM names the real helm (scripts/test.sh sets it)");
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(helm)
        .args(args)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "helm {args:?}: {}", text(&out));
}

/// Publishes version `version` of the chart `web` into the repository in `repo`.
fn publish(repo: &std::path::Path, url: &str, version: &str, greeting: &str) {
    let source = tempfile::tempdir().unwrap();
    let chart = source.path().join("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: web\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), format!("greeting: {greeting}\n")).unwrap();
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-web\ndata:\n  value: {{ .Values.greeting | quote }}\n  version: {{ .Chart.Version | quote }}\n",
    )
    .unwrap();
    helm(&[
        "package",
        chart.to_str().unwrap(),
        "-d",
        repo.to_str().unwrap(),
    ]);
    helm(&["repo", "index", repo.to_str().unwrap(), "--url", url]);
}

#[tokio::test]
async fn a_chart_from_a_helm_repository_follows_its_version_range() {
    let repo = tempfile::tempdir().unwrap();
    let address = support::http::serve_directory(repo.path().to_path_buf());
    let url = format!("http://{address}");
    publish(repo.path(), &url, "1.0.0", "hello");
    publish(repo.path(), &url, "2.0.0", "a major release");
    let mut world = World::new(
        "helm-repo",
        &[("README.md", "charts come from a Helm repository\n")],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app(
            "shop",
            ".",
            json!({
                "source": {"repoURL": url, "chart": "web", "revision": "1.x", "helm": {"parameters": [{"name": "extra", "value": "1"}]}},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
            }),
        )
        .await;
    world.until_config_map("shop-web", Some("hello")).await;

    // A new version in the range is picked up by the next sync; 2.0.0 stays out of it.
    publish(repo.path(), &url, "1.1.0", "hello again");
    world.request_reconcile("shop").await;
    world
        .until_config_map("shop-web", Some("hello again"))
        .await;
    let app = world
        .until_app("shop", "the chart version in its history", |app| {
            serde_json::to_string(&app.status)
                .unwrap_or_default()
                .contains("web 1.1.0")
        })
        .await;
    assert!(
        serde_json::to_string(&app.status)
            .unwrap()
            .contains("web 1.1.0")
    );
}

/// A real OCI registry on loopback (Debian's `docker-registry`, the CNCF distribution
/// registry), killed with the test.
fn registry(dir: &std::path::Path) -> (plumb_testkit::process::Supervised, String) {
    let address = support::http::free_address();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new("docker-registry");
    command.arg("serve").arg(&config);
    let process = plumb_testkit::process::Supervised::spawn(
        "docker-registry",
        command,
        &dir.join("registry.log"),
    )
    .expect("docker-registry runs (scripts/provision.sh installs Debian's docker-registry)");
    (process, address.to_string())
}

/// Waits until the registry answers its API's root.
async fn until_registry(address: &str) {
    let address: std::net::SocketAddr = address.parse().unwrap();
    plumb_testkit::eventually("the registry to answer", support::PATIENCE, || async {
        let connected = std::net::TcpStream::connect(address).is_ok();
        (connected && support::http::request(address, "GET", "/v2/", &[], b"").status == 200)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_chart_from_an_oci_registry_syncs() {
    let scratch = tempfile::tempdir().unwrap();
    let (_registry, address) = registry(scratch.path());
    until_registry(&address).await;
    let packages = scratch.path().join("packages");
    std::fs::create_dir_all(&packages).unwrap();
    publish(
        &packages,
        "http://unused.example",
        "0.3.0",
        "from a registry",
    );
    let archive = packages.join("web-0.3.0.tgz");
    helm(&[
        "push",
        archive.to_str().unwrap(),
        &format!("oci://{address}/charts"),
        "--plain-http",
    ]);

    let mut world = World::new(
        "helm-oci",
        &[("README.md", "charts come from an OCI registry\n")],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app(
            "store",
            ".",
            json!({
                "source": {"repoURL": format!("oci://{address}/charts"), "chart": "web", "revision": ">=0.1.0"},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
            }),
        )
        .await;
    world
        .until_config_map("store-web", Some("from a registry"))
        .await;
}

#[tokio::test]
async fn values_kept_in_a_config_map_render_into_the_chart_and_a_change_to_them_is_applied() {
    let mut world = World::new(
        "helm-values-from",
        &[
            ("charts/web/Chart.yaml", CHART),
            ("charts/web/values.yaml", VALUES),
            ("charts/web/templates/_helpers.tpl", HELPERS),
            ("charts/web/templates/configmap.yaml", CONFIG_MAP),
        ],
    )
    .await;
    let values = |greeting: &str| {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "web-values"},
            "data": {"values.yaml": format!("greeting: {greeting}\ntier: ops\n")}
        })
    };
    let patch = kube::api::Patch::Apply(values("from a configmap"));
    let params = kube::api::PatchParams::apply("story").force();
    world
        .config_maps()
        .patch("web-values", &params, &patch)
        .await
        .unwrap();
    world.start_controller(&[]);
    world
        .create_app(
            "ops",
            "charts/web",
            json!({
                "source": {"helm": {
                    "valuesFrom": [
                        {"kind": "ConfigMap", "name": "web-values"},
                        {"kind": "Secret", "name": "web-secret-values", "optional": true}
                    ],
                    "values": "replicas: 4\n"
                }},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
            }),
        )
        .await;
    world
        .until_config_map("ops-web", Some("from a configmap"))
        .await;
    let data = world
        .config_maps()
        .get("ops-web")
        .await
        .unwrap()
        .data
        .unwrap_or_default();
    assert_eq!(data.get("tier").map(String::as_str), Some("ops"));
    assert_eq!(
        data.get("replicas").map(String::as_str),
        Some("4"),
        "inline values win over valuesFrom"
    );

    // The values change without a commit: the next sync renders with them.
    let patch = kube::api::Patch::Apply(values("changed in the configmap"));
    world
        .config_maps()
        .patch("web-values", &params, &patch)
        .await
        .unwrap();
    world.request_reconcile("ops").await;
    world
        .until_config_map("ops-web", Some("changed in the configmap"))
        .await;
}

#[tokio::test]
async fn a_dependency_declared_in_chart_yaml_is_fetched_from_its_repository() {
    let repo = tempfile::tempdir().unwrap();
    // A private repository: user `reader`, password `s3cret`.
    let address = support::http::serve_directory_guarded(
        repo.path().to_path_buf(),
        Some("Basic cmVhZGVyOnMzY3JldA=="),
    );
    let url = format!("http://{address}");
    publish(repo.path(), &url, "1.0.0", "from the dependency");
    let parent = format!(
        "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: web\n    version: 1.x\n    repository: {url}\n"
    );
    let shop = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-shop\ndata:\n  value: \"own\"\n";
    let mut world = World::new(
        "helm-dependency",
        &[
            ("charts/shop/Chart.yaml", &parent),
            (
                "charts/shop/values.yaml",
                "web:\n  greeting: set by the parent\n",
            ),
            ("charts/shop/templates/shop.yaml", shop),
        ],
    )
    .await;
    let out = world.kubectl(&[
        "create",
        "secret",
        "generic",
        "chart-repo",
        "--from-literal=username=reader",
        "--from-literal=password=s3cret",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    world.start_controller(&[]);
    world
        .create_app(
            "deps",
            "charts/shop",
            json!({
                "source": {"helm": {"repositories": [{"url": url, "secretRef": {"name": "chart-repo"}}]}},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
            }),
        )
        .await;
    world.until_config_map("deps-shop", Some("own")).await;
    world
        .until_config_map("deps-web", Some("set by the parent"))
        .await;
}

/// A chart that makes its own password when values set none (`randAlphaNum`, as many
/// charts do: `lookup` finds nothing under a template render) gets one that stays the same
/// at every reconcile — no drift — and that nobody can compute from the repository: it is
/// drawn from the installation's secret key, not from the release's public name.
#[tokio::test]
async fn a_generated_password_is_stable_across_reconciles_and_secret_to_readers_of_git() {
    let password = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-password
data:
  value: {{ .Values.password | default (randAlphaNum 24) | quote }}
"#;
    let files = [
        ("charts/web/Chart.yaml", CHART),
        ("charts/web/values.yaml", "password: \"\"\n"),
        ("charts/web/templates/password.yaml", password),
    ];
    let mut world = World::new("helm-random", &files).await;
    world.start_controller(&[]);
    world
        .create_app("db", "charts/web", automated("values.yaml", json!({})))
        .await;
    let first = world
        .until_app("db", "synced", |app| {
            app.status
                .as_ref()
                .is_some_and(|s| s.sync.status == "Synced")
        })
        .await;
    let first_commit = first.status.unwrap().sync.last_applied_revision.unwrap();
    let read = || async {
        let cm = world.config_maps().get("db-password").await.unwrap();
        let value = cm.data.unwrap_or_default().remove("value").unwrap();
        (value, cm.metadata.resource_version.unwrap())
    };
    let (value, version) = read().await;
    assert_eq!(value.len(), 24);
    assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));

    // A new commit renders the chart again: the password is the same, so nothing is
    // applied (no new sync in the history) and the ConfigMap is not even written.
    let commit = world.commit(
        &[("charts/web/README.md", Some("the web chart\n"))],
        "docs",
        &alice(),
    );
    assert_ne!(commit, first_commit);
    world.request_reconcile("db").await;
    let second = world
        .until_app("db", "rendered and in sync at the new commit", |app| {
            app.status.as_ref().is_some_and(|s| {
                s.sync.status == "Synced" && s.sync.revision.as_deref() == Some(commit.as_str())
            })
        })
        .await;
    let status = second.status.unwrap();
    assert_eq!(status.history.len(), 1, "{:?}", status.history);
    assert_eq!(read().await, (value.clone(), version));

    // Not the value the release's public names give (plumb's earlier seed)...
    assert_ne!(
        value,
        public_seed_password(&world.namespace, "db", "web/templates/password.yaml", 24)
    );
    // ...but the one the installation's key gives this Application, and no other.
    let secret: k8s_openapi::api::core::v1::Secret =
        kube::Api::namespaced(world.client.clone(), "plumb-system")
            .get(plumb_controller::random_key::SECRET_NAME)
            .await
            .unwrap();
    let bytes: [u8; 32] = secret.data.unwrap()["key"].0.as_slice().try_into().unwrap();
    let installation = plumb_render::RandomKey::new(bytes);
    let render_as = |namespace: &str, name: &str| {
        let key = plumb_controller::random_key::app_key(
            &installation,
            &plumb_controller::application::AppKey {
                namespace: namespace.into(),
                name: name.into(),
            },
        );
        local_render(&files, "db", &world.namespace, key)
    };
    assert_eq!(render_as(&world.namespace, "db"), value);
    assert_ne!(render_as("another-team", "db"), value);
}

/// What the chart renders here with `key`: `data.value` of its one ConfigMap.
fn local_render(
    files: &[(&str, &str)],
    release: &str,
    namespace: &str,
    key: plumb_render::RandomKey,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let options = plumb_render::RenderOptions {
        helm: plumb_render::HelmOptions {
            release_name: Some(release.into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        random_key: Some(key),
        ..Default::default()
    };
    let rendered = plumb_render::render(dir.path(), "charts/web", &options).unwrap();
    let object = rendered.objects.iter().next().unwrap();
    object.manifest()["data"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The password plumb's first random functions gave: splitmix64 seeded by FNV-1a of
/// `namespace/release`, the template's name and the draw number — public inputs all.
fn public_seed_password(namespace: &str, release: &str, template: &str, n: usize) -> String {
    let fnv = |text: &str| {
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let seed = fnv(&format!("{namespace}/{release}")) ^ fnv(template);
    (1..=n as u64)
        .map(|draw| {
            let mut z = seed ^ draw.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            char::from(letters[(z % letters.len() as u64) as usize])
        })
        .collect()
}
