//! A repository over the size or file-count limit, or a server that never answers, is a
//! clear error — never a hang or a full disk — and leaves no process behind.

mod common;

use std::time::{Duration, Instant};

use common::{deploy_repo, source_with, spec};
use plumb_source::Error;
use plumb_testkit::{Author, GitServer};

/// Incompressible bytes, so the fetched pack is as large as the file.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_over_the_size_limit_is_refused() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    work.write("blob.bin", noise(3 << 20)).unwrap();
    work.commit("Add a large file", &Author::default()).unwrap();
    work.push().unwrap();
    let (source, _dir) = source_with(|config| config.limits.max_repository_bytes = 1 << 20);
    let err = source
        .snapshot(&spec(&repo.http_url, "main"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("exceeds the limit of 1.0 MiB"),
        "{message}"
    );
    assert!(message.contains(&repo.http_url), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_with_too_many_files_or_bytes_is_refused_before_checkout() {
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    for index in 0..20 {
        work.write(&format!("many/{index}.yaml"), "x: 1\n").unwrap();
    }
    work.commit("Many files", &Author::default()).unwrap();
    work.push().unwrap();
    let (source, dir) = source_with(|config| config.limits.max_files = 10);
    let err = source
        .snapshot(&spec(&repo.git_url, "main"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("22 files"), "{err}");
    assert!(err.to_string().contains("10 files"), "{err}");
    let snapshots: Vec<_> = walk_dirs(&dir.path().join("cache/repos"))
        .into_iter()
        .filter(|path| path.ends_with("snapshots"))
        .flat_map(|path| std::fs::read_dir(path).unwrap().flatten().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    assert!(
        snapshots.is_empty(),
        "nothing was checked out: {snapshots:?}"
    );

    let (source, _dir) = source_with(|config| config.limits.max_snapshot_bytes = 50);
    let err = source
        .snapshot(&spec(&repo.git_url, "main"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (source, _dir) = source_with(|config| config.limits.timeout = Duration::from_secs(1));
    let started = Instant::now();
    let err = source
        .resolve(&spec(&format!("git://127.0.0.1:{port}/silent.git"), "main"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.to_string().contains("raise the fetch timeout"), "{err}");
    drop(listener);
}

fn walk_dirs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().unwrap().is_dir() {
            found.push(entry.path());
            found.extend(walk_dirs(&entry.path()));
        }
    }
    found
}
