//! Kubernetes is the authority: a bearer token is who the API server says it is
//! (TokenReview), and each action is allowed if the API server would allow that user the
//! same verb on the Application (SubjectAccessReview): `get` to view, `patch` to sync,
//! suspend, resume or roll back. No user database; revoking access in RBAC revokes it here.
//!
//! Answers are cached briefly (a dashboard makes many requests) and keyed by a digest of
//! the token, never the token itself.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};

use crate::error::ApiError;

/// How long an answer of the API server is reused.
const CACHE_FOR: Duration = Duration::from_secs(10);

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

type Cached<T> = Mutex<HashMap<T, (bool, Instant)>>;

/// Checks tokens and permissions with the API server.
pub(crate) struct Authority {
    client: Client,
    anonymous: bool,
    callers: Mutex<HashMap<Vec<u8>, (Caller, Instant)>>,
    decisions: Cached<(Caller, Access, String, Option<String>)>,
}

impl Authority {
    /// `anonymous`: requests without a token act as `system:anonymous` (off by default).
    pub(crate) fn new(client: Client, anonymous: bool) -> Self {
        Authority {
            client,
            anonymous,
            callers: Mutex::default(),
            decisions: Mutex::default(),
        }
    }

    /// The caller of a request, from `Authorization: Bearer …`, or for reads also the
    /// `plumb_token` cookie the dashboard sets. Changes need the header: a cookie is sent by
    /// the browser on requests other sites forge, a header is not.
    pub(crate) async fn caller(&self, headers: &HeaderMap, read: bool) -> Result<Caller, ApiError> {
        let Some(token) = bearer(headers, read) else {
            if self.anonymous {
                return Ok(Caller {
                    username: "system:anonymous".into(),
                    uid: String::new(),
                    groups: vec!["system:unauthenticated".into()],
                });
            }
            return Err(ApiError::unauthorized(
                "a bearer token is required (Authorization: Bearer <token>); a ServiceAccount token works: kubectl create token NAME",
            ));
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .to_vec();
        if let Some((caller, at)) = lock(&self.callers).get(&digest)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(caller.clone());
        }
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_owned()),
                ..TokenReviewSpec::default()
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
                "the token was not accepted by the Kubernetes API server{}",
                status.error.map(|e| format!(": {e}")).unwrap_or_default()
            )));
        }
        let caller = Caller {
            username: user.username.unwrap_or_default(),
            uid: user.uid.unwrap_or_default(),
            groups: user.groups.unwrap_or_default(),
        };
        lock(&self.callers).insert(digest, (caller.clone(), Instant::now()));
        Ok(caller)
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
        let key = (
            caller.clone(),
            access,
            namespace.to_owned(),
            name.map(str::to_owned),
        );
        if let Some((allowed, at)) = lock(&self.decisions).get(&key)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(*allowed);
        }
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(caller.username.clone()),
                uid: (!caller.uid.is_empty()).then(|| caller.uid.clone()),
                groups: Some(caller.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some("plumb.dev".into()),
                    resource: Some("applications".into()),
                    verb: Some(access.verb().into()),
                    namespace: Some(namespace.to_owned()),
                    name: name.map(str::to_owned),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviewed = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| ApiError::kube("reviewing access", &err))?;
        let allowed = reviewed.status.is_some_and(|s| s.allowed);
        lock(&self.decisions).insert(key, (allowed, Instant::now()));
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

/// The bearer token of a request: the Authorization header, else (`cookie`) the
/// dashboard's cookie — an EventSource cannot set headers.
fn bearer(headers: &HeaderMap, cookie: bool) -> Option<&str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION)
        && let Ok(value) = value.to_str()
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        let token = token.trim();
        return (!token.is_empty()).then_some(token);
    }
    if !cookie {
        return None;
    }
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
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers, true), None);
        headers.insert(
            http::header::COOKIE,
            "a=b; plumb_token=abc".parse().unwrap(),
        );
        assert_eq!(bearer(&headers, true), Some("abc"));
        assert_eq!(bearer(&headers, false), None, "no cookie for changes");
        headers.insert(http::header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(bearer(&headers, false), Some("xyz"));
        headers.insert(http::header::AUTHORIZATION, "Basic xyz".parse().unwrap());
        assert_eq!(bearer(&headers, true), Some("abc"));
    }
}
