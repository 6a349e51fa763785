//! `plumb-testkit`: runs test infrastructure outside a test binary, for the test command,
//! the demo and benchmarks.
//!
//! ```text
//! plumb-testkit control-plane [--info FILE] [--exit-when-ready] [--kubelet]
//! plumb-testkit node --cluster FILE [--import ARCHIVE]... [--expose PORT]... [--info FILE]
//! plumb-testkit node --check
//! ```
//!
//! `control-plane` starts a control plane, writes its [`Cluster`] description to FILE (what
//! `PLUMB_TEST_CLUSTER` points at), prints where the kubeconfig is, and serves until
//! SIGINT or SIGTERM — or until the process that started it dies. With `--kubelet`, a
//! stand-in marks Pods Running and Ready ([`plumb_testkit::kubelet`]), for the demo.
//!
//! `node` starts the machine's one real node ([`plumb_testkit::Node`]) for the control plane
//! described in `--cluster`, imports the OCI image archives given, lets Pods reach the
//! loopback ports given at the node's address, then writes `{"host_ip", "dir"}` to
//! `--info` and serves until signalled, removing everything it made. `--check` says
//! whether this machine can run a node at all (exit 0) or why not (exit 1).
#![allow(
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "a command-line tool reports on its terminal"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use plumb_testkit::{Cluster, ControlPlane, Node, Release};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str =
    "usage: plumb-testkit control-plane [--info FILE] [--exit-when-ready] [--kubelet]
       plumb-testkit node --cluster FILE [--import ARCHIVE]... [--expose PORT]... [--info FILE]
       plumb-testkit node --check";

enum Command {
    ControlPlane(PlaneArgs),
    Node(NodeArgs),
    CheckNode,
}

struct PlaneArgs {
    info: Option<PathBuf>,
    exit_when_ready: bool,
    kubelet: bool,
}

struct NodeArgs {
    cluster: PathBuf,
    imports: Vec<PathBuf>,
    exposed: Vec<u16>,
    info: Option<PathBuf>,
}

fn parse_args() -> Result<Command, String> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    match command.as_deref() {
        Some("control-plane") => {
            let mut parsed = PlaneArgs {
                info: None,
                exit_when_ready: false,
                kubelet: false,
            };
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--info" => parsed.info = Some(value(&mut args, "--info")?.into()),
                    "--exit-when-ready" => parsed.exit_when_ready = true,
                    "--kubelet" => parsed.kubelet = true,
                    other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
                }
            }
            Ok(Command::ControlPlane(parsed))
        }
        Some("node") => {
            let (mut cluster, mut imports, mut exposed, mut info) = (None, vec![], vec![], None);
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--check" => return Ok(Command::CheckNode),
                    "--cluster" => cluster = Some(value(&mut args, "--cluster")?.into()),
                    "--import" => imports.push(value(&mut args, "--import")?.into()),
                    "--expose" => exposed.push(
                        value(&mut args, "--expose")?
                            .parse()
                            .map_err(|err| format!("--expose needs a port: {err}"))?,
                    ),
                    "--info" => info = Some(value(&mut args, "--info")?.into()),
                    other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
                }
            }
            let cluster = cluster.ok_or(format!("node needs --cluster FILE\n{USAGE}"))?;
            Ok(Command::Node(NodeArgs {
                cluster,
                imports,
                exposed,
                info,
            }))
        }
        Some("-h" | "--help") => Err(USAGE.into()),
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
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
    let result = match args {
        Command::ControlPlane(args) => run(args).await,
        Command::Node(args) => run_node(args).await,
        Command::CheckNode => match Node::unavailable() {
            None => {
                println!("this machine can run a node");
                return ExitCode::SUCCESS;
            }
            Some(why) => {
                println!("no node here: {why}");
                return ExitCode::FAILURE;
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("plumb-testkit: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `flag`.
fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or(format!("{flag} needs a value"))
}

async fn run(args: PlaneArgs) -> Result<(), plumb_testkit::Error> {
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

async fn run_node(args: NodeArgs) -> Result<(), plumb_testkit::Error> {
    let mut terminate = signal(SignalKind::terminate()).map_err(io_error("handle SIGTERM"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io_error("handle SIGINT"))?;
    let cluster = Cluster::load(&args.cluster)?;
    eprintln!("plumb-testkit: starting a node (containerd, runc, kubelet, kube-scheduler)");
    let started = tokio::select! {
        started = Node::start(&cluster) => started,
        _ = terminate.recv() => return Ok(()),
        _ = interrupt.recv() => return Ok(()),
    };
    let mut node = started?;
    for archive in &args.imports {
        node.import_image(archive)?;
    }
    for port in &args.exposed {
        node.expose_loopback_port(*port)?;
    }
    eprintln!(
        "plumb-testkit: node ready; Pods reach this machine at {}, its files are in {}",
        node.host_ip(),
        node.dir().display()
    );
    if let Some(info) = &args.info {
        let text = serde_json::json!({"host_ip": node.host_ip().to_string(), "dir": node.dir()});
        std::fs::write(info, text.to_string()).map_err(io_error("write the node's info"))?;
    }
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    eprintln!("plumb-testkit: stopping the node");
    drop(node);
    Ok(())
}

fn io_error(action: &str) -> impl FnOnce(std::io::Error) -> plumb_testkit::Error + '_ {
    move |source| plumb_testkit::Error::Io {
        action: action.to_owned(),
        source,
    }
}
