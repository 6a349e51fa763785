//! Sync-loop protection: when plumb keeps correcting the same object because another
//! controller keeps changing it back (an HPA on `replicas`, an operator defaulting a
//! field), self-heal backs off exponentially and the app says who it is fighting and how
//! to end it — instead of two controllers writing the object forever.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use plumb_engine::ObjectRef;
use tokio::time::Instant;

/// Corrections of one object within [`WINDOW`] that make a loop.
const THRESHOLD: usize = 3;
/// How far back corrections count.
const WINDOW: Duration = Duration::from_secs(120);
/// First back-off; doubles per loop detected, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A detected loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncLoop {
    /// The object corrected again and again.
    pub object: ObjectRef,
    /// The fields that kept drifting.
    pub fields: Vec<String>,
    /// Who kept changing them.
    pub managers: Vec<String>,
    /// Corrections within the window.
    pub corrections: usize,
    /// How long self-heal now waits.
    pub backoff: Duration,
}

impl SyncLoop {
    /// The condition message: the object, fields, manager, and the fix.
    pub(crate) fn message(&self) -> String {
        let managers = if self.managers.is_empty() {
            "another writer".to_owned()
        } else {
            self.managers.join(", ")
        };
        format!(
            "{} was corrected {} times in {}s: {} keeps changing {}. Self-heal waits {}s. \
             If {} owns these fields, stop managing them in Git or add to spec.ignoreDifferences: {}",
            self.object,
            self.corrections,
            WINDOW.as_secs(),
            managers,
            self.fields.join(", "),
            self.backoff.as_secs(),
            managers,
            self.suggestion(),
        )
    }

    /// The `ignoreDifferences` entry that would end the loop.
    pub(crate) fn suggestion(&self) -> String {
        let mut entry = format!(
            "{{group: \"{}\", kind: {}, name: {}",
            self.object.group, self.object.kind, self.object.name
        );
        if !self.fields.is_empty() {
            entry.push_str(&format!(", jsonPointers: [{}]", self.fields.join(", ")));
        } else if !self.managers.is_empty() {
            entry.push_str(&format!(
                ", managedFieldsManagers: [{}]",
                self.managers.join(", ")
            ));
        }
        entry.push('}');
        entry
    }
}

/// Per app: recent corrections per object and the current back-off.
#[derive(Debug, Default)]
pub(crate) struct LoopGuard {
    corrections: HashMap<ObjectRef, VecDeque<Instant>>,
    strikes: u32,
    blocked_until: Option<Instant>,
    current: Option<SyncLoop>,
}

impl LoopGuard {
    /// Records that self-heal corrected `object`; returns the loop when this makes one.
    pub(crate) fn corrected(
        &mut self,
        object: &ObjectRef,
        fields: &[String],
        managers: &[String],
        now: Instant,
    ) -> Option<SyncLoop> {
        let times = self.corrections.entry(object.clone()).or_default();
        times.push_back(now);
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            times.pop_front();
        }
        if times.len() < THRESHOLD {
            return None;
        }
        let corrections = times.len();
        self.strikes += 1;
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << (self.strikes - 1).min(10))
            .min(MAX_BACKOFF);
        self.blocked_until = Some(now + backoff);
        let detected = SyncLoop {
            object: object.clone(),
            fields: fields.to_vec(),
            managers: managers.to_vec(),
            corrections,
            backoff,
        };
        self.current = Some(detected.clone());
        Some(detected)
    }

    /// Until when self-heal must wait, if it must.
    pub(crate) fn blocked_until(&self, now: Instant) -> Option<Instant> {
        self.blocked_until.filter(|until| *until > now)
    }

    /// The loop in progress, until a window passes without corrections.
    pub(crate) fn current(&mut self, now: Instant) -> Option<&SyncLoop> {
        let quiet = self
            .corrections
            .values()
            .filter_map(|times| times.back())
            .all(|last| now.duration_since(*last) > WINDOW);
        if quiet {
            self.corrections.clear();
            self.strikes = 0;
            self.current = None;
        }
        self.current.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> ObjectRef {
        ObjectRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: Some("prod".into()),
            name: "web".into(),
        }
    }

    #[test]
    fn the_third_correction_in_a_window_is_a_loop_and_backoff_doubles() {
        let mut guard = LoopGuard::default();
        let start = Instant::now();
        let fields = vec!["/spec/replicas".to_owned()];
        let hpa = vec!["horizontal-pod-autoscaler".to_owned()];
        assert!(guard.corrected(&web(), &fields, &hpa, start).is_none());
        assert!(
            guard
                .corrected(&web(), &fields, &hpa, start + Duration::from_secs(1))
                .is_none()
        );
        let first = guard
            .corrected(&web(), &fields, &hpa, start + Duration::from_secs(2))
            .unwrap();
        assert_eq!(first.backoff, Duration::from_secs(5));
        assert!(
            guard
                .blocked_until(start + Duration::from_secs(3))
                .is_some()
        );
        let second = guard
            .corrected(&web(), &fields, &hpa, start + Duration::from_secs(8))
            .unwrap();
        assert_eq!(second.backoff, Duration::from_secs(10));
        assert!(
            second
                .message()
                .contains("horizontal-pod-autoscaler keeps changing /spec/replicas")
        );
        assert!(
            second
                .suggestion()
                .contains("jsonPointers: [/spec/replicas]")
        );
    }

    #[test]
    fn corrections_far_apart_are_not_a_loop_and_quiet_clears_it() {
        let mut guard = LoopGuard::default();
        let start = Instant::now();
        for minutes in [0, 3, 6, 9] {
            let at = start + Duration::from_secs(minutes * 60);
            assert!(guard.corrected(&web(), &[], &[], at).is_none());
        }
        assert!(
            guard
                .current(start + Duration::from_secs(20 * 60))
                .is_none()
        );
    }
}
