//! Waiting for objects to become healthy, with a deadline — between sync waves, after CRDs,
//! and for `plumb apply --wait`.

use std::time::{Duration, Instant};

use crate::catalog::KindInfo;
use crate::concurrent::{self, CONCURRENCY};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::health::{Health, HealthStatus, assess};
use crate::live;
use crate::object_ref::ObjectRef;

const POLL: Duration = Duration::from_millis(250);

impl Engine {
    /// The health of each object, in the given order: read from the API server, several
    /// at a time.
    pub async fn health(&self, objects: &[ObjectRef]) -> Result<Vec<(ObjectRef, Health)>> {
        let catalog = self.catalog().await;
        let mut reads = Vec::with_capacity(objects.len());
        for object in objects {
            let kind = catalog
                .get(&object.group, &object.version, &object.kind)
                .filter(|kind| kind.served)
                .cloned();
            reads.push(self.health_of(object, kind));
        }
        concurrent::try_in_order(reads, CONCURRENCY).await
    }

    async fn health_of(
        &self,
        object: &ObjectRef,
        kind: Option<KindInfo>,
    ) -> Result<(ObjectRef, Health)> {
        let health = match kind {
            Some(kind) => {
                let live = live::get(&self.client, &kind, object).await?;
                assess(&object.group, &object.kind, live.as_ref())
            }
            None => Health::new(HealthStatus::Missing, "its kind is not served"),
        };
        Ok((object.clone(), health))
    }

    /// Waits until every object is Healthy (or Suspended); fails at the deadline naming
    /// those that are not, or at once when one is Degraded.
    pub async fn wait_healthy(&self, objects: &[ObjectRef], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let report = self.health(objects).await?;
            let pending: Vec<String> = report
                .iter()
                .filter(|(_, h)| h.status > HealthStatus::Suspended)
                .map(|(o, h)| format!("{o} ({}: {})", h.status, h.message))
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("health of {}", pending.join(", ")),
                    waited: timeout,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
