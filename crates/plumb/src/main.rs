//! `plumb`: the one binary — in-cluster controller, CLI, dashboard and webhook receiver.
//!
//! Thin by design: it parses the command line ([`cli`]), calls the crates of the data flow
//! (`source` → `render` → `engine` → `controller` → `server`) and prints their results
//! ([`output`]). Exit codes are decided here only: 0 success, 1 differences found
//! (`plumb diff`), 2 error — bad usage included.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            #[allow(clippy::print_stderr, reason = "the binary reports its own failure")]
            {
                eprintln!("plumb: {err:#}");
            }
            ExitCode::from(2)
        }
    }
}
