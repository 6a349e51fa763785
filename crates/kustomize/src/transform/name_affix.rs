//! `namePrefix` and `nameSuffix`: renamed objects remember their previous names so that
//! references to them can be fixed afterwards. CRDs, APIServices and Namespaces keep their
//! names, as in Kustomize. The built-in `PrefixSuffixTransformer` plugin prefixes the
//! fields its own field specs name ([`with_specs`]).

use serde_json::Value;

use crate::BuildError;
use crate::fieldspec::{self, FieldSpec};
use crate::resource::Resource;

/// Kinds whose names never take a prefix or suffix.
fn skipped(group: &str, kind: &str) -> bool {
    kind == "CustomResourceDefinition"
        || kind == "Namespace"
        || (kind == "APIService" && group == "apiregistration.k8s.io")
}

pub(crate) fn prefix(resources: &mut [Resource], prefix: &str) {
    for resource in resources.iter_mut() {
        let id = resource.org_id();
        if skipped(&id.group, &id.kind) {
            continue;
        }
        resource.prefixes.push(prefix.to_owned());
        resource.store_previous_id();
        let name = format!("{prefix}{}", resource.name());
        resource.set_name(&name);
    }
}

pub(crate) fn suffix(resources: &mut [Resource], suffix: &str) {
    for resource in resources.iter_mut() {
        let id = resource.org_id();
        if skipped(&id.group, &id.kind) {
            continue;
        }
        resource.suffixes.push(suffix.to_owned());
        resource.store_previous_id();
        let name = format!("{}{suffix}", resource.name());
        resource.set_name(&name);
    }
}

/// A prefix and then a suffix written into the string fields `specs` select (by the
/// object's original kind), as Kustomize's prefix and suffix plugins write them; a spec
/// of `metadata/name` renames the object, remembering its previous name.
pub(crate) fn with_specs(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), BuildError> {
    for (affix, is_prefix) in [(prefix, true), (suffix, false)] {
        for resource in resources.iter_mut() {
            let id = resource.org_id();
            if skipped(&id.group, &id.kind) {
                continue;
            }
            for spec in specs.iter().filter(|s| s.selects(&id)) {
                if spec.path_text() == "metadata/name" && !affix.is_empty() {
                    let list = if is_prefix {
                        &mut resource.prefixes
                    } else {
                        &mut resource.suffixes
                    };
                    list.push(affix.to_owned());
                    resource.store_previous_id();
                }
                let mut object = Value::Object(std::mem::take(&mut resource.object));
                fieldspec::visit::<BuildError>(&mut object, &spec.path, spec.create, &mut |v| {
                    let current = match v {
                        Value::String(text) => std::mem::take(text),
                        Value::Null => String::new(),
                        _ => return Ok(()),
                    };
                    *v = Value::String(if is_prefix {
                        format!("{affix}{current}")
                    } else {
                        format!("{current}{affix}")
                    });
                    Ok(())
                })?;
                resource.object = super::namespace::into_map(object);
            }
        }
    }
    Ok(())
}
