//! The second stage of plumb's data flow: a path inside a snapshot → DesiredSet.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!                                  ^^^^^^^^^^^^^^^^^^^^^^^^
//! ```
//!
//! This crate will own turning files into objects with their provenance: plain YAML/JSON
//! directories, native Kustomize and SOPS decryption, all confined to the snapshot root
//! (a repository is untrusted input). It knows nothing of the cluster.
//!
//! # Status
//!
//! Empty on purpose: its API arrives with the "Render" and "Native Kustomize" issues.
