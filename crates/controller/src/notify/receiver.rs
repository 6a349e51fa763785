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
use plumb_source::outbound::{CheckedResolver, OutboundPolicy, Refused};

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
    let path = plumb_source::RepositoryLocation::of(url).path;
    path.contains('/').then_some(path)
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

type Connector = hyper_rustls::HttpsConnector<HttpConnector<CheckedResolver>>;

/// An HTTP(S) client with the system's trusted roots that connects only where the
/// [`OutboundPolicy`] allows — or why there is none.
pub(super) struct Http {
    client: Result<Client<Connector, Full<Bytes>>, String>,
    policy: OutboundPolicy,
}

impl Http {
    pub(super) fn new(policy: OutboundPolicy) -> Http {
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|builder| {
                let mut http = HttpConnector::new_with_resolver(CheckedResolver::new(policy));
                http.enforce_http(false);
                let connector = builder.https_or_http().enable_http1().wrap_connector(http);
                Client::builder(TokioExecutor::new()).build(connector)
            })
            .map_err(|err| {
                let message = format!(
                    "no trusted root certificates on this system ({err}): notifications cannot be sent; mount a CA bundle"
                );
                tracing::warn!("{message}");
                message
            });
        Http { client, policy }
    }

    /// Sends; a status other than 2xx is an error (and retried), an address the policy
    /// refuses is not (asking again changes nothing).
    pub(super) async fn send(&self, prepared: &Prepared) -> Result<(), Undelivered> {
        let shown = redact(&prepared.url);
        let failed = |why: String| Undelivered::Failed(format!("{shown}: {why}"));
        let client = self.client.as_ref().map_err(|why| failed(why.clone()))?;
        let uri: http::Uri = prepared
            .url
            .parse()
            .map_err(|err| failed(format!("invalid URL: {err}")))?;
        // An address written in the URL is connected to without resolution: check it here.
        self.policy
            .check_host(uri.host().unwrap_or_default())
            .map_err(|why| Undelivered::Refused(format!("{shown} is refused: {why}")))?;
        let mut request = Request::builder().method(prepared.method.clone()).uri(uri);
        for (name, value) in &prepared.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(prepared.body.clone()))
            .map_err(|err| failed(format!("invalid request: {err}")))?;
        let response =
            tokio::time::timeout(std::time::Duration::from_secs(10), client.request(request))
                .await
                .map_err(|_| failed("no answer within 10s".into()))?
                .map_err(|err| match refusal(&err) {
                    Some(why) => Undelivered::Refused(format!("{shown} is refused: {why}")),
                    None => failed(err.to_string()),
                })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed(format!("answered {}", response.status())))
        }
    }
}

/// Why a notice did not reach its receiver.
#[derive(Debug)]
pub(super) enum Undelivered {
    /// The outbound policy refuses the address: final.
    Refused(String),
    /// Anything else: worth another attempt.
    Failed(String),
}

impl std::fmt::Display for Undelivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undelivered::Refused(why) | Undelivered::Failed(why) => f.write_str(why),
        }
    }
}

/// The policy's refusal among the causes of a failed request, if it is one.
fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(refused.to_string());
        }
        cause = error.source();
    }
    None
}

/// A URL fit for a log line: Slack webhook URLs carry their secret in the path.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or_default();
            plumb_source::redact_url(&format!("{scheme}://{host}/…"))
        }
        None => "the receiver".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver on loopback that answers 200 to each request; counts connections.
    fn local_receiver() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut head = [0_u8; 4096];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        (port, connections)
    }

    fn post(url: String) -> Prepared {
        Prepared {
            method: Method::POST,
            url,
            headers: vec![(header::CONTENT_TYPE, "application/json".to_owned())],
            body: Bytes::from_static(b"{}"),
        }
    }

    #[tokio::test]
    async fn a_notification_aimed_at_the_metadata_service_is_refused_unsent() {
        let http = Http::new(OutboundPolicy::default());
        for url in [
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://[fd00:ec2::254]/latest/api/token",
            "http://[::ffff:169.254.169.254]/",
            "http://metadata.google.internal/computeMetadata/v1/",
        ] {
            match http.send(&post(url.to_owned())).await {
                Err(Undelivered::Refused(why)) => assert!(why.contains("metadata"), "{why}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn loopback_is_reached_only_when_the_operator_allows_it_however_it_is_named() {
        let (port, connections) = local_receiver();
        let http = Http::new(OutboundPolicy::default());
        // `localhost` is refused after resolution: the name is checked by what it resolves to.
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"),
        ] {
            match http.send(&post(url.clone())).await {
                Err(Undelivered::Refused(why)) => assert!(
                    why.contains("--allow-loopback-notification-targets"),
                    "{why}"
                ),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);

        let allowing = Http::new(OutboundPolicy {
            allow_loopback: true,
        });
        allowing
            .send(&post(format!("http://localhost:{port}/hook")))
            .await
            .unwrap();
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

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
        assert_eq!(
            redact("https://bot:t0ken@chat.example.com/hooks/x"),
            "https://***@chat.example.com/…"
        );
    }
}
