//! Each built-in plugin kind, run with its configuration through the transformer or
//! generator the kustomization's own fields use.

use super::Config;
use super::config::{self, specs};
use crate::fieldspec::FieldSpec;
use crate::generator::{self, GeneratedKind};
use crate::kustomization::{Generator, HelmChart, HelmGlobals, Patch, Replica};
use crate::load::Loader;
use crate::resource::Resource;
use crate::transform::namespace::{Options, Subjects};
use crate::{BuildError, Error, Result, patch, replacement, transform};

/// Built-in plugins of Kustomize v5.5 plumb does not run.
const UNSUPPORTED: &[&str] = &["ValueAddTransformer", "IAMPolicyGenerator"];

const GENERATORS: &[&str] = &[
    "ConfigMapGenerator",
    "SecretGenerator",
    "HelmChartInflationGenerator",
];

fn unsupported(loader: &Loader, field: &str, config: &Config) -> Error {
    Error::KustomizeUnsupported {
        file: loader.kustomization_file(),
        field: format!("{field}: builtin {}", config.kind),
    }
}

fn unknown(loader: &Loader, config: &Config) -> Error {
    loader.error(format!(
        "unable to load builtin {}: Kustomize v5.5 has no built-in plugin of that kind",
        config.kind
    ))
}

/// Runs one transformer configuration.
pub(super) fn transformer(
    loader: &Loader,
    config: &Config,
    resources: &mut Vec<Resource>,
) -> Result<()> {
    let fail = |e: BuildError| loader.fail(e);
    match config.kind.as_str() {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let mut affix: config::Affix = config.parse(loader)?;
            let Some(entries) = &affix.field_specs else {
                return Err(loader.error(format!(
                    "builtin {}: fieldSpecs is not expected to be nil; name the fields to change (path: metadata/name)",
                    config.kind
                )));
            };
            match config.kind.as_str() {
                "PrefixTransformer" => affix.suffix.clear(),
                "SuffixTransformer" => affix.prefix.clear(),
                _ => {}
            }
            transform::name_affix::with_specs(
                resources,
                &affix.prefix,
                &affix.suffix,
                &specs(entries),
            )
            .map_err(fail)
        }
        "LabelTransformer" => {
            let labels: config::Labels = config.parse(loader)?;
            transform::labels::apply(resources, &labels.labels, &specs(&labels.field_specs))
                .map_err(fail)
        }
        "AnnotationsTransformer" => {
            let annotations: config::Annotations = config.parse(loader)?;
            let specs = specs(&annotations.field_specs);
            transform::labels::apply(resources, &annotations.annotations, &specs).map_err(fail)
        }
        "NamespaceTransformer" => namespace(loader, config, resources),
        "ImageTagTransformer" => {
            let images: config::ImageTag = config.parse(loader)?;
            transform::images::with_specs(
                resources,
                &images.image_tag,
                &specs(&images.field_specs),
            );
            Ok(())
        }
        "ReplicaCountTransformer" => {
            let replicas: config::ReplicaCount = config.parse(loader)?;
            let replica = Replica {
                name: replicas.replica.name,
                count: replicas.replica.count,
            };
            transform::replicas::with_specs(resources, &replica, &specs(&replicas.field_specs))
                .map_err(fail)
        }
        "PatchTransformer" => {
            let entry: config::Patch = config.parse(loader)?;
            let entry = Patch {
                path: entry.path.filter(|p| !p.is_empty()),
                patch: entry.patch.filter(|p| !p.trim().is_empty()),
                target: entry.target,
                options: entry.options,
            };
            patch::apply_patch(loader, resources, &entry)
        }
        "PatchStrategicMergeTransformer" => {
            let entry: config::StrategicMerge = config.parse(loader)?;
            if entry.paths.is_empty() && entry.patches.is_empty() {
                return Err(loader.error(
                    "builtin PatchStrategicMergeTransformer: empty file path and empty patch content; give paths or patches".into(),
                ));
            }
            for path in &entry.paths {
                patch::apply_legacy_strategic(loader, resources, path)?;
            }
            if !entry.patches.is_empty() {
                patch::apply_legacy_strategic(loader, resources, &entry.patches)?;
            }
            Ok(())
        }
        "PatchJson6902Transformer" => {
            let entry: config::Json6902 = config.parse(loader)?;
            if entry.target.as_ref().is_none_or(|t| t.name.is_empty()) {
                return Err(loader.error(
                    "builtin PatchJson6902Transformer: must specify the target name".into(),
                ));
            }
            let entry = Patch {
                path: Some(entry.path).filter(|p| !p.is_empty()),
                patch: Some(entry.json_op).filter(|p| !p.is_empty()),
                target: entry.target,
                options: Default::default(),
            };
            patch::apply_legacy_json(loader, resources, &entry)
        }
        "ReplacementTransformer" => {
            let entry: config::Replacements = config.parse(loader)?;
            replacement::apply_entries(loader, resources, &entry.replacements)
        }
        "HashTransformer" => {
            crate::hash::suffix_names(resources);
            Ok(())
        }
        kind if GENERATORS.contains(&kind) => Err(loader.error(format!(
            "plugin {kind} is not a transformer; list it under generators"
        ))),
        kind if UNSUPPORTED.contains(&kind) => Err(unsupported(loader, "transformers", config)),
        _ => Err(unknown(loader, config)),
    }
}

/// `NamespaceTransformer`: the namespace is the configuration's `metadata.namespace`.
fn namespace(loader: &Loader, config: &Config, resources: &mut [Resource]) -> Result<()> {
    let options: config::Namespace = config.parse(loader)?;
    let subjects = match options.set_role_binding_subjects.as_str() {
        "" | "defaultOnly" => Subjects::DefaultOnly,
        "allServiceAccounts" => Subjects::AllServiceAccounts,
        "none" => Subjects::None,
        other => {
            return Err(loader.error(format!(
                "builtin NamespaceTransformer: invalid value {other:?} for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
            )));
        }
    };
    let namespace = config.metadata("namespace");
    if namespace.is_empty() {
        return Ok(());
    }
    let specs: Vec<FieldSpec> = specs(&options.field_specs);
    let options = Options {
        namespace,
        specs: &specs,
        unset_only: options.unset_only,
        subjects,
    };
    transform::namespace::with_options(resources, &options).map_err(|e| loader.fail(e))
}

/// Runs one generator configuration, absorbing what it makes.
pub(super) fn generator(
    loader: &Loader,
    config: &Config,
    resources: &mut Vec<Resource>,
) -> Result<()> {
    let kind = match config.kind.as_str() {
        "HelmChartInflationGenerator" => return helm_chart(loader, config, resources),
        "ConfigMapGenerator" => GeneratedKind::ConfigMap,
        "SecretGenerator" => GeneratedKind::Secret,
        kind if UNSUPPORTED.contains(&kind) => {
            return Err(unsupported(loader, "generators", config));
        }
        "" => return Err(unknown(loader, config)),
        kind if kind.ends_with("Transformer") => {
            return Err(loader.error(format!(
                "plugin {kind} is not a generator; list it under transformers"
            )));
        }
        _ => return Err(unknown(loader, config)),
    };
    let mut fields = config.fields.clone();
    // The generator's name and namespace default to its own metadata's.
    for key in ["name", "namespace"] {
        let empty = fields
            .get(key)
            .and_then(|v| v.as_str())
            .is_none_or(str::is_empty);
        if empty {
            fields.insert(key.into(), config.metadata(key).into());
        }
    }
    let config = Config {
        kind: config.kind.clone(),
        fields,
        source: config.source.clone(),
    };
    let args: Generator = config.parse(loader)?;
    let generated = generator::generate(loader, kind, &args, None)?;
    generator::absorb(resources, generated).map_err(|e| loader.fail(e))
}

/// `HelmChartInflationGenerator`: a `helmCharts` entry and its `helmGlobals` in one
/// configuration, inflated by plumb's Helm engine as the field's entries are.
fn helm_chart(loader: &Loader, config: &Config, resources: &mut Vec<Resource>) -> Result<()> {
    let chart: HelmChart = config.parse(loader)?;
    let globals: HelmGlobals = config.parse(loader)?;
    for mut resource in crate::helm_chart::inflate(loader, &chart, Some(&globals))? {
        resource.configured_by = Some(crate::build_metadata::HELM);
        generator::absorb(resources, resource).map_err(|e| loader.fail(e))?;
    }
    Ok(())
}
