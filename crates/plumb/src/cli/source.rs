//! What to render: a directory and how its formats are read (`render`, `diff`, `apply`).

use std::path::PathBuf;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub(crate) struct Source {
    /// The directory to render: absolute, or relative to the working directory (to --root
    /// when that is given).
    pub(crate) path: String,
    /// The repository root: nothing outside it is read (default: the top of the Git work
    /// tree holding PATH, else PATH itself).
    #[arg(long)]
    pub(crate) root: Option<PathBuf>,
    /// Read subdirectories too.
    #[arg(long)]
    pub(crate) recursive: bool,
    /// Only read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) include: Vec<String>,
    /// Do not read files matching this glob (repeatable).
    #[arg(long)]
    pub(crate) exclude: Vec<String>,
    #[command(flatten)]
    pub(crate) keys: Keys,
    #[command(flatten)]
    pub(crate) kustomize: KustomizeFlags,
    /// Where a kustomization may read files (patches, resources, generator sources) from:
    /// LoadRestrictionsNone, anywhere inside the repository, as Flux builds; or
    /// LoadRestrictionsRootOnly, only in or below the kustomization's directory, as
    /// kubectl kustomize does by default. Nothing outside the repository is read either way.
    #[arg(
        long,
        value_name = "RESTRICTOR",
        default_value = "LoadRestrictionsNone"
    )]
    pub(crate) load_restrictor: plumb_render::LoadRestrictor,
    #[command(flatten)]
    pub(crate) helm: HelmFlags,
}

/// How a Helm chart (a directory with Chart.yaml) is rendered, as `helm template` takes it.
#[derive(Clone, Debug, Args)]
pub(crate) struct HelmFlags {
    /// A values file for a Helm chart (repeatable, applied in order over its values.yaml);
    /// it must be inside the repository.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub(crate) values: Vec<PathBuf>,
    /// A Helm value, as `helm --set NAME=VALUE` (repeatable, over the values files).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub(crate) set: Vec<String>,
    /// The Helm release name (default: release-name, as `helm template`).
    #[arg(long)]
    pub(crate) release_name: Option<String>,
    /// The Helm release namespace, `.Release.Namespace` (default: default).
    #[arg(long)]
    pub(crate) release_namespace: Option<String>,
    /// Leave out the chart's crds/.
    #[arg(long)]
    pub(crate) skip_crds: bool,
    /// Render Helm charts with this `helm` binary rather than plumb's engine (for a chart it
    /// refuses): the chart's files, read within the repository, are copied to a private
    /// directory; helm runs with a cleared environment, a private HOME, a time limit and
    /// an output bound.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) helm_external: Option<String>,
    /// A file of 32 secret bytes (or 64 hex digits) that Helm's random functions
    /// (`randAlphaNum`, `genCA`…) draw from, so a chart renders the same passwords and
    /// certificates every run; without it they differ every run, as with `helm template`.
    #[arg(long, value_name = "FILE")]
    pub(crate) helm_random_key: Option<PathBuf>,
}

/// What Kustomize rendering may do beyond plumb's own engine; both off by default.
#[derive(Clone, Debug, Args)]
pub(crate) struct KustomizeFlags {
    /// Hand kustomizations plumb does not support (e.g. Helm charts, plugins) to this
    /// binary, `kustomize` or `kubectl`. Every path the kustomization names is checked to
    /// stay inside the repository first; the binary runs with the render's load restrictor
    /// (LoadRestrictionsNone unless `--load-restrictor` says otherwise), a cleared environment, a private HOME, a time limit and
    /// an output bound.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) kustomize_external: Option<String>,
    /// Allow remote bases (URLs) in kustomizations; they render only with --kustomize-external.
    #[arg(long)]
    pub(crate) allow_remote_bases: bool,
}

impl KustomizeFlags {
    pub(crate) fn options(&self) -> plumb_render::KustomizeOptions {
        plumb_render::KustomizeOptions {
            allow_remote_bases: self.allow_remote_bases,
            external: self.kustomize_external.clone(),
        }
    }
}

/// Where age identities come from, as sops looks for them.
#[derive(Clone, Debug, Args)]
pub(crate) struct Keys {
    /// A file of age identities (`AGE-SECRET-KEY-…` lines); repeatable. Also read:
    /// $SOPS_AGE_KEY_FILE and $SOPS_AGE_KEY, as sops does.
    #[arg(long)]
    pub(crate) age_key_file: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) source: Source,
    /// Print Secret values and decrypted values in clear.
    #[arg(long)]
    pub(crate) show_secrets: bool,
}
