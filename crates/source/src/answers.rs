//! Recent answers of `git ls-remote`, shared by the applications of one repository.
//!
//! After a push, every app of a monorepo asks the same remote which commit its branch
//! names — hundreds of identical `ls-remote`s in a row. An answer the remote gave after
//! whatever made an app look (a webhook, a request, its interval coming due) already
//! reflects that push, so the app may take it instead of asking again. Answers are kept
//! per repository, revision and credentials: one tenant's answer never stands for
//! another's credentials, which must still prove they may read the repository.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::refs::RemoteRefs;

/// How long an answer is kept: far longer than the burst of reconciles one push starts.
const KEPT: Duration = Duration::from_secs(120);

/// A listing: repository cache key, credentials fingerprint, revision.
type Listing = (String, u64, String);

/// By listing: when it was asked for, and what the remote said.
#[derive(Debug, Default)]
pub(crate) struct RecentAnswers {
    answers: Mutex<HashMap<Listing, (Instant, RemoteRefs)>>,
}

impl RecentAnswers {
    /// An answer for this repository, credentials and revision asked for at or after `since`.
    pub(crate) fn since(
        &self,
        key: &str,
        credentials: u64,
        revision: &str,
        since: Instant,
    ) -> Option<RemoteRefs> {
        let answers = self.lock();
        let (asked, refs) = answers.get(&(key.to_owned(), credentials, revision.to_owned()))?;
        (*asked >= since).then(|| refs.clone())
    }

    /// Keeps what the remote said to a listing asked for at `asked`.
    pub(crate) fn record(
        &self,
        key: &str,
        credentials: u64,
        revision: &str,
        asked: Instant,
        refs: &RemoteRefs,
    ) {
        let mut answers = self.lock();
        answers.retain(|_, (at, _)| at.elapsed() < KEPT);
        let entry = answers
            .entry((key.to_owned(), credentials, revision.to_owned()))
            .or_insert_with(|| (asked, refs.clone()));
        // Of two listings in flight at once, the one asked for later is kept.
        if entry.0 <= asked {
            *entry = (asked, refs.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Listing, (Instant, RemoteRefs)>> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_stands_only_for_what_was_asked_before_it_and_the_same_credentials() {
        let answers = RecentAnswers::default();
        let before = Instant::now();
        let asked = before + Duration::from_millis(5);
        let refs = RemoteRefs::parse("0123456789012345678901234567890123456789\trefs/heads/main\n");
        answers.record("repo", 7, "main", asked, &refs);
        assert_eq!(answers.since("repo", 7, "main", before), Some(refs.clone()));
        assert_eq!(answers.since("repo", 7, "main", asked), Some(refs));
        let later = asked + Duration::from_millis(1);
        assert_eq!(
            answers.since("repo", 7, "main", later),
            None,
            "asked before the push"
        );
        assert_eq!(
            answers.since("repo", 8, "main", before),
            None,
            "other credentials"
        );
        assert_eq!(
            answers.since("repo", 7, "dev", before),
            None,
            "another revision"
        );
    }
}
