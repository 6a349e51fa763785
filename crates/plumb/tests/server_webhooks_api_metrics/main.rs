//! A push to GitHub, GitLab, Gitea or Bitbucket reaches plumb's webhook and is applied at
//! once; a delivery without the right signature is refused, learns nothing and triggers
//! nothing. People and CI reach the API with Kubernetes tokens and may do exactly what RBAC
//! lets them do to the Application — and learn nothing of the ones they may not, nor the
//! credentials someone wrote into a `repoURL`. Prometheus
//! scrapes `/metrics` with a token RBAC allows; anonymous callers cannot. Floods of random
//! tokens or of forged and repeated webhook deliveries, revoked tokens on open event streams, clients that never finish their headers and
//! oversized bodies are turned away while normal use goes on.

#[path = "../support/mod.rs"]
mod support;

mod api;
mod limits;
mod metrics;
mod webhooks;

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
