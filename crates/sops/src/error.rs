//! The one error type of the SOPS module.
//!
//! Every message says what failed and what to do about it. None carries plaintext or key
//! material: paths (key names, which sops leaves in clear anyway), recipients (public keys)
//! and line numbers are the most a message shows.

/// Why a SOPS file could not be decrypted or a plaintext could not be encrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SopsError {
    /// The content has no SOPS metadata.
    #[error(
        "the file is not encrypted with sops: it has no `sops` metadata (for dotenv: no \
         `sops_version`/`sops_mac` lines); encrypt it with `sops --encrypt` or keep it out of \
         the paths plumb decrypts"
    )]
    NotEncrypted,

    /// The content cannot be read as a SOPS file of the given format.
    #[error("the sops file is malformed: {detail}; re-encrypt it with `sops --encrypt`")]
    Malformed {
        /// What is wrong, and where (never a value).
        detail: String,
    },

    /// No age identity was given at all.
    #[error(
        "no age identity was given to decrypt this sops file, which was encrypted for {}; \
         provide the matching age private key (AGE-SECRET-KEY-1…)",
        list(recipients)
    )]
    NoIdentities {
        /// The age recipients the data key was encrypted for.
        recipients: Vec<String>,
    },

    /// None of the identities opens the data key.
    #[error(
        "none of the given age identities can decrypt this sops file: it was encrypted for {}; \
         provide the private key of one of these recipients, or re-encrypt the file for a key \
         plumb has (`sops updatekeys` / `sops --rotate --add-age …`)",
        list(recipients)
    )]
    NoMatchingKey {
        /// The age recipients the data key was encrypted for.
        recipients: Vec<String>,
    },

    /// The file's data key is held only by key kinds plumb does not support.
    #[error(
        "this sops file cannot be decrypted by plumb: {detail}; plumb supports age keys only — \
         add an age recipient to the file (`sops --rotate --add-age <recipient>` or \
         `sops updatekeys` with an age key in .sops.yaml)"
    )]
    UnsupportedKeyGroups {
        /// Which key kinds or layout the file uses.
        detail: String,
    },

    /// The file was changed after encryption: a value or the MAC fails authentication, or
    /// the MAC does not cover the values found.
    #[error(
        "the MAC does not match: the file was changed after encryption{}; restore it from \
         history or edit it only through `sops`",
        where_(path)
    )]
    MacMismatch {
        /// The path of the encrypted value that failed authentication, if one did.
        path: Option<String>,
    },

    /// A line of an age identity file is not an age X25519 identity.
    #[error(
        "line {line} of the age identity file is not a usable age identity: {reason}; a key \
         file holds `AGE-SECRET-KEY-1…` lines and `#` comments (as written by `age-keygen`)"
    )]
    InvalidIdentity {
        /// 1-based line number.
        line: usize,
        /// Why (never the line itself).
        reason: &'static str,
    },

    /// Encryption could not be done.
    #[error("sops encryption failed: {detail}")]
    Encrypt {
        /// What failed and what to do.
        detail: String,
    },
}

impl SopsError {
    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        SopsError::Malformed {
            detail: detail.into(),
        }
    }

    pub(crate) fn encrypt(detail: impl Into<String>) -> Self {
        SopsError::Encrypt {
            detail: detail.into(),
        }
    }
}

fn list(recipients: &[String]) -> String {
    if recipients.is_empty() {
        "no age recipient".to_owned()
    } else {
        recipients.join(", ")
    }
}

fn where_(path: &Option<String>) -> String {
    match path {
        Some(path) => format!(" (the encrypted value at `{path}` fails authentication)"),
        None => String::new(),
    }
}
