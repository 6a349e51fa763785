//! Proof that whoever asks may read a repository, before the shared cache serves it.
//!
//! The cache is shared by every application: a commit fetched with one tenant's
//! credentials stays in it. A full commit id resolves without asking the remote, so without
//! this proof anyone naming that repository and commit would be served its files — another
//! tenant's private manifests, generator literals and all. So a snapshot the remote was not
//! asked for is served only to credentials that listed the repository's references
//! (`git ls-remote`) recently; that listing is remembered for [`PROOF_TTL`] per repository
//! and credentials, in memory only, keyed by a per-process hash of the credentials.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::credentials::Credentials;
use crate::error::Result;
use crate::remote::Remote;
use crate::revision::Revision;

/// How long a successful listing vouches for the same credentials.
pub(crate) const PROOF_TTL: Duration = Duration::from_secs(60);

/// Recent proofs of access, by repository cache key and credentials.
#[derive(Debug, Default)]
pub(crate) struct AccessProofs {
    hasher: RandomState,
    proven: Mutex<HashMap<(String, u64), Instant>>,
}

impl AccessProofs {
    /// Succeeds when `credentials` may read the repository behind `remote` (`key` is its
    /// cache key): from a recent proof, else by listing its references with them.
    pub(crate) async fn prove(
        &self,
        remote: &Remote<'_>,
        key: &str,
        credentials: &Credentials,
    ) -> Result<()> {
        let entry = (key.to_owned(), self.fingerprint(credentials));
        let now = Instant::now();
        if self
            .lock()
            .get(&entry)
            .is_some_and(|at| now.duration_since(*at) < PROOF_TTL)
        {
            return Ok(());
        }
        remote.list(&Revision::Head).await?;
        let mut proven = self.lock();
        proven.retain(|_, at| now.duration_since(*at) < PROOF_TTL);
        proven.insert(entry, now);
        Ok(())
    }

    /// Records that `credentials` just read the repository (a listing or fetch succeeded).
    pub(crate) fn record(&self, key: &str, credentials: &Credentials) {
        let entry = (key.to_owned(), self.fingerprint(credentials));
        self.lock().insert(entry, Instant::now());
    }

    pub(crate) fn fingerprint(&self, credentials: &Credentials) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        match credentials {
            Credentials::None => 0u8.hash(&mut hasher),
            Credentials::Basic { username, password } => {
                (1u8, username, password.expose()).hash(&mut hasher);
            }
            Credentials::Ssh {
                private_key,
                known_hosts,
            } => (2u8, private_key.expose(), known_hosts).hash(&mut hasher),
        }
        hasher.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64), Instant>> {
        self.proven.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_told_apart_without_being_kept() {
        let proofs = AccessProofs::default();
        let a = proofs.fingerprint(&Credentials::basic("git", "one"));
        assert_eq!(a, proofs.fingerprint(&Credentials::basic("git", "one")));
        assert_ne!(a, proofs.fingerprint(&Credentials::basic("git", "two")));
        assert_ne!(a, proofs.fingerprint(&Credentials::None));
        assert_ne!(
            proofs.fingerprint(&Credentials::ssh("key", "hosts")),
            proofs.fingerprint(&Credentials::ssh("key", "other hosts"))
        );
    }
}
