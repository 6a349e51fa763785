//! What strategic merge needs to know of the Kubernetes API: which lists merge by key,
//! and which kinds are cluster-scoped. The tables come from the API's OpenAPI document
//! (see `schema/table.rs` and the script that generates it), as Kustomize reads them
//! from the OpenAPI document it embeds.

mod custom;
mod table;

use std::borrow::Cow;
use std::rc::Rc;

pub(crate) use custom::CustomSchema;
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

/// A position in the schema an object is merged with; `None` where nothing is known.
/// Kustomize uses either its built-in Kubernetes schema or, when a kustomization names one
/// (`openapi: {path: …}`), that custom schema instead — never both.
#[derive(Clone, Copy)]
pub(crate) enum Schema<'a> {
    /// A definition of the built-in tables.
    Builtin(Option<u16>),
    /// A node of a custom schema.
    Custom(&'a CustomSchema, Option<u32>),
}

impl Schema<'static> {
    /// The schema of an object of `api_version` and `kind`, when it is a built-in kind.
    pub(crate) fn of(api_version: &str, kind: &str) -> Schema<'static> {
        let key = format!("{api_version}/{kind}");
        let found = ROOTS
            .binary_search_by(|(candidate, _)| (*candidate).cmp(key.as_str()))
            .ok()
            .map(|at| ROOTS[at].1);
        Schema::Builtin(found)
    }
}

impl<'a> Schema<'a> {
    /// The schema of an object of `api_version` and `kind` in a custom schema.
    pub(crate) fn custom(schema: &'a CustomSchema, api_version: &str, kind: &str) -> Schema<'a> {
        Schema::Custom(schema, schema.root(api_version, kind))
    }

    fn builtin_field(at: Option<u16>, name: &str) -> Option<&'static Field> {
        let definition = DEFINITIONS.get(usize::from(at?))?;
        definition.iter().find(|field| field.name == name)
    }

    /// The schema of the value of field `name`.
    pub(crate) fn child(self, name: &str) -> Schema<'a> {
        match self {
            Schema::Builtin(at) => Schema::Builtin(
                Self::builtin_field(at, name)
                    .map(|f| f.child)
                    .filter(|&child| child != NONE),
            ),
            Schema::Custom(schema, at) => {
                Schema::Custom(schema, at.and_then(|at| schema.child(at, name)))
            }
        }
    }

    /// `Some(keys)` when field `name` is a list merged by key (empty keys: a list of
    /// scalars merged as a set).
    pub(crate) fn merge_keys(self, name: &str) -> Option<Cow<'a, [&'a str]>> {
        match self {
            Schema::Builtin(at) => Self::builtin_field(at, name)
                .filter(|f| f.merge)
                .map(|f| Cow::Borrowed(f.keys)),
            Schema::Custom(schema, at) => schema.merge_keys(at?, name).map(Cow::Owned),
        }
    }
}

/// The schema strategic merges use at this point of a build.
#[derive(Default)]
pub(crate) enum OpenApi {
    /// No kustomization named one yet: the built-in schema, and a later one may name another.
    #[default]
    Unset,
    /// The built-in schema, named by version.
    Builtin,
    /// A custom schema.
    Custom(Rc<CustomSchema>),
}

impl OpenApi {
    /// The schema of an object of `api_version` and `kind`.
    pub(crate) fn schema_of(&self, api_version: &str, kind: &str) -> Schema<'_> {
        match self {
            OpenApi::Custom(schema) => Schema::custom(schema, api_version, kind),
            OpenApi::Unset | OpenApi::Builtin => Schema::of(api_version, kind),
        }
    }
}

/// Whether a kind is known to be cluster-scoped (everything else counts as namespaced,
/// as in Kustomize).
pub(crate) fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, kind))
}
