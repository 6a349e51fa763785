//! The test git servers are real git: what `source` fetches in later tests, the real git
//! client can fetch here, over every transport, and authentication is enforced.

use std::path::Path;
use std::process::{Command, Output};

use plumb_testkit::process::is_alive;
use plumb_testkit::{Author, GitServer, Repo};

/// A repository with one commit holding `app.yaml`; returns it and that commit.
fn repo_with_one_commit(server: &GitServer) -> (Repo, String) {
    let repo = server.create_repo("deploy").unwrap();
    let work = repo.work_tree().unwrap();
    work.write("app.yaml", "kind: ConfigMap\n").unwrap();
    let commit = work
        .commit("Add app", &Author::new("Ada Lovelace", "ada@example.com"))
        .unwrap();
    work.push().unwrap();
    (repo, commit)
}

/// Runs the real git client with no user configuration and no prompts.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap()
}

fn clone(url: &str) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    let output = git(dir.path(), &["clone", "--quiet", url, "checkout"]);
    (dir, output)
}

fn head_of(checkout: &Path) -> String {
    let output = git(checkout, &["log", "-1", "--format=%H %an <%ae> %s"]);
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_repository_clones_over_the_git_protocol() {
    let server = GitServer::start().unwrap();
    let (repo, commit) = repo_with_one_commit(&server);

    let (dir, output) = clone(&repo.git_url);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checkout = dir.path().join("checkout");
    assert_eq!(
        head_of(&checkout),
        format!("{commit} Ada Lovelace <ada@example.com> Add app")
    );
    assert!(checkout.join("app.yaml").is_file());
}

#[test]
fn a_repository_clones_and_pushes_over_smart_http() {
    let server = GitServer::start().unwrap();
    let (repo, commit) = repo_with_one_commit(&server);

    let (dir, output) = clone(&repo.http_url);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checkout = dir.path().join("checkout");
    assert!(head_of(&checkout).starts_with(&commit));

    std::fs::write(checkout.join("more.yaml"), "kind: Secret\n").unwrap();
    assert!(git(&checkout, &["add", "more.yaml"]).status.success());
    let committed = git(
        &checkout,
        &[
            "-c",
            "user.name=Bo",
            "-c",
            "user.email=bo@example.com",
            "commit",
            "-qm",
            "More",
        ],
    );
    assert!(committed.status.success());
    let pushed = git(&checkout, &["push", "--quiet", "origin", "HEAD"]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert_eq!(repo.rev_parse("main").unwrap(), head_of(&checkout)[..40]);
}

#[test]
fn smart_http_with_basic_auth_takes_the_right_password_and_refuses_a_wrong_one() {
    let server = GitServer::start_with_basic_auth("deployer", "s3cret").unwrap();
    let (repo, commit) = repo_with_one_commit(&server);
    let with_password = |password: &str| {
        repo.http_url
            .replacen("http://", &format!("http://deployer:{password}@"), 1)
    };

    let (_dir, refused) = clone(&with_password("wrong"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Authentication failed"), "{stderr}");

    let (_dir, anonymous) = clone(&repo.http_url);
    assert!(!anonymous.status.success());

    let (dir, accepted) = clone(&with_password("s3cret"));
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert!(head_of(&dir.path().join("checkout")).starts_with(&commit));
}

#[test]
fn a_stopped_git_server_leaves_no_daemon_behind() {
    let server = GitServer::start().unwrap();
    let pid = server.daemon_pid();
    assert!(is_alive(pid));
    drop(server);
    assert!(!is_alive(pid), "git daemon {pid} still runs");
}
