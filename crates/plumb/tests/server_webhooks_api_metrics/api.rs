//! The API does what RBAC lets a token do to an Application, hides credentials in repository URLs, ends event streams of revoked tokens, serves HTTPS to tokens made for plumb, and holds to its OpenAPI description.

use super::*;

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
