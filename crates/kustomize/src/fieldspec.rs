//! Field specs: "this path, in objects of this group/version/kind". Kustomize's
//! transformers are driven by tables of them (which fields hold labels, names, images…);
//! this module walks a path through an object, into every element of the sequences it
//! meets, creating missing maps when asked.

use serde_json::{Map, Value};

use super::resource::ResId;

/// One field spec.
#[derive(Clone, Debug)]
pub(crate) struct FieldSpec {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) path: Vec<String>,
    pub(crate) create: bool,
}

impl FieldSpec {
    /// `path` is `/`-separated; `\/` is a slash inside a field name.
    pub(crate) fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        FieldSpec {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            path: split_path(path),
            create,
        }
    }

    /// Whether objects of `id`'s kind carry this field (empty parts match anything).
    pub(crate) fn selects(&self, id: &ResId) -> bool {
        gvk_selects(&self.group, &self.version, &self.kind, id)
    }

    /// The path as written, without sequence marks (`spec/template/metadata/labels`).
    pub(crate) fn path_text(&self) -> String {
        let parts: Vec<&str> = self
            .path
            .iter()
            .map(|p| p.strip_suffix("[]").unwrap_or(p))
            .collect();
        parts.join("/")
    }
}

/// Kustomize's `Gvk.IsSelected`: every non-empty part of the selector must match.
pub(crate) fn gvk_selects(group: &str, version: &str, kind: &str, id: &ResId) -> bool {
    (group.is_empty() || group == id.group)
        && (version.is_empty() || version == id.version)
        && (kind.is_empty() || kind == id.kind)
}

fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '/' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    // A `[]` suffix (`spec/volumeClaimTemplates[]/…`) stays: it marks a sequence, which a
    // transformer never creates.
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Calls `leaf` on the value at `path` in `node` (on every match, descending into each
/// element of the sequences on the way). When `create`, missing maps are made and a
/// missing leaf is passed as `Null` for `leaf` to fill; otherwise missing paths are
/// skipped.
pub(crate) fn visit<E>(
    node: &mut Value,
    path: &[String],
    create: bool,
    leaf: &mut dyn FnMut(&mut Value) -> Result<(), E>,
) -> Result<(), E> {
    if let Value::Array(items) = node {
        for item in items {
            visit(item, path, create, leaf)?;
        }
        return Ok(());
    }
    let Some((first, rest)) = path.split_first() else {
        return leaf(node);
    };
    let Value::Object(map) = node else {
        return Ok(());
    };
    visit_field(map, first, rest, create, leaf)
}

fn visit_field<E>(
    map: &mut Map<String, Value>,
    field: &str,
    rest: &[String],
    create: bool,
    leaf: &mut dyn FnMut(&mut Value) -> Result<(), E>,
) -> Result<(), E> {
    let (field, sequence) = match field.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (field, false),
    };
    if !map.contains_key(field) {
        if !create || sequence {
            return Ok(());
        }
        let fresh = if rest.is_empty() {
            Value::Null
        } else {
            Value::Object(Map::new())
        };
        map.insert(field.to_owned(), fresh);
    }
    let child = map.get_mut(field).expect("inserted above");
    if child.is_null() && !rest.is_empty() {
        if !create || sequence {
            return Ok(());
        }
        *child = Value::Object(Map::new());
    }
    if rest.is_empty() {
        if child.is_null() && !create {
            return Ok(());
        }
        return leaf(child);
    }
    visit(child, rest, create, leaf)
}

/// Kustomize's default field specs, by transformer.
pub(crate) mod builtin {
    use super::FieldSpec;

    type Row = (&'static str, &'static str, &'static str, &'static str, bool);

    fn specs(rows: &[Row]) -> Vec<FieldSpec> {
        rows.iter()
            .map(|&(g, v, k, path, create)| FieldSpec::new(g, v, k, path, create))
            .collect()
    }

    /// Labels on the object and its pod templates (`labels` without selectors).
    const METADATA_LABELS: &[Row] = &[
        ("", "", "", "metadata/labels", true),
        (
            "",
            "v1",
            "ReplicationController",
            "spec/template/metadata/labels",
            true,
        ),
        ("", "", "Deployment", "spec/template/metadata/labels", true),
        ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
        ("", "", "DaemonSet", "spec/template/metadata/labels", true),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/metadata/labels",
            true,
        ),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/volumeClaimTemplates[]/metadata/labels",
            true,
        ),
        ("batch", "", "Job", "spec/template/metadata/labels", true),
        (
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/metadata/labels",
            true,
        ),
        (
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/spec/template/metadata/labels",
            true,
        ),
    ];

    /// Selectors that `commonLabels` (and `labels` with `includeSelectors`) also change.
    const SELECTORS: &[Row] = &[
        ("", "v1", "Service", "spec/selector", true),
        ("", "v1", "ReplicationController", "spec/selector", true),
        ("", "", "Deployment", "spec/selector/matchLabels", true),
        (
            "apps",
            "",
            "Deployment",
            "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "Deployment",
            "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "Deployment",
            "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "Deployment",
            "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "Deployment",
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false,
        ),
        ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
        ("", "", "DaemonSet", "spec/selector/matchLabels", true),
        ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            false,
        ),
        (
            "apps",
            "",
            "StatefulSet",
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false,
        ),
        ("batch", "", "Job", "spec/selector/matchLabels", false),
        (
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/spec/selector/matchLabels",
            false,
        ),
        (
            "policy",
            "",
            "PodDisruptionBudget",
            "spec/selector/matchLabels",
            false,
        ),
        (
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/podSelector/matchLabels",
            false,
        ),
        (
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/ingress/from/podSelector/matchLabels",
            false,
        ),
        (
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/egress/to/podSelector/matchLabels",
            false,
        ),
    ];

    /// `commonLabels`: selectors, then the object's and templates' labels.
    pub(crate) fn common_labels() -> Vec<FieldSpec> {
        let mut all = specs(SELECTORS);
        all.extend(specs(METADATA_LABELS));
        all
    }

    /// `labels` with `includeTemplates` (and no selectors).
    pub(crate) fn template_labels() -> Vec<FieldSpec> {
        specs(METADATA_LABELS)
    }

    pub(crate) fn common_annotations() -> Vec<FieldSpec> {
        specs(&[
            ("", "", "", "metadata/annotations", true),
            (
                "",
                "v1",
                "ReplicationController",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "",
                "",
                "Deployment",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "",
                "",
                "ReplicaSet",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "",
                "",
                "DaemonSet",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "",
                "",
                "StatefulSet",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "batch",
                "",
                "Job",
                "spec/template/metadata/annotations",
                true,
            ),
            (
                "batch",
                "",
                "CronJob",
                "spec/jobTemplate/metadata/annotations",
                true,
            ),
            (
                "batch",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/metadata/annotations",
                true,
            ),
        ])
    }

    pub(crate) fn replicas() -> Vec<FieldSpec> {
        specs(&[
            ("", "", "Deployment", "spec/replicas", true),
            ("", "", "ReplicationController", "spec/replicas", true),
            ("", "", "ReplicaSet", "spec/replicas", true),
            ("", "", "StatefulSet", "spec/replicas", true),
        ])
    }

    /// Namespace fields besides `metadata/namespace`.
    pub(crate) fn namespace() -> Vec<FieldSpec> {
        specs(&[
            ("", "", "Namespace", "metadata/name", true),
            (
                "apiregistration.k8s.io",
                "",
                "APIService",
                "spec/service/namespace",
                true,
            ),
            (
                "apiextensions.k8s.io",
                "",
                "CustomResourceDefinition",
                "spec/conversion/webhook/clientConfig/service/namespace",
                false,
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_descend_into_sequences_and_create_maps() {
        let mut object = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let spec = FieldSpec::new("", "", "", "spec/containers[]/image", false);
        let mut seen = Vec::new();
        visit::<()>(&mut object, &spec.path, false, &mut |v| {
            seen.push(v.as_str().unwrap().to_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["a", "b"]);
        let mut empty = json!({});
        let labels = FieldSpec::new("", "", "", "metadata/labels", true);
        visit::<()>(&mut empty, &labels.path, true, &mut |v| {
            *v = json!({"a": "b"});
            Ok(())
        })
        .unwrap();
        assert_eq!(empty, json!({"metadata": {"labels": {"a": "b"}}}));
    }

    #[test]
    fn a_missing_sequence_is_never_created() {
        let mut object = json!({"spec": {"serviceName": "zk"}});
        let spec = FieldSpec::new(
            "",
            "",
            "StatefulSet",
            "spec/volumeClaimTemplates[]/metadata/labels",
            true,
        );
        visit::<()>(&mut object, &spec.path, true, &mut |v| {
            *v = json!({"a": "b"});
            Ok(())
        })
        .unwrap();
        assert_eq!(object, json!({"spec": {"serviceName": "zk"}}));
        assert_eq!(
            spec.path_text(),
            "spec/volumeClaimTemplates/metadata/labels"
        );
    }

    #[test]
    fn escaped_slashes_stay_in_the_field_name() {
        let spec = FieldSpec::new(
            "",
            "",
            "Ingress",
            "metadata/annotations/a.io\\/secret",
            false,
        );
        assert_eq!(spec.path, ["metadata", "annotations", "a.io/secret"]);
    }
}
