//! `set-image` and `promote`: which overlay edit is asked for and how it reaches Git.

use std::path::PathBuf;

use clap::Args;

use super::Format;
use super::source::Keys;

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
