//! A controller killed in the middle of a sync converges after restart without lost
//! prunes; of two replicas only the leader applies, and the other takes over when it dies;
//! two sharded replicas share the apps, and one takes over the other's when it dies.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::json;
use support::{GATE, World, alice, config_map, in_wave_1, is, synced_at};

fn self_healing() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

#[tokio::test]
async fn a_controller_killed_mid_sync_converges_after_restart_without_losing_prunes() {
    let mut world = World::new("restart", &[("app/old.yaml", &config_map("old", "1"))]).await;
    let first = world.start_controller(&["--wave-timeout", "10m"]);
    let v1 = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &v1))
        .await;

    // v2 drops `old` and adds a gated wave: the sync stops at the gate.
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
    // Mid-sync: wave 0 applied, wave 1 and the prune not yet.
    assert!(world.config_maps().get_opt("new").await.unwrap().is_none());
    assert!(world.config_maps().get_opt("old").await.unwrap().is_some());
    world.kill_controller(first);

    world.make_pod_ready("gate").await;
    let gate_version = pods.get("gate").await.unwrap().metadata.resource_version;
    world.start_controller(&[]);
    world.until_config_map("new", Some("1")).await;
    world.until_config_map("old", None).await;
    let app = world
        .until_app("web", "synced at v2", |a| synced_at(a, &v2))
        .await;
    // The gate applied before the crash was not written again.
    assert_eq!(
        pods.get("gate").await.unwrap().metadata.resource_version,
        gate_version
    );
    let last = &app.status.unwrap().history[0];
    assert_eq!(
        (last.revision.as_str(), last.result.as_str()),
        (v2.as_str(), "Succeeded")
    );
    assert!(
        last.summary.contains("1 created") && last.summary.contains("1 pruned"),
        "{}",
        last.summary
    );
}

#[tokio::test]
async fn of_two_replicas_only_the_leader_applies_and_the_other_takes_over() {
    let mut world = World::new("leader", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let ns = world.namespace.clone();
    let election = [
        "--leader-election",
        "--lease-namespace",
        &ns,
        "--lease-name",
        "plumb-test",
    ];
    let a = world.start_controller(&election);
    let b = world.start_controller(&election);
    let leases: Api<Lease> = Api::namespaced(world.client.clone(), &ns);
    let holder = plumb_testkit::eventually("a leader", Duration::from_secs(60), || async {
        leases
            .get_opt("plumb-test")
            .await
            .ok()??
            .spec?
            .holder_identity
    })
    .await;
    world.create_app("web", "app", self_healing()).await;
    world.until_config_map("alpha", Some("1")).await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced at v1", |app| synced_at(app, &v1))
        .await;

    let logs = [
        std::fs::read_to_string(world.log(a)).unwrap(),
        std::fs::read_to_string(world.log(b)).unwrap(),
    ];
    let leading: Vec<usize> = (0..2).filter(|i| logs[*i].contains("leading")).collect();
    assert_eq!(
        leading.len(),
        1,
        "exactly one replica leads:\n{}",
        world.logs()
    );
    let leader = leading[0];
    assert!(
        holder.ends_with(&world.pid_of(leader).to_string()),
        "lease held by {holder}"
    );
    assert!(
        !logs[1 - leader].contains("reconciled"),
        "the standby reconciled:\n{}",
        world.logs()
    );

    // The leader dies; the other replica takes the lease once it expires and carries on.
    world.kill_controller(leader);
    let v2 = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "v2",
        &alice(),
    );
    world.request_reconcile("web").await;
    world.until_config_map("alpha", Some("2")).await;
    world
        .until_app("web", "synced at v2", |app| synced_at(app, &v2))
        .await;
    let follower = 1 - leader;
    let new_holder = leases
        .get("plumb-test")
        .await
        .unwrap()
        .spec
        .unwrap()
        .holder_identity
        .unwrap();
    assert!(
        new_holder.ends_with(&world.pid_of(follower).to_string()),
        "{new_holder}"
    );
}

#[tokio::test]
async fn a_git_server_that_goes_away_changes_nothing_and_self_heal_goes_on() {
    let mut world = World::new("git-down", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    let v1 = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &v1))
        .await;
    let config_maps = world.config_maps();
    let before = config_maps.get("alpha").await.unwrap();

    // The git server dies (its process group: `git daemon` serves from a child process);
    // a reconcile is requested, as a webhook or the CLI does.
    let group = format!("-{}", world.git.daemon_pid());
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .unwrap()
            .success()
    );
    world.request_reconcile("web").await;
    let app = world
        .until_app("web", "FetchFailed", |a| {
            is(a, "Ready", "False", "FetchFailed")
        })
        .await;
    let ready = app.condition("Ready").unwrap();
    assert!(
        ready.message.contains(&world.repo.git_url),
        "the condition names the repository: {}",
        ready.message
    );
    let status = app.status.clone().unwrap();
    assert_eq!(
        status.sync.last_applied_revision.as_deref(),
        Some(v1.as_str())
    );
    // Nothing was pruned or rewritten for want of a snapshot.
    let after = config_maps.get("alpha").await.unwrap();
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );

    // Drift is still corrected from the last revision the controller rendered.
    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "alpha",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success());
    world.until_config_map("alpha", Some("1")).await;
}

/// A git server that accepts connections and never answers: each git operation is killed at
/// the controller's `--git-timeout`, the app says so, self-heal goes on from the revision
/// rendered last, and once the server answers again its new commits are applied.
#[tokio::test]
async fn a_git_server_that_never_answers_is_timed_out_and_self_heal_goes_on() {
    let mut world = World::new("git-hangs", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&["--git-timeout", "3s"]);
    let v1 = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", self_healing()).await;
    world
        .until_app("web", "synced at v1", |a| synced_at(a, &v1))
        .await;

    // Frozen, the daemon's listening socket still accepts; nothing ever answers.
    let group = format!("-{}", world.git.daemon_pid());
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill")
            .args([name, "--", &group])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    signal("-STOP");
    world.request_reconcile("web").await;
    let app = world
        .until_app("web", "FetchFailed", |a| {
            is(a, "Ready", "False", "FetchFailed")
        })
        .await;
    let ready = app.condition("Ready").unwrap();
    assert!(ready.message.contains("3s"), "{}", ready.message);

    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "alpha",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success());
    world.until_config_map("alpha", Some("1")).await;

    signal("-CONT");
    let v2 = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "alpha 2",
        &alice(),
    );
    world.request_reconcile("web").await;
    world
        .until_app("web", "synced at v2", |a| synced_at(a, &v2))
        .await;
    world.until_config_map("alpha", Some("2")).await;
}

/// Medium finding M5: one app could hold a worker for as long as its waves took, so with
/// every worker taken nothing else was reconciled. Each reconcile now has a deadline, and the
/// liveness probe stays well while reconciles keep within theirs.
#[tokio::test]
async fn an_app_stuck_at_a_gate_is_stopped_at_its_deadline_and_does_not_hold_the_only_worker() {
    let mut world = World::new(
        "deadline",
        &[
            ("stuck/gate.yaml", GATE),
            ("stuck/behind.yaml", &in_wave_1(&config_map("behind", "1"))),
            ("web/a.yaml", &config_map("alpha", "1")),
        ],
    )
    .await;
    let address = support::http::free_address();
    let listen = address.to_string();
    world.start_controller(&[
        "--concurrency",
        "1",
        "--wave-timeout",
        "10m",
        "--reconcile-timeout",
        "4s",
        "--listen",
        &listen,
    ]);
    support::http::until_ready(address).await;
    world.create_app("stuck", "stuck", self_healing()).await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &world.namespace);
    plumb_testkit::eventually("the gate pod", Duration::from_secs(60), || async {
        pods.get_opt("gate").await.ok().flatten()
    })
    .await;
    world.create_app("web", "web", self_healing()).await;

    world.until_config_map("alpha", Some("1")).await;
    let stuck = world
        .until_app("stuck", "stopped at its deadline", |a| {
            is(a, "Ready", "False", "ReconcileTimeout")
        })
        .await;
    let message = &stuck.condition("Ready").unwrap().message;
    assert!(message.contains("longer than 4s"), "{message}");
    assert!(
        world
            .config_maps()
            .get_opt("behind")
            .await
            .unwrap()
            .is_none()
    );
    let health = support::http::request(address, "GET", "/healthz", &[], b"");
    assert_eq!(health.status, 200, "{}", health.body);
}

#[tokio::test]
async fn two_sharded_replicas_share_forty_apps_and_one_takes_over_the_others_without_a_resync_storm()
 {
    let files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("apps/app-{i}/config.yaml"),
                config_map(&format!("app-{i}"), "1"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let mut world = World::new("shards", &files).await;
    let ns = world.namespace.clone();
    // The group's Leases sit where the installed controller may keep them, named for
    // this story.
    let group = format!("shards-{ns}");
    let sharding = [
        "--shard",
        "--lease-namespace",
        "plumb-system",
        "--lease-name",
        &group,
    ];
    let a = world.start_controller(&sharding);
    let b = world.start_controller(&sharding);
    // Both see the group of two before any app exists, so no app changes hands below
    // until one of them dies.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let joined = |i| {
        log_lines(&world, i)
            .iter()
            .any(|l| l.contains("shards rebalanced") && l.contains("members=2"))
    };
    while !(joined(a) && joined(b)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas never saw each other:\n{}",
            world.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    for i in 0..40 {
        world
            .create_app(
                &format!("app-{i}"),
                &format!("apps/app-{i}"),
                self_healing(),
            )
            .await;
    }
    let v1 = world.repo.rev_parse("main").unwrap();
    for i in 0..40 {
        world
            .until_app(&format!("app-{i}"), "synced at v1", |app| {
                synced_at(app, &v1)
            })
            .await;
    }

    // Each app was reconciled by one replica only, and each replica has a share. (A
    // reconcile is logged just after its status is written: the last may lag a little.)
    let shares = || {
        (
            reconciled(&log_lines(&world, a), &ns),
            reconciled(&log_lines(&world, b), &ns),
        )
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shares().0.len() + shares().1.len() < 40 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (of_a, of_b) = shares();
    assert!(
        of_a.is_disjoint(&of_b),
        "both reconciled {:?}",
        of_a.intersection(&of_b).collect::<Vec<_>>()
    );
    assert_eq!(of_a.len() + of_b.len(), 40, "{of_a:?} {of_b:?}");
    assert!(
        !of_a.is_empty() && !of_b.is_empty(),
        "one replica has every app: {of_a:?}"
    );
    let histories = sync_counts(&world).await;

    // b's watch of ConfigMaps may list after its apps first synced (the cluster's labelled
    // ConfigMaps are many, or the machine is busy): its apps are then checked for drift
    // once more. That is start-up, not the takeover: wait for it to pass.
    plumb_testkit::eventually("b's watch listed", Duration::from_secs(60), || {
        let listed = log_lines(&world, b)
            .iter()
            .any(|l| l.contains("listed; watching for changes") && l.contains("kind=ConfigMap"));
        async move { listed.then_some(()) }
    })
    .await;
    let mut settled = log_lines(&world, b).len();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = log_lines(&world, b).len();
        if now == settled {
            break;
        }
        settled = now;
    }

    // Replica a dies. Once its membership expires, b takes its apps: it reconciles each
    // once, finds it in sync from the kept cache and the watches, and applies nothing.
    let seen_before = log_lines(&world, b).len();
    world.kill_controller(a);
    plumb_testkit::eventually("b reconciled a's apps", Duration::from_secs(90), || {
        let world = &world;
        let of_a = &of_a;
        let ns = &ns;
        async move {
            let lines = log_lines(world, b);
            of_a.is_subset(&reconciled(&lines[seen_before..], ns))
                .then_some(())
        }
    })
    .await;
    let after_takeover = reconciled(&log_lines(&world, b)[seen_before..], &ns);
    assert!(
        after_takeover.is_disjoint(&of_b),
        "b reconciled its own apps again: {:?}\n{}",
        after_takeover.intersection(&of_b).collect::<Vec<_>>(),
        log_lines(&world, b)[seen_before..]
            .iter()
            .filter(|l| l.contains(" reconciled ") || l.contains("live change"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        sync_counts(&world).await,
        histories,
        "an app synced again on takeover"
    );

    // And b keeps a's apps matching Git: a change by hand to one is reverted.
    let taken = of_a.iter().next().unwrap().clone();
    let output = world.kubectl(&[
        "patch",
        "configmap",
        &taken,
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(output.status.success(), "{}", support::text(&output));
    world.until_config_map(&taken, Some("1")).await;
}

/// Controller `index`'s log, a line each, without terminal colours.
fn log_lines(world: &World, index: usize) -> Vec<String> {
    let text = std::fs::read_to_string(world.log(index)).unwrap_or_default();
    text.lines().map(strip_colours).collect()
}

fn strip_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence ends at its first letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The apps of `namespace` these log lines say were reconciled.
fn reconciled(lines: &[String], namespace: &str) -> BTreeSet<String> {
    let prefix = format!("app={namespace}/");
    lines
        .iter()
        .filter(|line| line.contains(" reconciled "))
        .filter_map(|line| {
            let rest = &line[line.find(&prefix)? + prefix.len()..];
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .collect()
}

/// How many syncs each app's history records.
async fn sync_counts(world: &World) -> Vec<(String, usize)> {
    let apps = world.apps().list(&Default::default()).await.unwrap();
    let mut counts: Vec<(String, usize)> = apps
        .items
        .iter()
        .map(|app| {
            let name = app.metadata.name.clone().unwrap_or_default();
            (name, app.status.as_ref().map_or(0, |s| s.history.len()))
        })
        .collect();
    counts.sort();
    counts
}
