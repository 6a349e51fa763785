//! What strategic merge needs to know of the Kubernetes API: which lists merge by key,
//! and which kinds are cluster-scoped. The tables come from the API's OpenAPI document
//! (see `schema/table.rs` and the script that generates it), as Kustomize reads them
//! from the OpenAPI document it embeds.

mod table;

use table::{CLUSTER_SCOPED, DEFINITIONS, ROOTS};

/// No child definition.
pub(super) const NONE: u16 = u16::MAX;

/// One field of a definition that matters to strategic merge.
pub(super) struct Field {
    pub(super) name: &'static str,
    /// A list merged element by element (`x-kubernetes-patch-strategy: merge`).
    pub(super) merge: bool,
    /// `retainKeys` strategy (kept for `$retainKeys`).
    #[allow(
        dead_code,
        reason = "generated for completeness; $retainKeys is not applied"
    )]
    pub(super) retain_keys: bool,
    /// The merge keys of a merge list of maps (empty for lists of scalars).
    pub(super) keys: &'static [&'static str],
    /// The definition of the field's value (or of its list's elements).
    pub(super) child: u16,
}

/// A position in the schema of a built-in kind; `None` where nothing is known.
#[derive(Clone, Copy)]
pub(crate) struct Schema(Option<u16>);

impl Schema {
    /// The schema of an object of `api_version` and `kind`, when it is a built-in kind.
    pub(crate) fn of(api_version: &str, kind: &str) -> Schema {
        let key = format!("{api_version}/{kind}");
        let found = ROOTS
            .binary_search_by(|(candidate, _)| (*candidate).cmp(key.as_str()))
            .ok()
            .map(|at| ROOTS[at].1);
        Schema(found)
    }

    fn field(self, name: &str) -> Option<&'static Field> {
        let definition = DEFINITIONS.get(usize::from(self.0?))?;
        definition.iter().find(|field| field.name == name)
    }

    /// The schema of the value of field `name`.
    pub(crate) fn child(self, name: &str) -> Schema {
        Schema(
            self.field(name)
                .map(|f| f.child)
                .filter(|&child| child != NONE),
        )
    }

    /// `Some(keys)` when field `name` is a list merged by key (empty keys: a list of
    /// scalars merged as a set).
    pub(crate) fn merge_keys(self, name: &str) -> Option<&'static [&'static str]> {
        self.field(name).filter(|f| f.merge).map(|f| f.keys)
    }
}

/// Whether a kind is known to be cluster-scoped (everything else counts as namespaced,
/// as in Kustomize).
pub(crate) fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, kind))
}
