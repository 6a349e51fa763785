//! `replicas`: sets `spec.replicas` of the named workloads.

use serde_json::Value;

use crate::BuildError;
use crate::fieldspec::{self, FieldSpec};
use crate::kustomization::Replica;
use crate::resource::Resource;

/// `replicas` through the given field specs (the `ReplicaCountTransformer` plugin's own).
pub(crate) fn with_specs(
    resources: &mut [Resource],
    replica: &Replica,
    specs: &[FieldSpec],
) -> Result<(), BuildError> {
    let mut found = false;
    for spec in specs {
        for resource in resources.iter_mut() {
            let matches = resource
                .any_ids()
                .iter()
                .any(|id| id.name == replica.name && spec.selects(id));
            if !matches {
                continue;
            }
            found = true;
            let mut object = Value::Object(std::mem::take(&mut resource.object));
            fieldspec::visit::<BuildError>(&mut object, &spec.path, spec.create, &mut |v| {
                *v = Value::from(replica.count);
                Ok(())
            })?;
            resource.object = super::namespace::into_map(object);
        }
    }
    if !found {
        let kinds: Vec<&str> = specs.iter().map(|s| s.kind.as_str()).collect();
        return Err(BuildError::new(format!(
            "resource with name {} does not match a config with the following GVK [{}]",
            replica.name,
            kinds.join(" ")
        )));
    }
    Ok(())
}
