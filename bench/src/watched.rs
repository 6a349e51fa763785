//! What a benchmark waits on, kept from a watch. Relisting a thousand Applications every
//! second to see whether they are done loaded the API server the benchmark measures (list
//! handling was 8% of its CPU in a profile of 300 apps syncing); a watch sends each change
//! once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Api;
use kube::api::DynamicObject;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

/// The objects of one collection as last seen, by name, each as JSON.
pub struct Watched {
    objects: Arc<Mutex<HashMap<String, Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watched {
    /// Starts watching `api`.
    pub fn start(api: Api<DynamicObject>) -> Watched {
        let objects: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
        let kept = Arc::clone(&objects);
        let task = tokio::spawn(async move {
            let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
            while let Some(event) = events.next().await {
                let mut objects = kept.lock().unwrap_or_else(|p| p.into_inner());
                match event {
                    // A relist: what it does not name again is gone.
                    Ok(Event::Init) => objects.clear(),
                    Ok(Event::Apply(object) | Event::InitApply(object)) => {
                        if let Some(name) = object.metadata.name.clone() {
                            objects.insert(name, serde_json::to_value(&object).unwrap());
                        }
                    }
                    Ok(Event::Delete(object)) => {
                        if let Some(name) = &object.metadata.name {
                            objects.remove(name);
                        }
                    }
                    Ok(Event::InitDone) => {}
                    // The watcher retries by itself; a benchmark that never gets there
                    // fails on its patience.
                    Err(_) => {}
                }
            }
        });
        Watched { objects, task }
    }

    /// How many objects `done` holds for now.
    pub fn count(&self, done: impl Fn(&Value) -> bool) -> usize {
        let objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        objects.values().filter(|object| done(object)).count()
    }

    /// Waits until `wanted` objects are `done`, looking every 50 ms (a look is local); calls
    /// `check` at each look (a process that died fails the benchmark there). Panics after
    /// `patience`, saying how many of `what` got there.
    pub async fn until(
        &self,
        wanted: usize,
        patience: Duration,
        what: &str,
        mut check: impl FnMut(),
        done: impl Fn(&Value) -> bool,
    ) {
        let deadline = Instant::now() + patience;
        loop {
            check();
            let count = self.count(&done);
            if count >= wanted {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {count} of {wanted} {what} within {patience:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.task.abort();
    }
}
