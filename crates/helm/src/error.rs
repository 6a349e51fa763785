//! What can go wrong rendering a chart, each saying where and what to do.

use crate::template::{ExecError, ParseError};

/// A Helm rendering error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the chart's files: confinement, limits, I/O.
    #[error(transparent)]
    Read(#[from] plumb_manifest::Error),
    /// The chart itself is malformed (`Chart.yaml`, `values.yaml`, a values file).
    #[error("{path}: {message}")]
    Chart {
        /// The file or chart at fault.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A feature plumb's Helm engine does not render; names it and the way around it.
    #[error("{path}: plumb's Helm engine does not support {what}")]
    Unsupported {
        /// Where the feature is used.
        path: String,
        /// What it is, and what to do instead.
        what: String,
    },
    /// A bound on what one render may read or produce.
    #[error("{0}")]
    Limit(String),
    /// A template does not parse.
    #[error("parse error in {0}")]
    Parse(#[from] ParseError),
    /// A template fails while executing (`required`, `fail`, a nil field…).
    #[error("execution error in {0}")]
    Exec(#[from] ExecError),
    /// A rendered file is not valid YAML, or a document is not an object.
    #[error("YAML parse error on {path}: {message}")]
    Output {
        /// The template that produced it.
        path: String,
        /// What the YAML reader said.
        message: String,
    },
}

/// This crate's results.
pub type Result<T> = std::result::Result<T, Error>;
