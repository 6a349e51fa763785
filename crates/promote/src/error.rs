//! Why an overlay edit failed, naming the overlay, file or image and what to do; nothing is
//! written when any of these is returned before the write.

use std::path::PathBuf;

/// Why an image edit of an overlay was not made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path holds no kustomization plumb can edit.
    #[error("{path} is not an overlay plumb can edit: {source}")]
    NotAnOverlay {
        /// The overlay, relative to the repository root.
        path: String,
        /// What the Kustomize engine said.
        source: Box<plumb_kustomize::Error>,
    },
    /// A file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file, relative to the repository root.
        file: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An overlay does not render before the edit.
    #[error("{path} does not render; fix it first: {source}")]
    DoesNotRender {
        /// The overlay (for promote, with the flag naming it).
        path: String,
        /// Why the render failed.
        source: Box<plumb_kustomize::Error>,
    },
    /// The edited overlay would not render.
    #[error("{path} would not render after the edit, so nothing was changed: {source}")]
    BreaksRender {
        /// The overlay.
        path: String,
        /// Why the render failed.
        source: Box<plumb_kustomize::Error>,
    },
    /// The kustomization's `images:` could not be edited, or an image argument is invalid.
    #[error(transparent)]
    Kustomize(#[from] Box<plumb_kustomize::Error>),
    /// No workload of the overlay uses an image named in the request (with `--strict`).
    #[error("no workload of {path} uses image {name:?} (--strict){hint}")]
    UnusedImage {
        /// The overlay.
        path: String,
        /// The image name asked for.
        name: String,
        /// What to check, when there is something to say.
        hint: &'static str,
    },
    /// The image argument says neither `NAME=IMAGE` nor a tag or digest.
    #[error("{argument:?} {detail}")]
    Argument {
        /// The argument as given.
        argument: String,
        /// What is wrong and how to write it.
        detail: String,
    },
    /// The source overlay of a promotion runs one image in several versions.
    #[error(
        "{from} runs image {name:?} in several versions ({versions}); promote needs one — name the images to promote with --image, or make the source agree"
    )]
    SourceDisagrees {
        /// The source overlay.
        from: String,
        /// The image name in the bases.
        name: String,
        /// The versions it renders, comma-separated.
        versions: String,
    },
    /// The source overlay of a promotion does not use an image named with `--image`.
    #[error("image {name:?} of {to} is used by no workload of {from}; left as it is (--strict)")]
    NotInSource {
        /// The image name in the bases.
        name: String,
        /// The target overlay.
        to: String,
        /// The source overlay.
        from: String,
    },
    /// After the edit a container would run something else than was asked.
    #[error(
        "after the edit, {object} (container {container}) of {path} would run {image}, not what was asked for {name:?}: something after `images:` (replacements, another entry) changes it; nothing was changed"
    )]
    Overridden {
        /// The object, as `Kind namespace/name`.
        object: String,
        /// Where the container is in it.
        container: String,
        /// The overlay.
        path: String,
        /// The image it would run.
        image: String,
        /// The image name asked for.
        name: String,
    },
    /// The edited file could not be written.
    #[error("cannot write {}: {source}; check that its directory is writable", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The overlay's file is not inside the Git checkout that would commit it.
    #[error("{} is outside the checkout {}; run from inside the repository (--root)", path.display(), checkout.display())]
    OutsideCheckout {
        /// The kustomization file.
        path: PathBuf,
        /// The checkout's root.
        checkout: PathBuf,
    },
    /// A path could not be resolved.
    #[error("cannot resolve {}: {source}", path.display())]
    Resolve {
        /// The path.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A git operation failed (opening the checkout, committing, pushing), or the author is
    /// not `NAME <EMAIL>`.
    #[error(transparent)]
    Git(#[from] plumb_source::Error),
}

impl From<plumb_kustomize::Error> for Error {
    fn from(error: plumb_kustomize::Error) -> Self {
        Error::Kustomize(Box::new(error))
    }
}

/// The result of an overlay edit.
pub type Result<T, E = Error> = std::result::Result<T, E>;
