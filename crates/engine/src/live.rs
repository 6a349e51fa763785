//! Reading live objects: one labelled list per kind for everything plumb already tracks,
//! a GET for the rest (objects being adopted or created).

use std::collections::{BTreeSet, HashMap, HashSet};

use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::cache::live_hash;
use crate::catalog::KindInfo;
use crate::error::{Error, Result};
use crate::object_ref::ObjectRef;
use crate::tracking::{APP_LABEL, AppId};

/// The API endpoint for objects of `kind` in `namespace` (cluster-wide when `None`).
pub(crate) fn api(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// One list request: a kind at one version, in one namespace or (`None`) in all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListScope<'a> {
    pub(crate) kind: &'a KindInfo,
    pub(crate) namespace: Option<&'a str>,
}

/// Past this many namespaces, a kind is listed once across all of them instead.
const MAX_NAMESPACE_LISTS: usize = 4;

/// The lists that cover objects of these kinds in these namespaces (`None`: cluster
/// scoped): per namespace where a kind's objects sit in a few namespaces — a list across
/// all namespaces reads every object of the kind in the cluster, and other apps' objects
/// are most of them — or else one across all.
pub(crate) fn scopes<'a>(
    objects: impl IntoIterator<Item = (&'a KindInfo, Option<&'a str>)>,
) -> Vec<ListScope<'a>> {
    let mut by_kind: Vec<(&KindInfo, BTreeSet<Option<&str>>)> = Vec::new();
    for (kind, namespace) in objects.into_iter().filter(|(kind, _)| kind.served) {
        match by_kind
            .iter_mut()
            .find(|(known, _)| known.resource == kind.resource)
        {
            Some((_, namespaces)) => {
                namespaces.insert(namespace);
            }
            None => by_kind.push((kind, BTreeSet::from([namespace]))),
        }
    }
    by_kind
        .into_iter()
        .flat_map(|(kind, namespaces)| {
            let cluster_wide = !kind.namespaced
                || namespaces.len() > MAX_NAMESPACE_LISTS
                || namespaces.contains(&None);
            let namespaces: Vec<Option<&str>> = if cluster_wide {
                vec![None]
            } else {
                namespaces.into_iter().collect()
            };
            namespaces
                .into_iter()
                .map(move |namespace| ListScope { kind, namespace })
        })
        .collect()
}

/// A list's key: group, version, kind and namespace (`None`: all namespaces).
type ScopeKey = (String, String, String, Option<String>);

fn scope_key(resource: &ApiResource, namespace: Option<&str>) -> ScopeKey {
    (
        resource.group.clone(),
        resource.version.clone(),
        resource.kind.clone(),
        namespace.map(str::to_owned),
    )
}

/// A listed object: its [`live_hash`], and its JSON as the API server sent it.
///
/// The text, not the tree: a plan needs the tree only of objects the cache does not vouch
/// for, and trees cost. Those of an app of 1,000 objects took longer to free than the rest
/// of its plan took, and hold several times the memory of the text.
///
/// No text when the object was seen by a caller's watch ([`Observed::from_watches`]),
/// which keeps hashes only: an object the cache does not vouch for is then read by a GET.
#[derive(Debug)]
struct LiveObject {
    text: Option<Box<RawValue>>,
    hash: u64,
}

/// What the labelled lists found.
#[derive(Debug, Default)]
pub(crate) struct Tracked {
    /// Keyed with their version: an object read at one version is not what a plan at
    /// another compares.
    objects: HashMap<ObjectRef, LiveObject>,
    /// The lists that answered.
    listed: HashSet<ScopeKey>,
}

/// What the lists say about one object.
pub(crate) enum Listed {
    /// Found, tracked by the app.
    Found(Value),
    /// Its kind was listed and it was not there: not tracked (it may still exist, unlabelled).
    NotTracked,
    /// Its kind could not be listed: nothing is known.
    Unknown,
}

impl Tracked {
    /// Whether the lists that answered cover `scope`.
    pub(crate) fn covers(&self, scope: &ListScope<'_>) -> bool {
        let resource = &scope.kind.resource;
        self.answered(
            &resource.group,
            &resource.version,
            &resource.kind,
            scope.namespace,
        )
    }

    /// Whether a list that answered covers objects of this kind in `namespace`: one of
    /// that namespace, or one across all.
    fn answered(&self, group: &str, version: &str, kind: &str, namespace: Option<&str>) -> bool {
        let listed = |namespace: Option<&str>| {
            self.listed.contains(&(
                group.to_owned(),
                version.to_owned(),
                kind.to_owned(),
                namespace.map(str::to_owned),
            ))
        };
        listed(None) || (namespace.is_some() && listed(namespace))
    }

    /// The [`live_hash`] of `object` as listed, if it was.
    pub(crate) fn hash(&self, object: &ObjectRef) -> Option<u64> {
        self.objects.get(object).map(|listed| listed.hash)
    }

    /// What the lists say about `object`; its live copy is handed over, not cloned (each
    /// object is planned once).
    pub(crate) fn take(&mut self, object: &ObjectRef) -> Listed {
        match self.objects.remove(object) {
            // It was parsed once already: it parses again.
            Some(LiveObject {
                text: Some(text), ..
            }) => match serde_json::from_str(text.get()) {
                Ok(live) => Listed::Found(live),
                Err(_) => Listed::Unknown,
            },
            Some(LiveObject { text: None, .. }) => Listed::Unknown,
            None if self.answered(
                &object.group,
                &object.version,
                &object.kind,
                object.namespace.as_deref(),
            ) =>
            {
                Listed::NotTracked
            }
            None => Listed::Unknown,
        }
    }

    /// Adds what other lists found.
    pub(crate) fn extend(&mut self, other: Tracked) {
        self.objects.extend(other.objects);
        self.listed.extend(other.listed);
    }
}

/// An app's live objects, read ahead of its plan (see [`Engine::observe`]).
#[derive(Debug, Default)]
pub struct Observed(pub(crate) Tracked);

impl Observed {
    /// What a caller's watches know of an app's objects: the kinds (group, version, kind)
    /// whose watch across all namespaces has delivered its first list, and the
    /// [`live_hash`] of each of the app's objects it saw. A plan lists none of these
    /// kinds: an object the sync cache vouches for by its hash costs no request at all,
    /// one the watch did not see is not tracked (a dry-run tells whether it exists), and
    /// any other is read by a GET. This is what lets a thousand apps of the same kinds
    /// reconcile without a list each.
    ///
    /// A watch a little behind is as good as a list from the API server's cache
    /// ([`PlanOptions::cached_reads`](crate::PlanOptions)): any change it has not
    /// delivered yet reaches the caller as an event, and so another plan.
    pub fn from_watches(
        kinds: impl IntoIterator<Item = (String, String, String)>,
        hashes: impl IntoIterator<Item = (ObjectRef, u64)>,
    ) -> Observed {
        Observed(Tracked {
            objects: hashes
                .into_iter()
                .map(|(object, hash)| (object, LiveObject { text: None, hash }))
                .collect(),
            listed: kinds
                .into_iter()
                .map(|(group, version, kind)| (group, version, kind, None))
                .collect(),
        })
    }
}

/// Live objects labelled for `app`: one list request per scope.
///
/// A list that is refused (an app limited to some namespaces may not list cluster-wide)
/// leaves its scope unknown; its objects are then fetched one by one by [`get`].
///
/// With `from_cache`, lists are answered from the API server's watch cache instead of a
/// quorum read of etcd: much cheaper on a large cluster, and possibly a few milliseconds
/// behind — right for a controller whose watches report any later change anyway.
pub(crate) async fn list_tracked(
    client: &Client,
    app: &AppId,
    scopes: &[ListScope<'_>],
    from_cache: bool,
) -> Tracked {
    let mut tracked = Tracked::default();
    if scopes.is_empty() {
        return tracked;
    }
    let selector = format!("{APP_LABEL}={}", app.label_value());
    let mut params = ListParams::default().labels(&selector);
    if from_cache {
        params = params.match_any();
    }
    // All at once: the API server answers them in parallel. Each list is hashed as it
    // arrives, while the others are still on their way.
    let lists =
        futures::future::join_all(scopes.iter().map(|scope| list_json(client, scope, &params)))
            .await;
    for (scope, list) in scopes.iter().zip(lists) {
        let Some(objects) = list else { continue };
        tracked
            .listed
            .insert(scope_key(&scope.kind.resource, scope.namespace));
        tracked.objects.extend(objects);
    }
    tracked
}

/// The objects of one list request with their keys and hashes, or `None` when it was
/// refused or failed. Read as plain JSON: the plan works on JSON, and a typed round trip
/// of every object costs more than the request.
async fn list_json(
    client: &Client,
    scope: &ListScope<'_>,
    params: &ListParams,
) -> Option<Vec<(ObjectRef, LiveObject)>> {
    /// A list, its items left as text.
    #[derive(serde::Deserialize)]
    struct Items {
        #[serde(default)]
        items: Option<Vec<Box<RawValue>>>,
    }
    let resource = &scope.kind.resource;
    let url = <DynamicObject as kube::Resource>::url_path(resource, scope.namespace);
    let request = kube::core::Request::new(url).list(params).ok()?;
    let list: Items = client.request(request).await.ok()?;
    let objects = list
        .items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|text| {
            let live: Value = serde_json::from_str(text.get()).ok()?;
            let metadata = live.get("metadata");
            let field = |name: &str| {
                metadata
                    .and_then(|m| m.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let object = ObjectRef {
                group: resource.group.clone(),
                version: resource.version.clone(),
                kind: resource.kind.clone(),
                namespace: field("namespace"),
                name: field("name").unwrap_or_default(),
            };
            let hash = live_hash(&live, &object);
            Some((
                object,
                LiveObject {
                    text: Some(text),
                    hash,
                },
            ))
        });
    Some(objects.collect())
}

/// The live object, or `None` when it does not exist.
pub(crate) async fn get(
    client: &Client,
    kind: &KindInfo,
    object: &ObjectRef,
) -> Result<Option<Value>> {
    let live = api(client, &kind.resource, object.namespace.as_deref())
        .get_opt(&object.name)
        .await
        .map_err(|source| Error::Request {
            action: "get",
            object: object.to_string(),
            source,
        })?;
    Ok(live.map(into_value))
}

/// A live object as JSON. Its body (`data`) already is JSON: only the metadata is
/// serialised, not the whole object again — this runs for every listed object.
pub fn into_value(object: DynamicObject) -> Value {
    let mut map = match object.data {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    if let Some(types) = object.types {
        map.insert("apiVersion".into(), types.api_version.into());
        map.insert("kind".into(), types.kind.into());
    }
    if let Ok(metadata) = serde_json::to_value(object.metadata) {
        map.insert("metadata".into(), metadata);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use kube::core::GroupVersionKind;
    use serde_json::Map;

    use super::*;
    use crate::target::Target;

    fn target(kind: &str, namespaced: bool, namespace: Option<&str>, name: &str) -> Target {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", kind));
        Target {
            object: ObjectRef {
                group: String::new(),
                version: "v1".into(),
                kind: kind.into(),
                namespace: namespace.map(str::to_owned),
                name: name.into(),
            },
            kind: KindInfo {
                resource,
                namespaced,
                served: true,
            },
            manifest: crate::target::PackedManifest::pack(&Map::new()),
            hook: None,
            wave: 0,
            rank: 0,
            options: Default::default(),
            tracked: true,
            sensitive: false,
            key: 0,
        }
    }

    fn scopes_of(targets: &[Target]) -> Vec<ListScope<'_>> {
        scopes(
            targets
                .iter()
                .map(|t| (&t.kind, t.object.namespace.as_deref())),
        )
    }

    fn described(scopes: &[ListScope<'_>]) -> Vec<String> {
        scopes
            .iter()
            .map(|s| format!("{} {}", s.kind.resource.kind, s.namespace.unwrap_or("*")))
            .collect()
    }

    #[test]
    fn a_kind_in_a_few_namespaces_is_listed_in_each_of_them() {
        let targets = [
            target("ConfigMap", true, Some("dev"), "a"),
            target("ConfigMap", true, Some("prod"), "a"),
            target("ConfigMap", true, Some("dev"), "b"),
            target("Namespace", false, None, "dev"),
        ];
        assert_eq!(
            described(&scopes_of(&targets)),
            ["ConfigMap dev", "ConfigMap prod", "Namespace *"]
        );
    }

    #[test]
    fn a_kind_spread_over_many_namespaces_is_listed_once_across_all() {
        let targets: Vec<Target> = (0..=MAX_NAMESPACE_LISTS)
            .map(|n| target("ConfigMap", true, Some(&format!("ns{n}")), "a"))
            .collect();
        assert_eq!(described(&scopes_of(&targets)), ["ConfigMap *"]);
    }

    #[test]
    fn an_object_is_not_tracked_only_where_its_namespace_was_listed() {
        let targets = [target("ConfigMap", true, Some("dev"), "a")];
        let mut tracked = Tracked::default();
        tracked
            .listed
            .insert(scope_key(&targets[0].kind.resource, Some("dev")));
        let in_prod = target("ConfigMap", true, Some("prod"), "a");
        assert!(matches!(
            tracked.take(&targets[0].object),
            Listed::NotTracked
        ));
        assert!(matches!(tracked.take(&in_prod.object), Listed::Unknown));
    }
}
