//! Many applications share one repository: concurrent snapshots of one URL fetch once and
//! all get the same intact snapshot, within a process and across processes sharing the
//! cache; old snapshots are collected, but never one in use.

mod common;

use common::{change, deploy_repo, source, source_with, spec};
use plumb_source::{Source, SourceConfig, Transfer};
use plumb_testkit::GitServer;

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_fetches_of_one_url_fetch_once() {
    let server = GitServer::start().unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let source = std::sync::Arc::new(source);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let source = source.clone();
            let spec = spec(&repo.http_url, "main");
            tokio::spawn(async move { source.snapshot(&spec).await.unwrap() })
        })
        .collect();
    let mut snapshots = vec![];
    for task in tasks {
        snapshots.push(task.await.unwrap());
    }
    let fetched = snapshots
        .iter()
        .filter(|s| matches!(s.transfer(), Transfer::Fetched { .. }))
        .count();
    assert_eq!(fetched, 1, "one fetch serves everyone");
    for snapshot in &snapshots {
        assert_eq!(snapshot.commit().as_str(), commit);
        assert_eq!(snapshot.root(), snapshots[0].root());
        assert_eq!(
            std::fs::read_to_string(snapshot.root().join("app.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sources_sharing_a_cache_directory_do_not_corrupt_it() {
    let server = GitServer::start().unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let dir = tempfile::tempdir().unwrap();
    let make = || {
        let mut config = SourceConfig::new(dir.path().join("cache"));
        config.allow_local = true;
        Source::new(config).unwrap()
    };
    let (first, second) = (make(), make());
    let spec = spec(&repo.git_url, "main");
    let (a, b) = tokio::join!(first.snapshot(&spec), second.snapshot(&spec));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.commit().as_str(), commit);
    assert_eq!(a.root(), b.root());
    let transfers = [a.transfer(), b.transfer()];
    assert!(transfers.contains(&Transfer::Cached), "{transfers:?}");
    assert!(a.root().join("nested/dir/svc.yaml").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn old_snapshots_are_collected_but_never_one_in_use() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    let (source, _dir) = source_with(|config| config.cache.max_snapshots_per_repository = 2);
    let spec = spec(&repo.git_url, "main");
    let held = source.snapshot(&spec).await.unwrap();
    let mut dropped = vec![];
    for round in 0..4 {
        change(&work, &format!("round {round}"));
        let snapshot = source.snapshot(&spec).await.unwrap();
        dropped.push(snapshot.root().to_owned());
    }
    let kept: Vec<_> = std::fs::read_dir(held.root().parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .collect();
    assert!(
        held.root().join("app.yaml").is_file(),
        "the held snapshot survives"
    );
    assert!(dropped.last().unwrap().is_dir(), "the newest survives");
    assert!(!dropped[0].exists(), "an unused old one is gone");
    assert!(kept.len() <= 3, "{kept:?}");
}
