//! Cascade deletion. An Application with the finalizer `plumb.dev/prune-on-delete` is
//! kept by Kubernetes until plumb has deleted every object of its inventory (reverse
//! order, background propagation, `plumb.dev/prune: disabled` respected, as any prune) and
//! its inventory ConfigMap; then plumb removes the finalizer and the deletion completes.
//! If an object cannot be deleted the finalizer stays, the failure is an Event, and it is
//! retried — the Application does not vanish while its objects linger untracked.

use kube::Api;
use kube::api::{Patch, PatchParams};
use plumb_engine::{AppId, ApplyOptions, PlanOptions};
use plumb_render::DesiredSet;
use serde_json::json;

use plumb_engine::hooks::Phase;

use crate::application::{Application, PRUNE_ON_DELETE};
use crate::context::{AppState, Context};
use crate::desired::{desired_state, plan_options};
use crate::error::{Error, Result};
use crate::events::Notice;
use crate::identity::Acting;
use crate::queue::Reasons;

/// Deletes the app's objects, then lets the Application go.
pub(crate) async fn finalize(ctx: &Context, app: &Application, state: &mut AppState) -> Result<()> {
    let key = app.key();
    let app_id = AppId::new(key.to_string());
    let acting = crate::acting::acting_for(ctx, app, state).await?;
    pre_delete(ctx, app, &acting, &app_id, state).await?;
    let store = acting.destination.inventory_store(app, &app_id);
    let (inventory, _) = store.load().await?;
    let engine = acting.engine;
    let options = PlanOptions {
        prune: true,
        allow_empty: true,
        deleting_app: true,
        ..PlanOptions::default()
    };
    let plan = engine
        .plan(&app_id, &DesiredSet::default(), &inventory, &options)
        .await?;
    // Nothing a policy denies this app is deleted by it.
    ctx.policies.governing(app).await?.check_plan(app, &plan)?;
    let options = ApplyOptions {
        wave_timeout: ctx.settings.wave_timeout,
    };
    // No cache: the app is going away.
    let result = engine.sync(&plan, &store, None, &options).await?.result;
    if !result.succeeded() {
        let message = format!(
            "deleting the objects of {key} failed; the Application stays until they are gone: {}",
            crate::status::summary(&plan, &result)
        );
        ctx.events
            .publish(app, Notice::warning("PruneFailed", "Delete", &message))
            .await;
        return Err(Error::CascadeIncomplete(message));
    }
    let pruned = plan.actions.len();
    store.delete().await?;
    ctx.events
        .publish(
            app,
            Notice::normal(
                "Pruned",
                "Delete",
                &format!("deleted {pruned} object(s) with the Application"),
            ),
        )
        .await;
    let remaining: Vec<String> = app
        .metadata
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != PRUNE_ON_DELETE)
        .cloned()
        .collect();
    // The resourceVersion makes this a compare-and-swap: another writer's finalizer change
    // is not overwritten.
    let patch = json!({"metadata": {"finalizers": remaining, "resourceVersion": app.metadata.resource_version}});
    Api::<Application>::namespaced(ctx.client.clone(), &key.namespace)
        .patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| Error::Kube {
            action: "removing the finalizer".into(),
            source,
        })?;
    tracing::info!(app = %key, pruned, "deleted with its objects");
    Ok(())
}

/// Runs the app's PreDelete hooks — from what its revision renders — before anything of it
/// is deleted; one that fails keeps everything (the finalizer stays, it is retried). An app
/// whose revision no longer renders (its repository gone) is deleted without them, and an
/// Event says so: deletion is not held hostage by Git.
async fn pre_delete(
    ctx: &Context,
    app: &Application,
    acting: &Acting,
    app_id: &AppId,
    state: &mut AppState,
) -> Result<()> {
    let governing = ctx.policies.governing(app).await?;
    let kustomize = governing.narrow(&ctx.settings.kustomize);
    let helm_external = ctx
        .settings
        .helm_external
        .as_deref()
        .filter(|_| governing.allows_external_renderers());
    let rendered = match governing.check_source(app) {
        Ok(()) => {
            desired_state(
                ctx,
                app,
                acting,
                &kustomize,
                helm_external,
                Reasons::SPEC,
                state,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let desired = match rendered {
        Ok(desired) => desired,
        Err(err) => {
            let message = format!("no PreDelete hook runs: the revision does not render ({err})");
            ctx.events
                .publish(app, Notice::warning("PreDeleteSkipped", "Delete", &message))
                .await;
            return Ok(());
        }
    };
    let resolved = acting
        .engine
        .resolve(app_id, &desired.set.unpack(), &plan_options(app))
        .await?;
    if !resolved.has_hooks(Phase::PreDelete) {
        return Ok(());
    }
    governing.check_objects(app, resolved.objects())?;
    let (runs, result) = acting
        .engine
        .run_pre_delete_hooks(&resolved, ctx.settings.wave_timeout)
        .await;
    match result {
        Ok(()) => {
            let message = format!("{} PreDelete hook(s) succeeded", runs.len());
            ctx.events
                .publish(
                    app,
                    Notice::normal("PreDeleteSucceeded", "Delete", &message),
                )
                .await;
            Ok(())
        }
        Err(err) => {
            let message = format!("{err}; nothing of the app was deleted, and it is retried");
            ctx.events
                .publish(app, Notice::warning("PreDeleteFailed", "Delete", &message))
                .await;
            Err(Error::CascadeIncomplete(message))
        }
    }
}
