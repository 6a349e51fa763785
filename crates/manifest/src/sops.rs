//! Manifest files that SOPS encrypted: decrypted in memory before they are parsed, the
//! same way for plain directories and for every file a kustomization reads.

use plumb_sops::{Format, Identities};

use crate::error::{Error, Result};
use crate::parse::{FileContents, Syntax, parse_with};

/// Parses one manifest file, decrypting it first when SOPS encrypted it. The plaintext
/// lives only in memory (wiped when dropped); objects from it are marked decrypted, so
/// every later diff, log line and page masks their values. An encrypted file without
/// `decryption` keys fails, naming the file.
pub fn parse_decrypted(
    path: &str,
    syntax: Syntax,
    bytes: &[u8],
    decryption: Option<&Identities>,
    yaml_options: serde_saphyr::Options,
) -> Result<FileContents> {
    let format = match syntax {
        Syntax::Yaml => Format::Yaml,
        Syntax::Json => Format::Json,
    };
    if !plumb_sops::is_encrypted(bytes, format) {
        return parse_with(path, syntax, bytes, false, yaml_options);
    }
    let identities = decryption.ok_or_else(|| Error::DecryptionKeysMissing {
        path: path.to_owned(),
    })?;
    let plaintext =
        plumb_sops::decrypt(bytes, format, identities).map_err(|source| Error::Sops {
            path: path.to_owned(),
            source,
        })?;
    parse_with(path, syntax, plaintext.as_bytes(), true, yaml_options)
}
