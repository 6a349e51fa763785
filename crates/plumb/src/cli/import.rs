//! `plumb import` and `plumb completion`: other tools' resources in, shell scripts out.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::push::Cluster;

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
