//! Repositories on a [`GitServer`](super::GitServer) and work trees to change them with.

use std::path::{Path, PathBuf};

use super::command::{git, run, run_git};
use crate::Error;
use crate::locations::scratch_dir;

/// Who made a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

impl Author {
    /// An author with this name and e-mail.
    pub fn new(name: &str, email: &str) -> Self {
        Author {
            name: name.to_owned(),
            email: email.to_owned(),
        }
    }
}

impl Default for Author {
    fn default() -> Self {
        Author::new("Plumb Test", "test@plumb.dev")
    }
}

/// A bare repository served by a git server, with every URL it can be reached by.
#[derive(Clone, Debug)]
pub struct Repo {
    /// Name under the server root, without `.git`.
    pub name: String,
    /// Path of the bare repository on disk.
    pub path: PathBuf,
    /// `git://127.0.0.1:PORT/NAME.git` (git daemon).
    pub git_url: String,
    /// `http://127.0.0.1:PORT/NAME.git` (git http-backend, smart HTTP).
    pub http_url: String,
}

impl Repo {
    /// `file://` URL of the bare repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// A fresh clone to change the repository with; pushes go straight to the bare
    /// repository on disk, so changing a repository never depends on the servers.
    pub fn work_tree(&self) -> Result<WorkTree, Error> {
        let dir = scratch_dir("worktree")?;
        let target = dir.path().join("repo");
        let path = self.path.to_string_lossy();
        let target_text = target.to_string_lossy();
        run_git(dir.path(), &["clone", "--quiet", &path, &target_text])?;
        // An empty repository has no branch to check out yet; start it on `main`.
        run_git(&target, &["symbolic-ref", "HEAD", "refs/heads/main"]).ok();
        Ok(WorkTree {
            _dir: dir,
            root: target,
        })
    }

    /// The commit a ref (branch, tag, `HEAD`) points to in the bare repository.
    pub fn rev_parse(&self, reference: &str) -> Result<String, Error> {
        run_git(
            &self.path,
            &["rev-parse", &format!("{reference}^{{commit}}")],
        )
    }
}

/// A checked-out clone of a [`Repo`], removed when dropped.
#[derive(Debug)]
pub struct WorkTree {
    /// Owns the checkout: removed when the work tree drops.
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl WorkTree {
    /// The root of the checkout.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Writes `contents` to `relative` (parents created), ready to be committed.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> Result<&Self, Error> {
        let path = self.root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("create {}", parent.display())))?;
        }
        std::fs::write(&path, contents).map_err(Error::io(format!("write {}", path.display())))?;
        Ok(self)
    }

    /// Removes a file or directory from the checkout.
    pub fn remove(&self, relative: &str) -> Result<&Self, Error> {
        run_git(&self.root, &["rm", "-r", "--quiet", relative])?;
        Ok(self)
    }

    /// Commits everything in the work tree and returns the new commit id.
    pub fn commit(&self, message: &str, author: &Author) -> Result<String, Error> {
        run_git(&self.root, &["add", "--all"])?;
        let args = ["commit", "--quiet", "--allow-empty", "-m", message];
        run(
            git(&self.root)
                .env("GIT_AUTHOR_NAME", &author.name)
                .env("GIT_AUTHOR_EMAIL", &author.email)
                .env("GIT_COMMITTER_NAME", &author.name)
                .env("GIT_COMMITTER_EMAIL", &author.email)
                .args(args),
            &args,
        )?;
        self.head()
    }

    /// Makes a lightweight tag at `HEAD`.
    pub fn tag(&self, name: &str) -> Result<&Self, Error> {
        run_git(&self.root, &["tag", name])?;
        Ok(self)
    }

    /// Switches to `branch`, creating it at `HEAD` when it does not exist.
    pub fn switch(&self, branch: &str) -> Result<&Self, Error> {
        if run_git(&self.root, &["switch", "--quiet", branch]).is_err() {
            run_git(&self.root, &["switch", "--quiet", "-c", branch])?;
        }
        Ok(self)
    }

    /// Pushes the current branch and all tags to the bare repository.
    pub fn push(&self) -> Result<&Self, Error> {
        run_git(&self.root, &["push", "--quiet", "origin", "HEAD"])?;
        run_git(&self.root, &["push", "--quiet", "--tags", "origin"])?;
        Ok(self)
    }

    /// Runs any other `git` command in the checkout (isolated from the machine's git
    /// configuration) and returns its trimmed output — for force pushes, deleted branches,
    /// annotated or signed tags and commits.
    pub fn git(&self, args: &[&str]) -> Result<String, Error> {
        run_git(&self.root, args)
    }

    /// The commit id of `HEAD`.
    pub fn head(&self) -> Result<String, Error> {
        run_git(&self.root, &["rev-parse", "HEAD"])
    }
}
