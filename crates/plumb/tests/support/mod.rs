//! The world of a controller story: the shared control plane, a namespace of its own, a
//! git server with one repository and a checkout to commit from, and `plumb controller`
//! running as a process watching that namespace only.
//!
//! The controller runs as users run it: with the rights `plumb install --impersonation-only`
//! grants its ServiceAccount (a token of that account), and the namespace's Applications
//! act as a tenant's ServiceAccount. A story that needs the controller's broader rights
//! says so ([`World::controller_as_admin`]).
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses part of it"
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use plumb_controller::Application;
use plumb_testkit::process::Supervised;
use plumb_testkit::{Author, Cluster, GitServer, Repo, WorkTree, eventually};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

pub mod http;

/// Long enough for a loaded CI machine; stories normally finish in well under a second.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn alice() -> Author {
    Author::new("Alice Example", "alice@example.com")
}

pub fn bob() -> Author {
    Author::new("Bob Example", "bob@example.com")
}

pub struct World {
    pub cluster: &'static Cluster,
    pub namespace: String,
    pub client: kube::Client,
    pub git: GitServer,
    pub repo: Repo,
    pub tree: WorkTree,
    pub dir: tempfile::TempDir,
    /// The kubeconfig `plumb controller` runs with: the installed controller's account.
    pub controller_kubeconfig: PathBuf,
    controllers: Vec<Supervised>,
}

/// A token of the installed controller's ServiceAccount, once per test binary.
static INSTALLED: OnceCell<String> = OnceCell::const_new();

impl World {
    /// A world whose repository starts with `files`, committed by Alice.
    pub async fn new(hint: &str, files: &[(&str, &str)]) -> World {
        let cluster = Cluster::shared().await;
        let token = INSTALLED.get_or_init(|| install(cluster)).await;
        World::on(cluster, token, hint, files).await
    }

    /// A world on a control plane of its own, for stories that stop, restart or pause
    /// its parts; plumb is installed there as on the shared one.
    pub async fn with_own_control_plane(
        hint: &str,
        files: &[(&str, &str)],
    ) -> (World, plumb_testkit::ControlPlane) {
        let plane = plumb_testkit::ControlPlane::start().await.unwrap();
        // Worlds hold the cluster for the whole test, as they do the shared one.
        let cluster: &'static Cluster = Box::leak(Box::new(plane.cluster().clone()));
        let token = install(cluster).await;
        (World::on(cluster, &token, hint, files).await, plane)
    }

    async fn on(
        cluster: &'static Cluster,
        token: &str,
        hint: &str,
        files: &[(&str, &str)],
    ) -> World {
        let namespace = cluster.namespace(hint).await.unwrap();
        let git = GitServer::start().unwrap();
        let repo = git.create_repo("deploy").unwrap();
        let tree = repo.work_tree().unwrap();
        for (path, contents) in files {
            tree.write(path, contents).unwrap();
        }
        tree.commit("first version", &alice()).unwrap();
        tree.push().unwrap();
        tenant_service_account(cluster, &namespace);
        let dir = tempfile::tempdir().unwrap();
        let controller_kubeconfig = dir.path().join("controller.kubeconfig");
        std::fs::write(
            &controller_kubeconfig,
            kubeconfig_with_token(cluster, token),
        )
        .unwrap();
        World {
            client: cluster.client().await.unwrap(),
            cluster,
            namespace,
            git,
            repo,
            tree,
            dir,
            controller_kubeconfig,
            controllers: Vec::new(),
        }
    }

    /// Starts a controller (another replica, when one runs).
    pub fn start_controller(&mut self, extra: &[&str]) -> usize {
        let index = self.controllers.len();
        let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
        command
            .args(["controller", "--watch-namespace", &self.namespace])
            .arg("--kubeconfig")
            .arg(&self.controller_kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join(format!("cache-{index}")))
            .arg("--allow-local-repositories")
            .args(extra)
            .env("RUST_LOG", "info,plumb_controller=debug");
        if !extra.contains(&"--admin-namespace") {
            // Stories that keep the Lease and webhook Secret in their own namespace make it
            // the controller's; their Applications still act as the tenant they are.
            command.args(["--admin-namespace", "plumb-system"]);
        }
        if !extra.contains(&"--listen") {
            // Every replica serves; any free port, unless the test wants to reach it.
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let log = self.log(index);
        self.controllers
            .push(Supervised::spawn("plumb controller", command, &log).unwrap());
        index
    }

    /// Controllers started from now on run with the cluster administrator's kubeconfig, for
    /// stories of what only the controller's own broad rights allow.
    pub fn controller_as_admin(&mut self) {
        self.controller_kubeconfig = self.cluster.kubeconfig.clone();
    }

    /// Controllers started from now on reach the API server at `server` (a relay in front
    /// of it), with the same identity.
    pub fn controller_through(&mut self, server: &str) {
        let text = std::fs::read_to_string(&self.controller_kubeconfig).unwrap();
        let mut kubeconfig: Value = serde_json::from_str(&text).unwrap();
        kubeconfig["clusters"][0]["cluster"]["server"] = json!(server);
        let path = self.dir.path().join("relayed.kubeconfig");
        std::fs::write(&path, kubeconfig.to_string()).unwrap();
        self.controller_kubeconfig = path;
    }

    /// Kills a controller at once (SIGKILL to its group: a crash, not a shutdown).
    pub fn kill_controller(&mut self, index: usize) {
        let pid = self.controllers[index].pid();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        self.controllers[index].stop();
    }

    /// The process id of controller `index`.
    pub fn pid_of(&self, index: usize) -> u32 {
        self.controllers[index].pid()
    }

    pub fn log(&self, index: usize) -> PathBuf {
        self.dir.path().join(format!("controller-{index}.log"))
    }

    /// Every controller's log, for failure messages.
    pub fn logs(&self) -> String {
        (0..self.controllers.len())
            .map(|i| std::fs::read_to_string(self.log(i)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    }

    pub fn apps(&self) -> Api<Application> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn config_maps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates an Application for `path` of the repository with `spec` merged in.
    pub async fn create_app(&self, name: &str, path: &str, spec: Value) {
        let mut app = json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {
                "source": {"repoURL": self.repo.git_url, "revision": "main", "path": path},
                "syncPolicy": {"interval": "1h"},
            },
        });
        merge(&mut app["spec"], spec);
        let app: Application = serde_json::from_value(app).unwrap();
        self.apps()
            .create(&PostParams::default(), &app)
            .await
            .unwrap();
    }

    pub async fn patch_app(&self, name: &str, patch: Value) {
        self.apps()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Commits and pushes; returns the commit id.
    pub fn commit(&self, files: &[(&str, Option<&str>)], message: &str, author: &Author) -> String {
        for (path, contents) in files {
            match contents {
                Some(contents) => {
                    self.tree.write(path, contents).unwrap();
                }
                None => {
                    self.tree.remove(path).unwrap();
                }
            }
        }
        let commit = self.tree.commit(message, author).unwrap();
        self.tree.push().unwrap();
        commit
    }

    /// Asks for a reconcile now, as `plumb sync --no-wait` and webhooks do.
    pub async fn request_reconcile(&self, name: &str) {
        let now = format!("{:?}", std::time::SystemTime::now());
        self.patch_app(
            name,
            json!({"metadata": {"annotations": {"plumb.dev/reconcile-requested-at": now}}}),
        )
        .await;
    }

    /// Waits until `check` holds for the Application; returns it.
    pub async fn until_app(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&Application) -> bool,
    ) -> Application {
        let apps = self.apps();
        let logs = || self.logs();
        let result = tokio::time::timeout(
            PATIENCE,
            eventually(what, PATIENCE * 2, || async {
                let app = apps.get(name).await.ok()?;
                check(&app).then_some(app)
            }),
        )
        .await;
        match result {
            Ok(app) => app,
            Err(_) => {
                let app = apps.get(name).await.ok();
                panic!(
                    "timed out waiting for {name}: {what}\nstatus: {}\nlogs:\n{}",
                    serde_json::to_string_pretty(&app.and_then(|a| a.status)).unwrap(),
                    logs()
                )
            }
        }
    }

    /// Waits until the ConfigMap `name` has `data.value == value` (`None`: is absent).
    pub async fn until_config_map(&self, name: &str, value: Option<&str>) {
        let api = self.config_maps();
        let what = format!("ConfigMap {name} value {value:?}");
        let result = tokio::time::timeout(
            PATIENCE,
            eventually(&what, PATIENCE * 2, || async {
                let found = api.get_opt(name).await.ok()?;
                let current = found
                    .as_ref()
                    .and_then(|cm| cm.data.as_ref())
                    .and_then(|d| d.get("value"))
                    .cloned();
                let done = match value {
                    Some(value) => current.as_deref() == Some(value),
                    None => found.is_none(),
                };
                done.then_some(())
            }),
        )
        .await;
        assert!(
            result.is_ok(),
            "timed out waiting for {what}\nlogs:\n{}",
            self.logs()
        );
    }

    /// Marks a Pod Running and Ready, as a kubelet would (the test cluster has none).
    pub async fn make_pod_ready(&self, name: &str) {
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client.clone(), &self.namespace);
        let now = "2026-01-01T00:00:00Z";
        let status = json!({"status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now},
                           {"type": "ContainersReady", "status": "True", "lastTransitionTime": now}],
            "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "image": "busybox",
                                   "imageID": "", "started": true, "state": {"running": {"startedAt": now}}}],
        }});
        pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }

    pub fn kubectl(&self, args: &[&str]) -> std::process::Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.cluster.kubeconfig)
            .args(["-n", &self.namespace])
            .args(args)
            .output()
            .unwrap()
    }

    /// A ServiceAccount bound to `verbs` on Applications in the world's namespace, and a
    /// token for it from the TokenRequest API (`kubectl create token`), which every
    /// supported release serves — 1.24 and later make no token Secrets by themselves.
    pub async fn token_for(&self, name: &str, verbs: &str) -> String {
        self.account(
            name,
            &[
                &format!("--verb={verbs}"),
                "--resource=applications.plumb.dev",
            ],
        );
        self.token(name)
    }

    /// A ServiceAccount of this world's namespace that may manage ConfigMaps there and
    /// nothing else (no Secrets, nothing cluster-wide): an Application naming it can change
    /// only that.
    pub fn config_map_account(&self, name: &str) {
        self.account(
            name,
            &[
                "--verb=get,list,watch,create,update,patch,delete",
                "--resource=configmaps",
            ],
        );
    }

    /// A ServiceAccount `name` of this world's namespace, bound to a Role of its own whose
    /// one rule is `rule` (`kubectl create role` flags: `--verb=…`, `--resource=…`).
    pub fn account(&self, name: &str, rule: &[&str]) {
        let account = format!("--serviceaccount={}:{name}", self.namespace);
        let role: Vec<&str> = ["create", "role", name]
            .into_iter()
            .chain(rule.iter().copied())
            .collect();
        for args in [
            vec!["create", "serviceaccount", name],
            role,
            vec![
                "create",
                "rolebinding",
                name,
                &format!("--role={name}"),
                &account,
            ],
        ] {
            let out = self.kubectl(&args);
            assert!(out.status.success(), "{}", text(&out));
        }
    }

    /// A token of ServiceAccount `name` (TokenRequest, one hour).
    pub fn token(&self, name: &str) -> String {
        let out = self.kubectl(&[
            "create",
            "token",
            name,
            "--audience",
            "plumb",
            "--duration=1h",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Runs the plumb CLI in this world's namespace.
    pub fn plumb(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_plumb"))
            .args(args)
            .args(["-n", &self.namespace])
            .env("KUBECONFIG", &self.cluster.kubeconfig)
            .output()
            .unwrap()
    }
}

/// Installs plumb as `plumb install --impersonation-only` does (no controller replicas: the
/// stories run their own) and returns a token of the controller's ServiceAccount.
async fn install(cluster: &Cluster) -> String {
    let output = plumb(
        cluster,
        &[
            "install",
            "--impersonation-only",
            "--replicas",
            "0",
            "--apply",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["-n", "plumb-system", "create", "token", "plumb-controller"])
        .arg("--duration=6h")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A kubeconfig for the test control plane acting with `token`.
fn kubeconfig_with_token(cluster: &Cluster, token: &str) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "plumb-test", "cluster": {
            "server": cluster.server,
            "certificate-authority": cluster.ca_file,
        }}],
        "users": [{"name": "controller", "user": {"token": token}}],
        "contexts": [{"name": "controller", "context": {"cluster": "plumb-test", "user": "controller"}}],
        "current-context": "controller",
    })
    .to_string()
}

/// The account a team's Applications act as when they name none (`plumb`, the
/// controller's `--default-service-account`), with the rights a team has in its own
/// namespace (ClusterRole `admin`) and none outside it: every story runs as a tenant.
fn tenant_service_account(cluster: &Cluster, namespace: &str) {
    for args in [
        vec!["create", "serviceaccount", "plumb"],
        vec![
            "create",
            "rolebinding",
            "plumb-tenant",
            "--clusterrole=admin",
            &format!("--serviceaccount={namespace}:plumb"),
        ],
        // Stories that elect a leader keep its Lease here, as an operator choosing another
        // Lease namespace grants the controller (install grants it in plumb-system).
        vec![
            "create",
            "role",
            "plumb-leader-election",
            "--verb=get,create,update",
            "--resource=leases.coordination.k8s.io",
        ],
        vec![
            "create",
            "rolebinding",
            "plumb-leader-election",
            "--role=plumb-leader-election",
            "--serviceaccount=plumb-system:plumb-controller",
        ],
        // ...and the Secret of Helm's random key, which a controller makes in its own
        // namespace on first start (install grants it in plumb-system).
        vec![
            "create",
            "role",
            "plumb-random-key",
            "--verb=create",
            "--resource=secrets",
        ],
        vec![
            "create",
            "rolebinding",
            "plumb-random-key",
            "--role=plumb-random-key",
            "--serviceaccount=plumb-system:plumb-controller",
        ],
    ] {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(["-n", namespace])
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
}

pub fn plumb(cluster: &Cluster, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .unwrap()
}

pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A Pod in wave 0: without a kubelet it stays Pending, so a sync waits on its health
/// until the test makes it ready ([`World::make_pod_ready`]).
pub const GATE: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: gate\n  annotations: {plumb.dev/sync-wave: \"0\"}\n\
spec:\n  containers:\n  - {name: main, image: busybox}\n";

/// `manifest` (whose `metadata:` has no annotations yet) in sync wave 1.
pub fn in_wave_1(manifest: &str) -> String {
    manifest.replace(
        "metadata:\n",
        "metadata:\n  annotations: {plumb.dev/sync-wave: \"1\"}\n",
    )
}

pub fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"
    )
}

pub fn condition<'a>(
    app: &'a Application,
    type_: &str,
) -> Option<&'a plumb_controller::application::Condition> {
    app.condition(type_)
}

pub fn is(app: &Application, type_: &str, status: &str, reason: &str) -> bool {
    app.condition(type_)
        .is_some_and(|c| c.status == status && (reason.is_empty() || c.reason == reason))
}

pub fn synced_at(app: &Application, commit: &str) -> bool {
    app.status.as_ref().is_some_and(|s| {
        s.sync.status == "Synced" && s.sync.last_applied_revision.as_deref() == Some(commit)
    })
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}
