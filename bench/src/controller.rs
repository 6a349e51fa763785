//! What the benchmarks that run `plumb controller` as a process share: the built binary,
//! the controller itself, GitHub's signed push, waiting for a value, and the process's
//! footprint as `/proc` shows it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use plumb_testkit::Cluster;
use plumb_testkit::process::Supervised;

/// The key of the webhook Secret the controller is started with.
pub const WEBHOOK_SECRET: &str = "bench-webhook-secret";

const POLL: Duration = Duration::from_millis(5);

/// The `plumb` binary beside this benchmark's (a release build, usually).
pub fn plumb_binary() -> PathBuf {
    let plumb = std::env::current_exe().unwrap().with_file_name("plumb");
    assert!(
        plumb.exists(),
        "build the plumb binary first: cargo build --release -p plumb"
    );
    plumb
}

/// Installs plumb's CRDs (`plumb install --crds-only --apply`) on `cluster`, as a
/// benchmark does before it starts a controller.
pub fn install_plumb_crds(cluster: &Cluster) {
    crate::run(
        Command::new(plumb_binary())
            .args(["install", "--crds-only", "--apply", "--kubeconfig"])
            .arg(&cluster.kubeconfig),
    );
}

/// `plumb controller` watching `namespace` of `cluster`, serving on a free loopback
/// address (its Lease and webhook Secret in `namespace`); returns it and that address.
pub fn start_controller(
    cluster: &Cluster,
    namespace: &str,
    scratch: &Path,
) -> (Supervised, SocketAddr) {
    let server = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut command = Command::new(plumb_binary());
    command
        .args(["controller", "--watch-namespace", namespace, "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .arg("--cache-dir")
        .arg(scratch.join("cache"))
        .arg("--allow-local-repositories")
        .args([
            "--listen",
            &server.to_string(),
            "--lease-namespace",
            namespace,
        ]);
    // PLUMB_BENCH_CONTROLLER_LOG keeps the log past the benchmark (with RUST_LOG, say
    // `plumb_controller::api_client=trace` for every API request), to profile a run.
    let log = std::env::var_os("PLUMB_BENCH_CONTROLLER_LOG")
        .map_or_else(|| scratch.join("controller.log"), PathBuf::from);
    let controller = Supervised::spawn("plumb controller", command, &log).unwrap();
    show_log_on_panic(log);
    (controller, server)
}

/// A benchmark that fails (a value never reached, in CI) prints the end of the
/// controller's log with its panic: the log sits in a scratch directory gone with it.
fn show_log_on_panic(log: PathBuf) {
    let default = std::panic::take_hook();
    #[allow(
        clippy::print_stderr,
        reason = "beside the panic's own message, which goes to stderr"
    )]
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(80)..];
        eprintln!(
            "--- the last {} lines of {} ---\n{}",
            tail.len(),
            log.display(),
            tail.join("\n")
        );
    }));
}

/// Creates the Secret holding the key webhooks are signed with ([`WEBHOOK_SECRET`]), in
/// the controller's namespace, before the controller starts.
pub async fn create_webhook_secret(client: &kube::Client, namespace: &str) {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), namespace);
    let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plumb-webhooks"},
                                    "stringData": {"github": WEBHOOK_SECRET}});
    secrets
        .create(
            &kube::api::PostParams::default(),
            &serde_json::from_value(secret).unwrap(),
        )
        .await
        .unwrap();
}

/// The Applications of `namespace`, read and written as plain JSON.
pub fn applications(client: &kube::Client, namespace: &str) -> Api<kube::api::DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        namespace,
        &kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "plumb.dev",
            "v1alpha1",
            "Application",
        )),
    )
}

/// GitHub's push event for `repo_url`, signed as GitHub signs it with [`WEBHOOK_SECRET`]
/// (or with `key` to forge one); returns the status code.
pub fn deliver_github_push(server: SocketAddr, repo_url: &str, key: &str) -> u16 {
    let body = format!(
        r#"{{"ref": "refs/heads/main", "repository": {{"full_name": "org/deploy", "git_url": "{repo_url}"}}}}"#
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let signature: String = ring::hmac::sign(&key, body.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut stream = std::net::TcpStream::connect(server).unwrap();
    let head = format!(
        "POST /api/v1/webhooks/github HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nX-GitHub-Event: push\r\n\
         X-Hub-Signature-256: sha256={signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Waits (two minutes at most) until ConfigMap `name`'s `value` is `value`.
pub async fn wait_value(api: &Api<ConfigMap>, name: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen = match api.get_opt(name).await {
            Ok(Some(cm)) => {
                let found = cm.data.as_ref().and_then(|d| d.get("value")).cloned();
                if found.as_deref() == Some(value) {
                    return;
                }
                format!("its value is {found:?}")
            }
            Ok(None) => "it does not exist".to_owned(),
            Err(err) => format!("reading it failed: {err}"),
        };
        assert!(
            Instant::now() < deadline,
            "{name} never reached {value}: at the last look {seen}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A ConfigMap manifest with one `value`.
pub fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"
    )
}

/// The resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many file descriptors process `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The controller's `/metrics`, read as a Prometheus would: with the token of a
/// ServiceAccount bound to `get` on the path, made for plumb's audience.
pub struct MetricsScraper {
    server: SocketAddr,
    token: String,
}

/// A scraper of the controller serving at `server`, once its `/metrics` answers.
pub async fn metrics_scraper(
    cluster: &Cluster,
    namespace: &str,
    server: SocketAddr,
) -> MetricsScraper {
    let scraper = MetricsScraper {
        server,
        token: scraper_token(cluster, namespace),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while scraper.text().is_none() {
        assert!(
            Instant::now() < deadline,
            "the controller's /metrics never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scraper
}

impl MetricsScraper {
    /// The whole exposition, or `None` when the controller does not answer 200.
    pub fn text(&self) -> Option<String> {
        crate::metrics::scrape(self.server, Some(&self.token))
    }

    /// The sum of every series of the metric `name` now.
    pub fn sum(&self, name: &str) -> f64 {
        crate::metrics::sum_of(
            &self.text().expect("the controller's /metrics answers"),
            name,
        )
    }
}

/// A token for `/metrics`: ServiceAccount `scraper` of `namespace`, bound to a ClusterRole
/// that may `get` the path, its token made for plumb's audience.
fn scraper_token(cluster: &Cluster, namespace: &str) -> String {
    let kubectl = |args: &[&str]| {
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            output,
        )
    };
    let must = |args: &[&str]| {
        let (ok, stdout, output) = kubectl(args);
        assert!(
            ok,
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let role = "plumb-bench-metrics";
    if !kubectl(&["get", "clusterrole", role]).0 {
        must(&[
            "create",
            "clusterrole",
            role,
            "--verb=get",
            "--non-resource-url=/metrics",
        ]);
    }
    must(&["-n", namespace, "create", "serviceaccount", "scraper"]);
    must(&[
        "create",
        "clusterrolebinding",
        &format!("{role}-{namespace}"),
        &format!("--clusterrole={role}"),
        &format!("--serviceaccount={namespace}:scraper"),
    ]);
    must(&[
        "-n",
        namespace,
        "create",
        "token",
        "scraper",
        "--audience",
        "plumb",
    ])
}
