//! The first stage of plumb's data flow: Git remote → [`Snapshot`](#status).
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//! ```
//!
//! This crate will own fetching repositories, resolving a revision (branch, tag, commit,
//! semver range) to a commit, immutable snapshots keyed by commit id, a per-URL cache
//! shared by all applications, cheap change detection, credentials, commit metadata and
//! signature verification. It knows nothing of Kubernetes.
//!
//! # Status
//!
//! Empty on purpose: the workspace exists so the crate boundaries are fixed before any
//! code crosses them. Its API arrives with the "Source" issue.
