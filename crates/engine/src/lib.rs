//! The Kubernetes-facing core of plumb: DesiredSet → Plan → SyncResult.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──engine──▶ SyncResult
//!                                                         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//! ```
//!
//! This crate will own object identity, discovery, apply ordering, server-side-apply
//! dry-run diffs, apply, prune by inventory, health and waiting. It knows nothing of
//! plumb's own CRD, so the CLI can use it directly.
//!
//! # Status
//!
//! Empty on purpose: its API arrives with the "Engine" issue.
