//! The Applications the server shows, kept current by a watch, and a broadcast of which
//! one changed — what the dashboard's live updates and the webhook matcher read, without
//! a request to the API server per page view.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use plumb_controller::{AppPolicy, Application};
use tokio::sync::broadcast;

/// A change to one Application: `namespace/name`.
pub(crate) type Changed = String;

/// The watched Applications.
#[derive(Clone)]
pub(crate) struct Apps {
    store: Store<Application>,
    changes: broadcast::Sender<Changed>,
    synced: Arc<AtomicBool>,
}

impl Apps {
    /// Starts watching (all namespaces, or one) in the background.
    pub(crate) fn watch(client: Client, namespace: Option<&str>) -> Apps {
        let api: Api<Application> = match namespace {
            Some(namespace) => Api::namespaced(client, namespace),
            None => Api::all(client),
        };
        let (store, writer) = reflector::store();
        let (changes, _) = broadcast::channel(256);
        let apps = Apps {
            store,
            changes: changes.clone(),
            synced: Arc::default(),
        };
        let synced = Arc::clone(&apps.synced);
        let ready = apps.store.clone();
        tokio::spawn(async move {
            if ready.wait_until_ready().await.is_ok() {
                synced.store(true, Ordering::Relaxed);
            }
        });
        tokio::spawn(async move {
            let mut events = watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(plumb_controller::forget_managed_fields)
                .reflect(writer)
                .touched_objects()
                .boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(app) => {
                        let key = format!(
                            "{}/{}",
                            app.metadata.namespace.as_deref().unwrap_or_default(),
                            app.metadata.name.as_deref().unwrap_or_default()
                        );
                        // No subscriber is fine: nobody has a page open.
                        let _ = changes.send(key);
                    }
                    Err(err) => tracing::warn!("watching Applications failed, retrying: {err}"),
                }
            }
        });
        apps
    }

    /// Every Application, sorted by namespace and name.
    pub(crate) fn all(&self) -> Vec<Arc<Application>> {
        let mut apps = self.store.state();
        apps.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        apps
    }

    /// One Application.
    pub(crate) fn get(&self, namespace: &str, name: &str) -> Option<Arc<Application>> {
        self.store
            .get(&reflector::ObjectRef::new(name).within(namespace))
    }

    /// Changes from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }

    /// Whether the first list has arrived (readiness).
    pub(crate) fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }
}

/// The AppPolicies, kept current by a watch: the API roles they set narrow who may operate
/// Applications through the API ([`plumb_controller::api_permits`]).
#[derive(Clone)]
pub(crate) struct Policies {
    store: Store<AppPolicy>,
    synced: Arc<AtomicBool>,
}

impl Policies {
    /// Starts watching the AppPolicies of every namespace in the background (only those of
    /// the admin namespaces will count).
    pub(crate) fn watch(client: Client) -> Policies {
        let (store, writer) = reflector::store();
        let policies = Policies {
            store,
            synced: Arc::default(),
        };
        let synced = Arc::clone(&policies.synced);
        let ready = policies.store.clone();
        tokio::spawn(async move {
            if ready.wait_until_ready().await.is_ok() {
                synced.store(true, Ordering::Relaxed);
            }
        });
        tokio::spawn(async move {
            let mut events = watcher(Api::<AppPolicy>::all(client), watcher::Config::default())
                .default_backoff()
                .reflect(writer)
                .applied_objects()
                .boxed();
            while let Some(event) = events.next().await {
                if let Err(err) = event {
                    tracing::warn!("watching AppPolicies failed, retrying: {err}");
                }
            }
        });
        policies
    }

    /// Every AppPolicy, or `None` before the first list arrived: operations then wait
    /// rather than go unchecked.
    pub(crate) fn all(&self) -> Option<Vec<AppPolicy>> {
        self.synced
            .load(Ordering::Relaxed)
            .then(|| self.store.state().iter().map(|p| (**p).clone()).collect())
    }
}
