//! The one error type of render: what made a render fail, naming the file and, where it
//! helps, the line — so the user can fix the repository without reading plumb's code.

use crate::object::{ObjectId, Origin};

/// Why a render failed. A failed render produces no objects at all.
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
    /// Two documents describe the same object.
    #[error("{0}")]
    DuplicateObject(Box<Duplicate>),
    /// An include or exclude pattern is not a valid glob.
    #[error("invalid glob pattern {pattern:?}: {detail}")]
    InvalidGlob {
        /// The pattern as given.
        pattern: String,
        /// The parser's message.
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
    /// A directory is a Helm chart, which plumb does not render (yet).
    #[error(
        "{chart} is a Helm chart (it holds Chart.yaml), and plumb does not render Helm charts yet; render it with `helm template RELEASE {chart} --output-dir DIR` and point plumb at a directory holding the output, committed to Git"
    )]
    HelmChart {
        /// The chart's directory, relative to the repository root.
        chart: String,
    },
    /// A kustomization uses a field plumb's Kustomize engine does not support.
    #[error(
        "{file}: field `{field}` is not supported by plumb's Kustomize engine; remove it, or let plumb hand such kustomizations to an external kustomize (--kustomize-external)"
    )]
    KustomizeUnsupported {
        /// The kustomization file, relative to the repository root.
        file: String,
        /// The unsupported field.
        field: String,
    },
    /// A kustomization file is not valid.
    #[error("{file}: invalid kustomization: {detail}")]
    KustomizationInvalid {
        /// The kustomization file (or its directory), relative to the repository root.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A directory used as a base or component holds no kustomization.
    #[error(
        "{path}: no kustomization.yaml, kustomization.yml or Kustomization in this directory; a directory used as a resource, base or component needs one"
    )]
    KustomizationMissing {
        /// The directory, relative to the repository root.
        path: String,
    },
    /// A kustomization names a remote base.
    #[error(
        "{file}: remote base {url} {}",
        if *allowed { "is allowed but plumb's engine does not fetch remote bases: name an external kustomize to render it (--kustomize-external)" } else { "is refused: remote bases are off; vendor the base into the repository, or allow them (--allow-remote-bases with --kustomize-external)" }
    )]
    KustomizeRemoteBase {
        /// The kustomization file, relative to the repository root.
        file: String,
        /// The remote target as written.
        url: String,
        /// Whether remote bases were allowed.
        allowed: bool,
    },
    /// Building a kustomization failed (a patch without target, a conflict, …).
    #[error("{file}: {detail}")]
    KustomizeFailed {
        /// The kustomization file, relative to the repository root.
        file: String,
        /// What failed.
        detail: String,
    },
    /// An image reference (`registry/app:1.4.0`, `app@sha256:…`) is malformed.
    #[error("image reference {reference:?}: {reason}")]
    ImageReference {
        /// The reference as given.
        reference: String,
        /// Which part is wrong and how.
        reason: String,
    },
    /// A kustomization file has a shape plumb's text edit cannot change without risk; the
    /// file is left as it was.
    #[error(
        "{file}{}: cannot edit safely: {detail}",
        line.map(|l| format!(":{l}")).unwrap_or_default()
    )]
    KustomizationNotEditable {
        /// The kustomization file.
        file: String,
        /// The line (1-based) where the problem is, when there is one.
        line: Option<usize>,
        /// What is in the way and how to rewrite it.
        detail: String,
    },
    /// The external kustomize plumb handed a kustomization to failed.
    #[error("{path}: {command} failed: {detail}")]
    KustomizeExternal {
        /// The application directory, relative to the repository root.
        path: String,
        /// The command run.
        command: String,
        /// Its error output.
        detail: String,
    },
}

/// Two definitions of one object (boxed: it is the largest error and the rarest).
#[derive(Debug)]
pub struct Duplicate {
    /// The object both describe.
    pub id: ObjectId,
    /// The first definition.
    pub first: Origin,
    /// The second definition.
    pub second: Origin,
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is defined twice: in {} and in {}; remove one of them",
            self.id, self.first, self.second
        )
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
