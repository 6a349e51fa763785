//! Notifications: syncs that succeeded or failed, drift detected or corrected, health that
//! turned Degraded — delivered to generic webhooks (JSON), Slack-compatible incoming
//! webhooks, and as commit statuses on GitHub, GitLab and Gitea.
//!
//! Each Application names its receivers (`spec.notifications`), each described by a Secret
//! of its namespace (see [`crate::application::NotificationSpec`]), which is read as the
//! app acts (module `readers`). Delivery never slows a reconcile: notices go through a
//! bounded queue to background tasks that retry with backoff, within limits per namespace
//! so one tenant's dead receiver holds up no one else's (module `dispatch`); a notice that
//! finds no room is dropped, logged and counted. Receivers are reached only at addresses the
//! outbound policy allows (module `outbound`), and the repository URL they are told is
//! redacted ([`plumb_source::redact_url`]).

mod dispatch;
mod readers;
mod receiver;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use tokio::sync::mpsc;

use crate::application::{Application, NotificationSpec};
use crate::metrics;
use dispatch::{Dispatch, Limits, Slots};
pub use plumb_source::outbound::OutboundPolicy;
use readers::Readers;
use receiver::{Http, Receiver, Undelivered};

/// How many notices may wait for delivery.
const QUEUE: usize = 1024;
/// Requests in flight, overall and per namespace, and deliveries pending per namespace.
const LIMITS: Limits = Limits {
    parallel: 8,
    parallel_per_namespace: 2,
    pending_per_namespace: 64,
};
/// Attempts per delivery, the first included; waits double from one second.
const ATTEMPTS: u32 = 6;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    SyncSucceeded,
    SyncFailed,
    DriftDetected,
    DriftCorrected,
    HealthDegraded,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::SyncSucceeded => "SyncSucceeded",
            Kind::SyncFailed => "SyncFailed",
            Kind::DriftDetected => "DriftDetected",
            Kind::DriftCorrected => "DriftCorrected",
            Kind::HealthDegraded => "HealthDegraded",
        }
    }
}

/// One notification, before it is shaped for a receiver.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    pub(crate) kind: Kind,
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// Whom the app acts as, who reads the receiver's Secret: the impersonated user, or
    /// `None` for the controller itself (set by [`Notifier::notify`]).
    pub(crate) acting_as: Option<String>,
    /// Redacted: no user information.
    pub(crate) repo_url: String,
    /// The commit concerned (full id).
    pub(crate) revision: String,
    /// One line for people.
    pub(crate) message: String,
    /// Objects concerned (drifted, failed), `Kind namespace/name (changed by …)`.
    pub(crate) objects: Vec<String>,
    /// RFC 3339.
    pub(crate) time: String,
}

impl Notice {
    pub(crate) fn new(kind: Kind, app: &Application, revision: &str, message: String) -> Notice {
        Notice {
            kind,
            namespace: app.metadata.namespace.clone().unwrap_or_default(),
            name: app.metadata.name.clone().unwrap_or_default(),
            acting_as: None,
            repo_url: plumb_source::redact_url(&app.spec.source.repo_url),
            revision: revision.to_owned(),
            message,
            objects: Vec::new(),
            time: crate::clock::now(),
        }
    }
}

/// Hands notices to background delivery.
#[derive(Clone)]
pub(crate) struct Notifier {
    queue: mpsc::Sender<(Vec<NotificationSpec>, Notice)>,
}

impl Notifier {
    /// Starts the delivery tasks: Secrets are read with `client` or clients derived from
    /// `config` impersonating the app's account, receivers reached as `policy` allows.
    pub(crate) fn start(client: Client, config: kube::Config, policy: OutboundPolicy) -> Notifier {
        let (queue, mut receiver) = mpsc::channel::<(Vec<NotificationSpec>, Notice)>(QUEUE);
        let readers = Arc::new(Readers::new(client, config));
        let http = Arc::new(Http::new(policy));
        let dispatch = Dispatch::new(LIMITS);
        tokio::spawn(async move {
            while let Some((specs, notice)) = receiver.recv().await {
                for spec in specs {
                    let (readers, http, notice) =
                        (Arc::clone(&readers), Arc::clone(&http), notice.clone());
                    let namespace = notice.namespace.clone();
                    let started = dispatch.start(&namespace, |slots| async move {
                        deliver(&slots, &readers, &http, &spec, &notice).await;
                    });
                    if !started {
                        tracing::warn!(%namespace, "notification dropped: too many of this namespace's notifications are pending (a receiver that does not answer?)");
                        count("any", "dropped");
                    }
                }
            }
        });
        Notifier { queue }
    }

    /// Queues `notice` for the receivers of `app` that want its kind; their Secrets will
    /// be read as `acting_as` (an impersonated user; `None`: the controller), which must be
    /// whom the app acts as (the reconcile's context finds it).
    pub(crate) fn notify(&self, app: &Application, acting_as: Option<String>, mut notice: Notice) {
        notice.acting_as = acting_as;
        let specs: Vec<NotificationSpec> = app
            .spec
            .notifications
            .iter()
            .filter(|spec| {
                spec.events.is_empty() || spec.events.iter().any(|e| e == notice.kind.as_str())
            })
            .cloned()
            .collect();
        if specs.is_empty() {
            return;
        }
        if let Err(err) = self.queue.try_send((specs, notice)) {
            tracing::warn!("notification dropped, the delivery queue is full: {err}");
            count("any", "dropped");
        }
    }
}

/// Delivers one notice to one receiver, retrying with backoff; requests run in `slots`.
async fn deliver(
    slots: &Slots,
    readers: &Readers,
    http: &Http,
    spec: &NotificationSpec,
    notice: &Notice,
) {
    let app = format!("{}/{}", notice.namespace, notice.name);
    let secret = match slots.run(read_secret(readers, spec, notice)).await {
        Ok(secret) => secret,
        Err(message) => {
            tracing::warn!(%app, secret = %spec.secret_ref.name, "{message}");
            count("unknown", "unreadable");
            return;
        }
    };
    let receiver = match Receiver::from_secret(&secret) {
        Ok(receiver) => receiver,
        Err(message) => {
            tracing::warn!(%app, secret = %spec.secret_ref.name, "{message}");
            count("unknown", "failed");
            return;
        }
    };
    let Some(request) = receiver.request(notice) else {
        return; // e.g. a commit status for drift: nothing to say to this receiver
    };
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        match slots.run(http.send(&request)).await {
            Ok(()) => {
                count(receiver.kind(), "delivered");
                tracing::debug!(%app, receiver = receiver.kind(), event = notice.kind.as_str(), "notification delivered");
                return;
            }
            Err(Undelivered::Refused(why)) => {
                tracing::warn!(%app, receiver = receiver.kind(), secret = %spec.secret_ref.name, "notification not sent: {why}");
                count(receiver.kind(), "refused");
                return;
            }
            Err(err) if attempt < ATTEMPTS => {
                tracing::info!(%app, receiver = receiver.kind(), "notification not delivered (attempt {attempt}), retrying in {wait:?}: {err}");
                count(receiver.kind(), "retried");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(err) => {
                tracing::warn!(%app, receiver = receiver.kind(), "notification given up after {ATTEMPTS} attempts: {err}");
                count(receiver.kind(), "failed");
            }
        }
    }
}

/// The receiver's Secret, read as the app acts; the error says what to grant.
async fn read_secret(
    readers: &Readers,
    spec: &NotificationSpec,
    notice: &Notice,
) -> Result<Secret, String> {
    let who = notice.acting_as.as_deref().unwrap_or("the controller");
    let client = readers.client(notice.acting_as.as_deref())?;
    Api::<Secret>::namespaced(client, &notice.namespace)
        .get(&spec.secret_ref.name)
        .await
        .map_err(|err| {
            format!(
                "cannot read the notification Secret {} as {who}, so nothing is sent to its receiver: {err}; grant that account get on the Secret",
                spec.secret_ref.name
            )
        })
}

fn count(kind: &str, result: &str) {
    metrics::count(
        "plumb_notifications_total",
        "Notifications by receiver type and result (delivered, retried, failed, dropped, unreadable: the Secret could not be read as the app acts, refused: the outbound policy refused the address).",
        &[("type", kind), ("result", result)],
    );
}
