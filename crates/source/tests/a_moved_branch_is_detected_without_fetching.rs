//! Polling is cheap: resolving a revision lists references and transfers no objects; a
//! snapshot of an unchanged commit comes from the cache; a moved, force-pushed or deleted
//! branch is noticed, and a deleted branch leaves the last good snapshot usable.

mod common;

use common::{change, deploy_repo, source, spec};
use plumb_source::{Error, Transfer};
use plumb_testkit::GitServer;

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_branch_is_detected_without_fetching() {
    let server = GitServer::start().unwrap();
    let (repo, work, first) = deploy_repo(&server);
    let (source, _dir) = source();
    let spec = spec(&repo.http_url, "main");
    let snapshot = source.snapshot(&spec).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), first);

    let unchanged = source.snapshot(&spec).await.unwrap();
    assert_eq!(
        unchanged.transfer(),
        Transfer::Cached,
        "nothing fetched when nothing moved"
    );

    let second = change(&work, "moved");
    let cache_size_before = dir_size(source.cache_dir());
    let resolved = source.resolve(&spec).await.unwrap();
    assert_eq!(resolved.commit.as_str(), second, "the move is seen");
    assert_eq!(
        dir_size(source.cache_dir()),
        cache_size_before,
        "resolving fetched nothing into the cache"
    );
    let moved = source.snapshot(&spec).await.unwrap();
    assert_eq!(moved.commit().as_str(), second);
    assert!(matches!(moved.transfer(), Transfer::Fetched { .. }));
    assert_eq!(
        std::fs::read_to_string(moved.root().join("app.yaml")).unwrap(),
        "moved"
    );
    assert_eq!(
        std::fs::read_to_string(snapshot.root().join("app.yaml")).unwrap(),
        "kind: ConfigMap\n",
        "the old snapshot never changes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_force_pushed_branch_is_followed() {
    let server = GitServer::start().unwrap();
    let (repo, work, first) = deploy_repo(&server);
    let second = change(&work, "two");
    let (source, _dir) = source();
    let spec = spec(&repo.git_url, "main");
    assert_eq!(
        source.snapshot(&spec).await.unwrap().commit().as_str(),
        second
    );

    work.git(&["reset", "--hard", &first]).unwrap();
    work.write("app.yaml", "rewritten").unwrap();
    let rewritten = work.commit("Rewrite history", &Default::default()).unwrap();
    work.git(&["push", "--force", "--quiet", "origin", "HEAD:main"])
        .unwrap();

    let snapshot = source.snapshot(&spec).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), rewritten);
    assert_eq!(
        std::fs::read_to_string(snapshot.root().join("app.yaml")).unwrap(),
        "rewritten"
    );
    assert_eq!(snapshot.metadata().parents[0].as_str(), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_branch_is_an_error_and_the_last_good_snapshot_stays() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    work.switch("release").unwrap();
    let last_good = change(&work, "release");
    work.git(&["push", "--quiet", "origin", "HEAD:release"])
        .unwrap();
    let (source, _dir) = source();
    let spec = spec(&repo.http_url, "release");
    let held = source.snapshot(&spec).await.unwrap();

    work.git(&["push", "--quiet", "origin", "--delete", "release"])
        .unwrap();

    let err = source.snapshot(&spec).await.unwrap_err();
    assert!(matches!(err, Error::RevisionNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("\"release\""), "{err}");
    assert!(source.resolve(&spec).await.is_err());
    assert_eq!(
        std::fs::read_to_string(held.root().join("app.yaml")).unwrap(),
        "release"
    );

    // The controller can keep serving the last good commit, from the cache alone.
    drop(server);
    let again = source
        .snapshot(&common::spec(&repo.http_url, &last_good))
        .await
        .unwrap();
    assert_eq!(again.transfer(), Transfer::Cached);
    assert_eq!(again.root(), held.root());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_refresh_fetches_what_moved_for_every_revision_in_use() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    work.tag("v1.0.0").unwrap().push().unwrap();
    let (source, _dir) = source();
    source.snapshot(&spec(&repo.git_url, "main")).await.unwrap();
    source.snapshot(&spec(&repo.git_url, "^1")).await.unwrap();
    let moved = change(&work, "webhook");
    work.tag("v1.1.0").unwrap().push().unwrap();

    let outcomes = source.refresh(&repo.git_url).await.unwrap();
    assert_eq!(outcomes.len(), 2);
    for (revision, outcome) in &outcomes {
        assert_eq!(outcome.as_ref().unwrap().as_str(), moved, "{revision}");
    }
    let next = source.snapshot(&spec(&repo.git_url, "main")).await.unwrap();
    assert_eq!(
        next.transfer(),
        Transfer::Cached,
        "the reconcile after the webhook finds it ready"
    );
    assert!(
        source
            .refresh(&server.git_url("unknown"))
            .await
            .unwrap()
            .is_empty()
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| {
                    let meta = std::fs::symlink_metadata(entry.path()).unwrap();
                    if meta.is_dir() {
                        dir_size(&entry.path())
                    } else {
                        meta.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
