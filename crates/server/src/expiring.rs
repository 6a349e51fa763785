//! A map whose entries expire and whose size is bounded: what the server remembers about
//! callers (who a token is, what RBAC allowed, how many reviews a client has spent) must
//! not grow with what callers send, or random tokens and paths would fill the pod's memory.
//!
//! When full, expired entries are dropped first, then the oldest live one. Both scans are
//! linear, and happen only on an insert into a full map — a few thousand entries at most.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Entries live `ttl` after their insertion; at most `capacity` are kept.
pub(crate) struct Expiring<K, V> {
    entries: HashMap<K, (V, Instant)>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> Expiring<K, V> {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Expiring {
            entries: HashMap::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// The value of `key` if it has not expired at `now`.
    pub(crate) fn get(&self, key: &K, now: Instant) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(value, _)| value)
    }

    /// The live value of `key`, or the one `make` returns, stored at `now`.
    pub(crate) fn get_or_insert_with(
        &mut self,
        key: K,
        now: Instant,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        if self.get(&key, now).is_none() {
            self.insert(key.clone(), make(), now);
        }
        let (value, _) = self
            .entries
            .get_mut(&key)
            .unwrap_or_else(|| unreachable!("inserted above"));
        value
    }

    /// Stores `value` for `key` as of `now`, making room if the map is full.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Instant) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, now));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(10);

    #[test]
    fn an_entry_is_forgotten_when_it_expires() {
        let start = Instant::now();
        let mut map = Expiring::new(10, TTL);
        map.insert("token", 1, start);
        assert_eq!(map.get(&"token", start + Duration::from_secs(9)), Some(&1));
        assert_eq!(map.get(&"token", start + TTL), None);
    }

    #[test]
    fn a_flood_of_keys_never_grows_it_past_its_capacity() {
        let start = Instant::now();
        let mut map = Expiring::new(100, TTL);
        for i in 0..10_000u32 {
            map.insert(i, i, start + Duration::from_millis(u64::from(i)));
            assert!(map.len() <= 100);
        }
        // The newest stay; the oldest were evicted to make room.
        let now = start + Duration::from_millis(10_000);
        assert_eq!(map.get(&9_999, now), Some(&9_999));
        assert_eq!(map.get(&0, now), None);
    }

    #[test]
    fn expired_entries_make_room_before_live_ones_are_evicted() {
        let start = Instant::now();
        let mut map = Expiring::new(3, TTL);
        map.insert("old", 0, start);
        map.insert("a", 1, start + Duration::from_secs(5));
        map.insert("b", 2, start + Duration::from_secs(6));
        let now = start + Duration::from_secs(11);
        map.insert("c", 3, now);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&"a", now), Some(&1));
        assert_eq!(map.get(&"b", now), Some(&2));
        assert_eq!(map.get(&"c", now), Some(&3));
    }

    #[test]
    fn get_or_insert_with_keeps_a_live_value_and_replaces_an_expired_one() {
        let start = Instant::now();
        let mut map = Expiring::new(3, TTL);
        *map.get_or_insert_with("client", start, || 5) -= 1;
        assert_eq!(*map.get_or_insert_with("client", start, || 5), 4);
        assert_eq!(*map.get_or_insert_with("client", start + TTL, || 5), 5);
    }
}
