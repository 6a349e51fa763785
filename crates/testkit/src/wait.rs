//! Waiting for the cluster to reach a state, without sleeping for a guessed time.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] polls.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`, and returns that value.
///
/// # Panics
/// After `timeout`, naming `what` — meant for tests, where a state never reached is a
/// failure to report, not an error to handle.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the object `name` no longer exists (deletion, finalizers and garbage
/// collection are asynchronous in Kubernetes).
///
/// # Panics
/// After `timeout`, naming the object.
pub async fn until_deleted<K>(api: &kube::Api<K>, name: &str, timeout: Duration)
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let what = format!("{name} to be deleted");
    eventually(&what, timeout, || async {
        api.get_opt(name).await.ok()?.is_none().then_some(())
    })
    .await;
}
