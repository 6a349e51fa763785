//! A stand-in for kubelets, for the demo: the test control plane has no scheduler and no
//! nodes, so Pods stay Pending and every Deployment stays Progressing. This marks each
//! Pending Pod Running and Ready through the status subresource, as a kubelet would once
//! its containers started, so workloads become Available and health turns Healthy.
//!
//! Nothing runs: it is a status writer only. Tests that need a Ready Pod set it themselves,
//! where they can see it; this is for showing plumb on a cluster that looks alive.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::Error;

/// How often Pods are looked at: fast enough that a rollout looks like one.
const PERIOD: Duration = Duration::from_millis(500);

/// Marks Pods Ready until the future is dropped; API errors are retried on the next round.
#[allow(
    clippy::print_stderr,
    reason = "it runs in plumb-testkit's process, whose stderr is the control plane's log"
)]
pub async fn run(client: Client) -> Result<(), Error> {
    let pods: Api<Pod> = Api::all(client.clone());
    loop {
        match pods.list(&ListParams::default()).await {
            Ok(list) => {
                for pod in list.items.iter().filter(|pod| needs_start(pod)) {
                    // A Pod deleted in between is not an error worth reporting.
                    let _ = start(&client, pod).await;
                }
            }
            Err(err) => eprintln!("plumb-testkit kubelet: cannot list Pods: {err}"),
        }
        tokio::time::sleep(PERIOD).await;
    }
}

fn needs_start(pod: &Pod) -> bool {
    if pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    !ready
}

async fn start(client: &Client, pod: &Pod) -> Result<(), kube::Error> {
    let (Some(name), Some(namespace)) = (&pod.metadata.name, &pod.metadata.namespace) else {
        return Ok(());
    };
    let now = Timestamp::now().to_string();
    let containers: Vec<_> = pod
        .spec
        .iter()
        .flat_map(|spec| spec.containers.iter())
        .map(|c| {
            json!({
                "name": c.name,
                "image": c.image,
                "imageID": "",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            })
        })
        .collect();
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
    let status = json!({
        "status": {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "startTime": now,
            "conditions": [
                condition("PodScheduled"),
                condition("Initialized"),
                condition("ContainersReady"),
                condition("Ready"),
            ],
            "containerStatuses": containers,
        }
    });
    Api::<Pod>::namespaced(client.clone(), namespace)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .map(drop)
}
