//! Waiting for objects to become healthy, with a deadline — between sync waves, after CRDs,
//! and for `plumb apply --wait`.

use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::health::{Health, HealthStatus, assess};
use crate::live;
use crate::object_ref::ObjectRef;

const POLL: Duration = Duration::from_millis(250);

impl Engine {
    /// The health of each object, in the given order.
    pub async fn health(&self, objects: &[ObjectRef]) -> Result<Vec<(ObjectRef, Health)>> {
        let catalog = self.catalog().await;
        let mut report = Vec::with_capacity(objects.len());
        for object in objects {
            let health = match catalog.get(&object.group, &object.version, &object.kind) {
                Some(kind) if kind.served => {
                    let live = live::get(&self.client, kind, object).await?;
                    assess(&object.group, &object.kind, live.as_ref())
                }
                _ => Health::new(HealthStatus::Missing, "its kind is not served"),
            };
            report.push((object.clone(), health));
        }
        Ok(report)
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
