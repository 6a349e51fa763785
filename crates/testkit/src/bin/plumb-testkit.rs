//! `plumb-testkit`: runs test infrastructure outside a test binary, for the test command,
//! the demo and benchmarks.
//!
//! ```text
//! plumb-testkit control-plane [--info FILE] [--exit-when-ready] [--kubelet]
//! ```
//!
//! Starts a control plane, writes its [`Cluster`] description to FILE (what
//! `PLUMB_TEST_CLUSTER` points at), prints where the kubeconfig is, and serves until
//! SIGINT or SIGTERM — or until the process that started it dies. With `--kubelet`, a
//! stand-in marks Pods Running and Ready ([`plumb_testkit::kubelet`]), for the demo.
#![allow(
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "a command-line tool reports on its terminal"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use plumb_testkit::{Cluster, ControlPlane, Release};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str =
    "usage: plumb-testkit control-plane [--info FILE] [--exit-when-ready] [--kubelet]";

struct Args {
    info: Option<PathBuf>,
    exit_when_ready: bool,
    kubelet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("control-plane") => {}
        Some("-h" | "--help") => return Err(USAGE.into()),
        other => return Err(format!("unknown command {other:?}\n{USAGE}")),
    }
    let mut parsed = Args {
        info: None,
        exit_when_ready: false,
        kubelet: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--info" => parsed.info = Some(args.next().ok_or("--info needs a file")?.into()),
            "--exit-when-ready" => parsed.exit_when_ready = true,
            "--kubelet" => parsed.kubelet = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // When whoever started us dies (a killed test script), stop in order, via SIGTERM.
    if let Err(err) =
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
    {
        eprintln!("plumb-testkit: cannot arm the parent-death signal: {err}");
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("plumb-testkit: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), plumb_testkit::Error> {
    let mut terminate = signal(SignalKind::terminate()).map_err(io_error("handle SIGTERM"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io_error("handle SIGINT"))?;
    let release = Release::from_env()?;
    eprintln!(
        "plumb-testkit: starting etcd, kube-apiserver and kube-controller-manager v{} ({release} release)",
        release.version()
    );
    let control_plane = tokio::select! {
        started = ControlPlane::start_release(release) => started?,
        _ = terminate.recv() => return Ok(()),
        _ = interrupt.recv() => return Ok(()),
    };
    let cluster: &Cluster = control_plane.cluster();
    eprintln!(
        "plumb-testkit: control plane ready in {:.1}s at {}\n  export KUBECONFIG={}",
        control_plane.started_in().as_secs_f64(),
        cluster.server,
        cluster.kubeconfig.display(),
    );
    // Written last: whoever waits for this file may rely on everything above.
    if let Some(info) = &args.info {
        cluster.save(info)?;
    }
    if args.exit_when_ready {
        println!(
            "ready_seconds {:.3}",
            control_plane.started_in().as_secs_f64()
        );
        return Ok(());
    }
    let kubelet = async {
        if args.kubelet {
            eprintln!("plumb-testkit: a stand-in kubelet marks Pods Running and Ready");
            plumb_testkit::kubelet::run(cluster.client().await?).await
        } else {
            std::future::pending().await
        }
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
        result = kubelet => result?,
    }
    eprintln!("plumb-testkit: stopping the control plane");
    drop(control_plane);
    Ok(())
}

fn io_error(action: &str) -> impl FnOnce(std::io::Error) -> plumb_testkit::Error + '_ {
    move |source| plumb_testkit::Error::Io {
        action: action.to_owned(),
        source,
    }
}
