//! ApplicationSets: many Applications from one template — one per folder of a
//! repository, per parameter file, per registered cluster, per element of a list, or per
//! combination of two of these — as large teams write with Argo CD instead of hundreds of
//! Applications by hand.
//!
//! ```text
//!  generators ─▶ parameter sets ─▶ template ─▶ Applications (owned, labelled) ─▶ prune the rest
//! ```
//!
//! The Applications are ordinary ones — reconciled, governed by AppPolicies and shown like
//! any other — made in the set's own namespace, owned by it (deleting the set deletes
//! them) and labelled [`SET_LABEL`]. An Application no generator makes any more is deleted
//! unless `syncPolicy.prune` is false. The set acts as its namespace's account, and its
//! Git generators read only the repositories the namespace's AppPolicies allow.

mod generate;
mod glob;
mod spec;
mod sync;
mod template;

pub use spec::{
    ApplicationSet, ApplicationSetSpec, ApplicationSetStatus, ApplicationTemplate,
    ClustersGenerator, DirectoryMatch, FileMatch, Generator, GitGenerator, ListGenerator,
    MatrixGenerator, NestedGenerator, SetSyncPolicy, TemplateMetadata,
};
pub use template::SET_LABEL;

pub(crate) use sync::run;
