//! `plumb`: the one binary — in-cluster controller, CLI, dashboard and webhook receiver.
//!
//! Thin by design: it parses the command line ([`cli`]), calls the crates of the data flow
//! (`source` → `render` → `engine` → `controller` → `server`) and prints their results.
//! Exit codes are decided here only: 0 success, 1 failure, 2 bad usage.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr, reason = "the binary reports its own failure")]
            {
                eprintln!("plumb: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
