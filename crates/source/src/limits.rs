//! Bounds on what one repository may cost: time, disk and files. A repository is
//! untrusted input; exceeding a bound is a clear error, never a hang or an exhausted disk.

use std::time::Duration;

/// Limits applied to every repository.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest a single git operation (list references, fetch, checkout) may run before
    /// its whole process group is killed.
    pub timeout: Duration,
    /// Largest the cached git data of one repository may grow, in bytes; checked while a
    /// fetch runs, which is stopped the moment it goes over.
    pub max_repository_bytes: u64,
    /// Most files a snapshot may hold.
    pub max_files: u64,
    /// Largest total size of a snapshot's files, in bytes.
    pub max_snapshot_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(120),
            max_repository_bytes: 1 << 30,
            max_files: 100_000,
            max_snapshot_bytes: 1 << 30,
        }
    }
}

/// Bounds on the snapshot cache as a whole.
#[derive(Clone, Debug)]
pub struct CachePolicy {
    /// Snapshots kept per repository (least recently used go first).
    pub max_snapshots_per_repository: usize,
    /// Total bytes of all snapshots kept (least recently used go first).
    pub max_snapshot_bytes: u64,
    /// Total bytes of the repositories' git data (least recently used repositories' go
    /// first; fetched again when next used). Without it, many distinct `repoURL`s would
    /// fill the disk one [`Limits::max_repository_bytes`] at a time.
    pub max_git_bytes: u64,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            max_snapshots_per_repository: 5,
            max_snapshot_bytes: 4 << 30,
            max_git_bytes: 4 << 30,
        }
    }
}

/// `1536` → `1.5 KiB`, for messages.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
