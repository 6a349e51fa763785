#![no_main]
//! plumb-sops's reading of an encrypted file, in each of its four formats (YAML, JSON,
//! dotenv, binary), up to and past the key step: the seeds are encrypted for the target's
//! own age key, so their mutations reach the values, the rules and the MAC.
//!
//! Checks: never a panic, a hang or unbounded memory (Ok or a typed error); `is_encrypted`
//! and `decrypt` agree — a file that decrypts is one plumb's reader would decrypt (else it
//! would apply ciphertext), and one said to be encrypted is never "not encrypted"; and what
//! decrypts, encrypted again, decrypts to the same bytes.

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use plumb_sops::{EncryptOptions, Format, Identities, SopsError, decrypt, encrypt, is_encrypted};

fn identities() -> &'static Identities {
    static IDENTITIES: OnceLock<Identities> = OnceLock::new();
    IDENTITIES
        .get_or_init(|| Identities::parse(common::age::IDENTITY).expect("the fuzz key parses"))
}

fuzz_target!(|data: &[u8]| {
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Binary] {
        let encrypted = is_encrypted(data, format);
        let decrypted = decrypt(data, format, identities());
        match &decrypted {
            Err(SopsError::NotEncrypted) => {
                assert!(
                    !encrypted,
                    "{format:?}: is_encrypted, yet decrypt says it is not"
                )
            }
            Ok(_) => assert!(
                encrypted,
                "{format:?}: decrypts, yet is_encrypted says it is not"
            ),
            Err(_) => {}
        }
        let Ok(plain) = decrypted else { continue };
        let options = EncryptOptions {
            age_recipients: vec![common::age::RECIPIENT.to_owned()],
            ..EncryptOptions::default()
        };
        let again = encrypt(plain.as_bytes(), format, &options)
            .unwrap_or_else(|e| panic!("{format:?}: what decrypted does not encrypt again: {e}"));
        let plain_again = decrypt(&again, format, identities())
            .unwrap_or_else(|e| panic!("{format:?}: a file plumb encrypted does not decrypt: {e}"));
        assert_eq!(plain.as_bytes(), plain_again.as_bytes(), "{format:?}");
    }
});
