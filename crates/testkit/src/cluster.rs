//! How a test reaches a running control plane: address, CA, identities — and the one
//! control plane shared by a whole test run.
//!
//! A [`Cluster`] is plain data (it serialises to JSON), so the process that owns the control
//! plane can hand it to every test binary through the `PLUMB_TEST_CLUSTER` environment
//! variable. Clients are made fresh on each call: a `kube::Client` is tied to the Tokio
//! runtime that built it, and every `#[tokio::test]` has its own runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde::{Deserialize, Serialize};

use crate::{ControlPlane, Error, Release};

/// The environment variable naming a JSON [`Cluster`] description of a running control
/// plane, set by the test command so every test binary shares one control plane.
pub const SHARED_CLUSTER_ENV: &str = "PLUMB_TEST_CLUSTER";

/// The identity with full rights (group `system:masters`).
pub const ADMIN: &str = "admin";

/// An authenticated identity with no RBAC bindings at all: everything is refused.
pub const UNPRIVILEGED: &str = "alice";

/// Label put on every namespace a test creates.
pub const TEST_NAMESPACE_LABEL: &str = "plumb.dev/test";

/// A running Kubernetes API server and the identities that may talk to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cluster {
    /// The Kubernetes release it runs.
    pub release: Release,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// PEM file of the CA that signed the API server's serving certificate.
    pub ca_file: PathBuf,
    /// A kubeconfig with one context per identity; `admin` is current. Works with kubectl.
    pub kubeconfig: PathBuf,
    /// Bearer tokens by user name ([`ADMIN`], [`UNPRIVILEGED`]).
    tokens: BTreeMap<String, String>,
}

impl Cluster {
    pub(crate) fn new(
        release: Release,
        server: String,
        ca_file: PathBuf,
        kubeconfig: PathBuf,
    ) -> Self {
        Cluster {
            release,
            server,
            ca_file,
            kubeconfig,
            tokens: BTreeMap::new(),
        }
    }

    pub(crate) fn with_token(mut self, user: &str, token: String) -> Self {
        self.tokens.insert(user.to_owned(), token);
        self
    }

    /// The one control plane of this test run.
    ///
    /// When `PLUMB_TEST_CLUSTER` names a description (the test command starts a control
    /// plane and sets it), that cluster is used. Otherwise — e.g. `cargo test -p x` run by
    /// hand — a control plane is started on first use and lives as long as this process;
    /// its processes die with it.
    ///
    /// # Panics
    /// When no control plane can be reached or started; the message says why and what to do.
    pub async fn shared() -> &'static Cluster {
        static SHARED: tokio::sync::OnceCell<Cluster> = tokio::sync::OnceCell::const_new();
        SHARED
            .get_or_init(|| async {
                let found = match std::env::var_os(SHARED_CLUSTER_ENV) {
                    Some(path) => Cluster::load(Path::new(&path)),
                    None => start_for_this_process().await,
                };
                found.unwrap_or_else(|err| panic!("no test control plane: {err}"))
            })
            .await
    }

    /// Reads a description written by [`Cluster::save`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bad = |detail: String| Error::ClusterInfo {
            path: path.to_owned(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|err| bad(err.to_string()))?;
        serde_json::from_str(&text).map_err(|err| bad(err.to_string()))
    }

    /// Writes this description as JSON, readable by [`Cluster::load`].
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self).map_err(|err| Error::ClusterInfo {
            path: path.to_owned(),
            detail: err.to_string(),
        })?;
        // Atomically: a reader polling for the file never sees half of it.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(Error::io(format!("write {}", path.display())))
    }

    /// The bearer token of `user` (one of [`ADMIN`], [`UNPRIVILEGED`]), for credentials a
    /// test hands to another program (a registered cluster's Secret).
    pub fn token(&self, user: &str) -> Option<&str> {
        self.tokens.get(user).map(String::as_str)
    }

    /// A client acting as the cluster administrator.
    pub async fn client(&self) -> Result<Client, Error> {
        self.client_as(ADMIN).await
    }

    /// A client acting as `user` (one of [`ADMIN`], [`UNPRIVILEGED`]).
    pub async fn client_as(&self, user: &str) -> Result<Client, Error> {
        let action = format!("build a client for user {user}");
        let config = self.config_as(user).await?;
        Client::try_from(config).map_err(Error::kube(action))
    }

    /// The client configuration of `user`, for tests that build their own client stack
    /// (e.g. with a layer counting requests).
    pub async fn config_as(&self, user: &str) -> Result<Config, Error> {
        let action = format!("configure a client for user {user}");
        let config_error = |source| Error::Kubeconfig {
            action: action.clone(),
            source,
        };
        let kubeconfig = Kubeconfig::from_yaml(&self.kubeconfig_text()).map_err(config_error)?;
        let options = KubeConfigOptions {
            context: Some(user.to_owned()),
            ..KubeConfigOptions::default()
        };
        Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(config_error)
    }

    /// Creates a namespace of its own for one test: `{hint}-{unique suffix}`.
    ///
    /// Namespaces are not deleted afterwards: the control plane is thrown away at the end
    /// of the run, and a failed test's objects stay there to be looked at.
    pub async fn namespace(&self, hint: &str) -> Result<String, Error> {
        let name = unique_name(hint);
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(self.client().await?)
            .create(&PostParams::default(), &namespace)
            .await
            .map_err(Error::kube(format!("create namespace {name}")))?;
        Ok(name)
    }

    /// The kubeconfig as JSON (a subset of YAML that kubectl and kube-rs both read).
    pub(crate) fn kubeconfig_text(&self) -> String {
        let contexts: Vec<_> = self
            .tokens
            .keys()
            .map(|user| serde_json::json!({"name": user, "context": {"cluster": "plumb-test", "user": user}}))
            .collect();
        let users: Vec<_> = self
            .tokens
            .iter()
            .map(|(user, token)| serde_json::json!({"name": user, "user": {"token": token}}))
            .collect();
        let kubeconfig = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "plumb-test", "cluster": {
                "server": self.server,
                "certificate-authority": self.ca_file,
            }}],
            "contexts": contexts,
            "users": users,
            "current-context": ADMIN,
        });
        serde_json::to_string_pretty(&kubeconfig).expect("a JSON value always serialises")
    }
}

/// `hint-xxxxxxxx`: unique within this run, a valid DNS label.
fn unique_name(hint: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let salt = nanos ^ std::process::id().rotate_left(16) ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    let hint: String = hint
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(50)
        .collect();
    format!("{}-{salt:08x}", hint.trim_matches('-'))
}

/// Starts a control plane owned by this process for the rest of its life.
async fn start_for_this_process() -> Result<Cluster, Error> {
    static OWNED: OnceLock<ControlPlane> = OnceLock::new();
    let control_plane = ControlPlane::start().await?;
    let cluster = control_plane.cluster().clone();
    // Never dropped: its processes die with this process (parent-death signal).
    let _ = OWNED.set(control_plane);
    Ok(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_dns_labels_and_differ() {
        let a = unique_name("Drift_Test");
        let b = unique_name("Drift_Test");
        assert_ne!(a, b);
        assert!(a.starts_with("drift-test-"), "{a}");
        assert!(a.len() <= 63);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn a_description_survives_a_round_trip_through_json() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = Cluster::new(
            Release::Current,
            "https://127.0.0.1:1".into(),
            "/ca.crt".into(),
            "/kubeconfig".into(),
        )
        .with_token(ADMIN, "secret".into());
        let path = dir.path().join("cluster.json");
        cluster.save(&path).unwrap();
        let loaded = Cluster::load(&path).unwrap();
        assert_eq!(loaded.server, cluster.server);
        assert_eq!(loaded.tokens, cluster.tokens);
    }
}
