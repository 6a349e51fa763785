//! Commit signature verification: a source may accept only commits signed by keys it
//! trusts (SSH or OpenPGP), as Flux and Argo CD can.
//!
//! git itself verifies (`git verify-commit`), with trust given only by the keys in the
//! source's configuration: SSH keys through an allowed-signers file, OpenPGP keys through
//! a throwaway `GNUPGHOME` keyring that holds nothing else. Both live in the operation's
//! private directory and are gone when it ends.

use std::path::Path;
use std::process::Stdio;

use crate::error::{Error, Result};
use crate::git::Failure;
use crate::remote::Remote;

/// Which keys a commit must be signed by. A commit passes when its signature verifies
/// against any one of them; an unsigned commit never passes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// SSH public keys, one per entry, as in `authorized_keys` (`ssh-ed25519 AAAA… comment`).
    pub ssh_keys: Vec<String>,
    /// ASCII-armored OpenPGP public keys (`gpg --armor --export`).
    pub openpgp_keys: Vec<String>,
}

/// Checks that `commit` (present in `git_dir`) is signed by a trusted key.
pub(crate) async fn verify(
    remote: &Remote<'_>,
    git_dir: &Path,
    commit: &str,
    verification: &Verification,
) -> Result<()> {
    let scratch = remote.scratch();
    let allowed_signers: String = verification
        .ssh_keys
        .iter()
        .map(|key| format!("* {}\n", key.trim()))
        .collect();
    let allowed_signers_file = scratch.join("allowed_signers");
    write_private(&allowed_signers_file, &allowed_signers)?;
    let gnupg_home = scratch.join("gnupg");
    std::fs::create_dir(&gnupg_home).map_err(Error::io("create a GnuPG home"))?;
    set_private(&gnupg_home, 0o700)?;
    for (index, key) in verification.openpgp_keys.iter().enumerate() {
        import_openpgp_key(remote, &gnupg_home, index, key).await?;
    }
    let result = remote
        .git()
        .git_dir(git_dir)
        .env("GNUPGHOME", &gnupg_home)
        .config(
            "gpg.ssh.allowedSignersFile",
            &allowed_signers_file.to_string_lossy(),
        )
        .args(["verify-commit", commit])
        .output()
        .await;
    stop_gpg_agent(&gnupg_home).await;
    match result {
        Ok(_) => Ok(()),
        Err(Failure::Exit(stderr)) => Err(Error::Unverified {
            url: remote.url.shown.clone(),
            commit: commit.to_owned(),
            detail: if stderr.trim().starts_with("(exit status") {
                "the commit has no signature".into()
            } else {
                stderr
            },
        }),
        Err(failure) => Err(remote.error("verifying the signature of a commit of", failure)),
    }
}

async fn import_openpgp_key(
    remote: &Remote<'_>,
    gnupg_home: &Path,
    index: usize,
    key: &str,
) -> Result<()> {
    let file = gnupg_home.join(format!("key-{index}.asc"));
    write_private(&file, key)?;
    let output = tokio::process::Command::new("gpg")
        .env("GNUPGHOME", gnupg_home)
        .args(["--batch", "--quiet", "--no-tty", "--import"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| Error::Spawn {
            program: "gpg (Debian package gnupg)".into(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Unverified {
            url: remote.url.shown.clone(),
            commit: String::from("(none yet)"),
            detail: format!(
                "OpenPGP key {} of the verification settings cannot be imported: {}",
                index + 1,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        })
    }
}

/// gpg may have started an agent for the throwaway home; it must not outlive it.
async fn stop_gpg_agent(gnupg_home: &Path) {
    let _ = tokio::process::Command::new("gpgconf")
        .env("GNUPGHOME", gnupg_home)
        .args(["--kill", "all"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(format!("create {}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(Error::io(format!("write {}", path.display())))
}

fn set_private(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io(format!("restrict {}", path.display())))
}
