//! Kustomize's default name references: which fields of which kinds name a ConfigMap,
//! Secret, ServiceAccount, Service, Role, … — the table `configurations` adds to.

use crate::fieldspec::FieldSpec;

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
pub(super) struct Reference {
    pub(super) target: (String, String, String),
    pub(super) referrers: Vec<FieldSpec>,
}

fn owned((group, version, kind): (&str, &str, &str)) -> (String, String, String) {
    (group.to_owned(), version.to_owned(), kind.to_owned())
}

/// Kustomize's default name-reference configuration, in its order.
pub(super) fn references() -> Vec<Reference> {
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
        all.push(Reference {
            target: owned(target),
            referrers,
        });
    }
    for (target, fields) in OTHER {
        all.push(Reference {
            target: owned(*target),
            referrers: fields
                .iter()
                .map(|&(g, v, k, path)| FieldSpec::new(g, v, k, path, false))
                .collect(),
        });
    }
    all
}
