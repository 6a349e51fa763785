//! The everyday shape of a cluster: one Application installs CustomResourceDefinitions
//! (cert-manager's, an operator's), others create objects of those kinds. An app that
//! tried before the CRDs existed recovers on its own once they do — no restart, no manual
//! sync — whatever identity it acts as.

mod support;

use serde_json::json;
use support::{World, is};

/// A repository with a CRD (`crds/`) and an object of its kind (`gadgets/`); a world whose
/// namespace is the operators' (its apps act as the controller unless they name an
/// account) and whose ServiceAccount `team` may manage Gadgets only.
async fn gadgets_world(hint: &str) -> World {
    let group = format!("{hint}-{}.example.com", std::process::id());
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
         metadata: {{name: gadgets.{group}}}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n\
         \x20 names: {{plural: gadgets, singular: gadget, kind: Gadget}}\n\
         \x20 versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: \
         {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}]\n"
    );
    let gadget =
        format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g}}\nspec: {{size: 3}}\n");
    let mut world = World::new(
        hint,
        &[("crds/gadgets.yaml", &crd), ("gadgets/g.yaml", &gadget)],
    )
    .await;
    let ns = world.namespace.clone();
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "gadgets", "namespace": ns},
        "rules": [{"apiGroups": [group], "resources": ["gadgets"], "verbs": ["*"]}],
    });
    let roles: kube::Api<k8s_openapi::api::rbac::v1::Role> =
        kube::Api::namespaced(world.client.clone(), &ns);
    roles
        .create(&Default::default(), &serde_json::from_value(role).unwrap())
        .await
        .unwrap();
    for args in [
        vec!["create", "serviceaccount", "team"],
        vec![
            "create",
            "rolebinding",
            "team-gadgets",
            "--role=gadgets",
            &format!("--serviceaccount={ns}:team"),
        ],
    ] {
        let out = world.kubectl(&args);
        assert!(out.status.success(), "{}", support::text(&out));
    }
    world.controller_as_admin();
    world.start_controller(&["--admin-namespace", &ns]);
    world
}

fn automated() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}}})
}

/// The team's app, acting as `team`, tried before the CRD existed and failed.
#[tokio::test]
async fn an_app_whose_kinds_another_app_installs_recovers_by_itself() {
    let world = gadgets_world("crds-later").await;
    let mut team = automated();
    team["destination"] = json!({"serviceAccountName": "team"});
    world.create_app("gadgets", "gadgets", team).await;
    world
        .until_app("gadgets", "the kind reported as not served", |a| {
            a.condition("Ready")
                .is_some_and(|c| c.status == "False" && c.message.contains("does not serve"))
        })
        .await;

    world.create_app("crds", "crds", automated()).await;
    world
        .until_app("crds", "the CRD synced", |a| is(a, "Ready", "True", ""))
        .await;
    world
        .until_app("gadgets", "the Gadget synced", |a| {
            is(a, "Ready", "True", "")
        })
        .await;
}

/// From a cold start, both at once: B `dependsOn` A, A installs the CRD, B creates a Gadget.
#[tokio::test]
async fn an_app_that_depends_on_its_crds_app_converges_right_after_it() {
    let world = gadgets_world("crds-depends").await;
    let mut team = automated();
    team["destination"] = json!({"serviceAccountName": "team"});
    team["dependsOn"] = json!([{"name": "crds"}]);
    world.create_app("gadgets", "gadgets", team).await;
    world.create_app("crds", "crds", automated()).await;
    let crds = world
        .until_app("crds", "the CRD synced", |a| is(a, "Ready", "True", ""))
        .await;
    let gadgets = world
        .until_app("gadgets", "the Gadget synced", |a| {
            is(a, "Ready", "True", "")
        })
        .await;
    let synced_at = |app: &plumb_controller::Application| {
        app.status.as_ref().unwrap().history[0].finished_at.clone()
    };
    // Reported, not asserted (timings are for benchmarks): how long B trailed A.
    println!(
        "A synced at {}, B at {}",
        synced_at(&crds),
        synced_at(&gadgets)
    );
}
