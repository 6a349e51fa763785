//! Leader election with a `coordination.k8s.io/v1` Lease, so that of several replicas only
//! one ever applies.
//!
//! The holder renews the lease every [`RENEW`]; another replica takes it over only once
//! it has not been renewed for its whole duration. Every write carries the
//! resourceVersion read before it, so two replicas racing for an expired lease cannot
//! both win. A leader that cannot renew before its lease runs out stops leading (the
//! process exits and is restarted), because by then another replica may lead.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};

use crate::error::{Error, Result};

/// How long a lease lasts without renewal.
pub(crate) const LEASE_DURATION: Duration = Duration::from_secs(15);
/// How often the holder renews (and a candidate retries).
pub(crate) const RENEW: Duration = Duration::from_secs(2);

/// One replica's claim on the lease.
#[derive(Clone, Debug)]
pub(crate) struct LeaderElection {
    api: Api<Lease>,
    name: String,
    identity: String,
}

impl LeaderElection {
    /// Elects among replicas sharing lease `name` in `namespace`; `identity` names this one.
    pub(crate) fn new(client: kube::Client, namespace: &str, name: &str, identity: &str) -> Self {
        LeaderElection {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
        }
    }

    /// Waits until this replica holds the lease.
    pub(crate) async fn acquire(&self) -> Result<()> {
        loop {
            match self.try_acquire().await {
                Ok(true) => {
                    tracing::info!(identity = %self.identity, lease = %self.name, "leading");
                    return Ok(());
                }
                Ok(false) => {}
                Err(err) => tracing::warn!("leader election: {err}"),
            }
            tokio::time::sleep(RENEW).await;
        }
    }

    /// Renews the lease until it cannot; returns why leadership was lost.
    ///
    /// Every renewal must finish by the renew deadline — a [`RENEW`] before the lease could
    /// expire — or leadership is given up: a request to an API server that stopped
    /// answering would otherwise keep this replica "leading" while another takes the
    /// expired lease, and both would write (client-go's `RenewDeadline`).
    pub(crate) async fn hold(&self) -> Error {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(RENEW).await;
            let deadline = last_renewal + LEASE_DURATION - RENEW;
            match tokio::time::timeout_at(deadline, self.try_acquire()).await {
                Ok(Ok(true)) => last_renewal = tokio::time::Instant::now(),
                Ok(Ok(false)) => {
                    return Error::LeadershipLost(format!(
                        "another replica holds lease {}",
                        self.name
                    ));
                }
                Err(_) => {
                    return Error::LeadershipLost(format!(
                        "lease {} was not renewed by its renew deadline ({}s after the last renewal): the API server did not answer",
                        self.name,
                        (LEASE_DURATION - RENEW).as_secs()
                    ));
                }
                Ok(Err(err)) if tokio::time::Instant::now() + RENEW >= deadline => {
                    return Error::LeadershipLost(format!(
                        "lease {} could not be renewed in time: {err}",
                        self.name
                    ));
                }
                Ok(Err(err)) => tracing::warn!("renewing the lease failed, retrying: {err}"),
            }
        }
    }

    /// Takes or renews the lease if it is free, expired or ours.
    async fn try_acquire(&self) -> Result<bool> {
        let now = Timestamp::now();
        let request = |action: &str| {
            let action = format!("{action} lease {}", self.name);
            move |source| Error::Kube { action, source }
        };
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(request("read"))?
        else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(source) => Err(request("create")(source)),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let ours = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        let renewed = spec
            .renew_time
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let duration = spec
            .lease_duration_seconds
            .map_or(LEASE_DURATION.as_secs() as i64, i64::from);
        let expired = now.as_second() - renewed.as_second() > duration;
        if !ours && !expired {
            return Ok(false);
        }
        let acquired = if ours {
            spec.acquire_time.map(|t| t.0).unwrap_or(now)
        } else {
            now
        };
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
        lease.spec = Some(self.spec(acquired, now, transitions));
        // replace carries the resourceVersion read above: a concurrent winner makes it 409.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(source) => Err(request("renew")(source)),
        }
    }

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(LEASE_DURATION.as_secs() as i32),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}
