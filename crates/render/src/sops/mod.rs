//! SOPS decryption and encryption with age keys (work in progress on the `sops` branch).
