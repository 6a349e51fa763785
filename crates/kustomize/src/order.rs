//! Output order: Kustomize's "legacy" order — Namespaces, then the kinds others depend
//! on (CRDs, ServiceAccounts, RBAC, ConfigMaps, Secrets, Services, …), then everything
//! else, webhooks last; by group/version/kind string and then namespace and name.

use std::cmp::Ordering;

use super::resource::Resource;

const FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Sort keys computed once per object.
struct Key {
    rank: i64,
    gvk: String,
    kind: String,
    empty_group: bool,
    id: String,
}

fn rank(kind: &str, first: &[String], last: &[String]) -> i64 {
    if let Some(at) = first.iter().position(|k| k == kind) {
        return at as i64 - first.len() as i64;
    }
    if let Some(at) = last.iter().position(|k| k == kind) {
        return at as i64 + 1;
    }
    0
}

fn or(value: &str, empty: &str) -> String {
    if value.is_empty() {
        empty.to_owned()
    } else {
        value.to_owned()
    }
}

/// Sorts in legacy order; `first`/`last` override the default kind lists.
pub(crate) fn legacy(
    resources: &mut Vec<Resource>,
    first: Option<&[String]>,
    last: Option<&[String]>,
) {
    let default_first: Vec<String> = FIRST.iter().map(|s| (*s).to_owned()).collect();
    let default_last: Vec<String> = LAST.iter().map(|s| (*s).to_owned()).collect();
    let first = first.unwrap_or(&default_first);
    let last = last.unwrap_or(&default_last);
    let mut keyed: Vec<(Key, Resource)> = resources
        .drain(..)
        .map(|resource| {
            let id = resource.cur_id();
            let gvk = format!(
                "{}_{}_{}",
                or(&id.group, "~G"),
                or(&id.version, "~V"),
                or(&id.kind, "~K")
            );
            let gvk_string = format!(
                "{}.{}.{}",
                or(&id.kind, "[noKind]"),
                or(&id.version, "[noVer]"),
                or(&id.group, "[noGrp]")
            );
            let key = Key {
                rank: rank(&id.kind, first, last),
                gvk,
                kind: id.kind.clone(),
                empty_group: id.group.is_empty(),
                id: format!(
                    "{gvk_string}|{}|{}",
                    or(&id.namespace, "~X"),
                    or(&id.name, "~N")
                ),
            };
            (key, resource)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| compare(a, b));
    resources.extend(keyed.into_iter().map(|(_, r)| r));
}

fn compare(a: &Key, b: &Key) -> Ordering {
    if a.gvk != b.gvk {
        if a.rank != b.rank {
            return a.rank.cmp(&b.rank);
        }
        if a.kind == "Namespace" && b.kind == "Namespace" && (a.empty_group || b.empty_group) {
            return b.gvk.cmp(&a.gvk);
        }
        return a.gvk.cmp(&b.gvk);
    }
    a.id.cmp(&b.id)
}
