//! Where an edit goes: written in place, or committed and pushed through Git — on a push
//! that finds the branch moved, the edit is made again from the files of the new tip.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use plumb_source::{
    Change, Checkout, Credentials, Identity, PublishError, PublishOptions, Published, PushTarget,
};

use crate::attempt::{Attempt, Edit};
use crate::error::{Error, Result};

/// The author when neither the request nor git's configuration names one.
const DEFAULT_AUTHOR: &str = "plumb <plumb@localhost>";

/// How an edit is published.
#[derive(Clone, Debug, Default)]
pub struct Publication {
    /// Show the change and write nothing.
    pub dry_run: bool,
    /// Commit the change (the kustomization file only) on the current branch.
    pub commit: bool,
    /// Commit and push, retrying on a moved branch (never a force push).
    pub push: bool,
    /// `NAME <EMAIL>` of author and committer (default: git's, else plumb's).
    pub author: Option<String>,
    /// The commit's first line (default: composed from what changed).
    pub subject: Option<String>,
    /// The remote to push to (default: the branch's upstream remote, else origin).
    pub remote: Option<String>,
    /// The remote branch (default: the upstream branch, else the current branch's name).
    pub branch: Option<String>,
    /// How many times to make the change and push when others push first.
    pub attempts: u32,
    /// Credentials for the push.
    pub credentials: Credentials,
}

/// What an edit did.
#[derive(Debug)]
pub struct Outcome {
    /// The last attempt: the one written, committed or pushed (or found up to date).
    pub attempt: Attempt,
    /// What Git did; `None` when nothing was committed (`dry_run`, or neither commit nor push).
    pub published: Option<Published>,
}

impl Outcome {
    /// Whether the overlay already said what was asked (nothing changed anywhere).
    pub fn up_to_date(&self) -> bool {
        self.attempt.after.is_none() || matches!(self.published, Some(Published::UpToDate { .. }))
    }
}

impl Edit<'_> {
    /// Makes the edit and publishes it as `how` says.
    pub async fn publish(&self, how: &Publication) -> Result<Outcome> {
        if how.dry_run || !(how.commit || how.push) {
            let attempt = self.attempt()?;
            if let (Some(after), false) = (&attempt.after, how.dry_run) {
                replace(&self.root.join(&attempt.file), after)?;
            }
            return Ok(Outcome {
                attempt,
                published: None,
            });
        }
        let checkout = Checkout::open(
            self.root,
            PushTarget {
                remote: how.remote.clone(),
                branch: how.branch.clone(),
            },
        )
        .await?;
        let in_checkout = relative_to(&self.root.join(self.file()?), checkout.root())?;
        checkout
            .ensure_clean(std::slice::from_ref(&in_checkout))
            .await?;
        let author = match &how.author {
            Some(text) => Identity::parse(text)?,
            None => match checkout.configured_author().await {
                Some(author) => author,
                None => Identity::parse(DEFAULT_AUTHOR)?,
            },
        };
        let options = PublishOptions {
            author,
            push: how.push,
            credentials: how.credentials.clone(),
            attempts: how.attempts,
        };
        let last = RefCell::new(None);
        let published = checkout
            .publish(&options, || {
                let attempt = self.attempt()?;
                let change = match &attempt.after {
                    None => None,
                    Some(after) => {
                        replace(&self.root.join(&attempt.file), after)?;
                        Some(Change {
                            paths: vec![in_checkout.clone()],
                            message: self.message(&attempt, how.subject.as_deref()),
                        })
                    }
                };
                last.replace(Some(attempt));
                Ok::<_, Error>(change)
            })
            .await
            .map_err(|err| match err {
                PublishError::Change(err) => err,
                PublishError::Source(err) => Error::Git(err),
            })?;
        let attempt = last
            .into_inner()
            .expect("publish makes the change at least once before it succeeds");
        Ok(Outcome {
            attempt,
            published: Some(published),
        })
    }
}

/// Replaces the file in one step, keeping its permissions.
fn replace(path: &Path, contents: &str) -> Result<()> {
    let failed = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    std::io::Write::write_all(&mut temp, contents.as_bytes()).map_err(failed)?;
    if let Ok(metadata) = std::fs::metadata(path) {
        // Best effort: a file whose mode cannot be copied is still written.
        let _ = std::fs::set_permissions(temp.path(), metadata.permissions());
    }
    temp.persist(path).map_err(|err| failed(err.error))?;
    Ok(())
}

/// `path` relative to the checkout's `root`, both resolved through symbolic links.
fn relative_to(path: &Path, root: &Path) -> Result<PathBuf> {
    let resolve = |path: &Path| {
        std::fs::canonicalize(path).map_err(|source| Error::Resolve {
            path: path.to_path_buf(),
            source,
        })
    };
    let (path, root) = (resolve(path)?, resolve(root)?);
    match path.strip_prefix(&root) {
        Ok(relative) => Ok(relative.to_path_buf()),
        Err(_) => Err(Error::OutsideCheckout {
            path,
            checkout: root,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_keeps_the_mode_and_leaves_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kustomization.yaml");
        std::fs::write(&file, "old\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        replace(&file, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_outside_the_checkout_is_refused() {
        let checkout = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let err = relative_to(elsewhere.path(), checkout.path()).unwrap_err();
        assert!(matches!(err, Error::OutsideCheckout { .. }), "{err}");
        let inside = checkout.path().join("envs");
        std::fs::create_dir(&inside).unwrap();
        assert_eq!(
            relative_to(&inside, checkout.path()).unwrap(),
            PathBuf::from("envs")
        );
    }
}
