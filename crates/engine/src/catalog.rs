//! The catalog of kinds the cluster serves, from discovery, plus the kinds that CRDs in the
//! set being applied will add.
//!
//! Discovery costs requests (two on a current server, one per group version on an old one:
//! see [`crate::discovery`]), so it is done once and refreshed only when CRDs change.

use std::collections::HashMap;
use std::time::Instant;

use kube::Client;
use kube::discovery::ApiResource;
use serde_json::{Map, Value};

use crate::discovery;
use crate::error::Result;

/// Where and how a kind is served.
#[derive(Clone, Debug)]
pub(crate) struct KindInfo {
    pub(crate) resource: ApiResource,
    pub(crate) namespaced: bool,
    /// False for kinds that only a CRD in the set defines, not served yet.
    pub(crate) served: bool,
}

/// What discovery found, to keep between processes (the CLI keeps it on disk, as kubectl
/// keeps its discovery cache): every served kind and whether it is namespaced.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiscoverySnapshot {
    /// The served kinds.
    pub kinds: Vec<(ApiResource, bool)>,
    /// The API server's minor version (37 for 1.37.2); `None` when unknown, as in a
    /// snapshot kept by an earlier plumb.
    #[serde(default)]
    pub server_minor: Option<u32>,
}

impl Catalog {
    pub(crate) fn from_snapshot(snapshot: &DiscoverySnapshot) -> Catalog {
        let kinds = served(snapshot.kinds.iter().cloned());
        Catalog {
            kinds,
            server_minor: snapshot.server_minor,
            discovered_at: None,
        }
    }

    pub(crate) fn snapshot(&self) -> DiscoverySnapshot {
        let mut kinds: Vec<(ApiResource, bool)> = self
            .kinds
            .values()
            .filter(|kind| kind.served)
            .map(|kind| (kind.resource.clone(), kind.namespaced))
            .collect();
        kinds.sort_by(|a, b| {
            (&a.0.group, &a.0.version, &a.0.kind).cmp(&(&b.0.group, &b.0.version, &b.0.kind))
        });
        DiscoverySnapshot {
            kinds,
            server_minor: self.server_minor,
        }
    }
}

/// Served kinds by (group, version, kind).
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    kinds: HashMap<(String, String, String), KindInfo>,
    /// The API server's minor version, for behaviours that differ between releases
    /// ([`crate::quirks`]); `None` when unknown.
    pub(crate) server_minor: Option<u32>,
    /// When the API server was asked; `None` for a catalog from a kept snapshot.
    pub(crate) discovered_at: Option<Instant>,
}

impl Catalog {
    pub(crate) async fn discover(client: &Client) -> Result<Self> {
        let (kinds, server_minor) = futures::try_join!(
            discovery::served_kinds(client),
            discovery::server_minor(client)
        )?;
        let kinds = served(kinds);
        Ok(Catalog {
            kinds,
            server_minor,
            discovered_at: Some(Instant::now()),
        })
    }

    pub(crate) fn get(&self, group: &str, version: &str, kind: &str) -> Option<&KindInfo> {
        self.kinds
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
    }

    /// This catalog without the kinds `(group, kind)` names: definitions deleted again.
    pub(crate) fn without(&self, kinds: &[(String, String)]) -> Catalog {
        let mut catalog = self.clone();
        catalog
            .kinds
            .retain(|(group, _, kind), _| !kinds.iter().any(|(g, k)| g == group && k == kind));
        catalog
    }

    /// Adds the kinds a CustomResourceDefinition manifest defines, unless already served.
    pub(crate) fn add_crd(&mut self, crd: &Map<String, Value>) {
        for (resource, namespaced) in crd_kinds(crd) {
            self.kinds.entry(key_of(&resource)).or_insert(KindInfo {
                resource,
                namespaced,
                served: false,
            });
        }
    }

    /// Whether every kind the CustomResourceDefinition manifest defines is served.
    pub(crate) fn serves_crd(&self, crd: &Map<String, Value>) -> bool {
        crd_kinds(crd).iter().all(|(resource, _)| {
            self.get(&resource.group, &resource.version, &resource.kind)
                .is_some_and(|kind| kind.served)
        })
    }
}

/// Served kinds by (group, version, kind).
fn served(
    kinds: impl IntoIterator<Item = (ApiResource, bool)>,
) -> HashMap<(String, String, String), KindInfo> {
    kinds
        .into_iter()
        .map(|(resource, namespaced)| {
            let info = KindInfo {
                resource,
                namespaced,
                served: true,
            };
            (key_of(&info.resource), info)
        })
        .collect()
}

fn key_of(resource: &ApiResource) -> (String, String, String) {
    (
        resource.group.clone(),
        resource.version.clone(),
        resource.kind.clone(),
    )
}

/// The kinds (one per version) a CustomResourceDefinition manifest defines.
fn crd_kinds(crd: &Map<String, Value>) -> Vec<(ApiResource, bool)> {
    let spec = crd.get("spec");
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let group = text(spec.and_then(|s| s.get("group")));
    let names = spec.and_then(|s| s.get("names"));
    let kind = text(names.and_then(|n| n.get("kind")));
    let plural = text(names.and_then(|n| n.get("plural")));
    let namespaced = text(spec.and_then(|s| s.get("scope"))) != "Cluster";
    spec.and_then(|s| s.get("versions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .map(|version| {
            let resource = ApiResource {
                group: group.clone(),
                version: version.to_owned(),
                api_version: format!("{group}/{version}"),
                kind: kind.clone(),
                plural: plural.clone(),
            };
            (resource, namespaced)
        })
        .collect()
}
