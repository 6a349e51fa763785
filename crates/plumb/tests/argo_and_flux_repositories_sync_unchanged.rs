//! A team moving from Argo CD or Flux brings its repository as it is: the annotations it
//! put on objects for those tools mean the same to plumb, and an overlay that deploys into
//! a namespace nobody created syncs once the app says to create it (Argo CD's
//! `CreateNamespace=true`).

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use serde_json::json;
use support::{World, alice, is, synced_at, text};

fn automated() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

fn annotated(name: &str, value: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n{annotations}data:\n  value: \"{value}\"\n"
    )
}

async fn value_of(api: &Api<ConfigMap>, name: &str) -> Option<String> {
    api.get_opt(name)
        .await
        .unwrap()
        .and_then(|cm| cm.data?.get("value").cloned())
}

/// The tenant's account may create namespaces and write in them: the platform team's
/// choice for apps that bring their own namespaces.
fn let_the_tenant_create_namespaces(world: &World) {
    let binding = format!("{}-creates-namespaces", world.namespace);
    let out = world.kubectl(&[
        "create",
        "clusterrolebinding",
        &binding,
        "--clusterrole=cluster-admin",
        &format!("--serviceaccount={}:plumb", world.namespace),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test]
async fn an_overlay_into_a_namespace_nobody_created_syncs_once_the_app_creates_namespaces() {
    let base = support::config_map("settings", "1");
    let mut world = World::new(
        "create-ns",
        &[
            ("base/settings.yaml", &base),
            ("base/kustomization.yaml", "resources:\n- settings.yaml\n"),
        ],
    )
    .await;
    let web = format!("{}-web", world.namespace);
    let overlay = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {web}\nresources:\n- ../../base\n"
    );
    world.commit(
        &[("envs/dev/kustomization.yaml", Some(&overlay))],
        "an overlay into its own namespace",
        &alice(),
    );
    let_the_tenant_create_namespaces(&world);
    world.start_controller(&[]);
    world.create_app("web", "envs/dev", automated()).await;
    let app = world
        .until_app("web", "failing on the missing namespace", |a| {
            is(a, "Ready", "False", "")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(message.contains(&web), "{message}");

    world
        .patch_app(
            "web",
            json!({
                "metadata": {"finalizers": [plumb_controller::application::PRUNE_ON_DELETE]},
                "spec": {"syncPolicy": {
                    "createNamespace": true,
                    "managedNamespaceMetadata": {"labels": {"team": "web"}},
                }},
            }),
        )
        .await;
    let head = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced into its new namespace", |a| {
            synced_at(a, &head)
        })
        .await;
    let namespaces: Api<Namespace> = Api::all(world.client.clone());
    let created = namespaces.get(&web).await.unwrap();
    let labels = created.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("web"));
    let in_web: Api<ConfigMap> = Api::namespaced(world.client.clone(), &web);
    assert_eq!(value_of(&in_web, "settings").await.as_deref(), Some("1"));
    let shown = world.plumb(&["get", "app", "web", "-o", "json"]);
    assert!(text(&shown).contains("Synced"), "{}", text(&shown));

    // The namespace is not the app's: deleting the app with its objects leaves it.
    let out = world.kubectl(&["delete", "application", "web", "--wait=false"]);
    assert!(out.status.success(), "{}", text(&out));
    plumb_testkit::wait::until_deleted(&world.apps(), "web", support::PATIENCE).await;
    plumb_testkit::wait::until_deleted(&in_web, "settings", support::PATIENCE).await;
    let still = namespaces.get(&web).await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_none());
}

#[tokio::test]
async fn argo_cd_and_flux_annotations_mean_to_plumb_what_they_meant_there() {
    let argo_keep = "    argocd.argoproj.io/sync-options: Prune=false\n";
    let flux_keep = "    kustomize.toolkit.fluxcd.io/prune: disabled\n";
    let seed_once = "    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n";
    let hands_off = "    kustomize.toolkit.fluxcd.io/reconcile: disabled\n";
    let outlive = "    argocd.argoproj.io/sync-options: Delete=false\n    argocd.argoproj.io/sync-wave: \"-1\"\n";
    let mut world = World::new(
        "annotations",
        &[
            (
                "app/argo-kept.yaml",
                &annotated("argo-kept", "1", argo_keep),
            ),
            (
                "app/flux-kept.yaml",
                &annotated("flux-kept", "1", flux_keep),
            ),
            ("app/seed.yaml", &annotated("seed", "1", seed_once)),
            (
                "app/hands-off.yaml",
                &annotated("hands-off", "1", hands_off),
            ),
            ("app/outlive.yaml", &annotated("outlive", "1", outlive)),
            ("app/plain.yaml", &support::config_map("plain", "1")),
        ],
    )
    .await;
    // Someone made this one by hand; Git says plumb must leave it alone.
    let by_hand = support::config_map("hands-off", "by-hand");
    let path = world.dir.path().join("by-hand.yaml");
    std::fs::write(&path, &by_hand).unwrap();
    let out = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    world.start_controller(&[]);
    world.create_app("shop", "app", automated()).await;
    world
        .patch_app(
            "shop",
            json!({"metadata": {"finalizers": [plumb_controller::application::PRUNE_ON_DELETE]}}),
        )
        .await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("shop", "synced", |a| synced_at(a, &v1))
        .await;
    let config_maps = world.config_maps();
    for name in ["argo-kept", "flux-kept", "seed", "outlive", "plain"] {
        assert_eq!(
            value_of(&config_maps, name).await.as_deref(),
            Some("1"),
            "{name}"
        );
    }
    assert_eq!(
        value_of(&config_maps, "hands-off").await.as_deref(),
        Some("by-hand"),
        "reconcile: disabled is never written"
    );

    // Git moves on: the seed changes (it is only ever created), the kept ones leave Git.
    let v2 = world.commit(
        &[
            ("app/seed.yaml", Some(&annotated("seed", "2", seed_once))),
            ("app/argo-kept.yaml", None),
            ("app/flux-kept.yaml", None),
        ],
        "seed 2; argo-kept and flux-kept leave",
        &alice(),
    );
    world.request_reconcile("shop").await;
    // Nothing needs writing at v2: the app is in sync with it without applying it.
    world
        .until_app("shop", "in sync with v2", |a| {
            a.status.as_ref().is_some_and(|s| {
                s.sync.status == "Synced" && s.sync.revision.as_deref() == Some(v2.as_str())
            })
        })
        .await;
    assert_eq!(value_of(&config_maps, "seed").await.as_deref(), Some("1"));
    for name in ["argo-kept", "flux-kept"] {
        assert_eq!(
            value_of(&config_maps, name).await.as_deref(),
            Some("1"),
            "{name} is not pruned"
        );
    }
    let diff = world.plumb(&["get", "app", "shop", "-o", "json"]);
    assert!(text(&diff).contains("seed"), "{}", text(&diff));

    // The app is deleted with its objects: Delete=false outlives it, as by hand does.
    let out = world.kubectl(&["delete", "application", "shop", "--wait=false"]);
    assert!(out.status.success(), "{}", text(&out));
    plumb_testkit::wait::until_deleted(&world.apps(), "shop", support::PATIENCE).await;
    for gone in ["plain", "seed"] {
        plumb_testkit::wait::until_deleted(&config_maps, gone, support::PATIENCE).await;
    }
    assert_eq!(
        value_of(&config_maps, "outlive").await.as_deref(),
        Some("1")
    );
    assert_eq!(
        value_of(&config_maps, "hands-off").await.as_deref(),
        Some("by-hand")
    );
}

/// Flux builds with Kustomize's LoadRestrictionsNone, so Flux repositories keep patches
/// shared by every environment in a folder of their own, beside the overlays that use them
/// (`../../shared/…`), which `kubectl kustomize` refuses by default. plumb reads them, as
/// Flux does, as long as they are inside the repository.
#[tokio::test]
async fn a_flux_repository_with_patches_shared_from_a_sibling_folder_syncs() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: podinfo}\nspec:\n  replicas: 1\n  \
                selector: {matchLabels: {app: podinfo}}\n  template:\n    metadata: {labels: {app: podinfo}}\n    \
                spec: {containers: [{name: podinfo, image: \"ghcr.io/stefanprodan/podinfo:6.7.0\"}]}\n";
    let mut world = World::new(
        "flux-shared",
        &[
            ("apps/base/podinfo/deployment.yaml", base),
            ("apps/base/podinfo/kustomization.yaml", "resources: [deployment.yaml]\n"),
            (
                "apps/shared/patches/replicas.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: podinfo}\nspec: {replicas: 2}\n",
            ),
            (
                "apps/shared/settings.yaml",
                &support::config_map("shared-settings", "from-a-sibling"),
            ),
            (
                "apps/production/kustomization.yaml",
                "resources:\n- ../base/podinfo\n- ../shared/settings.yaml\npatches:\n- path: ../shared/patches/replicas.yaml\n",
            ),
        ],
    )
    .await;
    world.start_controller(&[]);
    world
        .create_app(
            "podinfo",
            "apps/production",
            json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}),
        )
        .await;
    let head = world.repo.rev_parse("main").unwrap();
    world
        .until_app("podinfo", "synced", |a| synced_at(a, &head))
        .await;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(world.client.clone(), &world.namespace);
    let podinfo = deployments.get("podinfo").await.unwrap();
    assert_eq!(podinfo.spec.unwrap().replicas, Some(2), "the shared patch");
    let config_maps: Api<ConfigMap> = Api::namespaced(world.client.clone(), &world.namespace);
    assert_eq!(
        value_of(&config_maps, "shared-settings").await.as_deref(),
        Some("from-a-sibling")
    );
}

#[tokio::test]
async fn argo_cd_and_flux_resources_imported_become_applications_that_sync() {
    let mut world = World::new(
        "import",
        &[
            (
                "guestbook/ui.yaml",
                &support::config_map("guestbook-ui", "1"),
            ),
            (
                "apps/production/shop.yaml",
                &support::config_map("shop", "1"),
            ),
        ],
    )
    .await;
    let repo = world.repo.git_url.clone();
    // As `kubectl get -o yaml` and a Flux repository's cluster directory hold them.
    let exported = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
spec:
  project: default
  source:
    repoURL: REPO
    targetRevision: HEAD
    path: guestbook
  destination:
    server: https://kubernetes.default.svc
    namespace: NAMESPACE
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [PrunePropagationPolicy=foreground]
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m
  url: REPO
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: shop
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/production
  prune: true
  sourceRef: {kind: GitRepository, name: fleet}
"#
    .replace("REPO", &repo)
    .replace("NAMESPACE", &world.namespace);
    let path = world.dir.path().join("exported.yaml");
    std::fs::write(&path, exported).unwrap();
    let imported = world.plumb(&["import", path.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported));
    let warnings = String::from_utf8_lossy(&imported.stderr);
    assert!(
        warnings.contains("PrunePropagationPolicy=foreground"),
        "{warnings}"
    );
    let applications = world.dir.path().join("applications.yaml");
    std::fs::write(&applications, &imported.stdout).unwrap();
    let applied = world.kubectl(&["apply", "-f", applications.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));

    world.start_controller(&[]);
    world.until_config_map("guestbook-ui", Some("1")).await;
    world.until_config_map("shop", Some("1")).await;
    let head = world.repo.rev_parse("main").unwrap();
    for app in ["guestbook", "shop"] {
        world
            .until_app(app, "synced", |a| synced_at(a, &head))
            .await;
    }
}

/// Argo CD's resources as the cluster serves them: its CRDs, here without their schemas.
fn argo_cd_crd(kind: &str, plural: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.argoproj.io")},
        "spec": {
            "group": "argoproj.io", "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase()},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    })
}

#[tokio::test]
async fn an_argo_cd_application_set_read_from_the_cluster_becomes_a_plumb_set_that_generates_apps()
{
    let mut world = World::new(
        "import-set",
        &[
            (
                "addons/metrics/settings.yaml",
                &support::config_map("metrics", "1"),
            ),
            (
                "addons/logging/settings.yaml",
                &support::config_map("logging", "1"),
            ),
            ("addons/README.md", "# addons\n"),
        ],
    )
    .await;
    // Only Argo CD's ApplicationSet: its Application would take `kubectl get application`
    // from the other stories sharing this cluster (plumb's is then `applications.plumb.dev`).
    let path = world.dir.path().join("applicationsets.json");
    std::fs::write(
        &path,
        argo_cd_crd("ApplicationSet", "applicationsets").to_string(),
    )
    .unwrap();
    let applied = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));
    let established = world.kubectl(&[
        "wait",
        "--for=condition=established",
        "crd/applicationsets.argoproj.io",
    ]);
    assert!(established.status.success(), "{}", text(&established));
    // Argo CD's cluster-addons example, as written for Argo CD (Go templates included).
    let name = format!("addons-{}", world.namespace);
    let set = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": name},
        "spec": {
            "goTemplate": true,
            "generators": [{"git": {"repoURL": world.repo.git_url, "revision": "HEAD",
                                    "directories": [{"path": "addons/*"}]}}],
            "template": {
                "metadata": {"name": "{{.path.basename}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": world.repo.git_url, "targetRevision": "HEAD", "path": "{{.path.path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": world.namespace},
                    "syncPolicy": {"automated": {"prune": true, "selfHeal": true}}
                }
            }
        }
    });
    let path = world.dir.path().join("argo-set.json");
    std::fs::write(&path, set.to_string()).unwrap();
    let created = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(created.status.success(), "{}", text(&created));

    let imported = world.plumb(&["import", "--from-cluster"]);
    assert!(imported.status.success(), "{}", text(&imported));
    assert!(
        String::from_utf8_lossy(&imported.stderr)
            .contains("the cluster serves no Application (argoproj.io)"),
        "{}",
        text(&imported)
    );
    // Other runs' sets may be in the cluster too: this one is the one named for this world.
    let documents: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&imported.stdout)).unwrap();
    let ours = documents
        .into_iter()
        .find(|d| d["kind"] == "ApplicationSet" && d["metadata"]["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{}", text(&imported)));
    assert_eq!(ours["apiVersion"], "plumb.dev/v1alpha1");
    assert_eq!(
        ours["spec"]["template"]["metadata"]["name"],
        "{{path.basename}}"
    );
    let path = world.dir.path().join("plumb-set.json");
    std::fs::write(&path, ours.to_string()).unwrap();
    let applied = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));

    world.start_controller(&[]);
    world.until_config_map("metrics", Some("1")).await;
    world.until_config_map("logging", Some("1")).await;
    let head = world.repo.rev_parse("main").unwrap();
    for app in ["logging", "metrics"] {
        world
            .until_app(app, "synced", |a| synced_at(a, &head))
            .await;
    }
}

#[tokio::test]
async fn an_app_of_apps_creates_its_children_and_prunes_the_one_that_leaves_git() {
    let mut world = World::new(
        "app-of-apps",
        &[
            ("children/a/settings.yaml", &support::config_map("a", "1")),
            ("children/b/settings.yaml", &support::config_map("b", "1")),
        ],
    )
    .await;
    let child = |name: &str| {
        format!(
            "apiVersion: plumb.dev/v1alpha1\nkind: Application\nmetadata:\n  name: child-{name}\nspec:\n  source:\n    repoURL: {}\n    path: children/{name}\n  syncPolicy:\n    automated: {{prune: true, selfHeal: true}}\n    interval: 1h\n",
            world.repo.git_url
        )
    };
    world.commit(
        &[
            ("apps/a.yaml", Some(&child("a"))),
            ("apps/b.yaml", Some(&child("b"))),
        ],
        "two apps, written as Applications",
        &alice(),
    );
    world.start_controller(&[]);
    world.create_app("root", "apps", automated()).await;
    world.until_config_map("a", Some("1")).await;
    world.until_config_map("b", Some("1")).await;
    let head = world.repo.rev_parse("main").unwrap();
    for app in ["root", "child-a", "child-b"] {
        world
            .until_app(app, "synced", |a| synced_at(a, &head))
            .await;
    }

    // An app that leaves Git is pruned like any object of the root app.
    world.commit(&[("apps/b.yaml", None)], "b goes", &alice());
    world.request_reconcile("root").await;
    plumb_testkit::wait::until_deleted(&world.apps(), "child-b", support::PATIENCE).await;
    assert!(world.apps().get_opt("child-a").await.unwrap().is_some());
}
