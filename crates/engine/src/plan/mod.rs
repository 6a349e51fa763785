//! The plan is data: every desired object paired with its live counterpart becomes an
//! action — create, update (with a diff), in sync, or prune — sorted in execution order.
//! `plumb diff` prints it; `plumb apply` executes exactly it.
//!
//! Planning validates the whole set first: every object that can be is dry-run applied,
//! so one invalid object fails the plan and nothing at all is written. Objects in a
//! namespace the sync creates are dry-run by applying, once their namespace exists and
//! before anything else is written (see [`crate::preflight`]).

mod awaits;
mod deletion;

use std::collections::HashSet;
use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use plumb_render::DesiredSet;
use serde_json::Value;

use crate::cache::{live_hash, rules_hash};
use crate::catalog::Catalog;
use crate::concurrent::{self, CONCURRENCY};
use crate::diff::{Diff, compare, normalize};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::hooks::{self, Hook};
use crate::ignore::IgnoreRule;
use crate::inventory::Inventory;
use crate::live::{self, Observed};
use crate::managed;
use crate::object_options::ApplyMode;
use crate::object_ref::ObjectRef;
use crate::target::{NamespaceMetadata, Target, resolve};
use crate::tracking::AppId;
pub(crate) use awaits::Awaits;

/// What planning needs besides the desired set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Namespace for namespaced objects that name none.
    pub default_namespace: Option<String>,
    /// Take over fields other managers own (default), rather than report a conflict.
    pub force_conflicts: bool,
    /// Delete objects of the previous inventory that are no longer desired.
    pub prune: bool,
    /// Accept an empty desired set (which then prunes everything, if pruning).
    pub allow_empty: bool,
    /// Fields to leave out of the comparison.
    pub ignore_differences: Vec<IgnoreRule>,
    /// Read live objects from the API server's watch cache (may lag by milliseconds).
    /// For a controller whose watches catch later changes; one-shot tools leave it off.
    pub cached_reads: bool,
    /// Create the namespaces the objects are in when they are missing (and the set does
    /// not define them), with these labels and annotations.
    pub create_namespaces: Option<NamespaceMetadata>,
    /// The plan deletes the whole app (cascade deletion): objects marked to stay when
    /// their app is deleted are orphaned.
    pub deleting_app: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            default_namespace: None,
            force_conflicts: true,
            prune: false,
            allow_empty: false,
            ignore_differences: Vec::new(),
            cached_reads: false,
            create_namespaces: None,
            deleting_app: false,
        }
    }
}

/// What will happen to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// It does not exist: it will be created.
    Create,
    /// It exists and differs: it will be updated.
    Update,
    /// It exists and matches.
    InSync,
    /// It is no longer desired: it will be deleted.
    Prune,
    /// It is a hook: created afresh and waited for at its moment of a sync that writes
    /// something (see [`crate::hooks`]).
    Run,
    /// It is desired, and left as it is by its own choice: written only when missing
    /// (`plumb.dev/apply: if-not-present`, or a namespace plumb creates for the app), or
    /// never (`plumb.dev/apply: disabled`).
    Skip,
    /// It is no longer desired but stays: pruning is off, or the object opts out.
    Orphan,
    /// It is no longer desired, and its tracking id names another owner (another app
    /// adopted it, or a person rewrote it): it is left alone and leaves the inventory.
    /// Prune and cascade deletion never act on an inventory entry alone — the inventory
    /// is a ConfigMap its namespace's users can write.
    Release,
}

/// One action of a plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Action {
    /// The object.
    pub object: ObjectRef,
    /// What will happen to it.
    pub change: Change,
    /// Its sync wave.
    pub wave: i64,
    /// For updates, live → desired; secret values masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
    /// Why, when it is not obvious (e.g. why an object is orphaned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What must exist before it can be dry-run, which planning could not: applying
    /// creates that and dry-runs it before anything else is written (see
    /// [`crate::preflight`]).
    #[serde(skip)]
    pub(crate) awaits: Option<Awaits>,
}

impl Action {
    fn new(target: &Target, change: Change, diff: Option<Diff>, note: Option<&str>) -> Action {
        Action {
            object: target.object.clone(),
            change,
            wave: target.wave,
            diff,
            note: note.map(str::to_owned),
            awaits: None,
        }
    }

    /// An object to create that is validated when applying, once what it awaits exists.
    fn awaiting(target: &Target, awaits: Awaits) -> Action {
        let note = if awaits.definition {
            "dry-run once its CustomResourceDefinition is established, before anything else is written"
        } else {
            "dry-run once its namespace is created, before anything else is written"
        };
        Action {
            awaits: Some(awaits),
            ..Action::new(target, Change::Create, None, Some(note))
        }
    }
}

/// Every action for one app, in execution order: applies by wave and kind, then prunes in
/// reverse.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The app the plan is for.
    pub app: AppId,
    /// The actions.
    pub actions: Vec<Action>,
    pub(crate) targets: Arc<Vec<Target>>,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) options: PlanOptions,
    pub(crate) previous: Inventory,
}

impl Plan {
    /// Whether nothing would change.
    pub fn is_in_sync(&self) -> bool {
        self.actions.iter().all(|a| {
            matches!(
                a.change,
                Change::InSync | Change::Skip | Change::Run | Change::Orphan | Change::Release
            )
        })
    }

    /// How many actions have this change.
    pub fn count(&self, change: Change) -> usize {
        self.actions.iter().filter(|a| a.change == change).count()
    }
}

/// A desired set resolved against the cluster's kinds — versions, scopes, namespaces
/// defaulted, tracking marks added, cache keys computed — for one app under one set of
/// options: the desired half of a plan. It does not read the cluster, so a caller can make
/// it while the live half is still being read (see [`Engine::observe`]).
///
/// Cheap to clone (the targets are shared), so a caller that plans the same desired set
/// again — a controller's no-op reconcile — keeps it and asks [`Engine::is_current`]
/// instead of resolving thousands of objects again.
#[derive(Clone, Debug)]
pub struct Resolved {
    app: AppId,
    targets: Arc<Vec<Target>>,
    pub(crate) hooks: Vec<Hook>,
    options: PlanOptions,
    /// The catalog it was resolved against.
    catalog: Arc<Catalog>,
}

impl Resolved {
    /// Whether any hook runs at `phase` (PreDelete: before the app's objects are deleted).
    pub fn has_hooks(&self, phase: crate::hooks::Phase) -> bool {
        self.hooks.iter().any(|h| h.phases.contains(&phase))
    }

    /// Every object the desired set would write, with its namespace defaulted (`None` for a
    /// cluster-scoped kind) — what a policy judges before the cluster is read.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectRef> {
        let hooks = self.hooks.iter().map(|h| &h.target.object);
        self.targets.iter().map(|t| &t.object).chain(hooks)
    }
}

impl Engine {
    /// Plans making the cluster match `desired` for `app`, whose previous inventory is
    /// `previous`. Writes nothing.
    pub async fn plan(
        &self,
        app: &AppId,
        desired: &DesiredSet,
        previous: &Inventory,
        options: &PlanOptions,
    ) -> Result<Plan> {
        let resolved = self.resolve(app, desired, options).await?;
        self.plan_resolved(resolved, previous, Observed::default())
            .await
    }

    /// Resolves `desired` for `app`: every object's kind must be served, or defined by a
    /// CRD in the set. Reads the cluster only when a kind is missing from a discovery that
    /// may be out of date.
    pub async fn resolve(
        &self,
        app: &AppId,
        desired: &DesiredSet,
        options: &PlanOptions,
    ) -> Result<Resolved> {
        let namespace = options.default_namespace.as_deref();
        let rules = rules_hash(&options.ignore_differences);
        let mut catalog = self.catalog().await;
        let create = options.create_namespaces.as_ref();
        let targets = match resolve(desired, &catalog, app, namespace, rules, create) {
            // The catalog may predate a CRD (kept on disk, or installed since by someone
            // else): ask the API server before failing.
            Err(Error::UnknownKind { .. }) if self.rediscover_for_missing_kind().await? => {
                catalog = self.catalog().await;
                resolve(desired, &catalog, app, namespace, rules, create)?
            }
            other => other?,
        };
        // Hooks run at moments of a sync; they are not kept in place like the rest.
        let (targets, hooks) = hooks::split(targets, app)?;
        Ok(Resolved {
            app: app.clone(),
            targets: Arc::new(targets),
            hooks,
            options: options.clone(),
            catalog,
        })
    }

    /// Whether `resolved` is what [`Engine::resolve`] would give now for the same desired
    /// set: made for `app` under `options`, against the catalog this engine still holds
    /// (a kind discovered since, or a CRD's new version, resolves again).
    pub async fn is_current(
        &self,
        resolved: &Resolved,
        app: &AppId,
        options: &PlanOptions,
    ) -> bool {
        resolved.app == *app
            && resolved.options == *options
            && Arc::ptr_eq(&resolved.catalog, &self.catalog().await)
    }

    /// [`Engine::plan`] of a resolved set, with live objects already read by
    /// [`Engine::observe`]: only what they do not cover is listed.
    pub async fn plan_resolved(
        &self,
        resolved: Resolved,
        previous: &Inventory,
        observed: Observed,
    ) -> Result<Plan> {
        let Resolved {
            app,
            targets,
            hooks,
            options,
            catalog: _,
        } = resolved;
        if targets.is_empty() && !options.allow_empty && !previous.is_empty() {
            return Err(Error::EmptySet {
                inventory: previous.len(),
            });
        }
        let mut tracked = observed.0;
        let unlisted: Vec<_> = live::scopes(
            targets
                .iter()
                .map(|t| (&t.kind, t.object.namespace.as_deref())),
        )
        .into_iter()
        .filter(|scope| !tracked.covers(scope))
        .collect();
        tracked
            .extend(live::list_tracked(&self.client, &app, &unlisted, options.cached_reads).await);
        let created_namespaces: HashSet<&str> = targets
            .iter()
            .filter(|t| t.object.group.is_empty() && t.object.kind == "Namespace")
            .map(|t| t.object.name.as_str())
            .collect();

        // An object unchanged since it was found in sync needs no request: its verdict is
        // made here. Futures, each large enough to hold a dry-run, are made for the rest.
        let verdicts: Vec<Option<Action>> = targets
            .iter()
            .map(|target| {
                tracked
                    .hash(&target.object)
                    .filter(|&hash| self.cache.in_sync(&target.object, target.key, hash))
                    .map(|_| Action::new(target, Change::InSync, None, None))
            })
            .collect();
        let missing_namespaces = self
            .missing_namespaces(&targets, &verdicts, &created_namespaces)
            .await?;
        let pending: Vec<_> = targets
            .iter()
            .zip(&verdicts)
            .filter(|(_, verdict)| verdict.is_none())
            .map(|(target, _)| {
                self.plan_one(
                    target,
                    tracked.take(&target.object),
                    &created_namespaces,
                    &missing_namespaces,
                    &options,
                )
            })
            .collect();
        let mut planned = concurrent::try_in_order(pending, CONCURRENCY)
            .await?
            .into_iter();
        // In target order: each object without a verdict has the next planned action.
        let mut actions: Vec<Action> = verdicts
            .into_iter()
            .filter_map(|verdict| verdict.or_else(|| planned.next()))
            .collect();
        awaits::unless_undoable(&targets, &mut actions);
        actions.extend(self.plan_prunes(&app, &targets, previous, &options).await?);
        actions.extend(hooks.iter().map(|hook| {
            let phases: Vec<String> = hook.phases.iter().map(ToString::to_string).collect();
            let note = if phases.is_empty() {
                "never applied (hook Skip)".to_owned()
            } else {
                format!(
                    "{} hook, run when the sync writes something",
                    phases.join(", ")
                )
            };
            Action::new(&hook.target, Change::Run, None, Some(&note))
        }));
        Ok(Plan {
            app,
            actions,
            targets,
            hooks,
            options,
            previous: previous.clone(),
        })
    }

    async fn plan_one(
        &self,
        target: &Target,
        listed: live::Listed,
        created_namespaces: &HashSet<&str>,
        missing_namespaces: &HashSet<String>,
        options: &PlanOptions,
    ) -> Result<Action> {
        let action = |change, diff, note: Option<&str>| Action::new(target, change, diff, note);
        match (target.options.apply, target.tracked) {
            (ApplyMode::Disabled, _) => {
                return Ok(action(
                    Change::Skip,
                    None,
                    Some("never written: its annotations turn applying off"),
                ));
            }
            (ApplyMode::IfNotPresent, _) | (_, false) if target.kind.served => {
                let exists = live::get(&self.client, &target.kind, &target.object)
                    .await?
                    .is_some();
                if exists {
                    let why = if target.tracked {
                        "exists; written only when missing"
                    } else {
                        "exists; plumb creates the namespace only when it is missing"
                    };
                    return Ok(action(Change::Skip, None, Some(why)));
                }
            }
            _ => {}
        }
        let in_missing_namespace = target
            .object
            .namespace
            .as_ref()
            .is_some_and(|ns| missing_namespaces.contains(ns));
        if !target.kind.served {
            let awaits = Awaits {
                namespace: in_missing_namespace,
                definition: true,
            };
            return Ok(Action::awaiting(target, awaits));
        }
        // An object its kind's list did not show is not tracked yet: most likely it does
        // not exist, which the dry-run tells (it answers without a resourceVersion), so a
        // GET is only needed for an object being adopted.
        let (live, fetched) = match listed {
            // Not in sync by the cache: the caller made those verdicts.
            live::Listed::Found(live) => (Some(live), true),
            live::Listed::NotTracked => (None, false),
            live::Listed::Unknown => {
                let live = live::get(&self.client, &target.kind, &target.object).await?;
                if let Some(live) = &live
                    && self.cache.in_sync(
                        &target.object,
                        target.key,
                        live_hash(live, &target.object),
                    )
                {
                    return Ok(action(Change::InSync, None, None));
                }
                (live, true)
            }
        };
        // Its namespace does not exist yet: a dry-run could only answer "not found".
        let in_namespace = Awaits {
            namespace: true,
            definition: false,
        };
        if live.is_none() && in_missing_namespace {
            return Ok(Action::awaiting(target, in_namespace));
        }
        let in_new_namespace = target
            .object
            .namespace
            .as_deref()
            .is_some_and(|ns| created_namespaces.contains(ns));
        let dry_run = match self.dry_run(target, options.force_conflicts).await {
            Ok(result) => result,
            // The namespace is created by this very sync: it can only be validated then.
            Err(Error::Invalid { message, .. })
                if live.is_none() && in_new_namespace && message.contains("not found") =>
            {
                return Ok(Action::awaiting(target, in_namespace));
            }
            Err(Error::Immutable { .. }) if live.is_some() && target.options.recreate => {
                return Ok(action(
                    Change::Update,
                    None,
                    Some("an immutable field changed: it will be deleted and recreated"),
                ));
            }
            Err(err) => return Err(err),
        };
        let live = match live {
            Some(live) => Some(live),
            None if !fetched && resource_version(&dry_run).is_some_and(|rv| !rv.is_empty()) => {
                live::get(&self.client, &target.kind, &target.object).await?
            }
            None => None,
        };
        let Some(mut live) = live else {
            return Ok(action(Change::Create, None, None));
        };
        // A dry-run answers with the object as stored now. If a controller wrote to it
        // since it was read (a Deployment's revision annotation, say), compare with the
        // current version, or that write would show as a difference plumb would make.
        if resource_version(&dry_run) != resource_version(&live)
            && let Some(fresh) = live::get(&self.client, &target.kind, &target.object).await?
        {
            live = fresh;
        }
        let rules = &options.ignore_differences;
        let mut before = normalize(&live, &target.object, rules);
        let mut after = normalize(&dry_run, &target.object, rules);
        let managers: Vec<String> = rules
            .iter()
            .filter(|rule| rule.matches(&target.object))
            .flat_map(|rule| rule.managed_fields_managers.iter().cloned())
            .collect();
        for fields in managed::owned_by(&live, &managers) {
            managed::remove(&mut before, fields);
            managed::remove(&mut after, fields);
        }
        match compare(&before, &after, target.sensitive) {
            None => {
                let hash = live_hash(&live, &target.object);
                self.cache
                    .record(&target.object, target.key, hash, target.sensitive);
                Ok(action(Change::InSync, None, None))
            }
            Some(mut diff) => {
                diff.changed_by = managed::changed_by(&live, &diff.fields);
                Ok(action(Change::Update, Some(diff), None))
            }
        }
    }

    /// The namespaces this sync creates that do not exist yet, among those of objects
    /// still to plan: each is one GET, where a dry-run of every object in it would be one
    /// request per object answering "not found" (a first apply of 1,000 objects into a
    /// new namespace made 1,000 such dry-runs).
    async fn missing_namespaces(
        &self,
        targets: &[Target],
        verdicts: &[Option<Action>],
        created: &HashSet<&str>,
    ) -> Result<HashSet<String>> {
        let mut asked: Vec<&str> = targets
            .iter()
            .zip(verdicts)
            .filter(|(_, verdict)| verdict.is_none())
            .filter_map(|(target, _)| target.object.namespace.as_deref())
            .filter(|ns| created.contains(ns))
            .collect();
        asked.sort_unstable();
        asked.dedup();
        let Some(namespace_kind) = targets
            .iter()
            .find(|t| t.object.group.is_empty() && t.object.kind == "Namespace")
            .map(|t| &t.kind)
        else {
            return Ok(HashSet::new());
        };
        let lookups = asked.iter().map(|&name| async move {
            let object = ObjectRef {
                group: String::new(),
                version: namespace_kind.resource.version.clone(),
                kind: "Namespace".to_owned(),
                namespace: None,
                name: name.to_owned(),
            };
            live::get(&self.client, namespace_kind, &object)
                .await
                .map(|live| live.is_none().then(|| name.to_owned()))
        });
        let found = futures::future::try_join_all(lookups).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// A server-side-apply dry-run: what the object would be after applying.
    pub(crate) async fn dry_run(&self, target: &Target, force: bool) -> Result<Value> {
        let mut params = apply_params(force && target.options.apply != ApplyMode::Merge);
        params.dry_run = true;
        self.send_apply(target, &params).await
    }

    pub(crate) async fn send_apply(&self, target: &Target, params: &PatchParams) -> Result<Value> {
        let api = live::api(
            &self.client,
            &target.kind.resource,
            target.object.namespace.as_deref(),
        );
        let applied = api
            .patch(
                &target.object.name,
                params,
                &Patch::Apply(target.manifest.raw()),
            )
            .await
            .map_err(|err| Error::from_write(&target.object.to_string(), target.sensitive, err))?;
        Ok(live::into_value(applied))
    }

    /// Lists the app's live objects of every kind and namespace in `inventory`: what a
    /// plan of an unchanged app reads. A caller that has the inventory before the desired
    /// set (the CLI reads it while rendering) starts the lists early this way, and hands
    /// them to [`Engine::plan_resolved`], which lists only what they do not cover.
    pub async fn observe(
        &self,
        app: &AppId,
        inventory: &Inventory,
        options: &PlanOptions,
    ) -> Observed {
        let catalog = self.catalog().await;
        let kinds = inventory.objects.iter().filter_map(|object| {
            catalog
                .get(&object.group, &object.version, &object.kind)
                .map(|kind| (kind, object.namespace.as_deref()))
        });
        let scopes = live::scopes(kinds);
        Observed(live::list_tracked(&self.client, app, &scopes, options.cached_reads).await)
    }
}

fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// Server-side apply as field manager `plumb`.
pub(crate) fn apply_params(force: bool) -> PatchParams {
    let params = crate::server_side_apply(crate::FIELD_MANAGER);
    if force { params.force() } else { params }
}
