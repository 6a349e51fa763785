//! Everything the binary prints goes through here: YAML documents on stdout, warnings on
//! stderr.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this module is the terminal"
)]

use std::io::Write as _;

use anyhow::Context as _;

/// Prints values as a multi-document YAML stream.
pub(crate) fn yaml_documents(
    documents: impl Iterator<Item = serde_json::Value>,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for document in documents {
        let text = serde_saphyr::to_string(&document).context("cannot print an object as YAML")?;
        writeln!(stdout, "---\n{}", text.trim_end()).context("cannot write to stdout")?;
    }
    Ok(())
}

/// Prints a warning on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("warning: {message}");
}
