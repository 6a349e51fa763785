//! A signed push from each Git host is applied at once; forged, replayed and flooded deliveries trigger nothing and stay within bounded memory.

use super::*;

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
