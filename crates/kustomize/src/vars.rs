//! `vars` (deprecated in Kustomize, everywhere in older repositories): `$(NAME)` in the
//! fields Kustomize's `varReference` lists (container command, args, env values and mount
//! paths, Service ports, Ingress hosts, labels, annotations, … and those `configurations`
//! add) becomes a field of another object, read after every transformer, hash and name
//! reference — so `$(SERVICE)` is the Service's final name.
//!
//! A var is tied to its object when the kustomization declaring it is built (by the
//! object's current or earlier ids, so it survives later renames); it must match exactly
//! one object, and a name may be declared once in a build. As in Kustomize, once any var
//! exists every string in those fields is expanded: an unknown `$(X)` stays, and `$$`
//! is an escaped `$`.

use serde_json::{Map, Value};

use super::BuildError;
use super::fieldspec::{self, FieldSpec};
pub(crate) use super::kustomization::Var;
use super::resource::{ResId, Resource, split_api_version};

impl Var {
    fn target(&self) -> ResId {
        let o = &self.objref;
        let (group, version) = if o.api_version.is_empty() {
            (o.group.as_str(), o.version.as_str())
        } else {
            split_api_version(&o.api_version)
        };
        ResId {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            namespace: o.namespace.clone(),
        }
    }

    fn field_path(&self) -> &str {
        match self.fieldref.field_path.as_str() {
            "" => "metadata.name",
            path => path,
        }
    }
}

/// Ties a kustomization's vars to their objects and adds them to those declared so far.
pub(crate) fn declare(
    resources: &mut [Resource],
    declared: &mut Vec<Var>,
    incoming: &[Var],
) -> Result<(), BuildError> {
    for var in incoming {
        let target = var.target();
        let with_namespace = !target.namespace.is_empty() || target.is_cluster_scoped();
        let matches = |id: &ResId| {
            id.group == target.group
                && id.version == target.version
                && id.kind == target.kind
                && id.name == target.name
                && (!with_namespace || id.effective_namespace() == target.effective_namespace())
        };
        let found: Vec<usize> = (0..resources.len())
            .filter(|&i| resources[i].any_ids().iter().any(matches))
            .collect();
        match found.as_slice() {
            [one] => resources[*one].vars.push(var.name.clone()),
            [] => {}
            many => {
                return Err(BuildError::new(format!(
                    "found {} resId matches for var {} (unable to disambiguate); give its objref a namespace",
                    many.len(),
                    var.name
                )));
            }
        }
    }
    for var in incoming {
        if declared.iter().any(|v| v.name == var.name) {
            return Err(BuildError::new(format!(
                "var '{}' already encountered; give each var its own name",
                var.name
            )));
        }
        declared.push(var.clone());
    }
    Ok(())
}

/// Expands every var in the `varReference` fields (`specs`) of every object.
pub(crate) fn resolve(
    resources: &mut [Resource],
    vars: &[Var],
    specs: &[FieldSpec],
) -> Result<(), BuildError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values = Map::new();
    for var in vars {
        let holder = resources
            .iter()
            .find(|r| r.vars.contains(&var.name))
            .ok_or_else(|| {
                BuildError::new(format!(
                    "var '{}' cannot be mapped to a field in the set of known resources: no {} named {} when it was declared",
                    var.name, var.objref.kind, var.objref.name
                ))
            })?;
        let value = field(&holder.object, var.field_path()).ok_or_else(|| {
            BuildError::new(format!(
                "field {} specified in var '{}' not found in {}",
                var.field_path(),
                var.name,
                holder.cur_id().describe()
            ))
        })?;
        values.insert(var.name.clone(), value);
    }
    for resource in resources.iter_mut() {
        let id = resource.cur_id();
        let mut object = Value::Object(std::mem::take(&mut resource.object));
        for spec in specs.iter().filter(|s| s.selects(&id)) {
            fieldspec::visit::<BuildError>(&mut object, &spec.path, false, &mut |v| {
                expand_node(v, &values)
            })?;
        }
        resource.object = super::transform::namespace::into_map(object);
    }
    Ok(())
}

/// A field by a dotted path (`spec.ports[0].port`, `spec.containers[name=app].image`).
fn field(object: &Map<String, Value>, path: &str) -> Option<Value> {
    let mut node = object.get(path.split('.').next()?)?;
    let mut parts: Vec<String> = Vec::new();
    for segment in path.split('.').skip(1) {
        match segment.strip_suffix(']').and_then(|s| s.split_once('[')) {
            Some((name, index)) if index.bytes().all(|b| b.is_ascii_digit()) => {
                if !name.is_empty() {
                    parts.push(name.to_owned());
                }
                parts.push(index.to_owned());
            }
            _ => parts.push(segment.to_owned()),
        }
    }
    for part in &parts {
        node = match node {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => match part
                .strip_prefix('[')
                .and_then(|p| p.strip_suffix(']'))
                .and_then(|p| p.split_once('='))
            {
                Some((key, value)) => items
                    .iter()
                    .find(|i| i.get(key).and_then(Value::as_str) == Some(value))?,
                None => items.get(part.parse::<usize>().ok()?)?,
            },
            _ => return None,
        };
    }
    Some(node.clone())
}

fn expand_node(node: &mut Value, values: &Map<String, Value>) -> Result<(), BuildError> {
    match node {
        Value::String(text) => *node = expand(text, values),
        Value::Object(map) => {
            for value in map.values_mut() {
                if let Value::String(text) = value {
                    *value = expand(text, values);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let Value::String(text) = item else {
                    return Err(BuildError::new(
                        "invalid value type expect a string: a var reference field lists a non-string"
                            .into(),
                    ));
                };
                *item = expand(text, values);
            }
        }
        _ => {}
    }
    Ok(())
}

/// A var's value as Kustomize replaces it; maps and lists are not replaced.
fn primitive(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
}

/// Kustomize's `DoReplacements`: `$(NAME)` alone becomes the value itself (a number stays
/// a number); within text, its printed form; `$$` is `$`.
fn expand(input: &str, values: &Map<String, Value>) -> Value {
    let bytes = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        match primitive(values.get(name)) {
                            Some(value) if input.len() == name.len() + 3 => return value.clone(),
                            Some(Value::String(text)) => out.push_str(text),
                            Some(other) => out.push_str(&other.to_string()),
                            None => out.push_str(&format!("$({name})")),
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    let next = rest.chars().next().unwrap_or_default();
                    out.push('$');
                    out.push(next);
                    next.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(&input[checkpoint.min(input.len())..]);
    Value::String(out)
}

/// Kustomize's default `varReference` field specs.
pub(crate) fn default_references() -> Vec<FieldSpec> {
    const CONTAINER_FIELDS: [&str; 8] = [
        "containers/volumeMounts/mountPath",
        "containers/env/value",
        "containers/command",
        "containers/args",
        "initContainers/volumeMounts/mountPath",
        "initContainers/env/value",
        "initContainers/command",
        "initContainers/args",
    ];
    let mut specs = vec![
        FieldSpec::new("", "", "Service", "spec/ports/port", false),
        FieldSpec::new("", "", "Service", "spec/ports/targetPort", false),
        FieldSpec::new("", "", "PersistentVolume", "spec/nfs/server", false),
        FieldSpec::new(
            "",
            "",
            "Deployment",
            "spec/template/metadata/annotations",
            false,
        ),
        FieldSpec::new("", "", "Ingress", "spec/tls/secretName", false),
        FieldSpec::new("", "", "Ingress", "spec/tls/hosts", false),
        FieldSpec::new("", "", "Ingress", "spec/rules/host", false),
        FieldSpec::new("", "", "", "metadata/labels", false),
        FieldSpec::new("", "", "", "metadata/annotations", false),
    ];
    let pods = [
        ("Pod", "spec/", "spec/volumes/nfs/server"),
        (
            "Deployment",
            "spec/template/spec/",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "ReplicaSet",
            "spec/template/spec/",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "DaemonSet",
            "spec/template/spec/",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "Job",
            "spec/template/spec/",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "StatefulSet",
            "spec/template/spec/",
            "spec/volumeClaimTemplates/spec/nfs/server",
        ),
        // Kustomize's table has `template/volumes` (no `spec`) for CronJobs.
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec/",
            "spec/jobTemplate/spec/template/volumes/nfs/server",
        ),
    ];
    for (kind, prefix, nfs) in pods {
        for field in CONTAINER_FIELDS {
            specs.push(FieldSpec::new(
                "",
                "",
                kind,
                &format!("{prefix}{field}"),
                false,
            ));
        }
        specs.push(FieldSpec::new("", "", kind, nfs, false));
    }
    specs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expansion_follows_kustomize() {
        let mut values = Map::new();
        values.insert("SVC".into(), json!("web"));
        values.insert("PORT".into(), json!(8080));
        let expand = |s: &str| expand(s, &values);
        assert_eq!(expand("$(SVC)"), json!("web"));
        assert_eq!(expand("$(PORT)"), json!(8080));
        assert_eq!(expand("http://$(SVC):$(PORT)/"), json!("http://web:8080/"));
        assert_eq!(expand("$(OTHER) $(SVC)"), json!("$(OTHER) web"));
        assert_eq!(expand("$$(SVC) costs $$5"), json!("$(SVC) costs $5"));
        assert_eq!(expand("$(unclosed"), json!("$(unclosed"));
        assert_eq!(expand("tail$"), json!("tail$"));
    }

    #[test]
    fn fields_by_dotted_paths() {
        let object = json!({"spec": {"ports": [{"name": "http", "port": 80}]}});
        let object = object.as_object().unwrap();
        assert_eq!(field(object, "spec.ports[0].port"), Some(json!(80)));
        assert_eq!(
            field(object, "spec.ports.[name=http].port"),
            Some(json!(80))
        );
        assert_eq!(field(object, "spec.missing"), None);
    }
}
