//! Push mode: comparing and applying a directory from this machine (`diff`, `apply`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::source::Source;
use super::{Format, parse_duration};

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
