//! What goes: inventory entries the desired set no longer has become prunes — or releases
//! and orphans, when the object is not the app's to delete or its annotations keep it —
//! and an app deleted with its objects runs its PreDelete hooks first.

use std::collections::HashSet;

use serde_json::Value;

use super::{Action, Change, PlanOptions, Resolved};
use crate::engine::Engine;
use crate::error::Result;
use crate::inventory::Inventory;
use crate::live;
use crate::object_options::{self, ObjectOptions};
use crate::object_ref::{Identity, ObjectRef};
use crate::order::kind_rank;
use crate::target::Target;
use crate::tracking::{AppId, TRACKING_ANNOTATION, annotation, tracking_id};

impl Engine {
    pub(super) async fn plan_prunes(
        &self,
        app: &AppId,
        targets: &[Target],
        previous: &Inventory,
        options: &PlanOptions,
    ) -> Result<Vec<Action>> {
        let mut catalog = self.catalog().await;
        let desired: HashSet<Identity<'_>> = targets.iter().map(|t| t.object.identity()).collect();
        let mut gone: Vec<&ObjectRef> = previous
            .objects
            .iter()
            .filter(|old| !desired.contains(&old.identity()))
            .collect();
        // A kind missing from a kept discovery is asked for before its objects are taken
        // for gone with it: a prune must not be lost to a stale snapshot.
        if gone
            .iter()
            .any(|o| catalog.get(&o.group, &o.version, &o.kind).is_none())
            && self.rediscover_for_missing_kind().await?
        {
            catalog = self.catalog().await;
        }
        // Reverse of apply order: custom resources before their CRDs, namespaces last.
        gone.sort_by_key(|o| std::cmp::Reverse((kind_rank(&o.group, &o.kind), (*o).clone())));
        let mut actions = Vec::new();
        for object in gone {
            let Some(kind) = catalog.get(&object.group, &object.version, &object.kind) else {
                continue; // Its kind is gone from the cluster, and with it the object.
            };
            let Some(live) = live::get(&self.client, kind, object).await? else {
                continue;
            };
            if let Some(owner) = other_owner(app, object, &live) {
                actions.push(Action {
                    object: object.clone(),
                    change: Change::Release,
                    wave: 0,
                    diff: None,
                    note: Some(owner),
                    awaits: None,
                });
                continue;
            }
            let (change, note) = match (options.prune, kept(&live, options.deleting_app)) {
                (_, Some(why)) => (Change::Orphan, Some(why)),
                (false, None) => (Change::Orphan, Some("pruning is off".to_owned())),
                (true, None) => (Change::Prune, None),
            };
            actions.push(Action {
                object: object.clone(),
                change,
                wave: 0,
                diff: None,
                note,
                awaits: None,
            });
        }
        Ok(actions)
    }

    /// Runs the PreDelete hooks of what an app renders, before its objects are deleted with
    /// it: in wave order, each waited for; the first that fails stops them with
    /// [`Error::HookFailed`]. Returns each instance that ran and how it ended.
    pub async fn run_pre_delete_hooks(
        &self,
        resolved: &Resolved,
        timeout: std::time::Duration,
    ) -> (Vec<(ObjectRef, Option<String>)>, Result<()>) {
        let mut runs = Vec::new();
        let result = self
            .run_hooks(
                &resolved.hooks,
                crate::hooks::Phase::PreDelete,
                timeout,
                &mut runs,
            )
            .await;
        (runs, result)
    }
}

/// Why `live`, an inventory entry of `app`, is not the app's to delete: its tracking id
/// names another owner or none. `None` when it is the app's.
fn other_owner(app: &AppId, object: &ObjectRef, live: &Value) -> Option<String> {
    let expected = tracking_id(
        app,
        &object.group,
        &object.kind,
        object.namespace.as_deref().unwrap_or_default(),
        &object.name,
    );
    let found = live
        .as_object()
        .and_then(|live| annotation(live, TRACKING_ANNOTATION));
    match found {
        Some(found) if found == expected => None,
        Some(found) => Some(format!(
            "not pruned: its {TRACKING_ANNOTATION} names {found}, not this app"
        )),
        None => Some(format!(
            "not pruned: it carries no {TRACKING_ANNOTATION}, so plumb did not apply it as this app"
        )),
    }
}

/// Why the live object stays where a prune (or, `deleting_app`, a cascade deletion)
/// would delete it: its annotations ask so. An annotation plumb cannot read keeps it too.
fn kept(live: &Value, deleting_app: bool) -> Option<String> {
    let live = live.as_object()?;
    match ObjectOptions::of(live) {
        Ok(options) if options.no_prune => Some(format!(
            "its annotations turn pruning off ({}: disabled or the like)",
            object_options::PRUNE
        )),
        Ok(options) if options.no_delete && deleting_app => Some(format!(
            "its annotations keep it when its app is deleted ({}: disabled or the like)",
            object_options::DELETE
        )),
        Ok(_) => None,
        Err(why) => Some(format!("kept: {why}")),
    }
}
