//! What made a kustomization fail to build or edit, naming the kustomization file — so the
//! user can fix the repository without reading plumb's code.

/// Why a kustomization could not be built (or edited). A failed build produces no objects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or parsing a file failed, or a limit was reached.
    #[error(transparent)]
    Manifest(#[from] plumb_manifest::Error),
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
    /// A `transformers` or `generators` entry is a plugin that is not built into Kustomize.
    #[error(
        "{file}: {field} entry {plugin} is not a built-in plugin (exec, Go or KRM-function plugins run code from the repository, which plumb does not do); use a built-in one (apiVersion: builtin) or the kustomization's own fields"
    )]
    KustomizePlugin {
        /// The kustomization file, relative to the repository root.
        file: String,
        /// `transformers` or `generators`.
        field: String,
        /// The plugin's `apiVersion/kind`.
        plugin: String,
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

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
