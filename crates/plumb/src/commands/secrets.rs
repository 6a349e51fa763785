//! `plumb secrets encrypt|decrypt`: SOPS files without installing sops — the same format,
//! readable by sops and by plumb's own render.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use plumb_sops::{self as sops, EncryptOptions, Format, Identities};

use crate::cli::{DecryptArgs, EncryptArgs, Keys, SecretsCommand};

pub(crate) fn run(command: &SecretsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SecretsCommand::Encrypt(args) => encrypt(args),
        SecretsCommand::Decrypt(args) => decrypt(args),
    }
}

fn encrypt(args: &EncryptArgs) -> anyhow::Result<ExitCode> {
    let format = Format::from_path(&args.file);
    let plaintext = read(&args.file)?;
    if sops::is_encrypted(&plaintext, format) {
        bail!("{} is already SOPS-encrypted", args.file.display());
    }
    let options = EncryptOptions {
        age_recipients: args.age.clone(),
        encrypted_regex: args.encrypted_regex.clone(),
        unencrypted_suffix: args.unencrypted_suffix.clone(),
        ..EncryptOptions::default()
    };
    let encrypted = sops::encrypt(&plaintext, format, &options)
        .with_context(|| format!("cannot encrypt {}", args.file.display()))?;
    write(&args.file, &encrypted, args.in_place)?;
    Ok(ExitCode::SUCCESS)
}

fn decrypt(args: &DecryptArgs) -> anyhow::Result<ExitCode> {
    let format = Format::from_path(&args.file);
    let encrypted = read(&args.file)?;
    let identities = identities(&args.keys)?.with_context(
        || "no age key: pass --age-key-file, or set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY",
    )?;
    let plaintext = sops::decrypt(&encrypted, format, &identities)
        .with_context(|| format!("cannot decrypt {}", args.file.display()))?;
    write(&args.file, plaintext.as_bytes(), args.in_place)?;
    Ok(ExitCode::SUCCESS)
}

/// The age identities from --age-key-file, $SOPS_AGE_KEY_FILE and $SOPS_AGE_KEY; `None`
/// when there are none at all.
pub(crate) fn identities(keys: &Keys) -> anyhow::Result<Option<Arc<Identities>>> {
    let mut files = keys.age_key_file.clone();
    if let Some(file) = std::env::var_os("SOPS_AGE_KEY_FILE") {
        files.push(file.into());
    }
    let mut all = Identities::default();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read age key file {}", file.display()))?;
        all.extend(
            Identities::parse(&text).with_context(|| format!("age key file {}", file.display()))?,
        );
    }
    if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
        all.extend(Identities::parse(&text).context("SOPS_AGE_KEY")?);
    }
    Ok((!all.is_empty()).then(|| Arc::new(all)))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, bytes: &[u8], in_place: bool) -> anyhow::Result<()> {
    if in_place {
        // Through a temporary file in the same directory: never half a file.
        let partial = path.with_extension("plumb-partial");
        std::fs::write(&partial, bytes)
            .and_then(|()| std::fs::rename(&partial, path))
            .with_context(|| format!("cannot write {}", path.display()))
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout")
    }
}
