//! The age key of the SOPS targets and their seeds: made for the fuzz corpus (with
//! `age-keygen`), it protects nothing. The seeds under `corpus/sops_decrypt/` are encrypted
//! for it, so mutations of them get past the key step.

/// The identity file.
pub const IDENTITY: &str =
    "AGE-SECRET-KEY-1QUP5JVU52NT89HC893HW7AT7UAVVFEUCKKU935S83QMAP8CGFSEQR3J7YT\n";
/// Its recipient.
pub const RECIPIENT: &str = "age1ty4r7zvtq7ktxhvpdd4ms75g7eg27c9a362mf9dc2zl7rx3zt93q3az86a";
