//! Name references: after objects were renamed (prefix, suffix, content hash), every
//! field that names one of them — a Deployment's ConfigMap volume, a RoleBinding's
//! subjects, an HPA's target, … — is pointed at the new name. Candidates are picked as
//! Kustomize picks them: by previous name, kind, namespace and, when several remain, by
//! shared prefixes and suffixes.

use serde_json::Value;

use super::BuildError;
use super::fieldspec::{self, FieldSpec, gvk_selects};
use super::resource::{ResId, Resource};

/// (referred group, version, kind) → fields that refer to it (group, version, kind, path).
type BackRef = (
    (&'static str, &'static str, &'static str),
    &'static [(&'static str, &'static str, &'static str, &'static str)],
);

const POD_TEMPLATE_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
];

/// The fields of a pod spec that name a ConfigMap (relative to the pod spec).
const CONFIG_MAP_IN_POD: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_IN_POD: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

const OTHER: &[BackRef] = &[
    (
        ("", "", "Deployment"),
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        ("", "", "ReplicationController"),
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        ("", "", "ReplicaSet"),
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        ("", "", "StatefulSet"),
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        ("", "v1", "Service"),
        &[
            ("apps", "", "StatefulSet", "spec/serviceName"),
            (
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/serviceName",
            ),
            ("", "", "Ingress", "spec/backend/serviceName"),
            (
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/service/name",
            ),
            ("", "", "Ingress", "spec/defaultBackend/service/name"),
            (
                "apiregistration.k8s.io",
                "",
                "APIService",
                "spec/service/name",
            ),
            (
                "admissionregistration.k8s.io",
                "",
                "ValidatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
            (
                "admissionregistration.k8s.io",
                "",
                "MutatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
        ],
    ),
    (
        ("rbac.authorization.k8s.io", "", "Role"),
        &[(
            "rbac.authorization.k8s.io",
            "",
            "RoleBinding",
            "roleRef/name",
        )],
    ),
    (
        ("rbac.authorization.k8s.io", "", "ClusterRole"),
        &[
            (
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "roleRef/name",
            ),
            (
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "roleRef/name",
            ),
        ],
    ),
    (
        ("", "v1", "ServiceAccount"),
        &[
            ("rbac.authorization.k8s.io", "", "RoleBinding", "subjects"),
            (
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "subjects",
            ),
            ("", "", "Pod", "spec/serviceAccountName"),
            (
                "",
                "",
                "StatefulSet",
                "spec/template/spec/serviceAccountName",
            ),
            (
                "",
                "",
                "Deployment",
                "spec/template/spec/serviceAccountName",
            ),
            (
                "",
                "",
                "ReplicationController",
                "spec/template/spec/serviceAccountName",
            ),
            (
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/serviceAccountName",
            ),
            ("", "", "Job", "spec/template/spec/serviceAccountName"),
            ("", "", "DaemonSet", "spec/template/spec/serviceAccountName"),
        ],
    ),
    (
        ("", "v1", "PersistentVolumeClaim"),
        &[
            (
                "",
                "",
                "Pod",
                "spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "ReplicationController",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "Job",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
        ],
    ),
    (
        ("", "v1", "PersistentVolume"),
        &[
            ("", "", "PersistentVolumeClaim", "spec/volumeName"),
            ("", "", "ClusterRole", "rules/resourceNames"),
        ],
    ),
    (
        ("storage.k8s.io", "v1", "StorageClass"),
        &[
            ("", "", "PersistentVolume", "spec/storageClassName"),
            ("", "", "PersistentVolumeClaim", "spec/storageClassName"),
            (
                "",
                "",
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ],
    ),
    (
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        &[
            ("", "", "Pod", "spec/priorityClassName"),
            (
                "",
                "",
                "StatefulSet",
                "spec/template/spec/priorityClassName",
            ),
            ("", "", "Deployment", "spec/template/spec/priorityClassName"),
            (
                "",
                "",
                "ReplicationController",
                "spec/template/spec/priorityClassName",
            ),
            (
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/priorityClassName",
            ),
            ("", "", "Job", "spec/template/spec/priorityClassName"),
            ("", "", "DaemonSet", "spec/template/spec/priorityClassName"),
        ],
    ),
    (
        (
            "admissionregistration.k8s.io",
            "",
            "ValidatingAdmissionPolicy",
        ),
        &[(
            "admissionregistration.k8s.io",
            "",
            "ValidatingAdmissionPolicyBinding",
            "spec/policyName",
        )],
    ),
];

/// One referred kind and the field specs that refer to it.
struct Reference {
    target: (&'static str, &'static str, &'static str),
    referrers: Vec<FieldSpec>,
}

/// Kustomize's default name-reference configuration, in its order.
fn references() -> Vec<Reference> {
    let mut all = Vec::new();
    for (target, pod_fields, extra) in [
        (
            ("", "v1", "ConfigMap"),
            CONFIG_MAP_IN_POD,
            &[
                ("", "", "Node", "spec/configSource/configMap"),
                ("", "", "Role", "rules/resourceNames"),
                ("", "", "ClusterRole", "rules/resourceNames"),
                (
                    "",
                    "",
                    "Ingress",
                    "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
                ),
            ][..],
        ),
        (
            ("", "v1", "Secret"),
            SECRET_IN_POD,
            &[
                ("", "", "Ingress", "spec/tls/secretName"),
                (
                    "",
                    "",
                    "Ingress",
                    "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
                ),
                (
                    "",
                    "",
                    "Ingress",
                    "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
                ),
                (
                    "",
                    "",
                    "Ingress",
                    "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
                ),
                ("", "", "ServiceAccount", "imagePullSecrets/name"),
                ("", "", "StorageClass", "parameters/secretName"),
                ("", "", "StorageClass", "parameters/adminSecretName"),
                ("", "", "StorageClass", "parameters/userSecretName"),
                ("", "", "StorageClass", "parameters/secretRef"),
                ("", "", "Role", "rules/resourceNames"),
                ("", "", "ClusterRole", "rules/resourceNames"),
                (
                    "serving.knative.dev",
                    "v1",
                    "Service",
                    "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                ),
                ("", "", "PersistentVolume", "spec/azureFile/secretName"),
            ][..],
        ),
    ] {
        let mut referrers = Vec::new();
        for field in pod_fields {
            referrers.push(FieldSpec::new(
                "",
                "v1",
                "Pod",
                &format!("spec/{field}"),
                false,
            ));
        }
        for field in pod_fields {
            referrers.push(FieldSpec::new(
                "",
                "",
                "PodTemplate",
                &format!("template/spec/{field}"),
                false,
            ));
        }
        for kind in POD_TEMPLATE_KINDS {
            for field in pod_fields {
                referrers.push(FieldSpec::new(
                    "",
                    "",
                    kind,
                    &format!("spec/template/spec/{field}"),
                    false,
                ));
            }
        }
        for field in pod_fields {
            referrers.push(FieldSpec::new(
                "",
                "",
                "CronJob",
                &format!("spec/jobTemplate/spec/template/spec/{field}"),
                false,
            ));
        }
        for &(g, v, k, path) in extra {
            referrers.push(FieldSpec::new(g, v, k, path, false));
        }
        all.push(Reference { target, referrers });
    }
    for (target, fields) in OTHER {
        all.push(Reference {
            target: *target,
            referrers: fields
                .iter()
                .map(|&(g, v, k, path)| FieldSpec::new(g, v, k, path, false))
                .collect(),
        });
    }
    all
}

/// Fixes every name reference in `resources`.
pub(crate) fn fix(resources: &mut [Resource]) -> Result<(), BuildError> {
    let references = references();
    for index in 0..resources.len() {
        let referrer_org = resources[index].org_id();
        for reference in &references {
            for spec in &reference.referrers {
                if !spec.selects(&referrer_org) {
                    continue;
                }
                apply(resources, index, reference.target, spec)?;
            }
        }
    }
    Ok(())
}

fn apply(
    resources: &mut [Resource],
    index: usize,
    target: (&str, &str, &str),
    spec: &FieldSpec,
) -> Result<(), BuildError> {
    let referrer = resources[index].clone();
    let referrer_id = referrer.cur_id();
    let candidates: Vec<usize> = (0..resources.len())
        .filter(|&i| could_refer(&referrer, &resources[i]))
        .collect();
    let role_ref = role_ref_gvk(&referrer, spec);
    let context = Context {
        resources,
        candidates: &candidates,
        target,
        referrer: &referrer,
        referrer_id: &referrer_id,
        role_ref,
    };
    let mut object = Value::Object(referrer.object.clone());
    let mut updates = Vec::new();
    fieldspec::visit::<BuildError>(&mut object, &spec.path, false, &mut |value| {
        context.set(value, &mut updates)
    })?;
    resources[index].object = super::transform::namespace::into_map(object);
    Ok(())
}

struct Context<'a> {
    resources: &'a [Resource],
    candidates: &'a [usize],
    target: (&'a str, &'a str, &'a str),
    referrer: &'a Resource,
    referrer_id: &'a ResId,
    role_ref: Option<(String, String)>,
}

impl Context<'_> {
    fn set(&self, value: &mut Value, updates: &mut Vec<usize>) -> Result<(), BuildError> {
        match value {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(value, updates),
            Value::Object(_) => self.set_mapping(value, updates),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(_) => self.set_scalar(item, updates)?,
                        Value::Object(_) => self.set_mapping(item, updates)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Err(BuildError::new(
                "node must be a scalar, sequence or map".into(),
            )),
        }
    }

    fn set_scalar(&self, value: &mut Value, _updates: &mut Vec<usize>) -> Result<(), BuildError> {
        let Value::String(old) = value else {
            return Ok(());
        };
        let candidates: Vec<&Resource> = self
            .candidates
            .iter()
            .map(|&i| &self.resources[i])
            .collect();
        if let Some(referral) = self.select(old, candidates, false)? {
            *value = Value::String(referral.name().to_owned());
        }
        Ok(())
    }

    fn set_mapping(&self, value: &mut Value, _updates: &mut Vec<usize>) -> Result<(), BuildError> {
        let Value::Object(map) = value else {
            return Ok(());
        };
        let Some(Value::String(old)) = map.get("name").cloned() else {
            return Err(BuildError::new(
                "path config error; no 'name' field in node".into(),
            ));
        };
        let all: Vec<&Resource> = self
            .candidates
            .iter()
            .map(|&i| &self.resources[i])
            .collect();
        let candidates = match map.get("namespace").and_then(Value::as_str) {
            None => all,
            Some(namespace) => {
                let by_original: Vec<&Resource> = all
                    .iter()
                    .copied()
                    .filter(|r| {
                        r.org_id().effective_namespace() == namespace
                            || r.org_id().namespace == namespace
                    })
                    .collect();
                if by_original.is_empty() {
                    all.into_iter()
                        .filter(|r| r.cur_id().effective_namespace() == namespace)
                        .collect()
                } else {
                    by_original
                }
            }
        };
        let Some(referral) = self.select(&old, candidates, true)? else {
            return Ok(());
        };
        if referral.name() == old && referral.namespace().is_empty() {
            return Ok(());
        }
        map.insert("name".into(), referral.name().into());
        if !referral.namespace().is_empty() {
            map.insert("namespace".into(), referral.namespace().into());
        }
        Ok(())
    }

    fn select<'r>(
        &self,
        old: &str,
        candidates: Vec<&'r Resource>,
        with_namespace: bool,
    ) -> Result<Option<&'r Resource>, BuildError> {
        let (tg, tv, tk) = self.target;
        let mut candidates: Vec<&Resource> = candidates
            .into_iter()
            .filter(|r| r.prev_ids().iter().any(|id| id.name == old))
            .filter(|r| r.prev_ids().iter().any(|id| gvk_selects(tg, tv, tk, id)))
            .filter(|r| match &self.role_ref {
                None => true,
                Some((group, kind)) => r
                    .prev_ids()
                    .iter()
                    .any(|id| gvk_selects(group, "", kind, id)),
            })
            .filter(|r| self.same_namespace(r))
            .collect();
        if candidates.len() == 1 {
            return Ok(candidates.pop());
        }
        candidates.retain(|r| affixes_equal(r, self.referrer, true));
        if candidates.len() > 1 {
            candidates.retain(|r| affixes_equal(r, self.referrer, false));
        }
        match candidates.len() {
            0 => Ok(None),
            1 => Ok(candidates.pop()),
            _ => {
                let first = candidates[0];
                let identical = candidates.iter().all(|r| {
                    r.name() == first.name()
                        && (!with_namespace || r.namespace() == first.namespace())
                });
                if identical {
                    Ok(Some(first))
                } else {
                    let ids: Vec<String> =
                        candidates.iter().map(|r| r.cur_id().describe()).collect();
                    Err(BuildError::new(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    )))
                }
            }
        }
    }

    fn same_namespace(&self, candidate: &Resource) -> bool {
        if self.referrer_id.is_cluster_scoped() {
            return true;
        }
        let id = candidate.cur_id();
        id.is_cluster_scoped()
            || candidate.kind() == "ServiceAccount"
            || id.effective_namespace() == self.referrer_id.effective_namespace()
    }
}

/// The objects a referrer may name: cluster-scoped ones, ones in its namespace, and for a
/// RoleBinding the namespaces of its subjects.
fn could_refer(referrer: &Resource, candidate: &Resource) -> bool {
    let referrer_id = referrer.cur_id();
    if referrer_id.is_cluster_scoped() {
        return true;
    }
    let id = candidate.cur_id();
    if id.is_cluster_scoped() || id.effective_namespace() == referrer_id.effective_namespace() {
        return true;
    }
    if referrer.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = referrer.object.get("subjects")
    {
        return subjects
            .iter()
            .any(|s| s.get("namespace").and_then(Value::as_str) == Some(id.namespace.as_str()));
    }
    false
}

fn role_ref_gvk(referrer: &Resource, spec: &FieldSpec) -> Option<(String, String)> {
    if !spec.path_text().ends_with("roleRef/name") {
        return None;
    }
    let role_ref = referrer.object.get("roleRef")?;
    let group = role_ref.get("apiGroup")?.as_str()?.to_owned();
    let kind = role_ref.get("kind")?.as_str()?.to_owned();
    Some((group, kind))
}

fn affixes_equal(a: &Resource, b: &Resource, allow_empty: bool) -> bool {
    if allow_empty {
        let prefixes =
            a.prefixes.is_empty() || b.prefixes.is_empty() || same_ending(&a.prefixes, &b.prefixes);
        let suffixes =
            a.suffixes.is_empty() || b.suffixes.is_empty() || same_ending(&a.suffixes, &b.suffixes);
        prefixes && suffixes
    } else {
        same_ending(&a.prefixes, &b.prefixes) && same_ending(&a.suffixes, &b.suffixes)
    }
}

/// Kustomize's `SameEndingSubSlice`: one list ends with the other.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long[long.len() - short.len()..] == *short
}
