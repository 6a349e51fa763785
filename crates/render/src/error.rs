//! The one error type of render: what made a render fail, naming the file and, where it
//! helps, the line — so the user can fix the repository without reading plumb's code.

use plumb_manifest::{ObjectId, Origin};

/// Why a render failed. A failed render produces no objects at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or parsing a file failed, or a limit was reached.
    #[error(transparent)]
    Manifest(#[from] plumb_manifest::Error),
    /// A kustomization could not be built (never [`plumb_kustomize::Error::Manifest`]:
    /// reading errors are [`Error::Manifest`] whichever format met them).
    #[error(transparent)]
    Kustomize(Box<plumb_kustomize::Error>),
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
    /// A Helm chart inside a directory read as plain manifests: its templates are not
    /// manifests.
    #[error(
        "{chart} is a Helm chart (it holds Chart.yaml) inside a directory read as plain manifests; render it on its own: make {chart} the app's path, or exclude it"
    )]
    HelmChart {
        /// The chart's directory, relative to the repository root.
        chart: String,
    },
    /// A Helm chart could not be rendered.
    #[error(transparent)]
    Helm(Box<plumb_helm::Error>),
    /// A values file or parameter of a Helm render is wrong.
    #[error("{0}")]
    HelmValues(String),
}

impl From<plumb_helm::Error> for Error {
    fn from(error: plumb_helm::Error) -> Self {
        match error {
            plumb_helm::Error::Read(error) => Error::Manifest(error),
            other => Error::Helm(Box::new(other)),
        }
    }
}

impl From<plumb_kustomize::Error> for Error {
    fn from(error: plumb_kustomize::Error) -> Self {
        match error {
            plumb_kustomize::Error::Manifest(error) => Error::Manifest(error),
            other => Error::Kustomize(Box::new(other)),
        }
    }
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

/// A limit reached while rendering, with where.
pub(crate) fn exceeded(limit: &'static str, value: u64, at: &str) -> Error {
    Error::Manifest(plumb_manifest::Error::LimitExceeded {
        limit,
        value,
        detail: format!("reached at {at}"),
    })
}
