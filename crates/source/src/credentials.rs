//! Credentials for a repository, and how git is given them without leaking them.
//!
//! Guarantees:
//! - a [`Secret`] never prints (`Debug` shows `***`), and every message that quotes git's
//!   output has the secret values replaced by `***` first ([`Redactor`]);
//! - nothing secret is put on a command line (world-readable in `/proc`): HTTP passwords
//!   reach git through `GIT_ASKPASS` reading the child's environment, SSH keys through a
//!   file of mode 0600 in a private directory (0700) that is removed when the git
//!   operation ends;
//! - SSH checks host keys strictly against the given `known_hosts` only: an unknown or
//!   changed host key is refused, never learned.

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use crate::error::{Error, Result};
use crate::repo_url::{RepoUrl, Transport};

/// A secret value: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// How to authenticate to a repository.
#[derive(Clone, Debug, Default)]
pub enum Credentials {
    /// Anonymous access (and, over SSH, refused: SSH needs a key and known_hosts).
    #[default]
    None,
    /// HTTP(S) basic authentication. For a token, put it in `password` (any non-empty
    /// `username` works for GitHub, GitLab, Gitea and Bitbucket tokens).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: Secret,
    },
    /// SSH with a private key; the server must be in `known_hosts`.
    Ssh {
        /// The private key, OpenSSH or PEM format, unencrypted.
        private_key: Secret,
        /// `known_hosts` lines vouching for the server (`[host]:port` for other ports).
        known_hosts: String,
    },
}

impl Credentials {
    /// Basic authentication with a user name and password or token.
    pub fn basic(username: &str, password: &str) -> Self {
        Credentials::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        }
    }

    /// An SSH private key and the `known_hosts` lines that vouch for the server.
    pub fn ssh(private_key: &str, known_hosts: &str) -> Self {
        Credentials::Ssh {
            private_key: Secret::new(private_key),
            known_hosts: known_hosts.to_owned(),
        }
    }

    /// Fills in credentials from the URL (`https://user:pass@host/…`) when none are given.
    pub(crate) fn for_url(&self, url: &RepoUrl) -> Credentials {
        match (self, &url.embedded) {
            (Credentials::None, Some((username, password))) => Credentials::Basic {
                username: username.clone(),
                password: Secret::new(password.clone()),
            },
            _ => self.clone(),
        }
    }

    /// The secret values to scrub from anything printed.
    pub(crate) fn redactor(&self) -> Redactor {
        let secrets = match self {
            Credentials::None => vec![],
            Credentials::Basic { password, .. } => vec![password.expose().to_owned()],
            Credentials::Ssh { private_key, .. } => private_key
                .expose()
                .lines()
                .filter(|line| line.len() >= 16)
                .map(str::to_owned)
                .collect(),
        };
        Redactor {
            secrets: secrets.into_iter().filter(|s| s.len() >= 3).collect(),
        }
    }
}

/// Replaces secret values by `***` in text about to be shown.
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn clean(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        // Belt and braces: user:password@ in any URL git may have echoed.
        let mut out = String::with_capacity(text.len());
        for (index, word) in text.split(' ').enumerate() {
            if index > 0 {
                out.push(' ');
            }
            out.push_str(&crate::repo_url::redact_url(word));
        }
        out
    }
}

/// The files and environment that give one git operation its credentials; the private
/// directory holding them is removed when this drops.
#[derive(Debug)]
pub(crate) struct Session {
    dir: tempfile::TempDir,
    pub(crate) env: Vec<(String, OsString)>,
}

impl Session {
    /// Prepares credentials for `url`; `scratch` is where the private directory is made.
    pub(crate) fn open(url: &RepoUrl, credentials: &Credentials, scratch: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("session-")
            .tempdir_in(scratch)
            .map_err(Error::io(format!(
                "create a private directory in {}",
                scratch.display()
            )))?;
        set_mode(dir.path(), 0o700)?;
        let mut session = Session { dir, env: vec![] };
        let wrong = |reason: &str| Error::Credentials {
            url: url.shown.clone(),
            reason: reason.to_owned(),
        };
        match (url.transport, credentials) {
            (
                Transport::Ssh,
                Credentials::Ssh {
                    private_key,
                    known_hosts,
                },
            ) => {
                session.ssh(private_key, known_hosts)?;
            }
            (Transport::Ssh, _) => {
                return Err(wrong(
                    "SSH needs a private key and known_hosts in the credentials (unknown hosts are refused)",
                ));
            }
            (Transport::Http, Credentials::Basic { username, password }) => {
                session.askpass(username, password)?;
            }
            (_, Credentials::None) => {}
            (_, Credentials::Basic { .. }) => {
                return Err(wrong("a username and password only work over HTTP(S)"));
            }
            (_, Credentials::Ssh { .. }) => {
                return Err(wrong(
                    "an SSH key only works with ssh:// or user@host:path URLs",
                ));
            }
        }
        Ok(session)
    }

    /// The private directory, for other throwaway files of the same operation.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn askpass(&mut self, username: &str, password: &Secret) -> Result<()> {
        // The script holds no secret: it prints what git's environment carries.
        let script = "#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"$PLUMB_GIT_USERNAME\" ;;\n  *) printf '%s\\n' \"$PLUMB_GIT_PASSWORD\" ;;\nesac\n";
        let path = self.write("askpass", script, 0o700)?;
        self.env.push(("GIT_ASKPASS".into(), path.into()));
        self.env
            .push(("PLUMB_GIT_USERNAME".into(), username.into()));
        self.env
            .push(("PLUMB_GIT_PASSWORD".into(), password.expose().into()));
        Ok(())
    }

    fn ssh(&mut self, private_key: &Secret, known_hosts: &str) -> Result<()> {
        let mut key = private_key.expose().trim().to_owned();
        key.push('\n');
        let key = self.write("id", &key, 0o600)?;
        let known_hosts = self.write("known_hosts", known_hosts, 0o600)?;
        let command = format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
             -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
             -o UpdateHostKeys=no -o LogLevel=ERROR -o ConnectTimeout=30",
            shell_quote(&key),
            shell_quote(&known_hosts),
        );
        self.env.push(("GIT_SSH_COMMAND".into(), command.into()));
        self.env.push(("GIT_SSH_VARIANT".into(), "ssh".into()));
        Ok(())
    }

    /// Writes a file readable by its owner only (created with that mode, never widened).
    pub(crate) fn write(&self, name: &str, contents: &str, mode: u32) -> Result<String> {
        let path = self.dir.path().join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(Error::io(format!("create {}", path.display())))?;
        file.write_all(contents.as_bytes())
            .map_err(Error::io(format!("write {}", path.display())))?;
        Ok(path.to_string_lossy().into_owned())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io(format!("restrict {}", path.display())))
}

/// Single-quotes a path for the shell git runs `GIT_SSH_COMMAND` through.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let credentials = Credentials::basic("deployer", "hunter2");
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn the_redactor_scrubs_passwords_and_url_userinfo() {
        let redactor = Credentials::basic("deployer", "hunter2").redactor();
        let cleaned = redactor.clean("fatal: https://deployer:x@host/r.git said hunter2 is wrong");
        assert!(
            !cleaned.contains("hunter2") && !cleaned.contains(":x@"),
            "{cleaned}"
        );
    }

    #[test]
    fn key_files_are_private_and_gone_after_the_session() {
        let scratch = tempfile::tempdir().unwrap();
        let url = RepoUrl::parse("ssh://git@host/r.git").unwrap();
        let credentials = Credentials::ssh(
            "-----BEGIN KEY-----\nabc\n-----END KEY-----",
            "host ssh-ed25519 AAAA",
        );
        let session = Session::open(&url, &credentials, scratch.path()).unwrap();
        let dir = session.dir().to_owned();
        let key = std::fs::metadata(dir.join("id")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        drop(session);
        assert!(!dir.exists());
    }

    #[test]
    fn ssh_without_known_hosts_is_refused_before_connecting() {
        let scratch = tempfile::tempdir().unwrap();
        let url = RepoUrl::parse("git@host:org/r.git").unwrap();
        let err = Session::open(&url, &Credentials::None, scratch.path()).unwrap_err();
        assert!(err.to_string().contains("known_hosts"), "{err}");
    }
}
