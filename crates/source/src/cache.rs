//! The on-disk cache: one directory per repository URL, shared by every application that
//! uses the URL, safe under concurrent reconciles and under two processes sharing it.
//!
//! ```text
//!  CACHE/repos/<host-path-hash>/lock            flock: one writer per repository at a time
//!                              /url             the normalised URL (guards against hash clashes)
//!                              /git/            bare, shallow git directory: fetched objects
//!                              /snapshots/<id>/ one commit's files, read-only, never changed
//!                              /snapshots/<id>.lease  flock(shared) held while in use; mtime = last use
//!                              /snapshots/<id>.size   bytes of the snapshot, for the byte budget
//!  CACHE/tmp/                                   private per-operation directories
//! ```
//!
//! Locking: an async mutex per repository serialises the tasks of one process, a `flock`
//! on `lock` serialises processes. Garbage collection runs under the same lock and deletes
//! a snapshot only if it can take its lease exclusively — so a snapshot handed out (and
//! not yet dropped) is never deleted, in this process or another.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustix::fs::{FlockOperation, flock};

use crate::error::{Error, Result};
use crate::limits::CachePolicy;
use crate::repo_url::RepoUrl;

/// The cache root and the in-process locks of its repositories.
#[derive(Debug)]
pub(crate) struct Cache {
    root: PathBuf,
    policy: CachePolicy,
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

/// The cache directory of one repository.
#[derive(Clone, Debug)]
pub(crate) struct RepoCache {
    dir: PathBuf,
}

/// Exclusive use of one repository's cache, in this process and across processes.
#[derive(Debug)]
pub(crate) struct RepoLock {
    _file: File,
    _task: tokio::sync::OwnedMutexGuard<()>,
}

/// A snapshot in use: while it lives, garbage collection leaves the snapshot alone.
#[derive(Debug)]
pub(crate) struct Lease {
    _file: File,
}

impl Cache {
    pub(crate) fn new(root: &Path, policy: CachePolicy) -> Result<Self> {
        for dir in [root.join("repos"), root.join("tmp")] {
            std::fs::create_dir_all(&dir)
                .map_err(Error::io(format!("create {}", dir.display())))?;
        }
        Ok(Cache {
            root: root.to_owned(),
            policy,
            locks: Mutex::default(),
        })
    }

    /// Where operations make their private directories.
    pub(crate) fn scratch(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The cache of `url`, created on first use.
    pub(crate) fn repo(&self, url: &RepoUrl) -> Result<RepoCache> {
        let dir = self.root.join("repos").join(url.cache_key());
        std::fs::create_dir_all(dir.join("snapshots"))
            .map_err(Error::io(format!("create {}", dir.display())))?;
        let normal = url.normalised();
        let marker = dir.join("url");
        match std::fs::read_to_string(&marker) {
            Ok(known) if known != normal => {
                return Err(Error::InvalidUrl {
                    url: url.shown.clone(),
                    reason: format!(
                        "its cache directory {} belongs to another URL; remove that directory",
                        dir.display()
                    ),
                });
            }
            Ok(_) => {}
            Err(_) => write_marker(&dir, &marker, &normal)?,
        }
        Ok(RepoCache { dir })
    }

    /// Waits for exclusive use of `repo`.
    pub(crate) async fn lock(&self, repo: &RepoCache) -> Result<RepoLock> {
        let task = self.task_lock(&repo.dir).lock_owned().await;
        let path = repo.dir.join("lock");
        let file = tokio::task::spawn_blocking(move || {
            let file =
                File::create(&path).map_err(Error::io(format!("open {}", path.display())))?;
            flock(&file, FlockOperation::LockExclusive).map_err(|errno| Error::Io {
                action: format!("lock {}", path.display()),
                source: errno.into(),
            })?;
            // The lock's time is the repository's last use (garbage collection's order).
            file.set_modified(SystemTime::now())
                .map_err(Error::io(format!("touch {}", path.display())))?;
            Ok::<_, Error>(file)
        })
        .await
        .map_err(|join| Error::Io {
            action: "lock the repository cache".into(),
            source: std::io::Error::other(join),
        })??;
        // What a process that died mid-checkout left behind.
        remove_staging(&repo.snapshots());
        Ok(RepoLock {
            _file: file,
            _task: task,
        })
    }

    /// Exclusive use of `dir` if nobody holds it now.
    fn try_lock(&self, dir: &Path) -> Option<RepoLock> {
        let task = self.task_lock(dir).try_lock_owned().ok()?;
        // Opened without truncation: collecting garbage is no use of the repository.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .ok()?;
        flock(&file, FlockOperation::NonBlockingLockExclusive).ok()?;
        Some(RepoLock {
            _file: file,
            _task: task,
        })
    }

    fn task_lock(&self, dir: &Path) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        locks.entry(dir.to_owned()).or_default().clone()
    }

    /// Deletes least recently used snapshots beyond the policy, skipping any in use.
    /// `held` is the repository whose lock the caller already holds.
    pub(crate) fn collect_garbage(&self, held: &RepoCache) {
        let Ok(entries) = std::fs::read_dir(self.root.join("repos")) else {
            return;
        };
        let mut locks = Vec::new();
        let mut all = Vec::new();
        let mut repos = Vec::new();
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir != held.dir {
                match self.try_lock(&dir) {
                    Some(lock) => locks.push(lock),
                    None => continue,
                }
            }
            let repo = RepoCache { dir };
            repos.push(repo.clone());
            let mut snapshots = repo.snapshot_list();
            snapshots.sort_by_key(|s| std::cmp::Reverse(s.last_used));
            for (rank, snapshot) in snapshots.into_iter().enumerate() {
                all.push((rank, repo.clone(), snapshot));
            }
        }
        all.sort_by_key(|entry| std::cmp::Reverse(entry.2.last_used));
        let mut kept_bytes = 0u64;
        for (rank, repo, snapshot) in all {
            let over_count = rank >= self.policy.max_snapshots_per_repository;
            let over_bytes = kept_bytes + snapshot.bytes > self.policy.max_snapshot_bytes;
            if (over_count || over_bytes) && repo.remove_if_unused(&snapshot.commit) {
                continue;
            }
            kept_bytes += snapshot.bytes;
        }
        self.collect_git_data(held, repos);
        drop(locks);
    }

    /// Removes the git data of the least recently used repositories beyond the policy's
    /// total (never `held`'s, which was just used). Snapshots stay: they are checkouts of
    /// their own. `repos` are locked by the caller.
    fn collect_git_data(&self, held: &RepoCache, repos: Vec<RepoCache>) {
        let mut sized: Vec<(SystemTime, u64, RepoCache)> = repos
            .into_iter()
            .map(|repo| {
                (
                    repo.last_used(),
                    crate::git::dir_size(&repo.git_dir()),
                    repo,
                )
            })
            .collect();
        sized.sort_by_key(|(last_used, ..)| std::cmp::Reverse(*last_used));
        let mut kept = 0u64;
        for (_, bytes, repo) in sized {
            if repo.dir != held.dir && kept + bytes > self.policy.max_git_bytes {
                if std::fs::remove_dir_all(repo.git_dir()).is_ok() {
                    tracing::debug!(repository = %repo.dir.display(), bytes, "removed the git data of a repository not used lately");
                }
                continue;
            }
            kept += bytes;
        }
    }
}

#[derive(Debug)]
struct Listed {
    commit: String,
    last_used: SystemTime,
    bytes: u64,
}

impl RepoCache {
    pub(crate) fn git_dir(&self) -> PathBuf {
        self.dir.join("git")
    }

    /// When the repository was last locked for use (taking the lock rewrites its file).
    fn last_used(&self) -> SystemTime {
        std::fs::metadata(self.dir.join("lock"))
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    pub(crate) fn snapshots(&self) -> PathBuf {
        self.dir.join("snapshots")
    }

    pub(crate) fn snapshot(&self, commit: &str) -> PathBuf {
        self.snapshots().join(commit)
    }

    /// A staging directory for `commit`, to be renamed into place when complete.
    pub(crate) fn staging(&self, commit: &str) -> PathBuf {
        self.snapshots().join(format!(".staging-{commit}"))
    }

    /// The most recently used complete snapshot other than `commit`'s, if any: the base a
    /// new snapshot links its unchanged files from.
    pub(crate) fn latest_snapshot(&self, except: &str) -> Option<String> {
        self.snapshot_list()
            .into_iter()
            .filter(|listed| listed.commit != except)
            .max_by_key(|listed| listed.last_used)
            .map(|listed| listed.commit)
    }

    pub(crate) fn record_size(&self, commit: &str, bytes: u64) -> Result<()> {
        let path = self.snapshots().join(format!("{commit}.size"));
        std::fs::write(&path, bytes.to_string())
            .map_err(Error::io(format!("write {}", path.display())))
    }

    /// Marks `commit`'s snapshot as in use (and just used). Call with the repository locked.
    pub(crate) fn lease(&self, commit: &str) -> Result<Lease> {
        let path = self.snapshots().join(format!("{commit}.lease"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(Error::io(format!("open {}", path.display())))?;
        flock(&file, FlockOperation::LockShared).map_err(|errno| Error::Io {
            action: format!("lock {}", path.display()),
            source: errno.into(),
        })?;
        file.set_modified(SystemTime::now())
            .map_err(Error::io(format!("touch {}", path.display())))?;
        Ok(Lease { _file: file })
    }

    fn snapshot_list(&self) -> Vec<Listed> {
        let Ok(entries) = std::fs::read_dir(self.snapshots()) else {
            return vec![];
        };
        entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| !name.starts_with('.'))
            .map(|commit| {
                let base = self.snapshots();
                let last_used = std::fs::metadata(base.join(format!("{commit}.lease")))
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                let bytes = std::fs::read_to_string(base.join(format!("{commit}.size")))
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                    .unwrap_or(0);
                Listed {
                    commit,
                    last_used,
                    bytes,
                }
            })
            .collect()
    }

    /// Removes a snapshot nobody holds; `false` when it is in use (or removal failed).
    fn remove_if_unused(&self, commit: &str) -> bool {
        let base = self.snapshots();
        let lease = base.join(format!("{commit}.lease"));
        if let Ok(file) = File::open(&lease)
            && flock(&file, FlockOperation::NonBlockingLockExclusive).is_err()
        {
            return false;
        }
        let removed = remove_read_only_tree(&base.join(commit)).is_ok();
        if removed {
            let _ = std::fs::remove_file(base.join(format!("{commit}.size")));
            let _ = std::fs::remove_file(&lease);
            tracing::debug!(commit, "removed an unused snapshot");
        }
        removed
    }
}

fn remove_staging(snapshots: &Path) {
    let Ok(entries) = std::fs::read_dir(snapshots) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".staging-") {
            let _ = remove_read_only_tree(&entry.path());
        }
    }
}

/// Writes the URL marker atomically: a concurrent reader (two reconciles of a new URL at
/// once) sees no marker or the whole one, never an empty file it would take for another
/// URL's.
fn write_marker(dir: &Path, marker: &Path, url: &str) -> Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = dir.join(format!(".url-{}-{unique}", std::process::id()));
    std::fs::write(&partial, url)
        .and_then(|()| std::fs::rename(&partial, marker))
        .map_err(Error::io(format!("write {}", marker.display())))
}

/// Removes a tree whose directories were made read-only.
pub(crate) fn remove_read_only_tree(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fn writable(path: &Path) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.is_dir() {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
            if let Ok(entries) = std::fs::read_dir(path) {
                for entry in entries.flatten() {
                    writable(&entry.path());
                }
            }
        }
    }
    if !path.exists() {
        return Ok(());
    }
    writable(path);
    std::fs::remove_dir_all(path)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A repository whose git data holds `bytes` and which was last used `ago`.
    fn repo_with_git_data(cache: &Cache, url: &str, bytes: usize, ago: u64) -> RepoCache {
        let repo = cache.repo(&RepoUrl::parse(url).unwrap()).unwrap();
        std::fs::create_dir_all(repo.git_dir()).unwrap();
        std::fs::write(repo.git_dir().join("pack"), vec![0u8; bytes]).unwrap();
        let lock = File::create(repo.dir.join("lock")).unwrap();
        lock.set_modified(SystemTime::now() - Duration::from_secs(ago))
            .unwrap();
        repo
    }

    #[test]
    fn the_git_data_of_repositories_not_used_lately_goes_beyond_the_budget() {
        let root = tempfile::tempdir().unwrap();
        let policy = CachePolicy {
            max_git_bytes: 25_000,
            ..CachePolicy::default()
        };
        let cache = Cache::new(root.path(), policy).unwrap();
        let oldest = repo_with_git_data(&cache, "https://a.example/old", 10_000, 3000);
        let older = repo_with_git_data(&cache, "https://a.example/older", 10_000, 2000);
        let recent = repo_with_git_data(&cache, "https://a.example/recent", 10_000, 10);
        let held = repo_with_git_data(&cache, "https://a.example/held", 10_000, 1000);

        cache.collect_garbage(&held);

        assert!(held.git_dir().exists(), "the repository in use is kept");
        assert!(recent.git_dir().exists(), "the most recently used is kept");
        assert!(!older.git_dir().exists() && !oldest.git_dir().exists());
        assert!(oldest.dir.join("url").exists(), "only the git data goes");
        let times: Vec<SystemTime> = [&oldest, &recent].map(RepoCache::last_used).into();
        assert!(
            times[0] < times[1],
            "collecting garbage is no use of a repository"
        );
    }
}
