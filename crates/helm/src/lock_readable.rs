//! Whether helm's loader can read a `Chart.lock` at all: the one check `helm template`
//! makes of a lock (it never compares it with `Chart.yaml`; [`crate::lock`] pins).

use serde_json::Value as Json;

/// Helm's loader reading `Chart.lock` or `requirements.lock` (`file`), for a chart of any
/// apiVersion: sigs.k8s.io/yaml into Go's `chart.Lock`. `helm template` never compares the
/// lock with `Chart.yaml` (a stale digest, a dependency added or removed since: it renders
/// what `charts/` holds, and fails only for a dependency missing there), but a lock Go
/// cannot read fails the load. Go's rules: a string field takes any scalar (sigs.k8s.io/yaml
/// turns numbers and booleans into text) but not a list or map, `enabled` is a bool,
/// `import-values` a list, `generated` an RFC 3339 text, null is always empty, and field
/// names match whatever their case.
pub(crate) fn check(bytes: &[u8], file: &str) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let cannot_load = |message: String| format!("cannot load {file}: {message}");
    let json = crate::funcs::yaml::from_yaml_json(&text).map_err(cannot_load)?;
    let lock = match json {
        Json::Null => return Ok(()),
        Json::Object(lock) => lock,
        other => {
            return Err(cannot_load(format!(
                "a {} where a map of digest, generated and dependencies belongs; \
                 run `helm dependency update` to write it again",
                json_kind(&other)
            )));
        }
    };
    let wrong = |field: &str, value: &Json, want: &str| {
        cannot_load(format!(
            "{field} is a {}, not {want}; run `helm dependency update` to write it again",
            json_kind(value)
        ))
    };
    for (key, value) in &lock {
        match (key.to_lowercase().as_str(), value) {
            (_, Json::Null) => {}
            ("generated", Json::String(t)) if crate::go_time::parses_as_rfc3339(t) => {}
            ("generated", v) => return Err(wrong("generated", v, "an RFC 3339 time")),
            ("digest", v) if !is_scalar(v) => return Err(wrong("digest", v, "a string")),
            ("dependencies", Json::Array(deps)) => {
                for dep in deps {
                    check_dependency(dep).map_err(|(field, v, want)| {
                        wrong(&format!("a dependency's {field}"), v, want)
                    })?;
                }
            }
            ("dependencies", v) => return Err(wrong("dependencies", v, "a list")),
            _ => {}
        }
    }
    Ok(())
}

/// One entry of the lock's `dependencies`, as Go's `chart.Dependency` takes it; else the
/// field at fault, its value and what it must be.
fn check_dependency(dep: &Json) -> Result<(), (&str, &Json, &'static str)> {
    let fields = match dep {
        Json::Null => return Ok(()),
        Json::Object(fields) => fields,
        other => return Err(("entry", other, "a map")),
    };
    for (key, value) in fields {
        match (key.to_lowercase().as_str(), value) {
            (_, Json::Null) => {}
            ("name" | "version" | "repository" | "condition" | "alias", v) if !is_scalar(v) => {
                return Err((key.as_str(), v, "a string"));
            }
            ("tags", Json::Array(tags)) => {
                if let Some(tag) = tags.iter().find(|t| !is_scalar(t)) {
                    return Err(("tag", tag, "a string"));
                }
            }
            ("tags", v) => return Err(("tags", v, "a list")),
            ("enabled", v) if !v.is_boolean() => return Err(("enabled", v, "a bool")),
            ("import-values", v) if !v.is_array() => return Err(("import-values", v, "a list")),
            _ => {}
        }
    }
    Ok(())
}

fn is_scalar(v: &Json) -> bool {
    !(v.is_array() || v.is_object())
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "list",
        Json::Object(_) => "map",
    }
}
