//! `namespace:` sets the namespace of every namespaced object, renames Namespace
//! objects, and points a few namespace-valued fields (APIService, CRD conversion webhooks,
//! RoleBinding subjects named `default`) at it.

use serde_json::Value;

use crate::BuildError;
use crate::error::Result;
use crate::fieldspec::{self, builtin};
use crate::resource::Resource;

pub(crate) fn apply(resources: &mut [Resource], namespace: &str) -> Result<(), BuildError> {
    let specs = builtin::namespace();
    for resource in resources.iter_mut() {
        resource.store_previous_id();
        let id = resource.cur_id();
        if !id.is_cluster_scoped() {
            resource.set_namespace(namespace);
        }
        for spec in &specs {
            if !spec.selects(&id) {
                continue;
            }
            if spec.path_text() == "metadata/name" && resource.api_version() != "v1" {
                continue;
            }
            let mut object = Value::Object(std::mem::take(&mut resource.object));
            fieldspec::visit::<BuildError>(&mut object, &spec.path, spec.create, &mut |v| {
                *v = Value::String(namespace.to_owned());
                Ok(())
            })?;
            resource.object = into_map(object);
        }
        if matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = resource.object.get_mut("subjects")
        {
            for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
                if subject.get("name").and_then(Value::as_str) == Some("default") {
                    subject.insert("namespace".into(), namespace.into());
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
