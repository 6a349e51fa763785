//! The control plane fails under a running controller — the API server killed in the
//! middle of a sync, etcd restarted, the API server frozen — and plumb waits it out: the
//! app converges once it is back, nothing applied is written again for nothing, and no
//! prune is lost. Each story runs on a control plane of its own.

mod support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::json;
use support::{GATE, World, alice, config_map, in_wave_1, synced_at};

fn self_healing() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

/// Commits v2 — `old` removed, the wave-0 gate added, `new` in wave 1 — and waits until
/// the sync stands at the gate: wave 0 applied, wave 1 and the prune not yet.
async fn sync_stopped_at_the_gate(world: &World) -> String {
    let v2 = world.commit(
        &[
            ("app/old.yaml", None),
            ("app/gate.yaml", Some(GATE)),
            ("app/new.yaml", Some(&in_wave_1(&config_map("new", "1")))),
        ],
        "v2 behind a gate",
        &alice(),
    );
    world.request_reconcile("web").await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    plumb_testkit::eventually("the gate pod", Duration::from_secs(60), || async {
        pods.get_opt("gate").await.ok().flatten()
    })
    .await;
    assert!(world.config_maps().get_opt("new").await.unwrap().is_none());
    assert!(world.config_maps().get_opt("old").await.unwrap().is_some());
    v2
}

/// v2 applied whole: `new` created, `old` pruned, the history's newest sync a success.
async fn converged_at(world: &World, v2: &str) {
    world.until_config_map("new", Some("1")).await;
    world.until_config_map("old", None).await;
    let app = world
        .until_app("web", "synced at v2", |a| {
            synced_at(a, v2)
                && a.status
                    .as_ref()
                    .is_some_and(|s| s.history.first().is_some_and(|h| h.result == "Succeeded"))
        })
        .await;
    let last = &app.status.unwrap().history[0];
    assert_eq!(last.revision, v2, "{last:?}");
}

async fn synced_at_v1(hint: &str) -> (World, plumb_testkit::ControlPlane) {
    let (mut world, plane) =
        World::with_own_control_plane(hint, &[("app/old.yaml", &config_map("old", "1"))]).await;
    world.start_controller(&["--wave-timeout", "10m"]);
    let v1 = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &v1))
        .await;
    (world, plane)
}

#[tokio::test]
async fn an_api_server_killed_between_waves_is_waited_out_and_no_prune_is_lost() {
    let (world, mut plane) = synced_at_v1("apiserver-down").await;
    let v2 = sync_stopped_at_the_gate(&world).await;

    plane.stop_apiserver();
    // Down long enough for the controller's waits, watches and writes to fail.
    tokio::time::sleep(Duration::from_secs(5)).await;
    plane.start_apiserver().await.unwrap();

    world.make_pod_ready("gate").await;
    converged_at(&world, &v2).await;
}

#[tokio::test]
async fn an_api_server_frozen_mid_sync_is_waited_out() {
    let (world, plane) = synced_at_v1("apiserver-frozen").await;
    let v2 = sync_stopped_at_the_gate(&world).await;

    // Connections stay open and nothing answers.
    plane.pause_apiserver();
    tokio::time::sleep(Duration::from_secs(5)).await;
    plane.resume_apiserver();

    world.make_pod_ready("gate").await;
    converged_at(&world, &v2).await;
}

#[tokio::test]
async fn etcd_restarted_under_a_synced_app_changes_nothing_and_drift_is_still_healed() {
    let (world, mut plane) = synced_at_v1("etcd-restart").await;
    let before = world.config_maps().get("old").await.unwrap();

    plane.restart_etcd().await.unwrap();

    // The watches resume: drift made after the restart is reverted.
    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "old",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success(), "{}", support::text(&edit));
    world.until_config_map("old", Some("1")).await;
    let after = world.config_maps().get("old").await.unwrap();
    assert_eq!(after.metadata.uid, before.metadata.uid, "never recreated");
}

/// The API server dies behind a load balancer that keeps the connections open: requests in
/// flight never get an answer. The controller's `--request-timeout` gives up on them, it
/// connects again, and the sync it was in the middle of completes.
#[tokio::test]
async fn an_api_server_that_stops_answering_on_open_connections_is_timed_out() {
    let mut world = World::new("blackhole", &[("app/old.yaml", &config_map("old", "1"))]).await;
    let api_server: std::net::SocketAddr = world
        .cluster
        .server
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let relay = plumb_testkit::Blackhole::start(api_server).unwrap();
    world.controller_through(&format!("https://{}", relay.address()));
    world.start_controller(&["--wave-timeout", "10m", "--request-timeout", "3s"]);
    let v1 = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &v1))
        .await;
    let v2 = sync_stopped_at_the_gate(&world).await;

    // Every connection the controller holds now goes silent; new ones still pass.
    let before = relay.connections();
    relay.cut();
    world.make_pod_ready("gate").await;
    converged_at(&world, &v2).await;
    assert!(
        relay.connections() > before,
        "the controller had to connect again"
    );
}

/// Whether process `pid` has ended (gone, or a zombie its parent has not reaped yet).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Medium finding M5: a leader whose renewal hangs on a dead connection kept "leading" while
/// another replica took the expired lease, and both could write. The renew deadline makes
/// the leader give up before the lease can expire: it has stopped by the time the other
/// replica leads, and the other carries on.
#[tokio::test]
async fn a_leader_cut_off_from_the_api_server_stops_before_another_replica_takes_the_lease() {
    let mut world = World::new("renew", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let ns = world.namespace.clone();
    let election = [
        "--leader-election",
        "--lease-namespace",
        &ns,
        "--lease-name",
        "plumb-renew",
        // No request gives up before the renew deadline: that deadline alone acts.
        "--request-timeout",
        "1h",
    ];
    let api_server: std::net::SocketAddr = world
        .cluster
        .server
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let relay = plumb_testkit::Blackhole::start(api_server).unwrap();
    let direct = world.controller_kubeconfig.clone();
    world.controller_through(&format!("https://{}", relay.address()));
    let cut_off = world.start_controller(&election);
    let leases: Api<Lease> = Api::namespaced(world.client.clone(), &ns);
    let holder = || async {
        leases
            .get_opt("plumb-renew")
            .await
            .ok()??
            .spec?
            .holder_identity
    };
    let pid = world.pid_of(cut_off).to_string();
    plumb_testkit::eventually(
        "the relayed replica leads",
        Duration::from_secs(60),
        || async { holder().await.filter(|h| h.ends_with(&pid)) },
    )
    .await;
    world.create_app("web", "app", self_healing()).await;
    world.until_config_map("alpha", Some("1")).await;

    world.controller_kubeconfig = direct;
    let other = world.start_controller(&election);
    relay.cut();
    let other_pid = world.pid_of(other).to_string();
    plumb_testkit::eventually(
        "the other replica leads",
        Duration::from_secs(90),
        || async { holder().await.filter(|h| h.ends_with(&other_pid)) },
    )
    .await;
    assert!(
        exited(world.pid_of(cut_off)),
        "the cut-off leader still runs while another leads:\n{}",
        world.logs()
    );
    let log = std::fs::read_to_string(world.log(cut_off)).unwrap();
    assert!(log.contains("renew deadline"), "{log}");

    let v2 = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "v2",
        &alice(),
    );
    world.request_reconcile("web").await;
    world.until_config_map("alpha", Some("2")).await;
    world
        .until_app("web", "synced at v2", |a| synced_at(a, &v2))
        .await;
}
