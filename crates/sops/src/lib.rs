//! SOPS decryption and encryption with age keys, compatible with `sops` 3.11.
//!
//! A sops file keeps its structure and key names in clear and encrypts each value on its
//! own (AES-256-GCM under a random 32-byte data key, the key path as additional data).
//! The data key is encrypted for each age recipient and stored, with a MAC over all
//! plaintext values, in the file's `sops` metadata.
//!
//! ```text
//!  bytes ──format──▶ Tree + metadata ──identity──▶ data key ──walk──▶ plaintext Tree ──format──▶ bytes
//!                                                                  └─▶ MAC ≟ sops.mac
//! ```
//!
//! Supported: YAML (several documents too), JSON, dotenv and binary files; every
//! encryption rule a file may carry (`unencrypted_suffix`, `encrypted_suffix`,
//! `unencrypted_regex`, `encrypted_regex`, and the comment rules, see `rules.rs`);
//! `mac_only_encrypted`. Not supported, with a clear error: PGP/KMS/Vault-only files and
//! Shamir key groups. YAML comments are not kept: decrypted YAML has none, and plumb's
//! encryption drops them (sops would encrypt them); dotenv comments are kept.

mod error;
mod format;
mod identity;
mod mac;
mod metadata;
mod plaintext;
mod rules;
mod timestamp;
mod tree;
mod value;
mod walk;

use std::path::Path;

pub use error::SopsError;
pub use identity::Identities;
pub use plaintext::Plaintext;

use metadata::{KeyGroup, Metadata, SOPS_VERSION};
use rules::{Rule, RuleSettings};
use value::EncValue;

/// The format of a sops file, which decides where its metadata lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.yaml` / `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// `.env`.
    Dotenv,
    /// Anything else: the whole file is one value.
    Binary,
}

impl Format {
    /// The format sops picks from a file name, by case-sensitive suffix: `.yaml`/`.yml` →
    /// YAML, `.json` → JSON, `.env` (a file named `.env` too) → dotenv, anything else →
    /// binary. (sops also reads `.ini` files, which plumb does not support: they come out
    /// as binary.)
    pub fn from_path(path: &Path) -> Format {
        let path = path.to_string_lossy();
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else {
            Format::Binary
        }
    }
}

/// How to encrypt. At most one of the four rule fields may be set; with none, values under
/// keys ending in `_unencrypted` stay in clear (the sops default).
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// age X25519 recipients (`age1…`) that can decrypt the file. At least one.
    pub age_recipients: Vec<String>,
    /// Encrypt only values under a key matching this (Flux: `^(data|stringData)$`).
    pub encrypted_regex: Option<String>,
    /// Leave values under a key matching this in clear.
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values under a key ending with this.
    pub encrypted_suffix: Option<String>,
    /// Leave values under a key ending with this in clear (default `_unencrypted`).
    pub unencrypted_suffix: Option<String>,
    /// Compute the MAC over encrypted values only, so that clear values may be edited
    /// without sops.
    pub mac_only_encrypted: bool,
}

/// Whether `content` is a sops-encrypted file of `format`: YAML/JSON with a top-level
/// `sops` mapping holding `mac` or `version`; dotenv with a `sops_version=` or `sops_mac=`
/// line; binary: JSON with `data` and such a `sops` mapping.
pub fn is_encrypted(content: &[u8], format: Format) -> bool {
    format::is_encrypted(content, format)
}

/// Decrypts a sops file with age identities and checks its MAC.
pub fn decrypt(
    content: &[u8],
    format: Format,
    identities: &Identities,
) -> Result<Plaintext, SopsError> {
    let (mut tree, metadata) = format::load_encrypted(content, format)?;
    let metadata = Metadata::from_value(&metadata)?;
    let rule = metadata
        .rules
        .rule(|detail| SopsError::malformed(format!("in its `sops` metadata, {detail}")))?;
    let key = identity::open_data_key(&metadata.key_groups, metadata.shamir_threshold, identities)?;
    let computed = walk::decrypt_tree(&mut tree, &key, &rule, metadata.mac_only_encrypted)?;

    let aad = timestamp::mac_aad(&metadata.lastmodified)
        .ok_or_else(|| SopsError::malformed("its `sops.lastmodified` is not an RFC 3339 time"))?;
    if metadata.mac.is_empty() {
        return Err(SopsError::MacMismatch { path: None });
    }
    let stored = EncValue::parse(&metadata.mac)
        .map_err(|problem| SopsError::malformed(format!("its `sops.mac` is broken: {problem}")))?
        .open(&key, &aad)
        .ok_or(SopsError::MacMismatch { path: None })?;
    if stored.as_slice() != computed.as_bytes() {
        return Err(SopsError::MacMismatch { path: None });
    }
    format::emit_plain(&tree, format).map(Plaintext::new)
}

/// Encrypts a plaintext file for age recipients, as `sops --encrypt` would.
pub fn encrypt(
    plaintext: &[u8],
    format: Format,
    options: &EncryptOptions,
) -> Result<Vec<u8>, SopsError> {
    let settings = RuleSettings {
        unencrypted_suffix: options.unencrypted_suffix.clone(),
        encrypted_suffix: options.encrypted_suffix.clone(),
        unencrypted_regex: options.unencrypted_regex.clone(),
        encrypted_regex: options.encrypted_regex.clone(),
        ..RuleSettings::default()
    };
    let rule = settings.rule(SopsError::encrypt)?;
    debug_assert!(!matches!(rule, Rule::ByComment));
    let mut tree = format::load_plain(plaintext, format)?;
    let key = identity::new_data_key();
    let age = identity::seal_data_key(&key, &options.age_recipients)?;
    let mac = walk::encrypt_tree(&mut tree, &key, &rule, options.mac_only_encrypted)?;
    let lastmodified = timestamp::now_rfc3339();
    let mac = EncValue::seal(&key, mac.as_bytes(), &lastmodified, "str")
        .map_err(SopsError::encrypt)?
        .format();
    let metadata = Metadata {
        key_groups: vec![KeyGroup {
            age,
            others: Vec::new(),
        }],
        shamir_threshold: None,
        lastmodified,
        mac,
        rules: RuleSettings::from_rule(&rule),
        mac_only_encrypted: options.mac_only_encrypted,
        version: SOPS_VERSION.to_owned(),
    };
    format::emit_encrypted(&tree, &metadata.to_value(), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> (Identities, String) {
        let key = age::x25519::Identity::generate();
        let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
        let identities = Identities::parse(&secret).unwrap();
        let recipient = identities.recipients().remove(0);
        (identities, recipient)
    }

    #[test]
    fn format_from_path_follows_sops() {
        assert_eq!(Format::from_path(Path::new("a/secret.yaml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("a.yml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("a.json")), Format::Json);
        assert_eq!(Format::from_path(Path::new(".env")), Format::Dotenv);
        assert_eq!(Format::from_path(Path::new("a.YAML")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("a.ini")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("prod.env")), Format::Dotenv);
        assert_eq!(Format::from_path(Path::new("key.pem")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("noext")), Format::Binary);
    }

    #[test]
    fn round_trips_every_format_in_process() {
        let (identities, recipient) = identity();
        let options = EncryptOptions {
            age_recipients: vec![recipient],
            ..EncryptOptions::default()
        };
        let cases: [(Format, &[u8]); 4] = [
            (
                Format::Yaml,
                b"a: 1\nb:\n    - x\n    - k: \"yes\"\n---\nc: true\n",
            ),
            (Format::Json, b"{\n\t\"a\": 1,\n\t\"b\": \"x\"\n}\n"),
            (Format::Dotenv, b"#c\nA=1\nB=two\\nlines\n"),
            (Format::Binary, &[0, 159, 146, 150, b'x']),
        ];
        for (format, plain) in cases {
            let encrypted = encrypt(plain, format, &options).unwrap();
            assert!(is_encrypted(&encrypted, format), "{format:?}");
            assert!(!is_encrypted(plain, format), "{format:?}");
            let decrypted = decrypt(&encrypted, format, &identities).unwrap();
            assert_eq!(decrypted.as_bytes(), plain, "{format:?}");
        }
    }

    #[test]
    fn a_binary_value_that_is_not_utf8_decrypts_after_encryption() {
        let (identities, recipient) = identity();
        let options = EncryptOptions {
            age_recipients: vec![recipient],
            ..EncryptOptions::default()
        };
        let plain = b"second: !!binary aGvsbG8=\n";
        let encrypted = encrypt(plain, Format::Yaml, &options).unwrap();
        let decrypted = decrypt(&encrypted, Format::Yaml, &identities).unwrap();
        assert_eq!(decrypted.as_bytes(), plain);
    }

    #[test]
    fn plaintext_is_not_encrypted() {
        let (identities, _) = identity();
        assert!(matches!(
            decrypt(b"a: 1\n", Format::Yaml, &identities),
            Err(SopsError::NotEncrypted)
        ));
    }
}
