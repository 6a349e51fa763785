//! `plumb app delete`: removes an Application. Its objects stay in the cluster (plumb
//! stops managing them), unless `--cascade` — as `argocd app delete --cascade` — adds the
//! prune-on-delete finalizer first, so the controller deletes them before the Application
//! goes; then the command waits for that.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use plumb_controller::Application;
use plumb_controller::application::PRUNE_ON_DELETE;
use serde_json::json;

use crate::cli::DeleteAppArgs;
use crate::commands::connect;
use crate::output;

pub(crate) async fn run(args: &DeleteAppArgs) -> anyhow::Result<ExitCode> {
    let (client, namespace) = connect(&args.target).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let name = &args.name;
    let app = api
        .get(name)
        .await
        .with_context(|| format!("cannot read Application {namespace}/{name}"))?;
    if args.cascade && !app.prunes_on_delete() {
        let mut finalizers = app.metadata.finalizers.clone().unwrap_or_default();
        finalizers.push(PRUNE_ON_DELETE.to_owned());
        // The resourceVersion makes this fail rather than drop a finalizer added meanwhile.
        let patch = json!({"metadata": {
            "finalizers": finalizers,
            "resourceVersion": app.metadata.resource_version,
        }});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .with_context(|| format!("cannot mark {namespace}/{name} to delete its objects"))?;
    }
    api.delete(name, &DeleteParams::default())
        .await
        .with_context(|| format!("cannot delete Application {namespace}/{name}"))?;
    if !(args.cascade || app.prunes_on_delete()) {
        output::line(&format!(
            "application {namespace}/{name} deleted; its objects stay in the cluster (--cascade deletes them)"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "application {namespace}/{name} is being deleted with its objects"
    ));
    let deadline = Instant::now() + args.timeout;
    while api
        .get_opt(name)
        .await
        .context("cannot read the Application")?
        .is_some()
    {
        if Instant::now() >= deadline {
            bail!(
                "{namespace}/{name} still exists after {:?}: the controller deletes its objects first \
                 (is `plumb controller` running? `kubectl -n {namespace} get application {name} -o yaml` shows why)",
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    output::line(&format!(
        "application {namespace}/{name} and its objects deleted"
    ));
    Ok(ExitCode::SUCCESS)
}
