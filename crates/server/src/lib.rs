//! plumb's HTTP face: REST API, dashboard, Git webhook receiver, metrics and probes.
//!
//! It calls the controller and engine; it never knows how a sync works.
//!
//! # Status
//!
//! Empty on purpose: its API arrives with the "Server" issue.
