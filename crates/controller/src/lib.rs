//! The in-cluster GitOps agent: the `Application` CRD and its reconcile loop.
//!
//! It joins `source`, `render` and `engine` into a loop that keeps the cluster matching
//! Git: drift watches, self-heal, status, history, events and leader election.
//!
//! # Status
//!
//! Empty on purpose: its API arrives with the "Controller" issue.
