#![no_main]
//! plumb-server's webhook receiver, for each provider: the proof a delivery carries
//! (signature or token) and the push payload. The input reads like the request:
//!
//! ```text
//! github                          the provider's path segment
//! secret: s3cret                  the provider's key (a pseudo-header; default s3cret)
//! X-GitHub-Event: push            headers, up to an empty line
//! X-Hub-Signature-256: sha256=…
//!
//! {"repository": …}               the body
//! ```
//!
//! Checks: never a panic, a hang or unbounded memory; a delivery is accepted only if it
//! carries the body's HMAC under the key (or the token), never under another key; one that
//! carries it is accepted; and a push names at least one repository, none empty.

use libfuzzer_sys::fuzz_target;
use plumb_server::fuzzing::{Webhook, sign};

fuzz_target!(|data: &[u8]| {
    let Some(request) = Request::read(data) else {
        return;
    };
    let Some(webhook) = Webhook::from_path(&request.provider) else {
        return;
    };
    let headers: Vec<(&[u8], &[u8])> = request.headers.iter().map(|(n, v)| (*n, *v)).collect();
    let secret = request.secret;
    let body = request.body;
    let expected = sign(secret, body);
    let token = request.provider == "gitlab";

    if webhook.verify(&headers, body, secret).is_ok() {
        let proven = headers.iter().any(|(_, value)| {
            let value = String::from_utf8_lossy(value);
            if token {
                value.trim().as_bytes() == secret
            } else {
                // Strict hex: one signature has one spelling (a sign once read as a 0).
                value.to_ascii_lowercase().contains(&expected)
            }
        });
        assert!(proven, "accepted without the body's signature or the token");
        let mut other = secret.to_vec();
        other.push(b'x');
        assert!(
            webhook.verify(&headers, body, &other).is_err(),
            "accepted under another key"
        );
    }

    // The proof the provider sends, ahead of whatever else the request carries.
    let proof: (&[u8], Vec<u8>) = match request.provider.as_str() {
        "github" => (
            b"x-hub-signature-256",
            format!("sha256={expected}").into_bytes(),
        ),
        "bitbucket" => (
            b"x-hub-signature",
            format!("sha256={expected}").into_bytes(),
        ),
        // The header the receiver reads first (Forgejo sends X-Gitea-Signature too).
        "gitea" | "forgejo" => (b"x-gitea-signature", expected.clone().into_bytes()),
        _ => (b"x-gitlab-token", secret.to_vec()),
    };
    let token_sendable = secret.iter().all(|b| b.is_ascii_graphic());
    if !token || token_sendable {
        let mut signed = vec![(proof.0, proof.1.as_slice())];
        signed.extend(headers.iter().copied());
        assert!(
            webhook.verify(&signed, body, secret).is_ok(),
            "refused the provider's own proof"
        );
    }

    if let Ok(Some(urls)) = webhook.parse(&headers, body) {
        assert!(
            !urls.is_empty() && urls.iter().all(|u| !u.is_empty()),
            "{urls:?}"
        );
    }
});

/// The input split into the request's parts.
struct Request<'a> {
    provider: String,
    secret: &'a [u8],
    headers: Vec<(&'a [u8], &'a [u8])>,
    body: &'a [u8],
}

impl<'a> Request<'a> {
    fn read(data: &'a [u8]) -> Option<Request<'a>> {
        let mut rest = data;
        let mut line = || -> Option<&'a [u8]> {
            let end = rest.iter().position(|b| *b == b'\n')?;
            let (line, after) = rest.split_at(end);
            rest = &after[1..];
            Some(line.strip_suffix(b"\r").unwrap_or(line))
        };
        let provider = String::from_utf8_lossy(line()?).trim().to_owned();
        let mut secret: &[u8] = b"s3cret";
        let mut headers = Vec::new();
        while let Some(header) = line() {
            if header.is_empty() {
                break;
            }
            let at = header.iter().position(|b| *b == b':')?;
            let (name, value) = (&header[..at], header[at + 1..].trim_ascii_start());
            if name.eq_ignore_ascii_case(b"secret") {
                if !value.is_empty() {
                    secret = value;
                }
            } else {
                headers.push((name, value));
            }
        }
        Some(Request {
            provider,
            secret,
            headers,
            body: rest,
        })
    }
}
