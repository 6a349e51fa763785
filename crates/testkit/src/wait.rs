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
