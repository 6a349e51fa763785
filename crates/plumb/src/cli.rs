//! The command line: every command and flag, parsed without side effects.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// GitOps for Kubernetes: Git is the source of truth, plumb keeps the cluster matching it.
#[derive(Debug, Parser)]
#[command(name = "plumb", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Render a directory of manifests into the objects plumb would apply, as YAML.
    ///
    /// Secret values are masked unless --show-secrets is given.
    Render(RenderArgs),
    /// Show what applying a directory would change in the cluster.
    ///
    /// Exit code 0: in sync; 1: differences; 2: error (as `kubectl diff`).
    Diff(SyncArgs),
    /// Apply a directory to the cluster (push mode: for bootstrap and local use).
    Apply(ApplyArgs),
    /// Encrypt or decrypt files with SOPS and age, compatible with the `sops` tool.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Run the GitOps controller: keep every Application applied (in or out of cluster).
    Controller(ControllerArgs),
    /// Print (or apply) the CRD, RBAC and Deployment that run plumb in a cluster.
    Install(InstallArgs),
    /// Remove what `plumb install --apply` made; Applications (and their CRDs and the
    /// install namespace) stay unless --delete-applications.
    Uninstall(UninstallArgs),
    /// List Applications, or show one with its resources, health, last sync and drift.
    #[command(subcommand)]
    Get(GetCommand),
    /// Create or delete an Application (as `argocd app create` / `flux create kustomization`).
    #[command(subcommand)]
    App(AppCommand),
    /// Ask the controller to sync an Application now, and follow it until done.
    Sync(SyncAppArgs),
    /// The sync history of an Application: revision, author, message, result.
    History(AppArgs),
    /// Pin an Application to an earlier revision (automation stops until --unpin).
    Rollback(RollbackArgs),
    /// Stop applying an Application (new commits and self-heal); drift is still reported.
    Suspend(AppArgs),
    /// Resume a suspended Application, ask for a sync and follow it (as `flux resume`).
    Resume(SyncAppArgs),
    /// Set images in an overlay's kustomization (its `images:` list), as a commit.
    ///
    /// Only the edited entries of the file change; comments and formatting stay. The
    /// overlay must render afterwards. Exit code 0: changed; 3: already up to date; 2: error.
    SetImage(SetImageArgs),
    /// Promote images between overlays: the target is set to run exactly the images the
    /// source overlay renders, as a commit.
    ///
    /// Exit code 0: changed; 3: already up to date; 2: error.
    Promote(PromoteArgs),
    /// Print a shell completion script, e.g. `source <(plumb completion bash)`.
    Completion(CompletionArgs),
    /// Print plumb Applications for Argo CD Applications and Flux Kustomizations (with
    /// their GitRepositories) read from files, warning of each field with no equivalent.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// YAML or JSON files holding the resources (`-` for standard input), e.g. the output of
    /// `kubectl get applications.argoproj.io -A -o yaml` or a Flux repository's
    /// `clusters/prod/*.yaml`.
    #[arg(required_unless_present = "from_cluster")]
    pub(crate) files: Vec<PathBuf>,
    /// Read them from the cluster instead: every Argo CD Application and ApplicationSet and
    /// Flux Kustomization and GitRepository there, in all namespaces (read only).
    #[arg(long)]
    pub(crate) from_cluster: bool,
    #[command(flatten)]
    pub(crate) cluster: Cluster,
    /// The namespace the Applications go in (default: an Argo CD Application's destination
    /// namespace, a Flux Kustomization's own).
    #[arg(short, long)]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub(crate) shell: Shell,
}

/// The shells `plumb completion` writes scripts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub(crate) struct SetImageArgs {
    /// The overlay (a directory with a kustomization), relative to --root.
    pub(crate) path: String,
    /// NAME=IMAGE[:TAG|@DIGEST] sets the image workloads using NAME run; NAME:TAG or
    /// NAME@DIGEST changes only the tag or digest. NAME is the image as the overlay's
    /// bases write it (the `name` of the `images:` entry).
    #[arg(required = true, value_name = "NAME=IMAGE")]
    pub(crate) images: Vec<String>,
    #[command(flatten)]
    pub(crate) edit: EditFlags,
}

#[derive(Debug, Args)]
pub(crate) struct PromoteArgs {
    /// The overlay whose rendered images are promoted, relative to --root.
    #[arg(long, value_name = "PATH")]
    pub(crate) from: String,
    /// The overlay whose `images:` are set, relative to --root.
    #[arg(long, value_name = "PATH")]
    pub(crate) to: String,
    /// Promote only this image (its name in the bases, or its rendered name); repeatable.
    /// Default: every image both overlays use.
    #[arg(long = "image", value_name = "NAME")]
    pub(crate) images: Vec<String>,
    #[command(flatten)]
    pub(crate) edit: EditFlags,
}

/// How `set-image` and `promote` change the repository.
#[derive(Debug, Args)]
pub(crate) struct EditFlags {
    /// The repository root: nothing outside it is read.
    #[arg(long, default_value = ".")]
    pub(crate) root: PathBuf,
    /// Fail when an image name is used by no workload of the overlay (default: warn).
    #[arg(long)]
    pub(crate) strict: bool,
    /// Show the change and write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Output format (json: one report for pipelines).
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub(crate) output: Format,
    /// Commit the change (the kustomization file only) on the current branch.
    #[arg(long)]
    pub(crate) commit: bool,
    /// Commit and push to the branch's remote; when someone pushed first, make the change
    /// again on the new tip and retry (never a force push).
    #[arg(long)]
    pub(crate) push: bool,
    /// Author and committer (default: git's user.name and user.email, else
    /// `plumb <plumb@localhost>`).
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub(crate) author: Option<String>,
    /// The commit's first line (default: says what changed, from which version to which).
    #[arg(long)]
    pub(crate) message: Option<String>,
    /// The remote to push to (default: the branch's upstream remote, else origin).
    #[arg(long)]
    pub(crate) remote: Option<String>,
    /// The remote branch to push to (default: the upstream branch, else the current
    /// branch's name); needed when HEAD is detached.
    #[arg(long)]
    pub(crate) branch: Option<String>,
    /// How many times to make the change and push when others keep pushing first.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(crate) attempts: u32,
    #[command(flatten)]
    pub(crate) credentials: GitCredentials,
    #[command(flatten)]
    pub(crate) keys: Keys,
}

/// Credentials for `--push`, as a CI job has them; without any, git pushes as it would for
/// you (your credential helpers, SSH agent and configuration).
#[derive(Debug, Args)]
pub(crate) struct GitCredentials {
    /// The environment variable holding an HTTPS token or password (never pass the token
    /// itself on the command line).
    #[arg(long, value_name = "VAR", default_value = "PLUMB_GIT_TOKEN")]
    pub(crate) token_env: String,
    /// The user name sent with the token (GitHub: x-access-token; GitLab CI job tokens:
    /// gitlab-ci-token).
    #[arg(long, default_value = "x-access-token")]
    pub(crate) git_username: String,
    /// A private key file for SSH remotes (default: $PLUMB_GIT_SSH_KEY_FILE).
    #[arg(long, value_name = "FILE")]
    pub(crate) ssh_key_file: Option<PathBuf>,
    /// The known_hosts file vouching for the SSH server (default:
    /// $PLUMB_GIT_KNOWN_HOSTS_FILE); unknown hosts are refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) known_hosts_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ControllerArgs {
    #[command(flatten)]
    pub(crate) cluster: Cluster,
    /// Render Helm charts with this `helm` binary rather than plumb's engine (opt-in, for
    /// charts the engine refuses); it runs isolated, on a private copy of the chart.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) helm_external: Option<String>,
    /// Only reconcile Applications in this namespace (default: all namespaces).
    #[arg(long = "watch-namespace")]
    pub(crate) watch_namespace: Option<String>,
    /// Where Git repositories and snapshots are cached.
    #[arg(long, default_value = "/var/cache/plumb")]
    pub(crate) cache_dir: PathBuf,
    /// How many Applications reconcile at once.
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
    /// Elect a leader among replicas (a Lease); only the leader applies.
    #[arg(long)]
    pub(crate) leader_election: bool,
    /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else plumb-system).
    #[arg(long)]
    pub(crate) lease_namespace: Option<String>,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = "plumb-controller")]
    pub(crate) lease_name: String,
    /// Allow repositories on the local file system (tests and demos).
    #[arg(long)]
    pub(crate) allow_local_repositories: bool,
    /// Hosts Git and chart repositories may be fetched from (repeatable or comma-separated:
    /// `github.com`, `git.example.com:7999`, `*.example.com`); any host when none is given.
    /// Link-local and cloud metadata addresses are refused regardless.
    #[arg(long, value_name = "HOST")]
    pub(crate) allowed_source_hosts: Vec<String>,
    /// Let repositories use git:// and http://, which are neither encrypted nor
    /// authenticated, on hosts other than loopback.
    #[arg(long)]
    pub(crate) allow_plain_text_sources: bool,
    /// Let notifications reach loopback addresses (receivers on the controller's own host:
    /// tests and demos). Link-local and cloud metadata addresses are refused regardless.
    #[arg(long)]
    pub(crate) allow_loopback_notification_targets: bool,
    /// How long a sync wave may take to become healthy.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) wave_timeout: Duration,
    /// How long one reconcile may take, every wave included, before it is stopped where it
    /// stands and retried (one app never holds a worker longer); `/healthz` fails when one
    /// runs a minute past it, so that the kubelet restarts a wedged controller.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub(crate) reconcile_timeout: Duration,
    /// Longest one git operation (ls-remote, fetch, checkout) may run before it is killed.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub(crate) git_timeout: Duration,
    /// Longest a request to the API server other than a watch may wait without receiving
    /// anything (a dead peer behind a load balancer otherwise holds a worker forever).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub(crate) request_timeout: Duration,
    /// The ServiceAccount of its own namespace an Application acts as when it names none
    /// (outside the admin namespaces); an empty value refuses such Applications instead.
    #[arg(long, default_value = plumb_controller::Tenancy::DEFAULT_SERVICE_ACCOUNT)]
    pub(crate) default_service_account: String,
    /// A namespace whose Applications act as the controller itself when they name no
    /// ServiceAccount (repeatable; default: the controller's namespace). Only cluster
    /// operators should be able to create Applications there.
    #[arg(long = "admin-namespace", value_name = "NAMESPACE")]
    pub(crate) admin_namespaces: Vec<String>,
    #[command(flatten)]
    pub(crate) kustomize: KustomizeFlags,
    #[command(flatten)]
    pub(crate) server: ServerFlags,
}

/// The API, webhooks, metrics and probes that `plumb controller` serves.
#[derive(Debug, Args)]
pub(crate) struct ServerFlags {
    /// Where to serve the API, webhooks, /metrics and probes.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub(crate) listen: std::net::SocketAddr,
    /// Do not serve HTTP at all.
    #[arg(long)]
    pub(crate) no_server: bool,
    /// The Secret (in the controller's namespace) with one key per webhook provider:
    /// github, gitlab, gitea, bitbucket.
    #[arg(long, default_value = "plumb-webhooks")]
    pub(crate) webhook_secret: String,
    /// Let API requests without a token act as system:anonymous (RBAC still decides).
    #[arg(long)]
    pub(crate) allow_anonymous: bool,
    /// The audience API tokens must be made for (`kubectl create token NAME --audience
    /// plumb`): such a token is of no use against the API server if it leaks from plumb. An
    /// empty value accepts tokens made for the API server itself.
    #[arg(long, default_value = "plumb")]
    pub(crate) token_audience: String,
    /// Serve HTTPS with this certificate chain (PEM; read again when it changes, as when
    /// cert-manager renews it). Needs --tls-private-key-file.
    #[arg(long, requires = "tls_private_key_file")]
    pub(crate) tls_cert_file: Option<PathBuf>,
    /// The private key of --tls-cert-file (PEM).
    #[arg(long, requires = "tls_cert_file")]
    pub(crate) tls_private_key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    #[command(flatten)]
    pub(crate) cluster: Cluster,
    /// Namespace of the controller.
    #[arg(long, default_value = "plumb-system")]
    pub(crate) install_namespace: String,
    /// Container image of plumb (built by scripts/image.sh; default: the published image of
    /// this version).
    #[arg(long, default_value = concat!("ghcr.io/plumb-dev/plumb:", env!("CARGO_PKG_VERSION")))]
    pub(crate) image: String,
    /// Controller replicas (one leads).
    #[arg(long, default_value_t = 2)]
    pub(crate) replicas: u32,
    /// Do not grant the controller cluster-wide apply: Applications in its own namespace then
    /// have only the rights of the ServiceAccounts they name (tenants' Applications always
    /// act as an account of their namespace).
    #[arg(long)]
    pub(crate) impersonation_only: bool,
    /// Hosts the controller may fetch repositories from (`--allowed-source-hosts` of the
    /// controller; repeatable or comma-separated); any host when none is given.
    #[arg(long, value_name = "HOST")]
    pub(crate) allowed_source_hosts: Vec<String>,
    /// Serve the dashboard and API over HTTPS with this kubernetes.io/tls Secret of the
    /// install namespace (e.g. cert-manager's); the Service then listens on 443.
    #[arg(long, value_name = "SECRET")]
    pub(crate) tls_secret: Option<String>,
    /// One more argument of `plumb controller` (repeatable), e.g.
    /// `--controller-arg=--allow-plain-text-sources`.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) controller_arg: Vec<String>,
    /// Only the CustomResourceDefinitions (Application, AppPolicy).
    #[arg(long)]
    pub(crate) crds_only: bool,
    /// Apply to the cluster instead of printing.
    #[arg(long)]
    pub(crate) apply: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    #[command(flatten)]
    pub(crate) cluster: Cluster,
    /// Namespace of the controller (as given to `plumb install`).
    #[arg(long, default_value = "plumb-system")]
    pub(crate) install_namespace: String,
    /// Also delete every Application and ApplicationSet (each cascading to its objects as
    /// its own finalizer says, while the controller still runs), then the CRDs and the
    /// install namespace.
    #[arg(long)]
    pub(crate) delete_applications: bool,
}

/// How to reach the cluster (no namespace defaulting of objects).
#[derive(Debug, Args)]
pub(crate) struct Cluster {
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long)]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub(crate) context: Option<String>,
}

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

#[derive(Debug, Subcommand)]
pub(crate) enum SecretsCommand {
    /// Encrypt a file for age recipients; prints it, or rewrites it with --in-place.
    Encrypt(EncryptArgs),
    /// Decrypt a SOPS file; prints it, or rewrites it with --in-place.
    Decrypt(DecryptArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// The file to encrypt. Its format comes from its name: .yaml/.yml, .json, .env, else binary.
    pub(crate) file: PathBuf,
    /// An age recipient (public key, `age1…`); repeatable.
    #[arg(long = "age", required = true)]
    pub(crate) age: Vec<String>,
    /// Encrypt only values whose key matches (e.g. `^(data|stringData)$` for Secrets).
    #[arg(long)]
    pub(crate) encrypted_regex: Option<String>,
    /// Leave values whose key ends with this suffix in clear.
    #[arg(long)]
    pub(crate) unencrypted_suffix: Option<String>,
    /// Replace the file instead of printing.
    #[arg(long)]
    pub(crate) in_place: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The file to decrypt.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) keys: Keys,
    /// Replace the file instead of printing.
    #[arg(long)]
    pub(crate) in_place: bool,
}

/// Where age identities come from, as sops looks for them.
#[derive(Clone, Debug, Args)]
pub(crate) struct Keys {
    /// A file of age identities (`AGE-SECRET-KEY-…` lines); repeatable. Also read:
    /// $SOPS_AGE_KEY_FILE and $SOPS_AGE_KEY, as sops does.
    #[arg(long)]
    pub(crate) age_key_file: Vec<PathBuf>,
}

#[derive(Clone, Debug, Args)]
pub(crate) struct Source {
    /// The directory to render: absolute, or relative to the working directory (to --root
    /// when that is given).
    pub(crate) path: String,
    /// The repository root: nothing outside it is read (default: the top of the Git work
    /// tree holding PATH, else PATH itself).
    #[arg(long)]
    pub(crate) root: Option<PathBuf>,
    /// Read subdirectories too.
    #[arg(long)]
    pub(crate) recursive: bool,
    /// Only read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) include: Vec<String>,
    /// Do not read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) exclude: Vec<String>,
    #[command(flatten)]
    pub(crate) keys: Keys,
    #[command(flatten)]
    pub(crate) kustomize: KustomizeFlags,
    /// Where a kustomization may read files (patches, resources, generator sources) from:
    /// LoadRestrictionsNone, anywhere inside the repository, as Flux builds; or
    /// LoadRestrictionsRootOnly, only in or below the kustomization's directory, as
    /// kubectl kustomize does by default. Nothing outside the repository is read either way.
    #[arg(
        long,
        value_name = "RESTRICTOR",
        default_value = "LoadRestrictionsNone"
    )]
    pub(crate) load_restrictor: plumb_render::LoadRestrictor,
    #[command(flatten)]
    pub(crate) helm: HelmFlags,
}

/// How a Helm chart (a directory with Chart.yaml) is rendered, as `helm template` takes it.
#[derive(Clone, Debug, Args)]
pub(crate) struct HelmFlags {
    /// A values file for a Helm chart (repeatable, applied in order over its values.yaml);
    /// it must be inside the repository.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub(crate) values: Vec<PathBuf>,
    /// A Helm value, as `helm --set NAME=VALUE` (repeatable, over the values files).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub(crate) set: Vec<String>,
    /// The Helm release name (default: release-name, as `helm template`).
    #[arg(long)]
    pub(crate) release_name: Option<String>,
    /// The Helm release namespace, `.Release.Namespace` (default: default).
    #[arg(long)]
    pub(crate) release_namespace: Option<String>,
    /// Leave out the chart's crds/.
    #[arg(long)]
    pub(crate) skip_crds: bool,
    /// Render Helm charts with this `helm` binary rather than plumb's engine (for a chart it
    /// refuses): the chart's files, read within the repository, are copied to a private
    /// directory; helm runs with a cleared environment, a private HOME, a time limit and
    /// an output bound.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) helm_external: Option<String>,
}

/// What Kustomize rendering may do beyond plumb's own engine; both off by default.
#[derive(Clone, Debug, Args)]
pub(crate) struct KustomizeFlags {
    /// Hand kustomizations plumb does not support (e.g. Helm charts, plugins) to this
    /// binary, `kustomize` or `kubectl`. Every path the kustomization names is checked to
    /// stay inside the repository first; the binary runs with the render's load restrictor
    /// (LoadRestrictionsNone unless `--load-restrictor` says otherwise), a cleared environment, a private HOME, a time limit and
    /// an output bound.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) kustomize_external: Option<String>,
    /// Allow remote bases (URLs) in kustomizations; they render only with --kustomize-external.
    #[arg(long)]
    pub(crate) allow_remote_bases: bool,
}

impl KustomizeFlags {
    pub(crate) fn options(&self) -> plumb_render::KustomizeOptions {
        plumb_render::KustomizeOptions {
            allow_remote_bases: self.allow_remote_bases,
            external: self.kustomize_external.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) source: Source,
    /// Print Secret values and decrypted values in clear.
    #[arg(long)]
    pub(crate) show_secrets: bool,
}

/// How to reach the cluster, as kubectl finds it.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long)]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub(crate) context: Option<String>,
    /// Namespace for objects that name none, and for the app's inventory.
    #[arg(short, long)]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pub(crate) source: Source,
    #[command(flatten)]
    pub(crate) target: Target,
    /// The app name: it marks the objects and names the inventory. For `plumb diff`,
    /// without --app the argument names an Application and its live-vs-Git drift is shown.
    #[arg(long)]
    pub(crate) app: Option<String>,
    /// Report conflicts with other field managers instead of taking the fields over.
    #[arg(long)]
    pub(crate) no_force_conflicts: bool,
    /// Also plan deleting objects of the app that left the directory.
    #[arg(long)]
    pub(crate) prune: bool,
    /// Accept an empty directory (with --prune: delete everything of the app).
    #[arg(long)]
    pub(crate) allow_empty: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub(crate) output: Format,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) sync: SyncArgs,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Wait until every object is healthy.
    #[arg(long)]
    pub(crate) wait: bool,
    /// How long waves and --wait may take (e.g. 90s, 5m).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
    Yaml,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s or 5m"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        "h" => Ok(Duration::from_secs(value * 3600)),
        _ => Err(format!("{text:?}: unit must be s, m or h")),
    }
}

/// An Application interval, checked as the controller reads it and kept as written.
fn parse_interval(text: &str) -> Result<String, String> {
    plumb_controller::application::parse_interval(text)
        .map(|_| text.to_owned())
        .ok_or_else(|| format!("{text:?} is not an interval like 90s, 5m or 1h30m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectls() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn read_commands_share_one_output_flag() {
        for args in [
            &["plumb", "get", "apps", "-o", "wide", "-w"][..],
            &["plumb", "get", "app", "web", "-o", "wide", "--watch"],
            &["plumb", "history", "web", "-o", "wide"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let output = match cli.command {
                Command::Get(GetCommand::Apps(list)) => list.output,
                Command::Get(GetCommand::App(get)) => get.app.output,
                Command::History(app) => app.output,
                other => panic!("{other:?}"),
            };
            assert!(output.wide() && output.machine().is_none(), "{args:?}");
        }
        let json = Cli::try_parse_from(["plumb", "history", "web", "-o", "json"]).unwrap();
        let Command::History(app) = json.command else {
            panic!()
        };
        assert_eq!(app.output.machine(), Some(Format::Json));
        assert!(Cli::try_parse_from(["plumb", "apply", ".", "-o", "wide"]).is_err());
    }
}
