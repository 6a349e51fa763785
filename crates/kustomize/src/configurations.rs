//! `configurations`: a kustomization's own field specs for Kustomize's transformers —
//! which fields of a custom resource hold labels, images, replicas or a namespace, which
//! take the name prefix, which name another object (`nameReference`). They add to
//! Kustomize's defaults (a spec already there is not added twice) and, as in Kustomize,
//! flow upward: an overlay's transformers and the final name references also use the
//! specs its bases and components declared.

use serde::Deserialize;

use super::fieldspec::{FieldSpec, builtin};
use super::kustomization::FieldSpecEntry;
use super::load::Loader;
use crate::error::Result;

/// Field specs declared by `configurations` files (beyond Kustomize's defaults).
#[derive(Clone, Debug, Default)]
pub(crate) struct Configurations {
    pub(crate) name_prefix: Vec<FieldSpec>,
    pub(crate) name_suffix: Vec<FieldSpec>,
    pub(crate) namespace: Vec<FieldSpec>,
    pub(crate) common_labels: Vec<FieldSpec>,
    pub(crate) template_labels: Vec<FieldSpec>,
    pub(crate) common_annotations: Vec<FieldSpec>,
    pub(crate) images: Vec<FieldSpec>,
    pub(crate) replicas: Vec<FieldSpec>,
    pub(crate) var_reference: Vec<FieldSpec>,
    pub(crate) name_reference: Vec<NameReference>,
}

/// Objects of one kind, and the fields that name them.
#[derive(Clone, Debug)]
pub(crate) struct NameReference {
    /// (group, version, kind) of the objects referred to.
    pub(crate) target: (String, String, String),
    pub(crate) referrers: Vec<FieldSpec>,
}

/// A configurations file as Kustomize reads it; fields it does not know are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    name_prefix: Vec<FieldSpecEntry>,
    #[serde(default)]
    name_suffix: Vec<FieldSpecEntry>,
    #[serde(default)]
    namespace: Vec<FieldSpecEntry>,
    #[serde(default)]
    common_labels: Vec<FieldSpecEntry>,
    #[serde(default)]
    template_labels: Vec<FieldSpecEntry>,
    #[serde(default)]
    common_annotations: Vec<FieldSpecEntry>,
    #[serde(default)]
    images: Vec<FieldSpecEntry>,
    #[serde(default)]
    replicas: Vec<FieldSpecEntry>,
    #[serde(default)]
    var_reference: Vec<FieldSpecEntry>,
    #[serde(default)]
    name_reference: Vec<NameReferenceEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameReferenceEntry {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_specs: Vec<FieldSpecEntry>,
}

fn specs(entries: &[FieldSpecEntry]) -> Vec<FieldSpec> {
    entries
        .iter()
        .map(|f| FieldSpec::new(&f.group, &f.version, &f.kind, &f.path, f.create))
        .collect()
}

/// Whether two specs name the same field of overlapping kinds (one's kind selects the
/// other's), as Kustomize finds a spec already merged.
fn overlaps(a: &FieldSpec, b: &FieldSpec) -> bool {
    let selects = |x: &FieldSpec, y: &FieldSpec| {
        (x.group.is_empty() || x.group == y.group)
            && (x.version.is_empty() || x.version == y.version)
            && (x.kind.is_empty() || x.kind == y.kind)
    };
    a.path == b.path && (selects(a, b) || selects(b, a))
}

/// `base` with the specs of `extra` it does not already hold, in order.
pub(crate) fn merged(mut base: Vec<FieldSpec>, extra: &[FieldSpec]) -> Vec<FieldSpec> {
    for spec in extra {
        if !base.iter().any(|b| overlaps(b, spec)) {
            base.push(spec.clone());
        }
    }
    base
}

/// Kustomize refuses to merge a spec into one of the same field and overlapping kinds
/// that differs in `create`.
fn conflict(held: &[FieldSpec], incoming: &[FieldSpec]) -> Option<String> {
    incoming.iter().find_map(|spec| {
        held.iter()
            .find(|h| overlaps(h, spec) && h.create != spec.create)
            .map(|h| {
                format!(
                    "conflicting fieldspecs: {} of {} (create: {}) and of {} (create: {}); give it create: {}",
                    spec.path_text(),
                    kinds(spec),
                    spec.create,
                    kinds(h),
                    h.create,
                    h.create
                )
            })
    })
}

fn kinds(spec: &FieldSpec) -> String {
    if spec.kind.is_empty() {
        "every kind".to_owned()
    } else {
        spec.kind.clone()
    }
}

/// Kustomize's default field specs, by `configurations` section (those plumb keeps
/// elsewhere), to find conflicts with declared ones.
fn defaults(section: &str) -> Vec<FieldSpec> {
    let all = |path: &str, create: bool| vec![FieldSpec::new("", "", "", path, create)];
    match section {
        "namePrefix" | "nameSuffix" => all("metadata/name", false),
        "namespace" => {
            let mut specs = builtin::namespace();
            specs.extend(all("metadata/namespace", true));
            specs
        }
        "commonLabels" => builtin::common_labels(),
        "templateLabels" => builtin::template_labels(),
        "commonAnnotations" => builtin::common_annotations(),
        "images" => [
            "spec/containers[]/image",
            "spec/initContainers[]/image",
            "spec/template/spec/containers[]/image",
            "spec/template/spec/initContainers[]/image",
        ]
        .iter()
        .flat_map(|path| all(path, true))
        .collect(),
        "replicas" => builtin::replicas(),
        _ => Vec::new(),
    }
}

impl Configurations {
    /// Reads the `configurations` files of a kustomization.
    pub(crate) fn load(loader: &Loader, paths: &[String]) -> Result<Self> {
        let mut all = Configurations::default();
        for path in paths {
            let bytes = loader.read_relative(path)?;
            for document in loader.parse_yaml(path, &bytes)? {
                if document.is_null() {
                    continue;
                }
                let file: File = serde_json::from_value(document).map_err(|err| {
                    loader.error(format!(
                        "configurations file {path}: {err}; it holds field specs by transformer (nameReference, commonLabels, images, …)"
                    ))
                })?;
                all.merge(Configurations::from(file)).map_err(|detail| {
                    loader.error(format!("configurations file {path}: {detail}"))
                })?;
            }
        }
        Ok(all)
    }

    /// Adds what `other` declares that this does not hold yet; a spec conflicting with
    /// Kustomize's defaults or with one already declared is an error.
    pub(crate) fn merge(&mut self, other: Configurations) -> Result<(), String> {
        let lists = [
            ("namePrefix", &mut self.name_prefix, other.name_prefix),
            ("nameSuffix", &mut self.name_suffix, other.name_suffix),
            ("namespace", &mut self.namespace, other.namespace),
            ("commonLabels", &mut self.common_labels, other.common_labels),
            (
                "templateLabels",
                &mut self.template_labels,
                other.template_labels,
            ),
            (
                "commonAnnotations",
                &mut self.common_annotations,
                other.common_annotations,
            ),
            ("images", &mut self.images, other.images),
            ("replicas", &mut self.replicas, other.replicas),
            ("varReference", &mut self.var_reference, other.var_reference),
        ];
        for (section, mine, theirs) in lists {
            let mut held = merged(defaults(section), mine);
            if let Some(detail) = conflict(&held, &theirs) {
                return Err(format!("{section}: {detail}"));
            }
            for spec in theirs {
                if !held.iter().any(|h| overlaps(h, &spec)) {
                    held.push(spec.clone());
                    mine.push(spec);
                }
            }
        }
        for reference in other.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|r| r.target == reference.target)
            {
                Some(found) => {
                    found.referrers =
                        merged(std::mem::take(&mut found.referrers), &reference.referrers);
                }
                None => self.name_reference.push(reference),
            }
        }
        Ok(())
    }
}

impl From<File> for Configurations {
    fn from(file: File) -> Self {
        Configurations {
            name_prefix: specs(&file.name_prefix),
            name_suffix: specs(&file.name_suffix),
            namespace: specs(&file.namespace),
            common_labels: specs(&file.common_labels),
            template_labels: specs(&file.template_labels),
            common_annotations: specs(&file.common_annotations),
            images: specs(&file.images),
            replicas: specs(&file.replicas),
            var_reference: specs(&file.var_reference),
            name_reference: file
                .name_reference
                .into_iter()
                .map(|entry| NameReference {
                    target: (entry.group, entry.version, entry.kind),
                    referrers: specs(&entry.field_specs),
                })
                .collect(),
        }
    }
}
