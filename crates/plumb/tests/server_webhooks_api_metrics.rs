//! A push to GitHub, GitLab, Gitea or Bitbucket reaches plumb's webhook and is applied at
//! once; a delivery without the right signature is refused and triggers nothing. People and
//! CI reach the API with Kubernetes tokens and may do exactly what RBAC lets them do to the
//! Application. Prometheus scrapes `/metrics`.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ring::hmac;
use serde_json::{Value, json};
use support::http::{Response, free_address, request, until_ready};
use support::{World, alice, config_map, synced_at, text};

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
    }
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

    // CI: reconcile the apps of a repository, if the token may.
    let trigger = json!({"repoURL": world.repo.git_url}).to_string();
    let mut headers = bearer(&viewer);
    headers.push(("Content-Type".into(), "application/json".into()));
    assert_eq!(
        post(address, "/api/v1/trigger", &headers, trigger.as_bytes()).status,
        403
    );
    let mut headers = bearer(&operator);
    headers.push(("Content-Type".into(), "application/json".into()));
    let triggered = post(address, "/api/v1/trigger", &headers, trigger.as_bytes());
    assert_eq!(triggered.status, 202, "{}", triggered.body);
    assert_eq!(triggered.json()["triggered"], json!([format!("{ns}/web")]));

    let openapi = get(address, "/api/v1/openapi.json", None);
    assert_eq!(openapi.status, 200);
    assert!(openapi.json()["paths"]["/api/v1/applications"].is_object());
}

#[tokio::test]
async fn prometheus_scrapes_sync_status_health_and_the_controllers_work() {
    let (world, address) = serving_world("metrics").await;
    assert_eq!(get(address, "/healthz", None).status, 200);
    assert_eq!(get(address, "/readyz", None).status, 200);
    let scraped = get(address, "/metrics", None);
    assert_eq!(scraped.status, 200);
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
