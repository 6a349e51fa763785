//! Wrong credentials are a clear error that never shows the password; an SSH server whose
//! host key is not in known_hosts is refused, never trusted on first use; a `repoURL`
//! aimed at something that is not a git server cannot tell a closed port from one that
//! answers (no port scanner through an Application's status).

mod common;

use common::{deploy_repo, source, spec};
use plumb_source::{Credentials, Error, RepoSpec};
use plumb_testkit::{GitServer, SshServer};

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused_without_showing_it() {
    let server = GitServer::start_with_basic_auth("deployer", "right-password").unwrap();
    let (repo, _work, _) = deploy_repo(&server);
    let (source, _dir) = source();
    for credentials in [
        Credentials::basic("deployer", "Wrong-Pa55word"),
        Credentials::None,
    ] {
        let spec = RepoSpec {
            credentials,
            ..spec(&repo.http_url, "main")
        };
        let err = source.snapshot(&spec).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(&repo.http_url), "{shown}");
        assert!(!shown.contains("Wrong-Pa55word"), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_ssh_host_key_is_refused() {
    let server = GitServer::start().unwrap();
    let ssh = SshServer::start().unwrap();
    let other = SshServer::start().unwrap();
    let (repo, _work, _) = deploy_repo(&server);
    let (source, _dir) = source();
    // known_hosts vouches for another server's key at this address: a changed host key.
    let impostor = other
        .known_hosts_line()
        .replace(&other.port().to_string(), &ssh.port().to_string());
    for known_hosts in [String::new(), impostor, "[example.com]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl".into()] {
        let spec = RepoSpec {
            credentials: Credentials::ssh(ssh.client_private_key(), &known_hosts),
            ..spec(&ssh.url(&repo), "main")
        };
        let err = source.resolve(&spec).await.unwrap_err();
        assert!(matches!(err, Error::HostKeyRefused { .. }), "{known_hosts}: {err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_server_does_not_know_is_refused() {
    let server = GitServer::start().unwrap();
    let ssh = SshServer::start().unwrap();
    let stranger = SshServer::start().unwrap();
    let (repo, _work, _) = deploy_repo(&server);
    let (source, _dir) = source();
    let spec = RepoSpec {
        credentials: Credentials::ssh(stranger.client_private_key(), &ssh.known_hosts_line()),
        ..spec(&ssh.url(&repo), "main")
    };
    let err = source.snapshot(&spec).await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
}

/// The cache is shared by every application, and a full commit id resolves without asking
/// the remote: a tenant naming another tenant's private repository and one of its commits
/// (commit ids are not secrets) must still be refused, though the commit is in the cache.
#[tokio::test(flavor = "multi_thread")]
async fn a_commit_id_does_not_open_a_private_repository_someone_else_fetched() {
    let server = GitServer::start_with_basic_auth("deployer", "right-password").unwrap();
    let (repo, _work, commit) = deploy_repo(&server);
    let (source, _dir) = source();
    let owner = RepoSpec {
        credentials: Credentials::basic("deployer", "right-password"),
        ..spec(&repo.http_url, &commit)
    };
    let snapshot = source.snapshot(&owner).await.unwrap();
    assert!(snapshot.root().join("app.yaml").is_file());

    for credentials in [Credentials::None, Credentials::basic("deployer", "a-guess")] {
        let stranger = RepoSpec {
            credentials,
            ..spec(&repo.http_url, &commit)
        };
        let err = source.snapshot(&stranger).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    }
    // The owner is still served, from the cache.
    source.snapshot(&owner).await.unwrap();
}

/// A port that answers whatever it is sent with a line of another protocol, as a Redis
/// would, then closes.
fn foreign_service() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = std::io::Write::write_all(&mut stream, b"-ERR unknown command 'GET'\r\n");
        }
    });
    port
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repo_url_cannot_tell_a_closed_port_from_a_service_that_answers() {
    let (source, _dir) = source();
    let (open, closed) = (foreign_service(), closed_port());
    let mut messages = std::collections::BTreeSet::new();
    for url in [
        format!("git://127.0.0.1:{open}/x.git"),
        format!("git://127.0.0.1:{closed}/x.git"),
        format!("http://127.0.0.1:{open}/x.git"),
        format!("http://127.0.0.1:{closed}/x.git"),
    ] {
        let err = source.resolve(&spec(&url, "main")).await.unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{url}: {err:?}");
        messages.insert(err.to_string().replace(&url, "URL"));
    }
    assert_eq!(
        messages.len(),
        1,
        "one message whatever answered: {messages:?}"
    );
}
