//! A push to GitHub, GitLab, Gitea or Bitbucket reaches plumb's webhook and is applied at
//! once; a delivery without the right signature is refused, learns nothing and triggers
//! nothing. People and CI reach the API with Kubernetes tokens and may do exactly what RBAC
//! lets them do to the Application — and learn nothing of the ones they may not, nor the
//! credentials someone wrote into a `repoURL`. Prometheus
//! scrapes `/metrics` with a token RBAC allows; anonymous callers cannot. Floods of random
//! tokens or of forged and repeated webhook deliveries, revoked tokens on open event streams, clients that never finish their headers and
//! oversized bodies are turned away while normal use goes on.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::hmac;
use serde_json::{Value, json};
use support::http::{Response, free_address, request, until_ready};
use support::{PATIENCE, World, alice, config_map, synced_at, text};

const SECRETS: [(&str, &str); 4] = [
    ("github", "gh-s3cret"),
    ("gitlab", "gl-s3cret"),
    ("gitea", "gt-s3cret"),
    ("bitbucket", "bb-s3cret"),
];

fn automated() -> Value {
    // A one-hour poll: within the test, only a webhook or an API call makes it sync.
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

fn hex_hmac(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A push delivery in the provider's own format, signed with `secret`.
fn delivery(provider: &str, repo_url: &str, secret: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let body = match provider {
        "github" => json!({
            "ref": "refs/heads/main", "before": "0000000", "after": "1111111",
            "repository": {"full_name": "org/deploy", "html_url": "https://github.com/org/deploy",
                           "clone_url": "https://github.com/org/deploy.git", "git_url": repo_url,
                           "ssh_url": "git@github.com:org/deploy.git"},
            "pusher": {"name": "alice", "email": "alice@example.com"},
        }),
        "gitlab" => json!({
            "object_kind": "push", "ref": "refs/heads/main",
            "project": {"web_url": "https://gitlab.example.com/org/deploy", "git_http_url": repo_url,
                        "git_ssh_url": "git@gitlab.example.com:org/deploy.git"},
            "repository": {"name": "deploy", "homepage": "https://gitlab.example.com/org/deploy"},
        }),
        "gitea" => json!({
            "ref": "refs/heads/main",
            "repository": {"full_name": "org/deploy", "clone_url": repo_url,
                           "ssh_url": "git@gitea.example.com:org/deploy.git",
                           "html_url": "https://gitea.example.com/org/deploy"},
        }),
        // Bitbucket Data Center: clone links carry every URL of the repository.
        "bitbucket" => json!({
            "eventKey": "repo:refs_changed",
            "repository": {"slug": "deploy", "project": {"key": "ORG"},
                           "links": {"clone": [{"href": repo_url, "name": "git"},
                                               {"href": "ssh://git@bitbucket.example.com:7999/org/deploy.git", "name": "ssh"}]}},
            "changes": [{"ref": {"id": "refs/heads/main"}, "type": "UPDATE"}],
        }),
        other => panic!("no provider {other}"),
    }
    .to_string()
    .into_bytes();
    let signature = hex_hmac(secret, &body);
    let headers = match provider {
        "github" => vec![
            ("X-GitHub-Event", "push".to_owned()),
            (
                "X-GitHub-Delivery",
                "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned(),
            ),
            ("X-Hub-Signature-256", format!("sha256={signature}")),
        ],
        "gitlab" => vec![
            ("X-Gitlab-Event", "Push Hook".to_owned()),
            ("X-Gitlab-Token", secret.to_owned()),
        ],
        "gitea" => vec![
            ("X-Gitea-Event", "push".to_owned()),
            ("X-Gitea-Signature", signature),
        ],
        "bitbucket" => vec![
            ("X-Event-Key", "repo:refs_changed".to_owned()),
            ("X-Hub-Signature", format!("sha256={signature}")),
        ],
        _ => unreachable!(),
    };
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    headers.push(("Content-Type".into(), "application/json".into()));
    (headers, body)
}

fn post(address: SocketAddr, path: &str, headers: &[(String, String)], body: &[u8]) -> Response {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    request(address, "POST", path, &headers, body)
}

/// A world whose controller serves on a known address, with the webhook Secret in place.
async fn serving_world(hint: &str) -> (World, SocketAddr) {
    let mut world = World::new(hint, &[("app/a.yaml", &config_map("alpha", "0"))]).await;
    let mut secret = vec![
        "create".to_owned(),
        "secret".into(),
        "generic".into(),
        "plumb-webhooks".into(),
    ];
    secret.extend(
        SECRETS
            .iter()
            .map(|(k, v)| format!("--from-literal={k}={v}")),
    );
    let created = world.kubectl(&secret.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(created.status.success(), "{}", text(&created));
    let address = free_address();
    let listen = address.to_string();
    let namespace = world.namespace.clone();
    world.start_controller(&["--listen", &listen, "--lease-namespace", &namespace]);
    until_ready(address).await;
    world.create_app("web", "app", automated()).await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced", |a| synced_at(a, &v1))
        .await;
    (world, address)
}

#[tokio::test]
async fn a_signed_push_from_each_git_host_is_applied_and_a_forged_one_triggers_nothing() {
    let (world, address) = serving_world("webhooks").await;
    let repo_url = world.repo.git_url.clone();
    let mut latencies = Vec::new();
    let mut triggers = Vec::new();
    for (provider, secret) in SECRETS {
        world.commit(
            &[("app/a.yaml", Some(&config_map("alpha", provider)))],
            &format!("pushed through {provider}"),
            &alice(),
        );
        let before = world.apps().get("web").await.unwrap();

        // Forged: signed with the wrong secret, and unsigned.
        let (forged_headers, body) = delivery(provider, &repo_url, "not-the-secret");
        let forged = post(
            address,
            &format!("/api/v1/webhooks/{provider}"),
            &forged_headers,
            &body,
        );
        assert_eq!(forged.status, 401, "{provider}: {}", forged.body);
        let unsigned: Vec<(String, String)> = forged_headers
            .into_iter()
            .filter(|(n, _)| !n.contains("Signature") && !n.contains("Token"))
            .collect();
        let refused = post(
            address,
            &format!("/api/v1/webhooks/{provider}"),
            &unsigned,
            &body,
        );
        assert_eq!(refused.status, 401, "{provider}: {}", refused.body);
        says_nothing(&forged.body);
        assert_eq!(
            forged.body, refused.body,
            "{provider}: one answer for every refusal"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = world.apps().get("web").await.unwrap();
        assert_eq!(
            after.requested_at(),
            before.requested_at(),
            "{provider}: a refused delivery requested nothing"
        );
        world
            .until_config_map("alpha", Some(&before_value(&world).await))
            .await;

        // Signed: accepted, and the push is applied.
        let (headers, body) = delivery(provider, &repo_url, secret);
        let started = Instant::now();
        let accepted = post(
            address,
            &format!("/api/v1/webhooks/{provider}"),
            &headers,
            &body,
        );
        assert_eq!(accepted.status, 202, "{provider}: {}", accepted.body);
        assert_eq!(
            accepted.json()["triggered"],
            json!([format!("{}/web", world.namespace)]),
            "{provider}"
        );
        world.until_config_map("alpha", Some(provider)).await;
        latencies.push((provider, started.elapsed()));
        let app = world
            .until_app("web", "the webhook's sync in the history", |a| {
                a.status.as_ref().is_some_and(|s| {
                    s.history
                        .first()
                        .is_some_and(|h| h.summary.contains("updated"))
                })
            })
            .await;
        // The webhook's sync says so — unless a reconcile already due for another reason
        // (a retry, a health check) looked at Git first and found the push.
        let newest = &app.status.unwrap().history[0];
        assert!(
            ["Webhook", "NewRevision"].contains(&newest.trigger.as_str()),
            "{provider}: {newest:?}"
        );
        triggers.push(newest.trigger.clone());
    }
    assert!(
        triggers.iter().any(|t| t == "Webhook"),
        "no sync of the four was labelled Webhook: {triggers:?}"
    );
    // Informative, not a pass/fail timing: bench/controller-latency measures it properly.
    println!("webhook → applied: {latencies:?}");

    // A push to another repository triggers no app; a ping is acknowledged and ignored.
    let (headers, body) = delivery("github", "https://github.com/org/other.git", "gh-s3cret");
    let body = String::from_utf8(body)
        .unwrap()
        .replace(&repo_url, "git://example.com/other.git");
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(n, v)| {
            if n == "X-Hub-Signature-256" {
                (
                    n,
                    format!("sha256={}", hex_hmac("gh-s3cret", body.as_bytes())),
                )
            } else {
                (n, v)
            }
        })
        .collect();
    let elsewhere = post(
        address,
        "/api/v1/webhooks/github",
        &headers,
        body.as_bytes(),
    );
    assert_eq!(elsewhere.status, 202, "{}", elsewhere.body);
    assert_eq!(elsewhere.json()["triggered"], json!([]));
    let ping_body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let ping = post(
        address,
        "/api/v1/webhooks/github",
        &[
            ("X-GitHub-Event".into(), "ping".into()),
            (
                "X-Hub-Signature-256".into(),
                format!("sha256={}", hex_hmac("gh-s3cret", ping_body)),
            ),
        ],
        ping_body,
    );
    assert_eq!(ping.status, 202, "{}", ping.body);
    assert!(ping.json()["ignored"].is_string());

    // A provider whose key is gone refuses exactly as a bad signature is refused: the
    // answer does not tell which providers are configured. (The Secret is read again
    // within seconds, not per delivery.)
    let removed = world.kubectl(&[
        "patch",
        "secret",
        "plumb-webhooks",
        "--type=json",
        "-p",
        r#"[{"op": "remove", "path": "/data/bitbucket"}]"#,
    ]);
    assert!(removed.status.success(), "{}", text(&removed));
    let (headers, body) = delivery("bitbucket", &repo_url, "bb-s3cret");
    let unconfigured = plumb_testkit::eventually(
        "the removed bitbucket key to be noticed",
        PATIENCE,
        || async {
            let answer = post(address, "/api/v1/webhooks/bitbucket", &headers, &body);
            (answer.status == 401).then_some(answer)
        },
    )
    .await;
    let (forged_headers, body) = delivery("github", &repo_url, "not-the-secret");
    let forged = post(address, "/api/v1/webhooks/github", &forged_headers, &body);
    assert_eq!(unconfigured.body, forged.body);
    says_nothing(&unconfigured.body);
}

/// A webhook refusal names no Secret, key or provider.
fn says_nothing(body: &str) {
    for word in [
        "plumb-webhooks",
        "Secret",
        "key",
        "github",
        "gitlab",
        "gitea",
        "bitbucket",
    ] {
        assert!(!body.contains(word), "a refusal names {word:?}: {body}");
    }
}

async fn before_value(world: &World) -> String {
    let config_map = world.config_maps().get("alpha").await.unwrap();
    config_map.data.unwrap_or_default()["value"].clone()
}

fn bearer(token: &str) -> Vec<(String, String)> {
    vec![("Authorization".into(), format!("Bearer {token}"))]
}

fn get(address: SocketAddr, path: &str, token: Option<&str>) -> Response {
    let header = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = header
        .as_deref()
        .map(|h| vec![("Authorization", h)])
        .unwrap_or_default();
    request(address, "GET", path, &headers, b"")
}

#[tokio::test]
async fn the_api_lets_a_token_do_what_rbac_lets_it_do_to_the_application() {
    let (world, address) = serving_world("api").await;
    let ns = world.namespace.clone();
    let viewer = world.token_for("viewer", "get,list,watch").await;
    let operator = world.token_for("operator", "get,list,watch,patch").await;

    assert_eq!(get(address, "/api/v1/applications", None).status, 401);
    assert_eq!(
        get(address, "/api/v1/applications", Some("not-a-token")).status,
        401
    );

    let listed = get(address, "/api/v1/applications", Some(&viewer));
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.json()["items"].clone();
    let web = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["namespace"] == ns.as_str() && i["name"] == "web")
        .unwrap_or_else(|| panic!("web is listed: {items}"))
        .clone();
    assert_eq!(web["sync"], "Synced");
    assert_eq!(web["health"], "Healthy");
    assert_eq!(
        web["lastSync"]["author"],
        "Alice Example <alice@example.com>"
    );

    let shown = get(
        address,
        &format!("/api/v1/applications/{ns}/web"),
        Some(&viewer),
    );
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.json()["permissions"]["operate"], false);
    assert_eq!(shown.json()["status"]["resources"][0]["name"], "alpha");

    // The viewer may not sync; nothing is requested.
    let sync = format!("/api/v1/applications/{ns}/web/sync");
    let refused = post(address, &sync, &bearer(&viewer), b"");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        world
            .apps()
            .get("web")
            .await
            .unwrap()
            .requested_at()
            .is_none()
    );

    // The operator may; the controller answers the request.
    let shown = get(
        address,
        &format!("/api/v1/applications/{ns}/web"),
        Some(&operator),
    );
    assert_eq!(shown.json()["permissions"]["operate"], true);
    let accepted = post(address, &sync, &bearer(&operator), b"");
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let requested = accepted.json()["requestedAt"].as_str().unwrap().to_owned();
    world
        .until_app("web", "the request handled", |a| {
            a.status
                .as_ref()
                .is_some_and(|s| s.last_handled_reconcile_at.as_deref() == Some(requested.as_str()))
        })
        .await;

    let suspend = post(
        address,
        &format!("/api/v1/applications/{ns}/web/suspend"),
        &bearer(&operator),
        b"",
    );
    assert_eq!(suspend.status, 202, "{}", suspend.body);
    assert!(world.apps().get("web").await.unwrap().spec.suspend);
    let resume = post(
        address,
        &format!("/api/v1/applications/{ns}/web/resume"),
        &bearer(&operator),
        b"",
    );
    assert_eq!(resume.status, 202, "{}", resume.body);
    assert!(!world.apps().get("web").await.unwrap().spec.suspend);
    let bad = post(
        address,
        &format!("/api/v1/applications/{ns}/web/rollback"),
        &bearer(&operator),
        br#"{"revision": "no-such-sync"}"#,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A cookie is enough to read (the dashboard's live stream) but never to change.
    let cookie = format!("plumb_token={operator}");
    let by_cookie = request(
        address,
        "GET",
        "/api/v1/applications",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(by_cookie.status, 200);
    let forged = request(address, "POST", &sync, &[("Cookie", &cookie)], b"");
    assert_eq!(forged.status, 401, "{}", forged.body);

    // CI: reconcile the apps of a repository, those the token may operate and only those.
    // `other` follows the same repository (suspended: it never applies anything here).
    world
        .create_app("other", "app", json!({"suspend": true}))
        .await;
    let web_only = token_for_one_app(&world, "web-only", "web");
    // Any pod's token: a ServiceAccount with no role at all.
    let outsider = {
        let created = world.kubectl(&["create", "serviceaccount", "outsider"]);
        assert!(created.status.success(), "{}", text(&created));
        let out = world.kubectl(&[
            "create",
            "token",
            "outsider",
            "--audience",
            "plumb",
            "--duration=1h",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let trigger = json!({"repoURL": world.repo.git_url}).to_string();
    let ci = |token: &str| {
        let mut headers = bearer(token);
        headers.push(("Content-Type".into(), "application/json".into()));
        post(address, "/api/v1/trigger", &headers, trigger.as_bytes())
    };
    for token in [&viewer, &outsider] {
        let refused = ci(token);
        assert_eq!(refused.status, 404, "{}", refused.body);
        assert!(
            !refused.body.contains(&format!("{ns}/")),
            "no application is named to a caller who may not operate it: {}",
            refused.body
        );
    }
    let triggered = ci(&web_only);
    assert_eq!(triggered.status, 202, "{}", triggered.body);
    assert_eq!(triggered.json()["triggered"], json!([format!("{ns}/web")]));
    assert!(!triggered.body.contains("other"), "{}", triggered.body);
    let other = world.apps().get("other").await.unwrap();
    assert!(other.requested_at().is_none(), "other was not triggered");
    let triggered = ci(&operator);
    assert_eq!(triggered.status, 202, "{}", triggered.body);
    assert_eq!(
        triggered.json()["triggered"],
        json!([format!("{ns}/other"), format!("{ns}/web")])
    );

    let openapi = get(address, "/api/v1/openapi.json", None);
    assert_eq!(openapi.status, 200);
    assert!(openapi.json()["paths"]["/api/v1/applications"].is_object());
}

#[tokio::test]
async fn credentials_written_into_a_repo_url_are_shown_by_neither_the_api_nor_the_dashboard() {
    let (world, address) = serving_world("creds").await;
    let ns = world.namespace.clone();
    world.commit(
        &[("private/a.yaml", Some(&config_map("private", "1")))],
        "a private app",
        &alice(),
    );
    let with_credentials = world
        .repo
        .http_url
        .replacen("://", "://deployer:hunter2-token@", 1);
    let redacted = with_credentials.replace("deployer:hunter2-token@", "***@");
    world
        .create_app(
            "private",
            "private",
            json!({"source": {"repoURL": with_credentials}, "syncPolicy": automated()["syncPolicy"]}),
        )
        .await;
    let head = world.repo.rev_parse("main").unwrap();
    world
        .until_app("private", "synced", |a| synced_at(a, &head))
        .await;
    let viewer = world.token_for("viewer", "get,list,watch").await;

    // The list feeds the dashboard's table, the detail its page.
    let listed = get(address, "/api/v1/applications", Some(&viewer));
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(!listed.body.contains("hunter2"), "{}", listed.body);
    let items = listed.json()["items"].clone();
    let private = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "private")
        .unwrap_or_else(|| panic!("private is listed: {items}"))
        .clone();
    assert_eq!(private["repoURL"], redacted.as_str());
    let shown = get(
        address,
        &format!("/api/v1/applications/{ns}/private"),
        Some(&viewer),
    );
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(!shown.body.contains("hunter2"), "{}", shown.body);
    assert_eq!(shown.json()["spec"]["source"]["repoURL"], redacted.as_str());
    assert_eq!(shown.json()["summary"]["repoURL"], redacted.as_str());
}

#[tokio::test]
async fn prometheus_scrapes_with_a_token_rbac_allows_and_anonymous_callers_learn_nothing() {
    let (world, address) = serving_world("metrics").await;
    // The kubelet's probes need no token.
    assert_eq!(get(address, "/healthz", None).status, 200);
    assert_eq!(get(address, "/readyz", None).status, 200);

    // Anyone who reaches the port, and any token without the grant, sees no metrics.
    let anonymous = get(address, "/metrics", None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let viewer = world.token_for("viewer", "get,list,watch").await;
    let refused = get(address, "/metrics", Some(&viewer));
    assert_eq!(refused.status, 403, "{}", refused.body);
    for answer in [&anonymous, &refused] {
        assert!(!answer.body.contains("plumb_app"), "{}", answer.body);
        assert!(!answer.body.contains("web"), "{}", answer.body);
    }

    // A scraper bound to `get` on /metrics, as Prometheus is with plumb-metrics-reader.
    let scraper = metrics_reader(&world, "scraper");
    let scraped = get(address, "/metrics", Some(&scraper));
    assert_eq!(scraped.status, 200, "{}", scraped.body);
    assert!(
        scraped
            .headers
            .iter()
            .any(|(n, v)| n == "content-type" && v.starts_with("text/plain; version=0.0.4"))
    );
    let samples = parse_exposition(&scraped.body);
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
    };
    let ns = world.namespace.as_str();
    let app = [("namespace", ns), ("name", "web")];
    assert_eq!(
        value(
            "plumb_app_sync_status",
            &[app[0], app[1], ("status", "Synced")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            "plumb_app_sync_status",
            &[app[0], app[1], ("status", "OutOfSync")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            "plumb_app_health_status",
            &[app[0], app[1], ("status", "Healthy")]
        ),
        Some(1.0)
    );
    assert!(value("plumb_reconcile_duration_seconds_count", &app).is_some_and(|n| n >= 1.0));
    assert!(
        value(
            "plumb_reconcile_duration_seconds_bucket",
            &[app[0], app[1], ("le", "+Inf")]
        )
        .is_some()
    );
    assert!(
        value(
            "plumb_syncs_total",
            &[app[0], app[1], ("result", "Succeeded")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(
        value(
            "plumb_git_duration_seconds_count",
            &[("operation", "resolve")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(
        value(
            "plumb_kube_api_requests_total",
            &[("verb", "patch"), ("dry_run", "true")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(value("plumb_kube_api_requests_total", &[("verb", "watch")]).is_some_and(|n| n >= 1.0));
    delete_cluster_grant(&world, "scraper");
}

/// A ServiceAccount allowed `get` on the non-resource URL `/metrics` (a ClusterRole and
/// binding named after the world's namespace, which `delete_cluster_grant` removes), and a
/// token for it.
fn metrics_reader(world: &World, name: &str) -> String {
    let grant = format!("{}-{name}", world.namespace);
    let account = format!("--serviceaccount={}:{name}", world.namespace);
    for args in [
        vec!["create", "serviceaccount", name],
        vec![
            "create",
            "clusterrole",
            &grant,
            "--verb=get",
            "--non-resource-url=/metrics",
        ],
        vec![
            "create",
            "clusterrolebinding",
            &grant,
            &format!("--clusterrole={grant}"),
            &account,
        ],
    ] {
        let out = world.kubectl(&args);
        assert!(out.status.success(), "{}", text(&out));
    }
    world.token(name)
}

fn delete_cluster_grant(world: &World, name: &str) {
    let grant = format!("{}-{name}", world.namespace);
    for kind in ["clusterrolebinding", "clusterrole"] {
        let _ = world.kubectl(&["delete", kind, &grant, "--ignore-not-found"]);
    }
}

/// A ServiceAccount that may `get` and `patch` the Application `app` only (by name).
fn token_for_one_app(world: &World, name: &str, app: &str) -> String {
    world.account(
        name,
        &[
            "--verb=get,patch",
            "--resource=applications.plumb.dev",
            &format!("--resource-name={app}"),
        ],
    );
    world.token(name)
}

#[tokio::test]
async fn a_flood_of_random_tokens_is_throttled_while_known_tokens_keep_working() {
    let (world, address) = serving_world("flood").await;
    let operator = world.token_for("operator", "get,list,watch,patch").await;
    let viewer = world.token_for("viewer", "get,list,watch").await;
    let warmed = Instant::now();
    assert_eq!(
        get(address, "/api/v1/applications", Some(&operator)).status,
        200
    );

    // Random tokens: each unknown one would cost a TokenReview. After a small budget they
    // are refused with 429 before any is made.
    let started = Instant::now();
    let (mut reviewed, mut throttled) = (0u32, 0u32);
    for i in 0..2000 {
        let answer = get(
            address,
            "/api/v1/applications",
            Some(&format!(
                "random-token-{i}-{}",
                started.elapsed().as_nanos()
            )),
        );
        match answer.status {
            401 => reviewed += 1,
            429 => throttled += 1,
            other => panic!("a random token got {other}: {}", answer.body),
        }
        if throttled >= 20 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(throttled > 0, "{reviewed} random tokens were all reviewed");
    // The budget: a burst of 20, then 2 a second (bounds as generous as the time taken).
    assert!(
        f64::from(reviewed) <= 20.0 + 2.0 * elapsed + 1.0,
        "{reviewed} reviews in {elapsed:.1} s"
    );

    // A token the server knows is answered from its cache, flood or not (it is known for
    // ten seconds after its review; a machine too loaded to flood within that is not a
    // failure of plumb's).
    let known = get(address, "/api/v1/applications", Some(&operator));
    if warmed.elapsed() < Duration::from_secs(8) {
        assert_eq!(known.status, 200, "{}", known.body);
    } else {
        println!(
            "the flood took {:?}: the known token's check skipped",
            warmed.elapsed()
        );
    }
    // When the flood stops, a token not seen before is reviewed again.
    plumb_testkit::eventually(
        "a new token to be served after the flood",
        PATIENCE,
        || async {
            (get(address, "/api/v1/applications", Some(&viewer)).status == 200).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn an_event_stream_ends_when_its_token_is_revoked() {
    let (world, address) = serving_world("stream").await;
    let watcher = world.token_for("watcher", "get,list,watch").await;
    let stream = EventStream::open(address, &watcher);
    assert!(
        stream.received().starts_with("HTTP/1.1 200"),
        "{}",
        stream.received()
    );

    // Normal use: a change to the app arrives as an event.
    world.request_reconcile("web").await;
    let change = format!("event: changed\ndata: {}/web", world.namespace);
    plumb_testkit::eventually("a change on the stream", PATIENCE, || async {
        stream.received().contains(&change).then_some(())
    })
    .await;

    // The ServiceAccount is deleted: its token is no longer valid, and the open stream ends.
    let deleted = world.kubectl(&["delete", "serviceaccount", "watcher"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    plumb_testkit::eventually("the stream to end", PATIENCE * 2, || async {
        stream.closed().then_some(())
    })
    .await;
    assert!(
        stream.received().contains("event: unauthorized"),
        "{}",
        stream.received()
    );
    let reopened = get(address, "/api/v1/applications", Some(&watcher));
    assert_eq!(reopened.status, 401, "{}", reopened.body);
}

/// An open `GET /api/v1/stream`, read on a thread of its own.
struct EventStream {
    received: Arc<Mutex<String>>,
    closed: Arc<std::sync::atomic::AtomicBool>,
}

impl EventStream {
    /// Opens the stream and waits for the response's head.
    fn open(address: SocketAddr, token: &str) -> EventStream {
        let mut socket = TcpStream::connect(address).unwrap();
        let head = format!(
            "GET /api/v1/stream HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).unwrap();
        let stream = EventStream {
            received: Arc::default(),
            closed: Arc::default(),
        };
        let (received, closed) = (Arc::clone(&stream.received), Arc::clone(&stream.closed));
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                match socket.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buffer[..n])),
                }
            }
            closed.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let started = Instant::now();
        while !stream.received().contains("\r\n\r\n") {
            assert!(
                started.elapsed() < PATIENCE && !stream.closed(),
                "no answer to GET /api/v1/stream: {}",
                stream.received()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stream
    }

    fn received(&self) -> String {
        self.received.lock().unwrap().clone()
    }

    fn closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_or_sends_too_much_is_turned_away() {
    let (_world, address) = serving_world("slowloris").await;

    // Slowloris: a request whose headers never end holds its connection only briefly.
    let mut slow = TcpStream::connect(address).unwrap();
    slow.write_all(b"GET /api/v1/applications HTTP/1.1\r\nHost: plumb\r\nX-Slow: 1")
        .unwrap();
    // Generous: the server closes it after ten seconds.
    slow.set_read_timeout(Some(PATIENCE * 2)).unwrap();
    let mut answer = Vec::new();
    match slow.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the unfinished request's connection stayed open: {err}"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains(" 200 "), "{answer}");

    // Bodies larger than any the API or a Git host sends are refused before they are read.
    for (path, bytes) in [
        ("/api/v1/trigger", 1024 * 1024),
        ("/api/v1/webhooks/github", 64 * 1024 * 1024),
    ] {
        let status = declare_body(address, path, bytes);
        assert!(status.starts_with("HTTP/1.1 413"), "{path}: {status}");
    }

    // Meanwhile the server goes on answering.
    assert_eq!(get(address, "/healthz", None).status, 200);
    let trigger = json!({"repoURL": "git://example.com/nothing.git"}).to_string();
    let small = post(
        address,
        "/api/v1/trigger",
        &[("Content-Type".into(), "application/json".into())],
        trigger.as_bytes(),
    );
    assert_eq!(
        small.status, 401,
        "a small body reaches the handler: {}",
        small.body
    );
}

/// Sends only the head of a POST declaring a body of `bytes`; returns the answer's head.
fn declare_body(address: SocketAddr, path: &str, bytes: usize) -> String {
    let mut socket = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: plumb\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Every sample of a Prometheus text exposition: (name, labels, value). Panics on a line
/// that is not valid, so a malformed exposition fails the test.
fn parse_exposition(text: &str) -> Vec<(String, std::collections::HashMap<String, String>, f64)> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "bad comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad sample: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (
                name,
                rest.strip_suffix('}')
                    .unwrap_or_else(|| panic!("bad labels: {line}")),
            ),
            None => (series, ""),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        let mut map = std::collections::HashMap::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label: {line}"));
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(if escaped == 'n' { '\n' } else { escaped });
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.unwrap_or_else(|| panic!("unterminated label: {line}"));
            map.insert(key.to_owned(), value);
            rest = after[end + 1..].trim_start_matches(',');
        }
        samples.push((name.to_owned(), map, value));
    }
    samples
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_forged_and_repeated_deliveries_applies_the_push_once_in_bounded_memory() {
    let (world, address) = serving_world("flood").await;
    let controller = world.pid_of(0);
    let rss_before = rss_kib(controller);
    let pushed = world.commit(
        &[("app/a.yaml", Some(&config_map("alpha", "flooded")))],
        "one push, delivered many times",
        &alice(),
    );
    let repo_url = world.repo.git_url.clone();
    // 2,000 forged deliveries and 200 copies of the real one, from eight senders at once.
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let repo_url = repo_url.clone();
            std::thread::spawn(move || {
                let (forged_headers, forged_body) = delivery("github", &repo_url, "not-it");
                let (headers, body) = delivery("github", &repo_url, "gh-s3cret");
                let mut statuses = Vec::new();
                for n in 0..275 {
                    let (forged, (headers, body)) = if n % 11 == 10 {
                        (false, (&headers, &body))
                    } else {
                        (true, (&forged_headers, &forged_body))
                    };
                    let answer = post(address, "/api/v1/webhooks/github", headers, body);
                    statuses.push((forged, answer.status));
                }
                statuses
            })
        })
        .collect();
    let statuses: Vec<(bool, u16)> = senders
        .into_iter()
        .flat_map(|sender| sender.join().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2_200);
    for (forged, status) in &statuses {
        let allowed: &[u16] = if *forged { &[401, 429] } else { &[202, 429] };
        assert!(allowed.contains(status), "forged={forged}: {status}");
    }
    assert!(
        statuses
            .iter()
            .any(|(forged, status)| !forged && *status == 202),
        "some real delivery got through"
    );

    world.until_config_map("alpha", Some("flooded")).await;
    world
        .until_app("web", "synced at the push", |a| synced_at(a, &pushed))
        .await;
    // Requests that arrive while the push is already applied find nothing to do.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let history = world
        .apps()
        .get("web")
        .await
        .unwrap()
        .status
        .unwrap()
        .history;
    let syncs_of_the_push = history.iter().filter(|h| h.revision == pushed).count();
    assert_eq!(syncs_of_the_push, 1, "{history:?}");

    let grown_mib = rss_kib(controller).saturating_sub(rss_before) / 1024;
    println!("controller RSS grew by {grown_mib} MiB over 2,200 deliveries");
    assert!(grown_mib < 64, "memory grew by {grown_mib} MiB");
}

/// A self-signed certificate for 127.0.0.1 and its key, written by openssl into `dir` as
/// `NAME.crt` and `NAME.key`.
fn certificate(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", &format!("/CN={name}")])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    (crt, key)
}

/// `curl` over HTTPS trusting only `ca`: the status code, or why the connection failed.
fn curl(ca: &std::path::Path, url: &str, token: &str) -> String {
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "20",
            "--output",
            "/dev/null",
        ])
        .args(["--write-out", "%{http_code}", "--cacert"])
        .arg(ca)
        .args(["--header", &format!("Authorization: Bearer {token}"), url])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// Finding L1: the dashboard's tokens crossed the network in clear, and were tokens the API
/// server itself accepts, so one that leaked from a browser or from plumb could act on the
/// cluster. Now plumb serves HTTPS when given a certificate (a renewed one at once), and
/// accepts only tokens made for it, which the API server refuses.
#[tokio::test]
async fn the_api_is_served_over_https_and_only_to_tokens_made_for_plumb() {
    let mut world = World::new("https", &[("app/a.yaml", &config_map("alpha", "0"))]).await;
    let (crt, key) = certificate(world.dir.path(), "first");
    let address = free_address();
    let listen = address.to_string();
    world.start_controller(&[
        "--listen",
        &listen,
        "--tls-cert-file",
        crt.to_str().unwrap(),
        "--tls-private-key-file",
        key.to_str().unwrap(),
    ]);
    world.create_app("web", "app", automated()).await;
    let for_plumb = world.token_for("viewer", "get").await;
    let url = format!(
        "https://{address}/api/v1/applications/{}/web",
        world.namespace
    );
    plumb_testkit::eventually("the server over HTTPS", PATIENCE, || async {
        (curl(&crt, &url, &for_plumb) == "200").then_some(())
    })
    .await;

    // Plain HTTP gets no answer; the API server's own token for the same account is refused.
    let mut plain = TcpStream::connect(address).unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: plumb\r\nConnection: close\r\n\r\n")
        .unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let out = world.kubectl(&["create", "token", "viewer", "--duration=1h"]);
    let for_api_server = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(curl(&crt, &url, &for_api_server), "401");
    let refused = world.kubectl(&["--token", &for_plumb, "get", "configmaps"]);
    assert!(
        !refused.status.success(),
        "the API server took plumb's token"
    );

    // A renewed certificate (another key, another issuer) is served without a restart.
    let (renewed_crt, renewed_key) = certificate(world.dir.path(), "renewed");
    std::fs::copy(&renewed_key, &key).unwrap();
    std::fs::copy(&renewed_crt, &crt).unwrap();
    plumb_testkit::eventually("the renewed certificate", PATIENCE, || async {
        (curl(&renewed_crt, &url, &for_plumb) == "200").then_some(())
    })
    .await;
}

/// The API holds to its own OpenAPI description under schemathesis (PyPI's property-based
/// API tester, installed by provisioning): every operation with generated valid and invalid
/// input, and stateful sequences, with a token that may view and operate the app — no
/// server error, no undocumented status, no response against its schema, invalid input
/// refused. A fixed seed keeps a run reproducible (`PLUMB_SCHEMATHESIS_SEED` to vary it).
#[tokio::test]
async fn the_api_holds_to_its_openapi_description_under_schemathesis() {
    let schemathesis = std::env::var("PLUMB_SCHEMATHESIS").expect(
        "PLUMB_SCHEMATHESIS must name the schemathesis binary (scripts/test.sh sets it after provisioning)",
    );
    let mut world = World::new("schemathesis", &[("app/a.yaml", &config_map("alpha", "0"))]).await;
    let address = free_address();
    let listen = address.to_string();
    world.start_controller(&["--listen", &listen]);
    until_ready(address).await;
    world
        .create_app("web", "app", json!({"suspend": true}))
        .await;
    let token = world.token_for("tester", "get,list,patch").await;
    let seed = std::env::var("PLUMB_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261204".into());
    let out = std::process::Command::new(schemathesis)
        .arg("run")
        .arg(format!("http://{address}/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--max-examples", "15", "--workers", "1"])
        .args(["--seed", &seed, "--request-timeout", "30", "--no-color"])
        .current_dir(world.dir.path())
        .output()
        .unwrap();
    let report = text(&out);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}"
    );
    assert!(report.contains("passed"), "{report}");
}
