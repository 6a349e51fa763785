//! What a build may do and how far it may go.

use std::path::Path;
use std::sync::Arc;

use plumb_manifest::Limits;
use plumb_sops::Identities;

/// File names that make a directory a Kustomization, in Kustomize's order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file `dir` holds, if it holds one.
pub fn kustomization_in(dir: &Path) -> Option<&'static str> {
    KUSTOMIZATION_FILES
        .into_iter()
        .find(|name| dir.join(name).is_file())
}

/// Everything a build needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Bounds on what is read and produced.
    pub limits: Limits,
    /// What the build may reach beyond plumb's engine.
    pub kustomize: KustomizeOptions,
    /// age identities for SOPS-encrypted resources and patches. Without them an encrypted
    /// file fails the build.
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
