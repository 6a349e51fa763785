//! What operators do to a running controller: suspend it during an incident, pin a
//! rollback and unpin it, order apps with dependsOn, confine an app to what its
//! ServiceAccount may change, delete an app with or without its objects — and what plumb
//! does when another controller fights it.

mod support;

use serde_json::json;
use support::{World, alice, config_map, is, synced_at, text};

fn self_healing() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

fn scale(value: &str) -> Vec<&str> {
    vec!["patch", "configmap", "alpha", "--type=merge", "-p", value]
}

#[tokio::test]
async fn suspend_stops_self_heal_and_resume_restores_it() {
    let mut world = World::new("suspend", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    world.create_app("web", "app", self_healing()).await;
    world.until_config_map("alpha", Some("1")).await;

    let suspend = world.plumb(&["suspend", "web"]);
    assert!(suspend.status.success(), "{}", text(&suspend));
    world
        .until_app("web", "Suspended", |a| is(a, "Ready", "False", "Suspended"))
        .await;
    let edit = world.kubectl(&scale(r#"{"data":{"value":"incident fix"}}"#));
    assert!(edit.status.success(), "{}", text(&edit));
    world
        .until_app("web", "drift reported while suspended", |a| {
            a.condition("Ready")
                .is_some_and(|c| c.message.contains("out of sync"))
        })
        .await;
    world.until_config_map("alpha", Some("incident fix")).await;

    // Resuming asks for a sync and follows it; the history says automation resumed, not
    // that a new revision came.
    let resume = world.plumb(&["resume", "web", "--timeout", "60s"]);
    assert!(resume.status.success(), "{}", text(&resume));
    assert!(
        text(&resume).contains("(Resumed): Succeeded"),
        "{}",
        text(&resume)
    );
    world.until_config_map("alpha", Some("1")).await;
    let app = world.apps().get("web").await.unwrap();
    let newest = &app.status.unwrap().history[0];
    assert_eq!(newest.trigger, "Resumed", "{newest:?}");
}

#[tokio::test]
async fn a_rollback_pins_an_earlier_commit_until_unpinned() {
    let mut world = World::new("pin", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    let first = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &first))
        .await;
    let second = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "v2",
        &alice(),
    );
    world.request_reconcile("web").await;
    world
        .until_app("web", "synced at v2", |a| synced_at(a, &second))
        .await;

    // Roll back to sync #1 of the history.
    let rollback = world.plumb(&["rollback", "web", "1"]);
    assert!(rollback.status.success(), "{}", text(&rollback));
    world.until_config_map("alpha", Some("1")).await;
    let app = world
        .until_app("web", "rolled back", |a| {
            is(a, "Ready", "True", "RolledBack")
        })
        .await;
    let pin = app
        .status
        .as_ref()
        .unwrap()
        .pinned
        .clone()
        .expect("the pin is in status");
    assert_eq!(
        (pin.revision.as_str(), pin.from.as_str()),
        (first.as_str(), "main")
    );
    assert_eq!(app.status.unwrap().history[0].trigger, "Rollback");

    // Pinned: a new commit is not applied, and drift is not healed.
    let third = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "3")))],
        "v3",
        &alice(),
    );
    world.request_reconcile("web").await;
    let edit = world.kubectl(&scale(r#"{"data":{"value":"by hand"}}"#));
    assert!(edit.status.success());
    world
        .until_app("web", "drift reported while pinned", |a| {
            a.status
                .as_ref()
                .is_some_and(|s| s.sync.status == "OutOfSync")
        })
        .await;
    world.until_config_map("alpha", Some("by hand")).await;

    let unpin = world.plumb(&["rollback", "web", "--unpin"]);
    assert!(unpin.status.success(), "{}", text(&unpin));
    world.until_config_map("alpha", Some("3")).await;
    let app = world
        .until_app("web", "synced at v3", |a| synced_at(a, &third))
        .await;
    assert!(app.status.unwrap().pinned.is_none());
}

#[tokio::test]
async fn an_app_waits_for_the_apps_it_depends_on() {
    let mut world = World::new(
        "depends",
        &[
            ("infra/a.yaml", &config_map("infra", "1")),
            ("web/a.yaml", &config_map("web", "1")),
        ],
    )
    .await;
    world.start_controller(&[]);
    // web depends on infra, which is suspended: web must wait.
    let mut infra = self_healing();
    infra["suspend"] = json!(true);
    world.create_app("infra", "infra", infra).await;
    let mut web = self_healing();
    web["dependsOn"] = json!([{"name": "infra"}]);
    world.create_app("web", "web", web).await;
    let waiting = world
        .until_app("web", "waiting for infra", |a| {
            is(a, "Reconciling", "True", "Waiting")
        })
        .await;
    assert!(
        waiting
            .condition("Reconciling")
            .unwrap()
            .message
            .contains("infra")
    );
    assert!(
        world.config_maps().get_opt("web").await.unwrap().is_none(),
        "web applied before infra"
    );

    world
        .patch_app("infra", json!({"spec": {"suspend": false}}))
        .await;
    world.until_config_map("infra", Some("1")).await;
    world.until_config_map("web", Some("1")).await;
    world
        .until_app("web", "ready", |a| is(a, "Ready", "True", ""))
        .await;
}

#[tokio::test]
async fn a_controller_fighting_plumb_is_detected_and_backed_off() {
    let mut world = World::new("loop", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    world.create_app("web", "app", self_healing()).await;
    world.until_config_map("alpha", Some("1")).await;

    // "Another controller": rewrites the value whenever plumb puts it back.
    let fights = 6;
    for round in 0..fights {
        world.until_config_map("alpha", Some("1")).await;
        let edit = world.kubectl(&[
            "patch",
            "configmap",
            "alpha",
            "--type=merge",
            "--field-manager=rival-operator",
            "-p",
            &format!(r#"{{"data":{{"value":"rival {round}"}}}}"#),
        ]);
        assert!(edit.status.success(), "{}", text(&edit));
        let app = world.apps().get("web").await.unwrap();
        if is(&app, "SyncLoop", "True", "") {
            break;
        }
    }
    let app = world
        .until_app("web", "a SyncLoop condition", |a| {
            is(a, "SyncLoop", "True", "")
        })
        .await;
    let message = &app.condition("SyncLoop").unwrap().message;
    assert!(message.contains("ConfigMap"), "{message}");
    assert!(
        message.contains("rival-operator keeps changing /data/value"),
        "{message}"
    );
    assert!(message.contains("jsonPointers: [/data/value]"), "{message}");
}

#[tokio::test]
async fn an_app_can_only_change_what_its_service_account_may() {
    let mut world = World::new(
        "impersonate",
        &[("app/a.yaml", &config_map("alpha", "1")), ("app/role.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: plumb-test-escalation\nrules: []\n")],
    )
    .await;
    // The ServiceAccount may manage ConfigMaps in the namespace, nothing else.
    let ns = world.namespace.clone();
    world.config_map_account("deployer");
    world.start_controller(&[]);
    let mut spec = self_healing();
    spec["destination"] = json!({"serviceAccountName": "deployer"});
    world.create_app("web", "app", spec).await;
    let app = world
        .until_app("web", "the sync refused", |a| {
            !is(a, "Ready", "True", "")
                && a.condition("Ready")
                    .is_some_and(|c| c.message.contains("plumb-test-escalation"))
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(
        message.contains("forbidden") || message.contains("Forbidden"),
        "{message}"
    );
    assert!(
        message.contains(&format!("system:serviceaccount:{ns}:deployer")),
        "{message}"
    );
    // Nothing outside the ServiceAccount's rights was created.
    let roles = world.kubectl(&["get", "clusterrole", "plumb-test-escalation"]);
    assert!(!roles.status.success());
}

#[tokio::test]
async fn deleting_an_app_takes_its_objects_only_when_it_carries_the_finalizer() {
    let mut world = World::new(
        "delete",
        &[
            ("kept/a.yaml", &config_map("kept", "1")),
            ("gone/a.yaml", &config_map("gone", "1")),
        ],
    )
    .await;
    world.start_controller(&[]);
    world.create_app("keeper", "kept", self_healing()).await;
    world.create_app("cascader", "gone", self_healing()).await;
    world
        .patch_app(
            "cascader",
            json!({"metadata": {"finalizers": [plumb_controller::application::PRUNE_ON_DELETE]}}),
        )
        .await;
    let v1 = world.repo.rev_parse("main").unwrap();
    for app in ["keeper", "cascader"] {
        world.until_app(app, "synced", |a| synced_at(a, &v1)).await;
    }
    let config_maps = world.config_maps();
    let inventory = format!("plumb-inventory.{}.cascader", world.namespace);
    assert!(config_maps.get_opt(&inventory).await.unwrap().is_some());

    for app in ["keeper", "cascader"] {
        let out = world.kubectl(&["delete", "application", app, "--wait=false"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let apps = world.apps();
    for app in ["keeper", "cascader"] {
        plumb_testkit::wait::until_deleted(&apps, app, support::PATIENCE).await;
    }
    plumb_testkit::wait::until_deleted(&config_maps, "gone", support::PATIENCE).await;
    assert!(
        config_maps.get_opt(&inventory).await.unwrap().is_none(),
        "the inventory went with the app"
    );
    assert!(
        config_maps.get_opt("kept").await.unwrap().is_some(),
        "without the finalizer the objects stay"
    );
}
