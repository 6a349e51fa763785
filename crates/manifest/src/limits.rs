//! Bounds on what one render may read and produce.
//!
//! A repository is untrusted input: without bounds, one commit could exhaust the
//! controller's memory (a huge file, a YAML bomb, a million tiny objects) and take every
//! other application down with it. Exceeding a bound fails the render with an error naming
//! the bound, so the user knows which setting to raise if the input is legitimate.

/// Limits for one render.
///
/// # Why the defaults are what they are
///
/// The controller renders in its own process, whose pod has a 256 MiB memory limit, and
/// a render's peak memory is many times the bytes it reads: objects live as
/// `serde_json::Value` trees, where every scalar is a heap allocation. Measured here (a
/// release build rendering a directory, peak resident memory from `VmHWM`):
/// 3.5 MiB of YAML Deployments (4,000 objects) peaked at 80 MB, 16 MiB (19,000) at
/// 356 MB — about 22 times the input for manifests of many small fields. So the input
/// budget is 4 MiB per render (a peak near 90 MB; Argo CD's repository server defaults
/// to 10 MB of combined manifests), the rendered output 8 MiB of JSON (room for what
/// Kustomize adds: labels, annotations, generated objects), and one object 2 MiB, a bit
/// above etcd's 1.5 MiB request limit, so nothing the API server would accept is
/// refused. The controller's workers can render at once: raise these, and the pod's
/// memory limit with them, only for repositories that are trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file read, in bytes.
    pub max_file_bytes: u64,
    /// Most bytes read across all files of one render.
    pub max_total_bytes: u64,
    /// Most manifest files read by one render.
    pub max_files: usize,
    /// Most objects one render may produce.
    pub max_objects: usize,
    /// Most YAML nodes one file may expand to, aliases included: this is what stops
    /// "billion laughs" documents, whose few bytes expand into billions of nodes.
    pub max_yaml_nodes_per_file: usize,
    /// Deepest nesting of YAML or JSON collections.
    pub max_depth: usize,
    /// Largest object a render may produce, in bytes of compact JSON (how the API server
    /// and etcd count it; etcd refuses requests over 1.5 MiB).
    pub max_object_bytes: u64,
    /// Most bytes (compact JSON) of all the objects of one render together. Checked while
    /// Kustomize builds, after every step that can multiply data, not only at the end.
    pub max_rendered_bytes: u64,
    /// Most operations in one JSON 6902 patch (Kubernetes allows 10,000 per request).
    pub max_patch_operations: usize,
    /// Most bytes one JSON 6902 patch may copy into one object (`copy` operations), or one
    /// Kustomize replacement into all its targets: Kubernetes' `AccumulatedCopySizeLimit`.
    /// Without it forty `copy` operations of a few bytes double a value into terabytes.
    pub max_copy_bytes: u64,
    /// Longest an external kustomize (`--kustomize-external`) may run, in seconds,
    /// before its whole process group is killed.
    pub max_external_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 * MIB,
            max_total_bytes: 4 * MIB,
            max_files: 20_000,
            max_objects: 20_000,
            max_yaml_nodes_per_file: 250_000,
            max_depth: 64,
            max_object_bytes: 2 * MIB,
            max_rendered_bytes: 8 * MIB,
            max_patch_operations: 10_000,
            max_copy_bytes: 2 * MIB,
            max_external_seconds: 120,
        }
    }
}

const MIB: u64 = 1024 * 1024;

impl Limits {
    /// The parser budget that enforces these limits on one YAML file.
    pub fn yaml_options(&self) -> serde_saphyr::Options {
        let mut budget = serde_saphyr::Budget::default();
        budget.max_nodes = self.max_yaml_nodes_per_file;
        budget.max_depth = self.max_depth;
        budget.max_documents = self.max_objects;
        budget.max_events = self.max_yaml_nodes_per_file.saturating_mul(4);
        budget.max_recorded_anchor_events = self.max_yaml_nodes_per_file;
        let mut options = crate::yaml_reading_options();
        options.budget = Some(budget);
        options
    }

    /// The parser options for files Kustomize reads: go-yaml v3 resolves scalars by YAML
    /// 1.2 (`yes` and `on` are strings) but still reads `0755` as octal.
    pub fn kustomize_yaml_options(&self) -> serde_saphyr::Options {
        let mut options = self.yaml_options();
        options.strict_booleans = true;
        options.legacy_octal_numbers = true;
        options
    }
}
