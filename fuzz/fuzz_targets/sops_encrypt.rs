#![no_main]
//! plumb-sops's encryption (`plumb secrets encrypt`) of a plaintext in each of the four
//! formats, and the decryption of what it wrote.
//!
//! Checks: never a panic, a hang or unbounded memory (Ok or a typed error); what encrypts
//! is seen as encrypted and decrypts; a binary file comes back byte for byte, a JSON one as
//! the same values; and the text that comes back is a fixed point (encrypted and decrypted
//! again, it is the same bytes).

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use plumb_sops::{EncryptOptions, Format, Identities, decrypt, encrypt, is_encrypted};
use serde_json::Value;

fn identities() -> &'static Identities {
    static IDENTITIES: OnceLock<Identities> = OnceLock::new();
    IDENTITIES
        .get_or_init(|| Identities::parse(common::age::IDENTITY).expect("the fuzz key parses"))
}

fuzz_target!(|data: &[u8]| {
    let options = EncryptOptions {
        age_recipients: vec![common::age::RECIPIENT.to_owned()],
        ..EncryptOptions::default()
    };
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Binary] {
        let Ok(encrypted) = encrypt(data, format, &options) else {
            continue;
        };
        assert!(
            is_encrypted(&encrypted, format),
            "{format:?}: what plumb encrypted is not seen as encrypted"
        );
        let plain = decrypt(&encrypted, format, identities())
            .unwrap_or_else(|e| panic!("{format:?}: a file plumb encrypted does not decrypt: {e}"));
        match format {
            Format::Binary => assert_eq!(plain.as_bytes(), data, "binary"),
            Format::Json => {
                if let (Ok(a), Ok(b)) = (
                    serde_json::from_slice::<Value>(data),
                    serde_json::from_slice::<Value>(plain.as_bytes()),
                ) {
                    assert!(common::same(&a, &b), "{a}\n!=\n{b}");
                }
            }
            Format::Yaml | Format::Dotenv => {}
        }
        let again = encrypt(plain.as_bytes(), format, &options)
            .unwrap_or_else(|e| panic!("{format:?}: what decrypted does not encrypt again: {e}"));
        let plain_again = decrypt(&again, format, identities())
            .unwrap_or_else(|e| panic!("{format:?}: a file plumb encrypted does not decrypt: {e}"));
        assert_eq!(
            plain.as_bytes(),
            plain_again.as_bytes(),
            "{format:?}: not a fixed point"
        );
    }
});
