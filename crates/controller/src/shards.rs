//! Sharding: replicas share the Applications between them, each reconciling a stable
//! subset, so that a fleet of thousands is spread over several processes.
//!
//! ```text
//!  every RENEW: renew own membership Lease ─▶ list the group's Leases ─▶ members (unexpired)
//!                                                        │ changed?
//!                                                        ▼
//!  owner(app) = the member with the highest hash(member, app)  (rendezvous hashing)
//!    newly owned apps ─▶ queue          apps now owned elsewhere ─▶ forgotten here
//! ```
//!
//! Rendezvous hashing moves only the apps of a member that left (or the share a new member
//! takes), never reshuffles the rest, and needs no coordinator: every replica computes the
//! same owner from the same member list. A replica that stops renewing (killed, partitioned)
//! drops out once its Lease expires, and its apps go to the others — who reconcile them
//! cheaply, because the sync cache kept beside each inventory and the drift watches tell
//! them the objects are in sync without a dry-run.
//!
//! Membership, not leadership: every member reconciles. Singletons (ApplicationSets, the
//! fleet's cluster state) still run on the one elected leader ([`crate::leader`]).

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch};

use crate::application::AppKey;
use crate::leader::{LEASE_DURATION, RENEW};

/// The label naming the group a membership Lease belongs to.
pub(crate) const SHARD_GROUP_LABEL: &str = "plumb.dev/shard-group";

/// This replica's view of the group it shares Applications with.
#[derive(Debug)]
pub(crate) struct Shards {
    leases: Api<Lease>,
    group: String,
    identity: String,
    /// The members alive at the last look, sorted; empty until the first look, when this
    /// replica owns nothing yet.
    members: RwLock<Vec<String>>,
}

impl Shards {
    /// A member of `group`, named `identity`, with its Lease in `namespace`.
    pub(crate) fn new(
        client: kube::Client,
        namespace: &str,
        group: &str,
        identity: &str,
    ) -> Arc<Self> {
        Arc::new(Shards {
            leases: Api::namespaced(client, namespace),
            group: group.to_owned(),
            identity: identity.to_owned(),
            members: RwLock::default(),
        })
    }

    /// Whether this replica reconciles `app`.
    pub(crate) fn owns(&self, app: &AppKey) -> bool {
        let members = self.members.read().unwrap_or_else(|p| p.into_inner());
        owner(&members, app) == Some(self.identity.as_str())
    }

    /// This replica's name in the group.
    pub(crate) fn identity(&self) -> &str {
        &self.identity
    }

    /// How many members the group had at the last look.
    pub(crate) fn size(&self) -> usize {
        self.members.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Renews this replica's membership and follows the group's, forever; `changed` is
    /// called with the old and new member lists whenever they differ.
    pub(crate) async fn run(&self, mut changed: impl FnMut(&[String], &[String])) {
        loop {
            match self.look().await {
                Ok(now) => {
                    let before = {
                        let mut members = self.members.write().unwrap_or_else(|p| p.into_inner());
                        std::mem::replace(&mut *members, now.clone())
                    };
                    if before != now {
                        tracing::info!(group = %self.group, members = ?now, "shard members changed");
                        changed(&before, &now);
                    }
                }
                Err(err) => tracing::warn!(group = %self.group, "shard membership: {err}"),
            }
            tokio::time::sleep(RENEW).await;
        }
    }

    /// Leaves the group at once, so the others take this replica's apps now rather than
    /// when its Lease expires.
    pub(crate) async fn leave(&self) {
        let _ = self
            .leases
            .delete(&self.lease_name(), &DeleteParams::default())
            .await;
    }

    /// Renews this replica's Lease and lists the group's live members.
    async fn look(&self) -> Result<Vec<String>, kube::Error> {
        let now = Timestamp::now();
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.lease_name()),
                labels: Some([(SHARD_GROUP_LABEL.to_owned(), self.group.clone())].into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(LEASE_DURATION.as_secs() as i32),
                renew_time: Some(MicroTime(now)),
                ..LeaseSpec::default()
            }),
        };
        self.leases
            .patch(
                &self.lease_name(),
                &plumb_engine::server_side_apply("plumb-shards").force(),
                &Patch::Apply(&lease),
            )
            .await?;
        let listed = self
            .leases
            .list(&ListParams::default().labels(&format!("{SHARD_GROUP_LABEL}={}", self.group)))
            .await?;
        Ok(live_members(&listed.items, now))
    }

    fn lease_name(&self) -> String {
        lease_name(&self.group, &self.identity)
    }
}

/// A member's Lease name: the group and the identity, cut to a valid object name.
fn lease_name(group: &str, identity: &str) -> String {
    let name: String = format!("{group}-shard-{identity}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if name.len() <= 253 {
        return name;
    }
    // Still unique: the identity's hash ends it.
    format!("{}-{:016x}", &name[..200], fnv(identity.as_bytes()))
}

/// The identities whose Leases were renewed within their duration, sorted.
fn live_members(leases: &[Lease], now: Timestamp) -> Vec<String> {
    let mut members: Vec<String> = leases
        .iter()
        .filter_map(|lease| {
            let spec = lease.spec.as_ref()?;
            let renewed = spec.renew_time.as_ref()?.0;
            let lasts = spec
                .lease_duration_seconds
                .map_or(LEASE_DURATION, |s| Duration::from_secs(s.max(0) as u64));
            let age = now.as_second() - renewed.as_second();
            (age <= lasts.as_secs() as i64).then(|| spec.holder_identity.clone())?
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    members.sort();
    members
}

/// The member that owns `app`: the highest rendezvous score, ties to the first name.
pub(crate) fn owner<'a>(members: &'a [String], app: &AppKey) -> Option<&'a str> {
    let key = format!("{}/{}", app.namespace, app.name);
    members
        .iter()
        .map(|member| (score(member, &key), member))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, member)| member.as_str())
}

/// The rendezvous score of `member` for `key`: FNV-1a of both, then a 64-bit finaliser so
/// that similar names (`plumb-0`, `plumb-1`) score independently. The same on every
/// replica and every release, unlike Rust's default hasher.
fn score(member: &str, key: &str) -> u64 {
    let mut bytes = Vec::with_capacity(member.len() + key.len() + 1);
    bytes.extend_from_slice(member.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(key.as_bytes());
    mix(fnv(&bytes))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64's finaliser.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps(count: usize) -> Vec<AppKey> {
        (0..count)
            .map(|i| AppKey {
                namespace: "team".into(),
                name: format!("app-{i}"),
            })
            .collect()
    }

    fn members(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn every_app_has_one_owner_and_the_shares_are_even() {
        let group = members(&["plumb-0", "plumb-1", "plumb-2"]);
        let apps = apps(3000);
        let mut counts = [0usize; 3];
        for app in &apps {
            let owner = owner(&group, app).unwrap();
            counts[group.iter().position(|m| m == owner).unwrap()] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn a_member_leaving_moves_only_its_own_apps() {
        let before = members(&["plumb-0", "plumb-1", "plumb-2"]);
        let after = members(&["plumb-0", "plumb-2"]);
        for app in apps(1000) {
            let was = owner(&before, &app).unwrap();
            let is = owner(&after, &app).unwrap();
            if was != "plumb-1" {
                assert_eq!(was, is, "{app:?} moved though its owner stayed");
            }
        }
    }

    #[test]
    fn no_members_own_nothing() {
        assert_eq!(owner(&[], &apps(1)[0]), None);
    }

    #[test]
    fn expired_leases_are_not_members() {
        let now = Timestamp::now();
        let lease = |identity: &str, age: i64| Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: Some(identity.to_owned()),
                lease_duration_seconds: Some(15),
                renew_time: Some(MicroTime(now - jiff_seconds(age))),
                ..LeaseSpec::default()
            }),
        };
        let leases = [lease("b", 3), lease("a", 1), lease("gone", 60)];
        assert_eq!(live_members(&leases, now), ["a", "b"]);
    }

    fn jiff_seconds(seconds: i64) -> k8s_openapi::jiff::SignedDuration {
        k8s_openapi::jiff::SignedDuration::from_secs(seconds)
    }

    #[test]
    fn lease_names_are_valid_object_names() {
        assert_eq!(
            lease_name("plumb-controller", "Host_1-42"),
            "plumb-controller-shard-host-1-42"
        );
        assert!(lease_name("g", &"x".repeat(400)).len() <= 253);
    }
}
