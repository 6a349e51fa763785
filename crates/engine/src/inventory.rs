//! The inventory: every object an app has applied, so objects removed from Git can be
//! found and pruned — without listing every kind in the cluster.

use serde::{Deserialize, Serialize};

use crate::object_ref::ObjectRef;

/// The objects an app owns, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The objects.
    pub objects: Vec<ObjectRef>,
}

impl Inventory {
    /// An inventory of these objects (sorted, deduplicated).
    pub fn new(mut objects: Vec<ObjectRef>) -> Self {
        objects.sort();
        objects.dedup();
        Inventory { objects }
    }

    /// Whether it holds this object (at any version).
    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.objects.iter().any(|o| o.same_object(object))
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}
