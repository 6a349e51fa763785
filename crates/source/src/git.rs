//! Running the git CLI: isolated, bounded and killable.
//!
//! Every git process source starts
//! - sees no configuration of the machine or user (`GIT_CONFIG_GLOBAL=/dev/null`,
//!   `GIT_CONFIG_NOSYSTEM=1`, a private `HOME`), no credential helper, no prompt, no
//!   agent, and may use only the file, git, http(s) and ssh transports;
//! - runs in its own process group, which is killed whole (git, ssh, remote helpers) when
//!   the operation times out, is cancelled, or exceeds a disk budget;
//! - has its output read up to a bound, so a hostile repository cannot exhaust memory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;

/// Configuration every git process gets, through `GIT_CONFIG_COUNT` (never the command
/// line, never a file another process could change).
const BASE_CONFIG: &[(&str, &str)] = &[
    // An empty value resets the list: no credential helper ever stores or supplies secrets.
    ("credential.helper", ""),
    ("core.askPass", ""),
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("protocol.version", "2"),
    // The cache is bounded by source itself; git must not repack or detach in the background.
    ("gc.auto", "0"),
    ("gc.autoDetach", "false"),
    ("maintenance.auto", "false"),
    // Keep received packs as they came: the cache's size is then what crossed the wire.
    ("fetch.unpackLimit", "1"),
    ("transfer.fsckObjects", "false"),
    ("advice.detachedHead", "false"),
    ("safe.directory", "*"),
];

/// Environment variables passed through from the controller's own environment.
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
];

/// How a git process ended, when it did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// git could not be started.
    Spawn(std::io::Error),
    /// Still running at the deadline; killed.
    Timeout(Duration),
    /// The watched directory grew past its budget; killed.
    TooLarge { bytes: u64 },
    /// More output than the bound; killed.
    TooMuchOutput,
    /// Exited unsuccessfully; what it printed on stderr.
    Exit(String),
}

/// One git invocation being prepared.
pub(crate) struct Git {
    command: Command,
    timeout: Duration,
    max_output: usize,
    watch: Option<(PathBuf, u64)>,
    config: Vec<(String, String)>,
}

/// git, by the path the `PATH` passed to it finds it at (or plain `git` when none does, for
/// the spawn to report).
///
/// A program named by path is started with `posix_spawn` (a vfork); a bare name under an
/// environment that sets its own `PATH` — as [`Git::new`]'s does — makes the standard
/// library fork instead, which copies the page tables of the whole controller (hundreds
/// of MiB at thousands of objects) for every `git ls-remote`. Profiled: a fifth of a
/// no-op reconcile's CPU at 10,000 objects.
fn git_program() -> &'static Path {
    static GIT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    GIT.get_or_init(|| {
        std::env::var_os("PATH")
            .and_then(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join("git"))
                    .find(|candidate| candidate.is_file())
            })
            .unwrap_or_else(|| PathBuf::from("git"))
    })
}

impl Git {
    /// `git ARGS…` with the isolated environment; `home` is a private scratch directory.
    pub(crate) fn new(home: &Path, timeout: Duration) -> Self {
        let mut command = Command::new(git_program());
        command.env_clear();
        for name in PASSED_THROUGH {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ALLOW_PROTOCOL", "file:git:http:https:ssh")
            .env("GIT_PROTOCOL_FROM_USER", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("LC_ALL", "C")
            .env("LANG", "C");
        Git {
            command,
            timeout,
            max_output: 16 << 20,
            watch: None,
            config: BASE_CONFIG
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// `git -C DIR ARGS…` in a person's (or CI job's) own checkout: unlike [`Git::new`] it
    /// keeps their environment and configuration — identity, remotes, hooks, signing —
    /// because the commit is theirs; it still never prompts.
    pub(crate) fn in_checkout(dir: &Path, timeout: Duration) -> Self {
        let mut command = Command::new(git_program());
        command
            .arg("-C")
            .arg(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("LC_ALL", "C")
            .env("LANG", "C");
        Git {
            command,
            timeout,
            max_output: 16 << 20,
            watch: None,
            config: Vec::new(),
        }
    }

    pub(crate) fn git_dir(mut self, dir: &Path) -> Self {
        self.command.env("GIT_DIR", dir);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub(crate) fn arg_path(mut self, path: &Path) -> Self {
        self.command.arg(path);
        self
    }

    pub(crate) fn arg_unshallow(mut self) -> Self {
        self.command.arg("--unshallow");
        self
    }

    pub(crate) fn envs(mut self, env: &[(String, OsString)]) -> Self {
        for (name, value) in env {
            self.command.env(name, value);
        }
        self
    }

    pub(crate) fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    pub(crate) fn config(mut self, key: &str, value: &str) -> Self {
        self.config.push((key.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// Kills git when `dir` grows past `budget` bytes while it runs.
    pub(crate) fn watch_size(mut self, dir: &Path, budget: u64) -> Self {
        self.watch = Some((dir.to_owned(), budget));
        self
    }

    /// Runs git to completion and returns its stdout.
    pub(crate) async fn output(mut self) -> Result<Vec<u8>, Failure> {
        if !self.config.is_empty() {
            self.command
                .env("GIT_CONFIG_COUNT", self.config.len().to_string());
        }
        for (index, (key, value)) in self.config.iter().enumerate() {
            self.command
                .env(format!("GIT_CONFIG_KEY_{index}"), key)
                .env(format!("GIT_CONFIG_VALUE_{index}"), value);
        }
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = self.command.spawn().map_err(Failure::Spawn)?;
        let group = ProcessGroup {
            pid: child.id(),
            armed: std::sync::atomic::AtomicBool::new(true),
        };
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let max_output = self.max_output;
        let work = async {
            let (out, err, status) = tokio::join!(
                read_bounded(&mut stdout, max_output, &group),
                read_bounded(&mut stderr, 64 << 10, &group),
                child.wait()
            );
            (out, err, status)
        };
        let watched = watch(self.watch.clone());
        tokio::select! {
            (out, err, status) = work => {
                // Reaped: its pid (and group id) may be reused from now on.
                group.armed.store(false, std::sync::atomic::Ordering::SeqCst);
                let (out, out_overflow) = out;
                let (err, _) = err;
                if out_overflow {
                    return Err(Failure::TooMuchOutput);
                }
                match status {
                    Ok(status) if status.success() => Ok(out),
                    Ok(status) => Err(Failure::Exit(format!(
                        "{} ({status})",
                        String::from_utf8_lossy(&err).trim()
                    ))),
                    Err(err) => Err(Failure::Spawn(err)),
                }
            }
            () = tokio::time::sleep(self.timeout) => {
                group.kill();
                Err(Failure::Timeout(self.timeout))
            }
            bytes = watched => {
                group.kill();
                Err(Failure::TooLarge { bytes })
            }
        }
    }
}

/// Reads a pipe to its end, keeping at most `max` bytes; past that, kills the group.
async fn read_bounded(
    pipe: &mut (impl AsyncRead + Unpin),
    max: usize,
    group: &ProcessGroup,
) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return (kept, false),
            Ok(n) if kept.len() + n > max => {
                group.kill();
                return (kept, true);
            }
            Ok(n) => kept.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Resolves with the size once `dir` grows past its budget; never, without a budget.
async fn watch(watch: Option<(PathBuf, u64)>) -> u64 {
    let Some((dir, budget)) = watch else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let dir = dir.clone();
        let bytes = tokio::task::spawn_blocking(move || dir_size(&dir))
            .await
            .unwrap_or(0);
        if bytes > budget {
            return bytes;
        }
    }
}

/// Total size of the regular files under `dir` (symlinks not followed).
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// A child's process group, killed whole when the operation ends early or is dropped
/// before the child was reaped.
struct ProcessGroup {
    pid: Option<u32>,
    armed: std::sync::atomic::AtomicBool,
}

impl ProcessGroup {
    fn kill(&self) {
        if !self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let pid = self
            .pid
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            // An error means the group is already gone, which is the goal.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // Matters when the future was cancelled mid-operation (e.g. the caller gave up).
        self.kill();
    }
}
