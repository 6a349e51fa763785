//! `plumb uninstall`: deletes what `plumb install --apply` made, read from that install's
//! inventory (so objects an older install made and a newer one pruned are not guessed at).
//!
//! Applications are the users' and stay by default: the CRDs and the install namespace
//! (where admin Applications live) are kept, so removing the controller never cascades
//! into them. With `--delete-applications` every ApplicationSet and Application is deleted
//! first — while the controller still runs, so each one's prune-on-delete finalizer is
//! honoured — and then the CRDs and the namespace go too.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams};
use plumb_controller::{Application, ApplicationSet};
use plumb_engine::{AppId, ApplyOptions, Engine, Inventory, PlanOptions, inventory_config_map};
use plumb_render::DesiredSet;

use crate::cli::{Format, UninstallArgs};
use crate::commands::cluster_config;
use crate::output;

/// How long Applications may take to finish their own deletion (their finalizers prune).
const APPLICATIONS_GONE: Duration = Duration::from_secs(300);

pub(crate) async fn run(args: &UninstallArgs) -> anyhow::Result<ExitCode> {
    let config = cluster_config(
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    )
    .await?;
    let client = plumb_engine::client::client(config)?;
    let namespace = &args.install_namespace;
    let app = AppId::new("plumb-install");
    let installed = inventory_config_map::load(&client, namespace, &app).await?;
    if installed.is_empty() {
        bail!(
            "nothing to uninstall: no inventory of `plumb install --apply` in namespace {namespace} (give --install-namespace if it was installed elsewhere)"
        );
    }
    if args.delete_applications {
        delete_applications(&client).await?;
    }
    let removed = Inventory::new(
        installed
            .objects
            .iter()
            .filter(|object| args.delete_applications || !kept_for_applications(object, namespace))
            .cloned()
            .collect(),
    );
    let engine = Engine::new(client.clone()).await?;
    let options = PlanOptions {
        prune: true,
        allow_empty: true,
        deleting_app: true,
        ..PlanOptions::default()
    };
    let plan = engine
        .plan(&app, &DesiredSet::default(), &removed, &options)
        .await?;
    let result = engine.apply(&plan, &ApplyOptions::default()).await;
    output::sync_result(&result, Format::Human)?;
    if !result.succeeded() {
        bail!("the uninstall did not complete; run it again to retry what is left");
    }
    if !args.delete_applications {
        inventory_config_map::delete(&client, namespace, &app).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The objects whose deletion would take users' Applications with them.
fn kept_for_applications(object: &plumb_engine::ObjectRef, namespace: &str) -> bool {
    object.kind == "CustomResourceDefinition"
        || (object.kind == "Namespace" && object.name == namespace)
}

/// Deletes every ApplicationSet (which would make Applications again), then every
/// Application, and waits until they are gone.
async fn delete_applications(client: &Client) -> anyhow::Result<()> {
    let sets: Api<ApplicationSet> = Api::all(client.clone());
    // No CRD (a partial install): no ApplicationSets.
    let listed = sets.list(&ListParams::default()).await;
    for set in listed.map(|list| list.items).unwrap_or_default() {
        let (Some(name), Some(ns)) = (&set.metadata.name, &set.metadata.namespace) else {
            continue;
        };
        Api::<ApplicationSet>::namespaced(client.clone(), ns)
            .delete(name, &DeleteParams::default())
            .await
            .with_context(|| format!("cannot delete ApplicationSet {ns}/{name}"))?;
    }
    let apps: Api<Application> = Api::all(client.clone());
    let deadline = Instant::now() + APPLICATIONS_GONE;
    loop {
        let left = match apps.list(&ListParams::default()).await {
            Ok(list) => list.items,
            // No CRD (anymore): no Applications.
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(err) => return Err(err).context("cannot list Applications"),
        };
        if left.is_empty() {
            return Ok(());
        }
        for app in &left {
            let (Some(name), Some(ns)) = (&app.metadata.name, &app.metadata.namespace) else {
                continue;
            };
            if app.metadata.deletion_timestamp.is_none() {
                Api::<Application>::namespaced(client.clone(), ns)
                    .delete(name, &DeleteParams::default())
                    .await
                    .with_context(|| format!("cannot delete Application {ns}/{name}"))?;
            }
        }
        if Instant::now() > deadline {
            let names: Vec<String> = left.iter().map(|a| format!("{}", a.key())).collect();
            bail!(
                "Applications still deleting after {APPLICATIONS_GONE:?}: {} — their finalizers wait for the controller to prune their objects; see their Events",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str) -> plumb_engine::ObjectRef {
        plumb_engine::ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: None,
            name: name.into(),
        }
    }

    #[test]
    fn the_crds_and_the_install_namespace_stay_for_the_applications() {
        assert!(kept_for_applications(
            &object("CustomResourceDefinition", "applications.plumb.dev"),
            "plumb-system"
        ));
        assert!(kept_for_applications(
            &object("Namespace", "plumb-system"),
            "plumb-system"
        ));
        assert!(!kept_for_applications(
            &object("Namespace", "other"),
            "plumb-system"
        ));
        assert!(!kept_for_applications(
            &object("Deployment", "plumb-controller"),
            "plumb-system"
        ));
    }
}
