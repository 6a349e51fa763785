//! `plumb`: the one binary — in-cluster controller, CLI, dashboard and webhook receiver.
//!
//! Thin by design: it parses the command line, calls the crates of the data flow
//! (`source` → `render` → `engine` → `controller` → `server`) and prints their results.
//! Commands arrive with the capabilities behind them; today only `--version` and `--help`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a CLI reports on its terminal"
)]

use std::process::ExitCode;

const HELP: &str = "\
plumb — GitOps for Kubernetes: Git is the source of truth, plumb keeps the cluster matching it.

usage: plumb <command>

No commands are available yet: the engine, controller and server land with their issues.
Options:
  -h, --help       this text
  -V, --version    the version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            println!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("plumb {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("plumb: unknown command {other:?}\n\n{HELP}");
            ExitCode::from(2)
        }
    }
}
