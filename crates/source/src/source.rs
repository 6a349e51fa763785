//! [`Source`]: the entry point — resolve a revision cheaply, make or reuse a snapshot,
//! and refresh a repository when a webhook says it changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::access::AccessProofs;
use crate::answers::RecentAnswers;
use crate::cache::{Cache, RepoCache};
use crate::chart_repository::{ChartArchive, ChartRepositories, ChartSpec};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::hosts::SourceHosts;
use crate::limits::{CachePolicy, Limits};
use crate::metadata::{CommitId, CommitMetadata};
use crate::refs::{RemoteRefs, Resolution};
use crate::remote::Remote;
use crate::repo_url::{RepoUrl, RepositoryLocation, Transport};
use crate::revision::Revision;
use crate::snapshot::{self, Snapshot, Transfer};
use crate::verify::{Verification, verify};

/// How long a revision an application asked for is refreshed by webhooks
/// ([`Source::refresh`]) after the last time it was asked for.
const REMEMBERED_FOR: Duration = Duration::from_secs(3600);

/// How a [`Source`] works: where it caches, and its bounds.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    /// The cache directory (repositories and snapshots). Processes may share it.
    pub cache_dir: PathBuf,
    /// Bounds on each repository.
    pub limits: Limits,
    /// Bounds on the cache as a whole.
    pub cache: CachePolicy,
    /// Whether `file://` URLs and local paths are allowed. Off by default: in a cluster,
    /// a local path would let an application read the controller's own files.
    pub allow_local: bool,
    /// The hosts and transports Git and chart repositories may use.
    pub hosts: SourceHosts,
}

impl SourceConfig {
    /// Default limits and cache policy, caching in `cache_dir`, local paths refused.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        SourceConfig {
            cache_dir: cache_dir.into(),
            limits: Limits::default(),
            cache: CachePolicy::default(),
            allow_local: false,
            hosts: SourceHosts::default(),
        }
    }
}

/// One application's view of a repository: where, which revision, with what credentials,
/// and which signatures to demand.
#[derive(Clone, Debug)]
pub struct RepoSpec {
    /// `https://…`, `ssh://…`, `user@host:path`, `git://…`, or (if allowed) `file://…`.
    pub url: String,
    /// Which commit to use.
    pub revision: Revision,
    /// How to authenticate.
    pub credentials: Credentials,
    /// Signatures to demand; `None` accepts unsigned commits.
    pub verification: Option<Verification>,
}

impl RepoSpec {
    /// Anonymous access to `url` at `revision`, no verification.
    pub fn new(url: &str, revision: Revision) -> Self {
        RepoSpec {
            url: url.to_owned(),
            revision,
            credentials: Credentials::None,
            verification: None,
        }
    }
}

/// Whose listing of which repository a resolve is, and since when an answer will do.
struct Asked {
    key: String,
    credentials: u64,
    since: Option<Instant>,
}

/// What a revision names right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The commit.
    pub commit: CommitId,
    /// The reference it was found through (`refs/heads/main`, `refs/tags/v1.4.2`).
    pub reference: Option<String>,
}

/// The source stage: fetches, caches and hands out snapshots.
#[derive(Debug)]
pub struct Source {
    config: SourceConfig,
    cache: Cache,
    charts: ChartRepositories,
    /// Specs asked for per repository cache key, for [`Source::refresh`].
    seen: Mutex<HashMap<String, Vec<(RepoSpec, Instant)>>>,
    /// Who recently showed they may read which repository ([`crate::access`]).
    access: AccessProofs,
    /// What remotes answered lately, for apps that may take an answer since some time.
    answers: RecentAnswers,
    /// Commits read lately ([`CommitsRead`]).
    commits: CommitsRead,
}

/// The metadata of commits read lately, per repository cache key and commit id. A commit
/// never changes, and the hundreds of apps of one monorepo all ask for the same one after
/// a push: without this, each ran `git cat-file` while holding the repository's lock, and
/// a fleet's snapshots were served one subprocess at a time.
#[derive(Debug, Default)]
struct CommitsRead(Mutex<HashMap<(String, String), CommitMetadata>>);

impl CommitsRead {
    /// Past this many, the oldest are not worth finding: all are forgotten at once.
    const MAX: usize = 1024;

    fn get(&self, key: &str, commit: &str) -> Option<CommitMetadata> {
        let read = self.0.lock().unwrap_or_else(|p| p.into_inner());
        read.get(&(key.to_owned(), commit.to_owned())).cloned()
    }

    fn insert(&self, key: &str, commit: &str, metadata: &CommitMetadata) {
        let mut read = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if read.len() >= Self::MAX {
            read.clear();
        }
        read.insert((key.to_owned(), commit.to_owned()), metadata.clone());
    }
}

impl Source {
    /// A source caching in `config.cache_dir` (created if missing).
    pub fn new(config: SourceConfig) -> Result<Self> {
        let cache = Cache::new(&config.cache_dir, config.cache.clone())?;
        let charts = ChartRepositories::new(
            &config.cache_dir,
            config.limits.timeout,
            config.hosts.clone(),
        );
        Ok(Source {
            config,
            cache,
            charts,
            seen: Mutex::default(),
            access: AccessProofs::default(),
            answers: RecentAnswers::default(),
            commits: CommitsRead::default(),
        })
    }

    /// The archive of a chart in a Helm repository: the version `spec` asks for now, fetched
    /// unless cached (see [`crate::ChartSpec`]).
    pub async fn chart(&self, spec: &ChartSpec) -> Result<ChartArchive> {
        Box::pin(self.charts.fetch(spec)).await
    }

    /// What `spec`'s revision names now, at the cost of one `ls-remote` (no objects are
    /// transferred): compare it with the last synced commit to learn whether it moved.
    pub async fn resolve(&self, spec: &RepoSpec) -> Result<Resolved> {
        // Boxed, like `snapshot`: callers then hold a pointer, not a large future.
        Box::pin(self.resolve_spec(spec, None)).await
    }

    /// [`Source::resolve`], taking what the remote answered to the same listing with the
    /// same credentials at or after `since` instead of asking again ([`crate::answers`]):
    /// for a caller that knows what made it look happened before `since`.
    pub async fn resolve_since(&self, spec: &RepoSpec, since: Instant) -> Result<Resolved> {
        Box::pin(self.resolve_spec(spec, Some(since))).await
    }

    async fn resolve_spec(&self, spec: &RepoSpec, since: Option<Instant>) -> Result<Resolved> {
        let url = self.admit(&spec.url).await?;
        let remote = self.remote(&url, &spec.credentials)?;
        let asked = Asked {
            key: url.cache_key(),
            credentials: self.access.fingerprint(&spec.credentials.for_url(&url)),
            since,
        };
        match self.resolve_with(&remote, &spec.revision, &asked).await?.0 {
            Resolution::Found { commit, reference } => Ok(Resolved {
                commit: commit_id(&url, &commit)?,
                reference,
            }),
            Resolution::Unadvertised(prefix) => {
                let repo = self.cache.repo(&url)?;
                let _lock = self.cache.lock(&repo).await?;
                let commit = self
                    .find_by_prefix(&remote, &repo, &spec.revision, &prefix)
                    .await?;
                Ok(Resolved {
                    commit: commit_id(&url, &commit)?,
                    reference: None,
                })
            }
            Resolution::NotFound => Err(not_found(&url, &spec.revision)),
        }
    }

    /// The snapshot of `spec`'s revision: from the cache when that commit was snapshotted
    /// before (by any application), else fetched (shallow, one commit), checked against
    /// the limits and the signature demands, and written once.
    pub async fn snapshot(&self, spec: &RepoSpec) -> Result<Snapshot> {
        // Boxed: the work below is a large future, and callers hold several at once.
        Box::pin(self.make_snapshot(spec, None)).await
    }

    /// [`Source::snapshot`], resolving the revision as [`Source::resolve_since`] does.
    pub async fn snapshot_since(&self, spec: &RepoSpec, since: Instant) -> Result<Snapshot> {
        Box::pin(self.make_snapshot(spec, Some(since))).await
    }

    async fn make_snapshot(&self, spec: &RepoSpec, since: Option<Instant>) -> Result<Snapshot> {
        let url = self.admit(&spec.url).await?;
        self.remember(&url, spec);
        let remote = self.remote(&url, &spec.credentials)?;
        let repo = self.cache.repo(&url)?;
        let credentials = spec.credentials.for_url(&url);
        let key = url.cache_key();
        let asked = Asked {
            key: key.clone(),
            credentials: self.access.fingerprint(&credentials),
            since,
        };
        // A full commit id never moves: no need to ask the remote which commit it is. Then
        // nothing has yet shown these credentials may read the repository.
        let (resolution, asked_remote) = match &spec.revision {
            Revision::Commit(id) if id.len() == 40 || id.len() == 64 => (
                Resolution::Found {
                    commit: id.clone(),
                    reference: None,
                },
                false,
            ),
            // An answer given earlier proves nothing of these credentials now: a snapshot
            // served from the cache then proves access first.
            revision => self.resolve_with(&remote, revision, &asked).await?,
        };
        if asked_remote {
            self.access.record(&key, &credentials);
        }
        let _lock = self.cache.lock(&repo).await?;
        let (commit, reference) = match resolution {
            Resolution::Found { commit, reference } => (commit, reference),
            Resolution::Unadvertised(prefix) => (
                self.find_by_prefix(&remote, &repo, &spec.revision, &prefix)
                    .await?,
                None,
            ),
            Resolution::NotFound => return Err(not_found(&url, &spec.revision)),
        };
        let git_dir = repo.git_dir();
        let target = repo.snapshot(&commit);
        let cached = target.is_dir() || has_commit(&remote, &git_dir, &commit).await;
        if cached && !asked_remote {
            // Served from the cache someone else may have filled: prove access first.
            self.access.prove(&remote, &key, &credentials).await?;
        }
        let transfer = if target.is_dir() {
            Transfer::Cached
        } else if cached {
            Transfer::CheckedOut
        } else {
            let before = self.prepare_git_dir(&remote, &git_dir).await?;
            if !remote.fetch_commit(&git_dir, &commit).await? {
                return Err(not_found(&url, &spec.revision));
            }
            Transfer::Fetched {
                bytes: Remote::size_of(&git_dir).saturating_sub(before),
            }
        };
        if let Some(verification) = &spec.verification {
            verify(&remote, &git_dir, &commit, verification).await?;
        }
        let metadata = match self.commits.get(&key, &commit) {
            Some(metadata) => metadata,
            None => {
                let metadata = read_metadata(&remote, &git_dir, &url, &commit).await?;
                self.commits.insert(&key, &commit, &metadata);
                metadata
            }
        };
        if transfer != Transfer::Cached {
            snapshot::write(&remote, &repo, &commit, &self.config.limits).await?;
        }
        let lease = repo.lease(&commit)?;
        if transfer != Transfer::Cached {
            self.cache.collect_garbage(&repo);
        }
        Ok(Snapshot::new(target, metadata, reference, transfer, lease))
    }

    /// For a webhook: re-resolves every revision of `url` that applications asked for
    /// through this source, and fetches and snapshots those that moved — so the next
    /// reconcile finds its snapshot ready. Returns each revision's outcome.
    pub async fn refresh(&self, url: &str) -> Result<Vec<(Revision, Result<CommitId>)>> {
        let key = self.parse_url(url)?.cache_key();
        let specs: Vec<RepoSpec> = self
            .lock_seen()
            .get(&key)
            .map(|specs| specs.iter().map(|(spec, _)| spec.clone()).collect())
            .unwrap_or_default();
        let mut outcomes = Vec::with_capacity(specs.len());
        for spec in specs {
            let outcome = self.snapshot(&spec).await.map(|s| s.commit().clone());
            outcomes.push((spec.revision, outcome));
        }
        Ok(outcomes)
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.config.cache_dir
    }

    fn parse_url(&self, text: &str) -> Result<RepoUrl> {
        let url = RepoUrl::parse(text)?;
        if url.transport == Transport::File && !self.config.allow_local {
            return Err(Error::InvalidUrl {
                url: url.shown,
                reason: "local repositories are not allowed (SourceConfig::allow_local)".into(),
            });
        }
        Ok(url)
    }

    /// `text` parsed, and within the operator's bounds ([`SourceHosts`]) before anything
    /// is asked of its host.
    async fn admit(&self, text: &str) -> Result<RepoUrl> {
        let url = self.parse_url(text)?;
        if url.transport != Transport::File {
            let host = RepositoryLocation::of(&url.for_git).host;
            let hosts = &self.config.hosts;
            hosts.check(&url.shown, url.scheme(), &host)?;
            hosts.check_addresses(&url.shown, &host).await?;
        }
        Ok(url)
    }

    fn remote<'a>(&'a self, url: &'a RepoUrl, credentials: &Credentials) -> Result<Remote<'a>> {
        Remote::open(url, credentials, &self.cache.scratch(), &self.config.limits)
    }

    /// What `revision` names, and whether the remote was asked just now (not for a full
    /// commit id, nor when an answer given since `asked.since` is taken).
    async fn resolve_with(
        &self,
        remote: &Remote<'_>,
        revision: &Revision,
        asked: &Asked,
    ) -> Result<(Resolution, bool)> {
        if let Revision::Commit(id) = revision
            && (id.len() == 40 || id.len() == 64)
        {
            return Ok((
                Resolution::Found {
                    commit: id.clone(),
                    reference: None,
                },
                false,
            ));
        }
        let listing = format!("{revision:?}");
        if let Some(since) = asked.since
            && let Some(refs) = self
                .answers
                .since(&asked.key, asked.credentials, &listing, since)
        {
            return Ok((refs.resolve(revision), false));
        }
        let started = Instant::now();
        let refs: RemoteRefs = remote.list(revision).await?;
        self.answers
            .record(&asked.key, asked.credentials, &listing, started, &refs);
        Ok((refs.resolve(revision), true))
    }

    /// Finds an abbreviated commit id no reference points at: fetches the full history
    /// (once; later lookups find it in the cache).
    async fn find_by_prefix(
        &self,
        remote: &Remote<'_>,
        repo: &RepoCache,
        revision: &Revision,
        prefix: &str,
    ) -> Result<String> {
        let git_dir = repo.git_dir();
        if let Some(commit) = rev_parse(remote, &git_dir, prefix).await {
            return Ok(commit);
        }
        self.prepare_git_dir(remote, &git_dir).await?;
        remote.fetch_everything(&git_dir).await?;
        rev_parse(remote, &git_dir, prefix)
            .await
            .ok_or_else(|| not_found(remote.url, revision))
    }

    /// Makes the git directory if needed — anew when it has grown past half its budget
    /// (a shallow cache accumulates old commits) — and returns its size.
    async fn prepare_git_dir(&self, remote: &Remote<'_>, git_dir: &Path) -> Result<u64> {
        let size = Remote::size_of(git_dir);
        if git_dir.exists() && size <= self.config.limits.max_repository_bytes / 2 {
            return Ok(size);
        }
        if git_dir.exists() {
            std::fs::remove_dir_all(git_dir)
                .map_err(Error::io(format!("clear {}", git_dir.display())))?;
        }
        remote
            .git()
            .args(["init", "--quiet", "--bare"])
            .arg_path(git_dir)
            .output()
            .await
            .map_err(|failure| remote.error("preparing the cache of", failure))?;
        Ok(Remote::size_of(git_dir))
    }

    fn remember(&self, url: &RepoUrl, spec: &RepoSpec) {
        let now = Instant::now();
        let mut seen = self.lock_seen();
        // What nobody asked for lately is forgotten (credentials included): the periodic
        // reconcile of an app still using it asks again.
        seen.retain(|_, specs| {
            specs.retain(|(_, asked)| now.duration_since(*asked) < REMEMBERED_FOR);
            !specs.is_empty()
        });
        let specs = seen.entry(url.cache_key()).or_default();
        specs.retain(|(known, _)| known.revision != spec.revision);
        specs.push((spec.clone(), now));
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<(RepoSpec, Instant)>>> {
        self.seen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

async fn has_commit(remote: &Remote<'_>, git_dir: &Path, commit: &str) -> bool {
    git_dir.exists()
        && remote
            .git()
            .git_dir(git_dir)
            .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .output()
            .await
            .is_ok()
}

async fn rev_parse(remote: &Remote<'_>, git_dir: &Path, prefix: &str) -> Option<String> {
    if !git_dir.exists() {
        return None;
    }
    let output = remote
        .git()
        .git_dir(git_dir)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{prefix}^{{commit}}"),
        ])
        .output()
        .await
        .ok()?;
    Some(String::from_utf8_lossy(&output).trim().to_owned()).filter(|id| !id.is_empty())
}

async fn read_metadata(
    remote: &Remote<'_>,
    git_dir: &Path,
    url: &RepoUrl,
    commit: &str,
) -> Result<CommitMetadata> {
    let raw = remote
        .git()
        .git_dir(git_dir)
        .args(["cat-file", "commit", commit])
        .output()
        .await
        .map_err(|failure| remote.error("reading a commit of", failure))?;
    let id = commit_id(url, commit)?;
    CommitMetadata::parse(id, &raw).ok_or_else(|| Error::Git {
        action: "reading a commit of".into(),
        url: url.shown.clone(),
        detail: format!("commit {commit} is not a well-formed commit object"),
    })
}

fn commit_id(url: &RepoUrl, commit: &str) -> Result<CommitId> {
    CommitId::new(commit).ok_or_else(|| Error::Git {
        action: "resolving a revision of".into(),
        url: url.shown.clone(),
        detail: format!("{commit:?} is not a commit id"),
    })
}

fn not_found(url: &RepoUrl, revision: &Revision) -> Error {
    let hint = match revision {
        Revision::Range(_) => ": no tag's version (v1.2.3 or 1.2.3) is in that range",
        Revision::Commit(_) => {
            ": no such commit is reachable from the repository's branches and tags"
        }
        _ => ": check the spelling, or whether it was deleted",
    };
    Error::RevisionNotFound {
        url: url.shown.clone(),
        revision: revision.to_string(),
        hint: hint.to_owned(),
    }
}
