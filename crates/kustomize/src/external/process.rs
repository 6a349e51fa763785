//! Running the external kustomize: isolated, bounded and killable, as source runs git.
//!
//! The process sees no environment of the controller but `PATH` (and proxy settings, for
//! remote bases), a private empty `HOME` removed afterwards, runs in its own process
//! group — killed whole (kustomize, git, helpers) at the deadline or when its output
//! passes the bound — and has its output read only up to that bound.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
];

/// Most bytes of error output kept.
const MAX_STDERR: u64 = 64 * 1024;

/// How a run ended, when it did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// It could not be started (or its private `HOME` made).
    Spawn(std::io::Error),
    /// Still running at the deadline; killed.
    Timeout(Duration),
    /// Printed more than the bound; killed.
    TooMuchOutput(u64),
    /// Exited unsuccessfully; what it printed on stderr.
    Exit(String),
}

/// Runs `program ARGS…` to completion within `timeout`, keeping at most `max_output`
/// bytes of its standard output; returns that output.
pub fn run(
    program: &str,
    args: &[&std::ffi::OsStr],
    timeout: Duration,
    max_output: u64,
) -> Result<Vec<u8>, Failure> {
    let home = PrivateHome::new().map_err(Failure::Spawn)?;
    let mut command = Command::new(program);
    command.args(args).env_clear();
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
        .env("HOME", &home.0)
        .env("XDG_CONFIG_HOME", &home.0)
        .env("XDG_CACHE_HOME", &home.0)
        .env("KUBECONFIG", "/dev/null")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        // Remote bases over the network only: never file:// (another tenant's repository
        // on this machine) nor ext:: (a command).
        .env("GIT_ALLOW_PROTOCOL", "http:https:ssh:git")
        .env("LC_ALL", "C");
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(Failure::Spawn)?;
    let group = ProcessGroup {
        pid: child.id(),
        armed: AtomicBool::new(true),
    };
    let result = supervise(&mut child, &group, timeout, max_output);
    if result.is_err() {
        group.kill();
    }
    // Reaped (after a kill too): nothing of it outlives the call.
    let _ = child.wait();
    group.armed.store(false, Ordering::SeqCst);
    result
}

/// What the reader threads report.
enum Report {
    Out(Result<Vec<u8>, u64>),
    Err(Vec<u8>),
}

fn supervise(
    child: &mut Child,
    group: &ProcessGroup,
    timeout: Duration,
    max_output: u64,
) -> Result<Vec<u8>, Failure> {
    let deadline = Instant::now() + timeout;
    let (sender, receiver) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let out_sender = sender.clone();
    std::thread::spawn(move || {
        let _ = out_sender.send(Report::Out(read_bounded(stdout, max_output)));
    });
    std::thread::spawn(move || {
        let kept = read_bounded(stderr, MAX_STDERR).unwrap_or_else(|_| Vec::new());
        let _ = sender.send(Report::Err(kept));
    });
    let mut out: Option<Vec<u8>> = None;
    let mut err: Option<Vec<u8>> = None;
    let mut status: Option<std::process::ExitStatus> = None;
    loop {
        if let (Some(_), Some(err), Some(status)) = (&out, &err, status) {
            if status.success() {
                return Ok(out.unwrap_or_default());
            }
            return Err(Failure::Exit(format!(
                "{} ({status})",
                String::from_utf8_lossy(err).trim()
            )));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Failure::Timeout(timeout));
        }
        match receiver.recv_timeout((deadline - now).min(Duration::from_millis(20))) {
            Ok(Report::Out(Ok(bytes))) => out = Some(bytes),
            Ok(Report::Out(Err(read))) => {
                group.kill();
                return Err(Failure::TooMuchOutput(read));
            }
            Ok(Report::Err(bytes)) => err = Some(bytes),
            Err(_) => {}
        }
        if status.is_none() {
            status = child.try_wait().map_err(Failure::Spawn)?;
        }
    }
}

/// Reads a pipe to its end, keeping at most `max` bytes; `Err(bytes read)` past that.
fn read_bounded(pipe: impl Read, max: u64) -> Result<Vec<u8>, u64> {
    let mut kept = Vec::new();
    let mut limited = pipe.take(max + 1);
    match limited.read_to_end(&mut kept) {
        Ok(_) | Err(_) if kept.len() as u64 > max => Err(kept.len() as u64),
        _ => Ok(kept),
    }
}

/// A child's process group, killed whole unless it was reaped (its id may then be reused).
struct ProcessGroup {
    pid: u32,
    armed: AtomicBool,
}

impl ProcessGroup {
    fn kill(&self) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            // An error means the group is already gone, which is the goal.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// An empty directory only this process can enter, removed when dropped.
struct PrivateHome(PathBuf);

impl PrivateHome {
    fn new() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "plumb-kustomize-home-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        // `create`, not `create_all`: a directory already there (planted) is an error.
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(PrivateHome(path))
    }
}

impl Drop for PrivateHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_kept_up_to_the_bound() {
        assert_eq!(read_bounded(&b"abc"[..], 3), Ok(b"abc".to_vec()));
        assert_eq!(read_bounded(&b"abcd"[..], 3), Err(4));
    }
}
