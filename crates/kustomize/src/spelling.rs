//! How Kustomize reads a kustomization's field names: through Go's JSON decoding, which
//! matches them case-insensitively — `nameprefix`, `commonlabels`, `Literals` and
//! `fieldpath` all work with kubectl. Keys are brought to their canonical spelling before
//! plumb reads the document; the keys of free-form maps (labels, annotations, Helm
//! values, patch options) are data and stay as written.

use serde_json::{Map, Value};

/// Every field name of a kustomization and of the structures inside it.
const FIELDS: &[&str] = &[
    "additionalValuesFiles",
    "annotationSelector",
    "annotations",
    "apiVersion",
    "apiVersions",
    "bases",
    "behavior",
    "buildMetadata",
    "chartHome",
    "commonAnnotations",
    "commonLabels",
    "components",
    "configMapGenerator",
    "configurations",
    "count",
    "create",
    "crds",
    "delimiter",
    "digest",
    "disableNameSuffixHash",
    "env",
    "envs",
    "fieldPath",
    "fieldPaths",
    "fieldref",
    "fields",
    "files",
    "generatorOptions",
    "generators",
    "group",
    "helmCharts",
    "helmGlobals",
    "images",
    "immutable",
    "includeCRDs",
    "includeSelectors",
    "includeTemplates",
    "index",
    "kind",
    "kubeVersion",
    "labelSelector",
    "labels",
    "legacySortOptions",
    "literals",
    "metadata",
    "name",
    "namePrefix",
    "nameSuffix",
    "nameTemplate",
    "namespace",
    "newName",
    "newTag",
    "objref",
    "openapi",
    "options",
    "order",
    "orderFirst",
    "orderLast",
    "pairs",
    "patch",
    "patches",
    "patchesJson6902",
    "patchesStrategicMerge",
    "path",
    "reject",
    "releaseName",
    "replacements",
    "replicas",
    "repo",
    "resources",
    "secretGenerator",
    "select",
    "skipHooks",
    "skipTests",
    "sortOptions",
    "source",
    "tagSuffix",
    "target",
    "targets",
    "transformers",
    "type",
    "validators",
    "values",
    "valuesFile",
    "valuesInline",
    "valuesMerge",
    "vars",
    "version",
];

/// Fields whose value is a map of data, never of field names.
const FREE_FORM: &[&str] = &[
    "commonLabels",
    "commonAnnotations",
    "pairs",
    "valuesInline",
    "openapi",
    "metadata",
];

/// The document with every field name in its canonical spelling.
pub(crate) fn canonical(document: Value) -> Value {
    walk(document, "")
}

/// `field` is the name of the field holding `value` (`patches[]` for an element of
/// `patches`).
fn walk(value: Value, field: &str) -> Value {
    match value {
        Value::Object(map) => {
            // Generator options' labels and annotations, and patches' options, are maps
            // of data (the `labels` list of a kustomization holds structures).
            if FREE_FORM.contains(&field)
                || matches!(field, "labels" | "annotations" | "patchOptions")
            {
                return Value::Object(map);
            }
            let mut out = Map::new();
            for (key, value) in map {
                let name = spelled(&key).unwrap_or(&key).to_owned();
                let patch = matches!(field, "patches[]" | "patchesJson6902[]");
                let context = if name == "options" && patch {
                    "patchOptions"
                } else {
                    name.as_str()
                };
                let value = walk(value, context);
                out.insert(name, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let context = format!("{field}[]");
            Value::Array(items.into_iter().map(|v| walk(v, &context)).collect())
        }
        other => other,
    }
}

fn spelled(key: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .find(|field| field.eq_ignore_ascii_case(key))
        .copied()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::canonical;

    #[test]
    fn field_names_take_their_spelling_and_data_keys_stay() {
        let document = json!({
            "nameprefix": "x-",
            "CommonLabels": {"App": "web"},
            "configMapGenerator": [{"Name": "g", "LITERALS": ["a=b"],
                "options": {"Labels": {"Tier": "x"}}}],
            "patches": [{"Path": "p.yaml", "options": {"AllowNameChange": true}}],
            "labels": [{"Pairs": {"Team": "a"}, "includeselectors": true}],
        });
        assert_eq!(
            canonical(document),
            json!({
                "namePrefix": "x-",
                "commonLabels": {"App": "web"},
                "configMapGenerator": [{"name": "g", "literals": ["a=b"],
                    "options": {"labels": {"Tier": "x"}}}],
                "patches": [{"path": "p.yaml", "options": {"AllowNameChange": true}}],
                "labels": [{"pairs": {"Team": "a"}, "includeSelectors": true}],
            })
        );
    }
}
