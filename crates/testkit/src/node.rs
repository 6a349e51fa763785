//! A real node for the test control plane: kube-scheduler, containerd (Debian's 1.6, with
//! runc) and a kubelet of the current release, registered as Node `plumb-node`, so Pods
//! are scheduled, their images unpacked, their containers started and probed — Ready
//! because they are.
//!
//! ```text
//!  kube-apiserver ◀── kube-scheduler (binds Pods to plumb-node)
//!        ▲
//!        └────────── kubelet ──CRI──▶ containerd ──▶ runc ──▶ containers on bridge plumb0
//!                                                            (10.88.0.0/16, host 10.88.0.1)
//! ```
//!
//! Optional and exclusive: only stories that need running containers start one, at most
//! one per machine (the bridge and the node name are fixed), against the control plane
//! they are given; the stand-in [`crate::kubelet`] stays for tests that set readiness by
//! hand. No registry is reachable: images are imported from OCI archives
//! ([`Node::import_image`]); the pause and busybox images are built here
//! ([`images`]). Root is needed (namespaces, cgroups, iptables).
//!
//! Dropping the node kills every container it ran, stops its processes, unmounts and
//! removes its directory, its bridge and forwarding rules, and deletes the Node object.

pub mod images;
mod network;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node as NodeObject;
use kube::Api;

use crate::locations::{cache_dir, free_port, scratch_dir};
use crate::process::Supervised;
use crate::{Cluster, Error, Release};
use network::PodNetwork;

/// The Node object's name.
pub const NODE_NAME: &str = "plumb-node";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running node. See the module documentation.
#[derive(Debug)]
pub struct Node {
    cluster: Cluster,
    socket: PathBuf,
    // Field order is drop order: the kubelet first (it would restart what is killed), then
    // the scheduler; containerd, its containers and the files are handled in `drop`.
    kubelet: Option<Supervised>,
    scheduler: Option<Supervised>,
    containerd: Option<Supervised>,
    network: Option<PodNetwork>,
    dir: Option<tempfile::TempDir>,
}

impl Node {
    /// Why this machine cannot start a node, or `None` when it can: root, the kubelet and
    /// scheduler provisioning builds, and Debian's containerd, runc, CNI plugins and
    /// iptables. Lets the demo choose between a node and the stand-in kubelet up front,
    /// instead of failing half-way.
    pub fn unavailable() -> Option<String> {
        if !rustix::process::geteuid().is_root() {
            return Some("a node needs root (namespaces, cgroups, iptables)".into());
        }
        let bin = node_bin_dir();
        let parts = [
            ("kubelet", Some(bin.as_path())),
            ("kube-scheduler", Some(bin.as_path())),
            ("containerd", None),
            ("ctr", None),
            ("runc", None),
            ("iptables", None),
            ("ip", None),
            ("bridge", Some(Path::new(CNI_BIN_DIR))),
            ("host-local", Some(Path::new(CNI_BIN_DIR))),
        ];
        let missing: Vec<String> = parts
            .into_iter()
            .filter_map(|(program, dir)| crate::locations::find_binary(program, dir).err())
            .map(|err| err.to_string())
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{} (scripts/provision.sh provides them)",
                missing.join("; ")
            )
        })
    }

    /// Starts a node for `cluster` (which must run the current release) and waits until
    /// the Node is Ready.
    pub async fn start(cluster: &Cluster) -> Result<Self, Error> {
        if cluster.release != Release::Current {
            return Err(Error::Command {
                command: "start a node".into(),
                detail: format!(
                    "the node's kubelet is {}, the control plane runs {}: start the node against the current release",
                    Release::Current.version(),
                    cluster.release.version()
                ),
            });
        }
        let bin = node_bin_dir();
        let kubelet = crate::locations::find_binary("kubelet", Some(&bin))?;
        let scheduler_binary = crate::locations::find_binary("kube-scheduler", Some(&bin))?;
        let containerd_binary = crate::locations::find_binary("containerd", None)?;
        let apiserver_port = cluster
            .server
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| Error::Command {
                command: "start a node".into(),
                detail: format!("no port in the API server's address {}", cluster.server),
            })?;

        let dir = scratch_dir("node")?;
        let root = dir.path().to_owned();
        let mut node = Node {
            cluster: cluster.clone(),
            socket: root.join("containerd.sock"),
            kubelet: None,
            scheduler: None,
            containerd: None,
            network: None,
            dir: Some(dir),
        };
        node.network = Some(PodNetwork::create(apiserver_port)?);
        write_configs(&root, &node.socket)?;

        let mut command = Command::new(containerd_binary);
        command.arg("--config").arg(root.join("containerd.toml"));
        let mut containerd =
            Supervised::spawn("containerd", command, &root.join("containerd.log"))?;
        wait_until(&mut containerd, "containerd's socket", || {
            node.socket.exists().then_some(())
        })
        .await?;
        node.containerd = Some(containerd);
        node.import_image(&images::pause_archive()?)?;

        let kubeconfig = &cluster.kubeconfig;
        let mut command = Command::new(scheduler_binary);
        command
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!(
                "--authentication-kubeconfig={}",
                kubeconfig.display()
            ))
            .arg(format!(
                "--authorization-kubeconfig={}",
                kubeconfig.display()
            ))
            .args(["--leader-elect=false", "--secure-port=0"]);
        node.scheduler = Some(Supervised::spawn(
            "kube-scheduler",
            command,
            &root.join("kube-scheduler.log"),
        )?);

        let mut command = Command::new(kubelet);
        command
            .arg(format!("--config={}", root.join("kubelet.yaml").display()))
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!("--root-dir={}", root.join("kubelet").display()))
            .arg(format!("--cert-dir={}", root.join("kubelet-pki").display()))
            .arg(format!("--hostname-override={NODE_NAME}"))
            .arg(format!("--node-ip={}", network::HOST_IP));
        node.kubelet = Some(Supervised::spawn(
            "kubelet",
            command,
            &root.join("kubelet.log"),
        )?);
        node.wait_until_ready().await?;
        Ok(node)
    }

    /// The node's address, where pods reach servers of the host (see
    /// [`Node::expose_loopback_port`]).
    pub fn host_ip(&self) -> Ipv4Addr {
        network::HOST_IP
    }

    /// Lets pods reach a server of the test listening on `127.0.0.1:port` at
    /// `host_ip():port` (a git daemon, say).
    pub fn expose_loopback_port(&mut self, port: u16) -> Result<(), Error> {
        match &mut self.network {
            Some(network) => network.expose_loopback_port(port),
            None => Ok(()),
        }
    }

    /// Imports an OCI image archive into the node's containerd, under the name the archive
    /// gives it, as `ctr -n k8s.io images import` does.
    pub fn import_image(&self, archive: &Path) -> Result<(), Error> {
        self.ctr(&["images", "import"], Some(archive)).map(drop)
    }

    /// The directory holding the node's configuration, logs and state.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new("/"), |dir| dir.path())
    }

    /// The last lines of the kubelet's log, for a failing test's message.
    pub fn kubelet_log_tail(&self) -> String {
        self.kubelet
            .as_ref()
            .map_or_else(String::new, Supervised::log_tail)
    }

    fn ctr(&self, args: &[&str], path: Option<&Path>) -> Result<String, Error> {
        let mut command = Command::new("ctr");
        command
            .arg("--address")
            .arg(&self.socket)
            .args(["--namespace", "k8s.io"])
            .args(args);
        if let Some(path) = path {
            command.arg(path);
        }
        let line = format!("{command:?}");
        let output = command.output().map_err(|source| Error::Command {
            command: line.clone(),
            detail: source.to_string(),
        })?;
        if !output.status.success() {
            return Err(Error::Command {
                command: line,
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    async fn wait_until_ready(&mut self) -> Result<(), Error> {
        let client = self.cluster.client().await?;
        let nodes: Api<NodeObject> = Api::all(client);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last = String::from("not registered");
        while Instant::now() < deadline {
            for process in [&mut self.containerd, &mut self.scheduler, &mut self.kubelet]
                .into_iter()
                .flatten()
            {
                process.check_running()?;
            }
            match nodes.get_opt(NODE_NAME).await {
                Ok(Some(node)) => {
                    let ready = node
                        .status
                        .and_then(|s| s.conditions)
                        .unwrap_or_default()
                        .into_iter()
                        .find(|c| c.type_ == "Ready");
                    match ready {
                        Some(c) if c.status == "True" => return Ok(()),
                        Some(c) => last = c.message.unwrap_or_default(),
                        None => last = "no Ready condition yet".into(),
                    }
                }
                Ok(None) => {}
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(Error::NotReady {
            what: format!("Node {NODE_NAME}"),
            timeout: STARTUP_TIMEOUT,
            last_error: last,
            log_tail: self.kubelet_log_tail(),
        })
    }

    /// Kills every container of the node: the containerd shims are not in containerd's
    /// process group, and a container outlives its shim.
    fn kill_containers(&self) {
        let socket = self.socket.to_string_lossy().into_owned();
        let shims = processes_naming(&socket);
        for shim in &shims {
            for child in children_of(*shim) {
                let _ = rustix::process::kill_process(pid(child), rustix::process::Signal::KILL);
            }
            let _ = rustix::process::kill_process(pid(*shim), rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut kubelet) = self.kubelet.take() {
            kubelet.stop();
        }
        if let Some(mut scheduler) = self.scheduler.take() {
            scheduler.stop();
        }
        self.kill_containers();
        if let Some(mut containerd) = self.containerd.take() {
            containerd.stop();
        }
        if let Some(dir) = self.dir.take() {
            unmount_everything_under(dir.path());
            drop(dir);
        }
        self.network.take();
        // The Node object: without it, Pods bound to it are collected (kube-controller-
        // manager's pod GC) and namespaces holding them can be deleted.
        let cluster = self.cluster.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let client = cluster.client().await.ok()?;
                Api::<NodeObject>::all(client)
                    .delete(NODE_NAME, &Default::default())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// Where provisioning puts the node's kubelet and kube-scheduler.
fn node_bin_dir() -> PathBuf {
    cache_dir()
        .join(format!("k8s-{}-node", Release::Current.version()))
        .join("bin")
}

/// Debian's CNI plugins (containernetworking-plugins), which containerd runs.
const CNI_BIN_DIR: &str = "/usr/lib/cni";

/// containerd's and the kubelet's configuration files, everything under `root`.
fn write_configs(root: &Path, socket: &Path) -> Result<(), Error> {
    let write = |name: &str, text: String| {
        std::fs::write(root.join(name), text).map_err(Error::io(format!("write {name}")))
    };
    let cni_conf = root.join("cni");
    std::fs::create_dir_all(&cni_conf).map_err(Error::io("create cni/"))?;
    write(
        "cni/10-plumb.conflist",
        network::cni_config(&root.join("cni-ipam")).to_string(),
    )?;
    let root_text = root.display();
    let socket_text = socket.display();
    let pause = images::PAUSE_IMAGE;
    // restrict_oom_score_adj: this machine's root lacks CAP_SYS_RESOURCE, so the sandbox's
    // oom_score_adj of -998 fails in runc ("failed to update /proc/self/oom_score_adj:
    // Permission denied"); restricted, it is clamped to containerd's own.
    write(
        "containerd.toml",
        format!(
            r#"version = 2
root = "{root_text}/containerd"
state = "{root_text}/containerd-state"
[grpc]
  address = "{socket_text}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{root_text}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{root_text}/runc"
"#
        ),
    )?;
    let kubelet_port = free_port()?;
    // failCgroupV1: this kernel offers cgroup v1 only, which Kubernetes 1.35+ refuses by
    // default. makeIPTablesUtilChains off: the kubelet's KUBE-FIREWALL and hint chains are
    // for other components (kube-proxy), and would outlive it on the machine. The eviction
    // thresholds are absolute and tiny: a percentage of a large shared disk (1% of 252 GB
    // is 2.5 GB) was met on a busy machine, and the tainted node left the controller Pod
    // unschedulable.
    write(
        "kubelet.yaml",
        format!(
            r#"apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: {kubelet_port}
readOnlyPort: 0
healthzPort: 0
authentication: {{anonymous: {{enabled: false}}, webhook: {{enabled: false}}}}
authorization: {{mode: AlwaysAllow}}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
containerRuntimeEndpoint: unix://{socket_text}
imageServiceEndpoint: unix://{socket_text}
podLogsDir: {root_text}/pod-logs
evictionHard: {{memory.available: "50Mi", nodefs.available: "64Mi", imagefs.available: "64Mi", nodefs.inodesFree: "1%"}}
imageGCHighThresholdPercent: 100
resolvConf: /etc/resolv.conf
"#
        ),
    )
}

async fn wait_until(
    process: &mut Supervised,
    what: &str,
    mut check: impl FnMut() -> Option<()>,
) -> Result<(), Error> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        process.check_running()?;
        if check().is_some() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::NotReady {
        what: what.into(),
        timeout: STARTUP_TIMEOUT,
        last_error: "not there".into(),
        log_tail: process.log_tail(),
    })
}

fn pid(raw: u32) -> rustix::process::Pid {
    rustix::process::Pid::from_raw(raw.cast_signed()).unwrap_or(rustix::process::Pid::INIT)
}

/// Processes whose command line contains `text`.
fn processes_naming(text: &str) -> Vec<u32> {
    proc_entries()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(text))
        })
        .collect()
}

/// The direct children of `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    proc_entries()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

fn proc_entries() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}

/// Detaches every mount under `dir` (overlay roots, network namespaces, Pod volumes),
/// deepest first, so the directory can be removed.
fn unmount_everything_under(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| Path::new(point).starts_with(dir))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in points {
        let _ = Command::new("umount").args(["-l", point]).output();
    }
}
