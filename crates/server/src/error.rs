//! Errors of the server: starting it, and answering a request.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {address}: {source} (choose another with --listen)")]
    Bind {
        /// The address asked for.
        address: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    #[error("TLS certificate {certificate} with key {private_key}: {reason}")]
    Tls {
        /// The certificate file.
        certificate: String,
        /// The private key file.
        private_key: String,
        /// What is wrong.
        reason: String,
    },
    /// Serving failed.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// A request's failure, answered as `{"error": message}` with its status code.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The API server failed or refused: 502, saying what was attempted.
    pub(crate) fn kube(action: &str, err: &kube::Error) -> Self {
        match err {
            kube::Error::Api(status) if status.code == 404 => {
                Self::not_found(format!("{action}: {}", status.message))
            }
            kube::Error::Api(status) if status.code == 409 => Self::new(
                StatusCode::CONFLICT,
                format!("{action}: {}", status.message),
            ),
            _ => Self::new(StatusCode::BAD_GATEWAY, format!("{action}: {err}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}
