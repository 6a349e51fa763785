//! `plumb apply`: make the cluster match a directory now (push mode).

use std::process::ExitCode;

use anyhow::bail;
use plumb_engine::{AppId, ApplyOptions, CacheKept, InventoryStore};

use crate::cli::ApplyArgs;
use crate::commands::{leave_to_exit, push};
use crate::output;

pub(crate) async fn run(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let sync = &args.sync;
    let Some(name) = &sync.app else {
        bail!("--app NAME is required: it marks the objects and names the inventory");
    };
    let app = AppId::new(name);
    let push::Session {
        rendered,
        resolved,
        client,
        namespace,
        previous,
        kept,
        engine,
        observed,
        discovery,
    } = push::open(sync, &app).await?;
    let plan = engine.plan_resolved(resolved, &previous, observed).await?;
    if args.dry_run {
        discovery.keep(&engine).await;
        output::plan(&plan, sync.output)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The inventory is saved ahead of the apply: an interrupted apply leaves nothing
    // it created untracked.
    let store = InventoryStore::new(client, namespace, app.clone());
    let options = ApplyOptions {
        wave_timeout: args.timeout,
    };
    let synced = engine.sync(&plan, &store, Some(&kept), &options).await;
    // After the apply: CRDs it created were discovered then.
    discovery.keep(&engine).await;
    let synced = synced?;
    if let CacheKept::NotSaved(err) = &synced.cache {
        output::warn(&format!(
            "the sync cache was not kept (the next apply is slower): {err}"
        ));
    }
    let result = synced.result;
    output::sync_result(&result, sync.output)?;
    if !result.succeeded() {
        bail!("the sync of {app} did not complete");
    }
    if args.wait {
        engine
            .wait_healthy(&result.inventory.objects, args.timeout)
            .await?;
        output::line(&format!("all {} objects healthy", result.inventory.len()));
    }
    leave_to_exit((rendered, plan, result, engine));
    Ok(ExitCode::SUCCESS)
}
