//! Teams share a cluster: a tenant who may create Applications in their own namespace
//! gains nothing there they could not do with their own rights. Each story is an attack
//! that fails with nothing applied or read, beside the permitted path that still works.
//!
//! Every World's namespace has the account its Applications act as by default (`plumb`,
//! bound to ClusterRole `admin` in that namespace only: what a team has), and the
//! controller runs with the rights `plumb install --impersonation-only` grants it.

mod support;

use serde_json::json;
use support::{World, config_map, is, text};

fn automated() -> serde_json::Value {
    json!({"syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}})
}

fn ready_message(app: &plumb_controller::Application) -> String {
    app.condition("Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// Critical finding C1: an Application that names no ServiceAccount acted as the
/// controller, so its author was cluster-admin.
#[tokio::test]
async fn a_tenant_cannot_make_itself_cluster_admin_or_write_outside_its_namespace() {
    let escalation = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
        metadata: {name: plumb-test-takeover}\n\
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
        subjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]\n";
    let elsewhere = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plumb-test-planted, namespace: default}\ndata: {x: \"1\"}\n";
    let mut world = World::new(
        "takeover",
        &[
            ("app/own.yaml", &config_map("own", "1")),
            ("app/escalation.yaml", escalation),
            ("app/elsewhere.yaml", elsewhere),
        ],
    )
    .await;
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;

    let app = world
        .until_app("web", "the sync refused", |a| {
            !is(a, "Ready", "True", "") && ready_message(a).contains("forbidden")
        })
        .await;
    let account = format!("system:serviceaccount:{}:plumb", world.namespace);
    assert!(
        ready_message(&app).contains(&account),
        "{}",
        ready_message(&app)
    );
    // Nothing of the sync was applied: not the takeover, not the planted object, not even
    // the object the tenant may write (every object is dry-run before the first write).
    let binding = world.kubectl(&["get", "clusterrolebinding", "plumb-test-takeover"]);
    assert!(!binding.status.success(), "{}", text(&binding));
    let planted = world.kubectl(&["-n", "default", "get", "configmap", "plumb-test-planted"]);
    assert!(!planted.status.success(), "{}", text(&planted));
    assert!(world.config_maps().get_opt("own").await.unwrap().is_none());

    // The permitted path: the same app without what its account may not do syncs.
    world.commit(
        &[("app/escalation.yaml", None), ("app/elsewhere.yaml", None)],
        "only our own namespace",
        &support::alice(),
    );
    world.request_reconcile("web").await;
    world.until_config_map("own", Some("1")).await;
}

/// High finding H2: the Secrets an Application names were read with the controller's
/// rights, so a tenant could send any password of the namespace to a host of their choice.
#[tokio::test]
async fn a_tenant_cannot_use_a_secret_its_account_may_not_read() {
    let mut world = World::new("secrets", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let secret = world.kubectl(&[
        "create",
        "secret",
        "generic",
        "database",
        "--from-literal=password=hunter2",
    ]);
    assert!(secret.status.success(), "{}", text(&secret));
    world.config_map_account("deployer");
    world.start_controller(&[]);
    let mut spec = automated();
    spec["destination"] = json!({"serviceAccountName": "deployer"});
    spec["source"] = json!({"secretRef": {"name": "database"}});
    world.create_app("web", "app", spec).await;

    let app = world
        .until_app("web", "the Secret refused", |a| {
            ready_message(a).contains("database") && !is(a, "Ready", "True", "")
        })
        .await;
    let message = ready_message(&app);
    assert!(message.contains("forbidden"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_none()
    );
}

/// The operators' own namespace keeps working as before: its Applications act as the
/// controller and may manage cluster-scoped objects.
#[tokio::test]
async fn an_operators_app_in_an_admin_namespace_acts_as_the_controller() {
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: plumb-test-operators\nrules: []\n";
    let mut world = World::new("operators", &[("app/role.yaml", role)]).await;
    let ns = world.namespace.clone();
    world.controller_as_admin();
    world.start_controller(&["--admin-namespace", &ns]);
    world.create_app("infra", "app", automated()).await;
    world
        .until_app("infra", "synced", |a| is(a, "Ready", "True", ""))
        .await;
    let out = world.kubectl(&["get", "clusterrole", "plumb-test-operators"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Medium finding M6: a `repoURL` could name any host, port and transport, so whoever
/// writes one made the controller connect where they liked, and fetch manifests over a
/// network anyone could tamper with.
#[tokio::test]
async fn a_repository_beyond_the_operators_hosts_or_in_plain_text_is_refused_unfetched() {
    let mut world = World::new("hosts", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    let cache = world.dir.path().join("cache-0");
    world.start_controller(&["--allowed-source-hosts", "git.example.com,*.corp.example"]);
    world.create_app("web", "app", automated()).await;
    world
        .create_app(
            "plain",
            "app",
            json!({"source": {"repoURL": "git://git.example.com/shop.git"}}),
        )
        .await;

    let web = world
        .until_app("web", "a host off the list refused", |a| {
            ready_message(a).contains("--allowed-source-hosts")
        })
        .await;
    assert!(!is(&web, "Ready", "True", ""), "{}", ready_message(&web));
    let plain = world
        .until_app("plain", "plain text refused", |a| {
            ready_message(a).contains("--allow-plain-text-sources")
        })
        .await;
    assert!(!is(&plain, "Ready", "True", ""));
    assert!(
        world
            .config_maps()
            .get_opt("alpha")
            .await
            .unwrap()
            .is_none()
    );
    let fetched = std::fs::read_dir(cache.join("repos"))
        .map(|entries| entries.flatten().any(|e| e.path().join("git").exists()))
        .unwrap_or(false);
    assert!(!fetched, "nothing was fetched into {}", cache.display());

    // The permitted path: the operator lists the host, and the app syncs.
    world.kill_controller(0);
    world.start_controller(&["--allowed-source-hosts", "git.example.com,127.0.0.1"]);
    world.request_reconcile("web").await;
    world.until_config_map("alpha", Some("1")).await;
}

/// Low finding L4: the status listed every object, so an app of many thousands made its
/// own status too large to write. It now lists at most 2,000 (what needs attention first)
/// and counts the rest, and the app syncs and reports as any other.
#[tokio::test]
async fn an_app_of_thousands_of_objects_keeps_its_status_within_bounds() {
    let objects = plumb_controller::application::RESOURCES_LIMIT + 100;
    let manifests: String = (0..objects)
        .map(|i| format!("---\n{}", config_map(&format!("cm-{i:05}"), "1")))
        .collect();
    let mut world = World::new("huge", &[("app/all.yaml", &manifests)]).await;
    world.start_controller(&[]);
    world.create_app("web", "app", automated()).await;
    // Thousands of first applies take a while on a loaded machine: more patience than
    // the other stories need.
    let apps = world.apps();
    let app = plumb_testkit::eventually(
        "synced with a bounded status",
        std::time::Duration::from_secs(300),
        || async {
            let app = apps.get("web").await.ok()?;
            (is(&app, "Ready", "True", "")
                && app
                    .status
                    .as_ref()
                    .is_some_and(|s| s.resources_omitted.is_some()))
            .then_some(app)
        },
    )
    .await;
    let status = app.status.unwrap();
    assert_eq!(
        status.resources.len(),
        plumb_controller::application::RESOURCES_LIMIT
    );
    assert_eq!(status.resources_omitted, Some(100));
    world
        .until_config_map(&format!("cm-{:05}", objects - 1), Some("1"))
        .await;
}
