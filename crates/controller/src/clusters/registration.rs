//! What a registered cluster's Secret says: where the cluster is and how to reach it —
//! read as data only, never as a program to run or a file of the controller's to read.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;

use crate::error::{Error, Result};

pub(super) fn text<'a>(
    data: &'a BTreeMap<String, k8s_openapi::ByteString>,
    key: &str,
) -> Option<&'a str> {
    data.get(key)
        .and_then(|bytes| std::str::from_utf8(&bytes.0).ok())
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

pub(super) fn server_of(secret: &Secret) -> Option<String> {
    let data = secret.data.as_ref()?;
    text(data, "server").map(str::to_owned).or_else(|| {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(text(data, "kubeconfig")?).ok()?;
        kubeconfig
            .clusters
            .first()?
            .cluster
            .as_ref()?
            .server
            .clone()
    })
}

/// The client configuration a cluster's Secret holds: a whole `kubeconfig`, or `server`
/// with `token` or `tls.crt` and `tls.key`, and `ca.crt`. Credentials that would run a
/// program (`exec`, auth providers) or read files of the controller are refused: the
/// Secret's data is all there is.
pub(super) async fn config_from(name: &str, secret: &Secret) -> Result<kube::Config> {
    let invalid = |why: String| Error::ClusterUnknown(format!("cluster {name}: {why}"));
    let data = secret.data.clone().unwrap_or_default();
    let kubeconfig = match text(&data, "kubeconfig") {
        Some(yaml) => kube::config::Kubeconfig::from_yaml(yaml)
            .map_err(|err| invalid(format!("its kubeconfig cannot be read: {err}")))?,
        None => {
            let server = text(&data, "server").ok_or_else(|| {
                invalid("its Secret has neither kubeconfig nor server".to_owned())
            })?;
            let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut user = serde_json::Map::new();
            if let Some(token) = text(&data, "token") {
                user.insert("token".into(), token.into());
            }
            if let (Some(cert), Some(key)) = (data.get("tls.crt"), data.get("tls.key")) {
                user.insert("client-certificate-data".into(), encode(&cert.0).into());
                user.insert("client-key-data".into(), encode(&key.0).into());
            }
            let mut cluster = serde_json::json!({"server": server});
            if let Some(ca) = data.get("ca.crt") {
                cluster["certificate-authority-data"] = encode(&ca.0).into();
            }
            let document = serde_json::json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": name, "cluster": cluster}],
                "users": [{"name": name, "user": user}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
                "current-context": name,
            });
            serde_json::from_value(document)
                .map_err(|err| invalid(format!("its fields do not make a client: {err}")))?
        }
    };
    let reads_files = kubeconfig.clusters.iter().any(|named| {
        named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
    });
    if reads_files {
        return Err(invalid(
            "its kubeconfig reads the CA from a file of the controller (certificate-authority); give it as certificate-authority-data".into(),
        ));
    }
    for named in &kubeconfig.auth_infos {
        if let Some(auth) = &named.auth_info
            && (auth.exec.is_some()
                || auth.auth_provider.is_some()
                || auth.token_file.is_some()
                || auth.client_certificate.is_some()
                || auth.client_key.is_some())
        {
            return Err(invalid(
                "its kubeconfig runs a program or reads files of the controller (exec, auth-provider, tokenFile, client-certificate, client-key); give the credentials as data".into(),
            ));
        }
    }
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|err| invalid(format!("its kubeconfig does not make a client: {err}")))
}
