//! `labels`, `commonLabels` and `commonAnnotations`: string maps written into every
//! field spec that selects the object (metadata, pod templates, and for selector-changing
//! labels the selectors too).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::BuildError;
use crate::fieldspec::{self, FieldSpec};
use crate::resource::Resource;

/// Writes `pairs` into every field `specs` select in every object.
pub(crate) fn apply(
    resources: &mut [Resource],
    pairs: &BTreeMap<String, String>,
    specs: &[FieldSpec],
) -> Result<(), BuildError> {
    if pairs.is_empty() {
        return Ok(());
    }
    for resource in resources.iter_mut() {
        let id = resource.org_id();
        let current = resource.cur_id();
        let mut object = Value::Object(std::mem::take(&mut resource.object));
        for spec in specs {
            if !spec.selects(&id) && !spec.selects(&current) {
                continue;
            }
            let path = spec.path_text();
            fieldspec::visit::<BuildError>(&mut object, &spec.path, spec.create, &mut |v| {
                if v.is_null() {
                    *v = Value::Object(Map::new());
                }
                let Value::Object(map) = v else {
                    return Err(BuildError::new(format!(
                        "{path} of {} is not a map, cannot set labels or annotations in it",
                        current.describe()
                    )));
                };
                for (key, value) in pairs {
                    map.insert(key.clone(), Value::String(value.clone()));
                }
                Ok(())
            })?;
        }
        resource.object = super::namespace::into_map(object);
    }
    Ok(())
}

/// User field specs of a `labels` entry.
pub(crate) fn user_specs(fields: &[crate::kustomization::FieldSpecEntry]) -> Vec<FieldSpec> {
    fields
        .iter()
        .map(|f| FieldSpec::new(&f.group, &f.version, &f.kind, &f.path, f.create))
        .collect()
}
