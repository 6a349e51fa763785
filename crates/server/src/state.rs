//! What every handler reads: the clients, the Applications as watched, who may do what, the
//! webhook keys and the configuration.

use http::StatusCode;
use kube::Client;
use plumb_controller::ApiAction;

use crate::ServerConfig;
use crate::auth::{Authority, Caller};
use crate::error::ApiError;
use crate::store::{Apps, Policies};
use crate::webhook_secret::WebhookSecret;

/// What every handler reads.
pub(crate) struct Server {
    pub(crate) client: Client,
    pub(crate) apps: Apps,
    pub(crate) policies: Policies,
    pub(crate) authority: Authority,
    pub(crate) webhook_secret: WebhookSecret,
    pub(crate) config: ServerConfig,
}

impl Server {
    /// Whether the AppPolicies' API roles let `caller` ask `action` of the Applications of
    /// `namespace` (RBAC is checked apart: both must allow it). Until the policies were read
    /// once, nothing is allowed: operations wait rather than go unchecked.
    pub(crate) fn require_role(
        &self,
        caller: &Caller,
        namespace: &str,
        action: ApiAction,
    ) -> Result<(), ApiError> {
        let Some(policies) = self.policies.all() else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the AppPolicies have not been read yet; retry in a few seconds",
            ));
        };
        plumb_controller::api_permits(
            &policies,
            &self.config.admin_namespaces,
            namespace,
            &caller.username,
            &caller.groups,
            action,
        )
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, why))
    }
}
