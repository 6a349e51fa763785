//! Whom an Application acts as: the one rule that confines tenants.
//!
//! Whoever may create an Application in a namespace must not gain more than they could do
//! there with their own rights. So an Application acts as a ServiceAccount of its own
//! namespace — the one it names in `destination.serviceAccountName`, else the controller's
//! default (`--default-service-account`, `plumb` unless set; Flux's flag of the same name) —
//! and plumb applies, prunes, reads the Secrets the app names and deletes on cascade *as
//! that account*, through impersonation. The account's RBAC, which the namespace's owners
//! grant, bounds what the app changes.
//!
//! Only Applications in the operators' own namespaces (`--admin-namespace`, the
//! controller's namespace unless set) may act as the controller itself, by naming no
//! account: the cluster's operators write those, as Argo CD's users write Applications in
//! the `argocd` namespace.

use std::sync::Arc;

use plumb_engine::Engine;

use crate::api_client;
use crate::clusters::Destination;
use crate::error::{Error, Result};

/// Who may act as the controller, and whom everyone else acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenancy {
    /// Namespaces whose Applications act as the controller when they name no account.
    pub admin_namespaces: Vec<String>,
    /// The account of its own namespace an Application acts as when it names none
    /// (outside the admin namespaces). `None`: such an Application is refused.
    pub default_service_account: Option<String>,
}

impl Tenancy {
    /// The default name of the account a tenant's Application acts as.
    pub const DEFAULT_SERVICE_ACCOUNT: &'static str = "plumb";

    /// Tenancy with `namespace` (the controller's) as the only admin namespace.
    pub fn for_controller_in(namespace: &str) -> Tenancy {
        Tenancy {
            admin_namespaces: vec![namespace.to_owned()],
            default_service_account: Some(Self::DEFAULT_SERVICE_ACCOUNT.to_owned()),
        }
    }

    /// Whom an Application in `namespace` naming `account` (or none) acts as; the error
    /// says why it may act as no one.
    pub(crate) fn identity(
        &self,
        namespace: &str,
        account: Option<&str>,
    ) -> std::result::Result<Identity, String> {
        if let Some(account) = account.filter(|a| !a.is_empty()) {
            return Ok(Identity::service_account(namespace, account));
        }
        if self.admin_namespaces.iter().any(|n| n == namespace) {
            return Ok(Identity::Controller);
        }
        match &self.default_service_account {
            Some(account) => Ok(Identity::service_account(namespace, account)),
            None => Err(format!(
                "names no ServiceAccount (spec.destination.serviceAccountName), and only \
                 Applications in {} may act as the controller: name the account this \
                 Application may act as",
                self.admin_namespaces.join(", ")
            )),
        }
    }
}

/// Whom the API server sees when plumb acts for an Application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// The controller's own account.
    Controller,
    /// `system:serviceaccount:<namespace>:<name>`, impersonated.
    ServiceAccount {
        /// Its user name, as impersonated.
        user: String,
    },
}

impl Identity {
    fn service_account(namespace: &str, name: &str) -> Identity {
        Identity::ServiceAccount {
            user: format!("system:serviceaccount:{namespace}:{name}"),
        }
    }
}

/// The clients and engine acting as one [`Identity`]: in the hub, where the Secrets and
/// ConfigMaps an app names are read, and in its destination cluster, where it applies
/// (the same one for apps of the controller's own cluster).
#[derive(Clone)]
pub(crate) struct Acting {
    pub(crate) identity: Identity,
    /// The hub, as the identity: what the app names is read through it.
    pub(crate) client: kube::Client,
    /// The destination cluster, as the identity: plan, apply and prune.
    pub(crate) engine: Arc<Engine>,
    /// Where it applies.
    pub(crate) destination: Arc<Destination>,
}

impl std::fmt::Debug for Acting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acting")
            .field("identity", &self.identity)
            .field("destination", &self.destination.name)
            .finish_non_exhaustive()
    }
}

impl Acting {
    /// Acting as `identity` toward `destination`: the controller's own clients and engine,
    /// or new ones that impersonate the account — in the hub (`hub`, `hub_config`) and in
    /// the destination, where an account of the same namespace and name is impersonated.
    /// Only the user is sent: the API server adds a ServiceAccount's groups itself, and
    /// sending them would need the right to impersonate groups, which plumb is not granted.
    pub(crate) async fn new(
        identity: Identity,
        hub: &kube::Client,
        hub_config: &kube::Config,
        destination: &Arc<Destination>,
    ) -> Result<Acting> {
        let Identity::ServiceAccount { user } = &identity else {
            return Ok(Acting {
                identity,
                client: hub.clone(),
                engine: Arc::clone(&destination.engine),
                destination: Arc::clone(destination),
            });
        };
        let impersonating = |config: &kube::Config| {
            let mut config = config.clone();
            config.auth_info.impersonate = Some(user.clone());
            config.auth_info.impersonate_groups = None;
            api_client::counted(config).map_err(|source| Error::Kube {
                action: format!("building a client impersonating {user}"),
                source,
            })
        };
        let client = impersonating(hub_config)?;
        let applying = if destination.is_remote() {
            impersonating(&destination.config)?
        } else {
            client.clone()
        };
        let engine = Arc::new(destination.engine.acting_as(applying).await);
        Ok(Acting {
            identity,
            client,
            engine,
            destination: Arc::clone(destination),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenancy() -> Tenancy {
        Tenancy::for_controller_in("plumb-system")
    }

    #[test]
    fn a_named_account_is_acted_as_in_the_apps_own_namespace() {
        assert_eq!(
            tenancy().identity("team-a", Some("deployer")).unwrap(),
            Identity::ServiceAccount {
                user: "system:serviceaccount:team-a:deployer".into()
            }
        );
        // Even in an admin namespace: naming an account narrows the app's rights.
        assert_eq!(
            tenancy()
                .identity("plumb-system", Some("deployer"))
                .unwrap(),
            Identity::ServiceAccount {
                user: "system:serviceaccount:plumb-system:deployer".into()
            }
        );
    }

    #[test]
    fn a_tenant_naming_no_account_acts_as_the_default_one_never_as_the_controller() {
        assert_eq!(
            tenancy().identity("team-a", None).unwrap(),
            Identity::ServiceAccount {
                user: "system:serviceaccount:team-a:plumb".into()
            }
        );
        assert_eq!(
            tenancy().identity("team-a", Some("")).unwrap(),
            tenancy().identity("team-a", None).unwrap()
        );
    }

    #[test]
    fn only_admin_namespaces_act_as_the_controller() {
        assert_eq!(
            tenancy().identity("plumb-system", None).unwrap(),
            Identity::Controller
        );
    }

    #[test]
    fn without_a_default_account_a_tenant_must_name_one() {
        let strict = Tenancy {
            default_service_account: None,
            ..tenancy()
        };
        let err = strict.identity("team-a", None).unwrap_err();
        assert!(
            err.contains("serviceAccountName") && err.contains("plumb-system"),
            "{err}"
        );
    }
}
