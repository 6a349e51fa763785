//! The command line: every command and flag, parsed without side effects. One module per
//! group of subcommands; this one holds the command list and what several groups share.

mod apps;
mod controller;
mod import;
mod install;
mod overlay_edit;
mod push;
mod secrets;
mod source;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

pub(crate) use apps::{
    AppArgs, AppCommand, ClustersArgs, CreateAppArgs, DeleteAppArgs, GetAppArgs, GetCommand,
    ListArgs, ReadOutput, RollbackArgs, SyncAppArgs,
};
pub(crate) use controller::ControllerArgs;
pub(crate) use import::{CompletionArgs, ImportArgs, Shell};
pub(crate) use install::{InstallArgs, UninstallArgs};
pub(crate) use overlay_edit::{EditFlags, GitCredentials, PromoteArgs, SetImageArgs};
pub(crate) use push::{ApplyArgs, SyncArgs, Target};
pub(crate) use secrets::{DecryptArgs, EncryptArgs, SecretsCommand};
pub(crate) use source::{HelmFlags, Keys, RenderArgs, Source};

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
