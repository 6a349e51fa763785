//! What every handler reads: the clients, the Applications as watched, who may do what, the
//! webhook keys and the configuration.

use kube::Client;

use crate::ServerConfig;
use crate::auth::Authority;
use crate::store::Apps;
use crate::webhook_secret::WebhookSecret;

/// What every handler reads.
pub(crate) struct Server {
    pub(crate) client: Client,
    pub(crate) apps: Apps,
    pub(crate) authority: Authority,
    pub(crate) webhook_secret: WebhookSecret,
    pub(crate) config: ServerConfig,
}
