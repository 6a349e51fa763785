//! `namePrefix` and `nameSuffix`: renamed objects remember their previous names so that
//! references to them can be fixed afterwards. CRDs, APIServices and Namespaces keep their
//! names, as in Kustomize.

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
