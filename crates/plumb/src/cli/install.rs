//! `plumb install` and `plumb uninstall`: what the manifests that run plumb in a cluster
//! are made with, and what removing them keeps.

use clap::Args;

use super::push::Cluster;

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
