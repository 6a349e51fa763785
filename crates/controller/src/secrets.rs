//! Credentials and decryption keys, read from Secrets in the Application's own namespace
//! at each fetch — never copied into status, events or logs.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use plumb_sops::Identities;
use plumb_source::Credentials;

use crate::error::{Error, Result};

/// Repository credentials from Secret `name`: `identity` + `known_hosts` for SSH, else
/// `username` (optional) + `password` (or `token`) for HTTPS.
pub(crate) async fn credentials(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Credentials> {
    let secret = read(client, namespace, name).await?;
    let value = |key: &str| -> Option<String> {
        secret
            .data
            .as_ref()
            .and_then(|data| data.get(key))
            .map(|bytes| String::from_utf8_lossy(&bytes.0).into_owned())
    };
    if let Some(identity) = value("identity") {
        let known_hosts = value("known_hosts").ok_or_else(|| Error::Credentials {
            secret: format!("{namespace}/{name}"),
            detail: "has `identity` but no `known_hosts`: plumb never trusts an unknown SSH host"
                .into(),
        })?;
        return Ok(Credentials::ssh(&identity, &known_hosts));
    }
    let password = value("password").or_else(|| value("token"));
    match password {
        Some(password) => Ok(Credentials::basic(
            &value("username").unwrap_or_else(|| "git".to_owned()),
            &password,
        )),
        None => Err(Error::Credentials {
            secret: format!("{namespace}/{name}"),
            detail: "holds none of `identity`, `password`, `token`".into(),
        }),
    }
}

/// age identities from every `*.agekey` entry of Secret `name`.
pub(crate) async fn age_identities(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Arc<Identities>> {
    let secret = read(client, namespace, name).await?;
    let mut identities = Identities::default();
    for (key, bytes) in secret.data.iter().flatten() {
        if !key.ends_with(".agekey") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes.0);
        let parsed = Identities::parse(&text).map_err(|err| Error::Credentials {
            secret: format!("{namespace}/{name}"),
            detail: format!("entry {key}: {err}"),
        })?;
        identities.extend(parsed);
    }
    if identities.is_empty() {
        return Err(Error::Credentials {
            secret: format!("{namespace}/{name}"),
            detail: "has no `*.agekey` entry with an age identity".into(),
        });
    }
    Ok(Arc::new(identities))
}

async fn read(client: &kube::Client, namespace: &str, name: &str) -> Result<Secret> {
    Api::<Secret>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .map_err(|err| Error::Credentials {
            secret: format!("{namespace}/{name}"),
            detail: format!("cannot be read: {err}"),
        })
}
