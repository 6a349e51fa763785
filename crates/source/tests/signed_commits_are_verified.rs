//! A source that demands signatures takes only commits signed by a trusted SSH or OpenPGP
//! key, and refuses unsigned commits and commits signed by anyone else.

mod common;

use std::path::Path;
use std::process::Command;

use common::{deploy_repo, source, spec};
use plumb_source::{Error, RepoSpec, Verification};
use plumb_testkit::{GitServer, WorkTree};

fn ssh_key(dir: &Path, name: &str) -> (String, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (
        path.to_string_lossy().into_owned(),
        public.trim().to_owned(),
    )
}

/// A throwaway GnuPG home with one signing key; returns the home, the key's fingerprint
/// and its armored public key.
fn openpgp_key(dir: &Path, email: &str) -> (String, String, String) {
    let home = dir.join(format!("gnupg-{email}"));
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let output = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    gpg(&[
        "--quick-generate-key",
        &format!("Signer <{email}>"),
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = gpg(&["--with-colons", "--list-secret-keys"]);
    let fingerprint = listing
        .lines()
        .find(|line| line.starts_with("fpr:"))
        .and_then(|line| line.split(':').nth(9))
        .unwrap()
        .to_owned();
    let public = gpg(&["--armor", "--export", &fingerprint]);
    (home.to_string_lossy().into_owned(), fingerprint, public)
}

fn commit_signed(
    work: &WorkTree,
    contents: &str,
    config: &[&str],
    gnupg_home: Option<&str>,
) -> String {
    work.write("app.yaml", contents).unwrap();
    work.git(&["add", "--all"]).unwrap();
    let mut args: Vec<&str> = vec![
        "-c",
        "user.name=Signer",
        "-c",
        "user.email=signer@example.com",
    ];
    args.extend_from_slice(config);
    args.extend_from_slice(&["commit", "--quiet", "-S", "-m", contents]);
    let mut command = Command::new("git");
    command
        .current_dir(work.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(&args);
    if let Some(home) = gnupg_home {
        command.env("GNUPGHOME", home);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    work.push().unwrap();
    work.head().unwrap()
}

fn stop_agent(home: &str) {
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", home)
        .args(["--kill", "all"])
        .status();
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_signatures_are_accepted_from_trusted_keys_only() {
    let keys = tempfile::tempdir().unwrap();
    let (trusted_private, trusted_public) = ssh_key(keys.path(), "trusted");
    let (stranger_private, _) = ssh_key(keys.path(), "stranger");
    let server = GitServer::start().unwrap();
    let (repo, work, unsigned) = deploy_repo(&server);
    let (source, _dir) = source();
    let demand = |revision: &str| RepoSpec {
        verification: Some(Verification {
            ssh_keys: vec![trusted_public.clone()],
            openpgp_keys: vec![],
        }),
        ..spec(&repo.git_url, revision)
    };
    let ssh_signing = |key: &str| {
        vec![
            "-c".to_owned(),
            "gpg.format=ssh".to_owned(),
            "-c".to_owned(),
            format!("user.signingkey={key}"),
        ]
    };

    let err = source.snapshot(&demand(&unsigned)).await.unwrap_err();
    assert!(matches!(err, Error::Unverified { .. }), "{err:?}");
    assert!(err.to_string().contains("no signature"), "{err}");

    let config = ssh_signing(&trusted_private);
    let config: Vec<&str> = config.iter().map(String::as_str).collect();
    let good = commit_signed(&work, "trusted", &config, None);
    let snapshot = source.snapshot(&demand("main")).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), good);
    assert!(snapshot.metadata().signed);

    let config = ssh_signing(&stranger_private);
    let config: Vec<&str> = config.iter().map(String::as_str).collect();
    let bad = commit_signed(&work, "stranger", &config, None);
    let err = source.snapshot(&demand("main")).await.unwrap_err();
    assert!(
        matches!(err, Error::Unverified { ref commit, .. } if commit == &bad),
        "{err:?}"
    );
    // Without a demand, the same commit is fine.
    assert!(source.snapshot(&spec(&repo.git_url, "main")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn openpgp_signatures_are_accepted_from_trusted_keys_only() {
    let keys = tempfile::tempdir().unwrap();
    let (trusted_home, trusted_fpr, trusted_public) =
        openpgp_key(keys.path(), "trusted@example.com");
    let (stranger_home, stranger_fpr, _) = openpgp_key(keys.path(), "stranger@example.com");
    let server = GitServer::start().unwrap();
    let (repo, work, _) = deploy_repo(&server);
    let (source, _dir) = source();
    let demand = RepoSpec {
        verification: Some(Verification {
            ssh_keys: vec![],
            openpgp_keys: vec![trusted_public.clone()],
        }),
        ..spec(&repo.http_url, "main")
    };

    let signing = format!("user.signingkey={trusted_fpr}");
    let good = commit_signed(&work, "trusted", &["-c", &signing], Some(&trusted_home));
    let snapshot = source.snapshot(&demand).await.unwrap();
    assert_eq!(snapshot.commit().as_str(), good);

    let signing = format!("user.signingkey={stranger_fpr}");
    commit_signed(&work, "stranger", &["-c", &signing], Some(&stranger_home));
    let err = source.snapshot(&demand).await.unwrap_err();
    assert!(matches!(err, Error::Unverified { .. }), "{err:?}");
    stop_agent(&trusted_home);
    stop_agent(&stranger_home);
}
