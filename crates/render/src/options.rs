//! What a render may do and how far it may go: read plain-manifest directories how, within
//! which [`Limits`], with which keys for SOPS, what Kustomize may reach beyond plumb's
//! engine, and what a Helm chart is rendered with.

use std::sync::Arc;

use plumb_kustomize::{BuildOptions, KustomizeOptions, LoadRestrictor};
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
    /// Where a kustomization may read files from: anywhere in the repository (Flux's
    /// rule) by default, or only below its own directory (Kustomize's).
    pub load_restrictor: LoadRestrictor,
    /// age identities for SOPS-encrypted files (the controller reads them from a Secret's
    /// `*.agekey` entries). Without them an encrypted file fails the render.
    pub decryption: Option<Arc<Identities>>,
    /// How a Helm chart is rendered: release, values, what the cluster offers.
    pub helm: HelmOptions,
    /// The secret key that Helm's random functions (`randAlphaNum`, `genCA`…) draw from, in
    /// charts and in Kustomize's `helmCharts`: the same key renders the same passwords and
    /// certificates, and nobody without it can compute them. `None` (a one-off preview)
    /// draws a fresh key per render, so they differ every run as with `helm template`. The
    /// controller gives each Application its own, derived from its installation's key.
    pub random_key: Option<plumb_helm::RandomKey>,
}

/// What `helm template` would be told besides the chart.
#[derive(Clone, Debug, Default)]
pub struct HelmOptions {
    /// `.Release.Name`; `release-name` (as `helm template`'s default) when unset.
    pub release_name: Option<String>,
    /// `.Release.Namespace`; `default` when unset.
    pub namespace: Option<String>,
    /// Values files, relative to the chart's directory (`../values/prod.yaml` reaches out of
    /// it, never out of the repository), applied in order over the chart's `values.yaml`.
    pub value_files: Vec<String>,
    /// A values file that does not exist is skipped rather than an error.
    pub ignore_missing_value_files: bool,
    /// Inline values, over the files.
    pub values: Option<serde_json::Value>,
    /// `--set name=value` parameters, over everything else.
    pub parameters: Vec<(String, String)>,
    /// Leave out the chart's `crds/`.
    pub skip_crds: bool,
    /// What the chart is told of the cluster; `helm template`'s defaults when unset.
    pub capabilities: Option<plumb_helm::Capabilities>,
    /// Render with this `helm` binary rather than plumb's engine (opt-in, for a chart the
    /// native engine refuses): the chart's files, read through plumb's confinement, are
    /// copied to a private directory, and the binary runs isolated as an external
    /// kustomize does.
    pub external: Option<String>,
    /// Dependencies fetched from their repositories (what `helm dependency build` would put
    /// in `charts/`): the archive of each, in plumb's cache.
    pub dependencies: Vec<std::path::PathBuf>,
}

impl RenderOptions {
    /// What a Kustomize build of this render may do.
    pub fn build_options(&self) -> BuildOptions {
        BuildOptions {
            limits: self.limits.clone(),
            kustomize: self.kustomize.clone(),
            decryption: self.decryption.clone(),
            load_restrictor: self.load_restrictor,
            random_key: self.random_key.clone(),
        }
    }
}
