//! Reading live objects: one labelled list per kind for everything plumb already tracks,
//! a GET for the rest (objects being adopted or created).

use std::collections::HashMap;

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

/// Live objects by (namespace, name), for every kind in `kinds`, labelled for `app`.
///
/// A list that is refused (an app limited to some namespaces may not list cluster-wide)
/// leaves its kind out; its objects are then fetched one by one by [`get`].
pub(crate) async fn list_tracked(
    client: &Client,
    app: &AppId,
    kinds: &[&KindInfo],
) -> HashMap<(String, String, Option<String>, String), Value> {
    let selector = format!("{APP_LABEL}={}", app.label_value());
    let mut found = HashMap::new();
    for kind in kinds.iter().filter(|kind| kind.served) {
        let params = ListParams::default().labels(&selector);
        let Ok(list) = api(client, &kind.resource, None).list(&params).await else {
            continue;
        };
        for item in list.items {
            let key = (
                kind.resource.group.clone(),
                kind.resource.kind.clone(),
                item.metadata.namespace.clone(),
                item.metadata.name.clone().unwrap_or_default(),
            );
            if let Ok(value) = serde_json::to_value(&item) {
                found.insert(key, value);
            }
        }
    }
    found
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
    Ok(live.and_then(|live| serde_json::to_value(live).ok()))
}
