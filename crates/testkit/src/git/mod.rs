//! Real git servers on loopback: `git daemon` (git://) and `git http-backend` (smart HTTP,
//! optionally with basic auth), both serving the same directory of bare repositories, and
//! `sshd` ([`SshServer`]) serving them by path over SSH.
//!
//! ```text
//!  WorkTree ──push (file)──▶ bare repos in a scratch dir ◀── git daemon      git://127.0.0.1:P/x.git
//!                                                        ◀── http-backend   http://127.0.0.1:Q/x.git
//!                                                        ◀── sshd           ssh://root@127.0.0.1:R/…/x.git
//! ```

mod command;
mod http_backend;
mod ssh_server;
mod work_tree;

use std::process::Command;
use std::time::{Duration, Instant};

pub use http_backend::BasicAuth;
pub use ssh_server::SshServer;
pub use work_tree::{Author, Repo, WorkTree};

use crate::Error;
use crate::locations::{free_port, scratch_dir};
use crate::process::Supervised;
use command::run_git;
use http_backend::HttpBackend;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory of bare repositories served over git:// and smart HTTP.
///
/// Dropping it stops both servers and removes the repositories.
#[derive(Debug)]
pub struct GitServer {
    // Drop order: servers stop before their directory goes away.
    http: HttpBackend,
    daemon: Supervised,
    daemon_port: u16,
    auth: Option<BasicAuth>,
    root: tempfile::TempDir,
}

impl GitServer {
    /// Starts both servers with no authentication.
    pub fn start() -> Result<Self, Error> {
        Self::start_with(None)
    }

    /// Starts both servers; smart HTTP demands `username`/`password` (git:// has no auth).
    pub fn start_with_basic_auth(username: &str, password: &str) -> Result<Self, Error> {
        Self::start_with(Some(BasicAuth {
            username: username.to_owned(),
            password: password.to_owned(),
        }))
    }

    fn start_with(auth: Option<BasicAuth>) -> Result<Self, Error> {
        let root = scratch_dir("git")?;
        let repos = root.path().join("repos");
        std::fs::create_dir(&repos).map_err(Error::io(format!("create {}", repos.display())))?;
        let daemon_port = free_port()?;
        let mut daemon = Command::new("git");
        command::isolate(&mut daemon);
        daemon
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={daemon_port}"))
            .arg(format!("--base-path={}", repos.display()))
            .arg("--export-all")
            .arg("--enable=receive-pack")
            .arg("--informative-errors")
            .arg(&repos);
        let mut daemon = Supervised::spawn("git daemon", daemon, &root.path().join("daemon.log"))?;
        wait_for_port(daemon_port, &mut daemon)?;
        let http = HttpBackend::start(repos, auth.clone())?;
        Ok(GitServer {
            http,
            daemon,
            daemon_port,
            auth,
            root,
        })
    }

    /// Creates an empty bare repository `NAME.git` whose default branch is `main`.
    pub fn create_repo(&self, name: &str) -> Result<Repo, Error> {
        let path = self.root.path().join("repos").join(format!("{name}.git"));
        let path_text = path.to_string_lossy();
        run_git(
            self.root.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                &path_text,
            ],
        )?;
        Ok(Repo {
            name: name.to_owned(),
            git_url: self.git_url(name),
            http_url: self.http_url(name),
            path,
        })
    }

    /// `git://127.0.0.1:PORT/NAME.git`.
    pub fn git_url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.daemon_port)
    }

    /// `http://127.0.0.1:PORT/NAME.git`.
    pub fn http_url(&self, name: &str) -> String {
        format!("http://{}/{name}.git", self.http.address())
    }

    /// The credentials smart HTTP demands, if any.
    pub fn basic_auth(&self) -> Option<&BasicAuth> {
        self.auth.as_ref()
    }

    /// Process id of `git daemon`.
    pub fn daemon_pid(&self) -> u32 {
        self.daemon.pid()
    }
}

pub(crate) fn wait_for_port(port: u16, process: &mut Supervised) -> Result<(), Error> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut last_error = String::new();
    while Instant::now() < deadline {
        process.check_running()?;
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(_) => return Ok(()),
            Err(err) => last_error = err.to_string(),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(Error::NotReady {
        what: format!("server on port {port}"),
        timeout: STARTUP_TIMEOUT,
        last_error,
        log_tail: process.log_tail(),
    })
}
