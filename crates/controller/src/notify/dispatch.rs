//! Who may deliver when. A receiver that never answers must not hold up anyone else's:
//! requests in flight are limited overall and per namespace (a tenant's receivers share
//! their namespace's share), a slot is held only while a request runs — never while a
//! delivery waits to retry — and each namespace may have only so many deliveries pending,
//! past which its new ones are dropped, not everyone's.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

/// The limits.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// Requests in flight, overall.
    pub parallel: usize,
    /// Requests in flight for one namespace.
    pub parallel_per_namespace: usize,
    /// Deliveries pending (running, waiting for a slot or to retry) for one namespace.
    pub pending_per_namespace: usize,
}

/// Starts deliveries within [`Limits`].
pub(super) struct Dispatch {
    limits: Limits,
    slots: Arc<Semaphore>,
    namespaces: Arc<Mutex<HashMap<String, Namespace>>>,
}

struct Namespace {
    slots: Arc<Semaphore>,
    pending: usize,
}

/// The right to run requests, handed to one delivery.
#[derive(Clone)]
pub(super) struct Slots {
    overall: Arc<Semaphore>,
    namespace: Arc<Semaphore>,
}

impl Slots {
    /// Runs `request` once a slot of the namespace and one overall are free; both are
    /// given back when it ends.
    pub(super) async fn run<T>(&self, request: impl Future<Output = T>) -> T {
        let _namespace = self.namespace.acquire().await;
        let _overall = self.overall.acquire().await;
        request.await
    }
}

impl Dispatch {
    pub(super) fn new(limits: Limits) -> Dispatch {
        Dispatch {
            limits,
            slots: Arc::new(Semaphore::new(limits.parallel)),
            namespaces: Arc::default(),
        }
    }

    /// Starts `delivery` for `namespace`, unless that namespace has too many pending;
    /// whether it started.
    pub(super) fn start<F>(&self, namespace: &str, delivery: impl FnOnce(Slots) -> F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let slots = {
            let mut namespaces = self.namespaces.lock().unwrap_or_else(|p| p.into_inner());
            let entry = namespaces
                .entry(namespace.to_owned())
                .or_insert_with(|| Namespace {
                    slots: Arc::new(Semaphore::new(self.limits.parallel_per_namespace)),
                    pending: 0,
                });
            if entry.pending >= self.limits.pending_per_namespace {
                return false;
            }
            entry.pending += 1;
            Slots {
                overall: Arc::clone(&self.slots),
                namespace: Arc::clone(&entry.slots),
            }
        };
        let done = Done {
            namespaces: Arc::clone(&self.namespaces),
            namespace: namespace.to_owned(),
        };
        let work = delivery(slots);
        tokio::spawn(async move {
            work.await;
            drop(done);
        });
        true
    }
}

/// Counts a delivery out of its namespace when it ends, however it ends.
struct Done {
    namespaces: Arc<Mutex<HashMap<String, Namespace>>>,
    namespace: String,
}

impl Drop for Done {
    fn drop(&mut self) {
        let mut namespaces = self.namespaces.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = namespaces.get_mut(&self.namespace) {
            entry.pending -= 1;
            if entry.pending == 0 {
                namespaces.remove(&self.namespace);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;

    const LIMITS: Limits = Limits {
        parallel: 4,
        parallel_per_namespace: 2,
        pending_per_namespace: 5,
    };

    #[tokio::test(start_paused = true)]
    async fn a_receiver_that_never_answers_holds_up_only_its_own_namespace() {
        let dispatch = Dispatch::new(LIMITS);
        // Team A's receiver accepts and never answers.
        let started: Vec<bool> = (0..8)
            .map(|_| {
                dispatch.start("team-a", |slots| async move {
                    slots.run(std::future::pending::<()>()).await;
                })
            })
            .collect();
        assert_eq!(
            started.iter().filter(|s| **s).count(),
            5,
            "team A's own queue is bounded"
        );

        let (delivered, mut told) = mpsc::unbounded_channel();
        for team in ["team-b", "team-c"] {
            let delivered = delivered.clone();
            assert!(dispatch.start(team, move |slots| async move {
                slots.run(async { delivered.send(team).unwrap() }).await;
            }));
        }
        let mut heard = Vec::new();
        for _ in 0..2 {
            let team = tokio::time::timeout(Duration::from_secs(1), told.recv())
                .await
                .expect("other teams are delivered while team A's receiver hangs");
            heard.push(team.unwrap());
        }
        heard.sort();
        assert_eq!(heard, ["team-b", "team-c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_delivery_waiting_to_retry_holds_no_slot() {
        let dispatch = Dispatch::new(Limits {
            parallel: 1,
            parallel_per_namespace: 1,
            pending_per_namespace: 5,
        });
        // Fails at once, then waits an hour before trying again.
        dispatch.start("team-a", |slots| async move {
            slots.run(async {}).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            slots.run(async {}).await;
        });
        tokio::task::yield_now().await;
        let (delivered, told) = tokio::sync::oneshot::channel();
        dispatch.start("team-a", |slots| async move {
            slots.run(async { delivered.send(()).unwrap() }).await;
        });
        tokio::time::timeout(Duration::from_secs(1), told)
            .await
            .expect("the slot was free while the first delivery waited")
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_namespace_may_queue_again_once_its_deliveries_end() {
        let dispatch = Dispatch::new(LIMITS);
        for _ in 0..LIMITS.pending_per_namespace {
            assert!(dispatch.start("team-a", |_| async {}));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(dispatch.start("team-a", |_| async {}));
    }
}
