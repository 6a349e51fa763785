//! The webhook Secret, read at most once every few seconds however many deliveries arrive:
//! deliveries are anonymous until verified, so reading the Secret for each would let anyone
//! turn requests into Secret GETs on the API server. Concurrent deliveries wait for the one
//! read in flight. A rotated key is in use within [`KEEP_FOR`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

/// How long a read Secret is used.
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(10);
/// How long a failed read is remembered before the next delivery tries again.
const FAILURE_KEPT_FOR: Duration = Duration::from_secs(1);
/// How long one read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Each provider's key, by the Secret's key name (`github`, `gitlab`, …); empty values left out.
pub(crate) type Keys = BTreeMap<String, Vec<u8>>;

/// What a read returned, and when.
type Read<T> = (Result<Arc<T>, String>, Instant);

/// A value read again only once the last read is older than its lifetime.
pub(crate) struct Reread<T> {
    keep_for: Duration,
    failure_kept_for: Duration,
    last: tokio::sync::Mutex<Option<Read<T>>>,
}

impl<T> Reread<T> {
    pub(crate) fn new(keep_for: Duration, failure_kept_for: Duration) -> Self {
        Reread {
            keep_for,
            failure_kept_for,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The last value read, or the one `read` returns now if that is too old.
    pub(crate) async fn get<F>(&self, read: impl FnOnce() -> F) -> Result<Arc<T>, String>
    where
        F: Future<Output = Result<T, String>>,
    {
        let mut last = self.last.lock().await;
        if let Some((value, at)) = &*last {
            let lifetime = if value.is_ok() {
                self.keep_for
            } else {
                self.failure_kept_for
            };
            if at.elapsed() < lifetime {
                return value.clone();
            }
        }
        let value = read().await.map(Arc::new);
        *last = Some((value.clone(), Instant::now()));
        value
    }
}

/// The webhook Secret of the controller's namespace.
pub(crate) struct WebhookSecret {
    client: Client,
    namespace: String,
    name: String,
    keys: Reread<Keys>,
}

impl WebhookSecret {
    pub(crate) fn new(client: Client, namespace: &str, name: &str) -> Self {
        WebhookSecret {
            client,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            keys: Reread::new(KEEP_FOR, FAILURE_KEPT_FOR),
        }
    }

    /// Every provider's key (none when the Secret is missing), or why it could not be read.
    pub(crate) async fn keys(&self) -> Result<Arc<Keys>, String> {
        self.keys.get(|| self.read()).await
    }

    async fn read(&self) -> Result<Keys, String> {
        let (namespace, name) = (&self.namespace, &self.name);
        let api = Api::<Secret>::namespaced(self.client.clone(), namespace);
        let secret = tokio::time::timeout(READ_TIMEOUT, api.get_opt(name))
            .await
            .map_err(|_| {
                format!("reading Secret {namespace}/{name} took longer than {READ_TIMEOUT:?}")
            })?
            .map_err(|err| format!("reading Secret {namespace}/{name}: {err}"))?;
        Ok(secret
            .and_then(|s| s.data)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, value)| !value.0.is_empty())
            .map(|(key, value)| (key, value.0))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_flood_of_deliveries_reads_the_secret_once() {
        let reads = AtomicUsize::new(0);
        let secret = Reread::new(Duration::from_secs(3600), Duration::from_secs(3600));
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(7)
        };
        let all = futures::future::join_all((0..100).map(|_| secret.get(read))).await;
        assert!(all.iter().all(|v| v.as_deref() == Ok(&7)));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_old_read_is_read_again() {
        let reads = AtomicUsize::new(0);
        let secret = Reread::new(Duration::ZERO, Duration::ZERO);
        for expected in 1..=3 {
            let value = secret
                .get(|| async { Ok::<_, String>(reads.fetch_add(1, Ordering::SeqCst) + 1) })
                .await;
            assert_eq!(value.as_deref(), Ok(&expected));
        }
    }

    #[tokio::test]
    async fn a_failure_is_kept_for_its_own_shorter_time() {
        let secret = Reread::new(Duration::from_secs(3600), Duration::ZERO);
        let failed = secret.get(|| async { Err::<u8, _>("down".to_owned()) });
        assert_eq!(failed.await, Err("down".to_owned()));
        let value = secret.get(|| async { Ok::<_, String>(1) }).await;
        assert_eq!(value.as_deref(), Ok(&1), "tried again at once");
        let kept = secret.get(|| async { Ok::<_, String>(2) }).await;
        assert_eq!(kept.as_deref(), Ok(&1), "a success is kept");
    }
}
