//! The one error type of testkit: what failed while starting or using test infrastructure.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while starting or driving a control plane or git server.
///
/// Messages name the program, file or command and, where a person can act, say how.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A binary the control plane needs is not installed or not built yet.
    #[error("{program} not found at {}: run `scripts/provision.sh` (it installs and builds the test control plane)", path.display())]
    MissingBinary {
        /// The program, e.g. `kube-apiserver`.
        program: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `PLUMB_K8S_VERSION` names no release the test control plane can run.
    #[error(
        "PLUMB_K8S_VERSION={given:?} names no release the test control plane runs: use `current` (1.37.2) or `oldest` (1.20.2)"
    )]
    UnknownRelease {
        /// What was given.
        given: String,
    },
    /// A child process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program that failed to start.
        program: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A child process exited while it should be serving.
    #[error("{program} exited early ({status}); last lines of its log:\n{log_tail}")]
    ExitedEarly {
        /// The program that exited.
        program: String,
        /// Its exit status.
        status: String,
        /// The end of its log.
        log_tail: String,
    },
    /// A server did not become ready in time.
    #[error("{what} not ready after {timeout:?}: {last_error}\nlast lines of its log:\n{log_tail}")]
    NotReady {
        /// What was waited for, e.g. `kube-apiserver /readyz`.
        what: String,
        /// How long was waited.
        timeout: Duration,
        /// The last failure seen while polling.
        last_error: String,
        /// The end of the relevant log.
        log_tail: String,
    },
    /// A git command failed.
    #[error("`git {args}` failed ({status}): {stderr}")]
    Git {
        /// The arguments, space-separated.
        args: String,
        /// Its exit status.
        status: String,
        /// What git printed on stderr.
        stderr: String,
    },
    /// A helper command (e.g. `openssl`) failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and stderr.
        detail: String,
    },
    /// A file-system or socket operation failed.
    #[error("cannot {action}: {source}")]
    Io {
        /// What was being done, e.g. `create directory /tmp/x`.
        action: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The shared cluster description could not be read or written.
    #[error("cluster description {}: {detail}", path.display())]
    ClusterInfo {
        /// The JSON file (from `PLUMB_TEST_CLUSTER` or written by the control plane).
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A client configuration could not be built from the kubeconfig.
    #[error("{action}: {source}")]
    Kubeconfig {
        /// What was being done.
        action: String,
        /// The configuration error.
        source: kube::config::KubeconfigError,
    },
    /// A Kubernetes request made by testkit itself failed.
    #[error("{action}: {source}")]
    Kube {
        /// What was being done.
        action: String,
        /// The client's error.
        source: kube::Error,
    },
}

impl Error {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let action = action.into();
        move |source| Error::Io { action, source }
    }

    pub(crate) fn kube(action: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
        let action = action.into();
        move |source| Error::Kube { action, source }
    }
}
