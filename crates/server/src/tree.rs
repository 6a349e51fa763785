//! `GET /api/v1/applications/{namespace}/{name}/tree`: the Application's objects with the
//! live objects they own — Deployment → ReplicaSets → Pods, StatefulSet/DaemonSet/Job →
//! Pods, CronJob → Jobs → Pods — found by `ownerReferences`, each with its health.
//!
//! The children are read with the server's own client (the controller may list everything)
//! and shown only to callers allowed to view the Application: as in Argo CD, seeing an
//! application means seeing what its workloads run. Only the namespaces and owner kinds the
//! Application has are listed, three lists per namespace at most, per request.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use kube::{Api, Resource};
use plumb_controller::application::ResourceStatus;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::Credentials;
use crate::error::ApiError;
use crate::state::Server;

/// How deep owned objects are followed below an Application's object (CronJob → Job → Pod).
const DEPTH: usize = 2;

/// `GET /api/v1/applications/{namespace}/{name}/tree`.
pub(crate) async fn tree(
    State(server): State<Arc<Server>>,
    Path((namespace, name)): Path<(String, String)>,
    credentials: Credentials,
) -> Result<Json<Value>, ApiError> {
    let (_, app) = crate::api::visible(&server, &credentials, &namespace, &name).await?;
    let resources = app
        .status
        .as_ref()
        .map(|s| s.resources.clone())
        .unwrap_or_default();
    let mut live = Live::default();
    let mut warnings = Vec::new();
    for (namespace, kinds) in owner_kinds(&resources) {
        live.read(&server.client, &namespace, &kinds, &mut warnings)
            .await;
    }
    let nodes: Vec<Value> = resources.iter().map(|r| live.node(r)).collect();
    Ok(Json(json!({
        "application": {"namespace": namespace, "name": name},
        "resources": nodes,
        "warnings": warnings,
    })))
}

/// The kinds whose owned objects are worth listing, per namespace of the app's objects.
fn owner_kinds(resources: &[ResourceStatus]) -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut wanted: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for resource in resources {
        let Some(namespace) = &resource.namespace else {
            continue;
        };
        let lists: &[&'static str] = match (resource.group.as_str(), resource.kind.as_str()) {
            ("apps", "Deployment") => &["ReplicaSet", "Pod"],
            ("apps", "ReplicaSet" | "StatefulSet" | "DaemonSet") => &["Pod"],
            ("batch", "Job") => &["Pod"],
            ("batch", "CronJob") => &["Job", "Pod"],
            _ => &[],
        };
        wanted
            .entry(namespace.clone())
            .or_default()
            .extend(lists.iter().copied());
    }
    wanted.retain(|_, kinds| !kinds.is_empty());
    wanted
}

/// Owned live objects by owner: `(namespace, owner kind, owner name)` → children.
#[derive(Default)]
struct Live {
    owned: BTreeMap<(String, String, String), Vec<Child>>,
}

/// One owned object, as listed.
#[derive(Clone)]
struct Child {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    object: Value,
}

impl Live {
    /// Lists `kinds` in `namespace`; a failed list is a warning, not a failed page.
    async fn read(
        &mut self,
        client: &kube::Client,
        namespace: &str,
        kinds: &BTreeSet<&'static str>,
        warnings: &mut Vec<String>,
    ) {
        for kind in kinds {
            let listed = match *kind {
                "ReplicaSet" => list::<ReplicaSet>(client, namespace, "apps", "v1").await,
                "Pod" => list::<Pod>(client, namespace, "", "v1").await,
                "Job" => list::<Job>(client, namespace, "batch", "v1").await,
                _ => continue,
            };
            match listed {
                Ok(children) => {
                    for child in children {
                        self.add(namespace, child);
                    }
                }
                Err(err) => warnings.push(format!("cannot list {kind}s in {namespace}: {err}")),
            }
        }
    }

    fn add(&mut self, namespace: &str, child: Child) {
        let owners = child.metadata.owner_references.clone().unwrap_or_default();
        // The controlling owner when there is one, else every owner.
        let controllers: Vec<_> = owners
            .iter()
            .filter(|o| o.controller == Some(true))
            .collect();
        let owners: Vec<_> = if controllers.is_empty() {
            owners.iter().collect()
        } else {
            controllers
        };
        let Some((last, others)) = owners.split_last() else {
            return;
        };
        for owner in others {
            self.owned
                .entry((namespace.to_owned(), owner.kind.clone(), owner.name.clone()))
                .or_default()
                .push(child.clone());
        }
        self.owned
            .entry((namespace.to_owned(), last.kind.clone(), last.name.clone()))
            .or_default()
            .push(child);
    }

    /// An object of the Application with what it owns.
    fn node(&self, resource: &ResourceStatus) -> Value {
        let children = match &resource.namespace {
            Some(namespace) => self.children(namespace, &resource.kind, &resource.name, DEPTH),
            None => Vec::new(),
        };
        json!({
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
            "namespace": resource.namespace,
            "name": resource.name,
            "sync": resource.status,
            "health": resource.health.as_deref().unwrap_or("Unknown"),
            "healthMessage": resource.health_message,
            "drifted": resource.drift.is_some(),
            "children": children,
        })
    }

    fn children(&self, namespace: &str, kind: &str, name: &str, depth: usize) -> Vec<Value> {
        let key = (namespace.to_owned(), kind.to_owned(), name.to_owned());
        let Some(children) = self.owned.get(&key) else {
            return Vec::new();
        };
        let mut nodes: Vec<(String, Value)> = children
            .iter()
            .map(|child| {
                let name = child.metadata.name.clone().unwrap_or_default();
                let health =
                    plumb_engine::health::assess(child.group, child.kind, Some(&child.object));
                let grandchildren = if depth > 1 {
                    self.children(namespace, child.kind, &name, depth - 1)
                } else {
                    Vec::new()
                };
                let created = child
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string());
                let node = json!({
                    "group": child.group,
                    "version": child.version,
                    "kind": child.kind,
                    "namespace": namespace,
                    "name": name,
                    "health": health.status.to_string(),
                    "healthMessage": (!health.message.is_empty()).then_some(health.message),
                    "info": info(child),
                    "createdAt": created,
                    "children": grandchildren,
                });
                (name, node)
            })
            .collect();
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        nodes.into_iter().map(|(_, node)| node).collect()
    }
}

/// A few words the tree shows beside a child: replicas of a ReplicaSet, the phase of a Pod.
fn info(child: &Child) -> Option<String> {
    let object = &child.object;
    let int = |pointer: &str| object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
    match child.kind {
        "ReplicaSet" => Some(format!(
            "{}/{} ready",
            int("/status/readyReplicas"),
            int("/spec/replicas")
        )),
        "Pod" => object
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .map(str::to_owned),
        "Job" => Some(format!("{} succeeded", int("/status/succeeded"))),
        _ => None,
    }
}

async fn list<K>(
    client: &kube::Client,
    namespace: &str,
    group: &'static str,
    version: &'static str,
) -> Result<Vec<Child>, kube::Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let listed = api.list(&ListParams::default()).await?;
    Ok(listed
        .items
        .into_iter()
        .filter(|item| item.meta().owner_references.is_some())
        .map(|item| {
            let kind = match K::kind(&()).as_ref() {
                "ReplicaSet" => "ReplicaSet",
                "Pod" => "Pod",
                _ => "Job",
            };
            Child {
                group,
                version,
                kind,
                metadata: item.meta().clone(),
                object: serde_json::to_value(&item).unwrap_or(Value::Null),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceStatus {
        ResourceStatus {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
            status: "Synced".into(),
            ..ResourceStatus::default()
        }
    }

    fn owned(kind: &'static str, name: &str, owner_kind: &str, owner: &str, extra: Value) -> Child {
        let mut object = json!({"metadata": {"name": name}});
        merge(&mut object, extra);
        Child {
            group: if kind == "Pod" { "" } else { "apps" },
            version: "v1",
            kind,
            metadata: ObjectMeta {
                name: Some(name.into()),
                owner_references: Some(vec![
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                        api_version: "apps/v1".into(),
                        kind: owner_kind.into(),
                        name: owner.into(),
                        uid: format!("uid-{owner}"),
                        controller: Some(true),
                        ..Default::default()
                    },
                ]),
                ..ObjectMeta::default()
            },
            object,
        }
    }

    fn merge(target: &mut Value, patch: Value) {
        match (target, patch) {
            (Value::Object(target), Value::Object(patch)) => {
                for (key, value) in patch {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
            (target, patch) => *target = patch,
        }
    }

    #[test]
    fn only_namespaces_with_owner_kinds_are_listed() {
        let wanted = owner_kinds(&[
            resource("apps", "Deployment", Some("web"), "shop"),
            resource("", "ConfigMap", Some("other"), "settings"),
            resource("", "Namespace", None, "web"),
            resource("batch", "CronJob", Some("jobs"), "nightly"),
        ]);
        assert_eq!(
            wanted.keys().collect::<Vec<_>>(),
            ["jobs", "web"],
            "ConfigMaps own nothing worth listing"
        );
        assert_eq!(
            wanted["web"].iter().copied().collect::<Vec<_>>(),
            ["Pod", "ReplicaSet"]
        );
        assert_eq!(
            wanted["jobs"].iter().copied().collect::<Vec<_>>(),
            ["Job", "Pod"]
        );
    }

    #[test]
    fn a_deployment_shows_its_replica_sets_and_their_pods_with_health() {
        let mut live = Live::default();
        live.add(
            "web",
            owned(
                "ReplicaSet",
                "shop-7d9",
                "Deployment",
                "shop",
                json!({"spec": {"replicas": 1}, "status": {"replicas": 1, "readyReplicas": 1,
                       "availableReplicas": 1, "observedGeneration": 1}, "metadata": {"generation": 1}}),
            ),
        );
        live.add(
            "web",
            owned(
                "Pod",
                "shop-7d9-abcde",
                "ReplicaSet",
                "shop-7d9",
                json!({"status": {"phase": "Pending"}}),
            ),
        );
        live.add(
            "web",
            owned("Pod", "stranger", "ReplicaSet", "other-rs", json!({})),
        );
        let node = live.node(&resource("apps", "Deployment", Some("web"), "shop"));
        let replica_sets = node["children"].as_array().unwrap();
        assert_eq!(replica_sets.len(), 1);
        assert_eq!(replica_sets[0]["name"], "shop-7d9");
        assert_eq!(replica_sets[0]["info"], "1/1 ready");
        let pods = replica_sets[0]["children"].as_array().unwrap();
        assert_eq!(pods.len(), 1, "only the ReplicaSet's own Pods: {pods:?}");
        assert_eq!(pods[0]["name"], "shop-7d9-abcde");
        assert_eq!(pods[0]["info"], "Pending");
        assert_eq!(pods[0]["health"], "Progressing");
    }
}
