//! Reading what the API server offers: which kinds it serves — in two requests where it
//! offers aggregated discovery (Kubernetes 1.26 beta, 1.30 GA), else one request per group
//! version — its version, and whether its watches can stream their initial state.
//!
//! Both roots (`/api`, `/apis`) are asked with an `Accept` header that prefers the
//! aggregated document and falls back to the plain one, so an old server costs no extra
//! round trip: its answer *is* the list of group versions to walk. kube's
//! `Discovery::run_aggregated` cannot serve here: against 1.20 it parses the plain answer
//! as an empty aggregated list and finds nothing.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::core::GroupVersion;
use kube::core::discovery::v2::{ACCEPT_AGGREGATED_DISCOVERY_V2, APIGroupDiscoveryList};
use kube::discovery::{ApiResource, Scope};
use serde_json::Value;

use crate::error::{Error, Result};

/// A served kind and whether it is namespaced.
pub(crate) type ServedKind = (ApiResource, bool);

/// What one discovery root answered.
#[derive(Debug, PartialEq)]
enum Root {
    /// Every group, version and resource at once.
    Aggregated(Vec<ServedKind>),
    /// Only the group versions; each must be asked for its resources.
    GroupVersions(Vec<GroupVersion>),
}

/// Every kind the cluster serves.
///
/// A group version that does not answer (an aggregated API whose backend is down; marked
/// `Stale` in aggregated discovery) is left out: its kinds then read as not served, and
/// only objects of those kinds fail, by name — not every sync of every app.
pub(crate) async fn served_kinds(client: &Client) -> Result<Vec<ServedKind>> {
    let (core, groups) = futures::try_join!(root(client, "/api"), root(client, "/apis"))?;
    let mut kinds = Vec::new();
    let mut to_walk = Vec::new();
    for answer in [core, groups] {
        match answer {
            Root::Aggregated(found) => kinds.extend(found),
            Root::GroupVersions(versions) => to_walk.extend(versions),
        }
    }
    let walked = futures::future::join_all(
        to_walk
            .iter()
            .map(|gv| kube::discovery::pinned_group(client, gv)),
    )
    .await;
    for group in walked.iter().flatten() {
        for version in group.versions() {
            kinds.extend(
                group
                    .versioned_resources(version)
                    .into_iter()
                    .map(|(resource, caps)| (resource, caps.scope == Scope::Namespaced)),
            );
        }
    }
    Ok(kinds)
}

/// The annotation of the bookmark that ends a watch's initial events (watch-list).
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// Whether the API server streams a watch's initial state (watch-list, KEP-3157, on by
/// default in current releases): a watch then replaces the list-then-watch that holds a
/// whole kind's list in memory at once. Asked, not inferred from the version, because
/// the feature can be switched off: a probe watch of the `default` Namespace must end its
/// initial events with the marking bookmark. Old servers ignore the request (no bookmark
/// comes before the probe's one-second timeout) or refuse it; either answers no.
pub async fn offers_watch_list(client: &Client) -> bool {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let params = WatchParams::streaming_lists()
        .fields("metadata.name=default")
        .timeout(1);
    let probe = async {
        let Ok(events) = namespaces.watch(&params, "").await else {
            return false;
        };
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                Ok(WatchEvent::Bookmark(bookmark)) => {
                    if bookmark
                        .metadata
                        .annotations
                        .contains_key(INITIAL_EVENTS_END)
                    {
                        return true;
                    }
                }
                Ok(WatchEvent::Error(_)) | Err(_) => return false,
                Ok(_) => {}
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(5), probe)
        .await
        .unwrap_or(false)
}

/// The API server's minor version (37 for 1.37.2, also from a distribution's `37+`);
/// `None` when it does not say.
pub(crate) async fn server_minor(client: &Client) -> Result<Option<u32>> {
    let info = client.apiserver_version().await.map_err(Error::Discovery)?;
    Ok(parse_minor(&info.minor))
}

fn parse_minor(minor: &str) -> Option<u32> {
    let digits: String = minor.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

async fn root(client: &Client, path: &str) -> Result<Root> {
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, ACCEPT_AGGREGATED_DISCOVERY_V2)
        .body(Vec::new())
        .expect("a GET of a static path is a valid request");
    let text = client
        .request_text(request)
        .await
        .map_err(Error::Discovery)?;
    parse_root(&text).map_err(|detail| Error::DiscoveryDocument {
        path: path.to_owned(),
        detail,
    })
}

/// Reads a discovery root: an `APIGroupDiscoveryList` (aggregated), an `APIGroupList`
/// (`/apis` on old servers) or `APIVersions` (`/api` on old servers).
fn parse_root(text: &str) -> std::result::Result<Root, String> {
    let value: Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    match value.get("kind").and_then(Value::as_str) {
        Some("APIGroupDiscoveryList") => {
            let list: APIGroupDiscoveryList =
                serde_json::from_value(value).map_err(|err| err.to_string())?;
            Ok(Root::Aggregated(aggregated_kinds(list)))
        }
        Some("APIGroupList") => {
            let versions = value
                .get("groups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|group| {
                    let name = group.get("name").and_then(Value::as_str).unwrap_or("");
                    group
                        .get("versions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.get("version").and_then(Value::as_str))
                        .map(move |version| GroupVersion::gv(name, version))
                })
                .collect();
            Ok(Root::GroupVersions(versions))
        }
        Some("APIVersions") => Ok(Root::GroupVersions(
            value
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|version| GroupVersion::gv("", version))
                .collect(),
        )),
        other => Err(format!(
            "unexpected discovery document (kind {})",
            other.unwrap_or("missing")
        )),
    }
}

fn aggregated_kinds(list: APIGroupDiscoveryList) -> Vec<ServedKind> {
    let mut kinds = Vec::new();
    for group in list.items {
        let name = group.metadata.and_then(|m| m.name).unwrap_or_default();
        for version in group.versions {
            if version.freshness.as_deref() == Some("Stale") {
                continue;
            }
            let Some(version_name) = version.version else {
                continue;
            };
            let api_version = GroupVersion::gv(&name, &version_name).api_version();
            for resource in version.resources {
                let kind = resource.response_kind.and_then(|kind| kind.kind);
                let (Some(plural), Some(kind)) = (resource.resource, kind) else {
                    continue;
                };
                let served = ApiResource {
                    group: name.clone(),
                    version: version_name.clone(),
                    api_version: api_version.clone(),
                    kind,
                    plural,
                };
                kinds.push((served, resource.scope.as_deref() == Some("Namespaced")));
            }
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: GroupVersion::gv(group, version).api_version(),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    #[test]
    fn an_aggregated_root_lists_every_kind_and_leaves_out_stale_versions() {
        let text = r#"{"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": [
            {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "freshness": "Current", "resources": [
                {"resource": "deployments", "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                 "scope": "Namespaced", "verbs": ["get"], "subresources": [{"subresource": "scale",
                 "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get"]}]}]}]},
            {"metadata": {"name": "metrics.k8s.io"}, "versions": [{"version": "v1beta1", "freshness": "Stale", "resources": [
                {"resource": "pods", "responseKind": {"group": "", "version": "", "kind": "PodMetrics"}, "scope": "Namespaced", "verbs": ["get"]}]}]},
            {"metadata": {"name": "rbac.authorization.k8s.io"}, "versions": [{"version": "v1", "resources": [
                {"resource": "clusterroles", "responseKind": {"group": "", "version": "", "kind": "ClusterRole"}, "scope": "Cluster", "verbs": ["get"]}]}]}
        ]}"#;
        assert_eq!(
            parse_root(text).unwrap(),
            Root::Aggregated(vec![
                (kind("apps", "v1", "Deployment", "deployments"), true),
                (
                    kind(
                        "rbac.authorization.k8s.io",
                        "v1",
                        "ClusterRole",
                        "clusterroles"
                    ),
                    false
                ),
            ])
        );
    }

    #[test]
    fn an_aggregated_core_root_has_the_empty_group() {
        let text = r#"{"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"creationTimestamp": null},
            "versions": [{"version": "v1", "resources": [{"resource": "configmaps",
            "responseKind": {"group": "", "version": "v1", "kind": "ConfigMap"}, "scope": "Namespaced", "verbs": ["get"]}]}]}]}"#;
        assert_eq!(
            parse_root(text).unwrap(),
            Root::Aggregated(vec![(kind("", "v1", "ConfigMap", "configmaps"), true)])
        );
    }

    #[test]
    fn an_old_server_answers_with_the_group_versions_to_walk() {
        let apis = r#"{"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
            {"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"},
                                           {"groupVersion": "batch/v1beta1", "version": "v1beta1"}]}]}"#;
        assert_eq!(
            parse_root(apis).unwrap(),
            Root::GroupVersions(vec![
                GroupVersion::gv("apps", "v1"),
                GroupVersion::gv("batch", "v1"),
                GroupVersion::gv("batch", "v1beta1"),
            ])
        );
        let api =
            r#"{"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}"#;
        assert_eq!(
            parse_root(api).unwrap(),
            Root::GroupVersions(vec![GroupVersion::gv("", "v1")])
        );
    }

    #[test]
    fn a_minor_version_may_carry_a_distribution_suffix() {
        assert_eq!(parse_minor("37"), Some(37));
        assert_eq!(parse_minor("20+"), Some(20));
        assert_eq!(parse_minor(""), None);
    }

    #[test]
    fn anything_else_is_an_error_that_says_what_came() {
        let err = parse_root(r#"{"kind": "Status"}"#).unwrap_err();
        assert!(err.contains("Status"), "{err}");
        assert!(parse_root("<html>").is_err());
    }
}
