//! `plumb controller`: the controller's flags and the HTTP server it runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::parse_duration;
use super::push::Cluster;
use super::source::KustomizeFlags;

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
    /// How many Applications reconcile at once. A reconcile mostly waits on the API
    /// server (each write waits for etcd), so many in flight cost little CPU here.
    #[arg(long, default_value_t = 16)]
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
    /// Share the Applications among the replicas (each reconciles a stable share, taken
    /// over by the others within seconds when it goes); the elected leader still runs
    /// ApplicationSets. Turns leader election on.
    #[arg(long)]
    pub(crate) shard: bool,
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
