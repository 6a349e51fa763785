//! Prometheus scrapes `/metrics` with a token RBAC allows; anonymous callers learn nothing.

use super::*;

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
