//! Who reads a notification's Secret: the Application's acting identity, never the
//! controller for a tenant.
//!
//! The Secret a `spec.notifications[]` entry names holds where to send and with which
//! token. Read with the controller's rights, any Secret of the namespace could be sent to a
//! host of the app author's choosing (audit H2, a confused deputy). So it is read as the
//! app acts ([`crate::identity`]): impersonating the app's ServiceAccount, whose RBAC the
//! namespace's owners decide; the controller's own client only for an operators' app that
//! acts as the controller. Impersonating clients are kept, a few, by user name: building
//! one is cheap, but a connection pool per notice would not be.

use std::collections::VecDeque;
use std::sync::Mutex;

use kube::Client;

/// How many impersonating clients are kept; the least recently made goes first.
const KEPT: usize = 32;

/// Clients to read Secrets with, by the user they impersonate.
pub(super) struct Readers {
    /// The controller's own client.
    controller: Client,
    /// Its configuration, to derive impersonating clients from.
    config: kube::Config,
    kept: Mutex<VecDeque<(String, Client)>>,
}

impl Readers {
    pub(super) fn new(controller: Client, config: kube::Config) -> Readers {
        Readers {
            controller,
            config,
            kept: Mutex::default(),
        }
    }

    /// The client acting as `user` (impersonated), or as the controller for `None`.
    pub(super) fn client(&self, user: Option<&str>) -> Result<Client, String> {
        let Some(user) = user else {
            return Ok(self.controller.clone());
        };
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, client)) = kept.iter().find(|(u, _)| u == user) {
            return Ok(client.clone());
        }
        let client = impersonating(&self.config, user)?;
        if kept.len() >= KEPT {
            kept.pop_front();
        }
        kept.push_back((user.to_owned(), client.clone()));
        Ok(client)
    }
}

/// A client impersonating `user` alone, as [`crate::identity::Acting`] builds them: the API
/// server adds a ServiceAccount's groups itself.
fn impersonating(config: &kube::Config, user: &str) -> Result<Client, String> {
    let mut config = config.clone();
    config.auth_info.impersonate = Some(user.to_owned());
    config.auth_info.impersonate_groups = None;
    crate::api_client::counted(config)
        .map_err(|err| format!("cannot build a client impersonating {user}: {err}"))
}
