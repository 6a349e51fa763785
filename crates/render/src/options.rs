//! What a render may do and how far it may go: read plain-manifest directories how, within
//! which [`Limits`], with which keys for SOPS, and what Kustomize may reach beyond plumb's
//! engine.

use std::sync::Arc;

use plumb_kustomize::{BuildOptions, KustomizeOptions};
use plumb_manifest::Limits;
use plumb_sops::Identities;

use crate::directory::DirectoryOptions;

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

impl RenderOptions {
    /// What a Kustomize build of this render may do.
    pub fn build_options(&self) -> BuildOptions {
        BuildOptions {
            limits: self.limits.clone(),
            kustomize: self.kustomize.clone(),
            decryption: self.decryption.clone(),
        }
    }
}
