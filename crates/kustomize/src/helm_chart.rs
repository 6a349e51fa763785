//! `helmCharts:` — Kustomize's HelmChartInflationGenerator, with the chart inflated by
//! plumb's own Helm engine rather than a `helm` binary (so Kustomize's `--enable-helm` is
//! not needed: nothing runs).
//!
//! As Kustomize does it: the chart is `<chartHome>/<name>` (`charts/` by default;
//! `<chartHome>/<name>-<version>/<name>` when a version and repo are given), inside the
//! repository; `valuesInline` over the chart's values file (`valuesMerge: override` and
//! `merge` fold them together, anything else replaces the file), then
//! `additionalValuesFiles`; the release is `releaseName` (Kustomize would generate a random
//! one when it is empty — plumb uses `release-name`, as `helm template` does by default).
//! Charts are never pulled: one missing from the repository is an error saying so.

use serde_json::Value as Json;

use crate::error::Result;
use crate::kustomization::{HelmChart, HelmGlobals};
use crate::load::Loader;
use crate::resource::Resource;

/// The objects of one `helmCharts` entry.
pub(crate) fn inflate(
    loader: &Loader<'_, '_>,
    chart: &HelmChart,
    globals: Option<&HelmGlobals>,
) -> Result<Vec<Resource>> {
    if chart.name.is_empty() {
        return Err(loader.error("chart name cannot be empty".into()));
    }
    if !chart.name_template.is_empty() {
        return Err(loader.error(format!(
            "helmCharts {}: nameTemplate is not supported by plumb; set releaseName",
            chart.name
        )));
    }
    let home = globals
        .map(|g| g.chart_home.as_str())
        .filter(|h| !h.is_empty())
        .unwrap_or("charts");
    let home = if !chart.version.is_empty() && !chart.repo.is_empty() {
        format!("{home}/{}-{}", chart.name, chart.version)
    } else {
        home.to_string()
    };
    let chart_path = format!("{home}/{}", chart.name);
    let dir = loader.resolve(&chart_path).map_err(|_| {
        loader.error(format!(
            "no chart found at '{chart_path}': plumb renders charts that are in the repository and never pulls them; vendor it there (helm pull {} --untar)",
            chart.name
        ))
    })?;
    let limits = &loader.context.options.limits;
    let root = &loader.context.root;
    let loaded =
        plumb_helm::Chart::load(root, &dir.relative, limits).map_err(|e| helm_error(loader, e))?;

    let read_values = |path: &str| -> Result<Json> {
        let file = loader.resolve(path)?;
        let bytes = loader.context.read(&file)?;
        plumb_helm::read_values(&String::from_utf8_lossy(&bytes))
            .map_err(|e| loader.error(format!("values file {}: {e}", file.relative)))
    };
    let values_file = if chart.values_file.is_empty() {
        format!("{chart_path}/values.yaml")
    } else {
        chart.values_file.clone()
    };
    let mut layers = Vec::new();
    match chart
        .values_inline
        .as_ref()
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    {
        None => layers.push(read_values(&values_file)?),
        Some(inline) => {
            let inline = plumb_helm::value::as_go_json(inline.clone());
            match chart.values_merge.as_str() {
                "override" => layers.push(plumb_helm::merge_user_values(&[
                    read_values(&values_file)?,
                    inline,
                ])),
                "merge" => layers.push(plumb_helm::merge_user_values(&[
                    inline,
                    read_values(&values_file)?,
                ])),
                _ => layers.push(inline),
            }
        }
    }
    for file in &chart.additional_values_files {
        layers.push(read_values(file)?);
    }
    let mut capabilities = plumb_helm::Capabilities::helm_template_default();
    if !chart.kube_version.is_empty() {
        capabilities.kube_version = if chart.kube_version.starts_with('v') {
            chart.kube_version.clone()
        } else {
            format!("v{}", chart.kube_version)
        };
    }
    capabilities
        .api_versions
        .extend(chart.api_versions.iter().cloned());
    let options = plumb_helm::RenderOptions {
        release_name: if chart.release_name.is_empty() {
            "release-name".into()
        } else {
            chart.release_name.clone()
        },
        namespace: if chart.namespace.is_empty() {
            "default".into()
        } else {
            chart.namespace.clone()
        },
        is_upgrade: false,
        values: plumb_helm::merge_user_values(&layers),
        capabilities,
        max_output_bytes: usize::try_from(limits.max_rendered_bytes).unwrap_or(usize::MAX),
        random_key: loader.context.options.random_key.clone(),
    };
    let mut rendered = plumb_helm::render(&loaded, &options).map_err(|e| helm_error(loader, e))?;
    if !chart.include_crds {
        rendered.crds.clear();
    }
    if chart.skip_hooks {
        rendered.hooks.clear();
    }
    let text = rendered.helm_template_text(chart.skip_tests);
    loader.resource_bytes(&format!("{chart_path} (helmCharts)"), text.as_bytes())
}

fn helm_error(loader: &Loader<'_, '_>, error: plumb_helm::Error) -> crate::error::Error {
    match error {
        plumb_helm::Error::Read(e) => crate::error::Error::Manifest(e),
        other => loader.error(format!("helmCharts: {other}")),
    }
}
