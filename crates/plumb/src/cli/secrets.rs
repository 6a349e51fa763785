//! `plumb secrets encrypt|decrypt`: SOPS files with age keys.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::source::Keys;

#[derive(Debug, Subcommand)]
pub(crate) enum SecretsCommand {
    /// Encrypt a file for age recipients; prints it, or rewrites it with --in-place.
    Encrypt(EncryptArgs),
    /// Decrypt a SOPS file; prints it, or rewrites it with --in-place.
    Decrypt(DecryptArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// The file to encrypt. Its format comes from its name: .yaml/.yml, .json, .env, else binary.
    pub(crate) file: PathBuf,
    /// An age recipient (public key, `age1…`); repeatable.
    #[arg(long = "age", required = true)]
    pub(crate) age: Vec<String>,
    /// Encrypt only values whose key matches (e.g. `^(data|stringData)$` for Secrets).
    #[arg(long)]
    pub(crate) encrypted_regex: Option<String>,
    /// Leave values whose key ends with this suffix in clear.
    #[arg(long)]
    pub(crate) unencrypted_suffix: Option<String>,
    /// Replace the file instead of printing.
    #[arg(long)]
    pub(crate) in_place: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The file to decrypt.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) keys: Keys,
    /// Replace the file instead of printing.
    #[arg(long)]
    pub(crate) in_place: bool,
}
