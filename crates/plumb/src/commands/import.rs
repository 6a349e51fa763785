//! `plumb import`: Argo CD and Flux resources in, plumb Applications out (as YAML, to
//! commit or `kubectl apply`), each field without an equivalent warned of on stderr.
#![allow(
    clippy::print_stderr,
    reason = "warnings go to stderr, the Applications to stdout"
)]

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use plumb_controller::import::{import, import_sets};
use serde_json::Value;

use crate::cli::ImportArgs;
use crate::output;

/// What `--from-cluster` reads: Argo CD's and Flux's resources, by group and kind.
const FROM_CLUSTER: [(&str, &str); 4] = [
    ("argoproj.io", "Application"),
    ("argoproj.io", "ApplicationSet"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
];

pub(crate) async fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let mut documents = if args.from_cluster {
        from_cluster(args).await?
    } else {
        Vec::new()
    };
    for file in &args.files {
        let text = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            text
        } else {
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?
        };
        let parsed: Vec<Value> = serde_saphyr::from_str_multiple_with_options(
            &text,
            plumb_render::yaml_reading_options(),
        )
        .with_context(|| format!("{} is not YAML or JSON", file.display()))?;
        // `kubectl get -o yaml` wraps what it prints in a List.
        for document in parsed {
            match document["items"].as_array() {
                Some(items) if document["kind"] == "List" => documents.extend(items.clone()),
                _ if document.is_null() => {}
                _ => documents.push(document),
            }
        }
    }
    let (imported, skipped) = import(&documents, args.namespace.as_deref());
    let sets = import_sets(&documents, args.namespace.as_deref());
    for line in &skipped {
        eprintln!("plumb import: {line}");
    }
    if imported.is_empty() && sets.is_empty() {
        anyhow::bail!(
            "no Argo CD Application or ApplicationSet, nor Flux Kustomization, among the documents"
        );
    }
    let mut resources = Vec::new();
    for one in imported {
        for warning in &one.warnings {
            eprintln!("plumb import: warning: {warning}");
        }
        resources.push(serde_json::to_value(&one.application)?);
    }
    for one in sets {
        for warning in &one.warnings {
            eprintln!("plumb import: warning: {warning}");
        }
        resources.push(serde_json::to_value(&one.set)?);
    }
    output::yaml_documents(resources.into_iter())?;
    Ok(ExitCode::SUCCESS)
}

/// Every Argo CD and Flux resource the cluster serves, in all namespaces; a kind whose
/// CRD is not installed is left out (said on stderr).
async fn from_cluster(args: &ImportArgs) -> anyhow::Result<Vec<Value>> {
    let config = super::cluster_config(
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    )
    .await?;
    let client =
        plumb_engine::client::client(config).context("cannot build a Kubernetes client")?;
    let groups: Vec<&str> = FROM_CLUSTER.iter().map(|(group, _)| *group).collect();
    let discovery = kube::Discovery::new(client.clone())
        .filter(&groups)
        .run()
        .await
        .context("cannot discover the cluster's Argo CD and Flux resources")?;
    let mut documents = Vec::new();
    for (group, kind) in FROM_CLUSTER {
        let found = discovery
            .groups()
            .filter(|g| g.name() == group)
            .flat_map(|g| g.recommended_resources())
            .find(|(resource, _)| resource.kind == kind);
        let Some((resource, _)) = found else {
            eprintln!("plumb import: the cluster serves no {kind} ({group}): none read");
            continue;
        };
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::all_with(client.clone(), &resource);
        let listed = api
            .list(&kube::api::ListParams::default())
            .await
            .with_context(|| format!("cannot list {kind} ({group}) in all namespaces"))?;
        for mut object in listed.items {
            object.metadata.managed_fields = None;
            let mut value = serde_json::to_value(&object)?;
            value["apiVersion"] = Value::String(resource.api_version.clone());
            value["kind"] = Value::String(kind.to_owned());
            documents.push(value);
        }
    }
    Ok(documents)
}
