//! Branches, tags (light and annotated), full and short commit ids, the default branch and
//! semver ranges each resolve to one commit; a revision that does not exist is an error
//! naming the repository and the revision.

mod common;

use common::{change, deploy_repo, source, spec};
use plumb_source::{Error, Transfer};
use plumb_testkit::GitServer;

#[tokio::test(flavor = "multi_thread")]
async fn branches_tags_and_commits_resolve() {
    let server = GitServer::start().unwrap();
    let (repo, work, first) = deploy_repo(&server);
    work.tag("v1.2.0").unwrap();
    let second = change(&work, "two");
    work.git(&[
        "-c",
        "user.name=Rel",
        "-c",
        "user.email=rel@example.com",
        "tag",
        "-a",
        "-m",
        "Release 1.4.2",
        "v1.4.2",
    ])
    .unwrap();
    let third = change(&work, "three");
    work.tag("v2.0.0")
        .unwrap()
        .tag("v1.5.0-rc.1")
        .unwrap()
        .push()
        .unwrap();
    work.switch("feature").unwrap();
    let feature = change(&work, "feature");
    let (source, _dir) = source();
    let url = repo.git_url.clone();
    let resolve = |revision: &'static str| {
        let spec = spec(&url, revision);
        let source = &source;
        async move { source.resolve(&spec).await.unwrap().commit.to_string() }
    };
    assert_eq!(resolve("main").await, third);
    assert_eq!(resolve("").await, third, "HEAD is the default branch");
    assert_eq!(resolve("refs/heads/feature").await, feature);
    assert_eq!(resolve("feature").await, feature);
    assert_eq!(resolve("v1.2.0").await, first);
    assert_eq!(
        resolve("refs/tags/v1.4.2").await,
        second,
        "annotated tags peel"
    );
    assert_eq!(resolve(">=1.2.0 <2.0.0").await, second);
    assert_eq!(resolve("~1.2").await, first);
    assert_eq!(resolve("^1 || ^2").await, third);
    assert_eq!(
        resolve("1.x").await,
        second,
        "pre-releases only match when named"
    );
    let resolved = source.resolve(&spec(&url, ">=1.2.0 <2.0.0")).await.unwrap();
    assert_eq!(resolved.reference.as_deref(), Some("refs/tags/v1.4.2"));

    let snapshot = source.snapshot(&spec(&url, &second)).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), second);
    assert_eq!(
        std::fs::read_to_string(snapshot.root().join("app.yaml")).unwrap(),
        "two"
    );
    assert_eq!(
        snapshot.metadata().parents[0].as_str(),
        first,
        "parents survive a shallow fetch"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_commit_id_deep_in_history_resolves() {
    let server = GitServer::start().unwrap();
    let (repo, work, first) = deploy_repo(&server);
    change(&work, "two");
    change(&work, "three");
    let (source, _dir) = source();
    let snapshot = source
        .snapshot(&spec(&repo.http_url, &first[..9]))
        .await
        .unwrap();
    assert_eq!(snapshot.commit().as_str(), first);
    assert!(snapshot.reference().is_none());
    assert_eq!(
        std::fs::read_to_string(snapshot.root().join("app.yaml")).unwrap(),
        "kind: ConfigMap\n"
    );
    let again = source
        .resolve(&spec(&repo.http_url, &first[..9]))
        .await
        .unwrap();
    assert_eq!(again.commit.as_str(), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revision_that_does_not_exist_is_a_clear_error() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    work.tag("v1.0.0").unwrap().push().unwrap();
    let (source, _dir) = source();
    for (revision, named) in [
        ("no-such-branch", "\"no-such-branch\""),
        (">=3.0.0", ">=3.0.0"),
        ("refs/tags/v9", "\"v9\""),
        ("1234567", "1234567"),
        (&"1".repeat(40) as &str, "1111111111"),
    ] {
        let err = source
            .snapshot(&spec(&repo.git_url, revision))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RevisionNotFound { .. }),
            "{revision}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&repo.git_url), "{message}");
        assert!(message.contains(named), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_that_does_not_exist_is_a_clear_error() {
    let server = GitServer::start().unwrap();
    let (source, _dir) = source();
    let url = server.git_url("nothing-here");
    let err = source.resolve(&spec(&url, "main")).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
    let url = server.http_url("nothing-here");
    let err = source.snapshot(&spec(&url, "main")).await.unwrap_err();
    assert!(err.to_string().contains(&url), "{err}");
    let _ = Transfer::Cached;
}
