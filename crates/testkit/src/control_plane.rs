//! A real Kubernetes control plane on loopback: etcd, kube-apiserver and
//! kube-controller-manager of one [`Release`] (1.37.2 by default, or 1.20.2, the oldest
//! plumb supports), each a supervised child process.
//!
//! What is real: storage (etcd), admission, RBAC authorization, server-side apply and
//! managedFields, watches, and the controllers of kube-controller-manager (Deployments make
//! ReplicaSets make Pods, garbage collection, namespace deletion, ServiceAccount tokens).
//! What is absent: a scheduler and kubelets — Pods stay Pending, and a test that needs a
//! Ready Pod sets its status through the API, as a kubelet would.
//!
//! Readiness is observed, never slept for: `/readyz` of the API server, then the `default`
//! ServiceAccount, which only kube-controller-manager creates (with its token Secret, on
//! releases that still make one).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, Client};

use crate::locations::{find_binary, free_port, scratch_dir, scratch_root};
use crate::process::Supervised;
use crate::{ADMIN, Cluster, Error, Release, UNPRIVILEGED};

/// How long each stage of start-up may take before it is reported as failed.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(100);
/// Prefix of control-plane scratch directories (see [`sweep_abandoned_dirs`]).
const DIR_PREFIX: &str = "control-plane";
/// File in a scratch directory holding the pid of the process that owns it.
const OWNER_FILE: &str = "owner.pid";

/// A running control plane. Dropping it stops every process and removes its directory.
///
/// Fault tests stop, restart and pause its parts ([`ControlPlane::stop_apiserver`],
/// [`ControlPlane::restart_etcd`], [`ControlPlane::pause_apiserver`] …): each comes back on
/// the same address, with the same data, certificates and tokens, as after a crash.
#[derive(Debug)]
pub struct ControlPlane {
    cluster: Cluster,
    started_in: Duration,
    release: Release,
    binaries: Binaries,
    credentials: Credentials,
    etcd_urls: EtcdUrls,
    apiserver_port: u16,
    // Field order is drop order: controllers, then the API server, then storage, then files.
    controller_manager: Supervised,
    apiserver: Supervised,
    etcd: Supervised,
    dir: tempfile::TempDir,
}

impl ControlPlane {
    /// Starts the release `PLUMB_K8S_VERSION` names (the current one when unset): see
    /// [`ControlPlane::start_release`].
    pub async fn start() -> Result<Self, Error> {
        Self::start_release(Release::from_env()?).await
    }

    /// Starts etcd, kube-apiserver and kube-controller-manager of `release` on free
    /// loopback ports and waits until the API server is ready and the controllers are
    /// running.
    ///
    /// Needs the binaries from `scripts/provision.sh`; an error says what is missing.
    pub async fn start_release(release: Release) -> Result<Self, Error> {
        // A free port is only free until someone binds it: control planes started at once
        // (fault tests each start their own) can lose one to another. Start again, on new
        // ports, when that is why a component exited.
        let mut attempt = 1;
        loop {
            match Self::start_once(release).await {
                Err(Error::ExitedEarly { log_tail, .. })
                    if attempt < 3 && log_tail.contains("address already in use") =>
                {
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn start_once(release: Release) -> Result<Self, Error> {
        let began = Instant::now();
        let binaries = Binaries::find(release)?;
        sweep_abandoned_dirs();
        let dir = scratch_dir(DIR_PREFIX)?;
        let root = dir.path();
        std::fs::write(root.join(OWNER_FILE), std::process::id().to_string())
            .map_err(Error::io("write the owner file"))?;

        let credentials = Credentials::create(root)?;
        let etcd_urls = EtcdUrls::free()?;
        let etcd = start_etcd(&binaries.etcd, root, &etcd_urls)?;
        let apiserver_port = free_port()?;
        let mut apiserver = start_apiserver(
            &binaries,
            release,
            root,
            &etcd_urls,
            &credentials,
            apiserver_port,
        )?;
        let server = format!("https://127.0.0.1:{apiserver_port}");

        let ca_file = wait_for_file(&root.join("pki/apiserver.crt"), &mut apiserver).await?;
        let kubeconfig = root.join("kubeconfig");
        let cluster = Cluster::new(release, server, ca_file, kubeconfig.clone())
            .with_token(ADMIN, credentials.admin_token.clone())
            .with_token(UNPRIVILEGED, credentials.unprivileged_token.clone());
        std::fs::write(&kubeconfig, cluster.kubeconfig_text())
            .map_err(Error::io(format!("write {}", kubeconfig.display())))?;
        let client = cluster.client().await?;
        wait_for_readyz(&client, &mut apiserver).await?;

        let mut controller_manager =
            start_controller_manager(&binaries, release, root, &credentials)?;
        wait_for_controllers(&client, release, &mut controller_manager).await?;

        Ok(ControlPlane {
            cluster,
            started_in: began.elapsed(),
            release,
            binaries,
            credentials,
            etcd_urls,
            apiserver_port,
            controller_manager,
            apiserver,
            etcd,
            dir,
        })
    }

    /// Stops kube-apiserver (SIGTERM, then SIGKILL): clients get connection refused.
    pub fn stop_apiserver(&mut self) {
        self.apiserver.stop();
    }

    /// Starts kube-apiserver again on the same port and etcd, and waits until it is ready.
    pub async fn start_apiserver(&mut self) -> Result<(), Error> {
        self.apiserver.stop();
        self.apiserver = start_apiserver(
            &self.binaries,
            self.release,
            self.dir.path(),
            &self.etcd_urls,
            &self.credentials,
            self.apiserver_port,
        )?;
        let client = self.cluster.client().await?;
        wait_for_readyz(&client, &mut self.apiserver).await
    }

    /// Kills etcd and starts it again on its data and addresses; waits until the API
    /// server answers from it again.
    pub async fn restart_etcd(&mut self) -> Result<(), Error> {
        self.etcd.stop();
        self.etcd = start_etcd(&self.binaries.etcd, self.dir.path(), &self.etcd_urls)?;
        let client = self.cluster.client().await?;
        wait_for_readyz(&client, &mut self.apiserver).await
    }

    /// Freezes kube-apiserver (SIGSTOP): connections stay open and nothing answers, as
    /// behind a load balancer that blackholes a dead peer.
    pub fn pause_apiserver(&self) {
        self.apiserver.signal(rustix::process::Signal::STOP);
    }

    /// Lets a paused kube-apiserver run again (SIGCONT).
    pub fn resume_apiserver(&self) {
        self.apiserver.signal(rustix::process::Signal::CONT);
    }

    /// How to reach this control plane.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Wall time from the call to [`ControlPlane::start`] until it was ready.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The directory holding data, certificates, logs and the kubeconfig.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Process ids of etcd, kube-apiserver and kube-controller-manager.
    pub fn pids(&self) -> [u32; 3] {
        [
            self.etcd.pid(),
            self.apiserver.pid(),
            self.controller_manager.pid(),
        ]
    }

    /// Fails with the log of the first component that has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        self.etcd.check_running()?;
        self.apiserver.check_running()?;
        self.controller_manager.check_running()
    }
}

#[derive(Debug)]
struct Binaries {
    etcd: PathBuf,
    apiserver: PathBuf,
    controller_manager: PathBuf,
}

impl Binaries {
    fn find(release: Release) -> Result<Self, Error> {
        let k8s = release.bin_dir();
        Ok(Binaries {
            // A release built from Go modules has its own etcd beside the API server; for
            // the oldest, Debian's etcd-server puts etcd 3.4 on PATH. An override for other
            // machines wins.
            etcd: match std::env::var_os("PLUMB_ETCD") {
                Some(path) => path.into(),
                None => find_binary("etcd", Some(&k8s)).or_else(|_| find_binary("etcd", None))?,
            },
            apiserver: find_binary("kube-apiserver", Some(&k8s))?,
            controller_manager: find_binary("kube-controller-manager", Some(&k8s))?,
        })
    }
}

/// Keys and tokens made fresh for each control plane.
#[derive(Debug)]
struct Credentials {
    /// Signs and verifies ServiceAccount tokens.
    service_account_key: PathBuf,
    token_file: PathBuf,
    admin_token: String,
    unprivileged_token: String,
}

impl Credentials {
    fn create(root: &Path) -> Result<Self, Error> {
        let service_account_key = root.join("service-account.key");
        run_command(
            Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ])
                .arg("-out")
                .arg(&service_account_key),
        )?;
        let admin_token = random_token()?;
        let unprivileged_token = random_token()?;
        let token_file = root.join("tokens.csv");
        // token,user,uid,"groups" — the static token file of kube-apiserver.
        let tokens = format!(
            "{admin_token},{ADMIN},{ADMIN},\"system:masters\"\n\
             {unprivileged_token},{UNPRIVILEGED},{UNPRIVILEGED}\n"
        );
        std::fs::write(&token_file, tokens).map_err(Error::io("write the token file"))?;
        Ok(Credentials {
            service_account_key,
            token_file,
            admin_token,
            unprivileged_token,
        })
    }
}

/// Where etcd listens; kept for restarts.
#[derive(Debug)]
struct EtcdUrls {
    client: String,
    peer: String,
}

impl EtcdUrls {
    fn free() -> Result<Self, Error> {
        Ok(EtcdUrls {
            client: format!("http://127.0.0.1:{}", free_port()?),
            peer: format!("http://127.0.0.1:{}", free_port()?),
        })
    }
}

fn start_etcd(binary: &Path, root: &Path, urls: &EtcdUrls) -> Result<Supervised, Error> {
    let (client_url, peer_url) = (&urls.client, &urls.peer);
    let mut command = Command::new(binary);
    command
        .arg("--name=plumb-test")
        .arg(format!("--data-dir={}", root.join("etcd").display()))
        .arg(format!("--listen-client-urls={client_url}"))
        .arg(format!("--advertise-client-urls={client_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=plumb-test={peer_url}"))
        .arg("--log-level=warn")
        .arg("--logger=zap");
    Supervised::spawn("etcd", command, &root.join("etcd.log"))
}

fn start_apiserver(
    binaries: &Binaries,
    release: Release,
    root: &Path,
    etcd: &EtcdUrls,
    credentials: &Credentials,
    port: u16,
) -> Result<Supervised, Error> {
    let key = credentials.service_account_key.display();
    let mut command = Command::new(&binaries.apiserver);
    command
        .arg(format!("--etcd-servers={}", etcd.client))
        .arg("--bind-address=127.0.0.1")
        .arg("--advertise-address=127.0.0.1")
        // The `kubernetes` Service's endpoints would name 127.0.0.1, which current releases
        // refuse ("may not be in the loopback range"); nothing here reaches the API server
        // through that Service.
        .arg("--endpoint-reconciler-type=none")
        .arg(format!("--secure-port={port}"))
        .arg(format!("--cert-dir={}", root.join("pki").display()))
        .arg(format!(
            "--token-auth-file={}",
            credentials.token_file.display()
        ))
        .arg("--authorization-mode=RBAC")
        .arg("--service-account-issuer=https://kubernetes.default.svc")
        .arg(format!("--service-account-key-file={key}"))
        .arg(format!("--service-account-signing-key-file={key}"))
        .arg("--service-cluster-ip-range=10.96.0.0/16")
        .arg("--allow-privileged=true")
        .arg("--v=0");
    if release.has_insecure_ports() {
        command.arg("--insecure-port=0");
    }
    Supervised::spawn("kube-apiserver", command, &root.join("kube-apiserver.log"))
}

fn start_controller_manager(
    binaries: &Binaries,
    release: Release,
    root: &Path,
    credentials: &Credentials,
) -> Result<Supervised, Error> {
    let mut command = Command::new(&binaries.controller_manager);
    command
        .arg(format!(
            "--kubeconfig={}",
            root.join("kubeconfig").display()
        ))
        .arg("--leader-elect=false")
        // No HTTP serving at all: nothing here scrapes it, and it would need its own certs.
        .arg("--secure-port=0")
        .arg(format!(
            "--service-account-private-key-file={}",
            credentials.service_account_key.display()
        ))
        .arg(format!(
            "--root-ca-file={}",
            root.join("pki/apiserver.crt").display()
        ))
        .arg("--controllers=*")
        // Its client's default of 20 requests a second made a 1,000-object test app take a
        // minute to settle (a ReplicaSet and a status write per Deployment): a test cluster
        // has no other tenant to protect.
        .arg("--kube-api-qps=200")
        .arg("--kube-api-burst=400")
        .arg("--v=0");
    if release.has_insecure_ports() {
        command.arg("--port=0");
    }
    Supervised::spawn(
        "kube-controller-manager",
        command,
        &root.join("kube-controller-manager.log"),
    )
}

/// Waits for the API server to write its self-signed serving certificate.
async fn wait_for_file(path: &Path, process: &mut Supervised) -> Result<PathBuf, Error> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        process.check_running()?;
        tokio::time::sleep(POLL).await;
    }
    Err(Error::NotReady {
        what: format!("file {}", path.display()),
        timeout: STARTUP_TIMEOUT,
        last_error: "not written".into(),
        log_tail: process.log_tail(),
    })
}

async fn wait_for_readyz(client: &Client, apiserver: &mut Supervised) -> Result<(), Error> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut last_error = String::new();
    while Instant::now() < deadline {
        apiserver.check_running()?;
        let request = http::Request::get("/readyz")
            .body(Vec::new())
            .expect("a static request is valid");
        match client.request_text(request).await {
            Ok(body) if body.trim() == "ok" => return Ok(()),
            Ok(body) => last_error = body,
            Err(err) => last_error = err.to_string(),
        }
        tokio::time::sleep(POLL).await;
    }
    Err(Error::NotReady {
        what: "kube-apiserver /readyz".into(),
        timeout: STARTUP_TIMEOUT,
        last_error,
        log_tail: apiserver.log_tail(),
    })
}

/// The `default` ServiceAccount (and, before 1.24, its token Secret) are made by
/// kube-controller-manager's serviceaccount and token controllers; Pods cannot be admitted
/// before they exist.
async fn wait_for_controllers(
    client: &Client,
    release: Release,
    manager: &mut Supervised,
) -> Result<(), Error> {
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), "default");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut last_error = String::from("no default ServiceAccount yet");
    while Instant::now() < deadline {
        manager.check_running()?;
        match accounts.get_opt("default").await {
            Ok(Some(account))
                if !release.makes_token_secrets()
                    || account.secrets.as_ref().is_some_and(|s| !s.is_empty()) =>
            {
                return Ok(());
            }
            Ok(_) => {}
            Err(err) => last_error = err.to_string(),
        }
        tokio::time::sleep(POLL).await;
    }
    Err(Error::NotReady {
        what: "kube-controller-manager (the default ServiceAccount)".into(),
        timeout: STARTUP_TIMEOUT,
        last_error,
        log_tail: manager.log_tail(),
    })
}

/// Runs `command`, its stderr in the error when it fails.
pub(crate) fn run_command(command: &mut Command) -> Result<(), Error> {
    let line = format!("{command:?}");
    let output = command.output().map_err(|source| Error::Command {
        command: line.clone(),
        detail: source.to_string(),
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        command: line,
        detail: format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}

fn random_token() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(Error::io("read /dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Removes control-plane directories whose owning process no longer exists.
///
/// A control plane started lazily inside a test binary is never dropped (it lives in a
/// static); its processes die with the binary, but its directory stays. The next start
/// cleans up after it.
fn sweep_abandoned_dirs() {
    let Ok(entries) = std::fs::read_dir(scratch_root()) else {
        return;
    };
    let prefix = format!("plumb-{DIR_PREFIX}-");
    for entry in entries.flatten() {
        let path = entry.path();
        let named_ours = entry.file_name().to_string_lossy().starts_with(&prefix);
        let owner = std::fs::read_to_string(path.join(OWNER_FILE)).ok();
        let abandoned = owner.is_some_and(|pid| !Path::new("/proc").join(pid.trim()).exists());
        if named_ours && abandoned {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::log_tail;

    #[test]
    fn tokens_are_random_and_hex() {
        let a = random_token().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_token().unwrap());
    }

    #[test]
    fn the_tail_of_a_log_is_its_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        std::fs::write(
            &log,
            (1..=20).map(|n| format!("line {n}\n")).collect::<String>(),
        )
        .unwrap();
        assert_eq!(log_tail(&log, 2), "line 19\nline 20");
    }
}
