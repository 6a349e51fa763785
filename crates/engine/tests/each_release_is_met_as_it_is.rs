//! plumb meets each supported Kubernetes release as it is: on current servers it takes the
//! better path they offer (aggregated discovery, watch-list, the manifest applied as
//! written); on 1.20 it keeps the workarounds old servers need. The suite runs against both
//! releases (`scripts/test.sh`), so each test states what it expects of the one it meets.

mod common;

use common::{World, counted_engine};
use k8s_openapi::api::core::v1::Service;
use plumb_engine::{Inventory, offers_watch_list};

/// Aggregated discovery (GA in 1.30) lists every kind in two requests; 1.20 is asked one
/// group version at a time.
#[tokio::test]
async fn discovery_takes_two_requests_where_the_server_aggregates_it() {
    let world = World::new("discovery").await;
    let (engine, requests) = counted_engine(world.cluster).await;
    // Discovery found the kinds a sync needs either way.
    let (snapshot, fresh) = engine.discovery().await;
    assert!(fresh);
    for kind in [
        "ConfigMap",
        "Deployment",
        "CustomResourceDefinition",
        "Lease",
    ] {
        assert!(
            snapshot
                .kinds
                .iter()
                .any(|(resource, _)| resource.kind == kind),
            "{kind} not discovered"
        );
    }
    let minor = world.cluster.release.minor();
    assert_eq!(snapshot.server_minor, Some(minor));
    // /api, /apis and /version — and, on 1.20, each group version besides.
    let reads = requests.reads();
    if minor >= 30 {
        assert_eq!(reads, 3, "requests of an aggregated discovery");
    } else {
        assert!(
            reads > 20,
            "1.20 has no aggregated discovery: {reads} requests"
        );
    }
}

/// Watch-list streams a watch's initial state instead of one large list; 1.20 ignores the
/// request, and plumb's watches list first there.
#[tokio::test]
async fn watches_stream_their_initial_state_where_the_server_offers_it() {
    let world = World::new("watch-list").await;
    let minor = world.cluster.release.minor();
    assert_eq!(offers_watch_list(&world.client).await, minor >= 34);
}

/// 1.20 refuses a server-side apply of ports without `protocol`, so plumb fills in the
/// default there; a current server takes the manifest as written and plumb owns no more
/// than it says.
#[tokio::test]
async fn ports_are_applied_as_written_where_the_server_defaults_their_protocol() {
    let world = World::new("ports").await;
    world
        .sync(
            "web",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
            &Inventory::default(),
        )
        .await;
    let service = world.api::<Service>().get("web").await.unwrap();
    let ports = &service.spec.unwrap().ports.unwrap();
    assert_eq!(
        ports[0].protocol.as_deref(),
        Some("TCP"),
        "defaulted either way"
    );
    let owned = service
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|entry| entry.manager.as_deref() == Some("plumb"))
        .and_then(|entry| entry.fields_v1)
        .map(|fields| fields.0.to_string())
        .unwrap();
    let owns_protocol = owned.contains("f:protocol");
    assert_eq!(
        owns_protocol,
        world.cluster.release.minor() < 21,
        "plumb's fields: {owned}"
    );
}
