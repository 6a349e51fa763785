//! A repository written for Argo CD carries sync hooks: a migration Pod that must succeed
//! before anything is applied, a smoke test after everything is Healthy, a notice when a
//! sync fails. plumb runs them at those moments, created afresh each sync (a
//! `generateName` is how they are written), with their delete policies — and a failing
//! PreSync hook stops the sync before anything else is written.
//!
//! The test cluster has no kubelet: the story plays its part and marks each hook Pod
//! Succeeded or Failed.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;
use support::{World, alice, config_map, is, synced_at};

fn automated() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

fn hook_pod(name_field: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  {name_field}\n  annotations:\n{annotations}spec:\n  restartPolicy: Never\n  containers:\n  - name: main\n    image: busybox\n"
    )
}

/// The name of a Pod starting with `prefix` that is not one of `seen`, once one exists.
async fn until_new_pod(world: &World, prefix: &str, seen: &[String]) -> String {
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    let deadline = tokio::time::Instant::now() + support::PATIENCE;
    loop {
        let list = pods.list(&ListParams::default()).await.unwrap();
        let found = list
            .items
            .into_iter()
            .filter_map(|pod| pod.metadata.name)
            .find(|name| name.starts_with(prefix) && !seen.contains(name));
        if let Some(name) = found {
            return name;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new Pod {prefix}…; controller log:\n{}",
            world.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Finishes a hook Pod as a kubelet would: `Succeeded` or `Failed`.
async fn finish(world: &World, pod: &str, phase: &str) {
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    pods.patch_status(
        pod,
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"phase": phase}})),
    )
    .await
    .unwrap();
}

async fn pod_exists(world: &World, name: &str) -> bool {
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    pods.get_opt(name).await.unwrap().is_some()
}

#[tokio::test]
async fn hooks_run_before_and_after_the_apply_with_their_delete_policies() {
    let migrate = hook_pod(
        "generateName: migrate-",
        "    argocd.argoproj.io/hook: PreSync\n",
    );
    let smoke = hook_pod(
        "name: smoke",
        "    argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded\n",
    );
    let mut world = World::new(
        "hooks",
        &[
            ("app/migrate.yaml", &migrate),
            ("app/web.yaml", &config_map("web", "1")),
            ("app/smoke.yaml", &smoke),
        ],
    )
    .await;
    world.start_controller(&[]);
    world.create_app("shop", "app", automated()).await;

    // PreSync: the migration runs first, and nothing else is written until it succeeds.
    let first = until_new_pod(&world, "migrate-", &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(world.config_maps().get_opt("web").await.unwrap().is_none());
    finish(&world, &first, "Succeeded").await;
    world.until_config_map("web", Some("1")).await;

    // PostSync: the smoke test runs once everything is Healthy, and goes when it succeeded.
    let smoke = until_new_pod(&world, "smoke", &[]).await;
    finish(&world, &smoke, "Succeeded").await;
    let v1 = world.repo.rev_parse("main").unwrap();
    let app = world
        .until_app("shop", "synced", |a| synced_at(a, &v1))
        .await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    plumb_testkit::wait::until_deleted(&pods, "smoke", support::PATIENCE).await;
    let status = app.status.unwrap();
    assert!(
        status.history[0].summary.contains("2 hooks run"),
        "{:?}",
        status.history[0]
    );
    assert!(
        status.resources.iter().all(|r| r.kind != "Pod"),
        "hooks are not the app's resources: {:?}",
        status.resources
    );

    // The next commit runs them again; the previous migration goes before the new one.
    let v2 = world.commit(
        &[("app/web.yaml", Some(&config_map("web", "2")))],
        "web 2",
        &alice(),
    );
    world.request_reconcile("shop").await;
    let second = until_new_pod(&world, "migrate-", std::slice::from_ref(&first)).await;
    assert!(!pod_exists(&world, &first).await, "BeforeHookCreation");
    finish(&world, &second, "Succeeded").await;
    world.until_config_map("web", Some("2")).await;
    let smoke = until_new_pod(&world, "smoke", &[]).await;
    finish(&world, &smoke, "Succeeded").await;
    world
        .until_app("shop", "synced at v2", |a| synced_at(a, &v2))
        .await;
}

#[tokio::test]
async fn a_failing_pre_sync_hook_writes_nothing_and_sync_fail_hooks_run() {
    let check = hook_pod("name: check", "    plumb.dev/hook: PreSync\n");
    let notice = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: sync-failed-\n  annotations:\n    argocd.argoproj.io/hook: SyncFail\ndata:\n  value: \"failed\"\n";
    let mut world = World::new(
        "hooks-fail",
        &[
            ("app/check.yaml", &check),
            ("app/web.yaml", &config_map("web", "1")),
            ("app/notice.yaml", notice),
        ],
    )
    .await;
    world.start_controller(&[]);
    world.create_app("shop", "app", automated()).await;
    let check = until_new_pod(&world, "check", &[]).await;
    finish(&world, &check, "Failed").await;
    let app = world
        .until_app("shop", "failed on its PreSync hook", |a| {
            is(a, "Ready", "False", "")
                && a.condition("Ready")
                    .unwrap()
                    .message
                    .contains("PreSync hook")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(message.contains("Pod"), "{message}");
    assert!(world.config_maps().get_opt("web").await.unwrap().is_none());
    let notices = world
        .config_maps()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|cm| {
            cm.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("sync-failed-"))
        })
        .count();
    assert!(notices >= 1, "the SyncFail hook ran");
}

/// Argo CD's PreDelete hooks: a cleanup that must run before an app's objects are deleted
/// with it. It never runs in a sync; when the Application is deleted with its objects it
/// runs first, a failed one keeps everything (and is tried again), and once one succeeds
/// the objects go.
#[tokio::test]
async fn a_pre_delete_hook_runs_before_the_objects_are_deleted_and_a_failed_one_keeps_them() {
    let hook = hook_pod(
        "generateName: cleanup-",
        "    argocd.argoproj.io/hook: PreDelete\n",
    );
    let mut world = World::new(
        "pre-delete",
        &[
            ("app/a.yaml", &config_map("alpha", "1")),
            ("app/hook.yaml", &hook),
        ],
    )
    .await;
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    world
        .patch_app(
            "web",
            json!({"metadata": {"finalizers": [plumb_controller::application::PRUNE_ON_DELETE]}}),
        )
        .await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced", |a| synced_at(a, &v1))
        .await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    assert!(
        pods.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "a PreDelete hook does not run in a sync"
    );

    let out = world.kubectl(&["delete", "application", "web", "--wait=false"]);
    assert!(out.status.success(), "{}", support::text(&out));
    let first = until_new_pod(&world, "cleanup-", &[]).await;
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_some()
    );
    finish(&world, &first, "Failed").await;
    // Failed: nothing deleted, and the hook runs again.
    let second = until_new_pod(&world, "cleanup-", &[first]).await;
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_some()
    );
    assert!(world.apps().get_opt("web").await.unwrap().is_some());
    finish(&world, &second, "Succeeded").await;
    plumb_testkit::wait::until_deleted(&world.config_maps(), "alpha", support::PATIENCE).await;
    plumb_testkit::wait::until_deleted(&world.apps(), "web", support::PATIENCE).await;
}
