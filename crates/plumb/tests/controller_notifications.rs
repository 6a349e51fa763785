//! A team hears what plumb does to its app: a generic webhook gets every event as JSON
//! (even when it fails at first: delivery is retried), Slack gets a message, and GitHub
//! gets a commit status on each synced commit — success, then failure for a broken one.
//! A receiver's Secret is read as the app acts, so an app cannot send a Secret its account
//! may not read, and credentials in a `repoURL` are not sent.

mod support;

use serde_json::{Value, json};
use support::http::{Received, Receiver};
use support::{World, alice, config_map, synced_at, text};

/// The stories' receivers listen on loopback, which notifications reach only when allowed.
const LOOPBACK: &str = "--allow-loopback-notification-targets";

fn secret(world: &World, name: &str, fields: &[(&str, &str)]) {
    let mut args = vec![
        "create".to_owned(),
        "secret".into(),
        "generic".into(),
        name.into(),
    ];
    args.extend(
        fields
            .iter()
            .map(|(k, v)| format!("--from-literal={k}={v}")),
    );
    let out = world.kubectl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out));
}

async fn until_received(
    receiver: &Receiver,
    what: &str,
    matches: impl Fn(&Received) -> bool,
) -> Received {
    plumb_testkit::eventually(what, support::PATIENCE, || async {
        receiver
            .received()
            .into_iter()
            .find(|r| r.status == 200 && matches(r))
    })
    .await
}

fn body(received: &Received) -> Value {
    serde_json::from_str(&received.body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn syncs_drift_and_failures_reach_webhooks_slack_and_commit_statuses() {
    // The webhook fails twice before it recovers.
    let webhook = Receiver::start(2);
    let slack = Receiver::start(0);
    let github = Receiver::start(0);
    let mut world = World::new("notify", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    secret(
        &world,
        "hook",
        &[
            ("type", "webhook"),
            ("url", &webhook.url("/plumb")),
            ("token", "hook-token"),
        ],
    );
    secret(
        &world,
        "chat",
        &[("type", "slack"), ("url", &slack.url("/services/T0/B0/x"))],
    );
    secret(
        &world,
        "statuses",
        &[
            ("type", "github"),
            ("url", &github.url("")),
            ("token", "ghp_example"),
            ("repository", "org/deploy"),
        ],
    );
    world.start_controller(&[LOOPBACK]);
    world
        .create_app(
            "web",
            "app",
            json!({
                "syncPolicy": {"automated": {"prune": true}, "interval": "1h"},
                "notifications": [
                    {"secretRef": {"name": "hook"}},
                    {"secretRef": {"name": "chat"}, "events": ["SyncSucceeded", "SyncFailed"]},
                    {"secretRef": {"name": "statuses"}},
                ],
            }),
        )
        .await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced", |a| synced_at(a, &v1))
        .await;

    let synced = until_received(&webhook, "SyncSucceeded at the webhook", |r| {
        body(r)["event"] == "SyncSucceeded"
    })
    .await;
    assert_eq!(body(&synced)["revision"], v1.as_str());
    assert_eq!(body(&synced)["application"]["name"], "web");
    assert!(
        synced
            .headers
            .contains(&("authorization".into(), "Bearer hook-token".into()))
    );
    let attempts = webhook.received();
    assert!(
        attempts.len() >= 3 && attempts[0].status == 500 && attempts[1].status == 500,
        "delivered after two failures: {attempts:?}"
    );
    let message = until_received(&slack, "a Slack message", |_| true).await;
    assert!(
        body(&message)["text"]
            .as_str()
            .unwrap()
            .contains("SyncSucceeded"),
        "{}",
        message.body
    );
    let status = until_received(&github, "a commit status", |_| true).await;
    assert_eq!(status.path, format!("/repos/org/deploy/statuses/{v1}"));
    assert!(
        status
            .headers
            .contains(&("authorization".into(), "Bearer ghp_example".into()))
    );
    assert_eq!(body(&status)["state"], "success");
    assert_eq!(
        body(&status)["context"],
        format!("plumb/{}/web", world.namespace)
    );

    // Drift without self-heal: the webhook hears who made it; no commit status for drift.
    let edit = world.kubectl(&[
        "patch",
        "configmap",
        "alpha",
        "--type=merge",
        "-p",
        r#"{"data":{"value":"by hand"}}"#,
    ]);
    assert!(edit.status.success(), "{}", text(&edit));
    let drift = until_received(&webhook, "DriftDetected", |r| {
        body(r)["event"] == "DriftDetected"
    })
    .await;
    let objects = body(&drift)["objects"].to_string();
    assert!(
        objects.contains("alpha") && objects.contains("kubectl-patch"),
        "{objects}"
    );

    // A broken commit: the failure reaches the webhook, Slack and GitHub (failure status).
    let broken = world.commit(
        &[("app/b.yaml", Some("kind: ConfigMap\nmetadata: [unclosed\n"))],
        "broken",
        &alice(),
    );
    world.request_reconcile("web").await;
    let failed = until_received(&webhook, "SyncFailed", |r| body(r)["event"] == "SyncFailed").await;
    assert!(
        body(&failed)["message"]
            .as_str()
            .unwrap()
            .contains("app/b.yaml"),
        "{}",
        failed.body
    );
    until_received(&slack, "SyncFailed on Slack", |r| {
        body(r)["text"]
            .as_str()
            .is_some_and(|t| t.contains("SyncFailed"))
    })
    .await;
    let red = until_received(&github, "a failure status", |r| {
        body(r)["state"] == "failure"
    })
    .await;
    assert_eq!(
        red.path,
        format!("/repos/org/deploy/statuses/{broken}"),
        "the broken commit is marked, not the last good one"
    );
}

/// A ServiceAccount that may manage ConfigMaps in the world's namespace and nothing else:
/// no Secrets.
#[tokio::test]
async fn an_app_cannot_send_a_secret_its_account_may_not_read_nor_the_credentials_in_its_url() {
    let receiver = Receiver::start(0);
    let mut world = World::new(
        "notify-as",
        &[
            ("denied/a.yaml", &config_map("denied", "1")),
            ("allowed/a.yaml", &config_map("allowed", "1")),
        ],
    )
    .await;
    world.config_map_account("no-secrets");
    secret(
        &world,
        "hook",
        &[("type", "webhook"), ("url", &receiver.url("/plumb"))],
    );
    world.start_controller(&[LOOPBACK]);
    // The attack: an app acting as an account that may not read Secrets names one.
    world
        .create_app(
            "denied",
            "denied",
            json!({
                "destination": {"serviceAccountName": "no-secrets"},
                "syncPolicy": {"automated": {"prune": true}, "interval": "1h"},
                "notifications": [{"secretRef": {"name": "hook"}}],
            }),
        )
        .await;
    // The permitted path: the namespace's tenant account may read it. Its repository URL
    // carries credentials, which the receiver must not learn.
    let with_credentials = world
        .repo
        .http_url
        .replacen("://", "://deployer:hunter2-token@", 1);
    world
        .create_app(
            "allowed",
            "allowed",
            json!({
                "source": {"repoURL": with_credentials},
                "syncPolicy": {"automated": {"prune": true}, "interval": "1h"},
                "notifications": [{"secretRef": {"name": "hook"}}],
            }),
        )
        .await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("denied", "synced", |a| synced_at(a, &v1))
        .await;
    world
        .until_app("allowed", "synced", |a| synced_at(a, &v1))
        .await;

    let heard = until_received(&receiver, "the allowed app's SyncSucceeded", |r| {
        body(r)["application"]["name"] == "allowed"
    })
    .await;
    assert!(!heard.body.contains("hunter2"), "{}", heard.body);
    assert_eq!(
        body(&heard)["repoURL"],
        with_credentials.replace("deployer:hunter2-token@", "***@")
    );

    let refusal = format!(
        "cannot read the notification Secret hook as system:serviceaccount:{}:no-secrets",
        world.namespace
    );
    plumb_testkit::eventually("the refusal logged", support::PATIENCE, || async {
        world.logs().contains(&refusal).then_some(())
    })
    .await;
    let leaked: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|r| body(r)["application"]["name"] == "denied")
        .collect();
    assert!(
        leaked.is_empty(),
        "the denied app's notice was sent: {leaked:?}"
    );
}
