//! Whether an Application may do what it asks, under the policies that govern it — a pure
//! function of the policies, the app and what it would write, so it is checked before any
//! write and tested without a cluster.

use plumb_engine::ObjectRef;
use plumb_source::RepositoryLocation;

use super::spec::{ApiAction, AppPolicy, KindPattern};
use crate::application::Application;

/// The policies of the admin namespaces that govern `namespace`.
pub(crate) fn governing<'a>(policies: &'a [AppPolicy], namespace: &str) -> Vec<&'a AppPolicy> {
    policies
        .iter()
        .filter(|policy| {
            policy
                .spec
                .namespaces
                .iter()
                .any(|pattern| glob(pattern, namespace))
        })
        .collect()
}

/// Why `app`'s repository or destination cluster is refused, if they are.
pub(crate) fn source_violations(policies: &[&AppPolicy], app: &Application) -> Vec<String> {
    let repository = RepositoryLocation::of(&app.spec.source.repo_url).canonical();
    let cluster = crate::clusters::cluster_of(app).unwrap_or(crate::clusters::IN_CLUSTER);
    let clusters = policies.iter().filter_map(|policy| {
        let permitted = match &policy.spec.destination_clusters {
            Some(allowed) => allowed.iter().any(|pattern| glob(pattern, cluster)),
            None => cluster == crate::clusters::IN_CLUSTER,
        };
        (!permitted).then(|| {
            format!(
                "cluster {cluster} is not among the destinationClusters of AppPolicy {}",
                name(policy)
            )
        })
    });
    policies
        .iter()
        .filter_map(|policy| {
            let allowed = policy.spec.source_repos.as_ref()?;
            let permitted = allowed
                .iter()
                .any(|pattern| glob(&RepositoryLocation::of(pattern).canonical(), &repository));
            (!permitted).then(|| {
                format!(
                    "repository {} is not among the sourceRepos of AppPolicy {}",
                    plumb_source::redact_url(&app.spec.source.repo_url),
                    name(policy)
                )
            })
        })
        .chain(clusters)
        .collect()
}

/// Why the objects `app` would write (or prune) are refused, one line per object and rule.
pub(crate) fn object_violations<'o>(
    policies: &[&AppPolicy],
    app: &Application,
    objects: impl IntoIterator<Item = &'o ObjectRef>,
) -> Vec<String> {
    let own = app.key().namespace;
    let mut found = Vec::new();
    for object in objects {
        for policy in policies {
            if let Some(rule) = refusal(policy, &own, object) {
                found.push(format!("{object}: {rule} (AppPolicy {})", name(policy)));
            }
        }
    }
    found
}

/// The rule of `policy` that `object` breaks, if any.
fn refusal(policy: &AppPolicy, own_namespace: &str, object: &ObjectRef) -> Option<String> {
    let spec = &policy.spec;
    match &object.namespace {
        None => {
            let allowed = spec
                .cluster_resources
                .iter()
                .any(|pattern| kind_matches(pattern, object));
            (!allowed).then(|| "a cluster-scoped kind not among clusterResources".to_owned())
        }
        Some(namespace) => {
            let in_place = match &spec.destination_namespaces {
                None => namespace == own_namespace,
                Some(patterns) => patterns.iter().any(|pattern| glob(pattern, namespace)),
            };
            if !in_place {
                return Some(format!(
                    "namespace {namespace} is not among the destinationNamespaces"
                ));
            }
            spec.denied_resources
                .iter()
                .any(|pattern| kind_matches(pattern, object))
                .then(|| "a kind among deniedResources".to_owned())
        }
    }
}

/// Whether every governing policy lets remote bases be fetched.
pub(crate) fn allows_remote_bases(policies: &[&AppPolicy]) -> bool {
    policies.iter().all(|p| p.spec.allow_remote_bases)
}

/// Whether every governing policy lets an external renderer run.
pub(crate) fn allows_external_renderers(policies: &[&AppPolicy]) -> bool {
    policies.iter().all(|p| p.spec.allow_external_renderers)
}

fn kind_matches(pattern: &KindPattern, object: &ObjectRef) -> bool {
    let group = pattern.group.as_deref().unwrap_or_default();
    (group == "*" || group == object.group) && (pattern.kind == "*" || pattern.kind == object.kind)
}

fn name(policy: &AppPolicy) -> String {
    format!(
        "{}/{}",
        policy.metadata.namespace.as_deref().unwrap_or_default(),
        policy.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Whether the caller `user` (in `groups`) may ask `action` of an Application in
/// `namespace` through plumb's API, under every AppPolicy seen (those outside
/// `admin_namespaces` count for nothing). Each governing policy with roles must have one
/// naming the caller and the action; the error names the policies that refuse.
pub fn api_permits(
    policies: &[AppPolicy],
    admin_namespaces: &[String],
    namespace: &str,
    user: &str,
    groups: &[String],
    action: ApiAction,
) -> Result<(), String> {
    let counted: Vec<AppPolicy> = policies
        .iter()
        .filter(|p| {
            admin_namespaces
                .iter()
                .any(|n| Some(n.as_str()) == p.metadata.namespace.as_deref())
        })
        .cloned()
        .collect();
    let refusing: Vec<String> = governing(&counted, namespace)
        .into_iter()
        .filter(|policy| {
            policy.spec.roles.as_ref().is_some_and(|roles| {
                !roles.iter().any(|role| {
                    let named = role.users.iter().any(|u| glob(u, user))
                        || role
                            .groups
                            .iter()
                            .any(|g| groups.iter().any(|mine| glob(g, mine)));
                    named
                        && role
                            .actions
                            .iter()
                            .any(|a| *a == action || *a == ApiAction::All)
                })
            })
        })
        .map(name)
        .collect();
    if refusing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no role of AppPolicy {} lets {user} {} Applications of {namespace}",
            refusing.join(", "),
            action.verb()
        ))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(spec: serde_json::Value) -> AppPolicy {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "AppPolicy",
            "metadata": {"name": "teams", "namespace": "plumb-system"},
            "spec": spec,
        }))
        .unwrap()
    }

    fn app(repo: &str) -> Application {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "team-a"},
            "spec": {"source": {"repoURL": repo, "path": "app"}},
        }))
        .unwrap()
    }

    fn object(group: &str, kind: &str, namespace: Option<&str>) -> ObjectRef {
        ObjectRef {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_owned),
            name: "x".into(),
        }
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("team-*", "team-a"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(glob("exact", "exact"));
        assert!(!glob("team-*", "other"));
        assert!(!glob("a*bc", "abc-bc-x"));
        assert!(
            !glob("ab*ba", "aba"),
            "the prefix and suffix may not overlap"
        );
    }

    #[test]
    fn a_policy_governs_the_namespaces_it_names() {
        let policies = [policy(json!({"namespaces": ["team-*"]}))];
        assert_eq!(governing(&policies, "team-a").len(), 1);
        assert!(governing(&policies, "payments").is_empty());
    }

    #[test]
    fn only_listed_repositories_however_spelled() {
        let policy =
            policy(json!({"namespaces": ["*"], "sourceRepos": ["https://github.com/acme/*"]}));
        let policies = [&policy];
        assert!(source_violations(&policies, &app("git@github.com:Acme/shop.git")).is_empty());
        let refused = source_violations(&policies, &app("https://user:pw@evil.example/acme/shop"));
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].contains("AppPolicy plumb-system/teams"),
            "{refused:?}"
        );
        assert!(
            !refused[0].contains("pw"),
            "credentials are never shown: {refused:?}"
        );
        let open = self::policy(json!({"namespaces": ["*"]}));
        assert!(source_violations(&[&open], &app("https://anywhere/x")).is_empty());
    }

    #[test]
    fn objects_stay_in_the_apps_namespace_unless_others_are_listed() {
        let strict = policy(json!({"namespaces": ["*"]}));
        let app = app("https://github.com/acme/shop");
        let inside = object("", "ConfigMap", Some("team-a"));
        let outside = object("", "ConfigMap", Some("kube-system"));
        let refused = object_violations(&[&strict], &app, [&inside, &outside]);
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].starts_with("ConfigMap kube-system/x: namespace kube-system"),
            "{refused:?}"
        );
        let wider =
            policy(json!({"namespaces": ["*"], "destinationNamespaces": ["team-a", "team-a-*"]}));
        let preview = object("", "ConfigMap", Some("team-a-preview"));
        assert!(object_violations(&[&wider], &app, [&inside, &preview]).is_empty());
    }

    #[test]
    fn cluster_scoped_kinds_only_when_listed_and_denied_kinds_never() {
        let app = app("https://github.com/acme/shop");
        let binding = object("rbac.authorization.k8s.io", "ClusterRoleBinding", None);
        let namespace = object("", "Namespace", None);
        let strict = policy(json!({"namespaces": ["*"]}));
        assert_eq!(
            object_violations(&[&strict], &app, [&binding, &namespace]).len(),
            2
        );
        let namespaces_only = policy(
            json!({"namespaces": ["*"], "clusterResources": [{"group": "", "kind": "Namespace"}]}),
        );
        let refused = object_violations(&[&namespaces_only], &app, [&binding, &namespace]);
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("ClusterRoleBinding"), "{refused:?}");
        let no_roles = policy(
            json!({"namespaces": ["*"], "deniedResources": [{"group": "rbac.authorization.k8s.io", "kind": "*"}]}),
        );
        let role = object("rbac.authorization.k8s.io", "Role", Some("team-a"));
        assert_eq!(object_violations(&[&no_roles], &app, [&role]).len(), 1);
    }

    #[test]
    fn every_governing_policy_must_allow_what_goes_beyond_the_engine() {
        let open = policy(
            json!({"namespaces": ["*"], "allowRemoteBases": true, "allowExternalRenderers": true}),
        );
        let strict = policy(json!({"namespaces": ["*"]}));
        assert!(allows_remote_bases(&[&open]) && allows_external_renderers(&[&open]));
        assert!(!allows_remote_bases(&[&open, &strict]));
        assert!(!allows_external_renderers(&[&strict]));
        assert!(
            allows_remote_bases(&[]),
            "no policy: the controller's flags decide"
        );
    }

    #[test]
    fn api_roles_narrow_who_may_operate_and_count_only_in_admin_namespaces() {
        let admin = ["plumb-system".to_owned()];
        let with_roles = policy(json!({
            "namespaces": ["team-*"],
            "roles": [
                {"name": "deployers", "groups": ["team-a-deployers"], "actions": ["sync"]},
                {"name": "leads", "users": ["lead@*"], "actions": ["*"]},
            ],
        }));
        let permits = |policies: &[AppPolicy], user: &str, groups: &[&str], action| {
            let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
            api_permits(policies, &admin, "team-a", user, &groups, action)
        };
        let policies = [with_roles.clone()];
        assert!(permits(&policies, "bob", &["team-a-deployers"], ApiAction::Sync).is_ok());
        let refused = permits(&policies, "bob", &["team-a-deployers"], ApiAction::Rollback);
        assert_eq!(
            refused.unwrap_err(),
            "no role of AppPolicy plumb-system/teams lets bob roll back Applications of team-a"
        );
        assert!(permits(&policies, "lead@example.com", &[], ApiAction::Suspend).is_ok());
        assert!(permits(&policies, "eve", &["team-b"], ApiAction::Sync).is_err());

        // Without roles, or outside the admin namespaces, or governing another namespace:
        // RBAC alone decides.
        let without_roles = policy(json!({"namespaces": ["team-*"]}));
        assert!(permits(&[without_roles], "eve", &[], ApiAction::Rollback).is_ok());
        let mut planted = with_roles.clone();
        planted.metadata.namespace = Some("team-a".into());
        assert!(permits(&[planted], "eve", &[], ApiAction::Rollback).is_ok());
        let elsewhere = policy(json!({"namespaces": ["ops"], "roles": []}));
        assert!(permits(&[elsewhere], "eve", &[], ApiAction::Sync).is_ok());
        // An empty list of roles lets nobody operate through the API.
        let nobody = policy(json!({"namespaces": ["team-a"], "roles": []}));
        assert!(permits(&[nobody], "lead@example.com", &[], ApiAction::Sync).is_err());
    }

    #[test]
    fn a_governed_app_reaches_only_the_clusters_its_policies_list() {
        let mut remote = app("https://git.example.com/a/x");
        remote.spec.destination.cluster = Some("prod-eu".into());
        let unset = policy(json!({"namespaces": ["team-*"]}));
        let violations = source_violations(&[&unset], &remote);
        assert_eq!(
            violations,
            [
                "cluster prod-eu is not among the destinationClusters of AppPolicy plumb-system/teams"
            ]
        );
        let listed = policy(json!({"namespaces": ["team-*"], "destinationClusters": ["prod-*"]}));
        assert!(source_violations(&[&listed], &remote).is_empty());
        let local = app("https://git.example.com/a/x");
        assert!(source_violations(&[&unset], &local).is_empty());
        assert!(
            !source_violations(&[&listed], &local).is_empty(),
            "in-cluster is not listed"
        );
    }
}
