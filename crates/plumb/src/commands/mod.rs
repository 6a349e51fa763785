//! One module per command; each calls the library crates and hands values to `output`.

mod render;

use crate::cli::{Cli, Command};

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Render(args) => render::run(&args),
    }
}
