//! Whether the controller still makes progress, for the liveness probe.
//!
//! Every reconcile runs under a deadline ([`crate::ControllerConfig::reconcile_timeout`]):
//! past it, the reconcile is dropped and the app retried later, so one app never holds a
//! worker for long. A reconcile still running well past its deadline means the deadline
//! itself could not act — a worker thread blocked outside the async runtime's reach — and
//! the only cure is a restart: `/healthz` then fails and the kubelet restarts the process.
//! A process-wide record, like [`crate::metrics`]: the server reads it from another task
//! tree of the same process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::application::AppKey;

/// How long past its deadline a reconcile may still run before the process counts as
/// wedged (the deadline drops a reconcile at its next await; this is the margin for it).
const GRACE: Duration = Duration::from_secs(60);

struct Running {
    app: AppKey,
    since: Instant,
    deadline: Duration,
}

fn running() -> &'static Mutex<HashMap<u64, Running>> {
    static RUNNING: OnceLock<Mutex<HashMap<u64, Running>>> = OnceLock::new();
    RUNNING.get_or_init(Mutex::default)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<u64, Running>> {
    running().lock().unwrap_or_else(|p| p.into_inner())
}

/// A reconcile in progress; dropping it (however the reconcile ends) records its end.
pub(crate) struct InProgress(u64);

impl Drop for InProgress {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}

/// Records that `app`'s reconcile starts now and should end within `deadline`.
pub(crate) fn begin(app: &AppKey, deadline: Duration) -> InProgress {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let entry = Running {
        app: app.clone(),
        since: Instant::now(),
        deadline,
    };
    lock().insert(id, entry);
    InProgress(id)
}

/// `Err` with what is stuck when a reconcile has run past its deadline and the grace after
/// it; `Ok` otherwise (also in a process that runs no controller).
pub fn check() -> Result<(), String> {
    check_at(Instant::now())
}

fn check_at(now: Instant) -> Result<(), String> {
    let running = lock();
    let stuck = running
        .values()
        .filter(|r| now.saturating_duration_since(r.since) > r.deadline + GRACE)
        .max_by_key(|r| now.saturating_duration_since(r.since));
    match stuck {
        Some(r) => Err(format!(
            "the reconcile of {} has run for {}s, past its {}s deadline: a worker is wedged",
            r.app,
            now.saturating_duration_since(r.since).as_secs(),
            r.deadline.as_secs()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconcile_past_its_deadline_and_grace_fails_the_check_until_it_ends() {
        let app = AppKey {
            namespace: "team-live".into(),
            name: "stuck".into(),
        };
        let deadline = Duration::from_secs(10);
        let started = begin(&app, deadline);
        assert!(
            check_at(Instant::now() + deadline).is_ok(),
            "within the deadline"
        );
        let later = Instant::now() + deadline + GRACE + Duration::from_secs(5);
        let why = check_at(later).unwrap_err();
        assert!(why.contains("team-live/stuck"), "{why}");
        drop(started);
        assert!(check_at(later).is_ok(), "ended, however it ended");
    }
}
