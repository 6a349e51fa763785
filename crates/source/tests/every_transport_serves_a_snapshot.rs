//! The same repository snapshots alike over file://, git://, smart HTTP with basic auth,
//! and SSH with a key and strict known_hosts.

mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::{deploy_repo, source, spec};
use plumb_source::{Credentials, RepoSpec, Snapshot, Transfer};
use plumb_testkit::{GitServer, SshServer};

fn assert_is_the_deploy_commit(snapshot: &Snapshot, commit: &str) {
    assert_eq!(snapshot.commit().as_str(), commit);
    let root = snapshot.root();
    assert_eq!(
        std::fs::read_to_string(root.join("app.yaml")).unwrap(),
        "kind: ConfigMap\n"
    );
    assert!(root.join("nested/dir/svc.yaml").is_file());
    assert!(!root.join(".git").exists(), "a snapshot holds no .git");
    let mode = std::fs::metadata(root.join("app.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o222, 0, "files are read-only");
    let mode = std::fs::metadata(root).unwrap().permissions().mode();
    assert_eq!(mode & 0o222, 0, "directories are read-only");
    let meta = snapshot.metadata();
    assert_eq!(meta.author.name, "Ada Lovelace");
    assert_eq!(meta.author.email, "ada@example.com");
    assert_eq!(meta.summary(), "Add app");
    assert_eq!(meta.message, "Add app\n\nWith a body.");
    assert!(meta.parents.is_empty());
    assert!(meta.committer.time > 1_600_000_000);
    assert!(matches!(snapshot.transfer(), Transfer::Fetched { bytes } if bytes > 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_repository_snapshots_by_file_url_and_by_path() {
    let server = GitServer::start().unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let snapshot = source
        .snapshot(&spec(&repo.file_url(), "main"))
        .await
        .unwrap();
    assert_is_the_deploy_commit(&snapshot, &commit);
    let by_path = source
        .snapshot(&spec(&repo.path.to_string_lossy(), "main"))
        .await
        .unwrap();
    assert_eq!(by_path.root(), snapshot.root(), "one cache per repository");
    assert_eq!(by_path.transfer(), Transfer::Cached);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_repositories_are_refused_unless_allowed() {
    let server = GitServer::start().unwrap();
    let (repo, _work, _) = deploy_repo(&server);
    let dir = tempfile::tempdir().unwrap();
    let source = plumb_source::Source::new(plumb_source::SourceConfig::new(dir.path())).unwrap();
    let err = source
        .snapshot(&spec(&repo.file_url(), "main"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("local repositories are not allowed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_snapshots_over_the_git_protocol() {
    let server = GitServer::start().unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let snapshot = source.snapshot(&spec(&repo.git_url, "main")).await.unwrap();
    assert_is_the_deploy_commit(&snapshot, &commit);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_snapshots_over_smart_http_with_basic_auth() {
    let server = GitServer::start_with_basic_auth("deployer", "s3cret-pass").unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let spec = RepoSpec {
        credentials: Credentials::basic("deployer", "s3cret-pass"),
        ..spec(&repo.http_url, "main")
    };
    let snapshot = source.snapshot(&spec).await.unwrap();
    assert_is_the_deploy_commit(&snapshot, &commit);
    let resolved = source.resolve(&spec).await.unwrap();
    assert_eq!(resolved.commit.as_str(), commit);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_an_https_url_work_and_never_print() {
    let server = GitServer::start_with_basic_auth("deployer", "s3cret-pass").unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let url = repo
        .http_url
        .replacen("http://", "http://deployer:s3cret-pass@", 1);
    let snapshot = source.snapshot(&spec(&url, "main")).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), commit);
    let wrong = repo
        .http_url
        .replacen("http://", "http://deployer:wr0ng-pass@", 1);
    let err = source
        .snapshot(&spec(&wrong, "main"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(!err.contains("wr0ng-pass"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_snapshots_over_ssh_with_a_key_and_known_hosts() {
    let server = GitServer::start().unwrap();
    let ssh = SshServer::start().unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let spec = RepoSpec {
        credentials: Credentials::ssh(ssh.client_private_key(), &ssh.known_hosts_line()),
        ..spec(&ssh.url(&repo), "main")
    };
    let snapshot = source.snapshot(&spec).await.unwrap();
    assert_is_the_deploy_commit(&snapshot, &commit);
    let scratch = source.cache_dir().join("tmp");
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "key files are removed after use"
    );
}
