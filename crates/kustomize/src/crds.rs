//! `crds`: OpenAPI definitions of custom types (as `openapi-gen` writes them, keyed by Go
//! type name) whose properties carry Kustomize's extensions — `x-kubernetes-object-ref-kind`
//! and `-api-version` (the property names another object: a name reference),
//! `x-kubernetes-label-selector`, `x-kubernetes-annotation`, `x-kubernetes-identity`
//! (take common labels, annotations, the name prefix). They become field specs, as if
//! written in `configurations`.

use serde_json::{Map, Value};

use super::configurations::{Configurations, NameReference};
use super::fieldspec::FieldSpec;
use super::load::Loader;
use crate::error::Result;

/// How deep `$ref`s are followed (definitions may refer to themselves).
const MAX_DEPTH: usize = 32;

/// The field specs the definitions in `paths` declare.
pub(crate) fn load(loader: &Loader, paths: &[String]) -> Result<Configurations> {
    let mut all = Configurations::default();
    for path in paths {
        let bytes = loader.read_relative(path)?;
        let documents = loader.parse_yaml(path, &bytes)?;
        let Some(Value::Object(definitions)) = documents.into_iter().next() else {
            return Err(loader.error(format!(
                "unable to parse open API definition from '{path}': expected a map of type names to definitions"
            )));
        };
        let mut found = Configurations::default();
        for (name, definition) in &definitions {
            let properties = properties(definition);
            let is_kind = ["kind", "apiVersion", "metadata"]
                .iter()
                .all(|p| properties.is_some_and(|m| m.contains_key(*p)));
            if !is_kind {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name);
            collect(&definitions, name, kind, &mut Vec::new(), &mut found);
        }
        all.merge(found)
            .map_err(|detail| loader.error(format!("crds file {path}: {detail}")))?;
    }
    Ok(all)
}

/// The properties of a definition (`Schema` is matched in any case, as Go decodes it).
fn properties(definition: &Value) -> Option<&Map<String, Value>> {
    let schema = definition
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("schema"))?
        .1;
    schema.get("properties")?.as_object()
}

fn collect(
    definitions: &Map<String, Value>,
    type_name: &str,
    kind: &str,
    path: &mut Vec<String>,
    out: &mut Configurations,
) {
    if path.len() > MAX_DEPTH {
        return;
    }
    let Some(properties) = definitions.get(type_name).and_then(properties) else {
        return;
    };
    for (name, property) in properties {
        let extension = |key: &str| property.get(key).and_then(Value::as_str);
        path.push(name.clone());
        let spec = |path: &[String]| FieldSpec::new("", "", kind, &path.join("/"), false);
        if extension("x-kubernetes-annotation").is_some() {
            out.common_annotations.push(spec(path));
        }
        if extension("x-kubernetes-label-selector").is_some() {
            out.common_labels.push(spec(path));
        }
        if extension("x-kubernetes-identity").is_some() {
            out.name_prefix.push(spec(path));
        }
        if let (Some(version), Some(target)) = (
            extension("x-kubernetes-object-ref-api-version"),
            extension("x-kubernetes-object-ref-kind"),
        ) {
            let key = extension("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut referrer = path.clone();
            referrer.push(key.to_owned());
            out.name_reference.push(NameReference {
                target: (String::new(), version.to_owned(), target.to_owned()),
                referrers: vec![spec(&referrer)],
            });
        }
        if let Some(reference) = extension("$ref") {
            collect(definitions, reference, kind, path, out);
        }
        path.pop();
    }
}
