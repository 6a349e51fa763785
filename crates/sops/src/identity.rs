//! age keys: the identities that open a file's data key, and wrapping a new data key for
//! recipients.
//!
//! sops encrypts the 32-byte data key separately for each age recipient and stores each as
//! an armored age file (`-----BEGIN AGE ENCRYPTED FILE-----`) under `sops.age[].enc`.
//! Identities come from key files as `age-keygen` writes them. Nothing here prints a key.

use std::io::{Read as _, Write as _};
use std::str::FromStr as _;

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore as _;
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age::x25519;
use zeroize::Zeroizing;

use super::SopsError;
use super::metadata::{AgeStanza, KeyGroup};
use super::value::DataKey;

/// age X25519 identities (private keys), as read from `*.agekey` / `keys.txt` files.
///
/// `Debug` shows how many there are, never a key.
#[derive(Default)]
pub struct Identities {
    keys: Vec<x25519::Identity>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("count", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// Reads an age identity file: one `AGE-SECRET-KEY-1…` per line, blank lines and `#`
    /// comments allowed, several keys allowed. An error names the line, never its content.
    pub fn parse(text: &str) -> Result<Identities, SopsError> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let invalid = |reason| SopsError::InvalidIdentity {
                line: index + 1,
                reason,
            };
            if line.starts_with("AGE-PLUGIN-") {
                return Err(invalid("age plugin identities are not supported"));
            }
            if line.starts_with("-----BEGIN") {
                return Err(invalid(
                    "SSH and PEM keys are not supported, only age X25519 keys",
                ));
            }
            if !line.starts_with("AGE-SECRET-KEY-1") {
                return Err(invalid("it does not start with AGE-SECRET-KEY-1"));
            }
            let key = x25519::Identity::from_str(line)
                .map_err(|_| invalid("it is not a valid AGE-SECRET-KEY-1 key (bad encoding)"))?;
            keys.push(key);
        }
        Ok(Identities { keys })
    }

    /// Adds the identities of `other`.
    pub fn extend(&mut self, other: Identities) {
        self.keys.extend(other.keys);
    }

    /// How many identities there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The public recipients (`age1…`) of these identities, for messages and for
    /// encrypting to oneself.
    pub fn recipients(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| key.to_public().to_string())
            .collect()
    }
}

/// Opens the data key of a file with `identities`.
pub(crate) fn open_data_key(
    groups: &[KeyGroup],
    shamir_threshold: Option<i64>,
    identities: &Identities,
) -> Result<DataKey, SopsError> {
    let recipients: Vec<String> = groups
        .iter()
        .flat_map(|group| group.age.iter().map(|stanza| stanza.recipient.clone()))
        .collect();
    if recipients.is_empty() {
        let kinds: Vec<String> = groups
            .iter()
            .flat_map(|group| &group.others)
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        return Err(SopsError::UnsupportedKeyGroups {
            detail: format!(
                "its data key is held only by keys plumb does not support ({})",
                kinds.join(", ")
            ),
        });
    }
    if groups.len() > 1 {
        return Err(SopsError::UnsupportedKeyGroups {
            detail: format!(
                "its data key is split with Shamir's secret sharing over {} key groups \
                 (threshold {}), which plumb does not support; use a single key group",
                groups.len(),
                shamir_threshold.map_or_else(|| groups.len().to_string(), |t| t.to_string())
            ),
        });
    }
    if identities.is_empty() {
        return Err(SopsError::NoIdentities { recipients });
    }
    for stanza in groups.iter().flat_map(|group| &group.age) {
        if let Some(key) = open_stanza(stanza, identities)? {
            return Ok(key);
        }
    }
    Err(SopsError::NoMatchingKey { recipients })
}

/// `Ok(None)` when no identity matches this stanza.
fn open_stanza(stanza: &AgeStanza, identities: &Identities) -> Result<Option<DataKey>, SopsError> {
    let broken = |what: &str| {
        SopsError::malformed(format!(
            "the data key stored for age recipient {} {what}",
            stanza.recipient
        ))
    };
    let decryptor = age::Decryptor::new(ArmoredReader::new(stanza.enc.as_bytes()))
        .map_err(|_| broken("is not a valid armored age file"))?;
    let reader = decryptor.decrypt(identities.keys.iter().map(|key| key as &dyn age::Identity));
    let mut reader = match reader {
        Ok(reader) => reader,
        Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
        Err(_) => return Err(broken("cannot be decrypted (corrupted age file)")),
    };
    let mut plain = Zeroizing::new(Vec::with_capacity(32));
    reader
        .read_to_end(&mut plain)
        .map_err(|_| broken("fails authentication (corrupted age file)"))?;
    let key: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| broken(&format!("has {} bytes instead of 32", plain.len())))?;
    Ok(Some(Zeroizing::new(key)))
}

/// A fresh random data key.
pub(crate) fn new_data_key() -> DataKey {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    key
}

/// Encrypts the data key for each recipient (one armored age file each, as sops does).
pub(crate) fn seal_data_key(
    key: &DataKey,
    recipients: &[String],
) -> Result<Vec<AgeStanza>, SopsError> {
    if recipients.is_empty() {
        return Err(SopsError::encrypt(
            "no age recipient given: name at least one `age1…` public key",
        ));
    }
    recipients
        .iter()
        .map(|text| {
            let recipient = x25519::Recipient::from_str(text.trim()).map_err(|_| {
                SopsError::encrypt(format!(
                    "`{text}` is not an age X25519 recipient (age1…); plumb encrypts for age \
                     X25519 recipients only"
                ))
            })?;
            let failed = |_| SopsError::encrypt("age could not encrypt the data key");
            let encryptor =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .map_err(|_| SopsError::encrypt("age could not encrypt the data key"))?;
            let mut armored = Vec::new();
            let output = ArmoredWriter::wrap_output(&mut armored, ArmorFormat::AsciiArmor)
                .map_err(failed)?;
            let mut writer = encryptor.wrap_output(output).map_err(failed)?;
            writer.write_all(key.as_ref()).map_err(failed)?;
            writer
                .finish()
                .and_then(ArmoredWriter::finish)
                .map_err(failed)?;
            let enc = String::from_utf8(armored)
                .map_err(|_| SopsError::encrypt("age armor is not text"))?;
            Ok(AgeStanza {
                recipient: recipient.to_string(),
                enc,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_FILE: &str = "# created: 2026-11-22T22:45:00Z\n\
        # public key: age18432ehw5wcyut70xujl28nha7d0tzs5fy6u5rrcswqq5q7n9m4pqkf9u53\n";

    fn generated() -> (String, String) {
        let key = x25519::Identity::generate();
        let secret = age::secrecy::ExposeSecret::expose_secret(&key.to_string()).to_owned();
        (secret, key.to_public().to_string())
    }

    #[test]
    fn parses_key_files_with_comments_and_several_keys() {
        let (one, one_public) = generated();
        let (two, two_public) = generated();
        let text = format!("{KEY_FILE}{one}\n\n  {two}  \r\n");
        let identities = Identities::parse(&text).unwrap();
        assert_eq!(identities.len(), 2);
        assert_eq!(identities.recipients(), [one_public, two_public]);
        let debug = format!("{identities:?}");
        assert!(!debug.contains("AGE-SECRET"), "{debug}");
        assert!(debug.contains("count: 2"), "{debug}");
    }

    #[test]
    fn bad_lines_are_named_by_number_without_content() {
        let (one, _) = generated();
        // One changed character breaks the bech32 checksum; it must differ from the original,
        // which is random, or the "mangled" key would be the valid one.
        let replacement = if &one[20..21] == "X" { "Q" } else { "X" };
        let mangled = format!("{}{replacement}{}", &one[..20], &one[21..]);
        let error = Identities::parse(&format!("# c\n{mangled}\n")).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, SopsError::InvalidIdentity { line: 2, .. }),
            "{message}"
        );
        assert!(!message.contains(&one[16..]), "{message}");
        assert!(Identities::parse("hello\n").is_err());
        assert!(Identities::parse("AGE-PLUGIN-YUBIKEY-1XYZ\n").is_err());
        assert!(Identities::parse("").unwrap().is_empty());
    }

    #[test]
    fn sealed_data_key_opens_with_the_matching_identity_only() {
        let (secret, public) = generated();
        let (other, _) = generated();
        let key = new_data_key();
        let stanzas = seal_data_key(&key, std::slice::from_ref(&public)).unwrap();
        assert!(
            stanzas[0]
                .enc
                .starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n")
        );
        let groups = [KeyGroup {
            age: stanzas,
            others: Vec::new(),
        }];
        let mine = Identities::parse(&secret).unwrap();
        assert_eq!(*open_data_key(&groups, None, &mine).unwrap(), *key);
        let wrong = Identities::parse(&other).unwrap();
        match open_data_key(&groups, None, &wrong) {
            Err(SopsError::NoMatchingKey { recipients }) => assert_eq!(recipients, [public]),
            other => panic!("expected NoMatchingKey, got {other:?}"),
        }
        assert!(matches!(
            open_data_key(&groups, None, &Identities::default()),
            Err(SopsError::NoIdentities { .. })
        ));
    }

    #[test]
    fn unsupported_groups_and_bad_recipients() {
        let pgp_only = [KeyGroup {
            age: Vec::new(),
            others: vec![("pgp", 2)],
        }];
        let error = open_data_key(&pgp_only, None, &Identities::default()).unwrap_err();
        assert!(error.to_string().contains("2 pgp"), "{error}");
        assert!(error.to_string().contains("age keys only"), "{error}");
        let error = seal_data_key(&new_data_key(), &["ssh-ed25519 AAAA".into()]).unwrap_err();
        assert!(
            error.to_string().contains("not an age X25519 recipient"),
            "{error}"
        );
        assert!(seal_data_key(&new_data_key(), &[]).is_err());
    }
}
