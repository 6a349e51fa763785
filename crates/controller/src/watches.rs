//! Drift watches: one watch per kind that any app manages, selected by the tracking label,
//! so a change to a managed object reaches its app in milliseconds instead of at the next
//! poll.
//!
//! ```text
//!  watch(kind, label plumb.dev/app) ─▶ event ─▶ fingerprint changed? ─yes─▶ queue(app, DRIFT)
//!                                          └─▶ health changed?      ─yes─▶ queue(app, HEALTH)
//! ```
//!
//! An object's *fingerprint* hashes it without status and server-written metadata, so the
//! status updates controllers make all the time (a Deployment's replica counts) never count
//! as drift; they only refresh health, which is assessed here from the event itself. What
//! is kept per object is the fingerprint and the health — not the object — which keeps the
//! controller small however many objects it manages.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use plumb_engine::health::{Health, assess};
use plumb_engine::tracking::APP_LABEL;
use plumb_engine::{ObjectRef, Observed, live_fingerprint, object_json};
use tokio::task::JoinHandle;

use crate::application::AppKey;
use crate::queue::{Queue, Reasons};

/// An object's identity, whatever the version it is served at.
type ObjectKey = (String, String, Option<String>, String);

fn key_of(object: &ObjectRef) -> ObjectKey {
    (
        object.group.clone(),
        object.kind.clone(),
        object.namespace.clone(),
        object.name.clone(),
    )
}

#[derive(Debug)]
struct Seen {
    fingerprint: u64,
    health: Health,
    /// The app-label value that routed it, so that an unregistered app's objects go too.
    label: Arc<str>,
}

/// The watched view of every managed object.
pub(crate) struct LiveObjects {
    client: kube::Client,
    queue: Arc<Queue>,
    /// Label value → the app it belongs to.
    apps: RwLock<HashMap<Arc<str>, AppKey>>,
    objects: RwLock<HashMap<ObjectKey, Seen>>,
    /// Kinds watched (group, kind), each with its watch.
    watched: Mutex<HashMap<(String, String), Watch>>,
    /// Which kinds' first full list has arrived, and who waits for one.
    listing: Mutex<Listing>,
    /// How each watch starts: see [`watch_config`].
    watch_list: bool,
}

/// A kind: (group, kind).
type Kind = (String, String);

/// One kind's watch.
struct Watch {
    task: JoinHandle<()>,
    /// The version it reads objects at: a fingerprint is of the object at this version.
    version: String,
}

/// The first lists of the kinds watched.
#[derive(Default)]
struct Listing {
    /// Kinds whose first full list has arrived.
    listed: HashSet<Kind>,
    /// Apps that applied objects of a kind before its first list arrived. Their objects may
    /// have drifted in between — a change the list shows as the object's first state, not
    /// as a change — so each is reconciled once the list is in.
    awaiting: HashMap<Kind, HashSet<AppKey>>,
}

/// A watch's configuration: streaming its initial state where the server offers it
/// ([`plumb_engine::offers_watch_list`]), so no kind's full list is ever held in memory at
/// once; list-then-watch otherwise.
pub(crate) fn watch_config(watch_list: bool) -> watcher::Config {
    let config = watcher::Config::default();
    if watch_list {
        config.streaming_lists()
    } else {
        config
    }
}

impl LiveObjects {
    /// Watches nothing yet; [`LiveObjects::watch`] adds kinds.
    pub(crate) fn new(client: kube::Client, queue: Arc<Queue>, watch_list: bool) -> Arc<Self> {
        Arc::new(LiveObjects {
            client,
            queue,
            watch_list,
            apps: RwLock::default(),
            objects: RwLock::default(),
            watched: Mutex::default(),
            listing: Mutex::default(),
        })
    }

    /// Routes events of objects labelled `label_value` to `app`.
    pub(crate) fn register(&self, label_value: String, app: AppKey) {
        write(&self.apps).insert(label_value.into(), app);
    }

    /// Stops routing events to an app that was deleted.
    pub(crate) fn unregister(&self, app: &AppKey) {
        let mut gone = Vec::new();
        write(&self.apps).retain(|label, owner| {
            let keep = owner != app;
            if !keep {
                gone.push(label.clone());
            }
            keep
        });
        write(&self.objects).retain(|_, observed| !gone.contains(&observed.label));
    }

    /// Starts watching `resource`'s kind for `app`, unless it is watched already; `app` is
    /// reconciled again when the kind's first list arrives, if it has not yet.
    pub(crate) fn watch(self: &Arc<Self>, resource: &ApiResource, app: &AppKey) {
        let kind = (resource.group.clone(), resource.kind.clone());
        {
            let mut listing = lock(&self.listing);
            if !listing.listed.contains(&kind) {
                let awaiting = listing.awaiting.entry(kind.clone()).or_default();
                awaiting.insert(app.clone());
            }
        }
        let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        if watched.contains_key(&kind) {
            return;
        }
        let this = Arc::clone(self);
        let version = resource.version.clone();
        let resource = resource.clone();
        let task = tokio::spawn(async move { this.run(resource).await });
        watched.insert(kind, Watch { task, version });
    }

    /// What the watches know of `objects`, the objects of the app labelled `label`, for
    /// its plan ([`Observed::from_watches`]): a kind counts once its first list is in and
    /// when it is watched at the version the app writes it at.
    pub(crate) fn observed<'a>(
        &self,
        label: &str,
        objects: impl IntoIterator<Item = &'a ObjectRef>,
    ) -> Observed {
        let versions: HashMap<Kind, String> = {
            let watched = lock(&self.watched);
            let listing = lock(&self.listing);
            watched
                .iter()
                .filter(|(kind, _)| listing.listed.contains(*kind))
                .map(|(kind, watch)| (kind.clone(), watch.version.clone()))
                .collect()
        };
        let seen = read(&self.objects);
        let mut kinds = HashSet::new();
        let mut hashes = Vec::new();
        for object in objects {
            let kind = (object.group.clone(), object.kind.clone());
            if versions.get(&kind) != Some(&object.version) {
                continue;
            }
            kinds.insert((
                object.group.clone(),
                object.version.clone(),
                object.kind.clone(),
            ));
            if let Some(observed) = seen
                .get(&key_of(object))
                .filter(|observed| &*observed.label == label)
            {
                hashes.push((object.clone(), observed.fingerprint));
            }
        }
        Observed::from_watches(kinds, hashes)
    }

    /// The health of `object` as last seen, when its kind is watched and listed. `None`
    /// means "not known here" (ask the API server); a listed kind without the object means
    /// it is missing.
    pub(crate) fn health(&self, object: &ObjectRef) -> Option<Health> {
        if let Some(observed) = read(&self.objects).get(&key_of(object)) {
            return Some(observed.health.clone());
        }
        lock(&self.listing)
            .listed
            .contains(&(object.group.clone(), object.kind.clone()))
            .then(|| assess(&object.group, &object.kind, None))
    }

    /// Stops every watch.
    pub(crate) fn stop(&self) {
        let watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        for watch in watched.values() {
            watch.task.abort();
        }
    }

    async fn run(&self, resource: ApiResource) {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
        let config = watch_config(self.watch_list).labels(APP_LABEL);
        let mut events = watcher::watcher(api, config).default_backoff().boxed();
        let kind = (resource.group.clone(), resource.kind.clone());
        while let Some(event) = events.next().await {
            match event {
                Ok(Event::Apply(object)) => self.observe(&resource, object, true),
                Ok(Event::InitApply(object)) => self.observe(&resource, object, false),
                Ok(Event::Delete(object)) => self.forget(&resource, object),
                Ok(Event::InitDone) => {
                    tracing::debug!(kind = %resource.kind, "listed; watching for changes");
                    let awaiting = {
                        let mut listing = lock(&self.listing);
                        listing.listed.insert(kind.clone());
                        listing.awaiting.remove(&kind).unwrap_or_default()
                    };
                    for app in awaiting {
                        tracing::debug!(%app, kind = %resource.kind, "first list in: checking for drift");
                        self.queue.add(app, Reasons::DRIFT);
                    }
                }
                Ok(Event::Init) => {}
                Err(err) => tracing::warn!(kind = %resource.kind, "watch failed, retrying: {err}"),
            }
        }
    }

    fn observe(&self, resource: &ApiResource, object: DynamicObject, live_event: bool) {
        let Some((app, object_ref, label)) = self.owner(resource, &object) else {
            return;
        };
        let value = object_json(object);
        let fingerprint = live_fingerprint(&value, &object_ref);
        let health = assess(&object_ref.group, &object_ref.kind, Some(&value));
        let previous = write(&self.objects).insert(
            key_of(&object_ref),
            Seen {
                fingerprint,
                health: health.clone(),
                label,
            },
        );
        let Some(app) = app else {
            // Kept for when its app registers: its first plan then reads nothing.
            return;
        };
        let reasons = match previous {
            // A change while the watch was down shows in the relist: drift too.
            Some(old) if old.fingerprint != fingerprint => Some(Reasons::DRIFT),
            Some(old) if old.health != health => Some(Reasons::HEALTH),
            Some(_) => None,
            None if live_event => Some(Reasons::HEALTH),
            None => None,
        };
        if let Some(reasons) = reasons {
            tracing::debug!(%app, object = %object_ref, ?reasons, "live change");
            self.queue.add(app, reasons);
        }
    }

    fn forget(&self, resource: &ApiResource, object: DynamicObject) {
        let Some((app, object_ref, _)) = self.owner(resource, &object) else {
            return;
        };
        write(&self.objects).remove(&key_of(&object_ref));
        if let Some(app) = app {
            self.queue.add(app, Reasons::DRIFT);
        }
    }

    /// The app `object` is routed to (`None` while no app of its label is registered, as
    /// after a restart), its reference, and the label value that routes it.
    fn owner(
        &self,
        resource: &ApiResource,
        object: &DynamicObject,
    ) -> Option<(Option<AppKey>, ObjectRef, Arc<str>)> {
        let label = object.metadata.labels.as_ref()?.get(APP_LABEL)?;
        let (label, app) = match read(&self.apps).get_key_value(label.as_str()) {
            Some((label, app)) => (Arc::clone(label), Some(app.clone())),
            None => (Arc::from(label.as_str()), None),
        };
        let object_ref = ObjectRef {
            group: resource.group.clone(),
            version: resource.version.clone(),
            kind: resource.kind.clone(),
            namespace: object.metadata.namespace.clone(),
            name: object.metadata.name.clone().unwrap_or_default(),
        };
        Some((app, object_ref, label))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
