//! Bounds on what one render may read and produce.
//!
//! A repository is untrusted input: without bounds, one commit could exhaust the
//! controller's memory (a huge file, a YAML bomb, a million tiny objects) and take every
//! other application down with it. Exceeding a bound fails the render with an error naming
//! the bound, so the user knows which setting to raise if the input is legitimate.

/// Limits for one render. The defaults fit large real repositories with room to spare.
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 8 * 1024 * 1024,
            max_total_bytes: 256 * 1024 * 1024,
            max_files: 20_000,
            max_objects: 20_000,
            max_yaml_nodes_per_file: 250_000,
            max_depth: 64,
        }
    }
}

impl Limits {
    /// The parser budget that enforces these limits on one YAML file.
    pub(crate) fn yaml_options(&self) -> serde_saphyr::Options {
        let mut budget = serde_saphyr::Budget::default();
        budget.max_nodes = self.max_yaml_nodes_per_file;
        budget.max_depth = self.max_depth;
        budget.max_documents = self.max_objects;
        budget.max_events = self.max_yaml_nodes_per_file.saturating_mul(4);
        budget.max_recorded_anchor_events = self.max_yaml_nodes_per_file;
        let mut options = serde_saphyr::Options::default();
        options.budget = Some(budget);
        options
    }

    /// The parser options for files Kustomize reads: go-yaml v3 resolves scalars by YAML
    /// 1.2 (`yes` and `on` are strings) but still reads `0755` as octal.
    pub(crate) fn kustomize_yaml_options(&self) -> serde_saphyr::Options {
        let mut options = self.yaml_options();
        options.strict_booleans = true;
        options.legacy_octal_numbers = true;
        options
    }
}
