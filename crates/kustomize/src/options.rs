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
    /// Where a kustomization may read its files from (Flux's rule by default).
    pub load_restrictor: LoadRestrictor,
    /// The key the random functions of `helmCharts` draw from (see
    /// [`plumb_helm::RenderOptions::random_key`]); a fresh one per build when unset.
    pub random_key: Option<plumb_helm::RandomKey>,
}

/// Where the files a kustomization reads (resource files, patches, generator sources,
/// transformer configurations) may lie. Either way they stay inside the repository:
/// a path or symlink that leaves it is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadRestrictor {
    /// Kustomize's default (`LoadRestrictionsRootOnly`): in or below the kustomization's
    /// own directory; only bases and components may sit elsewhere.
    RootOnly,
    /// Flux's (`LoadRestrictionsNone`): anywhere inside the repository, so an overlay may
    /// name `../shared/patch.yaml`. plumb's default, as Flux repositories are written for it.
    #[default]
    None,
}

impl LoadRestrictor {
    /// The name kubectl's and kustomize's `--load-restrictor` flag takes.
    pub fn flag(self) -> &'static str {
        match self {
            LoadRestrictor::RootOnly => "LoadRestrictionsRootOnly",
            LoadRestrictor::None => "LoadRestrictionsNone",
        }
    }
}

impl std::str::FromStr for LoadRestrictor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "LoadRestrictionsRootOnly" => Ok(LoadRestrictor::RootOnly),
            "LoadRestrictionsNone" => Ok(LoadRestrictor::None),
            other => Err(format!(
                "unknown load restrictor {other:?}: expected LoadRestrictionsRootOnly or LoadRestrictionsNone"
            )),
        }
    }
}

impl std::fmt::Display for LoadRestrictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.flag())
    }
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
