//! What a render may do and how far it may go: read plain-manifest directories how, within
//! which [`Limits`], with which keys for SOPS, and what Kustomize may reach beyond plumb's
//! engine.

use std::sync::Arc;

use crate::directory::DirectoryOptions;
use crate::limits::Limits;
use plumb_sops::Identities;

/// Everything a render needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// How plain-manifest directories are read.
    pub directory: DirectoryOptions,
    /// Bounds on what is read and produced.
    pub limits: Limits,
    /// What Kustomize rendering may do beyond plumb's engine (remote bases, an external
    /// binary); both off by default.
    pub kustomize: KustomizeOptions,
    /// age identities for SOPS-encrypted files (the controller reads them from a Secret's
    /// `*.agekey` entries). Without them an encrypted file fails the render.
    pub decryption: Option<Arc<Identities>>,
}

/// How Kustomize rendering may reach beyond plumb's own engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeOptions {
    /// Allow remote bases (URLs). plumb's engine does not fetch them: an allowed remote
    /// base needs [`Self::external`] to render.
    pub allow_remote_bases: bool,
    /// A command (`kustomize` or `kubectl`) to hand kustomizations plumb's engine does
    /// not support to; it is run as `kustomize build DIR` or `kubectl kustomize DIR`.
    /// Off by default. The binary reads the repository itself: plumb first checks that
    /// every base, resource and file the kustomizations name lies inside it, then runs
    /// the binary confined and bounded (module `external`).
    pub external: Option<String>,
}
