//! No etcd, kube-apiserver or kube-controller-manager outlives the process that started it,
//! even when that process is killed outright and no destructor runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use plumb_testkit::eventually;
use plumb_testkit::process::is_alive;

/// Pids of the live processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) && is_alive(pid) {
            children.push(pid);
        }
    }
    children
}

#[tokio::test]
async fn a_killed_owner_takes_its_control_plane_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let info = dir.path().join("cluster.json");
    let mut owner = Command::new(env!("CARGO_BIN_EXE_plumb-testkit"))
        .arg("control-plane")
        .arg("--info")
        .arg(&info)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually(
        "the control plane to be ready",
        Duration::from_secs(120),
        || async { Path::new(&info).exists().then_some(()) },
    )
    .await;
    let components = children_of(owner.id());
    assert_eq!(
        components.len(),
        3,
        "etcd, kube-apiserver, kube-controller-manager: {components:?}"
    );

    owner.kill().unwrap(); // SIGKILL: no handler, no destructor.
    owner.wait().unwrap();

    for pid in components {
        eventually(
            &format!("process {pid} to die"),
            Duration::from_secs(10),
            || async { (!is_alive(pid)).then_some(()) },
        )
        .await;
    }
}
