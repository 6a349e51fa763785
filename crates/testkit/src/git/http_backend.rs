//! Smart HTTP for git: a small HTTP server that runs the real `git http-backend` as a CGI
//! program for each request, optionally behind HTTP basic authentication.
//!
//! It serves from its own thread and Tokio runtime, so a test may run blocking `git clone`
//! commands on its own runtime without starving the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::Error;

/// The largest request body accepted (a push of a test repository is far smaller).
const MAX_REQUEST_BODY: usize = 256 * 1024 * 1024;

/// A user name and password the server demands.
#[derive(Clone, Debug)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

struct Settings {
    project_root: PathBuf,
    /// `Basic base64(user:password)`, when authentication is on.
    expected_authorization: Option<String>,
    username: Option<String>,
}

/// The running HTTP server; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub(crate) struct HttpBackend {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpBackend {
    pub(crate) fn start(project_root: PathBuf, auth: Option<BasicAuth>) -> Result<Self, Error> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(Error::io("bind the git HTTP server"))?;
        listener
            .set_nonblocking(true)
            .map_err(Error::io("configure the git HTTP server socket"))?;
        let address = listener
            .local_addr()
            .map_err(Error::io("read the git HTTP server address"))?;
        let settings = Arc::new(Settings {
            project_root,
            expected_authorization: auth.as_ref().map(|auth| {
                let pair = format!("{}:{}", auth.username, auth.password);
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }),
            username: auth.map(|auth| auth.username),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("start a runtime for the git HTTP server"))?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("testkit-git-http".into())
            .spawn(move || runtime.block_on(serve(listener, settings, stopped)))
            .map_err(Error::io("start the git HTTP server thread"))?;
        Ok(HttpBackend {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for HttpBackend {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    settings: Arc<Settings>,
    stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let app = axum::Router::new().fallback(handle).with_state(settings);
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await;
}

async fn handle(State(settings): State<Arc<Settings>>, request: Request) -> Response {
    if let Some(expected) = &settings.expected_authorization {
        let given = request.headers().get(header::AUTHORIZATION);
        if given.and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return unauthorized();
        }
    }
    match run_cgi(&settings, request).await {
        Ok(response) => response,
        Err(message) => plain(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

/// Runs `git http-backend` for one request (RFC 3875 CGI) and turns its output into a response.
async fn run_cgi(settings: &Settings, request: Request) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY)
        .await
        .map_err(|err| format!("reading the request body: {err}"))?;
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut isolated = std::process::Command::new("git");
    super::command::isolate(&mut isolated);
    let mut command = tokio::process::Command::from(isolated);
    command
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &settings.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // Pushes over HTTP are allowed: the server is a test fixture, not a public host.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or_default())
        .env("CONTENT_TYPE", header(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header(header::CONTENT_ENCODING))
        .env(
            "GIT_PROTOCOL",
            header(header::HeaderName::from_static("git-protocol")),
        )
        .env("REMOTE_ADDR", "127.0.0.1")
        .env(
            "REMOTE_USER",
            settings.username.as_deref().unwrap_or_default(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|err| format!("starting git http-backend: {err}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    // Feed and drain at once: git may answer before it has read all of a large push.
    let feed = async move {
        let _ = stdin.write_all(&body).await;
        drop(stdin);
    };
    let mut output = Vec::new();
    let mut errors = Vec::new();
    let (_, read_out, read_err) = tokio::join!(
        feed,
        stdout.read_to_end(&mut output),
        stderr.read_to_end(&mut errors)
    );
    read_out.map_err(|err| format!("reading git http-backend's output: {err}"))?;
    read_err.map_err(|err| format!("reading git http-backend's errors: {err}"))?;
    let status = child
        .wait()
        .await
        .map_err(|err| format!("waiting for git http-backend: {err}"))?;
    if !status.success() && output.is_empty() {
        return Err(format!(
            "git http-backend {status}: {}",
            String::from_utf8_lossy(&errors)
        ));
    }
    parse_cgi_output(&output)
}

/// Splits CGI output into a status, headers and a body.
fn parse_cgi_output(output: &[u8]) -> Result<Response, String> {
    let (head, body) = split_head(output).ok_or("git http-backend printed no header block")?;
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    for line in String::from_utf8_lossy(head).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or_default();
            status = code
                .parse::<u16>()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
                .ok_or_else(|| format!("bad CGI status line {value:?}"))?;
        } else if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let mut response = Response::new(Body::from(Bytes::copy_from_slice(body)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn split_head(output: &[u8]) -> Option<(&[u8], &[u8])> {
    for (separator, skip) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = output.windows(separator.len()).position(|w| w == separator) {
            return Some((&output[..at], &output[at + skip..]));
        }
    }
    None
}

fn unauthorized() -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, "authentication required".into());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"plumb test git\""),
    );
    response
}

fn plain(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_output_gives_status_headers_and_body() {
        let output = b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such repo";
        let response = parse_cgi_output(output).unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain");
    }

    #[test]
    fn cgi_output_without_status_is_ok_and_accepts_bare_newlines() {
        let output = b"Content-Type: application/x-git-upload-pack-advertisement\n\n001e# service";
        let response = parse_cgi_output(output).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[test]
    fn cgi_output_without_a_header_block_is_an_error() {
        assert!(parse_cgi_output(b"garbage").is_err());
    }
}
