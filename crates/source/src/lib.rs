//! The first stage of plumb's data flow: Git remote → [`Snapshot`].
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!
//!  RepoSpec{url, revision, credentials, verification}
//!     │ resolve: git ls-remote (refs only, no objects)      ──▶ Resolved{commit}   "has it moved?"
//!     │ snapshot: lock the URL's cache ─▶ cached? ─yes──────────────────────────┐
//!     │                                   └no─▶ fetch --depth=1 <commit>        │
//!     │                                         ▶ verify signature (optional)   │
//!     │                                         ▶ count files/bytes, checkout   │
//!     │                                         ▶ read-only, rename into place  │
//!     ▼                                         ▶ GC least recently used        ▼
//!  Snapshot{commit, root: read-only dir without .git, metadata}  (kept while held)
//! ```
//!
//! Helm chart repositories are a source too ([`Source::chart`], module `chart_repository`):
//! a chart's `index.yaml` is read over HTTP(S) on every resolve, and the archive of the
//! version chosen is cached by its sha256.
//!
//! The other direction, for the CLI's `set-image` and `promote`: [`Checkout::publish`]
//! commits a change in a local checkout and pushes it, making the change again on the new
//! tip when someone pushed first (module `publish`).
//!
//! Many applications share one repository: the cache is per URL, one fetch serves all of
//! them, and a snapshot is keyed by commit id and never changes once made.
//!
//! # Why the git CLI
//!
//! plumb drives the `git` command-line program as a subprocess (module
//! `git.rs`), rather than linking `gix` or `libgit2`:
//! - it speaks every transport plumb needs — file, git://, smart HTTP(S), SSH (through the
//!   system `ssh`, with `known_hosts` checked strictly) — and shallow fetches, `ls-remote`
//!   and signature verification (`verify-commit`, with `ssh-keygen` or `gpg`);
//! - it links no TLS stack into plumb, so kube's rustls/ring stays the only crypto
//!   provider (gix's HTTPS transport pulls in a second one, which makes rustls panic);
//! - it adds nothing to compile, and a controller image needs only `git`,
//!   `openssh-client` and, for OpenPGP verification, `gnupg`;
//! - a subprocess can be bounded as a unit: its process group is killed on timeout, on
//!   cancellation, or when the fetched data passes its disk budget.
//!
//! The price is a process per operation (a few milliseconds) and parsing git's output,
//! which is kept to stable plumbing formats (`ls-remote`, `ls-tree -z`, `cat-file`).
//! git runs with no user or system configuration, no credential helper, no prompt, and
//! only the allowed protocols.

mod access;
mod answers;
mod cache;
mod chart_repository;
mod credentials;
mod error;
mod git;
mod hosts;
mod limits;
mod metadata;
pub mod outbound;
mod publish;
mod refs;
mod remote;
mod repo_url;
mod revision;
mod snapshot;
mod source;
mod verify;

pub use chart_repository::{ChartArchive, ChartSpec};
pub use credentials::{Credentials, Secret};
pub use error::{Error, Result};
pub use hosts::SourceHosts;
pub use limits::{CachePolicy, Limits};
pub use metadata::{CommitId, CommitMetadata, Signature};
pub use publish::{
    Change, Checkout, Identity, PublishError, PublishOptions, Published, PushTarget,
};
pub use repo_url::{RepositoryLocation, redact_url};
pub use revision::{Revision, VersionRange};
pub use snapshot::{Snapshot, Transfer};
pub use source::{RepoSpec, Resolved, Source, SourceConfig};
pub use verify::Verification;
