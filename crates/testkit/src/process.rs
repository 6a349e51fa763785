//! Child processes that cannot outlive the test run that started them.
//!
//! A test that panics, a test binary that is killed, a developer pressing Ctrl-C: in none
//! of these cases may an etcd, kube-apiserver or git daemon be left behind. Two mechanisms
//! together guarantee it:
//!
//! - each child runs in its own process group, and dropping its [`Supervised`] handle sends
//!   SIGTERM to the whole group (then SIGKILL after a grace period) — the orderly path;
//! - each child is spawned with `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills it when
//!   the process that started it dies, even by SIGKILL, when no destructor runs.
//!
//! Linux delivers the parent-death signal when the *thread* that forked the child exits,
//! not the process. Test harnesses run each test on a short-lived thread, so every child is
//! forked by one dedicated spawner thread that lives as long as the process.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::Error;

/// How long a child gets to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(5);

/// A running child process, its process group and its log file.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Supervised {
    /// Starts `command` with stdout and stderr appended to `log`.
    ///
    /// `name` is how errors and logs refer to the process (e.g. `kube-apiserver`).
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self, Error> {
        let file = File::create(log).map_err(|source| Error::Io {
            action: format!("create log file {}", log.display()),
            source,
        })?;
        let err = file.try_clone().map_err(|source| Error::Io {
            action: format!("open log file {}", log.display()),
            source,
        })?;
        command.stdin(Stdio::null()).stdout(file).stderr(err);
        let child = spawn_from_spawner_thread(command).map_err(|source| Error::Spawn {
            program: name.to_owned(),
            source,
        })?;
        Ok(Supervised {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has already exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Fails with the tail of the log when the process has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        match self.exited() {
            None => Ok(()),
            Some(status) => Err(Error::ExitedEarly {
                program: self.name.clone(),
                status: status.to_string(),
                log_tail: self.log_tail(),
            }),
        }
    }

    /// The last lines of the process's log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log, 15)
    }

    /// Sends `signal` to the process group (e.g. SIGSTOP and SIGCONT to pause it).
    pub fn signal(&self, signal: Signal) {
        signal_group(&self.child, signal);
    }

    /// Stops the process group: SIGTERM, then SIGKILL after a grace period. Idempotent.
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            // The leader is gone; members it left behind are still signalled below.
            signal_group(&self.child, Signal::KILL);
            return;
        }
        signal_group(&self.child, Signal::TERM);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                signal_group(&self.child, Signal::KILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_group(&self.child, Signal::KILL);
        let _ = self.child.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

fn signal_group(child: &Child, signal: Signal) {
    // The child is its group's leader (process_group(0)), so its pid is the group id.
    // Errors mean the group is already empty, which is the goal.
    let _ = rustix::process::kill_process_group(Pid::from_child(child), signal);
}

/// Whether a process exists and is not a zombie (exited, not yet reaped by its parent).
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) STATE ...`; comm may hold spaces and parentheses, so split at the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, None | Some('Z' | 'X'))
}

/// The last `lines` lines of a text file, or a note that it cannot be read.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Hands `command` to the spawner thread and waits for the started child.
fn spawn_from_spawner_thread(command: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testkit-spawner".into())
            .spawn(move || {
                for (command, reply) in incoming {
                    let _ = reply.send(spawn_tied_to_this_thread(command));
                }
            })
            .expect("cannot start the testkit spawner thread");
        requests
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the testkit spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| std::io::Error::other("the testkit spawner thread is gone"))?
}

/// Spawns `command` in a new process group, to be SIGKILLed when this thread dies.
fn spawn_tied_to_this_thread(mut command: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    command.process_group(0);
    #[allow(
        unsafe_code,
        reason = "pre_exec is the only way to set the parent-death signal"
    )]
    // SAFETY: the closure runs between fork and exec and only makes two async-signal-safe
    // system calls (prctl, getppid) and allocates nothing (errors are raw errnos).
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // If the parent died between fork and prctl, the signal was never armed.
            if rustix::process::getppid() != Some(parent) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!(
            "sleep 300 & echo $! > {}; wait",
            pid_file.display()
        ));
        let mut shell = Supervised::spawn("sh", command, &dir.path().join("sh.log")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let grandchild: u32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
            {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "the shell never started its child"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let shell_pid = shell.pid();
        assert!(is_alive(grandchild));

        shell.stop();

        assert!(!is_alive(shell_pid));
        let deadline = Instant::now() + Duration::from_secs(10);
        while is_alive(grandchild) {
            assert!(
                Instant::now() < deadline,
                "grandchild {grandchild} survived"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_process_that_exits_early_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.arg("-c").arg("echo 'bad flag --x' >&2; exit 3");
        let mut failing = Supervised::spawn("failing", command, &dir.path().join("f.log")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while failing.exited().is_none() {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        }
        let message = failing.check_running().unwrap_err().to_string();
        assert!(message.contains("failing exited early"), "{message}");
        assert!(message.contains("bad flag --x"), "{message}");
    }
}
