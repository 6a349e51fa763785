//! `plumb app create`: an Application from flags, as `argocd app create` and `flux create
//! kustomization` make one, so a first app needs no hand-written YAML. `--dry-run` prints
//! the manifest to commit instead (the GitOps way to keep Applications themselves in Git).

use std::process::ExitCode;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use plumb_controller::Application;
use plumb_controller::application::PRUNE_ON_DELETE;
use serde_json::{Value, json};

use crate::cli::{CreateAppArgs, Format};
use crate::commands::connect;
use crate::output;

pub(crate) async fn run(args: &CreateAppArgs) -> anyhow::Result<ExitCode> {
    if args.dry_run {
        // No cluster needed: the namespace is the one given, or left for `kubectl apply -n`.
        let manifest = manifest(args, args.target.namespace.as_deref());
        let format = if args.output == Format::Human {
            Format::Yaml
        } else {
            args.output
        };
        typed(&manifest)?;
        output::machine(&manifest, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (client, namespace) = connect(&args.target).await?;
    let app = typed(&manifest(args, Some(&namespace)))?;
    let api: Api<Application> = Api::namespaced(client.clone(), &namespace);
    let created = match api.create(&PostParams::default(), &app).await {
        Ok(created) => created,
        Err(kube::Error::Api(status)) if status.code == 409 => anyhow::bail!(
            "Application {namespace}/{} already exists; change it with `kubectl -n {namespace} edit application {}`, or delete it first (`plumb app delete {}`)",
            args.name,
            args.name,
            args.name
        ),
        Err(err) => {
            return Err(err)
                .with_context(|| format!("cannot create Application {namespace}/{}", args.name));
        }
    };
    if args.output != Format::Human {
        output::machine(&created, args.output)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "application {namespace}/{} created: {}",
        args.name,
        describe(args)
    ));
    if let Some(missing) = missing_account(&client, &namespace, args).await {
        output::warn(&missing);
    }
    output::line(&format!(
        "follow its first sync with `plumb sync {} -n {namespace}`",
        args.name
    ));
    Ok(ExitCode::SUCCESS)
}

/// The Application the flags describe, as its YAML would be written by hand: only what
/// was asked for, the CRD's defaults left to the CRD.
fn manifest(args: &CreateAppArgs, namespace: Option<&str>) -> Value {
    let mut metadata = json!({"name": args.name});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    if args.prune_on_delete {
        metadata["finalizers"] = json!([PRUNE_ON_DELETE]);
    }
    let mut source = json!({"repoURL": args.repo, "path": args.path});
    if !args.revision.is_empty() {
        source["revision"] = json!(args.revision);
    }
    if let Some(secret) = &args.repo_secret {
        source["secretRef"] = json!({"name": secret});
    }
    if let Some(secret) = &args.sops_secret {
        source["decryption"] = json!({"provider": "sops", "secretRef": {"name": secret}});
    }
    let mut spec = json!({"source": source});
    let mut destination = json!({});
    if let Some(cluster) = &args.dest_cluster {
        destination["cluster"] = json!(cluster);
    }
    if let Some(namespace) = &args.dest_namespace {
        destination["namespace"] = json!(namespace);
    }
    if let Some(account) = &args.service_account {
        destination["serviceAccountName"] = json!(account);
    }
    if destination != json!({}) {
        spec["destination"] = destination;
    }
    let mut policy = json!({});
    if args.auto_sync {
        policy["automated"] = json!({"prune": args.prune, "selfHeal": args.self_heal});
    }
    if let Some(interval) = &args.interval {
        policy["interval"] = json!(interval);
    }
    if args.create_namespace {
        policy["createNamespace"] = json!(true);
    }
    if policy != json!({}) {
        spec["syncPolicy"] = policy;
    }
    if !args.depends_on.is_empty() {
        spec["dependsOn"] = args
            .depends_on
            .iter()
            .map(|name| json!({"name": name}))
            .collect();
    }
    json!({
        "apiVersion": "plumb.dev/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    })
}

/// The manifest read as the CRD's type: what the API server would accept.
fn typed(manifest: &Value) -> anyhow::Result<Application> {
    serde_json::from_value(manifest.clone()).context("the flags make no valid Application")
}

/// How it will behave, in a few words.
fn describe(args: &CreateAppArgs) -> String {
    let mut words = vec![if args.auto_sync {
        "applies each new commit".to_owned()
    } else {
        "compared with Git; applied by `plumb sync`".to_owned()
    }];
    if args.prune {
        words.push("prunes".into());
    }
    if args.self_heal {
        words.push("self-heals".into());
    }
    words.push(format!(
        "acts as ServiceAccount {}",
        args.service_account
            .as_deref()
            .unwrap_or("plumb (the default)")
    ));
    words.join(", ")
}

/// A warning when the account the app would act as is missing (a read the user may not be
/// allowed is no warning). Apps in the controller's admin namespaces need none when they
/// name none — the CLI cannot know those, so it says so.
async fn missing_account(
    client: &kube::Client,
    namespace: &str,
    args: &CreateAppArgs,
) -> Option<String> {
    let name = args.service_account.as_deref().unwrap_or("plumb");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    match accounts.get_opt(name).await {
        Ok(None) if args.service_account.is_some() => Some(format!(
            "ServiceAccount {namespace}/{name} does not exist: the app is refused until it does \
             (kubectl -n {namespace} create serviceaccount {name}, and bind it to what the app may change)"
        )),
        Ok(None) => Some(format!(
            "ServiceAccount {namespace}/plumb does not exist: unless {namespace} is an admin namespace \
             of the controller, the app is refused until it does (kubectl -n {namespace} create \
             serviceaccount plumb; kubectl -n {namespace} create rolebinding plumb \
             --clusterrole=admin --serviceaccount={namespace}:plumb)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{AppCommand, Cli, Command};

    fn args(line: &[&str]) -> CreateAppArgs {
        let cli = Cli::try_parse_from(
            ["plumb", "app", "create"]
                .iter()
                .chain(line)
                .copied()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let Command::App(AppCommand::Create(args)) = cli.command else {
            panic!("app create");
        };
        *args
    }

    #[test]
    fn the_flags_make_only_the_fields_asked_for() {
        let args = args(&[
            "web",
            "--repo",
            "https://git.example.com/deploy.git",
            "--path",
            "envs/prod",
        ]);
        assert_eq!(
            manifest(&args, Some("team-a")),
            json!({
                "apiVersion": "plumb.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": "web", "namespace": "team-a"},
                "spec": {"source": {"repoURL": "https://git.example.com/deploy.git", "path": "envs/prod"}},
            })
        );
    }

    #[test]
    fn every_flag_lands_where_the_crd_reads_it() {
        let args = args(&[
            "web",
            "--repo",
            "ssh://git@host/deploy.git",
            "--path",
            "envs/prod",
            "--revision",
            "v1.2.0",
            "--dest-namespace",
            "web",
            "--service-account",
            "deployer",
            "--auto-sync",
            "--prune",
            "--self-heal",
            "--interval",
            "1m",
            "--repo-secret",
            "creds",
            "--sops-secret",
            "age",
            "--depends-on",
            "infra",
            "--prune-on-delete",
            "--create-namespace",
        ]);
        let app = typed(&manifest(&args, Some("team-a"))).unwrap();
        assert_eq!(app.spec.source.revision, "v1.2.0");
        assert_eq!(app.spec.source.secret_ref.unwrap().name, "creds");
        assert_eq!(app.spec.source.decryption.unwrap().secret_ref.name, "age");
        assert_eq!(app.spec.destination.namespace.as_deref(), Some("web"));
        assert_eq!(
            app.spec.destination.service_account_name.as_deref(),
            Some("deployer")
        );
        let automated = app.spec.sync_policy.automated.unwrap();
        assert!(automated.prune && automated.self_heal);
        assert_eq!(app.spec.sync_policy.interval, "1m");
        assert!(app.spec.sync_policy.create_namespace);
        assert_eq!(app.spec.depends_on[0].name, "infra");
        assert!(
            app.metadata
                .finalizers
                .unwrap()
                .contains(&PRUNE_ON_DELETE.to_owned())
        );
    }

    #[test]
    fn prune_and_self_heal_need_auto_sync_and_intervals_are_checked() {
        let refused = |line: &[&str]| {
            Cli::try_parse_from(
                [
                    "plumb", "app", "create", "web", "--repo", "r", "--path", "p",
                ]
                .iter()
                .chain(line)
                .copied()
                .collect::<Vec<_>>(),
            )
            .is_err()
        };
        assert!(refused(&["--prune"]));
        assert!(refused(&["--self-heal"]));
        assert!(refused(&["--interval", "soon"]));
        assert!(!refused(&[
            "--auto-sync",
            "--auto-prune",
            "--interval",
            "1h30m"
        ]));
    }
}
