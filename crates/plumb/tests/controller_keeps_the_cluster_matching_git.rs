//! The GitOps stories of `plumb controller`, against the real control plane and a real
//! git server: commits are applied, removed files pruned, hand-made drift reverted or
//! reported with who made it, a `git revert` rolls back, a broken commit changes nothing.

mod support;

use serde_json::json;
use support::{World, alice, bob, config_map, is, synced_at, text};

const AUTOMATED: &str =
    r#"{"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}"#;

fn automated() -> serde_json::Value {
    serde_json::from_str(AUTOMATED).unwrap()
}

#[tokio::test]
async fn commits_are_applied_and_files_removed_from_git_are_pruned() {
    let mut world = World::new(
        "commits",
        &[
            ("app/a.yaml", &config_map("alpha", "1")),
            ("app/b.yaml", &config_map("beta", "1")),
        ],
    )
    .await;
    world.start_controller(&[]);
    let first = world.repo.rev_parse("main").unwrap();
    world.create_app("web", "app", automated()).await;
    world.until_config_map("alpha", Some("1")).await;
    world.until_config_map("beta", Some("1")).await;
    let app = world
        .until_app("web", "synced at the first commit", |a| {
            synced_at(a, &first)
        })
        .await;
    let status = app.status.unwrap();
    assert_eq!(status.history[0].revision, first);
    assert_eq!(
        status.history[0].author,
        "Alice Example <alice@example.com>"
    );
    assert_eq!(status.history[0].message, "first version");
    assert_eq!(status.history[0].result, "Succeeded");
    assert_eq!(status.history[0].trigger, "NewRevision");

    // A second commit changes one object and removes the other.
    let second = world.commit(
        &[
            ("app/a.yaml", Some(&config_map("alpha", "2"))),
            ("app/b.yaml", None),
        ],
        "alpha 2, no beta",
        &bob(),
    );
    world.request_reconcile("web").await;
    world.until_config_map("alpha", Some("2")).await;
    world.until_config_map("beta", None).await;
    let app = world
        .until_app("web", "synced at the second commit", |a| {
            synced_at(a, &second)
        })
        .await;
    let status = app.status.unwrap();
    assert_eq!(status.history[0].author, "Bob Example <bob@example.com>");
    assert!(
        status.history[0].summary.contains("1 pruned"),
        "{:?}",
        status.history[0]
    );
    assert!(is(&app_now(&world).await, "Ready", "True", "Synced"));

    // The rollback of GitOps: revert the commit; plumb applies the revert.
    world
        .tree
        .git(&[
            "-c",
            "user.name=Carol",
            "-c",
            "user.email=carol@example.com",
            "revert",
            "--no-edit",
            "HEAD",
        ])
        .unwrap();
    world.tree.push().unwrap();
    let reverted = world.tree.head().unwrap();
    world.request_reconcile("web").await;
    world.until_config_map("alpha", Some("1")).await;
    world.until_config_map("beta", Some("1")).await;
    world
        .until_app("web", "synced at the revert", |a| synced_at(a, &reverted))
        .await;

    let history = world.plumb(&["history", "web"]);
    assert!(history.status.success(), "{}", text(&history));
    let history = text(&history);
    assert!(
        history.contains("alpha 2, no beta") && history.contains("first version"),
        "{history}"
    );
}

/// With no webhook and nobody asking, a push is found when the polling interval comes round,
/// and the history says so.
#[tokio::test]
async fn a_push_is_found_by_the_poll_and_told_as_one() {
    let mut world = World::new("poll", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    let policy = json!({"syncPolicy": {"automated": {"prune": true}, "interval": "2s"}});
    world.create_app("web", "app", policy).await;
    world.until_config_map("alpha", Some("1")).await;

    let pushed = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "2")))],
        "alpha 2",
        &bob(),
    );
    let app = world
        .until_app("web", "synced at the pushed commit", |a| {
            synced_at(a, &pushed)
        })
        .await;
    let history = app.status.unwrap().history;
    assert_eq!(history[0].trigger, "Poll", "{history:?}");
    assert_eq!(
        history[1].trigger, "NewRevision",
        "the first sync: {history:?}"
    );
}

async fn app_now(world: &World) -> plumb_controller::Application {
    world.apps().get("web").await.unwrap()
}

#[tokio::test]
async fn drift_is_reverted_with_self_heal_and_attributed_to_whoever_made_it() {
    let mut world = World::new("selfheal", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    world.until_config_map("alpha", Some("1")).await;
    world
        .until_app("web", "synced", |a| is(a, "Ready", "True", ""))
        .await;

    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "alpha",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success(), "{}", text(&edit));
    world.until_config_map("alpha", Some("1")).await;
    let app = world
        .until_app("web", "a drift correction in the history", |a| {
            a.status
                .as_ref()
                .is_some_and(|s| s.history.first().is_some_and(|h| h.trigger == "SelfHeal"))
        })
        .await;
    assert_eq!(app.status.unwrap().history[0].summary, "1 updated");
}

#[tokio::test]
async fn without_self_heal_drift_is_reported_with_the_field_and_the_manager() {
    let mut world = World::new("report", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    world
        .create_app(
            "web",
            "app",
            json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": false}}}),
        )
        .await;
    world.until_config_map("alpha", Some("1")).await;
    world
        .until_app("web", "synced", |a| is(a, "Ready", "True", ""))
        .await;

    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "alpha",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success(), "{}", text(&edit));
    let app = world
        .until_app("web", "OutOfSync", |a| is(a, "Ready", "False", "OutOfSync"))
        .await;
    let status = app.status.unwrap();
    assert_eq!(status.sync.status, "OutOfSync");
    let alpha = status.resources.iter().find(|r| r.name == "alpha").unwrap();
    let drift = alpha.drift.as_ref().expect("the drift is recorded");
    assert_eq!(drift.fields, ["/data/value"]);
    assert_eq!(drift.changed_by, ["kubectl-patch"]);
    assert!(drift.diff.contains("by hand"), "{}", drift.diff);
    // Reported, not reverted.
    world.until_config_map("alpha", Some("by hand")).await;

    let diff = world.plumb(&["diff", "web"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains("changed by kubectl-patch"),
        "{}",
        text(&diff)
    );

    // `plumb sync` applies Git on request and follows it to the end.
    let sync = world.plumb(&["sync", "web", "--timeout", "60s"]);
    assert!(sync.status.success(), "{}\n{}", text(&sync), world.logs());
    world.until_config_map("alpha", Some("1")).await;
}

/// `kubectl scale` writes through the `/scale` subresource. Kubernetes 1.22 and later
/// record that write in managedFields, so the drift names its manager; 1.20 records none,
/// and plumb then names nobody rather than blame the controller that wrote status last.
#[tokio::test]
async fn drift_made_through_the_scale_subresource_is_attributed_to_its_manager() {
    let deployment = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
"#;
    let mut world = World::new("scale", &[("app/web.yaml", deployment)]).await;
    world.start_controller(&[]);
    world
        .create_app(
            "web",
            "app",
            json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": false}}}),
        )
        .await;
    world
        .until_app("web", "synced", |a| {
            a.status.as_ref().is_some_and(|s| s.sync.status == "Synced")
        })
        .await;

    let scale = world.kubectl(&["scale", "deployment", "web", "--replicas=3"]);
    assert!(scale.status.success(), "{}", text(&scale));
    let app = world
        .until_app("web", "the scale reported as drift", |a| {
            a.status.as_ref().is_some_and(|s| {
                s.resources
                    .iter()
                    .any(|r| r.name == "web" && r.drift.is_some())
            })
        })
        .await;
    let status = app.status.unwrap();
    let web = status.resources.iter().find(|r| r.name == "web").unwrap();
    let drift = web.drift.as_ref().unwrap();
    assert_eq!(drift.fields, ["/spec/replicas"]);
    if world.cluster.release.minor() >= 22 {
        assert_eq!(drift.changed_by, ["kubectl"], "{drift:?}");
    } else {
        assert!(drift.changed_by.is_empty(), "{drift:?}");
    }
}

#[tokio::test]
async fn a_broken_commit_changes_nothing_and_the_condition_says_why() {
    let mut world = World::new("broken", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    world.until_config_map("alpha", Some("1")).await;
    let good = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced", |a| synced_at(a, &good))
        .await;

    world.commit(
        &[
            ("app/a.yaml", Some(&config_map("alpha", "2"))),
            (
                "app/broken.yaml",
                Some("kind: ConfigMap\nmetadata: [unclosed\n"),
            ),
        ],
        "half-done change",
        &alice(),
    );
    world.request_reconcile("web").await;
    let app = world
        .until_app("web", "RenderFailed", |a| {
            is(a, "Ready", "False", "RenderFailed")
        })
        .await;
    let ready = app.condition("Ready").unwrap();
    assert!(
        ready.message.contains("app/broken.yaml"),
        "{}",
        ready.message
    );
    assert!(is(&app, "Stalled", "True", "RenderFailed"));
    // Nothing of the broken commit was applied.
    world.until_config_map("alpha", Some("1")).await;
    assert_eq!(
        app.status.unwrap().sync.last_applied_revision.as_deref(),
        Some(good.as_str())
    );
}
