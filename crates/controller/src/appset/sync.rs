//! Keeping each ApplicationSet's Applications what its generators and template make:
//! generate, apply each Application (server-side, as the set's namespace's account), delete
//! the ones no longer made, and say so in the set's status.
//!
//! ```text
//!  ApplicationSet watch ─▶ due (spec changed, or its interval passed)
//!     ─▶ Git generators' repositories fetched (the namespace's AppPolicies first)
//!     ─▶ parameter sets ─▶ template ─▶ apply ─▶ prune ─▶ status
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, ResourceExt};
use plumb_source::{RepoSpec, Revision};
use serde_json::json;
use tokio::time::Instant;

use super::generate::{Inputs, generate, git_sources, reads_clusters, revision};
use super::spec::{ApplicationSet, ApplicationSetStatus};
use super::template::{SET_LABEL, application};
use crate::application::{
    Application, ApplicationSpec, Condition, DestinationSpec, SourceSpec, parse_interval,
};
use crate::clock;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::identity::Acting;
use crate::secrets;

/// The field manager of what ApplicationSets write into their Applications.
const MANAGER: &str = "plumb-applicationset";
/// How often a set is generated again when it names no interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(180);
/// How soon a set whose generation failed is tried again (its interval, if shorter).
const RETRY: Duration = Duration::from_secs(15);

type SetKey = (String, String);

/// Generates every ApplicationSet `api` lists, at once when its spec changes and again at
/// its interval, until the watch ends.
pub(crate) async fn run(ctx: &Context, api: Api<ApplicationSet>, watch_list: bool) {
    let mut events = watcher::watcher(api, crate::watches::watch_config(watch_list))
        .default_backoff()
        .boxed();
    let mut sets: HashMap<SetKey, Arc<ApplicationSet>> = HashMap::new();
    let mut due: HashMap<SetKey, Instant> = HashMap::new();
    loop {
        let next = due.values().min().copied();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Apply(set) | Event::InitApply(set))) => {
                    let key = (set.namespace().unwrap_or_default(), set.name_any());
                    let changed = sets.get(&key).is_none_or(|known| {
                        known.metadata.generation != set.metadata.generation
                    });
                    if changed {
                        due.insert(key.clone(), Instant::now());
                    }
                    sets.insert(key, Arc::new(set));
                }
                Some(Ok(Event::Delete(set))) => {
                    let key = (set.namespace().unwrap_or_default(), set.name_any());
                    sets.remove(&key);
                    due.remove(&key);
                }
                Some(Ok(Event::Init | Event::InitDone)) => {}
                Some(Err(err)) => tracing::warn!("watching ApplicationSets failed, retrying: {err}"),
                None => return,
            },
            () = sleep_until(next) => {
                let now = Instant::now();
                let ready: Vec<SetKey> = due
                    .iter()
                    .filter(|(_, at)| **at <= now)
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in ready {
                    let Some(set) = sets.get(&key).cloned() else {
                        due.remove(&key);
                        continue;
                    };
                    let after = keep(ctx, &set).await;
                    due.insert(key, Instant::now() + after);
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Generates `set` once and writes its status; how long until the next time.
async fn keep(ctx: &Context, set: &ApplicationSet) -> Duration {
    let interval = parse_interval(&set.spec.interval).unwrap_or(DEFAULT_INTERVAL);
    let key = format!("{}/{}", set.namespace().unwrap_or_default(), set.name_any());
    let (status, after) = match generate_and_apply(ctx, set).await {
        Ok(status) => (status, interval),
        Err(err) => {
            tracing::warn!(set = %key, "generating the ApplicationSet failed: {err}");
            let mut status = set.status.clone().unwrap_or_default();
            status.conditions = vec![condition(set, "False", err.reason(), &err.to_string())];
            (status, RETRY.min(interval))
        }
    };
    write_status(ctx, set, status).await;
    after
}

async fn generate_and_apply(ctx: &Context, set: &ApplicationSet) -> Result<ApplicationSetStatus> {
    let namespace = set.namespace().unwrap_or_default();
    let set_name = set.name_any();
    // The set acts as its namespace's account, as its Applications do: it writes only the
    // Applications that account may write, and reads its repositories' credentials so.
    let identity = ctx
        .settings
        .tenancy
        .identity(&namespace, None)
        .map_err(|why| Error::Spec(format!("this ApplicationSet {why}")))?;
    let local = ctx.clusters.destination(&stand_in(set, "", None)).await?;
    let acting = Acting::new(identity, &ctx.client, &ctx.config, &local).await?;

    let mut inputs = Inputs::default();
    let mut revisions = BTreeMap::new();
    let mut snapshots = Vec::new();
    for git in git_sources(&set.spec.generators) {
        let probe = stand_in(set, &git.repo_url, None);
        ctx.policies.governing(&probe).await?.check_source(&probe)?;
        let mut spec = RepoSpec::new(&git.repo_url, Revision::parse(revision(git))?);
        if let Some(secret) = &git.secret_ref {
            spec.credentials =
                secrets::credentials(&acting.client, &namespace, &secret.name).await?;
        }
        let snapshot = ctx.source.snapshot(&spec).await?;
        revisions.insert(
            plumb_source::redact_url(&git.repo_url),
            snapshot.commit().as_str().to_owned(),
        );
        inputs.trees.insert(
            (git.repo_url.clone(), revision(git).to_owned()),
            snapshot.root().to_path_buf(),
        );
        snapshots.push(snapshot);
    }
    if reads_clusters(&set.spec.generators) {
        for cluster in ctx.clusters.registered() {
            // Only the clusters this namespace's apps may use are listed to it.
            let probe = stand_in(set, "", Some(&cluster.name));
            let governing = ctx.policies.governing(&probe).await?;
            if governing.check_source(&probe).is_ok() {
                inputs.clusters.push(cluster);
            }
        }
    }
    let sets = generate(&set.spec.generators, &inputs).map_err(Error::Spec)?;
    drop(snapshots);

    let mut made: BTreeMap<String, Application> = BTreeMap::new();
    for params in &sets {
        let app = application(set, &set.spec.template, params).map_err(Error::Spec)?;
        let name = app.name_any();
        if made.insert(name.clone(), app).is_some() {
            return Err(Error::Spec(format!(
                "two sets of parameters make Application {name}: template.metadata.name must tell them apart"
            )));
        }
    }

    let apps: Api<Application> = Api::namespaced(acting.client.clone(), &namespace);
    let apply = plumb_engine::server_side_apply(MANAGER).force();
    for (name, app) in &made {
        apps.patch(name, &apply, &Patch::Apply(app))
            .await
            .map_err(|source| Error::Kube {
                action: format!("applying Application {namespace}/{name}"),
                source,
            })?;
    }
    let listed = apps
        .list(&ListParams::default().labels(&format!("{SET_LABEL}={set_name}")))
        .await
        .map_err(|source| Error::Kube {
            action: format!("listing the Applications of ApplicationSet {namespace}/{set_name}"),
            source,
        })?;
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let mut orphaned = Vec::new();
    for app in listed.items.iter().filter(|app| owned_by(app, &uid)) {
        let name = app.name_any();
        if made.contains_key(&name) {
            continue;
        }
        if !set.spec.sync_policy.prune {
            orphaned.push(name);
            continue;
        }
        tracing::info!(set = %set_name, app = %name, "no generator makes this Application any more; deleting it");
        match apps.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::Kube {
                    action: format!("deleting Application {namespace}/{name}"),
                    source,
                });
            }
        }
    }
    let names: Vec<String> = made.into_keys().collect();
    let message = format!(
        "{} Application{} generated{}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        if orphaned.is_empty() {
            String::new()
        } else {
            format!(
                "; {} no longer generated, kept (prune is off)",
                orphaned.len()
            )
        }
    );
    Ok(ApplicationSetStatus {
        conditions: vec![condition(set, "True", "Generated", &message)],
        observed_generation: set.metadata.generation,
        application_count: u32::try_from(names.len()).unwrap_or(u32::MAX),
        applications: names,
        orphaned,
        revisions,
    })
}

fn owned_by(app: &Application, uid: &str) -> bool {
    app.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| owner.kind == "ApplicationSet" && owner.uid == uid)
}

/// An Application standing for what the set would read or where it would apply, so the
/// namespace's AppPolicies judge it as they judge its Applications.
fn stand_in(set: &ApplicationSet, repo_url: &str, cluster: Option<&str>) -> Application {
    let mut app = Application::new(
        &set.name_any(),
        ApplicationSpec {
            source: SourceSpec {
                repo_url: repo_url.to_owned(),
                ..SourceSpec::default()
            },
            destination: DestinationSpec {
                cluster: cluster.map(str::to_owned),
                ..DestinationSpec::default()
            },
            ..ApplicationSpec::default()
        },
    );
    app.metadata.namespace = set.namespace();
    app
}

/// `Ready`, keeping its transition time while its status stays.
fn condition(set: &ApplicationSet, status: &str, reason: &str, message: &str) -> Condition {
    let previous = set
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
    let last_transition_time = match previous {
        Some(previous) if previous.status == status => previous.last_transition_time.clone(),
        _ => clock::now(),
    };
    Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason.into(),
        message: crate::status::bounded_message(message),
        last_transition_time,
        observed_generation: set.metadata.generation,
    }
}

async fn write_status(ctx: &Context, set: &ApplicationSet, status: ApplicationSetStatus) {
    if set.status.as_ref() == Some(&status) {
        return;
    }
    let api: Api<ApplicationSet> =
        Api::namespaced(ctx.client.clone(), &set.namespace().unwrap_or_default());
    let patch = json!({"status": status});
    if let Err(err) = api
        .patch_status(
            &set.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        tracing::warn!(set = %set.name_any(), "writing the ApplicationSet's status failed: {err}");
    }
}
