//! Flux beside plumb: its source-controller and kustomize-controller run as processes out
//! of cluster against the test control plane, for the benchmarks that compare the two.
//!
//! The binaries and CRDs are not part of this repository: `PLUMB_FLUX=1
//! scripts/provision.sh` builds them from Go's module proxy (scripts/flux.sh) into a cache
//! directory holding `bin/` and `crd/` (links to `config/crd/bases` of each controller's
//! module in Go's module cache). `PLUMB_FLUX_DIR` names that directory; by default it is the
//! one scripts/flux.sh makes under `~/.cache/plumb`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

use kube::Api;
use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::ApiResource;
use plumb_testkit::Cluster;
use plumb_testkit::process::Supervised;
use serde_json::json;

use crate::run;

/// The Flux build scripts/flux.sh makes: source-controller and kustomize-controller of
/// Flux v2.9 (v1.9.6 each).
const DEFAULT_DIR: &str = "flux-sc1.9.6-kc1.9.6";

/// The kustomize-controller's workers (`--concurrent`), as in Flux's published MTTP
/// benchmark (fluxcd/flux-benchmark: kustomize-controller 20, source-controller 10).
pub const KUSTOMIZE_CONCURRENCY: usize = 20;
const SOURCE_CONCURRENCY: usize = 10;

/// Where the Flux build is: `$PLUMB_FLUX_DIR`, else scripts/flux.sh's cache directory.
pub fn flux_dir() -> PathBuf {
    let dir = std::env::var_os("PLUMB_FLUX_DIR").map_or_else(
        || {
            let cache = std::env::var_os("PLUMB_CACHE_DIR").map_or_else(
                || {
                    std::env::var_os("XDG_CACHE_HOME")
                        .map_or_else(
                            || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"),
                            PathBuf::from,
                        )
                        .join("plumb")
                },
                PathBuf::from,
            );
            cache.join(DEFAULT_DIR)
        },
        PathBuf::from,
    );
    assert!(
        dir.join("bin/kustomize-controller").exists() && dir.join("crd").exists(),
        "no Flux build in {}: build it with `PLUMB_FLUX=1 scripts/provision.sh` (scripts/flux.sh)",
        dir.display()
    );
    dir
}

/// Applies the CRDs of both controllers (server-side, so a second run changes nothing).
pub fn install_crds(cluster: &Cluster) {
    let crds = flux_dir().join("crd");
    for controller in ["source-controller", "kustomize-controller"] {
        // Each file named: kubectl walks no directory behind a link, and crd/ holds links.
        let mut files: Vec<PathBuf> = std::fs::read_dir(crds.join(controller))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        let mut kubectl = Command::new("kubectl");
        kubectl.arg("--kubeconfig").arg(&cluster.kubeconfig).args([
            "apply",
            "--server-side",
            "--force-conflicts",
        ]);
        for file in &files {
            kubectl.arg("-f").arg(file);
        }
        run(&mut kubectl);
    }
    for crd in [
        "gitrepositories.source.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
    ] {
        run(Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd",
                crd,
            ]));
    }
}

/// The two controllers, running, and where their metrics are served.
pub struct Flux {
    /// source-controller: fetches the GitRepository, serves its artifact on loopback.
    pub source: Supervised,
    /// kustomize-controller: builds and applies the Kustomizations.
    pub kustomize: Supervised,
    /// Where source-controller serves `/metrics`.
    pub source_metrics: SocketAddr,
    /// Where kustomize-controller serves `/metrics`.
    pub kustomize_metrics: SocketAddr,
}

impl Flux {
    /// Both controllers watching only `namespace` (as `plumb controller --watch-namespace`),
    /// without leader election, serving on free loopback addresses; source-controller's
    /// artifacts are served on loopback too, where kustomize-controller downloads them.
    /// `api_qps` raises both controllers' client-side rate limit (`--kube-api-qps`, with
    /// twice that as burst) from Flux's default of 50 requests a second.
    pub fn start(cluster: &Cluster, namespace: &str, scratch: &Path, api_qps: Option<u32>) -> Flux {
        let bin = flux_dir().join("bin");
        let storage = free_address();
        let source_metrics = free_address();
        let kustomize_metrics = free_address();
        let common = |command: &mut Command, metrics: SocketAddr| {
            command
                .env("RUNTIME_NAMESPACE", namespace)
                // No --kubeconfig flag in Flux's controllers: controller-runtime reads this.
                .env("KUBECONFIG", &cluster.kubeconfig)
                .args([
                    "--watch-all-namespaces=false",
                    "--enable-leader-election=false",
                    "--log-level=info",
                    &format!("--metrics-addr={metrics}"),
                    &format!("--health-addr={}", free_address()),
                ]);
            if let Some(qps) = api_qps {
                command.args([
                    format!("--kube-api-qps={qps}"),
                    format!("--kube-api-burst={}", 2 * qps),
                ]);
            }
        };
        // source-controller refuses a storage path that is not there yet.
        std::fs::create_dir_all(scratch.join("storage")).unwrap();
        let mut source = Command::new(bin.join("source-controller"));
        common(&mut source, source_metrics);
        source
            .arg(format!(
                "--storage-path={}",
                scratch.join("storage").display()
            ))
            .arg(format!("--storage-addr={storage}"))
            .arg(format!("--storage-adv-addr={storage}"))
            .arg(format!("--concurrent={SOURCE_CONCURRENCY}"));
        let mut kustomize = Command::new(bin.join("kustomize-controller"));
        common(&mut kustomize, kustomize_metrics);
        kustomize.arg(format!("--concurrent={KUSTOMIZE_CONCURRENCY}"));
        let logs = std::env::var_os("PLUMB_BENCH_FLUX_LOGS")
            .map_or_else(|| scratch.to_path_buf(), PathBuf::from);
        std::fs::create_dir_all(&logs).unwrap();
        Flux {
            source: Supervised::spawn(
                "source-controller",
                source,
                &logs.join("source-controller.log"),
            )
            .unwrap(),
            kustomize: Supervised::spawn(
                "kustomize-controller",
                kustomize,
                &logs.join("kustomize-controller.log"),
            )
            .unwrap(),
            source_metrics,
            kustomize_metrics,
        }
    }

    /// Panics with the end of its log when either controller has exited.
    pub fn check_running(&mut self) {
        for controller in [&mut self.source, &mut self.kustomize] {
            if let Err(exited) = controller.check_running() {
                panic!("{exited}");
            }
        }
    }

    /// The sum of `rest_client_requests_total` (client-go's count of API requests, which
    /// controller-runtime serves) over both controllers, once both answer.
    pub fn api_requests(&self) -> Option<f64> {
        let source = scrape(self.source_metrics)?;
        let kustomize = scrape(self.kustomize_metrics)?;
        Some(
            crate::metrics::sum_of(&source, "rest_client_requests_total")
                + crate::metrics::sum_of(&kustomize, "rest_client_requests_total"),
        )
    }
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A controller's `/metrics` (controller-runtime serves it in plain HTTP, without a token).
fn scrape(address: SocketAddr) -> Option<String> {
    crate::metrics::scrape(address, None)
}

fn api(client: &kube::Client, namespace: &str, group: &str, kind: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind)),
    )
}

/// The GitRepositories of `namespace`.
pub fn git_repositories(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    api(
        client,
        namespace,
        "source.toolkit.fluxcd.io",
        "GitRepository",
    )
}

/// The Kustomizations of `namespace`.
pub fn kustomizations(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    api(
        client,
        namespace,
        "kustomize.toolkit.fluxcd.io",
        "Kustomization",
    )
}

/// A GitRepository following branch `main` of `url`.
pub fn git_repository(name: &str, url: &str, interval: &str) -> serde_json::Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name},
        "spec": {"url": url, "ref": {"branch": "main"}, "interval": interval},
    })
}

/// A Kustomization of `path` in GitRepository `source`, applied into `namespace`, pruned,
/// and waited on: `wait: true` makes Flux hold Ready (and lastAppliedRevision) until every
/// object it applied is ready by kstatus (a Deployment Available), as plumb's Healthy does.
pub fn kustomization(
    name: &str,
    source: &str,
    path: &str,
    namespace: &str,
    interval: &str,
) -> serde_json::Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": source},
                 "path": path, "targetNamespace": namespace, "prune": true, "wait": true,
                 "interval": interval},
    })
}

/// What Flux's notification-controller does when a Receiver accepts a push webhook: it
/// sets `reconcile.fluxcd.io/requestedAt` on the resources the Receiver names, here the
/// GitRepository, which then fetches at once.
pub async fn request_reconcile(api: &Api<DynamicObject>, name: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_string();
    let patch = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// Flux's name of `commit` on branch main, as Kustomizations report it applied.
pub fn revision(commit: &str) -> String {
    format!("main@sha1:{commit}")
}

/// Patches `object` by server-side apply, as `kubectl apply --server-side` would.
pub async fn apply(api: &Api<DynamicObject>, object: &serde_json::Value) {
    let name = object["metadata"]["name"].as_str().unwrap();
    api.patch(
        name,
        &PatchParams::apply("bench").force(),
        &Patch::Apply(object),
    )
    .await
    .unwrap();
}
