//! Writing to a repository: one commit in a local checkout, pushed to its branch's remote
//! with the credentials a CI job has — and made again on the new tip when someone else
//! pushed first.
//!
//! ```text
//!  change() ─▶ commit ─▶ push ─ok──────────────────────────────▶ Pushed
//!     ▲                   └ rejected (the branch moved)
//!     └── reset --keep to the fetched tip ◀── fetch the branch    (bounded attempts)
//! ```
//!
//! Guarantees:
//! - never a force push: a push only ever fast-forwards the remote branch;
//! - never a lost change: after a rejection the *change* is made again on the new tip
//!   (the caller's function re-reads the files and re-edits them), not a textual rebase;
//!   when the attempts run out, the last commit stays in the local checkout and the
//!   error names it;
//! - the commit holds exactly the paths the change names, even when other files are
//!   staged or modified;
//! - credentials reach git as [`crate::credentials`] gives them to the controller's
//!   fetches (askpass reading the environment, a private key file), never on a command
//!   line or in the repository's configuration. Without credentials, git pushes as it
//!   would for the person running plumb (their helpers, agent and configuration).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credentials::{Credentials, Redactor, Session};
use crate::error::{Error, Result};
use crate::git::{Failure, Git};
use crate::metadata::CommitId;
use crate::remote::classify;
use crate::repo_url::RepoUrl;

/// How long one git operation on the checkout or its remote may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Who a commit is by: `Name <email>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
}

impl Identity {
    /// Reads `Name <email>`.
    pub fn parse(text: &str) -> Result<Identity> {
        let bad = || Error::InvalidIdentity {
            text: text.to_owned(),
        };
        let (name, rest) = text.rsplit_once('<').ok_or_else(bad)?;
        let email = rest.strip_suffix('>').ok_or_else(bad)?.trim();
        let name = name.trim();
        if name.is_empty() || email.is_empty() || format!("{name}{email}").contains(['<', '>']) {
            return Err(bad());
        }
        Ok(Identity {
            name: name.to_owned(),
            email: email.to_owned(),
        })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

/// Where a push goes; each `None` is found from the checkout.
#[derive(Clone, Debug, Default)]
pub struct PushTarget {
    /// The remote (default: the branch's upstream remote, else `origin`).
    pub remote: Option<String>,
    /// The remote branch (default: the branch's upstream branch, else the local branch's
    /// name). Needed when `HEAD` is detached, as in many CI checkouts.
    pub branch: Option<String>,
}

/// A change made in the checkout, ready to be committed.
#[derive(Clone, Debug)]
pub struct Change {
    /// The files changed, relative to the checkout's root.
    pub paths: Vec<PathBuf>,
    /// The commit message.
    pub message: String,
}

/// What [`Checkout::publish`] does besides committing.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// Author and committer of the commit.
    pub author: Identity,
    /// Push the commit to the remote branch.
    pub push: bool,
    /// Credentials for the push.
    pub credentials: Credentials,
    /// How many times the change is made and pushed before giving up (at least 1).
    pub attempts: u32,
}

/// What publishing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// The change function found nothing to change (on the last attempt).
    UpToDate {
        /// Attempts made (more than one when the branch moved meanwhile).
        attempts: u32,
    },
    /// Committed locally, not pushed.
    Committed {
        /// The new commit.
        commit: CommitId,
    },
    /// Committed and pushed.
    Pushed {
        /// The commit now at the tip of the remote branch.
        commit: CommitId,
        /// Attempts made: 1 unless someone pushed first.
        attempts: u32,
        /// The remote pushed to.
        remote: String,
        /// The remote branch pushed to.
        branch: String,
    },
}

/// Why publishing stopped: the change function failed, or git did.
#[derive(Debug)]
pub enum PublishError<E> {
    /// The caller's change failed; nothing of this attempt was committed.
    Change(E),
    /// A git operation failed.
    Source(Error),
}

impl<E: fmt::Display> fmt::Display for PublishError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Change(err) => err.fmt(f),
            PublishError::Source(err) => err.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for PublishError<E> {}

impl<E> From<Error> for PublishError<E> {
    fn from(err: Error) -> Self {
        PublishError::Source(err)
    }
}

/// A local git checkout plumb commits to and pushes from.
#[derive(Debug)]
pub struct Checkout {
    root: PathBuf,
    /// The checked-out branch; `None` when `HEAD` is detached.
    local: Option<String>,
    target: PushTarget,
}

enum PushOutcome {
    Pushed,
    /// The remote branch moved: someone pushed first.
    Behind(String),
}

impl Checkout {
    /// The checkout holding `dir`.
    pub async fn open(dir: &Path, target: PushTarget) -> Result<Checkout> {
        let root = git_text(dir, &["rev-parse", "--show-toplevel"])
            .await
            .map_err(|failure| Error::NotACheckout {
                path: dir.display().to_string(),
                detail: detail(failure),
            })?;
        let root = PathBuf::from(root);
        let local = git_text(&root, &["symbolic-ref", "--quiet", "--short", "HEAD"])
            .await
            .ok();
        Ok(Checkout {
            root,
            local,
            target,
        })
    }

    /// The checkout's top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `user.name` and `user.email` from git's configuration, when both are set.
    pub async fn configured_author(&self) -> Option<Identity> {
        let name = git_text(&self.root, &["config", "user.name"]).await.ok()?;
        let email = git_text(&self.root, &["config", "user.email"]).await.ok()?;
        (!name.is_empty() && !email.is_empty()).then_some(Identity { name, email })
    }

    /// Fails when `paths` have changes that are not committed: a commit of plumb's edit
    /// would carry them along.
    pub async fn ensure_clean(&self, paths: &[PathBuf]) -> Result<()> {
        let mut args = vec!["status", "--porcelain", "--"];
        let texts: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        args.extend(texts.iter().map(String::as_str));
        let status = self.git_text(&args, "checking").await?;
        let dirty: Vec<&str> = status.lines().collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(Error::Uncommitted {
                paths: dirty
                    .iter()
                    .map(|l| l.get(3..).unwrap_or(l).to_owned())
                    .collect(),
            })
        }
    }

    /// The remote and branch a push goes to.
    pub async fn push_target(&self) -> Result<(String, String)> {
        let upstream = |key: &str| {
            let local = self.local.clone();
            let key = key.to_owned();
            async move {
                let local = local?;
                git_text(&self.root, &["config", &format!("branch.{local}.{key}")])
                    .await
                    .ok()
            }
        };
        let remote = match &self.target.remote {
            Some(remote) => remote.clone(),
            None => upstream("remote").await.unwrap_or_else(|| "origin".into()),
        };
        let branch = match &self.target.branch {
            Some(branch) => Some(branch.clone()),
            None => upstream("merge")
                .await
                .map(|merge| merge.trim_start_matches("refs/heads/").to_owned())
                .or_else(|| self.local.clone()),
        };
        let branch = branch.ok_or(Error::DetachedHead)?;
        Ok((remote, branch))
    }

    /// Makes the change, commits it and (with `push`) pushes it; when the push is refused
    /// because the branch moved, fetches the new tip, resets to it (keeping unrelated local
    /// changes) and makes the change again — at most `attempts` times.
    pub async fn publish<E>(
        &self,
        options: &PublishOptions,
        mut change: impl FnMut() -> std::result::Result<Option<Change>, E>,
    ) -> std::result::Result<Published, PublishError<E>> {
        let target = if options.push {
            Some(self.push_target().await?)
        } else {
            None
        };
        let attempts = options.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(made) = change().map_err(PublishError::Change)? else {
                return Ok(Published::UpToDate { attempts: attempt });
            };
            let commit = self.commit(&made, &options.author).await?;
            let Some((remote, branch)) = &target else {
                return Ok(Published::Committed { commit });
            };
            match self.push(remote, branch, &options.credentials).await? {
                PushOutcome::Pushed => {
                    return Ok(Published::Pushed {
                        commit,
                        attempts: attempt,
                        remote: remote.clone(),
                        branch: branch.clone(),
                    });
                }
                PushOutcome::Behind(detail) if attempt >= attempts => {
                    return Err(Error::PushRejected {
                        remote: remote.clone(),
                        branch: branch.clone(),
                        attempts,
                        commit: commit.to_string(),
                        detail,
                    }
                    .into());
                }
                PushOutcome::Behind(_) => {
                    tracing::info!(%remote, %branch, attempt, "the branch moved; making the change again on its new tip");
                    self.catch_up(remote, branch, &options.credentials).await?;
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
    }

    async fn commit(&self, change: &Change, author: &Identity) -> Result<CommitId> {
        let paths: Vec<String> = change
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut add = vec!["add", "--"];
        add.extend(paths.iter().map(String::as_str));
        self.git_text(&add, "staging the change in").await?;
        let mut commit = vec!["commit", "--quiet", "-m", &change.message, "--"];
        commit.extend(paths.iter().map(String::as_str));
        Git::in_checkout(&self.root, TIMEOUT)
            .env("GIT_AUTHOR_NAME", &author.name)
            .env("GIT_AUTHOR_EMAIL", &author.email)
            .env("GIT_COMMITTER_NAME", &author.name)
            .env("GIT_COMMITTER_EMAIL", &author.email)
            .args(&commit)
            .output()
            .await
            .map_err(|failure| self.failed("committing in", failure))?;
        let head = self.git_text(&["rev-parse", "HEAD"], "reading").await?;
        CommitId::new(&head).ok_or_else(|| Error::Git {
            action: "reading HEAD of".into(),
            url: self.root.display().to_string(),
            detail: format!("unexpected commit id {head:?}"),
        })
    }

    async fn push(
        &self,
        remote: &str,
        branch: &str,
        credentials: &Credentials,
    ) -> Result<PushOutcome> {
        let (git, redactor, url) = self.remote_git(remote, credentials).await?;
        let refspec = format!("HEAD:refs/heads/{branch}");
        match git
            .args(["push", "--quiet", remote, &refspec])
            .output()
            .await
        {
            Ok(_) => Ok(PushOutcome::Pushed),
            Err(Failure::Exit(stderr)) if moved(&stderr) => {
                Ok(PushOutcome::Behind(redactor.clean(&stderr)))
            }
            Err(Failure::Exit(stderr)) => {
                Err(told(classify("pushing to", url, redactor.clean(&stderr))))
            }
            Err(failure) => Err(self.failed("pushing from", failure)),
        }
    }

    /// Moves the checkout to the remote branch's tip; local changes to other files stay.
    async fn catch_up(&self, remote: &str, branch: &str, credentials: &Credentials) -> Result<()> {
        let (git, redactor, url) = self.remote_git(remote, credentials).await?;
        let refspec = format!("refs/heads/{branch}");
        git.args(["fetch", "--quiet", "--no-tags", remote, &refspec])
            .output()
            .await
            .map_err(|failure| match failure {
                Failure::Exit(stderr) => told(classify("fetching", url, redactor.clean(&stderr))),
                other => self.failed("fetching into", other),
            })?;
        self.git_text(&["reset", "--quiet", "--keep", "FETCH_HEAD"], "moving")
            .await?;
        Ok(())
    }

    /// A git command for talking to `remote`, with `credentials` prepared; the session's
    /// private files live until the command is dropped.
    async fn remote_git(
        &self,
        remote: &str,
        credentials: &Credentials,
    ) -> Result<(RemoteGit, Redactor, String)> {
        let text = self
            .git_text(&["remote", "get-url", remote], "reading the remote of")
            .await?;
        let shown = crate::repo_url::redact_url(&text);
        if matches!(credentials, Credentials::None) {
            let git = Git::in_checkout(&self.root, TIMEOUT);
            return Ok((
                RemoteGit {
                    git,
                    _session: None,
                },
                Redactor::default(),
                shown,
            ));
        }
        let url = RepoUrl::parse(&text)?;
        let credentials = credentials.for_url(&url);
        let scratch = std::env::temp_dir();
        let session = Session::open(&url, &credentials, &scratch)?;
        let git = Git::in_checkout(&self.root, TIMEOUT)
            .envs(&session.env)
            // Credentials given to plumb win over any helper the machine has configured.
            .config("credential.helper", "");
        Ok((
            RemoteGit {
                git,
                _session: Some(session),
            },
            credentials.redactor(),
            url.shown,
        ))
    }

    async fn git_text(&self, args: &[&str], action: &str) -> Result<String> {
        Git::in_checkout(&self.root, TIMEOUT)
            .args(args)
            .output()
            .await
            .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
            .map_err(|failure| self.failed(action, failure))
    }

    fn failed(&self, action: &str, failure: Failure) -> Error {
        match failure {
            Failure::Spawn(source) => Error::Spawn {
                program: "git".into(),
                source,
            },
            other => Error::Git {
                action: action.to_owned(),
                url: self.root.display().to_string(),
                detail: detail(other),
            },
        }
    }
}

/// A git command and the credential session it needs alive while it runs.
struct RemoteGit {
    git: Git,
    _session: Option<Session>,
}

impl RemoteGit {
    fn args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        RemoteGit {
            git: self.git.args(args),
            _session: self._session,
        }
    }

    async fn output(self) -> std::result::Result<Vec<u8>, Failure> {
        let RemoteGit { git, _session } = self;
        git.output().await
    }
}

/// Whether a refused push means the branch moved: refused as not a fast-forward, or —
/// when two pushes race inside the server — its ref update lost (`cannot lock ref`).
/// The CLI runs as its user, against remotes its user chose: an unreachable remote is told
/// with git's own words there (the controller's generic message is for tenants' status).
fn told(error: Error) -> Error {
    match error {
        Error::Unreachable { url, detail } => Error::Git {
            action: "reaching".into(),
            url,
            detail,
        },
        other => other,
    }
}

fn moved(stderr: &str) -> bool {
    stderr.contains("[rejected]")
        || stderr.contains("cannot lock ref")
        || stderr.contains("failed to update ref")
}

/// Spreads retries of jobs that collided, so they do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 250);
    Duration::from_millis(u64::from(attempt) * 100 + u64::from(jitter))
}

async fn git_text(dir: &Path, args: &[&str]) -> std::result::Result<String, Failure> {
    Git::in_checkout(dir, TIMEOUT)
        .args(args)
        .output()
        .await
        .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
}

fn detail(failure: Failure) -> String {
    match failure {
        Failure::Exit(stderr) => stderr,
        Failure::Spawn(err) => err.to_string(),
        Failure::Timeout(limit) => format!("took longer than {limit:?}"),
        Failure::TooLarge { .. } | Failure::TooMuchOutput => "too much output".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_read_like_git_authors() {
        let who = Identity::parse("CI Bot <ci@example.com>").unwrap();
        assert_eq!(
            (who.name.as_str(), who.email.as_str()),
            ("CI Bot", "ci@example.com")
        );
        assert_eq!(who.to_string(), "CI Bot <ci@example.com>");
        for bad in [
            "ci@example.com",
            "<ci@example.com>",
            "CI Bot <>",
            "CI <a<b>",
        ] {
            assert!(Identity::parse(bad).is_err(), "{bad}");
        }
    }
}
