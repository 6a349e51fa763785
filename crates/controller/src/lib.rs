//! The in-cluster GitOps agent: the `Application` resource and the loop that keeps each
//! one applied.
//!
//! ```text
//!  Git remote ──source──▶ Snapshot ──render──▶ DesiredSet ──engine──▶ Plan ──engine──▶ SyncResult
//!       ▲                                                               ▲
//!       │ ls-remote on interval / request             drift watches ────┘ (live changes)
//!  controller: Application watch ─▶ queue ─▶ reconcile ─▶ status, history, Events
//! ```
//!
//! Event-driven: a managed object changed by anyone reaches its app through a watch in
//! milliseconds, and only a reconcile whose commit or spec may have moved asks Git. A
//! no-op reconcile costs one list per kind and no writes (the engine's cache). Everything
//! the controller knows lives in Kubernetes — status, Events, an inventory ConfigMap — so
//! a restarted controller picks up where the last one stopped.

mod acting;
mod api_client;
pub mod application;
pub mod appset;
mod clock;
pub mod clusters;
mod context;
mod controller;
mod decision;
mod desired;
mod error;
mod events;
mod finalize;
mod identity;
pub mod import;
pub mod install;
mod leader;
pub mod liveness;
pub mod metrics;
mod notify;
pub mod operations;
mod policy;
mod queue;
pub mod random_key;
mod reconcile;
mod secrets;
mod shards;
mod status;
mod sync_loop;
mod watches;

pub use application::{AppKey, Application, ApplicationSpec, ApplicationStatus};
pub use appset::{ApplicationSet, ApplicationSetSpec};
pub use controller::{ControllerConfig, forget_managed_fields, run, run_until};
pub use error::{Error, Result};
pub use events::REPORTER;
pub use identity::Tenancy;
pub use install::{InstallOptions, manifests};
pub use notify::OutboundPolicy;
pub use policy::{ApiAction, AppPolicy, AppPolicySpec, KindPattern, PolicyRole, api_permits};
