//! age keys made by the real `age-keygen` (Debian package `age`), for tests of SOPS
//! decryption: what users make their keys with is what tests use.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;

/// An age key pair: the key file (identity) and its public recipient.
#[derive(Clone, Debug)]
pub struct AgeKey {
    /// The key file, as `age-keygen -o` writes it (the form Flux expects in `*.agekey`).
    pub file: PathBuf,
    /// The public key, `age1…`.
    pub recipient: String,
}

impl AgeKey {
    /// Makes a key file `NAME.agekey` in `dir` with `age-keygen`.
    pub fn generate(dir: &Path, name: &str) -> Result<AgeKey, Error> {
        let file = dir.join(format!("{name}.agekey"));
        let output = Command::new("age-keygen")
            .arg("-o")
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn {
                program: "age-keygen (Debian package age; scripts/provision.sh installs it)".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(Error::Command {
                command: "age-keygen".into(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        let text = std::fs::read_to_string(&file)
            .map_err(Error::io(format!("read {}", file.display())))?;
        let recipient = text
            .lines()
            .find_map(|line| line.strip_prefix("# public key: "))
            .ok_or_else(|| Error::Command {
                command: "age-keygen".into(),
                detail: "wrote no public key comment".into(),
            })?
            .to_owned();
        Ok(AgeKey { file, recipient })
    }

    /// The key file's text (identities plus comments).
    pub fn identity_text(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap_or_default()
    }
}
