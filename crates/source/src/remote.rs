//! Talking to a remote: listing its references (cheap: no objects cross the wire) and
//! fetching one commit, shallowly, into the cache's git directory.

use std::path::Path;

use crate::credentials::{Credentials, Redactor, Session};
use crate::error::{Error, Result};
use crate::git::{Failure, Git, dir_size};
use crate::limits::{Limits, human_bytes};
use crate::refs::RemoteRefs;
use crate::repo_url::RepoUrl;
use crate::revision::Revision;

/// One repository with its credentials prepared, for the length of one operation.
pub(crate) struct Remote<'a> {
    pub(crate) url: &'a RepoUrl,
    redactor: Redactor,
    session: Session,
    limits: &'a Limits,
}

impl<'a> Remote<'a> {
    pub(crate) fn open(
        url: &'a RepoUrl,
        credentials: &Credentials,
        scratch: &Path,
        limits: &'a Limits,
    ) -> Result<Self> {
        let credentials = credentials.for_url(url);
        Ok(Remote {
            url,
            redactor: credentials.redactor(),
            session: Session::open(url, &credentials, scratch)?,
            limits,
        })
    }

    /// A git command with this remote's credentials and the operation timeout.
    pub(crate) fn git(&self) -> Git {
        Git::new(self.session.dir(), self.limits.timeout).envs(&self.session.env)
    }

    /// The private scratch directory of this operation.
    pub(crate) fn scratch(&self) -> &Path {
        self.session.dir()
    }

    /// Lists the references `revision` needs (`git ls-remote`: no object transfer).
    pub(crate) async fn list(&self, revision: &Revision) -> Result<RemoteRefs> {
        let output = self
            .git()
            .args(["ls-remote", "--quiet", &self.url.for_git])
            .args(RemoteRefs::patterns(revision))
            .output()
            .await
            .map_err(|failure| self.error("listing the references of", failure))?;
        Ok(RemoteRefs::parse(&String::from_utf8_lossy(&output)))
    }

    /// Fetches `commit` (depth 1) into `git_dir`, stopping if the repository's git data
    /// grows past the limit. `Ok(false)` when the remote has no such commit.
    pub(crate) async fn fetch_commit(&self, git_dir: &Path, commit: &str) -> Result<bool> {
        let result = self
            .git()
            .git_dir(git_dir)
            .args([
                "fetch",
                "--quiet",
                "--depth=1",
                "--no-tags",
                "--no-write-fetch-head",
            ])
            .args([self.url.for_git.as_str(), commit])
            .watch_size(git_dir, self.limits.max_repository_bytes)
            .output()
            .await;
        match self.within_budget(git_dir, result) {
            Ok(_) => Ok(true),
            Err(Failure::Exit(stderr)) if no_such_object(&stderr) => Ok(false),
            Err(failure) => Err(self.error("fetching", failure)),
        }
    }

    /// A fetch may finish between two checks of the watcher: check once more at the end.
    /// Over budget, the git directory is removed (it may hold half a pack).
    fn within_budget(
        &self,
        git_dir: &Path,
        result: Result<Vec<u8>, Failure>,
    ) -> Result<Vec<u8>, Failure> {
        let result = match result {
            Ok(output) => match dir_size(git_dir) {
                bytes if bytes > self.limits.max_repository_bytes => {
                    Err(Failure::TooLarge { bytes })
                }
                _ => Ok(output),
            },
            other => other,
        };
        if matches!(result, Err(Failure::TooLarge { .. })) {
            let _ = std::fs::remove_dir_all(git_dir);
        }
        result
    }

    /// Fetches every branch and tag with full history: the only way to find a commit by an
    /// abbreviated id that no reference points at.
    pub(crate) async fn fetch_everything(&self, git_dir: &Path) -> Result<()> {
        let mut git =
            self.git()
                .git_dir(git_dir)
                .args(["fetch", "--quiet", "--no-write-fetch-head"]);
        if git_dir.join("shallow").exists() {
            git = git.arg_unshallow();
        }
        let result = git
            .args([
                self.url.for_git.as_str(),
                "+refs/heads/*:refs/plumb/heads/*",
                "+refs/tags/*:refs/plumb/tags/*",
            ])
            .watch_size(git_dir, self.limits.max_repository_bytes)
            .output()
            .await;
        self.within_budget(git_dir, result)
            .map(|_| ())
            .map_err(|failure| self.error("fetching the full history of", failure))
    }

    /// Turns a git failure into the error a user can act on, with secrets scrubbed.
    pub(crate) fn error(&self, action: &str, failure: Failure) -> Error {
        let url = self.url.shown.clone();
        match failure {
            Failure::Spawn(source) => Error::Spawn {
                program: "git".into(),
                source,
            },
            Failure::Timeout(timeout) => Error::Timeout {
                action: action.to_owned(),
                url,
                timeout,
            },
            Failure::TooLarge { bytes } => Error::TooLarge {
                url,
                what: format!("the fetched repository ({} so far)", human_bytes(bytes)),
                limit: human_bytes(self.limits.max_repository_bytes),
            },
            Failure::TooMuchOutput => Error::Git {
                action: action.to_owned(),
                url,
                detail: "git printed more output than plumb reads; the repository has too many references".into(),
            },
            Failure::Exit(stderr) => reported(action, url, self.redactor.clean(&stderr)),
        }
    }

    /// The repository's size on disk right now.
    pub(crate) fn size_of(git_dir: &Path) -> u64 {
        dir_size(git_dir)
    }
}

fn no_such_object(stderr: &str) -> bool {
    [
        "not our ref",
        "unadvertised object",
        "couldn't find remote ref",
        "no such remote ref",
    ]
    .iter()
    .any(|needle| stderr.contains(needle))
}

/// What the controller reports of a remote that failed: a refused key or credentials as
/// such, anything else as [`Error::Unreachable`], whose message is the same for a closed
/// port, an unknown host and a server speaking another protocol (see there). git's words go
/// to the log only.
fn reported(action: &str, url: String, detail: String) -> Error {
    match classify(action, url, detail) {
        error @ (Error::HostKeyRefused { .. } | Error::Authentication { .. }) => error,
        Error::Unreachable { url, detail } | Error::Git { url, detail, .. } => {
            tracing::warn!(%url, "{action} {url} failed: {detail}");
            Error::Unreachable { url, detail }
        }
        other => other,
    }
}

/// The kind of a git failure, from what git printed (redacted).
pub(crate) fn classify(action: &str, url: String, detail: String) -> Error {
    let has = |needle: &str| detail.contains(needle);
    if has("Host key verification failed")
        || has("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || has("host key is known")
    {
        Error::HostKeyRefused { url }
    } else if has("Authentication failed")
        || has("could not read Username")
        || has("could not read Password")
        || has("terminal prompts disabled")
        || has("Permission denied (publickey")
        || has("The requested URL returned error: 401")
        || has("The requested URL returned error: 403")
    {
        Error::Authentication { url }
    } else if has("does not appear to be a git repository")
        || has("no such repository")
        || has("Repository not found")
        || has("not found")
        || has("Could not resolve host")
        || has("Connection refused")
        || has("unable to access")
        || has("Could not read from remote repository")
    {
        Error::Unreachable { url, detail }
    } else {
        Error::Git {
            action: action.to_owned(),
            url,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What git prints when a `repoURL` aims at something other than a git server.
    const PROBES: [&str; 6] = [
        "fatal: unable to access 'http://10.0.0.5:6379/': Failed to connect to 10.0.0.5 port 6379 after 0 ms: Connection refused",
        "fatal: unable to access 'http://db.internal/': Could not resolve host: db.internal",
        "fatal: protocol error: bad line length character: -ERR",
        "fatal: unable to access 'https://10.0.0.5:22/': gnutls_handshake() failed: An unexpected TLS packet was received.",
        "fatal: the remote end hung up unexpectedly",
        "ssh: connect to host 10.0.0.5 port 2222: Connection timed out\r\nfatal: Could not read from remote repository.",
    ];

    #[test]
    fn a_repo_url_aimed_at_the_cluster_network_learns_nothing_of_what_answered() {
        let messages: std::collections::BTreeSet<String> = PROBES
            .iter()
            .map(|stderr| {
                let error = reported("fetching", "http://10.0.0.5/x".into(), (*stderr).into());
                assert!(matches!(error, Error::Unreachable { ref detail, .. } if detail == stderr));
                error.to_string()
            })
            .collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        let message = messages.first().unwrap();
        for told in ["refused", "resolve", "-ERR", "TLS", "hung up", "timed out"] {
            assert!(!message.contains(told), "{message}");
        }
        assert!(
            message.contains("cannot reach repository http://10.0.0.5/x"),
            "{message}"
        );
    }

    #[test]
    fn refused_credentials_and_host_keys_are_still_told_apart() {
        let error = reported(
            "fetching",
            "https://git.example.com/x".into(),
            "fatal: Authentication failed for 'https://git.example.com/x/'".into(),
        );
        assert!(matches!(error, Error::Authentication { .. }), "{error:?}");
        let error = reported(
            "fetching",
            "ssh://git@git.example.com/x".into(),
            "Host key verification failed.\nfatal: Could not read from remote repository.".into(),
        );
        assert!(matches!(error, Error::HostKeyRefused { .. }), "{error:?}");
    }
}
