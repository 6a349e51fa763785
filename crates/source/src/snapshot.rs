//! Snapshots: one commit's files in a read-only directory without `.git`, made once and
//! never changed — what render reads.
//!
//! A snapshot is written to a staging directory and renamed into place only when complete,
//! so a reader never sees half a snapshot, and a crash leaves only staging to clean up.
//! Its size and file count are checked from the commit's tree *before* anything is
//! written.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::{Lease, RepoCache, remove_read_only_tree};
use crate::error::{Error, Result};
use crate::limits::{Limits, human_bytes};
use crate::metadata::{CommitId, CommitMetadata};
use crate::remote::Remote;

/// One commit's files on disk. Cheap to clone; the directory is kept (never garbage
/// collected) while any clone lives.
#[derive(Clone, Debug)]
pub struct Snapshot {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    metadata: CommitMetadata,
    reference: Option<String>,
    transfer: Transfer,
    _lease: Lease,
}

/// What making a snapshot cost on the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// The snapshot was already in the cache: nothing was fetched.
    Cached,
    /// The commit was fetched; `bytes` of git data were received.
    Fetched {
        /// Bytes added to the repository's cache (packs as received).
        bytes: u64,
    },
    /// The commit's objects were already in the cache; only its files were written.
    CheckedOut,
}

impl Snapshot {
    pub(crate) fn new(
        root: PathBuf,
        metadata: CommitMetadata,
        reference: Option<String>,
        transfer: Transfer,
        lease: Lease,
    ) -> Self {
        Snapshot {
            inner: Arc::new(Inner {
                root,
                metadata,
                reference,
                transfer,
                _lease: lease,
            }),
        }
    }

    /// The commit this snapshot holds.
    pub fn commit(&self) -> &CommitId {
        &self.inner.metadata.id
    }

    /// The directory holding the commit's files (read-only; no `.git`).
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Author, committer, time, message and parents of the commit.
    pub fn metadata(&self) -> &CommitMetadata {
        &self.inner.metadata
    }

    /// The reference the revision resolved through (`refs/heads/main`, `refs/tags/v1.4.2`);
    /// `None` when the revision was a commit id.
    pub fn reference(&self) -> Option<&str> {
        self.inner.reference.as_deref()
    }

    /// Whether this call fetched, and how much.
    pub fn transfer(&self) -> Transfer {
        self.inner.transfer
    }
}

/// Writes `commit`'s files into the repository cache, within the limits; returns the
/// snapshot's size in bytes. Call with the repository locked.
pub(crate) async fn write(
    remote: &Remote<'_>,
    repo: &RepoCache,
    commit: &str,
    limits: &Limits,
) -> Result<u64> {
    let git_dir = repo.git_dir();
    let bytes = check_tree(remote, &git_dir, commit, limits).await?;
    let staging = repo.staging(commit);
    remove_read_only_tree(&staging).map_err(Error::io(format!("clear {}", staging.display())))?;
    std::fs::create_dir(&staging).map_err(Error::io(format!("create {}", staging.display())))?;
    let index = remote.scratch().join("index");
    let checkout = |paths: Vec<String>| async {
        let mut args = vec!["checkout-index".to_owned(), "--force".to_owned()];
        if paths.is_empty() {
            args.push("--all".to_owned());
        } else {
            args.push("--".to_owned());
            args.extend(paths);
        }
        remote
            .git()
            .git_dir(&git_dir)
            .env("GIT_INDEX_FILE", &index)
            .env("GIT_WORK_TREE", &staging)
            .config("core.bare", "false")
            .config("core.symlinks", "true")
            .args(args.iter().map(String::as_str))
            .output()
            .await
            .map_err(|failure| remote.error("writing the files of a commit of", failure))
    };
    remote
        .git()
        .git_dir(&git_dir)
        .env("GIT_INDEX_FILE", &index)
        .args(["read-tree", commit])
        .output()
        .await
        .map_err(|failure| remote.error("reading the tree of a commit of", failure))?;
    match Box::pin(incremental_base(remote, repo, &git_dir, commit)).await {
        // Most of a new commit's files are its parent's: link those from the last snapshot
        // (same bytes, no copy) and write only what changed.
        Some((base, changes)) => {
            link_tree(&repo.snapshot(&base), &staging)
                .map_err(Error::io(format!("link {} into a new snapshot", base)))?;
            let mut written = Vec::new();
            for (status, path) in changes {
                let target = staging.join(&path);
                let replaced = match std::fs::symlink_metadata(&target) {
                    // A directory that became a file: its old files are listed as deleted too.
                    Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&target),
                    Ok(_) => std::fs::remove_file(&target),
                    Err(_) => Ok(()),
                };
                replaced.map_err(Error::io(format!("replace {}", target.display())))?;
                if status == b'D' {
                    remove_empty_parents(&staging, &target);
                } else {
                    written.push(path);
                }
            }
            for chunk in written.chunks(500) {
                Box::pin(checkout(chunk.to_vec())).await?;
            }
        }
        None => {
            Box::pin(checkout(Vec::new())).await?;
        }
    }
    make_read_only(&staging).map_err(Error::io(format!("protect {}", staging.display())))?;
    let target = repo.snapshot(commit);
    std::fs::rename(&staging, &target).map_err(Error::io(format!(
        "move a snapshot into {}",
        target.display()
    )))?;
    repo.record_size(commit, bytes)?;
    Ok(bytes)
}

/// Changes between the latest snapshot and `commit`, when that snapshot can serve as a
/// base (its commit is still in the repository). `None` means write everything.
async fn incremental_base(
    remote: &Remote<'_>,
    repo: &RepoCache,
    git_dir: &Path,
    commit: &str,
) -> Option<(String, Vec<(u8, String)>)> {
    let base = repo.latest_snapshot(commit)?;
    let listing = remote
        .git()
        .git_dir(git_dir)
        .args([
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--name-status",
            &base,
            commit,
        ])
        .output()
        .await
        .ok()?;
    // `STATUS\0PATH\0` pairs.
    let fields: Vec<&[u8]> = listing
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .collect();
    let mut changes = Vec::with_capacity(fields.len() / 2);
    for pair in fields.chunks(2) {
        let [status, path] = pair else { return None };
        let path = std::str::from_utf8(path).ok()?.to_owned();
        // Submodules and type changes are rare: write the snapshot whole.
        if !matches!(status.first(), Some(b'A' | b'M' | b'D')) {
            return None;
        }
        changes.push((status[0], path));
    }
    Some((base, changes))
}

/// Recreates `from`'s tree under `to`: directories made, files hard-linked (snapshots are
/// read-only, so sharing is safe), symlinks copied.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir(&target)?;
            link_tree(&source, &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else {
            std::fs::hard_link(&source, &target)?;
        }
    }
    Ok(())
}

/// After deleting `removed`, removes the directories it leaves empty (git tracks none).
fn remove_empty_parents(root: &Path, removed: &Path) {
    let mut dir = removed.parent();
    while let Some(current) = dir {
        if current == root || std::fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
}

/// Counts the commit's files and bytes from its tree, before writing any.
async fn check_tree(
    remote: &Remote<'_>,
    git_dir: &Path,
    commit: &str,
    limits: &Limits,
) -> Result<u64> {
    // A generous bound on the listing: a path and its metadata per allowed file.
    let max_output = usize::try_from(
        limits
            .max_files
            .saturating_mul(4200)
            .saturating_add(1 << 20),
    )
    .unwrap_or(usize::MAX);
    let listing = remote
        .git()
        .git_dir(git_dir)
        .args(["ls-tree", "-r", "-l", "-z", "--full-tree", commit])
        .max_output(max_output)
        .output()
        .await
        .map_err(|failure| remote.error("listing the files of a commit of", failure))?;
    let mut files = 0u64;
    let mut bytes = 0u64;
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        // `MODE TYPE OID SIZE\tPATH`; submodules (`commit`) have no size and no files.
        let head = entry.split(|b| *b == b'\t').next().unwrap_or_default();
        let fields: Vec<&[u8]> = head
            .split(|b| *b == b' ')
            .filter(|f| !f.is_empty())
            .collect();
        if fields.get(1) != Some(&&b"blob"[..]) {
            continue;
        }
        files += 1;
        bytes += fields
            .get(3)
            .and_then(|size| std::str::from_utf8(size).ok())
            .and_then(|size| size.parse::<u64>().ok())
            .unwrap_or(0);
    }
    let too_large = |what: String, limit: String| Error::TooLarge {
        url: remote.url.shown.clone(),
        what,
        limit,
    };
    if files > limits.max_files {
        return Err(too_large(
            format!("commit {commit} has {files} files, which"),
            format!("{} files", limits.max_files),
        ));
    }
    if bytes > limits.max_snapshot_bytes {
        return Err(too_large(
            format!(
                "commit {commit} holds {} of files, which",
                human_bytes(bytes)
            ),
            human_bytes(limits.max_snapshot_bytes),
        ));
    }
    Ok(bytes)
}

/// Directories 0555, files 0444 (0555 if executable); symlinks untouched.
fn make_read_only(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            make_read_only(&entry?.path())?;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555))
    } else if meta.is_file() {
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o555
        } else {
            0o444
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    } else {
        Ok(())
    }
}
