//! The DesiredSet: every object one render produced, in a deterministic order, each
//! identity at most once.

use std::collections::HashMap;

use crate::error::{Duplicate, Error, Result};
use plumb_manifest::{DesiredObject, ObjectId};

/// The objects an application wants to exist, in render order: files by path, documents
/// by position. The engine decides apply order; this order only makes output stable.
#[derive(Clone, Debug, Default)]
pub struct DesiredSet {
    objects: Vec<DesiredObject>,
    index: HashMap<ObjectId, usize>,
}

impl DesiredSet {
    /// Builds the set, refusing two definitions of one object (naming both).
    pub(crate) fn new(objects: Vec<DesiredObject>) -> Result<Self> {
        let mut index = HashMap::with_capacity(objects.len());
        for (position, object) in objects.iter().enumerate() {
            if let Some(first) = index.insert(object.id().clone(), position) {
                return Err(Error::DuplicateObject(Box::new(Duplicate {
                    id: object.id().clone(),
                    first: objects[first].origin().clone(),
                    second: object.origin().clone(),
                })));
            }
        }
        Ok(DesiredSet { objects, index })
    }

    /// The objects, in render order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &DesiredObject> {
        self.objects.iter()
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the render produced nothing (which never prunes unless allowed).
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object with this identity.
    pub fn get(&self, id: &ObjectId) -> Option<&DesiredObject> {
        self.index.get(id).map(|&position| &self.objects[position])
    }
}

impl IntoIterator for DesiredSet {
    type Item = DesiredObject;
    type IntoIter = std::vec::IntoIter<DesiredObject>;

    fn into_iter(self) -> Self::IntoIter {
        self.objects.into_iter()
    }
}
