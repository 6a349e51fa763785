//! `plumb install`: the CRD, RBAC and Deployment — printed as YAML, or applied (tracked
//! like any app, as `plumb-install`, so a later install prunes what it no longer has).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use plumb_controller::InstallOptions;
use plumb_engine::{AppId, ApplyOptions, Engine, PlanOptions, inventory_config_map};
use plumb_render::RenderOptions;

use crate::cli::{Format, InstallArgs};
use crate::commands::cluster_config;
use crate::output;

pub(crate) async fn run(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let mut objects = plumb_controller::manifests(&InstallOptions {
        namespace: args.install_namespace.clone(),
        image: args.image.clone(),
        replicas: args.replicas,
        impersonation_only: args.impersonation_only,
        allowed_source_hosts: args.allowed_source_hosts.clone(),
        tls_secret: args.tls_secret.clone(),
        controller_args: args.controller_arg.clone(),
    });
    if args.crds_only {
        objects.retain(|object| object["kind"] == "CustomResourceDefinition");
    }
    if !args.apply {
        output::yaml_documents(objects.into_iter())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Through render and the engine, as any directory would be: validated as a whole
    // first, CRD established before anything else, tracked for later pruning.
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let text: Vec<String> = objects
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    std::fs::write(dir.path().join("plumb.yaml"), text.join("\n---\n"))?;
    let rendered = plumb_render::render(dir.path(), ".", &RenderOptions::default())?;
    let config = cluster_config(
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    )
    .await?;
    let client = plumb_engine::client::client(config)?;
    let engine = Engine::new(client.clone()).await?;
    let app = AppId::new(if args.crds_only {
        "plumb-crds"
    } else {
        "plumb-install"
    });
    let namespace = &args.install_namespace;
    let previous = if args.crds_only {
        Default::default()
    } else {
        inventory_config_map::load(&client, namespace, &app).await?
    };
    let options = PlanOptions {
        default_namespace: Some(namespace.clone()),
        prune: !args.crds_only,
        ..PlanOptions::default()
    };
    let plan = engine
        .plan(&app, &rendered.objects, &previous, &options)
        .await?;
    let result = engine.apply(&plan, &ApplyOptions::default()).await;
    if !args.crds_only {
        inventory_config_map::save(&client, namespace, &app, &result.inventory).await?;
    }
    output::sync_result(&result, Format::Human)?;
    if !result.succeeded() {
        bail!("the install did not complete");
    }
    Ok(ExitCode::SUCCESS)
}
