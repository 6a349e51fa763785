//! Objects planning cannot dry-run, because what they need does not exist yet: applying
//! validates them ahead of every other write (see [`crate::preflight`]).

use std::collections::{HashMap, HashSet};

use super::{Action, Change};
use crate::object_ref::ObjectRef;
use crate::target::Target;

/// What an object to create waits for before the API server can validate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Awaits {
    /// Its namespace, which this sync creates and which does not exist yet.
    pub(crate) namespace: bool,
    /// Its kind, defined by a CustomResourceDefinition this sync creates.
    pub(crate) definition: bool,
}

/// Custom resources awaiting a definition that this sync does not create (it exists, and
/// does not serve their version yet) cannot be validated ahead: updating the definition
/// cannot be undone. They are applied after it unvalidated, and the plan says so.
pub(crate) fn unless_undoable(targets: &[Target], actions: &mut [Action]) {
    if !actions
        .iter()
        .any(|a| a.awaits.is_some_and(|awaits| awaits.definition))
    {
        return;
    }
    let created: HashSet<&ObjectRef> = actions
        .iter()
        .filter(|a| a.change == Change::Create)
        .map(|a| &a.object)
        .collect();
    let creates_definition: HashMap<(String, String), bool> = targets
        .iter()
        .filter_map(|t| Some((t.defined_kind()?, created.contains(&t.object))))
        .collect();
    for action in actions {
        if !action.awaits.is_some_and(|awaits| awaits.definition) {
            continue;
        }
        let key = (action.object.group.clone(), action.object.kind.clone());
        if creates_definition.get(&key) != Some(&true) {
            action.awaits = None;
            action.note = Some(
                "applied once its CustomResourceDefinition serves it; not dry-run first, since the definition exists already"
                    .to_owned(),
            );
        }
    }
}
