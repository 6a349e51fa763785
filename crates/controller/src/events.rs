//! Kubernetes Events on the Application for every sync, drift correction, prune and
//! failure — what `kubectl describe app` shows. Publishing never fails a reconcile.

use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::application::Application;

/// The component name Events are reported under.
pub const REPORTER: &str = "plumb-controller";

/// One Event to publish.
#[derive(Debug)]
pub(crate) struct Notice {
    type_: EventType,
    reason: String,
    action: String,
    note: String,
}

impl Notice {
    /// A normal event.
    pub(crate) fn normal(reason: &str, action: &str, note: &str) -> Self {
        Notice::new(EventType::Normal, reason, action, note)
    }

    /// A warning.
    pub(crate) fn warning(reason: &str, action: &str, note: &str) -> Self {
        Notice::new(EventType::Warning, reason, action, note)
    }

    fn new(type_: EventType, reason: &str, action: &str, note: &str) -> Self {
        // Events carry at most 1 kB of note.
        let mut note = note.to_owned();
        if note.len() > 1000 {
            let mut cut = 997;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
            note.push_str("...");
        }
        Notice {
            type_,
            reason: reason.to_owned(),
            action: action.to_owned(),
            note,
        }
    }
}

/// Publishes Events.
pub(crate) struct Events {
    recorder: Recorder,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Events reported as `plumb-controller`.
    pub(crate) fn new(client: kube::Client) -> Self {
        let reporter = Reporter {
            controller: REPORTER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Events {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// Publishes `notice` on `app`; a failure is logged, not returned.
    pub(crate) async fn publish(&self, app: &Application, notice: Notice) {
        let event = Event {
            type_: notice.type_,
            reason: notice.reason,
            note: Some(notice.note),
            action: notice.action,
            secondary: None,
        };
        let reference = app.object_ref(&());
        if let Err(err) = self.recorder.publish(&event, &reference).await {
            tracing::warn!(app = %app.key(), "cannot publish event: {err}");
        }
    }
}
