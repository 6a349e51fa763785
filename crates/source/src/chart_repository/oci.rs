//! Charts in OCI registries, as `helm push` stores them: the repository's tags are the
//! chart's versions, the manifest's chart layer is the archive, and a registry that asks
//! for a Bearer token gets one from the realm its challenge names.

use serde::Deserialize;
use sha2::Digest;

use super::{
    ChartArchive, ChartRepositories, ChartSpec, Entry, MAX_ARCHIVE_BYTES, MAX_INDEX_BYTES, basic,
    choose, hex, is_digest, redact, unreachable, unreadable, versions, write_atomically,
};
use crate::error::{Error, Result};

const JSON: &str = "application/json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

impl ChartRepositories {
    /// A chart in an OCI registry (`oci://host/path` + chart name), as `helm push` stores
    /// it: its tags are its versions (`+` written `_`), its manifest's chart layer the
    /// archive. `localhost` and `127.0.0.1` are spoken to over plain HTTP, as Docker does.
    pub(super) async fn fetch_oci(&self, spec: &ChartSpec) -> Result<ChartArchive> {
        let reference = spec
            .repo_url
            .trim_start_matches("oci://")
            .trim_end_matches('/');
        let (host, path) = reference.split_once('/').unwrap_or((reference, ""));
        let name = if path.is_empty() {
            spec.chart.clone()
        } else {
            format!("{path}/{}", spec.chart)
        };
        let loopback = host.starts_with("localhost")
            || host.starts_with("127.0.0.1")
            || host.starts_with("[::1]");
        let scheme = if loopback { "http" } else { "https" };
        let base = format!("{scheme}://{host}/v2/{name}");
        let mut auth = basic(&spec.credentials);
        let tags = self
            .oci_get(
                &format!("{base}/tags/list"),
                JSON,
                &mut auth,
                spec,
                MAX_INDEX_BYTES,
            )
            .await?;
        let tags: TagList = serde_saphyr::from_slice(&tags).map_err(|err| Error::InvalidUrl {
            url: redact(&spec.repo_url),
            reason: unreadable(
                &spec.repo_url,
                "its tag list is not an OCI registry's",
                &err,
            ),
        })?;
        let entries: Vec<Entry> = tags
            .tags
            .iter()
            .map(|t| Entry {
                version: t.replace('_', "+"),
                urls: vec![t.clone()],
                digest: String::new(),
            })
            .collect();
        let entry = choose(&entries, &spec.version)
            .map_err(|reason| Error::InvalidRevision {
                revision: spec.version.clone(),
                reason,
            })?
            .ok_or_else(|| Error::RevisionNotFound {
                url: redact(&spec.repo_url),
                revision: format!("version of chart {:?} in {:?}", spec.chart, spec.version),
                hint: format!(": it has {}", versions(&entries)),
            })?;
        let tag = &entry.urls[0];
        let manifest = self
            .oci_get(
                &format!("{base}/manifests/{tag}"),
                OCI_MANIFEST,
                &mut auth,
                spec,
                MAX_INDEX_BYTES,
            )
            .await?;
        let manifest: OciManifest =
            serde_saphyr::from_slice(&manifest).map_err(|err| Error::InvalidUrl {
                url: redact(&spec.repo_url),
                reason: unreadable(&spec.repo_url, "a chart manifest cannot be read", &err),
            })?;
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == CHART_LAYER)
            .ok_or_else(|| Error::InvalidUrl {
                url: redact(&spec.repo_url),
                reason: format!(
                    "{}:{tag} is not a Helm chart (no layer of type {CHART_LAYER})",
                    spec.chart
                ),
            })?;
        let digest = layer
            .digest
            .strip_prefix("sha256:")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !is_digest(&digest) {
            return Err(Error::InvalidUrl {
                url: redact(&spec.repo_url),
                reason: format!(
                    "the chart layer's digest {:?} is not a sha256",
                    layer.digest
                ),
            });
        }
        let file = format!("{}-{}.tgz", spec.chart, entry.version);
        let dir = self.dir.join(&digest);
        if !dir.join(&file).is_file() {
            let bytes = self
                .oci_get(
                    &format!("{base}/blobs/{}", layer.digest),
                    "*/*",
                    &mut auth,
                    spec,
                    MAX_ARCHIVE_BYTES,
                )
                .await?;
            let actual = hex(&sha2::Sha256::digest(&bytes));
            if actual != digest {
                return Err(Error::InvalidUrl {
                    url: redact(&spec.repo_url),
                    reason: format!(
                        "the chart layer's sha256 is {actual}, its manifest says {digest}: refused"
                    ),
                });
            }
            write_atomically(&dir, &file, &bytes).map_err(|source| Error::Io {
                action: format!("write {}", dir.join(&file).display()),
                source,
            })?;
        }
        Ok(ChartArchive {
            version: entry.version.clone(),
            digest,
            dir,
            file,
        })
    }

    /// A registry GET: on `401` with a Bearer challenge, a token is asked of the realm (with
    /// the app's credentials, if any) and the request made again with it.
    async fn oci_get(
        &self,
        url: &str,
        accept: &str,
        auth: &mut Option<String>,
        spec: &ChartSpec,
        max: usize,
    ) -> Result<Vec<u8>> {
        let headers = [(http::header::ACCEPT, accept)];
        let mut reply = self.send(url, &headers, auth.clone(), max).await?;
        if reply.status == http::StatusCode::UNAUTHORIZED
            && let Some(challenge) = reply.challenge.as_deref().and_then(bearer_challenge)
        {
            let mut token_url = challenge.realm.clone();
            let mut query = Vec::new();
            if let Some(service) = &challenge.service {
                query.push(format!("service={}", escape(service)));
            }
            if let Some(scope) = &challenge.scope {
                query.push(format!("scope={}", escape(scope)));
            }
            if !query.is_empty() {
                token_url.push(if token_url.contains('?') { '&' } else { '?' });
                token_url.push_str(&query.join("&"));
            }
            let token = self
                .send(&token_url, &[], basic(&spec.credentials), MAX_INDEX_BYTES)
                .await?;
            if !token.status.is_success() {
                return Err(unreachable(
                    url,
                    format!("the registry's token service answered {}", token.status),
                ));
            }
            let token: Token = serde_saphyr::from_slice(&token.body).map_err(|err| {
                unreachable(
                    url,
                    unreadable(url, "the registry's token cannot be read", &err),
                )
            })?;
            *auth = Some(format!(
                "Bearer {}",
                token.token.or(token.access_token).unwrap_or_default()
            ));
            reply = self.send(url, &headers, auth.clone(), max).await?;
        }
        if reply.status == http::StatusCode::NOT_FOUND {
            return Err(Error::RevisionNotFound {
                url: redact(&spec.repo_url),
                revision: format!("chart {:?}", spec.chart),
                hint: String::new(),
            });
        }
        if !reply.status.is_success() {
            return Err(unreachable(url, format!("HTTP {}", reply.status)));
        }
        Ok(reply.body)
    }
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct OciManifest {
    #[serde(default)]
    layers: Vec<OciLayer>,
}

#[derive(Deserialize)]
struct OciLayer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// A `Bearer realm="…",service="…",scope="…"` challenge.
#[derive(Debug, PartialEq, Eq)]
struct BearerChallenge {
    realm: String,
    service: Option<String>,
    scope: Option<String>,
}

fn bearer_challenge(header: &str) -> Option<BearerChallenge> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut fields = std::collections::BTreeMap::new();
    let mut rest = rest.trim();
    while let Some((key, tail)) = rest.split_once('=') {
        let tail = tail.trim_start();
        let (value, after) = match tail.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => tail.split_once(',').map_or((tail, ""), |(v, a)| (v, a)),
        };
        fields.insert(
            key.trim().trim_start_matches(',').trim().to_string(),
            value.to_string(),
        );
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(BearerChallenge {
        realm: fields.remove("realm")?,
        service: fields.remove("service"),
        scope: fields.remove("scope"),
    })
}

fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_names_where_to_get_a_token() {
        assert_eq!(
            bearer_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:bitnamicharts/nginx:pull""#
            ),
            Some(BearerChallenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:bitnamicharts/nginx:pull".into()),
            })
        );
        assert_eq!(bearer_challenge("Basic realm=x"), None);
    }
}
