//! The kustomization file: what plumb reads of it, and a clear refusal of what it does not
//! support (naming the field and the file) instead of a silent drop.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Top-level fields plumb renders. Everything else Kustomize knows is refused by name.
const SUPPORTED: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "labels",
    "commonLabels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "sortOptions",
    "helmCharts",
    "helmGlobals",
    "generators",
    "transformers",
    "configurations",
    "vars",
    "buildMetadata",
    "crds",
    "openapi",
];

/// Fields of Kustomize v5 that plumb does not render (yet).
const KNOWN_UNSUPPORTED: &[&str] = &["validators", "helmChartInflationGenerator", "imageTags"];

/// A `helmCharts` entry (Kustomize's HelmChartInflationGenerator).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HelmChart {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) repo: String,
    #[serde(default)]
    pub(crate) release_name: String,
    #[serde(default)]
    pub(crate) namespace: String,
    #[serde(default)]
    pub(crate) values_file: String,
    #[serde(default)]
    pub(crate) additional_values_files: Vec<String>,
    #[serde(default)]
    pub(crate) values_inline: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) values_merge: String,
    #[serde(default, rename = "includeCRDs")]
    pub(crate) include_crds: bool,
    #[serde(default)]
    pub(crate) skip_hooks: bool,
    #[serde(default)]
    pub(crate) skip_tests: bool,
    #[serde(default)]
    pub(crate) api_versions: Vec<String>,
    #[serde(default)]
    pub(crate) kube_version: String,
    #[serde(default)]
    pub(crate) name_template: String,
}

/// `helmGlobals`: where charts are.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HelmGlobals {
    #[serde(default)]
    pub(crate) chart_home: String,
}

/// A kustomization file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Kustomization {
    #[serde(default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) resources: Vec<String>,
    #[serde(default)]
    pub(crate) bases: Vec<String>,
    #[serde(default)]
    pub(crate) components: Vec<String>,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) name_prefix: Option<String>,
    #[serde(default)]
    pub(crate) name_suffix: Option<String>,
    #[serde(default)]
    pub(crate) labels: Vec<Label>,
    #[serde(default)]
    pub(crate) common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) images: Vec<Image>,
    #[serde(default)]
    pub(crate) replicas: Vec<Replica>,
    #[serde(default)]
    pub(crate) patches: Vec<Patch>,
    #[serde(default)]
    pub(crate) patches_strategic_merge: Vec<String>,
    #[serde(default)]
    pub(crate) patches_json6902: Vec<Patch>,
    #[serde(default)]
    pub(crate) config_map_generator: Vec<Generator>,
    #[serde(default)]
    pub(crate) helm_charts: Vec<HelmChart>,
    #[serde(default)]
    pub(crate) helm_globals: Option<HelmGlobals>,
    #[serde(default)]
    pub(crate) secret_generator: Vec<Generator>,
    #[serde(default)]
    pub(crate) generator_options: Option<GeneratorOptions>,
    #[serde(default)]
    pub(crate) replacements: Vec<ReplacementEntry>,
    #[serde(default)]
    pub(crate) sort_options: Option<SortOptions>,
    /// OpenAPI definitions of custom types whose extensions declare field specs.
    #[serde(default)]
    pub(crate) crds: Vec<String>,
    /// The schema strategic merges use: `path` (a custom schema) or `version` (built in).
    #[serde(default)]
    pub(crate) openapi: std::collections::BTreeMap<String, String>,
    /// What the build writes about itself (`managedByLabel`, `originAnnotations`).
    #[serde(default)]
    pub(crate) build_metadata: Vec<String>,
    /// `$(NAME)` variables read from objects' fields.
    #[serde(default)]
    pub(crate) vars: Vec<Var>,
    /// Files of field specs for the transformers (`nameReference`, `commonLabels`, …).
    #[serde(default)]
    pub(crate) configurations: Vec<String>,
    /// Built-in generator plugins: inline configurations or paths.
    #[serde(default)]
    pub(crate) generators: Vec<String>,
    /// Built-in transformer plugins: inline configurations or paths.
    #[serde(default)]
    pub(crate) transformers: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Label {
    #[serde(default)]
    pub(crate) pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) include_selectors: bool,
    #[serde(default)]
    pub(crate) include_templates: bool,
    #[serde(default)]
    pub(crate) fields: Vec<FieldSpecEntry>,
}

/// A user-given field spec (`labels[].fields`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FieldSpecEntry {
    #[serde(default)]
    pub(crate) group: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) kind: String,
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) create: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Image {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) new_name: String,
    #[serde(default)]
    pub(crate) new_tag: String,
    #[serde(default)]
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) tag_suffix: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replica {
    pub(crate) name: String,
    pub(crate) count: i64,
}

/// An entry of `patches` or `patchesJson6902`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Patch {
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) patch: Option<String>,
    #[serde(default)]
    pub(crate) target: Option<Selector>,
    #[serde(default)]
    pub(crate) options: BTreeMap<String, bool>,
}

/// Which objects a patch or replacement applies to; every field is a regular expression
/// except the label and annotation selectors.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Selector {
    #[serde(default)]
    pub(crate) group: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: String,
    #[serde(default)]
    pub(crate) label_selector: String,
    #[serde(default)]
    pub(crate) annotation_selector: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Generator {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: String,
    #[serde(default)]
    pub(crate) behavior: String,
    #[serde(default)]
    pub(crate) literals: Vec<String>,
    #[serde(default)]
    pub(crate) files: Vec<String>,
    #[serde(default)]
    pub(crate) envs: Vec<String>,
    #[serde(default)]
    pub(crate) env: Option<String>,
    #[serde(default, rename = "type")]
    pub(crate) type_: String,
    #[serde(default)]
    pub(crate) options: Option<GeneratorOptions>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GeneratorOptions {
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) disable_name_suffix_hash: bool,
    #[serde(default)]
    pub(crate) immutable: bool,
}

/// A `replacements` entry: inline, or a file holding one or more.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ReplacementEntry {
    File { path: String },
    Inline(Replacement),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replacement {
    pub(crate) source: ReplacementSource,
    pub(crate) targets: Vec<ReplacementTarget>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplacementSource {
    #[serde(default)]
    pub(crate) group: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: String,
    #[serde(default)]
    pub(crate) field_path: String,
    #[serde(default)]
    pub(crate) options: Option<ReplacementOptions>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplacementTarget {
    pub(crate) select: Selector,
    #[serde(default)]
    pub(crate) reject: Vec<Selector>,
    #[serde(default)]
    pub(crate) field_paths: Vec<String>,
    #[serde(default)]
    pub(crate) options: Option<ReplacementOptions>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplacementOptions {
    #[serde(default)]
    pub(crate) delimiter: String,
    #[serde(default)]
    pub(crate) index: i64,
    #[serde(default)]
    pub(crate) create: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SortOptions {
    #[serde(default)]
    pub(crate) order: String,
    #[serde(default)]
    pub(crate) legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LegacySortOptions {
    #[serde(default)]
    pub(crate) order_first: Vec<String>,
    #[serde(default)]
    pub(crate) order_last: Vec<String>,
}

/// A `vars` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) objref: ObjRef,
    #[serde(default)]
    pub(crate) fieldref: FieldRef,
}

/// The object a var reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ObjRef {
    #[serde(default)]
    pub(crate) api_version: String,
    #[serde(default)]
    pub(crate) group: String,
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FieldRef {
    /// Go's JSON decoding matches field names case-insensitively; `fieldpath` is common.
    #[serde(default, alias = "fieldpath")]
    pub(crate) field_path: String,
}

impl Kustomization {
    /// Reads a kustomization from its parsed document; `file` names it in errors.
    pub(crate) fn from_document(file: &str, document: Value) -> Result<Self> {
        let invalid = |detail: String| Error::KustomizationInvalid {
            file: file.to_owned(),
            detail,
        };
        let mut map = match crate::spelling::canonical(document) {
            Value::Object(map) => map,
            Value::Null => {
                return Err(invalid("the kustomization is empty".into()));
            }
            _ => return Err(invalid("a kustomization must be a mapping".into())),
        };
        // A field left with nothing (`patches:` over entries all commented out, as
        // scaffolds write) is null, which Go reads as the field's empty value.
        map.retain(|_, value| !value.is_null());
        for key in map.keys() {
            if SUPPORTED.contains(&key.as_str()) {
                continue;
            }
            if KNOWN_UNSUPPORTED.contains(&key.as_str()) {
                return Err(Error::KustomizeUnsupported {
                    file: file.to_owned(),
                    field: key.clone(),
                });
            }
            return Err(invalid(format!("unknown field {key:?}")));
        }
        let mut kustomization: Kustomization =
            serde_json::from_value(Value::Object(map)).map_err(|err| invalid(err.to_string()))?;
        match kustomization.kind.as_deref() {
            None | Some("Kustomization" | "Component") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "kind {other:?} is neither Kustomization nor Component"
                )));
            }
        }
        // Kustomize folds the deprecated `bases` into `resources`.
        let bases = std::mem::take(&mut kustomization.bases);
        kustomization.resources.extend(bases);
        Ok(kustomization)
    }

    pub(crate) fn is_component(&self) -> bool {
        self.kind.as_deref() == Some("Component")
    }
}
