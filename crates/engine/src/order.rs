//! Apply order: waves first, then one table of kind ranks — Namespaces and CRDs first,
//! then what workloads need (RBAC, accounts, config), then workloads, then custom
//! resources and webhooks. Prune runs the same order in reverse.

/// Rank of a kind within a wave; lower goes first. Unknown kinds (custom resources) go
/// after every built-in kind, admission webhooks last of all.
pub(crate) fn kind_rank(group: &str, kind: &str) -> u32 {
    const TABLE: &[(&str, &str)] = &[
        ("", "Namespace"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        ("policy", "PodSecurityPolicy"),
        ("policy", "PodDisruptionBudget"),
        ("", "ServiceAccount"),
        ("", "Secret"),
        ("", "ConfigMap"),
        ("storage.k8s.io", "StorageClass"),
        ("", "PersistentVolume"),
        ("", "PersistentVolumeClaim"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("", "Service"),
        ("apps", "DaemonSet"),
        ("", "Pod"),
        ("", "ReplicationController"),
        ("apps", "ReplicaSet"),
        ("apps", "Deployment"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("apps", "StatefulSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "Ingress"),
        ("extensions", "Ingress"),
        ("apiregistration.k8s.io", "APIService"),
    ];
    const CUSTOM: u32 = TABLE.len() as u32;
    if group == "admissionregistration.k8s.io" {
        return CUSTOM + 1;
    }
    TABLE
        .iter()
        .position(|&(g, k)| g == group && k == kind)
        .map_or(CUSTOM, |rank| rank as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_crds_lead_custom_resources_and_webhooks_trail() {
        let ranks = [
            kind_rank("", "Namespace"),
            kind_rank("apiextensions.k8s.io", "CustomResourceDefinition"),
            kind_rank("", "ConfigMap"),
            kind_rank("apps", "Deployment"),
            kind_rank("example.com", "Widget"),
            kind_rank(
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
            ),
        ];
        assert!(ranks.windows(2).all(|pair| pair[0] < pair[1]), "{ranks:?}");
    }
}
