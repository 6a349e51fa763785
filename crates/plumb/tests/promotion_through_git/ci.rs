//! CI jobs: two pushing at once both land without a force push; a deploy key over SSH pushes, and an unknown host is refused.

use super::*;

#[tokio::test]
async fn two_ci_jobs_set_images_at_once_and_both_changes_land_without_a_force_push() {
    let (_server, repo) = repository();
    let first = ci_clone(&repo);
    let second = ci_clone(&repo);
    let start = repo.rev_parse("main").unwrap();
    let job = |dir: std::path::PathBuf, image: &'static str| {
        std::thread::spawn(move || {
            plumb_in(
                &dir,
                &[
                    "set-image",
                    "envs/dev",
                    image,
                    "--push",
                    "-o",
                    "json",
                    "--token-env",
                    "CI_PUSH_TOKEN",
                    "--git-username",
                    "ci",
                    "--author",
                    "CI <ci@example.com>",
                ],
                &[("CI_PUSH_TOKEN", "s3cret-t0ken")],
            )
        })
    };
    let a = job(
        first.path().to_owned(),
        "app=registry.example.com/team/app:2.0.0",
    );
    let b = job(second.path().to_owned(), "nginx:1.27");
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let (a, b) = (json_of(&a), json_of(&b));
    assert_eq!(
        (a["pushed"].clone(), b["pushed"].clone()),
        (json!(true), json!(true))
    );
    let mut attempts = [
        a["attempts"].as_u64().unwrap(),
        b["attempts"].as_u64().unwrap(),
    ];
    attempts.sort_unstable();
    assert_eq!(
        attempts,
        [1, 2],
        "exactly one job found the branch moved and retried"
    );

    // Both changes are on main, one after the other on top of where both started.
    let checkout = ci_clone(&repo);
    let dir = checkout.path();
    assert_eq!(
        kustomize_images(&dir.join("envs/dev")),
        ["registry.example.com/team/app:2.0.0", "nginx:1.27"]
    );
    let history = git(dir, &["log", "--format=%H %s", &format!("{start}..main")]);
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(history.contains("envs/dev: set app to registry.example.com/team/app:2.0.0 (was registry.example.com/team/app:1.3.0)"), "{history}");
    assert!(
        history.contains("envs/dev: set nginx to nginx:1.27 (was nginx:1.26)"),
        "{history}"
    );
    assert_eq!(git(dir, &["rev-list", "--merges", "--count", "main"]), "0");
    // The token never reached the checkouts' configuration.
    for clone in [&first, &second] {
        let config = std::fs::read_to_string(clone.path().join(".git/config")).unwrap();
        assert!(!config.contains("s3cret"), "{config}");
    }
    // And a wrong token is an authentication error, not a retry loop.
    let third = ci_clone(&repo);
    let output = plumb_in(
        third.path(),
        &[
            "set-image",
            "envs/dev",
            "app:9.9.9",
            "--push",
            "--git-username",
            "ci",
        ],
        &[("PLUMB_GIT_TOKEN", "wrong")],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("refused the credentials"),
        "{}",
        text(&output)
    );
    assert!(!text(&output).contains("wrong"), "{}", text(&output));
}

#[test]
fn a_ci_job_pushes_over_ssh_with_a_deploy_key_and_refuses_an_unknown_host() {
    let (_server, repo) = repository();
    let ssh = SshServer::start().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let key = secrets.path().join("deploy-key");
    std::fs::write(&key, ssh.client_private_key()).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let known_hosts = secrets.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", ssh.known_hosts_line())).unwrap();
    let stranger = secrets.path().join("stranger_hosts");
    std::fs::write(&stranger, "").unwrap();
    let before = repo.rev_parse("main").unwrap();
    // Each attempt from a fresh CI checkout whose remote is the SSH URL.
    let set_image = |known: &Path| {
        let clone = ci_clone(&repo);
        git(
            clone.path(),
            &["remote", "set-url", "origin", &ssh.url(&repo)],
        );
        plumb_in(
            clone.path(),
            &[
                "set-image",
                "envs/dev",
                "app=registry.example.com/team/app:3.0.0",
                "--push",
                "--ssh-key-file",
                key.to_str().unwrap(),
                "--known-hosts-file",
                known.to_str().unwrap(),
                "--author",
                "CI <ci@example.com>",
            ],
            &[],
        )
    };

    // A host the known_hosts file does not vouch for is refused; nothing reaches it.
    let refused = set_image(&stranger);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert_eq!(repo.rev_parse("main").unwrap(), before);

    let pushed = set_image(&known_hosts);
    assert!(pushed.status.success(), "{}", text(&pushed));
    let after = repo.rev_parse("main").unwrap();
    assert_ne!(after, before, "the commit reached the server over SSH");
    let shown = git(&repo.path, &["show", "main:envs/dev/kustomization.yaml"]);
    assert!(shown.contains("3.0.0"), "{shown}");
}
