//! Kubernetes clients whose every request is counted by verb, for `/metrics`: the API
//! server is the controller's main cost, and a regression (a no-op reconcile that starts
//! listing again, dry-runs that are no longer cached) shows first in these counters.

use std::task::{Context, Poll};

use http::Request;
use tower::{Layer, Service};

use crate::metrics;

/// A client for `config` that counts its requests.
pub(crate) fn counted(config: kube::Config) -> kube::Result<kube::Client> {
    Ok(plumb_engine::client::builder(config)?
        .with_layer(&CountLayer)
        .build())
}

struct CountLayer;

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted(inner)
    }
}

#[derive(Clone)]
pub(crate) struct Counted<S>(S);

impl<S, B> Service<Request<B>> for Counted<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (verb, dry_run) = verb(request.method(), request.uri());
        tracing::trace!(method = %request.method(), uri = %request.uri(), "API request");
        metrics::count(
            "plumb_kube_api_requests_total",
            "Requests to the Kubernetes API server, by verb (get, list, watch, create, update, patch, delete) and dry run.",
            &[
                ("verb", verb),
                ("dry_run", if dry_run { "true" } else { "false" }),
            ],
        );
        self.0.call(request)
    }
}

/// The Kubernetes verb of a request, and whether it is a dry run.
fn verb(method: &http::Method, uri: &http::Uri) -> (&'static str, bool) {
    let query = uri.query().unwrap_or("");
    let dry_run = query.split('&').any(|pair| pair.starts_with("dryRun="));
    let verb = match *method {
        http::Method::GET
            if query
                .split('&')
                .any(|p| p == "watch=true" || p == "watch=1") =>
        {
            "watch"
        }
        http::Method::GET if names_one_object(uri.path()) => "get",
        http::Method::GET => "list",
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => "delete",
        _ => "other",
    };
    (verb, dry_run)
}

/// Whether an API path names one object (`…/configmaps/x`, `…/namespaces/x`) rather than
/// a collection (`…/configmaps`). Discovery paths (`/api`, `/apis/g/v`) count as lists.
fn names_one_object(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return false,
    };
    match rest {
        ["namespaces", _namespace, _resource, _name, ..] => true,
        ["namespaces", _name] => true,
        ["namespaces", ..] => false,
        [_resource, _name, ..] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(method: &str, uri: &str) -> (&'static str, bool) {
        verb(&method.parse().unwrap(), &uri.parse().unwrap())
    }

    #[test]
    fn verbs_are_told_from_method_path_and_query() {
        assert_eq!(
            of("GET", "/api/v1/namespaces/a/configmaps"),
            ("list", false)
        );
        assert_eq!(
            of("GET", "/api/v1/namespaces/a/configmaps/x"),
            ("get", false)
        );
        assert_eq!(of("GET", "/api/v1/namespaces/a"), ("get", false));
        assert_eq!(of("GET", "/api/v1/namespaces"), ("list", false));
        assert_eq!(
            of(
                "GET",
                "/apis/apps/v1/deployments?watch=true&labelSelector=x"
            ),
            ("watch", false)
        );
        assert_eq!(
            of(
                "GET",
                "/apis/plumb.dev/v1alpha1/namespaces/a/applications/w"
            ),
            ("get", false)
        );
        assert_eq!(of("GET", "/apis/apps/v1"), ("list", false));
        assert_eq!(
            of(
                "PATCH",
                "/apis/apps/v1/namespaces/a/deployments/w?dryRun=All&fieldManager=plumb"
            ),
            ("patch", true)
        );
        assert_eq!(
            of("POST", "/api/v1/namespaces/a/configmaps"),
            ("create", false)
        );
        assert_eq!(
            of("DELETE", "/api/v1/namespaces/a/configmaps/x"),
            ("delete", false)
        );
    }
}
