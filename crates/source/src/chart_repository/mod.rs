//! Helm chart repositories over HTTP(S): `index.yaml` read, the version a range asks for
//! chosen, its archive fetched, checked against the digest the index gives and cached by
//! that digest.
//!
//! ```text
//!  ChartSpec{repo, chart, version range, credentials}
//!     │ GET repo/index.yaml (with the app's credentials: every call proves access)
//!     │ highest version in range (stable unless the range names a pre-release)
//!     │ cached archive with that digest? ─yes───────────────────────────┐
//!     │                                   └no─▶ GET url, bounded, sha256 │
//!     ▼                                                                  ▼
//!  ChartArchive{version, digest, dir, file}   (dir/file is the chart's .tgz, read-only)
//! ```
//!
//! The index is fetched on every resolve, as `git ls-remote` is: cheap, and the only way to
//! see a new version. An archive is immutable once its digest is known, so it is fetched
//! once per digest, whoever asks. Errors name the repository but not what the network
//! said, for the reason [`crate::Error::Unreachable`] gives.

mod oci;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use sha2::Digest;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::hosts::SourceHosts;
use crate::outbound::{CheckedResolver, OutboundPolicy};
use crate::revision::VersionRange;

/// A chart, by repository, name and version range.
#[derive(Clone, Debug)]
pub struct ChartSpec {
    /// The repository's URL (`https://charts.example.com`), where `index.yaml` is.
    pub repo_url: String,
    /// The chart's name in the index.
    pub chart: String,
    /// An exact version, a range (`1.2.x`, `>=1.2.0 <2`, `^1`), or empty for the newest
    /// stable version.
    pub version: String,
    /// Basic credentials for the index and the archive, if the repository needs them.
    pub credentials: Credentials,
}

/// A chart archive in the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartArchive {
    /// The version chosen.
    pub version: String,
    /// The archive's sha256, hex.
    pub digest: String,
    /// The directory holding the archive (only it).
    pub dir: PathBuf,
    /// The archive's file name in `dir`.
    pub file: String,
}

/// Most bytes an `index.yaml` may have (large public repositories' are a few MiB).
const MAX_INDEX_BYTES: usize = 32 << 20;
/// Most bytes a chart archive may have.
const MAX_ARCHIVE_BYTES: usize = 16 << 20;
/// Redirects followed (GitHub Pages and object stores redirect).
const MAX_REDIRECTS: usize = 5;

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    entries: std::collections::BTreeMap<String, Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    version: String,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    digest: String,
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector<CheckedResolver>>;

/// Chart repositories may be on loopback and private networks, as Git repositories may;
/// link-local and metadata addresses never (see [`crate::outbound`]).
const POLICY: OutboundPolicy = OutboundPolicy {
    allow_loopback: true,
};

/// Fetches charts into `cache_dir/charts/`.
pub(crate) struct ChartRepositories {
    dir: PathBuf,
    hosts: SourceHosts,
    timeout: Duration,
    client: std::result::Result<Client<Connector, Empty<Bytes>>, String>,
}

impl std::fmt::Debug for ChartRepositories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartRepositories")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl ChartRepositories {
    pub(crate) fn new(
        cache_dir: &Path,
        timeout: Duration,
        hosts: SourceHosts,
    ) -> ChartRepositories {
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|builder| {
                let mut http = HttpConnector::new_with_resolver(CheckedResolver::new(POLICY));
                http.enforce_http(false);
                http.set_connect_timeout(Some(timeout));
                Client::builder(TokioExecutor::new())
                    .build(builder.https_or_http().enable_http1().wrap_connector(http))
            })
            .map_err(|err| {
                format!("no trusted root certificates on this system ({err}); mount a CA bundle")
            });
        ChartRepositories {
            dir: cache_dir.join("charts"),
            hosts,
            timeout,
            client,
        }
    }

    /// The archive of the version `spec` asks for, fetched unless cached.
    pub(crate) async fn fetch(&self, spec: &ChartSpec) -> Result<ChartArchive> {
        if spec.repo_url.starts_with("oci://") {
            return self.fetch_oci(spec).await;
        }
        let repo = spec.repo_url.trim_end_matches('/');
        let index_url = format!("{repo}/index.yaml");
        let index = self
            .get(&index_url, &spec.credentials, MAX_INDEX_BYTES)
            .await?;
        let index: Index = serde_saphyr::from_slice(&index).map_err(|err| Error::InvalidUrl {
            url: redact(repo),
            reason: unreadable(repo, "its index.yaml is not a Helm repository index", &err),
        })?;
        let entries = index
            .entries
            .get(&spec.chart)
            .ok_or_else(|| Error::RevisionNotFound {
                url: redact(repo),
                revision: format!("chart {:?}", spec.chart),
                hint: String::new(),
            })?;
        let entry = choose(entries, &spec.version).map_err(|reason| Error::InvalidRevision {
            revision: spec.version.clone(),
            reason,
        })?;
        let Some(entry) = entry else {
            return Err(Error::RevisionNotFound {
                url: redact(repo),
                revision: format!("version of chart {:?} in {:?}", spec.chart, spec.version),
                hint: format!(": it has {}", versions(entries)),
            });
        };
        let digest = entry.digest.to_ascii_lowercase();
        let file = format!("{}-{}.tgz", spec.chart, entry.version);
        if is_digest(&digest) {
            let dir = self.dir.join(&digest);
            if dir.join(&file).is_file() {
                return Ok(ChartArchive {
                    version: entry.version.clone(),
                    digest,
                    dir,
                    file,
                });
            }
        }
        let url = entry.urls.first().ok_or_else(|| Error::InvalidUrl {
            url: redact(repo),
            reason: format!(
                "its index gives no URL for {} {}",
                spec.chart, entry.version
            ),
        })?;
        let url = if url.contains("://") {
            url.clone()
        } else {
            format!("{repo}/{}", url.trim_start_matches('/'))
        };
        let bytes = self.get(&url, &spec.credentials, MAX_ARCHIVE_BYTES).await?;
        let actual = hex(&sha2::Sha256::digest(&bytes));
        if is_digest(&digest) && actual != digest {
            return Err(Error::InvalidUrl {
                url: redact(&url),
                reason: format!(
                    "the archive's sha256 is {actual}, the index says {digest}: refused"
                ),
            });
        }
        let dir = self.dir.join(&actual);
        write_atomically(&dir, &file, &bytes).map_err(|source| Error::Io {
            action: format!("write {}", dir.join(&file).display()),
            source,
        })?;
        Ok(ChartArchive {
            version: entry.version.clone(),
            digest: actual,
            dir,
            file,
        })
    }

    /// GETs `url` (following redirects), at most `max` bytes; anything but success is an
    /// error.
    async fn get(&self, url: &str, credentials: &Credentials, max: usize) -> Result<Vec<u8>> {
        let reply = self.send(url, &[], basic(credentials), max).await?;
        if reply.status == http::StatusCode::NOT_FOUND {
            return Err(Error::RevisionNotFound {
                url: redact(url),
                revision: "file at this URL".into(),
                hint: String::new(),
            });
        }
        if !reply.status.is_success() {
            return Err(unreachable(url, format!("HTTP {}", reply.status)));
        }
        Ok(reply.body)
    }

    /// One GET, following redirects; `authorization` goes only to `url`'s own host, never
    /// to a redirect elsewhere.
    async fn send(
        &self,
        url: &str,
        headers: &[(http::header::HeaderName, &str)],
        authorization: Option<String>,
        max: usize,
    ) -> Result<Reply> {
        let client = self.client.as_ref().map_err(|reason| Error::InvalidUrl {
            url: redact(url),
            reason: reason.clone(),
        })?;
        let mut target = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let uri: http::Uri = target.parse().map_err(|err| Error::InvalidUrl {
                url: redact(&target),
                reason: format!("{err}"),
            })?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) {
                return Err(Error::InvalidUrl {
                    url: redact(&target),
                    reason: "only http(s):// and oci:// chart repositories are supported".into(),
                });
            }
            // Every request — index, archive, registry, token realm, redirect — is within
            // the operator's bounds; an address written in the URL is connected to without
            // resolution, so it is checked here too (a name is checked by the resolver).
            self.hosts.check(
                &redact(&target),
                uri.scheme_str().unwrap_or_default(),
                uri.authority().map_or("", |a| host_of(a.as_str())),
            )?;
            let mut request = http::Request::get(uri.clone());
            for (name, value) in headers {
                request = request.header(name, *value);
            }
            if let Some(authorization) = &authorization
                && same_host(url, &target)
            {
                request = request.header(http::header::AUTHORIZATION, authorization);
            }
            let request = request
                .body(Empty::new())
                .map_err(|err| unreachable(url, err.to_string()))?;
            let response = tokio::time::timeout(self.timeout, client.request(request))
                .await
                .map_err(|_| unreachable(url, format!("no answer within {:?}", self.timeout)))?
                .map_err(|err| unreachable(url, err.to_string()))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| unreachable(url, format!("{status} without a Location")))?;
                target = if location.contains("://") {
                    location.to_string()
                } else {
                    format!(
                        "{}://{}{location}",
                        uri.scheme_str().unwrap_or("https"),
                        uri.authority().map_or("", |a| a.as_str())
                    )
                };
                continue;
            }
            let challenge = response
                .headers()
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = tokio::time::timeout(
                self.timeout,
                Limited::new(response.into_body(), max).collect(),
            )
            .await
            .map_err(|_| unreachable(url, format!("the body took longer than {:?}", self.timeout)))?
            .map_err(|err| unreachable(url, format!("{err} (at most {max} bytes are read)")))?;
            return Ok(Reply {
                status,
                challenge,
                body: body.to_bytes().to_vec(),
            });
        }
        Err(unreachable(
            url,
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }
}

/// An answer: status, the `WWW-Authenticate` challenge if any, the body.
struct Reply {
    status: http::StatusCode,
    challenge: Option<String>,
    body: Vec<u8>,
}

/// The `Authorization` header of basic credentials.
fn basic(credentials: &Credentials) -> Option<String> {
    match credentials {
        Credentials::Basic { username, password } => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", password.expose()))
        )),
        _ => None,
    }
}

/// Why a server's answer could not be read, for the Application's status: never the
/// parser's message, whose snippet would show the tenant the body of whatever URL it
/// named (an internal service's page). The detail goes to the controller's log.
fn unreadable(url: &str, what: &str, err: &dyn std::fmt::Display) -> String {
    tracing::warn!(url = %redact(url), detail = %err, "chart repository answer unreadable");
    what.to_string()
}

/// The error a failed request gives: the URL, not what the network said (logged).
fn unreachable(url: &str, detail: String) -> Error {
    tracing::warn!(url = %redact(url), %detail, "chart repository request failed");
    Error::Unreachable {
        url: redact(url),
        detail,
    }
}

/// The highest version of `entries` in `range` (empty: newest stable; an exact version:
/// that one).
fn choose<'a>(entries: &'a [Entry], range: &str) -> std::result::Result<Option<&'a Entry>, String> {
    let range = range.trim().trim_start_matches(['v', 'V']);
    let parsed = |e: &'a Entry| {
        semver::Version::parse(e.version.trim_start_matches(['v', 'V']))
            .ok()
            .map(|v| (v, e))
    };
    let mut candidates: Vec<(semver::Version, &Entry)> =
        entries.iter().filter_map(parsed).collect();
    candidates.sort_by(|a, b| a.0.cmp(&b.0));
    if range.is_empty() {
        return Ok(candidates
            .into_iter()
            .rev()
            .find(|(v, _)| v.pre.is_empty())
            .map(|(_, e)| e));
    }
    if let Ok(exact) = semver::Version::parse(range) {
        return Ok(candidates
            .into_iter()
            .find(|(v, _)| *v == exact)
            .map(|(_, e)| e));
    }
    let range = VersionRange::parse(&range.replace(".x", ".*").replace(".X", ".*"))
        .map_err(|err| err.to_string())?;
    Ok(candidates
        .into_iter()
        .rev()
        .find(|(v, _)| range.matches(v))
        .map(|(_, e)| e))
}

fn versions(entries: &[Entry]) -> String {
    let mut listed: Vec<&str> = entries
        .iter()
        .map(|e| e.version.as_str())
        .take(10)
        .collect();
    if entries.len() > 10 {
        listed.push("…");
    }
    listed.join(", ")
}

fn is_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn same_host(a: &str, b: &str) -> bool {
    let host = |u: &str| {
        u.parse::<http::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_string()))
    };
    host(a).is_some() && host(a) == host(b)
}

/// An authority without its user information.
fn host_of(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// The URL without user information.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme && !url[scheme + 3..at].contains('/') => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Writes `dir/file` so that no reader ever sees part of it.
fn write_atomically(dir: &Path, file: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let scratch = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(scratch.path(), bytes)?;
    scratch.persist(dir.join(file)).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(versions: &[&str]) -> Vec<Entry> {
        versions
            .iter()
            .map(|v| Entry {
                version: (*v).into(),
                urls: vec![],
                digest: String::new(),
            })
            .collect()
    }

    #[tokio::test]
    async fn metadata_addresses_are_never_fetched_from() {
        let scratch = tempfile::tempdir().unwrap();
        let anything = SourceHosts::allowing(&[], true).unwrap();
        let repositories = ChartRepositories::new(scratch.path(), Duration::from_secs(5), anything);
        for repo_url in [
            "http://169.254.169.254/latest",
            "http://[fd00:ec2::254]/",
            "http://metadata.google.internal/",
        ] {
            let spec = ChartSpec {
                repo_url: repo_url.into(),
                chart: "web".into(),
                version: String::new(),
                credentials: Credentials::default(),
            };
            let err = repositories.fetch(&spec).await.unwrap_err().to_string();
            assert!(
                err.contains("is not allowed") && err.contains("metadata"),
                "{repo_url}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn only_the_operators_hosts_and_no_plain_text_off_loopback_are_fetched_from() {
        let scratch = tempfile::tempdir().unwrap();
        let hosts = SourceHosts::allowing(&["charts.example.com".into()], false).unwrap();
        let repositories = ChartRepositories::new(scratch.path(), Duration::from_secs(5), hosts);
        for (repo_url, refusal) in [
            ("https://other.example.com/charts", "--allowed-source-hosts"),
            ("http://charts.example.com/", "--allow-plain-text-sources"),
            ("oci://other.example.com/charts", "--allowed-source-hosts"),
        ] {
            let spec = ChartSpec {
                repo_url: repo_url.into(),
                chart: "web".into(),
                version: String::new(),
                credentials: Credentials::default(),
            };
            let err = repositories.fetch(&spec).await.unwrap_err().to_string();
            assert!(err.contains(refusal), "{repo_url}: {err}");
        }
    }

    #[test]
    fn versions_are_chosen_as_helm_users_write_them() {
        let all = entries(&["1.0.0", "1.2.0", "1.2.5", "2.0.0-rc.1", "1.10.1"]);
        let pick = |range: &str| choose(&all, range).unwrap().map(|e| e.version.clone());
        assert_eq!(pick("").as_deref(), Some("1.10.1"), "newest stable");
        assert_eq!(pick("1.2.0").as_deref(), Some("1.2.0"), "exact");
        assert_eq!(pick("1.2.x").as_deref(), Some("1.2.5"));
        assert_eq!(pick(">=1.0.0 <1.5.0").as_deref(), Some("1.2.5"));
        assert_eq!(pick("^1").as_deref(), Some("1.10.1"));
        assert_eq!(pick("3.x").as_deref(), None);
        assert!(choose(&all, ">>1").is_err());
        assert_eq!(
            redact("https://user:pw@charts.example.com/x"),
            "https://charts.example.com/x"
        );
        assert!(same_host(
            "https://a.example.com/index.yaml",
            "https://a.example.com/c.tgz"
        ));
        assert!(!same_host(
            "https://a.example.com/index.yaml",
            "https://cdn.example.net/c.tgz"
        ));
    }
}
