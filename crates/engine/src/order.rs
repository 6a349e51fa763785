//! Apply order: waves first, then one table of kind ranks — Namespaces and CRDs first,
//! then what workloads need (RBAC, accounts, config), then workloads, then custom
//! resources and webhooks. Prune runs the same order in reverse.
//!
//! Ranks are applied in *stages*: kinds of one stage go to the API server together, and a
//! stage waits only for the one before it. Only what the API server itself checks at
//! creation needs an earlier stage — a namespace, a CRD, a Role a RoleBinding grants (RBAC
//! refuses a binding it cannot check), a ServiceAccount or LimitRange a Pod is admitted
//! against, the Service behind an APIService, the backends of webhooks. Everything else
//! waits on nothing at creation (a Deployment whose ConfigMap comes a millisecond later
//! simply starts then), so a typical app is two round trips, not nine.

/// The built-in kinds in apply order, each with its stage (never lower than the stage of
/// a kind above it: a stage is a run of ranks).
const TABLE: &[(&str, &str, u32)] = &[
    ("", "Namespace", 0),
    ("apiextensions.k8s.io", "CustomResourceDefinition", 0),
    ("", "ResourceQuota", 1),
    ("", "LimitRange", 1),
    ("scheduling.k8s.io", "PriorityClass", 1),
    ("policy", "PodSecurityPolicy", 1),
    ("policy", "PodDisruptionBudget", 1),
    ("", "ServiceAccount", 1),
    ("", "Secret", 1),
    ("", "ConfigMap", 1),
    ("storage.k8s.io", "StorageClass", 1),
    ("", "PersistentVolume", 1),
    ("", "PersistentVolumeClaim", 1),
    ("rbac.authorization.k8s.io", "ClusterRole", 1),
    ("rbac.authorization.k8s.io", "Role", 1),
    ("networking.k8s.io", "NetworkPolicy", 1),
    ("networking.k8s.io", "IngressClass", 1),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", 2),
    ("rbac.authorization.k8s.io", "RoleBinding", 2),
    ("", "Service", 2),
    ("apps", "DaemonSet", 2),
    ("", "Pod", 2),
    ("", "ReplicationController", 2),
    ("apps", "ReplicaSet", 2),
    ("apps", "Deployment", 2),
    ("autoscaling", "HorizontalPodAutoscaler", 2),
    ("apps", "StatefulSet", 2),
    ("batch", "Job", 2),
    ("batch", "CronJob", 2),
    ("networking.k8s.io", "Ingress", 2),
    ("extensions", "Ingress", 2),
    ("apiregistration.k8s.io", "APIService", 3),
];

/// The rank of custom resources (any kind not in the table); webhooks rank one after.
const CUSTOM: u32 = TABLE.len() as u32;

/// Rank of a kind within a wave; lower goes first. Unknown kinds (custom resources) go
/// after every built-in kind, admission webhooks last of all.
pub(crate) fn kind_rank(group: &str, kind: &str) -> u32 {
    if group == "admissionregistration.k8s.io" {
        return CUSTOM + 1;
    }
    TABLE
        .iter()
        .position(|&(g, k, _)| g == group && k == kind)
        .map_or(CUSTOM, |rank| rank as u32)
}

/// The stage a rank is applied in (see the module doc): custom resources after every
/// built-in kind, webhooks after them.
pub(crate) fn stage(rank: u32) -> u32 {
    const LAST_BUILT_IN: u32 = 3;
    match TABLE.get(rank as usize) {
        Some(&(_, _, stage)) => stage,
        None => LAST_BUILT_IN + 1 + rank.saturating_sub(CUSTOM),
    }
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

    #[test]
    fn what_the_api_server_checks_at_creation_comes_a_stage_earlier() {
        let stage_of = |group, kind| stage(kind_rank(group, kind));
        let rbac = "rbac.authorization.k8s.io";
        let earlier = [
            (("", "Namespace"), ("", "ConfigMap")),
            (
                ("apiextensions.k8s.io", "CustomResourceDefinition"),
                ("", "ServiceAccount"),
            ),
            ((rbac, "Role"), (rbac, "RoleBinding")),
            ((rbac, "ClusterRole"), (rbac, "ClusterRoleBinding")),
            (("", "ServiceAccount"), ("", "Pod")),
            (("", "LimitRange"), ("apps", "Deployment")),
            (("", "Service"), ("apiregistration.k8s.io", "APIService")),
            (
                ("apiregistration.k8s.io", "APIService"),
                ("example.com", "Widget"),
            ),
            (
                ("example.com", "Widget"),
                (
                    "admissionregistration.k8s.io",
                    "ValidatingWebhookConfiguration",
                ),
            ),
        ];
        for (first, then) in earlier {
            assert!(
                stage_of(first.0, first.1) < stage_of(then.0, then.1),
                "{first:?} before {then:?}"
            );
        }
        // A typical app's kinds go in two stages, not one per kind.
        let app = [
            ("", "ServiceAccount"),
            ("", "Secret"),
            ("", "ConfigMap"),
            (rbac, "Role"),
            (rbac, "RoleBinding"),
            ("", "Service"),
            ("apps", "Deployment"),
            ("policy", "PodDisruptionBudget"),
            ("networking.k8s.io", "NetworkPolicy"),
        ];
        let stages: std::collections::BTreeSet<u32> =
            app.iter().map(|(g, k)| stage_of(g, k)).collect();
        assert_eq!(stages.len(), 2, "{stages:?}");
    }

    #[test]
    fn each_stage_is_one_run_of_ranks() {
        let stages: Vec<u32> = (0..=CUSTOM + 1).map(stage).collect();
        assert!(
            stages.windows(2).all(|pair| pair[0] <= pair[1]),
            "{stages:?}"
        );
    }
}
