//! The second stage of plumb's data flow: a path inside a snapshot → DesiredSet.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──▶ SyncResult
//!                                  ^^^^^^^^^^^^^^^^^^^^^^^^
//! ```
//!
//! It turns files into objects with their provenance: plain YAML/JSON directories, SOPS
//! decryption and (with its own issue) native Kustomize — all confined to the snapshot root,
//! because a repository is untrusted input. It knows nothing of the cluster.

pub mod sops;
