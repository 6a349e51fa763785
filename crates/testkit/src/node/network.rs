//! The node's pod network and its one stand-in for kube-proxy.
//!
//! Pods get addresses on a Linux bridge (`plumb0`, 10.88.0.0/16, the host 10.88.0.1) from
//! the CNI `bridge` and `host-local` plugins. The bridge is made here, before the kubelet
//! starts, so the node has its IP and servers of the test can listen on it.
//!
//! There is no kube-proxy. Pods reach the API server the way every in-cluster client does,
//! through the `kubernetes` Service (10.96.0.1:443, the `KUBERNETES_SERVICE_HOST` the kubelet
//! puts in their environment), and this module forwards exactly that address to the API
//! server on loopback — plus any loopback port a test exposes to pods on the node's IP.
//! Forwarding to loopback from the bridge needs `route_localnet` on it, which is why the
//! bridge is ours. Every rule carries a comment naming this process, and is removed on drop.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::Error;

/// The bridge pods are attached to.
pub(crate) const BRIDGE: &str = "plumb0";
/// The node's address on the bridge: pods reach the host here.
pub(crate) const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 88, 0, 1);
/// The pod network.
pub(crate) const POD_SUBNET: &str = "10.88.0.0/16";
/// The `kubernetes` Service's ClusterIP in the test control plane (the first address of
/// its `--service-cluster-ip-range`).
pub(crate) const API_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);

/// The bridge and the forwarding rules; removed when dropped.
#[derive(Debug)]
pub(crate) struct PodNetwork {
    rules: Vec<Vec<String>>,
    tag: String,
}

impl PodNetwork {
    /// Makes the bridge (replacing one left by a killed run) and forwards the `kubernetes`
    /// Service to the API server at `127.0.0.1:apiserver_port`.
    pub(crate) fn create(apiserver_port: u16) -> Result<Self, Error> {
        // A bridge left by a run that was killed is in the way of this one's addresses.
        let _ = run("ip", &["link", "del", BRIDGE]);
        run("ip", &["link", "add", BRIDGE, "type", "bridge"])?;
        run(
            "ip",
            &["addr", "add", &format!("{HOST_IP}/16"), "dev", BRIDGE],
        )?;
        run("ip", &["link", "set", BRIDGE, "up"])?;
        std::fs::write(
            format!("/proc/sys/net/ipv4/conf/{BRIDGE}/route_localnet"),
            "1",
        )
        .map_err(Error::io(format!("enable route_localnet on {BRIDGE}")))?;
        let mut network = PodNetwork {
            rules: Vec::new(),
            tag: format!("plumb-testkit-node-{}", std::process::id()),
        };
        network.forward(API_SERVICE_IP, 443, apiserver_port)?;
        Ok(network)
    }

    /// Lets pods reach a server listening on `127.0.0.1:port` at the node's IP, same port.
    pub(crate) fn expose_loopback_port(&mut self, port: u16) -> Result<(), Error> {
        self.forward(HOST_IP, port, port)
    }

    /// DNATs `address:port` to `127.0.0.1:to`, from pods (PREROUTING on the bridge) and from
    /// the host itself (OUTPUT).
    fn forward(&mut self, address: Ipv4Addr, port: u16, to: u16) -> Result<(), Error> {
        for (chain, interface) in [("PREROUTING", Some(BRIDGE)), ("OUTPUT", None)] {
            let mut rule: Vec<String> = vec!["-t".into(), "nat".into(), chain.into()];
            if let Some(interface) = interface {
                rule.extend(["-i".into(), interface.into()]);
            }
            rule.extend(
                [
                    "-d",
                    &format!("{address}/32"),
                    "-p",
                    "tcp",
                    "--dport",
                    &port.to_string(),
                    "-m",
                    "comment",
                    "--comment",
                    &self.tag,
                    "-j",
                    "DNAT",
                    "--to-destination",
                    &format!("127.0.0.1:{to}"),
                ]
                .map(String::from),
            );
            let mut add = rule.clone();
            add.insert(2, "-A".into());
            run(
                "iptables",
                &add.iter().map(String::as_str).collect::<Vec<_>>(),
            )?;
            self.rules.push(rule);
        }
        Ok(())
    }
}

impl Drop for PodNetwork {
    fn drop(&mut self) {
        for rule in self.rules.drain(..) {
            let mut delete = rule;
            delete.insert(2, "-D".into());
            let _ = run(
                "iptables",
                &delete.iter().map(String::as_str).collect::<Vec<_>>(),
            );
        }
        let _ = run("ip", &["link", "del", BRIDGE]);
    }
}

/// The CNI configuration of the pod network (bridge + host-local, addresses kept in
/// `ipam_dir`).
pub(crate) fn cni_config(ipam_dir: &std::path::Path) -> serde_json::Value {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "plumb",
        "plugins": [{
            "type": "bridge", "bridge": BRIDGE, "isGateway": true, "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": POD_SUBNET, "gateway": HOST_IP.to_string()}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": ipam_dir,
            },
        }],
    })
}

pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), Error> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| Error::Command {
            command: format!("{program} {}", args.join(" ")),
            detail: format!(
                "{source} (the node needs {program}: run scripts/provision.sh as root)"
            ),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        command: format!("{program} {}", args.join(" ")),
        detail: format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}
