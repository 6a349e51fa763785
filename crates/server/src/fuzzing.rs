//! Entry points for the fuzz targets in `fuzz/` at the repository's root; not an API.
//!
//! A delivery's headers come as raw name and value bytes; those HTTP would not carry (an
//! invalid name or value) are left out, as the HTTP parser refuses them before the receiver.

use http::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;

use crate::webhooks::providers::{Delivery, Provider};

/// A webhook provider, as `POST /api/v1/webhooks/{provider}` names it.
#[derive(Clone, Copy, Debug)]
pub struct Webhook(Provider);

impl Webhook {
    /// `github`, `gitlab`, `gitea`, `forgejo` or `bitbucket`.
    pub fn from_path(name: &str) -> Option<Webhook> {
        Provider::from_path(name).map(Webhook)
    }

    /// Whether the delivery proves knowledge of `secret`, as the receiver checks it.
    pub fn verify(
        self,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        secret: &[u8],
    ) -> Result<(), String> {
        self.0.verify(&header_map(headers), body, secret)
    }

    /// The repository URLs a verified push names; `None` for an event that is not a push.
    pub fn parse(
        self,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
    ) -> Result<Option<Vec<String>>, String> {
        Ok(match self.0.parse(&header_map(headers), body)? {
            Delivery::Push(urls) => Some(urls),
            Delivery::Ignored(_) => None,
        })
    }
}

/// The hex HMAC-SHA256 of `body` under `secret`, as GitHub, Gitea and Bitbucket sign.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header_map(headers: &[(&[u8], &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}
