//! A kustomization's own transformers, in Kustomize's order (patches, namespace,
//! prefix and suffix, labels, annotations, JSON patches, replicas, images, replacements),
//! then its `transformers` entries — each noted on the objects it ran over when the build
//! asks for `buildMetadata: [transformerAnnotations]`.

use crate::configurations::{Configurations, merged};
use crate::error::Result;
use crate::fieldspec::{FieldSpec, builtin};
use crate::kustomization::Kustomization;
use crate::load::Loader;
use crate::resource::{Resource, Transformation};
use crate::{BuildError, patch, plugin, replacement, transform};

/// A kustomization's transformers over its objects, in Kustomize's order: its own
/// fields, then its `transformers` entries.
pub(crate) fn run(
    loader: &Loader<'_, '_>,
    k: &Kustomization,
    resources: &mut Vec<Resource>,
    configurations: &Configurations,
) -> Result<()> {
    let fail = |e: BuildError| loader.fail(e);
    let c = configurations;
    let file = loader.kustomization_file();
    let tracked = loader.context.transformations.get();
    let mark = |resources: &mut Vec<Resource>, kind: &str| {
        if tracked {
            Transformation::note(resources, &file, kind, "");
        }
    };
    for entry in &k.patches_strategic_merge {
        patch::apply_legacy_strategic(loader, resources, entry)?;
    }
    if !k.patches_strategic_merge.is_empty() {
        mark(resources, "PatchStrategicMergeTransformer");
    }
    for entry in &k.patches {
        patch::apply_patch(loader, resources, entry)?;
        mark(resources, "PatchTransformer");
    }
    if let Some(namespace) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
        let specs = merged(builtin::namespace(), &c.namespace);
        let options = transform::namespace::Options {
            namespace,
            specs: &specs,
            unset_only: false,
            subjects: transform::namespace::Subjects::DefaultOnly,
        };
        transform::namespace::with_options(resources, &options).map_err(fail)?;
        mark(resources, "NamespaceTransformer");
    }
    if let Some(prefix) = k.name_prefix.as_deref().filter(|p| !p.is_empty()) {
        transform::name_affix::prefix(resources, prefix);
        transform::name_affix::with_specs(resources, prefix, "", &beyond_name(&c.name_prefix))
            .map_err(fail)?;
        mark(resources, "PrefixTransformer");
    }
    if let Some(suffix) = k.name_suffix.as_deref().filter(|s| !s.is_empty()) {
        transform::name_affix::suffix(resources, suffix);
        transform::name_affix::with_specs(resources, "", suffix, &beyond_name(&c.name_suffix))
            .map_err(fail)?;
        mark(resources, "SuffixTransformer");
    }
    let common_labels = merged(builtin::common_labels(), &c.common_labels);
    for label in &k.labels {
        let mut specs = transform::labels::user_specs(&label.fields);
        if label.include_selectors {
            specs.extend(common_labels.iter().cloned());
        } else {
            if label.include_templates {
                specs.extend(merged(builtin::template_labels(), &c.template_labels));
            }
            specs.push(FieldSpec::new("", "", "", "metadata/labels", true));
        }
        transform::labels::apply(resources, &label.pairs, &specs).map_err(fail)?;
        mark(resources, "LabelTransformer");
    }
    transform::labels::apply(resources, &k.common_labels, &common_labels).map_err(fail)?;
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        mark(resources, "LabelTransformer");
    }
    let common_annotations = merged(builtin::common_annotations(), &c.common_annotations);
    transform::labels::apply(resources, &k.common_annotations, &common_annotations)
        .map_err(fail)?;
    if !k.common_annotations.is_empty() {
        mark(resources, "AnnotationsTransformer");
    }
    for entry in &k.patches_json6902 {
        patch::apply_legacy_json(loader, resources, entry)?;
        mark(resources, "PatchJson6902Transformer");
    }
    let replica_specs = merged(builtin::replicas(), &c.replicas);
    for replica in &k.replicas {
        transform::replicas::with_specs(resources, replica, &replica_specs).map_err(fail)?;
        mark(resources, "ReplicaCountTransformer");
    }
    for image in &k.images {
        transform::images::with_specs(resources, image, &c.images);
        mark(resources, "ImageTagTransformer");
    }
    replacement::apply_entries(loader, resources, &k.replacements)?;
    if !k.replacements.is_empty() {
        mark(resources, "ReplacementTransformer");
    }
    plugin::transform(loader, &k.transformers, resources)?;
    Ok(())
}

/// Declared name specs besides the name itself, which the default renames already.
fn beyond_name(specs: &[FieldSpec]) -> Vec<FieldSpec> {
    let name = FieldSpec::new("", "", "", "metadata/name", false);
    merged(vec![name], specs).split_off(1)
}
