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
#[derive(Debug, Args)]
pub(crate) struct Keys {
    /// A file of age identities (`AGE-SECRET-KEY-…` lines); repeatable. Also read:
    /// $SOPS_AGE_KEY_FILE and $SOPS_AGE_KEY, as sops does.
    #[arg(long)]
    pub(crate) age_key_file: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct Source {
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
    #[command(flatten)]
    pub(crate) keys: Keys,
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
    /// The app name: it marks the objects and names the inventory.
    #[arg(long)]
    pub(crate) app: String,
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
}
