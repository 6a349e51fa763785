//! One reconcile of one Application: source → render → plan → (apply) → status.
//!
//! ```text
//!  reasons ─▶ resolve revision (ls-remote)? ─▶ moved or spec changed? ─▶ snapshot + render
//!          │  (only for spec/interval/request/retry: drift skips Git entirely)
//!          └▶ plan (engine: cache hits cost nothing) ─▶ decide ─▶ apply + prune ─▶ status
//! ```
//!
//! Whether to apply is [`crate::decision`]'s, a pure function of what the reconcile saw.
//!
//! Safety: a failed fetch, render or plan changes nothing in the cluster. The inventory is
//! written ahead of every apply (previous ∪ desired), so a controller killed mid-sync
//! still knows every object it may have created and prunes correctly after restart.

use std::sync::Arc;
use std::time::Duration;

use plumb_engine::health::HealthStatus;
use plumb_engine::{
    AppId, ApplyOptions, CacheKept, Change, Engine, Inventory, ObjectRef, Plan, SyncResult,
};
use plumb_source::CommitMetadata;
use tokio::time::Instant;

use crate::acting::acting_for;
use crate::application::{AppKey, Application, parse_interval};
use crate::clock;
use crate::clusters::Destination;
use crate::context::{AppState, Context, Desired};
use crate::decision::{Decision, Facts, Trigger, decide};
use crate::desired::{desired_state, plan_options, source_key};
use crate::error::{Error, Result};
use crate::events::Notice;
use crate::liveness;
use crate::metrics;
use crate::notify;
use crate::queue::Reasons;
use crate::status::{self, Observation, SyncOutcome};

/// How soon to look again while resources are still progressing.
const PROGRESS_POLL: Duration = Duration::from_secs(3);

/// When to reconcile this app next, and why.
#[derive(Debug)]
pub(crate) struct Next {
    /// After how long.
    pub after: Duration,
    /// The reason to record.
    pub reasons: Reasons,
}

/// Reconciles `app`. Never fails: failures become status, events and a retry.
pub(crate) async fn reconcile(
    ctx: &Context,
    app: Arc<Application>,
    reasons: Reasons,
    asked: std::time::Instant,
) -> Next {
    let key = app.key();
    let mut state = ctx.take_state(&key);
    state.asked = Some(asked);
    if app.metadata.deletion_timestamp.is_some() {
        // Being deleted: only the cascade is left to do, if asked for.
        let next = if !app.prunes_on_delete() {
            None
        } else if let Err(err) = crate::finalize::finalize(ctx, &app, &mut state).await {
            tracing::warn!(app = %key, "cascade deletion failed, retrying: {err}");
            Some(retry_after(&app, &mut state, Duration::from_secs(60)))
        } else {
            None
        };
        ctx.put_state(key, state);
        return next.unwrap_or(Next {
            after: Duration::from_secs(3600),
            reasons: Reasons::INTERVAL,
        });
    }
    let interval =
        parse_interval(&app.spec.sync_policy.interval).unwrap_or(Duration::from_secs(180));
    let started = clock::now();
    let deadline = ctx.settings.reconcile_timeout;
    let in_progress = liveness::begin(&key, deadline);
    let result = match tokio::time::timeout(deadline, run(ctx, &app, reasons, &mut state)).await {
        Ok(result) => result,
        Err(_) => {
            // Stopped anywhere: what is known of the cluster is read again next time (the
            // inventory saved ahead of the writes included).
            state.inventory = None;
            Err(Error::ReconcileTimeout(deadline))
        }
    };
    drop(in_progress);
    // What the reconcile learned of its cluster (a failure is checked with a probe); an
    // unreachable or unknown cluster is known already.
    if let Some(acting) = &state.acting
        && !matches!(
            result,
            Err(Error::ClusterUnreachable { .. } | Error::ClusterUnknown(_))
        )
    {
        acting.destination.record(result.is_ok()).await;
    }
    let next = match result {
        Ok(observation) => {
            let next = match &observation.waiting {
                Some(wait) => Next {
                    after: *wait,
                    reasons: Reasons::RETRY,
                },
                None if observation.health > HealthStatus::Suspended
                    && observation.health != HealthStatus::Unknown =>
                {
                    Next {
                        after: PROGRESS_POLL.min(interval),
                        reasons: Reasons::HEALTH,
                    }
                }
                None if matches!(observation.outcome, Some(SyncOutcome::Failed { .. }))
                    || observation.source_unreachable.is_some() =>
                {
                    retry_after(&app, &mut state, interval)
                }
                None => Next {
                    after: interval,
                    reasons: Reasons::INTERVAL,
                },
            };
            if let Some(unreachable) = &observation.source_unreachable {
                tracing::warn!(app = %key, "{unreachable}; keeping the last rendered revision");
                ctx.events
                    .publish(
                        &app,
                        Notice::warning("FetchFailed", "Reconcile", unreachable),
                    )
                    .await;
            } else if !matches!(observation.outcome, Some(SyncOutcome::Failed { .. })) {
                state.failures = 0;
            }
            let publishing = Instant::now();
            status::publish(ctx, &app, &mut state, observation, &started).await;
            phase_done("status", publishing);
            next
        }
        Err(err) => {
            tracing::warn!(app = %key, "reconcile failed: {err}");
            if state.failures == 0 {
                // Once per run of failures, not at every retry.
                // The commit that failed when known (a render failure names it); never the
                // last good one, which a commit status would then wrongly mark.
                let revision = match &err {
                    Error::Render { revision, .. } => revision.clone(),
                    _ => String::new(),
                };
                ctx.notify(
                    &app,
                    notify::Notice::new(notify::Kind::SyncFailed, &app, &revision, err.to_string()),
                );
            }
            ctx.events
                .publish(
                    &app,
                    Notice::warning(err.reason(), "Reconcile", &err.to_string()),
                )
                .await;
            status::publish_error(ctx, &app, &mut state, &err).await;
            if err.waits_on_cluster() {
                retry_while_cluster_waits(&mut state, interval)
            } else {
                retry_after(&app, &mut state, interval)
            }
        }
    };
    ctx.put_state(key, state);
    next
}

/// Exponential backoff: 2s, 4s, 8s … while retries remain, then the interval.
fn retry_after(app: &Application, state: &mut AppState, interval: Duration) -> Next {
    state.failures += 1;
    if state.failures > app.spec.sync_policy.retry.limit {
        return Next {
            after: interval,
            reasons: Reasons::INTERVAL,
        };
    }
    let backoff = Duration::from_secs(1 << state.failures.min(8)).min(interval);
    Next {
        after: backoff,
        reasons: Reasons::RETRY,
    }
}

/// The longest wait between tries of an app whose cluster is unknown or unreachable.
const CLUSTER_RETRY_CEILING: Duration = Duration::from_secs(60);

/// Backoff while the destination cluster is unknown or unreachable: 2s, 4s … up to a
/// minute, never the interval. An app past its retry limit would otherwise wait its whole
/// interval (an hour, say) after a cluster registered a moment late or back from an outage;
/// the controller also retries a cluster's apps when its Secret changes or it answers again.
fn retry_while_cluster_waits(state: &mut AppState, interval: Duration) -> Next {
    state.failures += 1;
    let backoff = Duration::from_secs(1 << state.failures.min(8))
        .min(CLUSTER_RETRY_CEILING)
        .min(interval);
    Next {
        after: backoff,
        reasons: Reasons::RETRY,
    }
}

async fn run(
    ctx: &Context,
    app: &Application,
    reasons: Reasons,
    state: &mut AppState,
) -> Result<Observation> {
    let key = app.key();
    let app_id = AppId::new(key.to_string());
    let started = Instant::now();
    // Before anything is fetched or connected to: a repository or cluster no policy allows
    // is never read.
    let governing = ctx.policies.governing(app).await?;
    governing.check_source(app)?;
    let acting = acting_for(ctx, app, state).await?;
    let destination = Arc::clone(&acting.destination);
    destination.live.register(app_id.label_value(), key.clone());

    // Git unreachable is no reason to stop self-healing: the revision rendered last is
    // still the desired state. The failure is reported (Ready=False) and retried.
    let kustomize = governing.narrow(&ctx.settings.kustomize);
    // The external helm, like the external kustomize, only where the app's policies allow
    // external renderers.
    let helm_external = ctx
        .settings
        .helm_external
        .as_deref()
        .filter(|_| governing.allows_external_renderers());
    let started = phase_done("connect", started);
    let rendered =
        desired_state(ctx, app, &acting, &kustomize, helm_external, reasons, state).await;
    let started = phase_done("render", started);
    let (desired, unreachable) = match rendered {
        Ok(desired) => (desired, None),
        Err(err @ Error::Source(_)) => match state
            .desired
            .as_ref()
            .filter(|d| d.source_key == source_key(app, &kustomize))
        {
            Some(rendered) => (Arc::clone(rendered), Some(err.to_string())),
            None => return Err(err),
        },
        Err(err) => return Err(err),
    };
    let engine = Arc::clone(&acting.engine);
    let inventory = match &state.inventory {
        Some(inventory) => inventory.clone(),
        None => {
            let store = destination.inventory_store(app, &app_id);
            let (inventory, kept) = store.load().await?;
            engine.restore_cache(&kept);
            state.kept_cache = Some(kept);
            inventory
        }
    };
    state.inventory = Some(inventory.clone());
    watch_kinds(&destination, &engine, &inventory, &key).await;

    let options = plan_options(app);
    let started = phase_done("inventory", started);
    // A no-op reconcile (same render, options and kinds) plans from the resolution kept:
    // resolving copies and hashes every object, most of its cost at 10,000 objects.
    let kept = state
        .resolved
        .take()
        .filter(|(rendered, _)| Arc::ptr_eq(rendered, &desired))
        .map(|(_, resolved)| resolved);
    let resolved = match kept {
        Some(resolved) if engine.is_current(&resolved, &app_id, &options).await => resolved,
        _ => {
            engine
                .resolve(&app_id, &desired.set.unpack(), &options)
                .await?
        }
    };
    state.resolved = Some((Arc::clone(&desired), resolved.clone()));
    // Before the cluster is read as the app: every object it would write (reading one in a
    // namespace it may not touch would fail with a less helpful "forbidden")...
    governing.check_objects(app, resolved.objects())?;
    // What the drift watches saw stands in for the lists a plan would make.
    let observed = destination
        .live
        .observed(&app_id.label_value(), resolved.objects());
    let plan = engine.plan_resolved(resolved, &inventory, observed).await?;
    // ...and, before any write, every object it would prune.
    governing.check_plan(app, &plan)?;
    let started = phase_done("plan", started);
    let mut observation = Observation::new(&desired, &plan);
    observation.source_unreachable = unreachable;

    let status = status::current(app, state);
    let decision = decide(Facts {
        app,
        status: &status,
        applied: state.applied.clone(),
        desired_commit: &desired.commit,
        in_sync: plan.is_in_sync(),
        reasons,
        failures: state.failures,
        self_heal_blocked_for: state
            .loop_guard
            .blocked_until(Instant::now())
            .map(|until| until - Instant::now()),
        unready_dependency: ctx.unready_dependency(app),
    });
    match decision {
        Decision::Report => {}
        Decision::Wait { why, after } => {
            observation.waiting = Some(after);
            observation.waiting_for = Some(why);
        }
        Decision::Sync(trigger) => {
            let result = sync(ctx, app, &destination, &engine, &app_id, &plan, state).await?;
            observation.record_sync(trigger, &desired, &plan, &result, &mut state.loop_guard);
            if result.succeeded() {
                state.applied = Some((desired.commit.clone(), app.metadata.generation));
            }
            announce(ctx, app, trigger, &desired, &plan, &result).await;
        }
    }
    let started = phase_done("sync", started);
    observation.sync_loop = state.loop_guard.current(Instant::now()).cloned();
    observation
        .resources_health(&destination.live, &engine)
        .await?;
    phase_done("health", started);
    Ok(observation)
}

/// Records how long a phase of a reconcile took, for `/metrics`; returns when the next
/// one starts. A slow fleet shows here whether Git and rendering, reading the cluster, or
/// writing to it is the cost.
fn phase_done(phase: &'static str, started: Instant) -> Instant {
    let now = Instant::now();
    metrics::observe(
        "plumb_reconcile_phase_duration_seconds",
        "Where reconciles spend their time: connect (policies, the destination and the identity the app acts as), render (Git and rendering), inventory (reading the app's inventory, watching its kinds), plan (live objects, dry-runs), sync (writes), health, status (writing it).",
        &[("phase", phase)],
        now - started,
    );
    now
}

/// Watches every kind `app` manages; a kind watched for the first time reconciles `app`
/// again once listed (see [`crate::watches`]).
async fn watch_kinds(
    destination: &Destination,
    engine: &Engine,
    inventory: &Inventory,
    app: &AppKey,
) {
    let mut seen = std::collections::HashSet::new();
    for object in &inventory.objects {
        if seen.insert((&object.group, &object.kind))
            && let Some(resource) = engine.api_resource(object).await
        {
            destination.live.watch(&resource, app);
        }
    }
}

/// Applies the plan, with the inventory written ahead and after ([`Engine::sync`]).
async fn sync(
    ctx: &Context,
    app: &Application,
    destination: &Destination,
    engine: &Engine,
    app_id: &AppId,
    plan: &Plan,
    state: &mut AppState,
) -> Result<SyncResult> {
    let store = destination.inventory_store(app, app_id);
    let kept = state.kept_cache.clone().unwrap_or_default();
    let options = ApplyOptions {
        wave_timeout: ctx.settings.wave_timeout,
    };
    let synced = match engine.sync(plan, &store, Some(&kept), &options).await {
        Ok(synced) => synced,
        Err(err) => {
            // The stored inventory may now hold more than the one in memory (saved ahead,
            // then the save after the apply failed): read it again next time, or an object
            // this sync created could be left out of a later prune.
            state.inventory = None;
            return Err(err.into());
        }
    };
    let result = synced.result;
    state.inventory = Some(result.inventory.clone());
    match synced.cache {
        CacheKept::Unchanged => {}
        CacheKept::Saved(cache) => state.kept_cache = Some(cache),
        CacheKept::NotSaved(err) => {
            tracing::warn!(app = %app.key(), "the sync cache was not kept: {err}");
        }
    }
    watch_kinds(destination, engine, &result.inventory, &app.key()).await;
    Ok(result)
}

async fn announce(
    ctx: &Context,
    app: &Application,
    trigger: Trigger,
    desired: &Desired,
    plan: &Plan,
    result: &SyncResult,
) {
    let summary = status::summary(plan, result);
    let key = app.key();
    let outcome = if result.succeeded() {
        "Succeeded"
    } else {
        "Failed"
    };
    metrics::count(
        "plumb_syncs_total",
        "Syncs (apply and prune) by result and trigger.",
        &[
            ("namespace", &key.namespace),
            ("name", &key.name),
            ("result", outcome),
            ("trigger", trigger.as_str()),
        ],
    );
    if trigger == Trigger::SelfHeal && result.succeeded() {
        metrics::count(
            "plumb_drift_corrections_total",
            "Syncs that reverted drift (self-heal).",
            &[("namespace", &key.namespace), ("name", &key.name)],
        );
    }
    let commit = &desired.commit[..desired.commit.len().min(7)];
    // One account of the sync, told as a Kubernetes Event and to the app's receivers.
    let (kind, objects, note) = if !result.succeeded() {
        let note = format!("sync of {commit} failed: {summary}");
        (notify::Kind::SyncFailed, Vec::new(), note)
    } else if trigger == Trigger::SelfHeal {
        let drifted: Vec<String> = drifted(plan)
            .map(|(object, by)| format!("{object} (changed by {by})"))
            .collect();
        let note = format!("reverted drift of {}", drifted.join(", "));
        (notify::Kind::DriftCorrected, drifted, note)
    } else {
        let note = format!(
            "applied {commit} ({}): {summary}",
            first_line(&desired.metadata)
        );
        (notify::Kind::SyncSucceeded, Vec::new(), note)
    };
    let notice = match kind {
        notify::Kind::SyncFailed => Notice::warning("SyncFailed", "Sync", &note),
        notify::Kind::DriftCorrected => Notice::normal("DriftCorrected", "SelfHeal", &note),
        _ => Notice::normal("Synced", "Sync", &note),
    };
    let mut notification = notify::Notice::new(kind, app, &desired.commit, note);
    notification.objects = objects;
    ctx.notify(app, notification);
    ctx.events.publish(app, notice).await;
    let pruned = plan.count(Change::Prune);
    if result.succeeded() && pruned > 0 {
        ctx.events
            .publish(
                app,
                Notice::normal(
                    "Pruned",
                    "Prune",
                    &format!("deleted {pruned} objects that left Git"),
                ),
            )
            .await;
    }
}

/// Updated objects with who changed them.
pub(crate) fn drifted(plan: &Plan) -> impl Iterator<Item = (&ObjectRef, String)> {
    plan.actions
        .iter()
        .filter(|a| a.change == Change::Update)
        .map(|a| {
            let by = a
                .diff
                .as_ref()
                .map(|d| d.changed_by.join(", "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "a writer Kubernetes did not record".into());
            (&a.object, by)
        })
}

fn first_line(metadata: &CommitMetadata) -> &str {
    metadata.summary()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(retry_limit: u32) -> Application {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "team"},
            "spec": {
                "source": {"repoURL": "https://git.example/web.git", "path": "app"},
                "destination": {"namespace": "web", "cluster": "prod-eu"},
                "syncPolicy": {"retry": {"limit": retry_limit}}
            }
        }))
        .unwrap()
    }

    /// An app past its retry limit waits its interval; one whose cluster is unknown or
    /// unreachable keeps being tried within a minute, however long the outage.
    #[test]
    fn a_waiting_cluster_never_sends_an_app_to_its_interval() {
        let interval = Duration::from_secs(3600);
        let mut failed = AppState::default();
        let waits: Vec<u64> = (0..8)
            .map(|_| retry_after(&app(2), &mut failed, interval).after.as_secs())
            .collect();
        assert_eq!(waits, [2, 4, 3600, 3600, 3600, 3600, 3600, 3600]);

        let mut waiting = AppState::default();
        let waits: Vec<u64> = (0..8)
            .map(|_| {
                retry_while_cluster_waits(&mut waiting, interval)
                    .after
                    .as_secs()
            })
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(
            waiting.failures, 8,
            "notifications still count one run of failures"
        );

        let short = Duration::from_secs(10);
        let mut waiting = AppState::default();
        let waits: Vec<u64> = (0..4)
            .map(|_| {
                retry_while_cluster_waits(&mut waiting, short)
                    .after
                    .as_secs()
            })
            .collect();
        assert_eq!(waits, [2, 4, 8, 10]);
    }
}
