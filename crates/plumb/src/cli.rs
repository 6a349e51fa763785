//! The command line: every command and flag, parsed without side effects.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The directory to render, relative to --root.
    pub(crate) path: String,
    /// The repository root: nothing outside it is read.
    #[arg(long, default_value = ".")]
    pub(crate) root: PathBuf,
    /// Read subdirectories too.
    #[arg(long)]
    pub(crate) recursive: bool,
    /// Only read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) include: Vec<String>,
    /// Do not read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) exclude: Vec<String>,
    /// Print Secret values and decrypted values in clear.
    #[arg(long)]
    pub(crate) show_secrets: bool,
}
