//! Which renderer a directory gets.
//!
//! A directory holding `Chart.yaml` is a Helm chart; one holding a kustomization is rendered
//! by Kustomize; any other directory is plain manifests. The choice is made from the files
//! alone, as Argo CD and Flux do, so the same directory renders the same way everywhere.

use std::path::Path;

/// How a directory is turned into objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    /// YAML and JSON files read as they are.
    PlainManifests,
    /// A kustomization (the file named is the one found).
    Kustomize(&'static str),
    /// A Helm chart.
    Helm,
}

impl Renderer {
    /// The renderer for `dir`: Helm when it holds `Chart.yaml`, Kustomize when it holds a
    /// kustomization file.
    pub fn detect(dir: &Path) -> Renderer {
        if dir.join("Chart.yaml").is_file() {
            return Renderer::Helm;
        }
        plumb_kustomize::kustomization_in(dir).map_or(Renderer::PlainManifests, Renderer::Kustomize)
    }
}
