//! ObjectRef: the identity of an object in the cluster, as the engine records it in plans,
//! results and inventories.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Group, kind, namespace and name: see [`ObjectRef::identity`].
pub type Identity<'a> = (&'a str, &'a str, Option<&'a str>, &'a str);

/// A live object's identity. Unlike render's `ObjectId`, it carries the version it is
/// applied at (needed to address it) and its namespace after defaulting.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this is the same object as `other`, whatever the version.
    pub fn same_object(&self, other: &ObjectRef) -> bool {
        self.identity() == other.identity()
    }

    /// What names the object whatever its version: the key to find it in a set, as an
    /// app of thousands of objects must, rather than by comparing with each in turn.
    pub fn identity(&self) -> Identity<'_> {
        (
            &self.group,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}

impl fmt::Display for ObjectRef {
    /// `Deployment.apps prod/web`, `Namespace prod`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        plumb_render::write_identity(
            f,
            &self.group,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}
