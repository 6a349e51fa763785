//! Reading and steering Applications: `get`, `app create|delete`, `sync`, `history`,
//! `rollback`, `suspend`, `resume`.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::push::Target;
use super::{Format, parse_duration, parse_interval};

#[derive(Debug, Subcommand)]
pub(crate) enum GetCommand {
    /// Applications with sync status, health, revision and last sync.
    Apps(ListArgs),
    /// One Application: resources, health, last sync, drift.
    App(GetAppArgs),
    /// The clusters Applications apply to: reachable, version, apps, last contact.
    Clusters(ClustersArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ClustersArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// The controller's namespace, where it keeps the clusters' state.
    #[arg(long, default_value = "plumb-system")]
    pub(crate) controller_namespace: String,
}

#[derive(Debug, Args)]
pub(crate) struct GetAppArgs {
    #[command(flatten)]
    pub(crate) app: AppArgs,
    /// After printing it, print its row again each time its sync status, health, revision or
    /// Ready condition changes, until interrupted (as `kubectl get -w`).
    #[arg(short, long)]
    pub(crate) watch: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// All namespaces.
    #[arg(short = 'A', long)]
    pub(crate) all_namespaces: bool,
    /// After the table, print a row each time an Application's sync status, health,
    /// revision or Ready condition changes, until interrupted (as `kubectl get -w`).
    #[arg(short, long)]
    pub(crate) watch: bool,
    #[command(flatten)]
    pub(crate) output: ReadOutput,
}

#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    /// The Application's name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) output: ReadOutput,
}

/// The `-o` of the commands that read Applications (`get`, `history`).
#[derive(Clone, Copy, Debug, Args)]
pub(crate) struct ReadOutput {
    /// Output format: human (tables), wide (tables with more columns), json or yaml (the
    /// objects as the API returns them).
    #[arg(short, long, value_enum, default_value_t = ReadFormat::Human)]
    pub(crate) output: ReadFormat,
}

/// How a read command prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReadFormat {
    Human,
    Wide,
    Json,
    Yaml,
}

impl ReadOutput {
    /// The machine format asked for, if any (json or yaml).
    pub(crate) fn machine(self) -> Option<Format> {
        match self.output {
            ReadFormat::Human | ReadFormat::Wide => None,
            ReadFormat::Json => Some(Format::Json),
            ReadFormat::Yaml => Some(Format::Yaml),
        }
    }

    /// Whether tables get their extra columns.
    pub(crate) fn wide(self) -> bool {
        self.output == ReadFormat::Wide
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Create an Application: a path of a Git repository the controller keeps applied.
    ///
    /// Without --auto-sync it is only compared with Git (and applied by `plumb sync`).
    Create(Box<CreateAppArgs>),
    /// Delete an Application; its objects stay unless --cascade.
    Delete(DeleteAppArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateAppArgs {
    /// The Application's name.
    pub(crate) name: String,
    /// The Git repository (https://, ssh://, git@host:path, git://).
    #[arg(long = "repo", value_name = "URL")]
    pub(crate) repo: String,
    /// The directory in the repository to apply (a kustomization or plain manifests).
    #[arg(long)]
    pub(crate) path: String,
    /// Branch, tag, commit or semver range over tags (default: the remote's HEAD).
    #[arg(long, default_value = "")]
    pub(crate) revision: String,
    /// Namespace for objects that name none (default: the Application's namespace).
    #[arg(long, value_name = "NAMESPACE")]
    pub(crate) dest_namespace: Option<String>,
    /// The cluster to apply to: one registered in the controller's namespace (a Secret
    /// labelled plumb.dev/cluster); default: the controller's own.
    #[arg(long, value_name = "CLUSTER")]
    pub(crate) dest_cluster: Option<String>,
    /// The ServiceAccount of the Application's namespace it acts as (default: the
    /// controller's --default-service-account, `plumb`).
    #[arg(long, value_name = "NAME")]
    pub(crate) service_account: Option<String>,
    /// Apply every new commit by itself (else only `plumb sync` applies).
    #[arg(long)]
    pub(crate) auto_sync: bool,
    /// With --auto-sync: delete objects that left Git.
    #[arg(long, alias = "auto-prune", requires = "auto_sync")]
    pub(crate) prune: bool,
    /// With --auto-sync: revert changes made in the cluster by hand.
    #[arg(long, requires = "auto_sync")]
    pub(crate) self_heal: bool,
    /// How often to ask Git for a new commit (webhooks make it sooner), e.g. 1m, 5m.
    #[arg(long, value_parser = parse_interval)]
    pub(crate) interval: Option<String>,
    /// A Secret of the namespace with the repository's credentials (username/password,
    /// token, or identity and known_hosts).
    #[arg(long, value_name = "SECRET")]
    pub(crate) repo_secret: Option<String>,
    /// A Secret of the namespace with age keys (`*.agekey`) to decrypt SOPS files.
    #[arg(long, value_name = "SECRET")]
    pub(crate) sops_secret: Option<String>,
    /// An Application of the namespace that must be Healthy first (repeatable).
    #[arg(long, value_name = "APP")]
    pub(crate) depends_on: Vec<String>,
    /// When the Application is deleted, delete its objects too (a finalizer).
    #[arg(long)]
    pub(crate) prune_on_delete: bool,
    /// Create the namespaces the app's objects go in when they are missing (as Argo CD's
    /// CreateNamespace=true); they are never deleted with the app.
    #[arg(long)]
    pub(crate) create_namespace: bool,
    /// Print the Application instead of creating it (as YAML unless -o json).
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) target: Target,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub(crate) output: Format,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteAppArgs {
    /// The Application's name.
    pub(crate) name: String,
    /// Delete its objects too, then the Application (waits until they are gone).
    #[arg(long)]
    pub(crate) cascade: bool,
    /// How long to wait for a cascading delete.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    #[command(flatten)]
    pub(crate) target: Target,
}

#[derive(Debug, Args)]
pub(crate) struct SyncAppArgs {
    #[command(flatten)]
    pub(crate) app: AppArgs,
    /// Return once the request is made, without following it.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// How long to follow it.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
}

#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) app: AppArgs,
    /// A history id (`plumb history`) or a commit id; omit with --unpin.
    #[arg(required_unless_present = "unpin")]
    pub(crate) revision: Option<String>,
    /// Return to the revision followed before the rollback, and resume automation.
    #[arg(long, conflicts_with = "revision")]
    pub(crate) unpin: bool,
}
