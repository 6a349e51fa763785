//! `plumb get clusters`: the fleet as the controller last saw it — each cluster's server,
//! whether it answers, its version and last contact (the controller's ConfigMap
//! `plumb-clusters`) — with how many Applications apply to each.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use plumb_controller::Application;
use plumb_controller::clusters::{CLUSTERS_CONFIG_MAP, ClusterState, IN_CLUSTER, cluster_name};

use crate::cli::ClustersArgs;
use crate::commands::{connect, table};
use crate::output;

pub(crate) async fn list(args: &ClustersArgs) -> anyhow::Result<ExitCode> {
    let (client, _) = connect(&args.target).await?;
    let config_map = Api::<ConfigMap>::namespaced(client.clone(), &args.controller_namespace)
        .get_opt(CLUSTERS_CONFIG_MAP)
        .await
        .with_context(|| {
            format!(
                "cannot read ConfigMap {}/{CLUSTERS_CONFIG_MAP}, where the controller keeps the clusters' state",
                args.controller_namespace
            )
        })?;
    let states: Vec<ClusterState> = config_map
        .and_then(|cm| cm.data?.remove("clusters.json"))
        .map(|json| serde_json::from_str(&json))
        .transpose()
        .context("the clusters' state is unreadable")?
        .unwrap_or_default();
    // Applications the caller may list, counted per cluster; none when they may not.
    let mut apps: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(list) = Api::<Application>::all(client)
        .list(&Default::default())
        .await
    {
        for app in &list.items {
            *apps.entry(cluster_name(app).to_owned()).or_default() += 1;
        }
    }
    let mut rows = vec![
        [
            "NAME",
            "SERVER",
            "REACHABLE",
            "VERSION",
            "APPS",
            "LAST CONTACT",
            "MESSAGE",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let mut named: Vec<ClusterState> = states;
    if !named.iter().any(|s| s.name == IN_CLUSTER) {
        named.insert(0, unknown(IN_CLUSTER));
    }
    for name in apps.keys() {
        if !named.iter().any(|s| &s.name == name) {
            named.push(unknown(name));
        }
    }
    for state in &named {
        rows.push(vec![
            state.name.clone(),
            state.server.clone(),
            if state.reachable { "yes" } else { "no" }.to_owned(),
            state.version.clone().unwrap_or_else(|| "-".into()),
            apps.get(&state.name).copied().unwrap_or(0).to_string(),
            state.last_contact.clone().unwrap_or_else(|| "-".into()),
            state.message.clone().unwrap_or_default(),
        ]);
    }
    table::render(&rows)
        .iter()
        .for_each(|line| output::line(line));
    Ok(ExitCode::SUCCESS)
}

/// A cluster Applications name that the controller has not reported.
fn unknown(name: &str) -> ClusterState {
    ClusterState {
        name: name.to_owned(),
        server: "-".into(),
        reachable: false,
        message: Some(
            "not reported by the controller (not registered, or the controller has not run yet)"
                .into(),
        ),
        last_contact: None,
        version: None,
    }
}
