//! Kubernetes is the authority: a bearer token is who the API server says it is
//! (TokenReview), and each action is allowed if the API server would allow that user the
//! same verb on the Application (SubjectAccessReview): `get` to view, `patch` to sync,
//! suspend, resume or roll back. No user database; revoking access in RBAC revokes it here.
//!
//! Answers are cached briefly (a dashboard makes many requests) and keyed by a digest of
//! the token, never the token itself. The caches are bounded in size and age, and reviews of
//! tokens not in the cache are throttled per client address (see `throttle`), so what
//! callers send cannot grow memory or API server load without bound.
//!
//! Besides Applications, one non-resource URL is authorised the way Kubernetes components
//! authorise theirs: `get` on `/metrics`.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};

use crate::error::ApiError;
use crate::expiring::Expiring;
use crate::throttle::{Rate, Throttle};

/// How long an answer of the API server is reused: also how long a revoked token keeps
/// working here at most, and how often the event stream checks its token again.
pub(crate) const CACHE_FOR: Duration = Duration::from_secs(10);
/// Distinct tokens remembered at once (each a few hundred bytes).
const CALLERS: usize = 1024;
/// Distinct (caller, verb, object) answers remembered at once.
const DECISIONS: usize = 8192;
/// TokenReviews of unknown tokens one client address may cause: a burst, then a rate.
/// A person or CI job shows one token per ten seconds (the cache answers the rest).
const CLIENT_REVIEWS: Rate = Rate {
    burst: 20.0,
    per_second: 2.0,
};
/// TokenReviews of unknown tokens all clients together may cause.
const ALL_REVIEWS: Rate = Rate {
    burst: 100.0,
    per_second: 20.0,
};
/// Client addresses whose review budget is remembered at once.
const CLIENTS: usize = 4096;

/// Who made a request, as the API server knows them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Caller {
    pub(crate) username: String,
    pub(crate) uid: String,
    pub(crate) groups: Vec<String>,
}

/// What a caller wants to do to Applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    /// See (`get`).
    View,
    /// Change: sync, suspend, resume, roll back (`patch`).
    Operate,
}

impl Access {
    fn verb(self) -> &'static str {
        match self {
            Access::View => "get",
            Access::Operate => "patch",
        }
    }
}

/// What a request is checked against: an Application, or a non-resource URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    /// `name: None`: every Application of the namespace.
    Application {
        access: Access,
        namespace: String,
        name: Option<String>,
    },
    /// `get` on a path such as `/metrics`.
    Url {
        verb: &'static str,
        path: &'static str,
    },
}

/// What a request brings to say who sent it: its bearer token (the header, or for reads the
/// dashboard's cookie) and the address it came from (whose review budget it spends).
#[derive(Clone, Debug, Default)]
pub(crate) struct Credentials {
    header: Option<String>,
    cookie: Option<String>,
    peer: Option<IpAddr>,
}

impl Credentials {
    pub(crate) fn new(headers: &HeaderMap, peer: Option<IpAddr>) -> Credentials {
        Credentials {
            header: bearer(headers).map(str::to_owned),
            cookie: cookie(headers).map(str::to_owned),
            peer,
        }
    }

    /// The token: the header's, else (`read`) the cookie's.
    fn token(&self, read: bool) -> Option<&str> {
        self.header
            .as_deref()
            .or(self.cookie.as_deref().filter(|_| read))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Credentials::new(&parts.headers, peer))
    }
}

/// Checks tokens and permissions with the API server.
pub(crate) struct Authority {
    client: Client,
    anonymous: bool,
    /// The audience a token must be made for (`None`: the API server's own). A token sent
    /// to plumb made for plumb is of no use to whoever steals it from plumb: the API server
    /// refuses it.
    audience: Option<String>,
    callers: Mutex<Expiring<Vec<u8>, Caller>>,
    decisions: Mutex<Expiring<(Caller, Target), bool>>,
    reviews: Mutex<Throttle>,
}

impl Authority {
    /// `anonymous`: requests without a token act as `system:anonymous` (off by default);
    /// `audience`: the one tokens must be made for.
    pub(crate) fn new(client: Client, anonymous: bool, audience: Option<String>) -> Self {
        Authority {
            client,
            anonymous,
            audience,
            callers: Mutex::new(Expiring::new(CALLERS, CACHE_FOR)),
            decisions: Mutex::new(Expiring::new(DECISIONS, CACHE_FOR)),
            reviews: Mutex::new(Throttle::new(ALL_REVIEWS, CLIENT_REVIEWS, CLIENTS)),
        }
    }

    /// The caller of a request, from `Authorization: Bearer …`, or for reads also the
    /// `plumb_token` cookie the dashboard sets. Changes need the header: a cookie is sent by
    /// the browser on requests other sites forge, a header is not.
    pub(crate) async fn caller(
        &self,
        credentials: &Credentials,
        read: bool,
    ) -> Result<Caller, ApiError> {
        let Some(token) = credentials.token(read) else {
            if self.anonymous {
                return Ok(Caller {
                    username: "system:anonymous".into(),
                    uid: String::new(),
                    groups: vec!["system:unauthenticated".into()],
                });
            }
            return Err(ApiError::unauthorized(
                "a bearer token is required (Authorization: Bearer <token>); a ServiceAccount token made for plumb works: kubectl create token NAME --audience plumb",
            ));
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .to_vec();
        if let Some(caller) = lock(&self.callers).get(&digest, Instant::now()) {
            return Ok(caller.clone());
        }
        if !lock(&self.reviews).allow(credentials.peer, Instant::now()) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many tokens to review from this address; retry in a few seconds",
            ));
        }
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_owned()),
                audiences: self.audience.clone().map(|audience| vec![audience]),
            },
            ..TokenReview::default()
        };
        let reviewed = Api::<TokenReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| ApiError::kube("reviewing the token", &err))?;
        let status = reviewed.status.unwrap_or_default();
        let user = status.user.unwrap_or_default();
        if status.authenticated != Some(true) {
            return Err(ApiError::unauthorized(format!(
                "the token was not accepted by the Kubernetes API server{}{}",
                status.error.map(|e| format!(": {e}")).unwrap_or_default(),
                self.audience_hint()
            )));
        }
        // An authenticator that ignores the audiences asked for answers with none of them:
        // such a token was not made for plumb.
        if let Some(audience) = &self.audience
            && !status.audiences.unwrap_or_default().contains(audience)
        {
            return Err(ApiError::unauthorized(format!(
                "the token is not for audience {audience:?}{}",
                self.audience_hint()
            )));
        }
        let caller = Caller {
            username: user.username.unwrap_or_default(),
            uid: user.uid.unwrap_or_default(),
            groups: user.groups.unwrap_or_default(),
        };
        lock(&self.callers).insert(digest, caller.clone(), Instant::now());
        Ok(caller)
    }

    fn audience_hint(&self) -> String {
        match &self.audience {
            Some(audience) => format!(
                " (plumb accepts only tokens made for it, which are of no use against the API server: kubectl create token NAME --audience {audience})"
            ),
            None => String::new(),
        }
    }

    /// Whether `caller` may have `access` to the Application `name` in `namespace`
    /// (`name: None`: to every Application of the namespace).
    pub(crate) async fn allows(
        &self,
        caller: &Caller,
        access: Access,
        namespace: &str,
        name: Option<&str>,
    ) -> Result<bool, ApiError> {
        let target = Target::Application {
            access,
            namespace: namespace.to_owned(),
            name: name.map(str::to_owned),
        };
        self.decide(caller, target).await
    }

    /// Refuses unless `caller` may `get` the non-resource URL `path` (as `/metrics` is
    /// authorised for the API server's and kubelet's own metrics).
    pub(crate) async fn require_url(
        &self,
        caller: &Caller,
        path: &'static str,
    ) -> Result<(), ApiError> {
        if self
            .decide(caller, Target::Url { verb: "get", path })
            .await?
        {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "{} may not get {path}: RBAC must allow get on the non-resource URL {path} (bind the ServiceAccount to the ClusterRole plumb-metrics-reader that plumb install makes)",
            caller.username
        )))
    }

    /// The API server's answer for `caller` on `target`, cached.
    async fn decide(&self, caller: &Caller, target: Target) -> Result<bool, ApiError> {
        let key = (caller.clone(), target);
        if let Some(allowed) = lock(&self.decisions).get(&key, Instant::now()) {
            return Ok(*allowed);
        }
        let (resource_attributes, non_resource_attributes) = match &key.1 {
            Target::Application {
                access,
                namespace,
                name,
            } => (
                Some(ResourceAttributes {
                    group: Some("plumb.dev".into()),
                    resource: Some("applications".into()),
                    verb: Some(access.verb().into()),
                    namespace: Some(namespace.clone()),
                    name: name.clone(),
                    ..ResourceAttributes::default()
                }),
                None,
            ),
            Target::Url { verb, path } => (
                None,
                Some(NonResourceAttributes {
                    verb: Some((*verb).into()),
                    path: Some((*path).into()),
                }),
            ),
        };
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(caller.username.clone()),
                uid: (!caller.uid.is_empty()).then(|| caller.uid.clone()),
                groups: Some(caller.groups.clone()),
                resource_attributes,
                non_resource_attributes,
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviewed = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| ApiError::kube("reviewing access", &err))?;
        let allowed = reviewed.status.is_some_and(|s| s.allowed);
        lock(&self.decisions).insert(key, allowed, Instant::now());
        Ok(allowed)
    }

    /// Refuses unless `caller` may have `access` to the Application.
    pub(crate) async fn require(
        &self,
        caller: &Caller,
        access: Access,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if self.allows(caller, access, namespace, None).await?
            || self.allows(caller, access, namespace, Some(name)).await?
        {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "{} may not {} applications.plumb.dev {namespace}/{name}",
            caller.username,
            access.verb()
        )))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The token of the Authorization header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

/// The token in the dashboard's `plumb_token` cookie: an EventSource cannot set headers.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("plumb_token="))
        .find(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_header_or_the_dashboard_cookie() {
        let token = |headers: &HeaderMap, read| {
            Credentials::new(headers, None)
                .token(read)
                .map(str::to_owned)
        };
        let mut headers = HeaderMap::new();
        assert_eq!(token(&headers, true), None);
        headers.insert(
            http::header::COOKIE,
            "a=b; plumb_token=abc".parse().unwrap(),
        );
        assert_eq!(token(&headers, true).as_deref(), Some("abc"));
        assert_eq!(token(&headers, false), None, "no cookie for changes");
        headers.insert(http::header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(token(&headers, false).as_deref(), Some("xyz"));
        headers.insert(http::header::AUTHORIZATION, "Basic xyz".parse().unwrap());
        assert_eq!(token(&headers, true).as_deref(), Some("abc"));
    }
}
