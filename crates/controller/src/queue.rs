//! The work queue: which Applications to reconcile, when, and why.
//!
//! Like client-go's workqueue: a key is queued at most once, a key being reconciled is never
//! handed out twice, and one queued meanwhile waits until the running reconcile is done.
//! Unlike kube-runtime's `Controller`, it keeps *why* a key was queued, because the reasons
//! decide the work: drift needs no `git ls-remote`, a new spec or a webhook does. Each reason
//! keeps its own due time, so a reconcile handed out for drift now does not carry the poll
//! that is due in three minutes (which would ask Git early, and be told as a poll).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::application::AppKey;

/// Why an Application is reconciled. Several can hold at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reasons(u8);

impl Reasons {
    /// The spec changed, or the app was just seen (start-up).
    pub(crate) const SPEC: Reasons = Reasons(1);
    /// Someone asked (annotation, CLI, webhook).
    pub(crate) const REQUESTED: Reasons = Reasons(1 << 1);
    /// The polling interval passed.
    pub(crate) const INTERVAL: Reasons = Reasons(1 << 2);
    /// A managed object changed.
    pub(crate) const DRIFT: Reasons = Reasons(1 << 3);
    /// A managed object's health may have changed.
    pub(crate) const HEALTH: Reasons = Reasons(1 << 4);
    /// A failed attempt is tried again, or a dependency is waited for.
    pub(crate) const RETRY: Reasons = Reasons(1 << 5);

    /// Every reason, one bit each, in the order of [`Entry::due`].
    const ALL: [Reasons; 6] = [
        Self::SPEC,
        Self::REQUESTED,
        Self::INTERVAL,
        Self::DRIFT,
        Self::HEALTH,
        Self::RETRY,
    ];

    /// Whether every reason of `other` is present.
    pub(crate) fn contains(self, other: Reasons) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the repository must be asked where the revision points now.
    pub(crate) fn needs_resolve(self) -> bool {
        self.0 & (Self::SPEC.0 | Self::REQUESTED.0 | Self::INTERVAL.0 | Self::RETRY.0) != 0
    }
}

impl std::ops::BitOr for Reasons {
    type Output = Reasons;
    fn bitor(self, rhs: Reasons) -> Reasons {
        Reasons(self.0 | rhs.0)
    }
}

/// When each reason of a queued key is due — a second request for a reason keeps the
/// earlier time — and when it was last asked for: what made the app due happened before.
#[derive(Debug, Default)]
struct Entry {
    due: [Option<(Instant, Instant)>; Reasons::ALL.len()],
}

impl Entry {
    fn add(&mut self, reasons: Reasons, due: Instant) {
        for (slot, reason) in self.due.iter_mut().zip(Reasons::ALL) {
            if reasons.contains(reason) {
                *slot =
                    Some(slot.map_or((due, due), |(first, last)| (first.min(due), last.max(due))));
            }
        }
    }

    /// When the first of its reasons is due.
    fn first_due(&self) -> Option<Instant> {
        self.due.iter().flatten().map(|(first, _)| *first).min()
    }

    /// Takes the reasons due by `now`, leaving the later ones queued; and the last time
    /// any of those taken was asked for.
    fn take_due(&mut self, now: Instant) -> (Reasons, Instant) {
        let mut due = Reasons::default();
        let mut asked = None::<Instant>;
        for (slot, reason) in self.due.iter_mut().zip(Reasons::ALL) {
            if let Some((first, last)) = *slot
                && first <= now
            {
                *slot = None;
                due = due | reason;
                asked = Some(asked.map_or(last, |a| a.max(last)));
            }
        }
        (due, asked.unwrap_or(now))
    }
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<AppKey, Entry>,
    running: HashSet<AppKey>,
    closed: bool,
}

/// Keys to reconcile, due now or later.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    changed: Notify,
}

impl Queue {
    /// Queues `key` now.
    pub(crate) fn add(&self, key: AppKey, reasons: Reasons) {
        self.add_after(key, reasons, Duration::ZERO);
    }

    /// Queues `key` after `delay` (or sooner, if it is already queued sooner).
    pub(crate) fn add_after(&self, key: AppKey, reasons: Reasons, delay: Duration) {
        // A delay past what the clock can add (no caller asks for more than a year) is a
        // year: never a panic in a worker.
        let now = Instant::now();
        let due = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        {
            let mut state = self.lock();
            state.pending.entry(key).or_default().add(reasons, due);
        }
        self.changed.notify_one();
    }

    /// Forgets `key` (its Application was deleted).
    pub(crate) fn remove(&self, key: &AppKey) {
        self.lock().pending.remove(key);
    }

    /// Stops handing out keys; `next` then returns `None`.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
    }

    /// The next due key not being reconciled, waiting for one. Call [`Queue::done`] after.
    pub(crate) async fn next(&self) -> Option<(AppKey, Reasons, Instant)> {
        loop {
            let notified = self.changed.notified();
            let wait = {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                let now = Instant::now();
                let ready = state
                    .pending
                    .iter()
                    .filter(|(key, _)| !state.running.contains(*key))
                    .filter_map(|(key, entry)| Some((key, entry.first_due()?)))
                    .min_by_key(|(_, due)| *due)
                    .map(|(key, due)| (key.clone(), due));
                match ready {
                    Some((key, due)) if due <= now => {
                        let entry = state.pending.get_mut(&key)?;
                        let (reasons, asked) = entry.take_due(now);
                        if entry.first_due().is_none() {
                            state.pending.remove(&key);
                        }
                        state.running.insert(key.clone());
                        return Some((key, reasons, asked));
                    }
                    Some((_, due)) => Some(due),
                    None => None,
                }
            };
            match wait {
                Some(due) => {
                    tokio::select! {
                        () = notified => {}
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `key`'s reconcile finished, so it can be handed out again.
    pub(crate) fn done(&self, key: &AppKey) {
        self.lock().running.remove(key);
        self.changed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> AppKey {
        AppKey {
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_is_queued_once_with_the_reasons_due_at_the_time() {
        let queue = Queue::default();
        queue.add_after(key("a"), Reasons::DRIFT, Duration::from_secs(5));
        queue.add(key("a"), Reasons::DRIFT | Reasons::HEALTH);
        queue.add(key("b"), Reasons::SPEC);
        let mut handed = [queue.next().await.unwrap(), queue.next().await.unwrap()]
            .map(|(key, reasons, _)| (key, reasons));
        handed.sort_by(|x, y| x.0.name.cmp(&y.0.name));
        assert_eq!(handed[0], (key("a"), Reasons::DRIFT | Reasons::HEALTH));
        assert_eq!(handed[1], (key("b"), Reasons::SPEC));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reason_due_later_stays_queued_for_its_own_time() {
        let queue = Queue::default();
        queue.add_after(key("a"), Reasons::INTERVAL, Duration::from_secs(60));
        queue.add(key("a"), Reasons::DRIFT);
        let started = Instant::now();
        let (got, reasons, _) = queue.next().await.unwrap();
        assert_eq!((got.clone(), reasons), (key("a"), Reasons::DRIFT));
        assert!(!reasons.needs_resolve(), "drift now does not ask Git early");
        queue.done(&got);
        // The reconcile asks for its next poll later than the one already queued: the
        // earlier one stands.
        queue.add_after(key("a"), Reasons::INTERVAL, Duration::from_secs(180));
        let (got, reasons, _) = queue.next().await.unwrap();
        assert_eq!((got, reasons), (key("a"), Reasons::INTERVAL));
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_key_is_not_handed_out_again_until_done() {
        let queue = std::sync::Arc::new(Queue::default());
        queue.add(key("a"), Reasons::DRIFT);
        let (first, _, _) = queue.next().await.unwrap();
        queue.add(key("a"), Reasons::DRIFT);
        queue.add_after(key("b"), Reasons::SPEC, Duration::from_millis(10));
        // `b` comes first, even though `a` is due earlier: `a` is still running.
        let (second, _, _) = queue.next().await.unwrap();
        assert_eq!(second, key("b"));
        queue.done(&first);
        let (third, reasons, _) = queue.next().await.unwrap();
        assert_eq!(third, key("a"));
        assert!(!reasons.needs_resolve(), "drift alone needs no ls-remote");
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_keys_wait_their_turn() {
        let queue = Queue::default();
        queue.add_after(key("late"), Reasons::INTERVAL, Duration::from_secs(30));
        let started = Instant::now();
        let (got, _, _) = queue.next().await.unwrap();
        assert_eq!(got, key("late"));
        assert!(started.elapsed() >= Duration::from_secs(30));
    }

    /// A request merged into one already queued: Git's answer must be newer than the
    /// later request, which may follow a push the earlier one did not.
    #[tokio::test(start_paused = true)]
    async fn the_last_request_is_what_an_answer_from_git_must_follow() {
        let queue = Queue::default();
        let first = Instant::now();
        queue.add(key("a"), Reasons::REQUESTED);
        tokio::time::advance(Duration::from_secs(2)).await;
        let second = Instant::now();
        queue.add(key("a"), Reasons::REQUESTED);
        queue.add_after(key("a"), Reasons::INTERVAL, Duration::from_secs(60));
        let (_, reasons, asked) = queue.next().await.unwrap();
        assert_eq!(reasons, Reasons::REQUESTED);
        assert_eq!(asked, second);
        assert!(asked > first);
    }
}
