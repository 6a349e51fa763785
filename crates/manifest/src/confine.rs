//! Confinement to the snapshot root: the only way render touches the file system.
//!
//! A repository is hostile input. Argo CD has had several CVEs where a manifest path, a
//! `..` or a symlink in a repository made the server read files outside it (its own
//! secrets, other tenants' repositories). Every path here is checked twice: lexically
//! (absolute paths and `..` above the root are refused before any file-system call) and
//! after symlink resolution (the canonical target must lie under the canonical root).
//! Only regular files are opened — a FIFO would block a reader forever, a device would
//! never end — and every read is bounded.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A snapshot root that hands out only what lies inside it.
#[derive(Clone, Debug)]
pub struct Root {
    canonical: PathBuf,
}

/// A file found inside the root, named by its path relative to the root.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepoFile {
    /// `/`-separated path relative to the root, as shown to users.
    pub relative: String,
    /// The canonical path to open (symlinks resolved, checked to be inside the root).
    absolute: PathBuf,
}

impl RepoFile {
    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.absolute.is_dir()
    }
}

fn join_display(dir: &str, name: &str) -> String {
    if dir == "." || dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

impl Root {
    /// The root at `path` (resolved to its canonical form once, here).
    pub fn new(path: &Path) -> Result<Self> {
        let canonical = std::fs::canonicalize(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Root { canonical })
    }

    /// Resolves a user-given directory path (e.g. an application's `path`) inside the root.
    pub fn directory(&self, relative: &str) -> Result<(String, PathBuf)> {
        let normalized = normalize(relative)?;
        let joined = self.canonical.join(&normalized);
        if std::fs::symlink_metadata(&joined).is_err() {
            return Err(Error::NotFound {
                path: display(&normalized),
            });
        }
        let canonical = self.inside(&joined, &normalized)?;
        if !canonical.is_dir() {
            return Err(Error::NotADirectory {
                path: display(&normalized),
            });
        }
        Ok((display(&normalized), canonical))
    }

    /// Lists the regular files under `dir` (itself inside the root), sorted by relative
    /// path; into subdirectories when `recursive`. Symlinks are followed only when they
    /// stay inside the root; one that leaves it is an error, wherever it is.
    pub fn files(&self, dir_relative: &str, dir: &Path, recursive: bool) -> Result<Vec<RepoFile>> {
        let mut found = Vec::new();
        let mut visited = HashSet::new();
        self.walk(dir_relative, dir, recursive, &mut visited, &mut found)?;
        found.sort();
        Ok(found)
    }

    fn walk(
        &self,
        relative: &str,
        dir: &Path,
        recursive: bool,
        visited: &mut HashSet<PathBuf>,
        found: &mut Vec<RepoFile>,
    ) -> Result<()> {
        // A symlink cycle (a -> ..) would otherwise recurse forever.
        if !visited.insert(dir.to_owned()) {
            return Ok(());
        }
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
            path: relative.to_owned(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: relative.to_owned(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_relative = join(relative, &name);
            let path = entry.path();
            let canonical = match std::fs::canonicalize(&path) {
                Ok(canonical) => canonical,
                // A dangling symlink: refuse it if it aims outside, otherwise nothing to read.
                Err(_) => {
                    self.check_dangling_link(&path, &child_relative)?;
                    continue;
                }
            };
            let canonical = self.inside_canonical(canonical, &path, &child_relative)?;
            if canonical.is_dir() {
                if recursive && name != ".git" {
                    self.walk(&child_relative, &canonical, recursive, visited, found)?;
                }
            } else {
                found.push(RepoFile {
                    relative: child_relative,
                    absolute: canonical,
                });
            }
        }
        Ok(())
    }

    /// The file `name` in `dir` (a directory handed out by this root), if there is a
    /// regular file by that name. A symlink by that name is followed only inside the root:
    /// one that leads out is an error, as everywhere else, and its target is never opened.
    pub fn child_file(&self, dir: &RepoFile, name: &str) -> Result<Option<RepoFile>> {
        let joined = dir.absolute.join(name);
        if std::fs::symlink_metadata(&joined).is_err() {
            return Ok(None);
        }
        let relative = join_display(&dir.relative, name);
        let canonical = match std::fs::canonicalize(&joined) {
            Ok(canonical) => canonical,
            Err(_) => {
                self.check_dangling_link(&joined, &relative)?;
                return Ok(None);
            }
        };
        let absolute = self.inside_canonical(canonical, &joined, &relative)?;
        Ok(absolute
            .is_file()
            .then_some(RepoFile { relative, absolute }))
    }

    /// Resolves a path relative to the root (`..` allowed while it stays inside) to what
    /// it names, refusing paths and symlinks that leave the root.
    pub fn resolve(&self, relative: &str) -> Result<RepoFile> {
        let normalized = normalize(relative)?;
        let joined = self.canonical.join(&normalized);
        if std::fs::symlink_metadata(&joined).is_err() {
            return Err(Error::NotFound {
                path: display(&normalized),
            });
        }
        let absolute = self.inside(&joined, &normalized)?;
        let relative = display(&normalized);
        Ok(RepoFile { relative, absolute })
    }

    /// Reads a file found by [`Root::files`], refusing non-regular files and files over
    /// `max_bytes`.
    pub fn read(&self, file: &RepoFile, max_bytes: u64) -> Result<Vec<u8>> {
        let io = |source| Error::Io {
            path: file.relative.clone(),
            source,
        };
        let metadata = std::fs::metadata(&file.absolute).map_err(io)?;
        if !metadata.is_file() {
            return Err(Error::NotARegularFile {
                path: file.relative.clone(),
            });
        }
        let too_large = |size| Error::FileTooLarge {
            path: file.relative.clone(),
            size,
            limit: max_bytes,
        };
        if metadata.len() > max_bytes {
            return Err(too_large(metadata.len()));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        // Bounded even if the file grew since the metadata was read.
        std::fs::File::open(&file.absolute)
            .and_then(|opened| opened.take(max_bytes + 1).read_to_end(&mut bytes))
            .map_err(io)?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
    }

    fn inside(&self, path: &Path, relative: &Path) -> Result<PathBuf> {
        let canonical = std::fs::canonicalize(path).map_err(|source| Error::Io {
            path: display(relative),
            source,
        })?;
        self.inside_canonical(canonical, path, &display(relative))
    }

    fn inside_canonical(&self, canonical: PathBuf, path: &Path, relative: &str) -> Result<PathBuf> {
        if canonical.starts_with(&self.canonical) {
            return Ok(canonical);
        }
        Err(Error::SymlinkEscape {
            link: self
                .first_escaping_link(path)
                .unwrap_or_else(|| relative.to_owned()),
            target: canonical.display().to_string(),
        })
    }

    /// Names the symlink responsible for an escape: the first component of `path` (below
    /// the root) that is a link resolving outside the root.
    fn first_escaping_link(&self, path: &Path) -> Option<String> {
        let below = path.strip_prefix(&self.canonical).ok()?;
        let mut current = self.canonical.clone();
        for component in below.components() {
            current.push(component);
            let is_link = std::fs::symlink_metadata(&current)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            let escapes = std::fs::canonicalize(&current)
                .map(|target| !target.starts_with(&self.canonical))
                .unwrap_or(false);
            if is_link && escapes {
                return current.strip_prefix(&self.canonical).ok().map(display);
            }
        }
        None
    }

    fn check_dangling_link(&self, path: &Path, relative: &str) -> Result<()> {
        let Ok(target) = std::fs::read_link(path) else {
            return Ok(());
        };
        let parent = path.parent().unwrap_or(&self.canonical);
        let aimed = lexical_join(parent, &target);
        if aimed.starts_with(&self.canonical) {
            return Ok(());
        }
        Err(Error::SymlinkEscape {
            link: relative.to_owned(),
            target: target.display().to_string(),
        })
    }
}

/// Checks a user-given relative path lexically: no absolute paths, no `..` above the root.
fn normalize(relative: &str) -> Result<PathBuf> {
    let outside = |reason: &str| Error::PathOutsideRoot {
        path: relative.to_owned(),
        reason: reason.to_owned(),
    };
    if relative.contains('\0') {
        return Err(outside("the path contains a NUL byte"));
    }
    let mut normalized = PathBuf::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(outside("`..` leads above the repository root"));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(outside("absolute paths are not allowed"));
            }
        }
    }
    Ok(normalized)
}

/// Joins `target` onto `base` resolving `.` and `..` without touching the file system.
fn lexical_join(base: &Path, target: &Path) -> PathBuf {
    let mut joined = if target.is_absolute() {
        PathBuf::from("/")
    } else {
        base.to_owned()
    };
    for component in target.components() {
        match component {
            Component::ParentDir => {
                joined.pop();
            }
            Component::Normal(part) => joined.push(part),
            _ => {}
        }
    }
    joined
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn display(path: &Path) -> String {
    let shown = path.to_string_lossy().into_owned();
    if shown.is_empty() { ".".into() } else { shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_checks_refuse_absolute_paths_and_climbing_out() {
        assert_eq!(normalize("envs/./prod").unwrap(), Path::new("envs/prod"));
        assert_eq!(normalize("envs/../base").unwrap(), Path::new("base"));
        assert_eq!(normalize("").unwrap(), Path::new(""));
        assert!(matches!(
            normalize("/etc"),
            Err(Error::PathOutsideRoot { .. })
        ));
        assert!(matches!(
            normalize("envs/../../x"),
            Err(Error::PathOutsideRoot { .. })
        ));
        assert!(matches!(
            normalize("a\0b"),
            Err(Error::PathOutsideRoot { .. })
        ));
    }

    #[test]
    fn dangling_links_are_judged_by_where_they_aim() {
        assert_eq!(
            lexical_join(Path::new("/r/a"), Path::new("../b")),
            Path::new("/r/b")
        );
        assert_eq!(
            lexical_join(Path::new("/r/a"), Path::new("/etc/x")),
            Path::new("/etc/x")
        );
    }
}
