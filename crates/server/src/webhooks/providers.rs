//! The push events of each Git host: how a delivery proves it comes from the host, which
//! deliveries are pushes, and where the payload names the repository.
//!
//! | provider  | proof                                                    | push event header              |
//! |-----------|----------------------------------------------------------|--------------------------------|
//! | GitHub    | `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of body>`  | `X-GitHub-Event: push`         |
//! | GitLab    | `X-Gitlab-Token: <secret>`                               | `X-Gitlab-Event: Push Hook` / `Tag Push Hook` |
//! | Gitea, Forgejo | `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC-SHA256>` | `X-Gitea-Event` / `X-Forgejo-Event: push` |
//! | Bitbucket | `X-Hub-Signature: sha256=<hex HMAC-SHA256>` (Cloud and Data Center) | `X-Event-Key: repo:push` / `repo:refs_changed` |

use http::HeaderMap;
use ring::hmac;
use serde_json::Value;

/// A Git host whose webhooks plumb accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    GitHub,
    GitLab,
    Gitea,
    Bitbucket,
}

/// What a verified delivery asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// A push to the repositories named (each spelling the payload gives).
    Push(Vec<String>),
    /// A ping or an event plumb does not act on.
    Ignored(String),
}

impl Provider {
    /// From the path segment: `github`, `gitlab`, `gitea` (also `forgejo`), `bitbucket`.
    pub(crate) fn from_path(name: &str) -> Option<Provider> {
        match name {
            "github" => Some(Provider::GitHub),
            "gitlab" => Some(Provider::GitLab),
            "gitea" | "forgejo" => Some(Provider::Gitea),
            "bitbucket" => Some(Provider::Bitbucket),
            _ => None,
        }
    }

    /// The key of the webhook Secret that holds this provider's secret.
    pub(crate) fn secret_key(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
            Provider::Bitbucket => "bitbucket",
        }
    }

    /// Whether the delivery proves knowledge of `secret` (constant-time comparisons).
    pub(crate) fn verify(
        self,
        headers: &HeaderMap,
        body: &[u8],
        secret: &[u8],
    ) -> Result<(), String> {
        match self {
            Provider::GitHub => {
                let signature = header(headers, "x-hub-signature-256")
                    .ok_or("no X-Hub-Signature-256 header")?;
                verify_hmac(
                    secret,
                    body,
                    signature
                        .strip_prefix("sha256=")
                        .ok_or("X-Hub-Signature-256 is not sha256=<hex>")?,
                )
            }
            Provider::Gitea => {
                let signature = header(headers, "x-gitea-signature")
                    .or_else(|| header(headers, "x-forgejo-signature"))
                    .or_else(|| header(headers, "x-gogs-signature"))
                    .ok_or("no X-Gitea-Signature or X-Forgejo-Signature header")?;
                verify_hmac(secret, body, signature)
            }
            Provider::Bitbucket => {
                let signature =
                    header(headers, "x-hub-signature").ok_or("no X-Hub-Signature header")?;
                verify_hmac(
                    secret,
                    body,
                    signature
                        .strip_prefix("sha256=")
                        .ok_or("X-Hub-Signature is not sha256=<hex>")?,
                )
            }
            Provider::GitLab => {
                let token = header(headers, "x-gitlab-token").ok_or("no X-Gitlab-Token header")?;
                if constant_time_eq(token.as_bytes(), secret) {
                    Ok(())
                } else {
                    Err("X-Gitlab-Token does not match".into())
                }
            }
        }
    }

    /// What a verified delivery asks for.
    pub(crate) fn parse(self, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, String> {
        let event = match self {
            Provider::GitHub => header(headers, "x-github-event"),
            Provider::GitLab => header(headers, "x-gitlab-event"),
            Provider::Gitea => {
                header(headers, "x-gitea-event").or_else(|| header(headers, "x-forgejo-event"))
            }
            Provider::Bitbucket => header(headers, "x-event-key"),
        }
        .unwrap_or_default();
        let is_push = match self {
            Provider::GitHub | Provider::Gitea => event == "push",
            Provider::GitLab => event == "Push Hook" || event == "Tag Push Hook",
            Provider::Bitbucket => event == "repo:push" || event == "repo:refs_changed",
        };
        if !is_push {
            return Ok(Delivery::Ignored(format!("event {event:?} is not a push")));
        }
        let payload: Value = serde_json::from_slice(body)
            .map_err(|err| format!("the payload is not JSON: {err}"))?;
        let repo = &payload["repository"];
        let mut urls: Vec<String> = Vec::new();
        let mut add = |value: &Value| {
            if let Some(url) = value.as_str().filter(|u| !u.is_empty()) {
                urls.push(url.to_owned());
            }
        };
        match self {
            Provider::GitHub | Provider::Gitea => {
                for field in ["clone_url", "ssh_url", "git_url", "html_url", "url"] {
                    add(&repo[field]);
                }
            }
            Provider::GitLab => {
                for field in ["git_http_url", "git_ssh_url", "homepage", "url"] {
                    add(&repo[field]);
                }
                for field in ["git_http_url", "git_ssh_url", "web_url"] {
                    add(&payload["project"][field]);
                }
            }
            Provider::Bitbucket => {
                add(&repo["links"]["html"]["href"]);
                for link in repo["links"]["clone"].as_array().into_iter().flatten() {
                    add(&link["href"]);
                }
                if let Some(full_name) = repo["full_name"].as_str() {
                    urls.push(format!("https://bitbucket.org/{full_name}"));
                }
            }
        }
        if urls.is_empty() {
            return Err("the push payload names no repository URL".into());
        }
        Ok(Delivery::Push(urls))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn verify_hmac(secret: &[u8], body: &[u8], hex_signature: &str) -> Result<(), String> {
    let tag = decode_hex(hex_signature).ok_or("the signature is not hexadecimal")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag)
        .map_err(|_| "the signature does not match the payload".to_owned())
}

/// Lower- or upper-case hex digits only: `u8::from_str_radix` alone also takes a sign, so
/// `+e` would read as `0e` and one signature have several spellings (found by fuzzing).
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The hex HMAC-SHA256 of `body` under `secret`, as GitHub, Gitea and Bitbucket sign.
#[cfg(test)]
pub(crate) fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_signature_made_with_another_secret_or_body_is_refused() {
        let body = br#"{"repository":{"clone_url":"https://github.com/o/r.git"}}"#;
        let good = headers(&[(
            "x-hub-signature-256",
            format!("sha256={}", sign(b"s3cret", body)),
        )]);
        assert!(Provider::GitHub.verify(&good, body, b"s3cret").is_ok());
        assert!(Provider::GitHub.verify(&good, body, b"other").is_err());
        assert!(Provider::GitHub.verify(&good, b"{}", b"s3cret").is_err());
        assert!(
            Provider::GitHub
                .verify(&HeaderMap::new(), body, b"s3cret")
                .is_err()
        );
        let gitea = headers(&[("x-gitea-signature", sign(b"s3cret", body))]);
        assert!(Provider::Gitea.verify(&gitea, body, b"s3cret").is_ok());
        let gitlab = headers(&[("x-gitlab-token", "s3cret".into())]);
        assert!(Provider::GitLab.verify(&gitlab, body, b"s3cret").is_ok());
        assert!(Provider::GitLab.verify(&gitlab, body, b"s3cre").is_err());
    }

    #[test]
    fn pushes_name_their_repository_and_other_events_are_ignored() {
        let body = json!({"repository": {"clone_url": "https://github.com/o/r.git", "ssh_url": "git@github.com:o/r.git"}}).to_string();
        let push = headers(&[("x-github-event", "push".into())]);
        assert_eq!(
            Provider::GitHub.parse(&push, body.as_bytes()).unwrap(),
            Delivery::Push(vec![
                "https://github.com/o/r.git".into(),
                "git@github.com:o/r.git".into()
            ])
        );
        let ping = headers(&[("x-github-event", "ping".into())]);
        assert!(matches!(
            Provider::GitHub.parse(&ping, body.as_bytes()).unwrap(),
            Delivery::Ignored(_)
        ));
        let bitbucket = json!({"repository": {"full_name": "team/repo", "links": {"html": {"href": "https://bitbucket.org/team/repo"}}}}).to_string();
        let push = headers(&[("x-event-key", "repo:push".into())]);
        assert!(
            matches!(Provider::Bitbucket.parse(&push, bitbucket.as_bytes()).unwrap(), Delivery::Push(urls) if urls.len() == 2)
        );
    }

    #[test]
    fn a_signature_has_one_spelling_only() {
        assert_eq!(decode_hex("0e0F"), Some(vec![0x0e, 0x0f]));
        for odd in ["+e0f", "0e+f", "-e0f", " e0f", "0x0f"] {
            assert_eq!(decode_hex(odd), None, "{odd}");
        }
    }
}
