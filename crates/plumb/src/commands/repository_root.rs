//! Which repository a path on the command line belongs to, so `render`, `diff` and `apply`
//! take a directory the way `kubectl kustomize` and `flux build` do — absolute, `../…`,
//! from anywhere — while render stays confined to one root.
//!
//! Without `--root`, the root is the top of the Git work tree holding the path (the
//! repository the controller would fetch), else the directory itself. Everything the
//! render reads must lie inside that root, exactly as inside a fetched snapshot; only an
//! explicit `--root` changes what "inside" means.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// A directory to render, split into the root render is confined to and the path inside it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Located {
    /// The repository root: nothing outside it is read.
    pub(crate) root: PathBuf,
    /// The directory, `/`-separated and relative to `root` (`.` for the root itself).
    pub(crate) path: String,
}

/// Splits `path` as the user gave it; `root` is `--root` when given.
///
/// With `--root`, `path` is taken relative to it and render judges it (an absolute path or
/// a `..` above the root is refused there, as before). Without, `path` is taken relative
/// to the working directory and the root is found from where it lies.
pub(crate) fn locate(path: &str, root: Option<&Path>) -> anyhow::Result<Located> {
    if let Some(root) = root {
        return Ok(Located {
            root: root.to_owned(),
            path: path.to_owned(),
        });
    }
    let directory = std::fs::canonicalize(path).with_context(|| {
        format!("{path}: no such directory (relative paths start from the working directory)")
    })?;
    let root = work_tree_top(&directory).unwrap_or_else(|| directory.clone());
    let inside = directory
        .strip_prefix(&root)
        .expect("the root is the directory or one of its ancestors");
    let parts: Vec<String> = inside
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(Located {
        root,
        path: if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        },
    })
}

/// The nearest directory at or above `directory` that holds `.git` (a directory in a clone,
/// a file in a worktree or submodule): where `git rev-parse --show-toplevel` would stop.
fn work_tree_top(directory: &Path) -> Option<PathBuf> {
    directory
        .ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap()
    }

    #[test]
    fn a_path_in_a_git_work_tree_is_rendered_from_the_top_of_that_tree() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("envs/prod")).unwrap();
        let prod = repo.path().join("envs/prod");
        let located = locate(prod.to_str().unwrap(), None).unwrap();
        assert_eq!(located.root, canonical(repo.path()));
        assert_eq!(located.path, "envs/prod");
        let located = locate(repo.path().to_str().unwrap(), None).unwrap();
        assert_eq!(located.path, ".");
    }

    #[test]
    fn dot_dot_and_symlinked_paths_are_resolved_before_the_root_is_found() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("envs/prod")).unwrap();
        std::fs::create_dir_all(repo.path().join("envs/dev")).unwrap();
        let winding = repo.path().join("envs/dev/../prod");
        let located = locate(winding.to_str().unwrap(), None).unwrap();
        assert_eq!(located.path, "envs/prod");
        let elsewhere = tempfile::tempdir().unwrap();
        let link = elsewhere.path().join("prod");
        std::os::unix::fs::symlink(repo.path().join("envs/prod"), &link).unwrap();
        let located = locate(link.to_str().unwrap(), None).unwrap();
        assert_eq!(located.root, canonical(repo.path()));
        assert_eq!(located.path, "envs/prod");
    }

    #[test]
    fn a_plain_directory_is_its_own_root() {
        let plain = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(plain.path().join("manifests")).unwrap();
        let dir = plain.path().join("manifests");
        let located = locate(dir.to_str().unwrap(), None).unwrap();
        assert_eq!(located.root, canonical(&dir));
        assert_eq!(located.path, ".");
    }

    #[test]
    fn an_explicit_root_is_kept_and_the_path_left_for_render_to_judge() {
        let located = locate("/etc", Some(Path::new("/srv/repo"))).unwrap();
        assert_eq!(
            located,
            Located {
                root: PathBuf::from("/srv/repo"),
                path: "/etc".to_owned()
            }
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let err = locate("/no/such/plumb/dir", None).unwrap_err();
        assert!(format!("{err:#}").contains("/no/such/plumb/dir: no such directory"));
    }
}
