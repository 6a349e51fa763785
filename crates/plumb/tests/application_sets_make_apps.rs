//! A team with many apps in one repository writes one ApplicationSet instead of an
//! Application each, as Argo CD users do: an app per folder (`apps/*`), or per
//! combination of environments and parameter files. Apps come and go with the folders,
//! and the set's own status says what it made.

mod support;

use serde_json::{Value, json};
use support::{PATIENCE, World, alice, config_map, is, text};

/// Applies `set` (an ApplicationSet as JSON) in the world's namespace with kubectl.
fn apply(world: &World, set: &Value) {
    let path = world.dir.path().join("application-set.json");
    std::fs::write(&path, set.to_string()).unwrap();
    let out = world.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The set's status, once `until` holds for it.
async fn until_set(world: &World, what: &str, until: impl Fn(&Value) -> bool) -> Value {
    plumb_testkit::eventually(what, PATIENCE, || async {
        let out = world.kubectl(&["get", "applicationsets.plumb.dev", "apps", "-o", "json"]);
        let set: Value = serde_json::from_slice(&out.stdout).ok()?;
        until(&set["status"]).then_some(set["status"].clone())
    })
    .await
}

async fn app_names(world: &World) -> Vec<String> {
    let mut names: Vec<String> = world
        .apps()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|a| a.metadata.deletion_timestamp.is_none())
        .filter_map(|a| a.metadata.name)
        .collect();
    names.sort();
    names
}

async fn until_apps(world: &World, expected: &[&str]) {
    plumb_testkit::eventually(&format!("Applications {expected:?}"), PATIENCE, || async {
        (app_names(world).await == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_application_set_makes_an_app_per_folder_and_follows_the_folders() {
    let mut world = World::new(
        "appset-dirs",
        &[
            ("apps/web/settings.yaml", &config_map("web", "1")),
            ("apps/api/settings.yaml", &config_map("api", "1")),
            ("apps/legacy/settings.yaml", &config_map("legacy", "1")),
            ("README.md", "# deploy\n"),
        ],
    )
    .await;
    world.start_controller(&[]);
    let url = world.repo.git_url.clone();
    let namespace = world.namespace.clone();
    apply(
        &world,
        &json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "apps"},
            "spec": {
                "interval": "2s",
                "generators": [{"git": {"repoURL": url, "revision": "main", "directories": [
                    {"path": "apps/*"}, {"path": "apps/legacy", "exclude": true}]}}],
                "template": {
                    "metadata": {"name": "{{path.basename}}", "labels": {"team": "shop"},
                                 "finalizers": ["plumb.dev/prune-on-delete"]},
                    "spec": {
                        "source": {"repoURL": url, "revision": "main", "path": "{{path}}"},
                        "destination": {"namespace": namespace},
                        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}
                    }
                }
            }
        }),
    );

    // An app per folder, the excluded one left out, each synced like any app.
    until_apps(&world, &["api", "web"]).await;
    world.until_config_map("web", Some("1")).await;
    world.until_config_map("api", Some("1")).await;
    let web = world.apps().get("web").await.unwrap();
    let labels = web.metadata.labels.clone().unwrap();
    assert_eq!(labels["plumb.dev/application-set"], "apps");
    assert_eq!(labels["team"], "shop");
    let owner = &web.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ApplicationSet", "apps")
    );
    world
        .until_app("web", "synced and ready", |a| is(a, "Ready", "True", ""))
        .await;
    let status = until_set(&world, "the set's status", |s| s["applicationCount"] == 2).await;
    assert_eq!(status["applications"], json!(["api", "web"]), "{status}");
    assert_eq!(status["conditions"][0]["status"], "True", "{status}");
    assert!(
        world
            .config_maps()
            .get_opt("legacy")
            .await
            .unwrap()
            .is_none()
    );

    // A new folder is a new app; a folder removed takes its app, and (by the template's
    // finalizer) the app's objects, with it.
    world.commit(
        &[(
            "apps/worker/settings.yaml",
            Some(&config_map("worker", "1")),
        )],
        "add the worker",
        &alice(),
    );
    until_apps(&world, &["api", "web", "worker"]).await;
    world.until_config_map("worker", Some("1")).await;
    world.commit(
        &[("apps/api/settings.yaml", None)],
        "retire the api",
        &alice(),
    );
    until_apps(&world, &["web", "worker"]).await;
    world.until_config_map("api", None).await;

    // A hand-made change to a generated app's spec is put back at the next generation.
    world
        .patch_app("web", json!({"spec": {"source": {"path": "apps/worker"}}}))
        .await;
    plumb_testkit::eventually("web's path put back", PATIENCE, || async {
        let web = world.apps().get("web").await.ok()?;
        (web.spec.source.path == "apps/web").then_some(())
    })
    .await;

    // Deleting the set deletes its apps (they are owned by it), and their objects.
    let out = world.kubectl(&["delete", "applicationsets.plumb.dev", "apps"]);
    assert!(out.status.success(), "{}", text(&out));
    until_apps(&world, &[]).await;
    world.until_config_map("web", None).await;
}

#[tokio::test]
async fn a_matrix_of_environments_and_parameter_files_makes_an_app_per_pair_and_can_keep_orphans() {
    let mut world = World::new(
        "appset-matrix",
        &[
            ("apps/web/app.json", r#"{"app": {"name": "web"}}"#),
            ("apps/api/app.yaml", "app:\n  name: api\n"),
            ("envs/dev/web/cm.yaml", &config_map("web-dev", "dev")),
            ("envs/prod/web/cm.yaml", &config_map("web-prod", "prod")),
            ("envs/dev/api/cm.yaml", &config_map("api-dev", "dev")),
            ("envs/prod/api/cm.yaml", &config_map("api-prod", "prod")),
        ],
    )
    .await;
    world.start_controller(&[]);
    let url = world.repo.git_url.clone();
    let namespace = world.namespace.clone();
    let set = |environments: Value| {
        json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "apps"},
            "spec": {
                "interval": "1h",
                "syncPolicy": {"prune": false},
                "generators": [{"matrix": {"generators": [
                    {"list": {"elements": environments}},
                    {"git": {"repoURL": url, "revision": "main", "files": [{"path": "apps/*/app.*"}]}},
                ]}}],
                "template": {
                    "metadata": {"name": "{{app.name}}-{{env}}"},
                    "spec": {
                        "source": {"repoURL": url, "revision": "main", "path": "envs/{{env}}/{{app.name}}"},
                        "destination": {"namespace": namespace},
                        "syncPolicy": {"automated": {"prune": true}, "interval": "1h"}
                    }
                }
            }
        })
    };
    apply(&world, &set(json!([{"env": "dev"}, {"env": "prod"}])));
    until_apps(&world, &["api-dev", "api-prod", "web-dev", "web-prod"]).await;
    world.until_config_map("web-prod", Some("prod")).await;
    world.until_config_map("api-dev", Some("dev")).await;

    // prod taken out of the list: with prune off its apps stay, listed as orphaned.
    apply(&world, &set(json!([{"env": "dev"}])));
    let status = until_set(&world, "prod's apps orphaned", |s| {
        s["orphaned"] == json!(["api-prod", "web-prod"])
    })
    .await;
    assert_eq!(
        status["applications"],
        json!(["api-dev", "web-dev"]),
        "{status}"
    );
    assert_eq!(
        app_names(&world).await,
        ["api-dev", "api-prod", "web-dev", "web-prod"]
    );

    // A template whose name does not tell the sets apart is refused, and nothing changes.
    let mut clash = set(json!([{"env": "dev"}]));
    clash["spec"]["template"]["metadata"]["name"] = json!("{{env}}");
    apply(&world, &clash);
    let status = until_set(&world, "the clash reported", |s| {
        s["conditions"][0]["status"] == "False"
    })
    .await;
    let message = status["conditions"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("two sets of parameters make Application dev"),
        "{message}"
    );
    assert_eq!(status["conditions"][0]["reason"], "InvalidSpec", "{status}");
    assert!(world.apps().get_opt("dev").await.unwrap().is_none());
}
