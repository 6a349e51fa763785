//! The order a sync applies in, how waves wait for health, and what pruning may and may
//! not delete — against the real control plane.

mod common;

use std::time::Duration;

use common::{ANY_FIELDS, World, config_map, crd, deployment, join, make_pods_ready};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use plumb_engine::{Change, Error, Inventory};

#[tokio::test]
async fn a_crd_and_its_custom_resources_apply_in_one_sync() {
    let world = World::new("crd").await;
    let group = format!("{}.example.com", world.namespace);
    let crd = crd(&group, "Widget", ANY_FIELDS);
    let widget = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: gizmo}}\nspec: {{size: 3}}\n"
    );
    // The custom resource comes first in the file; order is the engine's business.
    let set = join(&[widget, crd]);

    let plan = world.plan("app", &set, &Inventory::default()).await;
    assert_eq!(
        plan.actions[0].object.kind, "CustomResourceDefinition",
        "{:#?}",
        plan.actions
    );
    assert_eq!(plan.actions[1].change, Change::Create);
    assert!(
        plan.actions[1]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("CustomResourceDefinition")
    );

    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");
    let resource = ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(world.client.clone(), &world.namespace, &resource);
    assert_eq!(widgets.get("gizmo").await.unwrap().data["spec"]["size"], 3);
}

#[tokio::test]
async fn a_kept_discovery_that_predates_a_crd_is_asked_again_not_trusted() {
    let world = World::new("kept-discovery").await;
    // What an earlier `plumb apply` kept on disk, before anyone created the CRD.
    let (kept, fresh) = world.engine.discovery().await;
    assert!(fresh && !kept.kinds.is_empty());

    let group = format!("{}.example.org", world.namespace);
    let crd = crd(&group, "Gadget", ANY_FIELDS);
    let installed = world.sync("crd-owner", &crd, &Inventory::default()).await;
    assert!(installed.succeeded());

    let engine = plumb_engine::Engine::from_discovery(world.client.clone(), &kept);
    let gadget =
        format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g}}\nspec: {{size: 1}}\n");
    let plan = engine
        .plan(
            &plumb_engine::AppId::new("app"),
            &world.desired(&gadget),
            &Inventory::default(),
            &world.options(),
        )
        .await
        .unwrap();
    assert_eq!(plan.count(Change::Create), 1, "{:#?}", plan.actions);
    let (_, fresh) = engine.discovery().await;
    assert!(fresh, "the missing kind made the engine discover again");
    // A kind nobody serves is still refused, by name.
    let unknown = "apiVersion: nowhere.example.org/v1\nkind: Nothing\nmetadata: {name: nothing}\n";
    let err = engine
        .plan(
            &plumb_engine::AppId::new("app"),
            &world.desired(unknown),
            &Inventory::default(),
            &world.options(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKind { .. }), "{err}");
}

#[tokio::test]
async fn a_wave_waits_for_the_previous_wave_to_be_healthy() {
    let world = World::new("waves").await;
    let set = join(&[
        deployment("db", 1, "plumb.dev/sync-wave: \"0\""),
        config_map("after-db", "1", "plumb.dev/sync-wave: \"1\""),
    ]);
    let plan = world.plan("app", &set, &Inventory::default()).await;
    let engine = world.engine.clone();
    let sync = tokio::spawn(async move { engine.apply(&plan, &Default::default()).await });

    // The Deployment exists but no Pod is ready: wave 1 must not have been applied.
    let config_maps: Api<ConfigMap> = world.api();
    make_pods_ready_after(&world, "app=db", || async {
        assert!(
            config_maps.get_opt("after-db").await.unwrap().is_none(),
            "wave 1 ran before wave 0 was healthy"
        );
    })
    .await;

    let result = tokio::time::timeout(Duration::from_secs(120), sync)
        .await
        .unwrap()
        .unwrap();
    assert!(result.succeeded(), "{result:#?}");
    assert!(config_maps.get_opt("after-db").await.unwrap().is_some());
}

/// Runs `check` once the Pods exist, then makes them ready.
async fn make_pods_ready_after<F, Fut>(world: &World, selector: &str, check: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let pods: Api<k8s_openapi::api::core::v1::Pod> = world.api();
    plumb_testkit::eventually("the wave-0 pods", Duration::from_secs(60), || async {
        let list = pods
            .list(&kube::api::ListParams::default().labels(selector))
            .await
            .ok()?;
        (!list.items.is_empty()).then_some(())
    })
    .await;
    check().await;
    make_pods_ready(world, selector).await;
}

#[tokio::test]
async fn objects_removed_from_git_are_pruned_unless_they_opt_out() {
    let world = World::new("prune").await;
    let first = world
        .sync(
            "app",
            &join(&[
                config_map("gone", "1", ""),
                config_map("kept", "1", "plumb.dev/prune: disabled"),
                config_map("stays", "1", ""),
            ]),
            &Inventory::default(),
        )
        .await;

    let plan = world
        .plan("app", &config_map("stays", "1", ""), &first.inventory)
        .await;
    let change_of = |name: &str| {
        plan.actions
            .iter()
            .find(|a| a.object.name == name)
            .map(|a| a.change)
    };
    assert_eq!(change_of("gone"), Some(Change::Prune));
    assert_eq!(change_of("kept"), Some(Change::Orphan));
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");

    let config_maps: Api<ConfigMap> = world.api();
    plumb_testkit::wait::until_deleted(&config_maps, "gone", Duration::from_secs(30)).await;
    assert!(config_maps.get_opt("kept").await.unwrap().is_some());
    assert!(config_maps.get_opt("stays").await.unwrap().is_some());
    assert!(
        result.inventory.objects.iter().any(|o| o.name == "kept"),
        "an orphan stays tracked"
    );
}

/// The inventory is a ConfigMap that the namespace's users can write, and objects move
/// between apps: prune deletes only what carries this app's tracking id.
#[tokio::test]
async fn prune_leaves_objects_that_another_app_or_a_person_owns() {
    let world = World::new("owners").await;
    let first = world
        .sync(
            "a",
            &join(&[config_map("moved", "1", ""), config_map("stays", "1", "")]),
            &Inventory::default(),
        )
        .await;
    // App b adopts `moved` (its Git now has it); a person creates `forged` and writes it
    // into a's inventory, as anyone who may edit ConfigMaps in the namespace could.
    world
        .sync("b", &config_map("moved", "2", ""), &Inventory::default())
        .await;
    let config_maps: Api<ConfigMap> = world.api();
    let forged =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "forged"}})).unwrap();
    config_maps
        .create(&Default::default(), &forged)
        .await
        .unwrap();
    let mut forged_entry = first.inventory.objects[0].clone();
    forged_entry.name = "forged".into();
    let mut listed = first.inventory.objects.clone();
    listed.push(forged_entry);
    let tampered = Inventory::new(listed);

    let plan = world
        .plan("a", &config_map("stays", "1", ""), &tampered)
        .await;
    let change_of = |name: &str| {
        plan.actions
            .iter()
            .find(|a| a.object.name == name)
            .map(|a| a.change)
    };
    assert_eq!(change_of("moved"), Some(Change::Release));
    assert_eq!(change_of("forged"), Some(Change::Release));
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");
    let moved = config_maps.get("moved").await.unwrap();
    assert_eq!(moved.data.unwrap()["value"], "2", "b's object is untouched");
    assert!(config_maps.get_opt("forged").await.unwrap().is_some());
    let names: Vec<_> = result
        .inventory
        .objects
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(names, ["stays"], "released objects leave a's inventory");
}

#[tokio::test]
async fn an_empty_desired_set_never_prunes() {
    let world = World::new("empty").await;
    let first = world
        .sync(
            "app",
            &config_map("precious", "1", ""),
            &Inventory::default(),
        )
        .await;

    let err = world
        .plan_with("app", "", &first.inventory, &world.options())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EmptySet { inventory: 1 }), "{err}");
    assert!(
        world
            .api::<ConfigMap>()
            .get_opt("precious")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_immutable_field_change_is_refused_unless_the_object_opts_in_to_recreation() {
    let world = World::new("immutable").await;
    let frozen = |value: &str, annotations: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\n  annotations: {{{annotations}}}\nimmutable: true\ndata: {{v: \"{value}\"}}\n"
        )
    };
    let first = world
        .sync("app", &frozen("1", ""), &Inventory::default())
        .await;
    let before = world
        .api::<ConfigMap>()
        .get("frozen")
        .await
        .unwrap()
        .metadata
        .uid;

    let err = world
        .plan_with("app", &frozen("2", ""), &first.inventory, &world.options())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Immutable { .. }), "{err}");
    assert!(
        err.to_string().contains("plumb.dev/recreate"),
        "the error says how to opt in: {err}"
    );

    world
        .sync(
            "app",
            &frozen("2", "plumb.dev/recreate: enabled"),
            &first.inventory,
        )
        .await;
    let after = world.api::<ConfigMap>().get("frozen").await.unwrap();
    assert_eq!(after.data.unwrap()["v"], "2");
    assert_ne!(after.metadata.uid, before, "recreated, not updated");
}

#[tokio::test]
async fn a_namespace_and_the_objects_in_it_apply_in_one_sync() {
    let world = World::new("fresh-ns").await;
    let fresh = format!("{}-new", world.namespace);
    let objects: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: {fresh}}}\ndata: {{k: \"{i}\"}}\n"
            )
        })
        .chain([format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {fresh}}}\n"
        )])
        .collect();
    let set = join(&objects);

    // The namespace does not exist yet: planning cannot dry-run its objects (that could
    // only say "not found"), and the plan says so.
    world.requests.reset();
    let plan = world.plan("app", &set, &Inventory::default()).await;
    assert_eq!(
        plan.actions[0].object.kind, "Namespace",
        "{:#?}",
        plan.actions
    );
    for action in &plan.actions[1..] {
        assert_eq!(action.change, Change::Create, "{action:#?}");
        assert!(
            action
                .note
                .as_deref()
                .is_some_and(|note| note.starts_with("dry-run once its namespace is created")),
            "{action:#?}"
        );
    }
    assert_eq!(
        world.requests.dry_runs(),
        1,
        "only the Namespace is dry-run"
    );

    // Applying dry-runs them once the namespace exists, before writing them.
    world.requests.reset();
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");
    assert_eq!(world.requests.dry_runs(), 3, "each ConfigMap, once");
    let config_maps: Api<ConfigMap> = Api::namespaced(world.client.clone(), &fresh);
    for i in 0..3 {
        assert!(
            config_maps
                .get_opt(&format!("c{i}"))
                .await
                .unwrap()
                .is_some()
        );
    }

    // Once it exists, the same objects plan as in sync.
    let again = world.plan("app", &set, &result.inventory).await;
    assert!(again.is_in_sync(), "{:#?}", again.actions);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(world.client.clone());
    let _ = namespaces.delete(&fresh, &Default::default()).await;
}

#[tokio::test]
async fn an_invalid_object_in_a_new_namespace_leaves_nothing_behind() {
    let world = World::new("fresh-bad").await;
    let fresh = format!("{}-new", world.namespace);
    let set = join(&[
        format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {fresh}}}\n"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: fine, namespace: {fresh}}}\ndata: {{k: v}}\n"
        ),
        // Valid YAML, valid to the schema; only the API server's validation refuses it.
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: port-too-big, namespace: {fresh}}}\nspec: {{ports: [{{port: 99999}}]}}\n"
        ),
    ]);
    let plan = world.plan("app", &set, &Inventory::default()).await;

    let result = world.engine.apply(&plan, &Default::default()).await;
    let stopped = result.stopped.as_deref().unwrap_or_default();
    assert!(
        stopped.contains("port-too-big") && stopped.contains("must be between 1 and 65535"),
        "{result:#?}"
    );
    assert!(stopped.contains("deleted again"), "{stopped}");
    let refused: Vec<_> = result
        .outcomes
        .iter()
        .filter(|o| o.error.is_some())
        .map(|o| o.object.name.as_str())
        .collect();
    assert_eq!(refused, ["port-too-big"], "{result:#?}");
    assert!(result.inventory.is_empty(), "the app owns nothing new");

    // Nothing of the sync stays: the valid ConfigMap was never written, and the namespace
    // made to validate them is gone or going.
    let config_maps: Api<ConfigMap> = Api::namespaced(world.client.clone(), &fresh);
    assert!(config_maps.get_opt("fine").await.unwrap().is_none());
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(world.client.clone());
    if let Some(namespace) = namespaces.get_opt(&fresh).await.unwrap() {
        assert!(
            namespace.metadata.deletion_timestamp.is_some(),
            "{namespace:#?}"
        );
    }
}

#[tokio::test]
async fn an_invalid_custom_resource_of_a_new_definition_leaves_nothing_behind() {
    let world = World::new("crd-bad").await;
    let group = format!("{}.example.net", world.namespace);
    // A structural schema: `size` is an integer.
    let crd = crd(
        &group,
        "Gauge",
        "type: object\nproperties:\n  spec:\n    type: object\n    properties: {size: {type: integer}}",
    );
    let fine = format!(
        "apiVersion: {group}/v1\nkind: Gauge\nmetadata: {{name: fine}}\nspec: {{size: 3}}\n"
    );
    let wrong = format!(
        "apiVersion: {group}/v1\nkind: Gauge\nmetadata: {{name: wrong}}\nspec: {{size: three}}\n"
    );
    let set = join(&[crd, config_map("beside", "1", ""), fine, wrong]);

    let plan = world.plan("app", &set, &Inventory::default()).await;
    let note = |name: &str| {
        plan.actions
            .iter()
            .find(|a| a.object.name == name)
            .and_then(|a| a.note.clone())
            .unwrap_or_default()
    };
    assert!(
        note("wrong").starts_with("dry-run once its CustomResourceDefinition is established"),
        "{:#?}",
        plan.actions
    );

    let result = world.engine.apply(&plan, &Default::default()).await;
    let stopped = result.stopped.as_deref().unwrap_or_default();
    assert!(
        stopped.contains("wrong") && stopped.contains("deleted again"),
        "{result:#?}"
    );
    let refused: Vec<_> = result
        .outcomes
        .iter()
        .filter(|o| o.error.is_some())
        .map(|o| o.object.name.as_str())
        .collect();
    assert_eq!(refused, ["wrong"], "{result:#?}");

    // Nothing of the sync stays: the ConfigMap beside it was never written, and the
    // definition made to validate them is gone or going.
    assert!(
        world
            .api::<ConfigMap>()
            .get_opt("beside")
            .await
            .unwrap()
            .is_none()
    );
    let definitions: Api<CustomResourceDefinition> = Api::all(world.client.clone());
    if let Some(definition) = definitions
        .get_opt(&format!("gauges.{group}"))
        .await
        .unwrap()
    {
        assert!(
            definition.metadata.deletion_timestamp.is_some(),
            "{definition:#?}"
        );
    }

    // Put right once the definition is gone, the same set applies in one sync.
    let name = format!("gauges.{group}");
    plumb_testkit::eventually("the definition is gone", Duration::from_secs(60), || {
        let definitions = definitions.clone();
        let name = name.clone();
        async move {
            definitions
                .get_opt(&name)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    let set = set.replace("size: three", "size: 4");
    let plan = world.plan("app", &set, &Inventory::default()).await;
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");
}
