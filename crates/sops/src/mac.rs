//! The message authentication code sops stores in `sops.mac`.
//!
//! It is SHA-512 over the plaintext bytes of the values, in document order and across all
//! documents, written as upper-case hex, then encrypted like a value with `lastmodified` as
//! additional data. What counts (see `walk.rs`): every scalar leaf, as the bytes sops
//! encrypts for it (`True`/`False`, Go number formatting); not `null`, not comments, not
//! keys, with no separators. With `mac_only_encrypted: true` only the values that end up
//! encrypted count, and the hash starts with a fixed 32-byte prefix so that the two modes
//! never give the same MAC.

use sha2::{Digest, Sha512};

/// The fixed prefix sops hashes first when `mac_only_encrypted` is set (sops.go,
/// `MACOnlyEncryptedInitialization`); a protocol constant, needed for compatibility.
const MAC_ONLY_ENCRYPTED_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// A MAC being computed.
pub(crate) struct Mac {
    hasher: Sha512,
    only_encrypted: bool,
}

impl Mac {
    pub(crate) fn new(only_encrypted: bool) -> Mac {
        let mut hasher = Sha512::new();
        if only_encrypted {
            hasher.update(MAC_ONLY_ENCRYPTED_PREFIX);
        }
        Mac {
            hasher,
            only_encrypted,
        }
    }

    /// Adds a value's bytes if it counts: always, or only when encrypted in
    /// `mac_only_encrypted` mode.
    pub(crate) fn add(&mut self, bytes: &[u8], encrypted: bool) {
        if encrypted || !self.only_encrypted {
            self.hasher.update(bytes);
        }
    }

    /// The MAC as sops writes it before encryption: upper-case hex.
    pub(crate) fn finish(self) -> String {
        let digest = self.hasher.finalize();
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            hex.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0x0f)]));
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::EncValue;
    use crate::value::tests::sops_vector_key;

    #[test]
    fn empty_mac_is_sha512_of_nothing_in_upper_hex() {
        assert_eq!(
            Mac::new(false).finish(),
            "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE\
             47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"
        );
    }

    #[test]
    fn only_encrypted_mode_differs_and_skips_clear_values() {
        let mut all = Mac::new(false);
        all.add(b"a", true);
        all.add(b"b", false);
        let mut only = Mac::new(true);
        only.add(b"a", true);
        only.add(b"b", false);
        let mut only_a = Mac::new(true);
        only_a.add(b"a", true);
        let only = only.finish();
        assert_ne!(all.finish(), only);
        assert_eq!(only, only_a.finish());
    }

    /// The MAC of a YAML file encrypted by the real sops 3.11 (values decrypted by hand
    /// from that file; `null`s and comments left out), checked against the MAC stored in it.
    #[test]
    fn matches_the_mac_real_sops_stored() {
        let values: &[&[u8]] = &[
            b"hello",
            b"",
            b"42",
            b"493",
            b"31",
            b"1000",
            b"1.5",
            b"1000000",
            b"yes",
            b"True",
            b"2024-01-01T00:00:00Z",
            b"2024-01-01T10:00:00Z",
            b"hello",
            b"a",
            b"1",
            b"b",
            b"clear",
            b"y",
            b"line1\nline2\n",
        ];
        let mut mac = Mac::new(false);
        for value in values {
            mac.add(value, true);
        }
        let stored = EncValue::parse(
            "ENC[AES256_GCM,data:5IiktgAQyileepj6aUKZ5974XAorMsZdPbpEUceTptS9j/szmleSujj923j32iWJasumjz1GOJYz7ypo9rPsMEOMunG1jvUW+FkrVtigWeDgaQnUc74MWSW8brAWTcS+PVOhdcHuu3t2nDZnyiYTXGPwoi0LHhMRiNYGLQA8+pM=,iv:St4Sf7teGjExo6sOwQIAg0/K49KITW0iq2qY3HLjN+Y=,tag:TNUikR6Mj+R3Z6WmnyI6+g==,type:str]",
        )
        .unwrap()
        .open(&sops_vector_key(), "2026-11-22T22:45:39Z")
        .unwrap();
        assert_eq!(std::str::from_utf8(&stored).unwrap(), mac.finish());
    }
}
