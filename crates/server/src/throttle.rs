//! How many tokens the server asks the API server about: a token nobody has shown before
//! costs a TokenReview, so random tokens would turn into unbounded load on the API server.
//! Each client address has a small budget (a token bucket) and all clients together a
//! larger one; a review over budget is refused with 429 before it is made. Known tokens
//! are answered from the cache and never touch the budget, so a flood does not log out
//! people already using the dashboard.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::expiring::Expiring;

/// A budget: `burst` at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate {
    pub(crate) burst: f64,
    pub(crate) per_second: f64,
}

impl Rate {
    /// How long an untouched bucket takes to fill up: after that it is as good as new.
    fn refill_time(self) -> Duration {
        Duration::from_secs_f64((self.burst / self.per_second).max(1.0))
    }
}

/// A token bucket.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: rate.burst,
            at: now,
        }
    }

    /// Takes one token if there is one.
    fn take(&mut self, rate: Rate, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn give_back(&mut self) {
        self.tokens += 1.0;
    }
}

/// The budgets of every client and of all of them together.
pub(crate) struct Throttle {
    global: Bucket,
    global_rate: Rate,
    clients: Expiring<Option<IpAddr>, Bucket>,
    client_rate: Rate,
}

impl Throttle {
    /// `clients`: how many client budgets are remembered at once.
    pub(crate) fn new(global: Rate, client: Rate, clients: usize) -> Throttle {
        Throttle {
            global: Bucket::full(global, Instant::now()),
            global_rate: global,
            // A bucket untouched for its refill time is full again: forgetting it then
            // loses nothing.
            clients: Expiring::new(clients, client.refill_time()),
            client_rate: client,
        }
    }

    /// Whether `client` may spend one review now.
    pub(crate) fn allow(&mut self, client: Option<IpAddr>, now: Instant) -> bool {
        let rate = self.client_rate;
        let mut bucket = *self
            .clients
            .get_or_insert_with(client, now, || Bucket::full(rate, now));
        let allowed = bucket.take(rate, now);
        let allowed = if allowed && !self.global.take(self.global_rate, now) {
            bucket.give_back();
            false
        } else {
            allowed
        };
        // Stored again as of now, so a client in debt is not forgotten while it keeps asking.
        self.clients.insert(client, bucket, now);
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: Rate = Rate {
        burst: 5.0,
        per_second: 1.0,
    };
    const GLOBAL: Rate = Rate {
        burst: 8.0,
        per_second: 2.0,
    };

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_client_flooding_new_tokens_gets_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut throttle = Throttle::new(GLOBAL, CLIENT, 100);
        let allowed = (0..1000).filter(|_| throttle.allow(ip(1), start)).count();
        assert_eq!(allowed, 5, "the burst, then nothing at the same instant");
        assert!(!throttle.allow(ip(1), start + Duration::from_millis(500)));
        assert!(throttle.allow(ip(1), start + Duration::from_secs(1)));
    }

    #[test]
    fn a_flooding_client_leaves_the_others_their_budget() {
        let start = Instant::now();
        let mut throttle = Throttle::new(GLOBAL, CLIENT, 100);
        for _ in 0..1000 {
            throttle.allow(ip(1), start);
        }
        assert!(
            throttle.allow(ip(2), start),
            "another client is still served"
        );
    }

    #[test]
    fn many_clients_together_are_bounded_by_the_global_budget() {
        let start = Instant::now();
        let mut throttle = Throttle::new(GLOBAL, CLIENT, 100);
        let allowed = (0..=255u8)
            .filter(|last| throttle.allow(ip(*last), start))
            .count();
        assert_eq!(allowed, 8);
        // A refusal by the global budget does not spend the client's own.
        let later = start + Duration::from_secs(1);
        assert!(throttle.allow(ip(200), later));
        assert!(throttle.allow(ip(200), later));
        assert!(
            !throttle.allow(ip(200), later),
            "the global budget refilled by two"
        );
    }

    #[test]
    fn forgetting_clients_keeps_memory_bounded_without_resetting_a_debtor_too_soon() {
        let start = Instant::now();
        let mut throttle = Throttle::new(
            Rate {
                burst: 1e9,
                per_second: 1e9,
            },
            CLIENT,
            10,
        );
        for last in 0..=255u8 {
            throttle.allow(ip(last), start);
        }
        assert!(throttle.clients.len() <= 10);
        // A client asking every half second stays in debt: its bucket is kept.
        let mut now = start;
        for _ in 0..5 {
            throttle.allow(ip(7), now);
        }
        let mut allowed = 0;
        for _ in 0..20 {
            now += Duration::from_millis(500);
            allowed += usize::from(throttle.allow(ip(7), now));
        }
        assert_eq!(allowed, 10, "one per second, as the rate says");
    }
}
