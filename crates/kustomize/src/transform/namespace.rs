//! `namespace:` sets the namespace of every namespaced object, renames Namespace
//! objects, and points a few namespace-valued fields (APIService, CRD conversion webhooks,
//! RoleBinding subjects named `default`) at it.

use serde_json::Value;

use crate::BuildError;
use crate::error::Result;
use crate::fieldspec::{self, FieldSpec};
use crate::resource::Resource;

/// Which RoleBinding subjects take the namespace.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subjects {
    /// Subjects named `default` (Kustomize's default).
    DefaultOnly,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
    None,
}

/// What the `NamespaceTransformer` plugin is configured with; `namespace:` is the
/// built-in field specs, every value set, default subjects.
pub(crate) struct Options<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) specs: &'a [FieldSpec],
    /// Only fill namespaces that are missing or empty.
    pub(crate) unset_only: bool,
    pub(crate) subjects: Subjects,
}

pub(crate) fn with_options(
    resources: &mut [Resource],
    options: &Options,
) -> Result<(), BuildError> {
    let namespace = options.namespace;
    let set = |v: &mut Value| {
        let empty = v.is_null() || v.as_str() == Some("");
        if empty || !options.unset_only {
            *v = Value::String(namespace.to_owned());
        }
    };
    for resource in resources.iter_mut() {
        resource.store_previous_id();
        let id = resource.cur_id();
        if !id.is_cluster_scoped() {
            let mut current = Value::String(resource.namespace().to_owned());
            set(&mut current);
            resource.set_namespace(current.as_str().unwrap_or_default());
        }
        let binding = matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding");
        for spec in options.specs {
            let path = spec.path_text();
            // Kustomize drops these specs: the namespace and bindings' subjects are
            // handled above and below, names only of `v1` objects (Namespaces).
            if !spec.selects(&id)
                || path == "metadata/namespace"
                || (path == "metadata/name" && resource.api_version() != "v1")
                || (binding && path == "subjects/namespace")
            {
                continue;
            }
            let mut object = Value::Object(std::mem::take(&mut resource.object));
            fieldspec::visit::<BuildError>(&mut object, &spec.path, spec.create, &mut |v| {
                set(v);
                Ok(())
            })?;
            resource.object = into_map(object);
        }
        if binding
            && options.subjects != Subjects::None
            && let Some(Value::Array(subjects)) = resource.object.get_mut("subjects")
        {
            for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
                let takes = match options.subjects {
                    Subjects::DefaultOnly => {
                        subject.get("name").and_then(Value::as_str) == Some("default")
                    }
                    _ => subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount"),
                };
                if takes {
                    let mut current = subject.get("namespace").cloned().unwrap_or(Value::Null);
                    set(&mut current);
                    subject.insert("namespace".into(), current);
                }
            }
        }
    }
    check_unique(resources)
}

/// Two objects may not end up with one id.
fn check_unique(resources: &[Resource]) -> Result<(), BuildError> {
    let mut seen = std::collections::HashSet::new();
    for resource in resources {
        let id = resource.cur_id();
        let key = (
            id.group.clone(),
            id.version.clone(),
            id.kind.clone(),
            id.name.clone(),
            id.effective_namespace().to_owned(),
        );
        if !seen.insert(key) {
            return Err(BuildError::new(format!(
                "namespace transformation produces ID conflict: {}",
                id.describe()
            )));
        }
    }
    Ok(())
}

pub(crate) fn into_map(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}
