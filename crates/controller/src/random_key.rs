//! The installation's secret key for Helm's random functions, and each Application's key
//! derived from it.
//!
//! A chart that makes a password with `randAlphaNum` or a certificate with `genCA` must
//! render the same bytes at every reconcile (else plumb would apply a new password as
//! drift, forever) and bytes nobody else can compute (else anyone who reads the Git
//! repository knows the password). So the controller keeps one random 32-byte key per
//! installation, in Secret [`SECRET_NAME`] of its own namespace, made on first start if
//! missing; each Application renders with HMAC(installation key, its namespace/name), so
//! no two apps — no two tenants — share randomness. Deleting the Secret rotates every
//! generated password and certificate at the next start.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use plumb_render::RandomKey;

use crate::application::AppKey;
use crate::error::{Error, Result};

/// The Secret of the controller's namespace holding the installation's key.
pub const SECRET_NAME: &str = "plumb-random-key";
/// Its entry: 32 bytes.
const ENTRY: &str = "key";

/// The installation's key: read from its Secret, or made and stored when there is none. Two
/// replicas starting at once both try to create it; the one that loses reads the winner's.
pub(crate) async fn installation_key(client: &kube::Client, namespace: &str) -> Result<RandomKey> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let failed = |action: &str, source| Error::Kube {
        action: format!("{action} Secret {namespace}/{SECRET_NAME} (Helm's random key)"),
        source,
    };
    for _ in 0..3 {
        if let Some(secret) = api
            .get_opt(SECRET_NAME)
            .await
            .map_err(|e| failed("reading", e))?
        {
            return parse(&secret, namespace);
        }
        let key = RandomKey::fresh();
        match api.create(&PostParams::default(), &secret(&key)).await {
            Ok(_) => {
                tracing::info!("made Helm's random key in Secret {namespace}/{SECRET_NAME}");
                return Ok(key);
            }
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(kube::Error::Api(status)) if status.code == 403 => {
                return Err(Error::Spec(format!(
                    "the controller may not create Secret {namespace}/{SECRET_NAME}, the key \
                     Helm's random functions draw from: grant it `create` on Secrets in \
                     {namespace} (`plumb install` does), or create the Secret with 32 random \
                     bytes in its entry `{ENTRY}` ({})",
                    status.message
                )));
            }
            Err(e) => return Err(failed("creating", e)),
        }
    }
    Err(Error::Spec(format!(
        "Secret {namespace}/{SECRET_NAME} (Helm's random key) was created and deleted again \
         while it was being read"
    )))
}

/// The key `app` renders with.
pub fn app_key(installation: &RandomKey, app: &AppKey) -> RandomKey {
    installation.derive(&[
        b"plumb Application",
        app.namespace.as_bytes(),
        app.name.as_bytes(),
    ])
}

fn secret(key: &RandomKey) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(SECRET_NAME.to_owned()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "plumb".to_owned(),
            )])),
            annotations: Some(BTreeMap::from([(
                "plumb.dev/description".to_owned(),
                "The key Helm's random functions (randAlphaNum, genCA…) draw from: charts \
                 render the same passwords and certificates with it, and nobody can compute \
                 them without it. Deleting it rotates them all."
                    .to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        immutable: Some(true),
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(
            ENTRY.to_owned(),
            ByteString(key.bytes().to_vec()),
        )])),
        ..Secret::default()
    }
}

fn parse(secret: &Secret, namespace: &str) -> Result<RandomKey> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(ENTRY))
        .map(|bytes| bytes.0.as_slice());
    match bytes.map(<[u8; 32]>::try_from) {
        Some(Ok(key)) => Ok(RandomKey::new(key)),
        _ => Err(Error::Credentials {
            secret: format!("{namespace}/{SECRET_NAME}"),
            detail: format!(
                "its entry `{ENTRY}` must hold 32 bytes (Helm's random key); delete the Secret \
                 and plumb makes a new one (every generated password and certificate changes)"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_has_its_own_key_and_the_secret_holds_the_installation_s() {
        let installation = RandomKey::new([7; 32]);
        let key = |namespace: &str, name: &str| {
            app_key(
                &installation,
                &AppKey {
                    namespace: namespace.into(),
                    name: name.into(),
                },
            )
        };
        assert_eq!(key("a", "web"), key("a", "web"));
        assert_ne!(key("a", "web"), key("b", "web"));
        assert_ne!(key("a", "web"), key("a", "db"));
        assert_ne!(key("a", "web"), installation);
        let stored = secret(&installation);
        assert_eq!(parse(&stored, "plumb-system").unwrap(), installation);
        assert!(parse(&Secret::default(), "plumb-system").is_err());
    }
}
