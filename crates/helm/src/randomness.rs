//! Keyed, stable randomness: what Sprig's random functions (`randAlphaNum`, `genCA`…) draw
//! from.
//!
//! `helm template` draws from the operating system, so a chart that makes a password or a
//! certificate renders new bytes every time — which a GitOps controller would apply as
//! drift on every reconcile. plumb draws from ChaCha20 seeded with
//! HMAC-SHA256(key, release ‖ namespace ‖ template ‖ what is drawn ‖ how many such draws
//! came before it): the same key and chart give the same bytes every render, and nobody
//! without the key can compute them (they are as secret as the key). The controller keeps
//! one key per installation and gives each Application its own derived from it; without a
//! key (a one-off `plumb render`) each render draws a fresh one, as `helm template` is
//! different every run.

use hmac::{Hmac, Mac};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use sha2::Sha256;

/// A secret 32-byte key that random functions are keyed with. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RandomKey([u8; 32]);

impl RandomKey {
    /// The key `bytes`.
    pub fn new(bytes: [u8; 32]) -> RandomKey {
        RandomKey(bytes)
    }

    /// A new key from the operating system's generator.
    pub fn fresh() -> RandomKey {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        RandomKey(bytes)
    }

    /// The key's bytes (to store it; never to print).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key for one use of this one, named by `parts` (HMAC-SHA256, each part
    /// length-prefixed so no two lists of parts give the same input): a controller derives
    /// each Application's key from its installation's this way.
    pub fn derive(&self, parts: &[&[u8]]) -> RandomKey {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        RandomKey(mac.finalize().into_bytes().into())
    }

    /// The generator for one draw named by `parts`.
    pub(crate) fn stream(&self, parts: &[&[u8]]) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.derive(parts).0)
    }
}

impl std::fmt::Debug for RandomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomKey(<secret>)")
    }
}

/// A number in `0..bound` (`bound` > 0) without modulo bias: draws above the largest
/// multiple of `bound` are drawn again.
pub(crate) fn below(rng: &mut impl RngCore, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    let zone = u64::MAX - (u64::MAX % bound + 1) % bound;
    loop {
        let n = rng.next_u64();
        if n <= zone {
            return n % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = RandomKey::new([0x41; 32]);
        let shown = format!("{key:?} {:?}", Some(&key));
        assert!(!shown.contains("65") && !shown.contains("41") && !shown.contains('A'));
    }

    #[test]
    fn derived_keys_differ_by_key_and_by_every_part() {
        let (a, b) = (RandomKey::new([1; 32]), RandomKey::new([2; 32]));
        assert_eq!(a.derive(&[b"x", b"y"]), a.derive(&[b"x", b"y"]));
        assert_ne!(a.derive(&[b"x", b"y"]), b.derive(&[b"x", b"y"]));
        assert_ne!(a.derive(&[b"x", b"y"]), a.derive(&[b"xy"]));
        assert_ne!(a.derive(&[b"x", b"y"]), a.derive(&[b"x", b"z"]));
        assert_ne!(RandomKey::fresh(), RandomKey::fresh());
    }

    #[test]
    fn below_stays_below_and_covers_its_range() {
        let mut rng = RandomKey::new([3; 32]).stream(&[b"t"]);
        let mut seen = [false; 62];
        for _ in 0..10_000 {
            let n = below(&mut rng, 62) as usize;
            seen[n] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(below(&mut rng, 1), 0);
    }
}
