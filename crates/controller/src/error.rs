//! The controller's error type: why a reconcile or the controller itself failed. Each
//! variant becomes a condition reason on the Application, so users see it with
//! `kubectl get app` / `plumb get app` and know what to fix.

/// Why a reconcile (or the controller) failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository could not be reached, resolved or fetched.
    #[error("fetching the source failed: {0}")]
    Source(#[from] plumb_source::Error),
    /// The revision's files do not render; the cluster was left as it was.
    #[error("rendering {path} at {revision} failed: {source}; the cluster was left as it was")]
    Render {
        /// The application path.
        path: String,
        /// The commit.
        revision: String,
        /// Why.
        source: plumb_render::Error,
    },
    /// Planning or applying failed.
    #[error("{0}")]
    Engine(#[from] plumb_engine::Error),
    /// A Secret the Application names is missing or unusable.
    #[error("secret {secret} {detail}")]
    Credentials {
        /// `namespace/name`.
        secret: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The Application's spec is unusable.
    #[error("invalid spec: {0}")]
    Spec(String),
    /// Deleting an Application's objects with it did not finish; the Application stays.
    #[error("{0}")]
    CascadeIncomplete(String),
    /// A request to the API server failed.
    #[error("{action}: {source}")]
    Kube {
        /// What was being done.
        action: String,
        /// The client's error.
        source: kube::Error,
    },
    /// An AppPolicy refuses what the Application would do; nothing was written.
    #[error("refused by policy, nothing was applied, pruned or deleted: {}", .0.join("; "))]
    PolicyViolation(Vec<String>),
    /// The AppPolicies have not been read yet; tenant apps wait rather than run unchecked.
    #[error("the AppPolicies have not been read yet ({0}); this app waits until they are")]
    PoliciesUnknown(String),
    /// The destination cluster is not registered, or its Secret cannot make a client.
    #[error("{0}")]
    ClusterUnknown(String),
    /// The destination cluster does not answer; its apps are retried as it is probed.
    #[error("cluster {cluster} cannot be reached: {detail}")]
    ClusterUnreachable {
        /// The registered name.
        cluster: String,
        /// Why, and since when.
        detail: String,
    },
    /// The reconcile ran past its deadline and was stopped where it stood; it is retried.
    #[error(
        "the reconcile took longer than {}s and was stopped; it is retried (objects applied so far stay, the inventory written ahead of them keeps prunes right)",
        .0.as_secs()
    )]
    ReconcileTimeout(std::time::Duration),
    /// Leadership was lost; this replica stops so it never applies beside the new leader.
    #[error("leadership lost: {0}")]
    LeadershipLost(String),
}

impl Error {
    /// The PascalCase reason for conditions and events.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Source(_) => "FetchFailed",
            Error::Render { .. } => "RenderFailed",
            Error::Engine(plumb_engine::Error::Invalid { .. })
            | Error::Engine(plumb_engine::Error::UnknownKind { .. }) => "InvalidObject",
            Error::Engine(_) => "SyncFailed",
            Error::Credentials { .. } => "CredentialsInvalid",
            Error::Spec(_) => "InvalidSpec",
            Error::CascadeIncomplete(_) => "PruneFailed",
            Error::PolicyViolation(_) => "PolicyViolation",
            Error::PoliciesUnknown(_) => "PolicyUnknown",
            Error::Kube { .. } => "APIRequestFailed",
            Error::LeadershipLost(_) => "LeadershipLost",
            Error::ReconcileTimeout(_) => "ReconcileTimeout",
            Error::ClusterUnknown(_) => "ClusterUnknown",
            Error::ClusterUnreachable { .. } => "ClusterUnreachable",
        }
    }

    /// Whether the app waits on its destination cluster (not registered yet, or not
    /// answering) rather than failed: such tries do not use up `retry.limit`, because the
    /// cluster, not the app, has to change — and the controller retries its apps when it does.
    pub fn waits_on_cluster(&self) -> bool {
        matches!(
            self,
            Error::ClusterUnknown(_) | Error::ClusterUnreachable { .. }
        )
    }

    /// Whether retrying without a change in Git or the spec cannot help (kstatus `Stalled`).
    pub fn is_stalled(&self) -> bool {
        matches!(
            self,
            Error::Render { .. }
                | Error::Spec(_)
                | Error::Credentials { .. }
                | Error::PolicyViolation(_)
        ) || self.reason() == "InvalidObject"
    }
}

/// The controller's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
