//! The decrypted file handed back to the caller.
//!
//! It holds secrets, so it is wiped from memory when dropped and its `Debug` shows only
//! its size.

use zeroize::Zeroizing;

/// A decrypted file in the format it was read in (YAML in, YAML out; binary gives the raw
/// bytes). Wiped on drop; `Debug` never shows the content.
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    pub(crate) fn new(bytes: Vec<u8>) -> Plaintext {
        Plaintext(Zeroizing::new(bytes))
    }

    /// The decrypted bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The decrypted text, if it is UTF-8 (always for YAML, JSON and dotenv).
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plaintext(<redacted, {} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let plaintext = Plaintext::new(b"password: hunter2\n".to_vec());
        let debug = format!("{plaintext:?}");
        assert_eq!(debug, "Plaintext(<redacted, 18 bytes>)");
        assert_eq!(plaintext.as_str(), Some("password: hunter2\n"));
    }
}
