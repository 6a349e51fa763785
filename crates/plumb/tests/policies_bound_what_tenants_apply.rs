//! An operator bounds what a team's Applications may do with an AppPolicy in plumb's own
//! namespace: which repositories, which namespaces, which cluster-scoped kinds. A team app
//! that goes beyond it is refused before anything is written — not half-applied until the
//! API server says no — and says why; the team cannot loosen the rules with a policy of its
//! own.

mod support;

use serde_json::json;
use support::http::{free_address, request, until_ready};
use support::{World, alice, config_map, is, synced_at, text};

const ADMIN_NAMESPACE: &str = "plumb-system";

fn automated() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

/// Applies an AppPolicy named after the world's namespace in `namespace`.
fn apply_policy(world: &World, namespace: &str, spec: serde_json::Value) {
    let policy = json!({
        "apiVersion": "plumb.dev/v1alpha1",
        "kind": "AppPolicy",
        "metadata": {"name": format!("for-{}", world.namespace), "namespace": namespace},
        "spec": spec,
    });
    let path = world.dir.path().join(format!("policy-{namespace}.json"));
    std::fs::write(&path, policy.to_string()).unwrap();
    let applied = world.kubectl(&["apply", "-n", namespace, "-f", path.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));
}

const CLUSTER_ROLE_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
metadata:\n  name: team-takes-the-cluster\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n\
subjects:\n- kind: ServiceAccount\n  name: plumb\n  namespace: kube-system\n";

#[tokio::test]
async fn an_app_beyond_its_policy_is_refused_before_anything_is_written() {
    let elsewhere =
        config_map("planted", "1").replace("metadata:\n", "metadata:\n  namespace: kube-system\n");
    let mut world = World::new(
        "policy",
        &[
            ("app/settings.yaml", &config_map("settings", "1")),
            ("app/binding.yaml", CLUSTER_ROLE_BINDING),
            ("app/elsewhere.yaml", &elsewhere),
        ],
    )
    .await;
    let repo = world.repo.git_url.clone();
    apply_policy(
        &world,
        ADMIN_NAMESPACE,
        json!({"namespaces": [world.namespace], "sourceRepos": [repo]}),
    );
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;

    let app = world
        .until_app("web", "refused by policy", |a| {
            is(a, "Ready", "False", "PolicyViolation")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(
        message.contains("ClusterRoleBinding.rbac.authorization.k8s.io team-takes-the-cluster")
            && message.contains("ConfigMap kube-system/planted")
            && message.contains(&format!(
                "AppPolicy {ADMIN_NAMESPACE}/for-{}",
                world.namespace
            )),
        "{message}"
    );
    assert!(is(&app, "Stalled", "True", "PolicyViolation"));
    // Nothing was written, not even what the policy allows.
    assert!(
        world
            .config_maps()
            .get_opt("settings")
            .await
            .unwrap()
            .is_none()
    );
    let shown = world.plumb(&["get", "app", "web"]);
    assert!(text(&shown).contains("PolicyViolation"), "{}", text(&shown));

    // The team brings its repository within the policy; the app syncs.
    let fixed = world.commit(
        &[("app/binding.yaml", None), ("app/elsewhere.yaml", None)],
        "stay in our namespace",
        &alice(),
    );
    world.request_reconcile("web").await;
    world
        .until_app("web", "synced within the policy", |a| synced_at(a, &fixed))
        .await;
    world.until_config_map("settings", Some("1")).await;
}

#[tokio::test]
async fn a_repository_the_policy_does_not_list_is_refused() {
    let mut world = World::new("policy-repo", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    apply_policy(
        &world,
        ADMIN_NAMESPACE,
        json!({"namespaces": [world.namespace], "sourceRepos": ["https://github.com/acme/*"]}),
    );
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    let app = world
        .until_app("web", "refused by policy", |a| {
            is(a, "Ready", "False", "PolicyViolation")
        })
        .await;
    let message = &app.condition("Ready").unwrap().message;
    assert!(
        message.contains("is not among the sourceRepos"),
        "{message}"
    );
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_policy_the_team_writes_in_its_own_namespace_changes_nothing() {
    let mut world = World::new("policy-own", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    // Written where the team may write: it would deny ConfigMaps, were it to count.
    let namespace = world.namespace.clone();
    apply_policy(
        &world,
        &namespace,
        json!({"namespaces": [namespace], "deniedResources": [{"group": "", "kind": "ConfigMap"}]}),
    );
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    let v1 = world.repo.rev_parse("main").unwrap();
    world
        .until_app("web", "synced", |a| synced_at(a, &v1))
        .await;
    world.until_config_map("alpha", Some("1")).await;
}

/// Argo CD's project roles: an operator says who may operate a team's apps through plumb's
/// API and dashboard, on top of RBAC. Two ServiceAccounts RBAC lets patch the app: only the
/// one a role names may sync it, and only sync.
#[tokio::test]
async fn api_roles_let_only_the_named_deployer_sync_and_nobody_else_operate() {
    let mut world = World::new("roles", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let deployer = format!("system:serviceaccount:{}:deployer", world.namespace);
    apply_policy(
        &world,
        ADMIN_NAMESPACE,
        json!({"namespaces": [world.namespace], "roles": [
            {"name": "deployers", "users": [deployer], "actions": ["sync"]},
        ]}),
    );
    let address = free_address();
    let listen = address.to_string();
    world.start_controller(&["--listen", &listen]);
    until_ready(address).await;
    world.create_app("web", "app", automated()).await;
    world.until_config_map("alpha", Some("1")).await;
    let deployer = world.token_for("deployer", "get,patch").await;
    let intern = world.token_for("intern", "get,patch").await;
    let app = format!("/api/v1/applications/{}/web", world.namespace);
    let ask = |token: &str, operation: &str| {
        let auth = format!("Bearer {token}");
        let path = format!("{app}/{operation}");
        request(address, "POST", &path, &[("Authorization", &auth)], b"")
    };

    let refused = plumb_testkit::eventually("the policy read", support::PATIENCE, || async {
        let answer = ask(&intern, "sync");
        (answer.status != 503).then_some(answer)
    })
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains(&format!(
            "AppPolicy {ADMIN_NAMESPACE}/for-{}",
            world.namespace
        )),
        "{}",
        refused.body
    );
    for operation in ["suspend", "rollback"] {
        assert_eq!(ask(&deployer, operation).status, 403, "{operation}");
    }
    let shown = request(
        address,
        "GET",
        &app,
        &[("Authorization", &format!("Bearer {intern}"))],
        b"",
    );
    assert_eq!(
        shown.json()["permissions"]["operate"],
        false,
        "{}",
        shown.body
    );
    let app_now = world.apps().get("web").await.unwrap();
    assert!(!app_now.spec.suspend, "nothing was changed");

    // The permitted path: the deployer's sync is accepted.
    let accepted = ask(&deployer, "sync");
    assert_eq!(accepted.status, 202, "{}", accepted.body);
}
