//! An app's inventory, and the sync cache beside it, are kept in one ConfigMap: for apps of
//! 10,000 objects, and across an upgrade from the layout earlier versions of plumb wrote.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::World;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use plumb_engine::{
    AppId, CacheEntry, CacheKept, CacheSnapshot, Inventory, InventoryStore, ObjectRef,
    inventory_config_map,
};

fn object(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        group: if kind == "Deployment" { "apps" } else { "" }.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: namespace.map(str::to_owned),
        name: name.into(),
    }
}

fn cache_of(inventory: &Inventory) -> CacheSnapshot {
    CacheSnapshot {
        format: "sha256-64/v1".into(),
        entries: inventory
            .objects
            .iter()
            .zip(1u64..)
            .map(|(object, n)| CacheEntry {
                object: object.clone(),
                desired: format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                live: format!("{:016x}", n.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)),
            })
            .collect(),
    }
}

/// What an apply keeps: the inventory, then the cache beside it.
async fn save_both(world: &World, app: &AppId, inventory: &Inventory, cache: &CacheSnapshot) {
    let (client, namespace) = (&world.client, &world.namespace);
    inventory_config_map::save(client, namespace, app, inventory)
        .await
        .unwrap();
    inventory_config_map::save_cache(client, namespace, app, inventory, cache)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_app_of_ten_thousand_objects_keeps_its_inventory_and_its_cache() {
    let world = World::new("inventory-10k").await;
    let app = AppId::new("big");
    let inventory = Inventory::new(
        (0..10_000)
            .map(|n| match n % 3 {
                0 => object(
                    "ConfigMap",
                    Some("payments"),
                    &format!("checkout-settings-{n:05}"),
                ),
                1 => object(
                    "Deployment",
                    Some("payments"),
                    &format!("checkout-worker-{n:05}"),
                ),
                _ => object(
                    "Service",
                    Some("payments-canary"),
                    &format!("checkout-api-{n:05}"),
                ),
            })
            .collect(),
    );
    let cache = cache_of(&inventory);
    save_both(&world, &app, &inventory, &cache).await;
    let (client, namespace) = (&world.client, &world.namespace);

    let (kept_inventory, kept_cache) =
        inventory_config_map::load_with_cache(client, namespace, &app)
            .await
            .unwrap();
    assert!(
        kept_inventory == inventory,
        "the inventory read back differs"
    );
    assert!(
        kept_cache == cache,
        "the cache was not kept beside the inventory"
    );
}

#[tokio::test]
async fn an_inventory_an_earlier_plumb_wrote_is_read_and_rewritten_compactly() {
    let world = World::new("inventory-upgrade").await;
    let app = AppId::new("shop");
    let name = inventory_config_map::name(&app);
    // Verbatim what plumb wrote before the grouped layout.
    let data = BTreeMap::from([
        (
            "inventory.json".to_owned(),
            r#"{"objects":[{"group":"","version":"v1","kind":"ConfigMap","namespace":"shop","name":"settings"},{"group":"apps","version":"v1","kind":"Deployment","namespace":"shop","name":"web"}]}"#.to_owned(),
        ),
        (
            "sync-cache.json".to_owned(),
            r#"{"format":"sha256-64/v1","entries":[{"object":{"group":"apps","version":"v1","kind":"Deployment","namespace":"shop","name":"web"},"desired":"e5c55fd392ea19e1","live":"3196cf9e09392eb1"}]}"#.to_owned(),
        ),
    ]);
    let config_maps = Api::<ConfigMap>::namespaced(world.client.clone(), &world.namespace);
    let written = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    };
    config_maps
        .create(&PostParams::default(), &written)
        .await
        .unwrap();

    let (client, namespace) = (&world.client, &world.namespace);
    let (inventory, cache) = inventory_config_map::load_with_cache(client, namespace, &app)
        .await
        .unwrap();
    let web = object("Deployment", Some("shop"), "web");
    assert_eq!(
        inventory,
        Inventory::new(vec![
            object("ConfigMap", Some("shop"), "settings"),
            web.clone()
        ])
    );
    assert_eq!(cache.entries.len(), 1);
    assert_eq!(cache.entries[0].object, web);
    assert_eq!(cache.entries[0].desired, "e5c55fd392ea19e1");

    // The next save writes the grouped layout, which reads back the same.
    save_both(&world, &app, &inventory, &cache).await;
    let stored = config_maps.get(&name).await.unwrap().data.unwrap();
    assert!(
        stored["inventory.json"].starts_with(r#"{"format":"plumb.dev/inventory/v2""#),
        "{}",
        stored["inventory.json"]
    );
    let reread = inventory_config_map::load_with_cache(client, namespace, &app)
        .await
        .unwrap();
    assert_eq!(reread, (inventory, cache));
}

/// A sync writes its inventory before it writes anything else: while the first wave is
/// still waiting for health, the object of the second wave — not created yet — is already
/// listed, so a process killed at that moment still knows to prune it later.
#[tokio::test]
async fn a_sync_lists_every_object_in_its_inventory_before_applying_any() {
    let world = World::new("inventory-ahead").await;
    let app = AppId::new("shop");
    let set = common::join(&[
        common::deployment("db", 1, "plumb.dev/sync-wave: \"0\""),
        common::config_map("after-db", "1", "plumb.dev/sync-wave: \"1\""),
    ]);
    let plan = world.plan("shop", &set, &Inventory::default()).await;
    let store = InventoryStore::new(world.client.clone(), world.namespace.clone(), app.clone());
    let engine = world.engine.clone();
    let sync = tokio::spawn(async move {
        let kept = CacheSnapshot::default();
        engine
            .sync(&plan, &store, Some(&kept), &Default::default())
            .await
    });

    let pods: Api<k8s_openapi::api::core::v1::Pod> = world.api();
    plumb_testkit::eventually("the wave-0 pods", Duration::from_secs(60), || async {
        let list = pods
            .list(&ListParams::default().labels("app=db"))
            .await
            .ok()?;
        (!list.items.is_empty()).then_some(())
    })
    .await;
    let config_maps: Api<ConfigMap> = world.api();
    assert!(config_maps.get_opt("after-db").await.unwrap().is_none());
    let ahead = inventory_config_map::load(&world.client, &world.namespace, &app)
        .await
        .unwrap();
    let names: Vec<&str> = ahead.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["after-db", "db"], "saved ahead: {ahead:?}");

    common::make_pods_ready(&world, "app=db").await;
    let synced = tokio::time::timeout(Duration::from_secs(120), sync)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(synced.result.succeeded(), "{:#?}", synced.result);
    assert!(
        matches!(synced.cache, CacheKept::Saved(_)),
        "{:?}",
        synced.cache
    );
    let (after, cache) =
        inventory_config_map::load_with_cache(&world.client, &world.namespace, &app)
            .await
            .unwrap();
    assert_eq!(after, synced.result.inventory);
    assert_eq!(cache.entries.len(), 2, "the cache is kept beside it");
}

/// The kept cache is readable by anyone who may read ConfigMaps: a Secret's manifest is
/// never hashed into it, so it offers no offline test for a guessed value. A restarted
/// engine still finds the Secret in sync, by one dry-run.
#[tokio::test]
async fn the_kept_cache_holds_nothing_of_a_secret() {
    let world = World::new("inventory-secret").await;
    let set = common::join(&[
        common::config_map("settings", "1", ""),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: password\nstringData:\n  password: hunter2\n"
            .to_owned(),
    ]);
    let synced = world.sync("shop", &set, &Inventory::default()).await;
    let kept = world.engine.cache_snapshot(&synced.inventory.objects);
    let names: Vec<&str> = kept
        .entries
        .iter()
        .map(|e| e.object.name.as_str())
        .collect();
    assert_eq!(names, ["settings"], "{kept:?}");

    let restarted = world.restarted_engine().await;
    restarted.restore_cache(&kept);
    let plan = restarted
        .plan(
            &AppId::new("shop"),
            &world.desired(&set),
            &synced.inventory,
            &world.options(),
        )
        .await
        .unwrap();
    assert!(plan.is_in_sync(), "{:#?}", plan.actions);
}
