//! Git over SSH: Debian's `sshd` on a loopback port with its own configuration, host key
//! and one authorised client key, so tests exercise real key authentication and real
//! host-key checking.
//!
//! The server serves any repository on the machine by absolute path (as a real SSH git
//! host does for its user), so it serves the bare repositories of a
//! [`GitServer`](super::GitServer) as they are.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Repo;
use crate::Error;
use crate::locations::{find_binary, free_port, scratch_dir};
use crate::process::Supervised;

/// A running `sshd` that lets one generated client key in. Dropping it stops the server and
/// removes its keys and configuration.
#[derive(Debug)]
pub struct SshServer {
    // Drop order: the server stops before its directory goes away.
    sshd: Supervised,
    port: u16,
    user: String,
    host_public_key: String,
    client_private_key: String,
    client_public_key: String,
    _dir: tempfile::TempDir,
}

impl SshServer {
    /// Starts `sshd` on a free loopback port, with fresh host and client keys.
    ///
    /// Needs Debian's `openssh-server` (for `sshd`) and `openssh-client` (for `ssh-keygen`).
    pub fn start() -> Result<Self, Error> {
        let dir = scratch_dir("sshd")?;
        let root = dir.path();
        let host_key = root.join("host_key");
        let client_key = root.join("client_key");
        keygen(&host_key)?;
        keygen(&client_key)?;
        let authorized_keys = root.join("authorized_keys");
        std::fs::copy(client_key.with_extension("pub"), &authorized_keys)
            .map_err(Error::io(format!("write {}", authorized_keys.display())))?;
        // sshd refuses to start without its privilege-separation directory.
        if !Path::new("/run/sshd").is_dir() {
            std::fs::create_dir_all("/run/sshd").map_err(Error::io("create /run/sshd"))?;
        }
        let user = current_user()?;
        let port = free_port()?;
        let config = root.join("sshd_config");
        std::fs::write(
            &config,
            sshd_config(port, &host_key, &authorized_keys, &user),
        )
        .map_err(Error::io(format!("write {}", config.display())))?;
        // sshd re-executes itself and so insists on an absolute path.
        let sshd_path = find_binary("sshd", Some(Path::new("/usr/sbin")))
            .or_else(|_| find_binary("sshd", None))?;
        let mut command = Command::new(sshd_path);
        command.arg("-D").arg("-e").arg("-f").arg(&config);
        let mut sshd = Supervised::spawn("sshd", command, &root.join("sshd.log"))?;
        super::wait_for_port(port, &mut sshd)?;
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).map_err(Error::io(format!("read {}", path.display())))
        };
        Ok(SshServer {
            sshd,
            port,
            user,
            host_public_key: read(host_key.with_extension("pub"))?,
            client_private_key: read(client_key.clone())?,
            client_public_key: read(client_key.with_extension("pub"))?,
            _dir: dir,
        })
    }

    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH/NAME.git` for a repository on this machine.
    pub fn url(&self, repo: &Repo) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.path.display()
        )
    }

    /// The private key (OpenSSH format) the server lets in.
    pub fn client_private_key(&self) -> &str {
        &self.client_private_key
    }

    /// The public half of [`client_private_key`](Self::client_private_key).
    pub fn client_public_key(&self) -> &str {
        self.client_public_key.trim()
    }

    /// A `known_hosts` line that vouches for this server: `[127.0.0.1]:PORT TYPE KEY`.
    pub fn known_hosts_line(&self) -> String {
        let mut fields = self.host_public_key.split_whitespace();
        let kind = fields.next().unwrap_or_default();
        let key = fields.next().unwrap_or_default();
        format!("[127.0.0.1]:{} {kind} {key}", self.port)
    }

    /// The port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id of `sshd`.
    pub fn pid(&self) -> u32 {
        self.sshd.pid()
    }
}

fn sshd_config(port: u16, host_key: &Path, authorized_keys: &Path, user: &str) -> String {
    format!(
        "Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PidFile none
# Tests run as root in scratch directories whose modes sshd would otherwise reject.
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {user}
UsePAM no
LogLevel ERROR
",
        host_key = host_key.display(),
        authorized_keys = authorized_keys.display(),
    )
}

fn keygen(path: &Path) -> Result<(), Error> {
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "plumb-test", "-f"])
        .arg(path)
        .output()
        .map_err(|source| Error::Spawn {
            program: "ssh-keygen (Debian package openssh-client)".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::Command {
            command: format!("ssh-keygen -t ed25519 -f {}", path.display()),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

fn current_user() -> Result<String, Error> {
    let output = Command::new("id")
        .arg("-un")
        .output()
        .map_err(|source| Error::Spawn {
            program: "id".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
