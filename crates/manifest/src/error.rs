//! What made reading a repository's manifests fail, naming the file and, where it helps,
//! the line — so the user can fix the repository without reading plumb's code.

use crate::object::Origin;

/// Why a file could not be read or parsed, or a limit was reached. A render that meets
/// one produces no objects at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path given to render (or found in the repository) leaves the snapshot root.
    #[error("{path}: {reason}; only paths inside the repository can be rendered")]
    PathOutsideRoot {
        /// The path as given.
        path: String,
        /// Why it is outside (absolute, `..`, …).
        reason: String,
    },
    /// A symbolic link in the repository points outside it.
    #[error(
        "symlink {link} points outside the repository (to {target}); plumb reads nothing outside the repository — replace the link with the file itself"
    )]
    SymlinkEscape {
        /// The link, relative to the repository root.
        link: String,
        /// Where it points.
        target: String,
    },
    /// A path does not exist in the snapshot.
    #[error("{path}: no such file or directory in the repository")]
    NotFound {
        /// The path, relative to the repository root.
        path: String,
    },
    /// The application path is a file, not a directory.
    #[error("{path} is not a directory: an application's path names a directory of manifests")]
    NotADirectory {
        /// The path, relative to the repository root.
        path: String,
    },
    /// A manifest path is a device, FIFO or socket, which is never read.
    #[error("{path} is not a regular file (device, FIFO or socket); it cannot be a manifest")]
    NotARegularFile {
        /// The path, relative to the repository root.
        path: String,
    },
    /// A file is larger than [`Limits::max_file_bytes`](crate::Limits::max_file_bytes).
    #[error(
        "{path} is {size} bytes, over the limit of {limit} bytes per file (limits.max_file_bytes)"
    )]
    FileTooLarge {
        /// The path, relative to the repository root.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A limit of the whole render was exceeded.
    #[error("render exceeds limits.{limit} ({value}): {detail}")]
    LimitExceeded {
        /// The name of the [`Limits`](crate::Limits) field.
        limit: &'static str,
        /// The limit's value.
        value: u64,
        /// Where it was exceeded.
        detail: String,
    },
    /// The file system failed while reading the snapshot.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path, relative to the repository root.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A YAML or JSON file does not parse (or exceeds the parser's budget).
    #[error("{path}: {detail}")]
    Syntax {
        /// The path, relative to the repository root.
        path: String,
        /// The parser's message, with line and column.
        detail: String,
    },
    /// A document looks like a Kubernetes object but is not a valid one.
    #[error("{origin}: {detail}")]
    InvalidObject {
        /// Where the document is.
        origin: Origin,
        /// What is wrong with it.
        detail: String,
    },
    /// A file is SOPS-encrypted and no decryption keys were given.
    #[error(
        "{path} is SOPS-encrypted and no age key was given to decrypt it (reference a Secret with *.agekey entries, or pass --age-key-file / SOPS_AGE_KEY_FILE)"
    )]
    DecryptionKeysMissing {
        /// The path, relative to the repository root.
        path: String,
    },
    /// A SOPS-encrypted file could not be decrypted (wrong key, tampered, malformed).
    #[error("{path}: {source}")]
    Sops {
        /// The path, relative to the repository root.
        path: String,
        /// What SOPS decryption found.
        source: plumb_sops::SopsError,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
