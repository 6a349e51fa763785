//! The one error type of source: why a repository could not be resolved or snapshotted.
//!
//! Every message names the repository by its *redacted* URL (no user info, no password)
//! and, where a person can act, says what to do. Output of git that is quoted in a message
//! has passed through the same redaction (see [`crate::credentials`]).

use std::time::Duration;

/// Why a source operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository URL cannot be used.
    #[error("repository URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operator's bounds do not let the controller fetch from this host or over this
    /// transport ([`crate::SourceHosts`]).
    #[error("repository {url} is not allowed: {reason}")]
    NotAllowed {
        /// The URL, redacted.
        url: String,
        /// Which bound refuses it, and what to do.
        reason: String,
    },
    /// The revision text cannot be understood.
    #[error("revision {revision:?}: {reason}")]
    InvalidRevision {
        /// The revision as given.
        revision: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No branch, tag or commit of the repository matches the revision.
    #[error("{url} has no {revision}{hint}")]
    RevisionNotFound {
        /// The URL, redacted.
        url: String,
        /// The revision, described (e.g. `branch "main"`).
        revision: String,
        /// Extra advice, starting with `: ` or empty.
        hint: String,
    },
    /// The remote does not exist, cannot be reached, or answered in a way git does not
    /// understand. The message is the same whatever the reason: it reaches an
    /// Application's status, and telling "connection refused" from "no such host" or from
    /// a stranger's first bytes there would let whoever writes a `repoURL` map the
    /// controller's network. git's own words are logged, and kept in `detail`.
    #[error(
        "cannot reach repository {url}: check the URL and that the controller can connect to its host (git's message is in the controller's log)"
    )]
    Unreachable {
        /// The URL, redacted.
        url: String,
        /// What git said, redacted; not part of the message.
        detail: String,
    },
    /// The server refused the credentials (or demanded some and none were given).
    #[error(
        "{url} refused the credentials: check the username and password or token (or the SSH key) in the repository's secret"
    )]
    Authentication {
        /// The URL, redacted.
        url: String,
    },
    /// The SSH server's host key is not in the given `known_hosts`, or does not match it.
    #[error(
        "{url}: the SSH host key is unknown or does not match known_hosts, so the connection was refused; add the server's key (ssh-keyscan, verified out of band) to known_hosts"
    )]
    HostKeyRefused {
        /// The URL, redacted.
        url: String,
    },
    /// The credentials do not fit the URL (e.g. an SSH URL without a key and known_hosts).
    #[error("{url}: {reason}")]
    Credentials {
        /// The URL, redacted.
        url: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// A git operation took longer than the configured timeout and was killed.
    #[error(
        "{action} {url} took longer than {timeout:?} and was stopped; raise the fetch timeout if the repository is that slow"
    )]
    Timeout {
        /// What was being done, e.g. `fetching`.
        action: String,
        /// The URL, redacted.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The repository or a commit's tree exceeds a configured limit.
    #[error(
        "{url}: {what} exceeds the limit of {limit}; raise the limit or make the repository smaller"
    )]
    TooLarge {
        /// The URL, redacted.
        url: String,
        /// What is too large, e.g. `the fetched repository (412 MiB so far)`.
        what: String,
        /// The limit, with its unit.
        limit: String,
    },
    /// Signature verification is required and the commit's signature is missing or does
    /// not verify against the given keys.
    #[error(
        "commit {commit} of {url} is not signed by any of the trusted keys, so it is not used: {detail}"
    )]
    Unverified {
        /// The URL, redacted.
        url: String,
        /// The commit id.
        commit: String,
        /// What the verifier said.
        detail: String,
    },
    /// git failed in a way none of the errors above describes.
    #[error("{action} {url} failed: {detail}")]
    Git {
        /// What was being done.
        action: String,
        /// The URL, redacted.
        url: String,
        /// What git said, redacted.
        detail: String,
    },
    /// A program source needs (git, ssh, gpg) cannot be started.
    #[error("cannot start {program}: {source}; install it in the controller image")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An author given as text is not `Name <email>`.
    #[error("author {text:?} is not `Name <email>`")]
    InvalidIdentity {
        /// The text as given.
        text: String,
    },
    /// The directory is not inside a git checkout.
    #[error("{path} is not inside a git checkout: {detail}")]
    NotACheckout {
        /// The directory.
        path: String,
        /// What git said.
        detail: String,
    },
    /// Files plumb would commit have changes of someone else that are not committed.
    #[error(
        "{} {} uncommitted changes; commit or stash them first, so plumb's commit holds its own change only",
        paths.join(", "),
        if paths.len() == 1 { "has" } else { "have" }
    )]
    Uncommitted {
        /// The files, relative to the checkout.
        paths: Vec<String>,
    },
    /// `HEAD` is detached and no branch to push to was named.
    #[error(
        "HEAD is detached (as in many CI checkouts), so there is no branch to push to; name it (--branch main)"
    )]
    DetachedHead,
    /// Every push attempt was refused because the branch kept moving.
    #[error(
        "{remote} refused the push to {branch} {attempts} times because others pushed first; the last commit ({commit}) is in the local checkout — run again, or raise the attempts: {detail}"
    )]
    PushRejected {
        /// The remote.
        remote: String,
        /// The remote branch.
        branch: String,
        /// Attempts made.
        attempts: u32,
        /// The local commit that was not pushed.
        commit: String,
        /// What git said on the last attempt, redacted.
        detail: String,
    },
    /// A file-system operation on the cache failed.
    #[error("cannot {action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let action = action.into();
        move |source| Error::Io { action, source }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
