//! Shared set-up of the source stories: a source caching in a scratch directory, and
//! repositories with history on the real test git servers.
#![allow(dead_code, reason = "each test binary uses a different part")]

use plumb_source::{RepoSpec, Revision, Source, SourceConfig};
use plumb_testkit::{Author, GitServer, Repo, WorkTree};

/// A source over a fresh cache that accepts local repositories (tests serve some by path).
pub(crate) fn source() -> (Source, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SourceConfig::new(dir.path().join("cache"));
    config.allow_local = true;
    (Source::new(config).unwrap(), dir)
}

pub(crate) fn source_with(
    configure: impl FnOnce(&mut SourceConfig),
) -> (Source, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SourceConfig::new(dir.path().join("cache"));
    config.allow_local = true;
    configure(&mut config);
    (Source::new(config).unwrap(), dir)
}

/// A repository `deploy` with `app.yaml` committed on `main`; returns it, a work tree and
/// the commit.
pub(crate) fn deploy_repo(server: &GitServer) -> (Repo, WorkTree, String) {
    let repo = server.create_repo("deploy").unwrap();
    let work = repo.work_tree().unwrap();
    work.write("app.yaml", "kind: ConfigMap\n").unwrap();
    work.write("nested/dir/svc.yaml", "kind: Service\n")
        .unwrap();
    let commit = work
        .commit(
            "Add app\n\nWith a body.",
            &Author::new("Ada Lovelace", "ada@example.com"),
        )
        .unwrap();
    work.push().unwrap();
    (repo, work, commit)
}

/// Commits a change to `app.yaml` and pushes it; returns the commit.
pub(crate) fn change(work: &WorkTree, contents: &str) -> String {
    work.write("app.yaml", contents).unwrap();
    let commit = work
        .commit(&format!("Change to {contents}"), &Author::default())
        .unwrap();
    work.push().unwrap();
    commit
}

pub(crate) fn spec(url: &str, revision: &str) -> RepoSpec {
    RepoSpec::new(url, Revision::parse(revision).unwrap())
}
