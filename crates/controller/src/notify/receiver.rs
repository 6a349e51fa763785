//! Receivers and what each is sent: the generic webhook gets the notice as JSON, Slack a
//! message, and GitHub, GitLab and Gitea a commit status on the synced commit.

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use super::{Kind, Notice};

/// Where notices go, read from a Secret.
#[derive(Debug)]
pub(super) enum Receiver {
    Webhook {
        url: String,
        token: Option<String>,
    },
    Slack {
        url: String,
    },
    GitHub {
        api: String,
        token: String,
        repository: Option<String>,
    },
    GitLab {
        api: String,
        token: String,
        repository: Option<String>,
    },
    Gitea {
        api: String,
        token: String,
        repository: Option<String>,
    },
}

/// A request ready to send, and to send again.
#[derive(Clone, Debug)]
pub(super) struct Prepared {
    method: Method,
    url: String,
    headers: Vec<(header::HeaderName, String)>,
    body: Bytes,
}

impl Receiver {
    pub(super) fn from_secret(secret: &Secret) -> Result<Receiver, String> {
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        let field = |key: &str| -> Option<String> {
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .and_then(|v| String::from_utf8(v.0.clone()).ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |key: &str| {
            field(key).ok_or_else(|| format!("notification Secret {name} has no {key:?}"))
        };
        let kind = required("type")?;
        Ok(match kind.as_str() {
            "webhook" => Receiver::Webhook {
                url: required("url")?,
                token: field("token"),
            },
            "slack" => Receiver::Slack {
                url: required("url")?,
            },
            "github" => Receiver::GitHub {
                api: field("url").unwrap_or_else(|| "https://api.github.com".into()),
                token: required("token")?,
                repository: field("repository"),
            },
            "gitlab" => Receiver::GitLab {
                api: field("url").unwrap_or_else(|| "https://gitlab.com".into()),
                token: required("token")?,
                repository: field("repository"),
            },
            "gitea" | "forgejo" => Receiver::Gitea {
                api: required("url")?,
                token: required("token")?,
                repository: field("repository"),
            },
            other => {
                return Err(format!(
                    "notification Secret {name} has type {other:?}: use webhook, slack, github, gitlab or gitea"
                ));
            }
        })
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            Receiver::Webhook { .. } => "webhook",
            Receiver::Slack { .. } => "slack",
            Receiver::GitHub { .. } => "github",
            Receiver::GitLab { .. } => "gitlab",
            Receiver::Gitea { .. } => "gitea",
        }
    }

    /// The request announcing `notice`, or `None` when this receiver has nothing to say
    /// about it (commit statuses are about syncs only).
    pub(super) fn request(&self, notice: &Notice) -> Option<Prepared> {
        let json_body = |value: Value| Bytes::from(value.to_string());
        let context = format!("plumb/{}/{}", notice.namespace, notice.name);
        let description: String = notice.message.chars().take(140).collect();
        let state = match notice.kind {
            Kind::SyncSucceeded => "success",
            Kind::SyncFailed => "failure",
            _ => "",
        };
        match self {
            Receiver::Webhook { url, token } => {
                let mut headers = vec![(header::CONTENT_TYPE, "application/json".to_owned())];
                if let Some(token) = token {
                    headers.push((header::AUTHORIZATION, format!("Bearer {token}")));
                }
                Some(Prepared {
                    method: Method::POST,
                    url: url.clone(),
                    headers,
                    body: json_body(json!({
                        "event": notice.kind.as_str(),
                        "application": {"namespace": notice.namespace, "name": notice.name},
                        "repoURL": notice.repo_url,
                        "revision": notice.revision,
                        "message": notice.message,
                        "objects": notice.objects,
                        "time": notice.time,
                    })),
                })
            }
            Receiver::Slack { url } => {
                let color = match notice.kind {
                    Kind::SyncSucceeded | Kind::DriftCorrected => "good",
                    Kind::SyncFailed | Kind::HealthDegraded => "danger",
                    Kind::DriftDetected => "warning",
                };
                let short = &notice.revision[..notice.revision.len().min(7)];
                Some(Prepared {
                    method: Method::POST,
                    url: url.clone(),
                    headers: vec![(header::CONTENT_TYPE, "application/json".to_owned())],
                    body: json_body(json!({
                        "text": format!("*{}* {}/{} at `{short}`: {}", notice.kind.as_str(), notice.namespace, notice.name, notice.message),
                        "attachments": [{"color": color, "text": notice.objects.join("\n")}],
                    })),
                })
            }
            Receiver::GitHub {
                api,
                token,
                repository,
            }
            | Receiver::Gitea {
                api,
                token,
                repository,
            } => {
                if state.is_empty() || notice.revision.is_empty() {
                    return None;
                }
                let repository = repository
                    .clone()
                    .or_else(|| owner_and_name(&notice.repo_url))?;
                let (base, auth) = match self {
                    Receiver::GitHub { .. } => (
                        api.trim_end_matches('/').to_owned(),
                        format!("Bearer {token}"),
                    ),
                    _ => (
                        format!("{}/api/v1", api.trim_end_matches('/')),
                        format!("token {token}"),
                    ),
                };
                Some(Prepared {
                    method: Method::POST,
                    url: format!("{base}/repos/{repository}/statuses/{}", notice.revision),
                    headers: vec![
                        (header::CONTENT_TYPE, "application/json".to_owned()),
                        (header::AUTHORIZATION, auth),
                        (header::ACCEPT, "application/json".to_owned()),
                        (header::USER_AGENT, "plumb".to_owned()),
                    ],
                    body: json_body(
                        json!({"state": state, "context": context, "description": description}),
                    ),
                })
            }
            Receiver::GitLab {
                api,
                token,
                repository,
            } => {
                if state.is_empty() || notice.revision.is_empty() {
                    return None;
                }
                let repository = repository
                    .clone()
                    .or_else(|| owner_and_name(&notice.repo_url))?;
                let state = if state == "failure" { "failed" } else { state };
                Some(Prepared {
                    method: Method::POST,
                    url: format!(
                        "{}/api/v4/projects/{}/statuses/{}?state={state}&name={}&description={}",
                        api.trim_end_matches('/'),
                        encode(&repository),
                        notice.revision,
                        encode(&context),
                        encode(&description),
                    ),
                    headers: vec![(
                        header::HeaderName::from_static("private-token"),
                        token.clone(),
                    )],
                    body: Bytes::new(),
                })
            }
        }
    }
}

/// `owner/name` (or `group/sub/name`) of a repository URL: its path without `.git`.
fn owner_and_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = if url.contains("://") {
        rest.split_once('/')?.1
    } else {
        rest.split_once(':')?.1
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    path.contains('/').then(|| path.to_owned())
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An HTTP(S) client with the system's trusted roots — or why there is none.
pub(super) struct Http {
    client: Result<Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>, String>,
}

impl Http {
    pub(super) fn new() -> Http {
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|builder| {
                let connector = builder.https_or_http().enable_http1().build();
                Client::builder(TokioExecutor::new()).build(connector)
            })
            .map_err(|err| {
                let message = format!(
                    "no trusted root certificates on this system ({err}): notifications cannot be sent; mount a CA bundle"
                );
                tracing::warn!("{message}");
                message
            });
        Http { client }
    }

    /// Sends; a status other than 2xx is an error (and retried).
    pub(super) async fn send(&self, prepared: &Prepared) -> Result<(), String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let mut request = Request::builder()
            .method(prepared.method.clone())
            .uri(&prepared.url);
        for (name, value) in &prepared.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(prepared.body.clone()))
            .map_err(|err| format!("invalid request to {}: {err}", redact(&prepared.url)))?;
        let response =
            tokio::time::timeout(std::time::Duration::from_secs(10), client.request(request))
                .await
                .map_err(|_| format!("{} did not answer within 10s", redact(&prepared.url)))?
                .map_err(|err| format!("{}: {err}", redact(&prepared.url)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "{} answered {}",
                redact(&prepared.url),
                response.status()
            ))
        }
    }
}

/// A URL fit for a log line: Slack webhook URLs carry their secret in the path.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or_default();
            format!("{scheme}://{host}/…")
        }
        None => "the receiver".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_statuses_name_the_repository_of_the_app() {
        assert_eq!(
            owner_and_name("https://github.com/org/deploy.git").as_deref(),
            Some("org/deploy")
        );
        assert_eq!(
            owner_and_name("git@gitlab.com:group/sub/deploy.git").as_deref(),
            Some("group/sub/deploy")
        );
        assert_eq!(owner_and_name("https://example.com/deploy"), None);
        assert_eq!(encode("group/sub deploy"), "group%2Fsub%20deploy");
        assert_eq!(
            redact("https://hooks.slack.com/services/T/B/secret"),
            "https://hooks.slack.com/…"
        );
    }
}
