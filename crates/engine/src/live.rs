//! Reading live objects: one labelled list per kind for everything plumb already tracks,
//! a GET for the rest (objects being adopted or created).

use std::collections::{HashMap, HashSet};

use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use serde_json::Value;

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

/// What one labelled list per kind found.
#[derive(Debug, Default)]
pub(crate) struct Tracked {
    objects: HashMap<(String, String, Option<String>, String), Value>,
    listed: HashSet<(String, String)>,
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
    /// What the lists say about `object`; its live copy is handed over, not cloned (each
    /// object is planned once).
    pub(crate) fn take(&mut self, object: &ObjectRef) -> Listed {
        let key = (
            object.group.clone(),
            object.kind.clone(),
            object.namespace.clone(),
            object.name.clone(),
        );
        match self.objects.remove(&key) {
            Some(live) => Listed::Found(live),
            None if self
                .listed
                .contains(&(object.group.clone(), object.kind.clone())) =>
            {
                Listed::NotTracked
            }
            None => Listed::Unknown,
        }
    }
}

/// Live objects of every kind in `kinds` labelled for `app`: one list request per kind.
///
/// A list that is refused (an app limited to some namespaces may not list cluster-wide)
/// leaves its kind unknown; its objects are then fetched one by one by [`get`].
///
/// With `from_cache`, lists are answered from the API server's watch cache instead of a
/// quorum read of etcd: much cheaper on a large cluster, and possibly a few milliseconds
/// behind — right for a controller whose watches report any later change anyway.
pub(crate) async fn list_tracked(
    client: &Client,
    app: &AppId,
    kinds: &[&KindInfo],
    from_cache: bool,
) -> Tracked {
    let selector = format!("{APP_LABEL}={}", app.label_value());
    let mut params = ListParams::default().labels(&selector);
    if from_cache {
        params = params.match_any();
    }
    // All kinds at once: the API server answers them in parallel. Read as plain JSON:
    // the plan works on JSON, and a typed round trip of every object costs more than
    // the request.
    let lists = futures::future::join_all(
        kinds
            .iter()
            .filter(|kind| kind.served)
            .map(|kind| list_json(client, kind, &params)),
    )
    .await;
    let mut tracked = Tracked::default();
    for (kind, list) in kinds.iter().filter(|kind| kind.served).zip(lists) {
        let Some(items) = list else { continue };
        tracked
            .listed
            .insert((kind.resource.group.clone(), kind.resource.kind.clone()));
        for item in items {
            let metadata = item.get("metadata");
            let field = |name: &str| {
                metadata
                    .and_then(|m| m.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let key = (
                kind.resource.group.clone(),
                kind.resource.kind.clone(),
                field("namespace"),
                field("name").unwrap_or_default(),
            );
            tracked.objects.insert(key, item);
        }
    }
    tracked
}

/// The items of one list request, or `None` when it was refused or failed.
async fn list_json(client: &Client, kind: &KindInfo, params: &ListParams) -> Option<Vec<Value>> {
    let url = <DynamicObject as kube::Resource>::url_path(&kind.resource, None);
    let request = kube::core::Request::new(url).list(params).ok()?;
    let list: Value = client.request(request).await.ok()?;
    match list {
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => Some(items),
            Some(Value::Null) | None => Some(Vec::new()),
            Some(_) => None,
        },
        _ => None,
    }
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
