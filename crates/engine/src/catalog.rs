//! The catalog of kinds the cluster serves, from discovery, plus the kinds that CRDs in the
//! set being applied will add.
//!
//! Discovery is slow (one request per group version), so it is done once and refreshed only
//! when CRDs change. Kubernetes 1.20 has no aggregated discovery, and `Discovery::run` walks
//! the groups one by one; plumb asks for every group version at once instead — the CLI pays
//! for discovery on every run.

use std::collections::HashMap;

use kube::Client;
use kube::core::GroupVersion;
use kube::discovery::{ApiResource, Scope};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

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
}

impl Catalog {
    pub(crate) fn from_snapshot(snapshot: &DiscoverySnapshot) -> Catalog {
        let kinds = snapshot
            .kinds
            .iter()
            .map(|(resource, namespaced)| {
                let key = (
                    resource.group.clone(),
                    resource.version.clone(),
                    resource.kind.clone(),
                );
                let info = KindInfo {
                    resource: resource.clone(),
                    namespaced: *namespaced,
                    served: true,
                };
                (key, info)
            })
            .collect();
        Catalog { kinds }
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
        DiscoverySnapshot { kinds }
    }
}

/// Served kinds by (group, version, kind).
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    kinds: HashMap<(String, String, String), KindInfo>,
}

impl Catalog {
    pub(crate) async fn discover(client: &Client) -> Result<Self> {
        let (core, groups) =
            futures::try_join!(client.list_core_api_versions(), client.list_api_groups())
                .map_err(Error::Discovery)?;
        let mut versions: Vec<GroupVersion> = core
            .versions
            .iter()
            .map(|version| GroupVersion::gv("", version))
            .collect();
        for group in &groups.groups {
            versions.extend(
                group
                    .versions
                    .iter()
                    .map(|v| GroupVersion::gv(&group.name, &v.version)),
            );
        }
        // A group version that does not answer (an aggregated API whose backend is down)
        // is left out: its kinds then read as not served, and only objects of those kinds
        // fail, by name — not every sync of every app.
        let found = futures::future::join_all(
            versions
                .iter()
                .map(|gv| kube::discovery::pinned_group(client, gv)),
        )
        .await;
        let mut kinds = HashMap::new();
        for group in found.iter().flatten() {
            for version in group.versions() {
                for (resource, capabilities) in group.versioned_resources(version) {
                    let key = (
                        resource.group.clone(),
                        resource.version.clone(),
                        resource.kind.clone(),
                    );
                    let namespaced = capabilities.scope == Scope::Namespaced;
                    kinds.insert(
                        key,
                        KindInfo {
                            resource,
                            namespaced,
                            served: true,
                        },
                    );
                }
            }
        }
        Ok(Catalog { kinds })
    }

    pub(crate) fn get(&self, group: &str, version: &str, kind: &str) -> Option<&KindInfo> {
        self.kinds
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
    }

    /// Adds the kinds a CustomResourceDefinition manifest defines, unless already served.
    pub(crate) fn add_crd(&mut self, crd: &Map<String, Value>) {
        let spec = crd.get("spec");
        let text =
            |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
        let group = text(spec.and_then(|s| s.get("group")));
        let names = spec.and_then(|s| s.get("names"));
        let kind = text(names.and_then(|n| n.get("kind")));
        let plural = text(names.and_then(|n| n.get("plural")));
        let namespaced = text(spec.and_then(|s| s.get("scope"))) != "Cluster";
        let versions = spec
            .and_then(|s| s.get("versions"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("name").and_then(Value::as_str));
        for version in versions {
            let key = (group.clone(), version.to_owned(), kind.clone());
            self.kinds.entry(key).or_insert_with(|| KindInfo {
                resource: ApiResource {
                    group: group.clone(),
                    version: version.to_owned(),
                    api_version: format!("{group}/{version}"),
                    kind: kind.clone(),
                    plural: plural.clone(),
                },
                namespaced,
                served: false,
            });
        }
    }
}
