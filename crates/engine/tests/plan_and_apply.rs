//! Planning and applying a desired set against the real control plane: objects are
//! created, updated only when they differ, never touched when they match, and a change
//! made by anyone else shows as drift and is reverted.

mod common;

use std::time::Duration;

use common::{World, config_map, deployment, join};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_engine::{
    AppId, Change, Error, IgnoreRule, Inventory, PlanOptions, inventory_config_map,
};

#[tokio::test]
async fn a_first_sync_creates_everything_and_marks_it_as_plumbs() {
    let world = World::new("create").await;
    let set = join(&[config_map("settings", "blue", ""), deployment("web", 2, "")]);

    let plan = world.plan("web", &set, &Inventory::default()).await;
    assert_eq!(plan.count(Change::Create), 2, "{plan:#?}");
    let result = world.sync("web", &set, &Inventory::default()).await;
    assert_eq!(result.inventory.len(), 2);

    let live = world.api::<Deployment>().get("web").await.unwrap();
    let labels = live.metadata.labels.unwrap();
    assert_eq!(labels["plumb.dev/app"], "web");
    let annotations = live.metadata.annotations.unwrap();
    assert_eq!(
        annotations["plumb.dev/tracking-id"],
        format!("web:apps/Deployment:{}/web", world.namespace)
    );
    let managers: Vec<_> = live
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"plumb".to_owned()), "{managers:?}");
}

#[tokio::test]
async fn a_no_op_plan_makes_no_dry_run_and_no_write() {
    let world = World::new("noop").await;
    let set = join(&[
        config_map("a", "1", ""),
        config_map("b", "2", ""),
        deployment("web", 1, ""),
    ]);
    let first = world.sync("app", &set, &Inventory::default()).await;
    // Controllers annotate what plumb created (a Deployment's revision): one more
    // comparison after they settle is expected; from then on, nothing.
    wait_for_revision(&world, "web").await;
    world.sync("app", &set, &first.inventory).await;

    world.requests.reset();
    let plan = world.plan("app", &set, &first.inventory).await;
    assert!(plan.is_in_sync(), "{plan:#?}");
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded());
    assert_eq!(world.requests.dry_runs(), 0, "dry-runs on a no-op");
    assert_eq!(world.requests.writes(), 0, "writes on a no-op");
}

#[tokio::test]
async fn a_kept_cache_makes_a_fresh_engines_no_op_plan_free_as_well() {
    let world = World::new("kept-cache").await;
    let set = join(&[
        config_map("a", "1", ""),
        config_map("b", "2", ""),
        deployment("web", 1, ""),
    ]);
    let first = world.sync("app", &set, &Inventory::default()).await;
    wait_for_revision(&world, "web").await;
    world.sync("app", &set, &first.inventory).await;

    // What `plumb apply` keeps beside the inventory, and the next process reads back.
    let app = AppId::new("app");
    let snapshot = world.engine.cache_snapshot(&first.inventory.objects);
    assert_eq!(snapshot.entries.len(), 3, "{snapshot:#?}");
    inventory_config_map::save_cache(
        &world.client,
        &world.namespace,
        &app,
        &first.inventory,
        &snapshot,
    )
    .await
    .unwrap();
    inventory_config_map::save(&world.client, &world.namespace, &app, &first.inventory)
        .await
        .unwrap();
    let (_, kept) = inventory_config_map::load_with_cache(&world.client, &world.namespace, &app)
        .await
        .unwrap();
    assert_eq!(
        kept, snapshot,
        "saving the inventory keeps the cache beside it"
    );

    let (fresh, requests) = common::counted_engine(world.cluster).await;
    fresh.restore_cache(&kept);
    requests.reset();
    let plan = fresh
        .plan(
            &app,
            &world.desired(&set),
            &first.inventory,
            &world.options(),
        )
        .await
        .unwrap();
    assert!(plan.is_in_sync(), "{plan:#?}");
    assert_eq!(requests.dry_runs(), 0, "a fresh engine with the kept cache");

    // The kept verdict holds only for the live object it saw: a hand change shows.
    world
        .api::<ConfigMap>()
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"data": {"value": "by hand"}})),
        )
        .await
        .unwrap();
    let plan = fresh
        .plan(
            &app,
            &world.desired(&set),
            &first.inventory,
            &world.options(),
        )
        .await
        .unwrap();
    assert_eq!(plan.count(Change::Update), 1, "{plan:#?}");
}

#[tokio::test]
async fn lists_read_ahead_from_the_inventory_leave_the_plan_nothing_to_read() {
    let world = World::new("observed").await;
    let set = join(&[config_map("a", "1", ""), deployment("web", 1, "")]);
    let first = world.sync("app", &set, &Inventory::default()).await;
    let app = AppId::new("app");
    // What `plumb apply` does: list what the inventory holds while it renders and
    // resolves `yaml`, then plan with those lists. Only the plan's own requests count.
    let (world, app, inventory) = (&world, &app, &first.inventory);
    let plan_after_observing = |yaml: String| async move {
        let (options, desired) = (world.options(), world.desired(&yaml));
        let (observed, resolved) = tokio::join!(
            world.engine.observe(app, inventory, &options),
            world.engine.resolve(app, &desired, &options),
        );
        world.requests.reset();
        world
            .engine
            .plan_resolved(resolved.unwrap(), inventory, observed)
            .await
            .unwrap()
    };

    let plan = plan_after_observing(set.clone()).await;
    assert!(plan.is_in_sync(), "{plan:#?}");
    assert_eq!(world.requests.reads(), 0, "the plan read again");

    // A kind the inventory does not hold yet is listed by the plan itself.
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: b\nstringData:\n  value: \"2\"\n";
    let plan = plan_after_observing(join(&[set.clone(), secret.to_owned()])).await;
    assert_eq!(plan.count(Change::Create), 1, "{plan:#?}");
    assert_eq!(plan.count(Change::InSync), 2, "{plan:#?}");
    assert!(world.requests.reads() >= 1, "the new kind was not listed");
}

#[tokio::test]
async fn a_defaulted_field_is_not_drift() {
    let world = World::new("defaults").await;
    // The API server fills in strategy, revisionHistoryLimit, progressDeadlineSeconds,
    // the container's imagePullPolicy, terminationMessagePath…; none of it is in Git.
    let set = deployment("web", 1, "");
    let result = world.sync("app", &set, &Inventory::default()).await;

    let fresh = world.restarted_engine().await; // no cache: a real dry-run and comparison
    let plan = fresh
        .plan(
            &AppId::new("app"),
            &world.desired(&set),
            &result.inventory,
            &world.options(),
        )
        .await
        .unwrap();
    assert!(plan.is_in_sync(), "{:#?}", plan.actions);
}

#[tokio::test]
async fn a_change_made_by_another_manager_is_drift_and_is_reverted() {
    let world = World::new("drift").await;
    let set = deployment("web", 2, "");
    let result = world.sync("app", &set, &Inventory::default()).await;

    // As `kubectl edit` would: a merge patch under another field manager.
    scale_by_hand(&world, "web", 5, "kubectl-edit").await;

    let plan = world.plan("app", &set, &result.inventory).await;
    let action = &plan.actions[0];
    assert_eq!(action.change, Change::Update);
    let diff = &action.diff.as_ref().unwrap().text;
    assert!(
        diff.contains("-  replicas: 5") && diff.contains("+  replicas: 2"),
        "{diff}"
    );

    assert!(
        world
            .engine
            .apply(&plan, &Default::default())
            .await
            .succeeded()
    );
    let live = world.api::<Deployment>().get("web").await.unwrap();
    assert_eq!(live.spec.unwrap().replicas, Some(2));
}

#[tokio::test]
async fn conflicts_are_forced_by_default_and_reported_when_not() {
    let world = World::new("conflict").await;
    // Someone else owns `data.value` through their own server-side apply.
    let theirs = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"value": "theirs"}});
    world
        .api::<ConfigMap>()
        .patch(
            "shared",
            &PatchParams::apply("helm"),
            &Patch::Apply(&theirs),
        )
        .await
        .unwrap();
    let set = config_map("shared", "ours", "");

    let polite = PlanOptions {
        force_conflicts: false,
        ..world.options()
    };
    let err = world
        .plan_with("app", &set, &Inventory::default(), &polite)
        .await
        .unwrap_err();
    match &err {
        Error::Conflict { managers, .. } => assert_eq!(managers, "helm"),
        other => panic!("expected a conflict naming helm, got {other}"),
    }

    world.sync("app", &set, &Inventory::default()).await;
    let live = world.api::<ConfigMap>().get("shared").await.unwrap();
    assert_eq!(live.data.unwrap()["value"], "ours");
}

#[tokio::test]
async fn ignored_differences_do_not_count_as_drift() {
    let world = World::new("ignore").await;
    let set = deployment("web", 2, "");
    let result = world.sync("app", &set, &Inventory::default()).await;
    scale_by_hand(&world, "web", 7, "hpa").await;

    let options = PlanOptions {
        ignore_differences: vec![IgnoreRule {
            group: Some("apps".into()),
            kind: Some("Deployment".into()),
            json_pointers: vec!["/spec/replicas".into()],
            ..IgnoreRule::default()
        }],
        ..world.options()
    };
    let plan = world
        .plan_with("app", &set, &result.inventory, &options)
        .await
        .unwrap();
    assert!(plan.is_in_sync(), "{:#?}", plan.actions);

    // The same engine, the rule removed: the verdict reached under the rule must not be
    // reused from the cache — the scaled replicas are drift again.
    let plan = world
        .plan_with("app", &set, &result.inventory, &world.options())
        .await
        .unwrap();
    assert!(!plan.is_in_sync(), "{:#?}", plan.actions);
}

#[tokio::test]
async fn an_invalid_object_fails_the_plan_and_nothing_is_written() {
    let world = World::new("invalid").await;
    let broken = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  replicas: lots\n  selector: {matchLabels: {app: x}}\n  template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i}]}}\n";
    let set = join(&[config_map("first", "1", ""), broken.to_owned()]);

    let err = refused_plan(&world, &set).await;
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("broken"), "{err}");
    assert!(
        world
            .api::<ConfigMap>()
            .get_opt("first")
            .await
            .unwrap()
            .is_none()
    );
}

/// plumb's applies tell the API server not to parse their bodies a second time for
/// duplicate keys (`fieldValidation=Ignore`); a misspelt field is refused all the same.
#[tokio::test]
async fn a_misspelt_field_fails_the_plan_naming_it_and_nothing_is_written() {
    let world = World::new("misspelt").await;
    let misspelt = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: misspelt}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: x}}\n  template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i, imagePullPolicyy: Always}]}}\n";
    let set = join(&[config_map("first", "1", ""), misspelt.to_owned()]);

    let message = refused_plan(&world, &set).await.to_string();
    assert!(message.contains("misspelt"), "{message}");
    assert!(message.contains("imagePullPolicyy"), "{message}");
}

/// Plans `set` as a first sync, which must fail without a single write.
async fn refused_plan(world: &World, set: &str) -> Error {
    world.requests.reset();
    let err = world
        .plan_with("app", set, &Inventory::default(), &world.options())
        .await
        .unwrap_err();
    assert_eq!(world.requests.writes(), 0, "{err}");
    err
}

#[tokio::test]
async fn secret_values_never_appear_in_a_diff() {
    let world = World::new("secret").await;
    let secret = |password: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData:\n  user: admin\n  password: {password}\n"
        )
    };
    let result = world
        .sync("app", &secret("old-hunter2"), &Inventory::default())
        .await;

    let plan = world
        .plan("app", &secret("new-hunter3"), &result.inventory)
        .await;
    let diff = &plan.actions[0]
        .diff
        .as_ref()
        .expect("the password changed")
        .text;
    assert!(!diff.contains("hunter"), "{diff}");
    assert!(
        !diff.contains("aHVudGVy") && !diff.contains("YWRtaW4"),
        "no base64 either: {diff}"
    );
    assert!(
        diff.contains("(before)") && diff.contains("(after)"),
        "the change is visible: {diff}"
    );
    drop(world.api::<Secret>());
}

#[tokio::test]
async fn a_kind_the_cluster_does_not_serve_is_an_error_naming_it() {
    let world = World::new("unknown").await;
    let set = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    let err = world
        .plan_with("app", set, &Inventory::default(), &world.options())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKind { .. }), "{err}");
    assert!(err.to_string().contains("Widget.example.com w"), "{err}");
}

/// cert-manager's CRDs, then its issuers: one app (or a person) installs CRDs, another
/// creates their objects. The second app's engine, which discovered the cluster before the
/// CRDs existed, finds the new kind without a restart.
#[tokio::test]
async fn a_kind_installed_by_someone_else_is_found_without_a_restart() {
    let world = World::new("crd-later").await;
    let group = format!("{}.example.com", world.namespace);
    let set =
        format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g}}\nspec: {{size: 3}}\n");
    let err = world
        .plan_with("app", &set, &Inventory::default(), &world.options())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKind { .. }), "{err}");

    // Another actor installs the CRD, through its own client.
    let crd = serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                          "x-kubernetes-preserve-unknown-fields": true}}}]},
    });
    let crds: Api<CustomResourceDefinition> = Api::all(world.client.clone());
    crds.create(&Default::default(), &serde_json::from_value(crd).unwrap())
        .await
        .unwrap();

    // Within a few retries, as a failing app's reconciles are retried, the kind is found.
    plumb_testkit::eventually("the new kind planned", Duration::from_secs(60), || async {
        world
            .plan_with("app", &set, &Inventory::default(), &world.options())
            .await
            .ok()
    })
    .await;
    world.sync("app", &set, &Inventory::default()).await;
}

async fn wait_for_revision(world: &World, name: &str) {
    let deployments = world.api::<Deployment>();
    plumb_testkit::eventually(
        "the deployment controller to annotate the revision",
        std::time::Duration::from_secs(60),
        || async {
            let live = deployments.get(name).await.ok()?;
            live.metadata
                .annotations?
                .contains_key("deployment.kubernetes.io/revision")
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn fields_owned_by_an_ignored_manager_do_not_count_as_drift() {
    let world = World::new("ignore-manager").await;
    let set = deployment("web", 2, "");
    let result = world.sync("app", &set, &Inventory::default()).await;
    scale_by_hand(&world, "web", 9, "autoscaler").await;

    let drifted = world.plan("app", &set, &result.inventory).await;
    assert_eq!(
        drifted.actions[0].change,
        Change::Update,
        "without the rule it is drift"
    );

    let options = PlanOptions {
        ignore_differences: vec![IgnoreRule {
            kind: Some("Deployment".into()),
            managed_fields_managers: vec!["autoscaler".into()],
            ..IgnoreRule::default()
        }],
        ..world.options()
    };
    let plan = world
        .plan_with("app", &set, &result.inventory, &options)
        .await
        .unwrap();
    assert!(plan.is_in_sync(), "{:#?}", plan.actions);
}

#[tokio::test]
async fn an_object_made_by_hand_is_adopted_and_updated_not_created() {
    let world = World::new("adopt").await;
    let by_hand = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "legacy"}, "data": {"value": "old"}});
    world
        .api::<ConfigMap>()
        .patch(
            "legacy",
            &PatchParams::apply("kubectl"),
            &Patch::Apply(&by_hand),
        )
        .await
        .unwrap();

    let plan = world
        .plan(
            "app",
            &config_map("legacy", "new", ""),
            &Inventory::default(),
        )
        .await;
    assert_eq!(
        plan.actions[0].change,
        Change::Update,
        "{:#?}",
        plan.actions
    );
    let diff = &plan.actions[0].diff.as_ref().unwrap().text;
    assert!(
        diff.contains("+    plumb.dev/app: app") && diff.contains("-  value: old"),
        "{diff}"
    );
}

/// Sets a Deployment's replicas with a merge patch under another field manager, as
/// `kubectl edit` or an autoscaler would.
async fn scale_by_hand(world: &World, name: &str, replicas: u32, manager: &str) {
    let patch = serde_json::json!({"spec": {"replicas": replicas}});
    let params = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    world
        .api::<Deployment>()
        .patch(name, &params, &Patch::Merge(&patch))
        .await
        .unwrap();
}
