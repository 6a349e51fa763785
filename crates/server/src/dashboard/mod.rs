//! The web dashboard: one page of plain HTML, CSS and JavaScript compiled into the binary
//! (no build step, no external assets, nothing fetched at run time). It reads and acts
//! through `/api/v1` only, with the token the user pastes at its login, so it can do no
//! more than the API allows that token; live updates come from `/api/v1/stream`.
//!
//! The page routes with the URL fragment (`#/apps/{namespace}/{name}`), so `/` is its only
//! HTML address; assets are served under `/assets/`.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

/// The page: markup only; behaviour and looks come from the assets.
const INDEX: &str = include_str!("index.html");

/// The assets: name, content type, contents.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("style.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("favicon.svg"),
    ),
];

/// Scripts and styles of this origin only, no frames: a pasted token cannot be read by
/// injected markup, and the page cannot be framed to trick a click on "Sync".
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /`.
pub(crate) async fn index() -> Response {
    respond("text/html; charset=utf-8", INDEX.as_bytes())
}

/// `GET /assets/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => respond(content_type, body),
        None => (StatusCode::NOT_FOUND, format!("no asset {file:?}")).into_response(),
    }
}

fn respond(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Assets change with the binary: revalidate rather than run an old script
            // against a new API.
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_assets_the_binary_serves() {
        for reference in INDEX
            .split(['"', '\''])
            .filter(|s| s.starts_with("/assets/"))
        {
            let name = reference.trim_start_matches("/assets/");
            assert!(
                ASSETS.iter().any(|(asset, _, _)| *asset == name),
                "index.html loads {reference}, which is not embedded"
            );
        }
        assert!(
            !INDEX.contains("http://") && !INDEX.contains("https://"),
            "no external assets"
        );
        assert!(INDEX.contains("/assets/app.js") && INDEX.contains("/assets/style.css"));
    }
}
