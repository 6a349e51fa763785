//! The name suffix of generated ConfigMaps and Secrets: Kustomize's hash, bit for bit.
//!
//! Kustomize hashes a small JSON document (kind, an empty name, data and, when present,
//! binaryData or stringData; type for Secrets) encoded by Go's `encoding/json` — sorted
//! keys and HTML-safe escapes — takes SHA-256, and maps the first ten hex digits onto an
//! alphabet without vowels-lookalikes (`0→g 1→h 3→k a→m e→t`).

use plumb_manifest::go_json;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The suffix for a ConfigMap or Secret object (`None` for other kinds).
/// Appends its content hash to the name of every object marked for one (Kustomize's
/// `HashTransformer`, run at the end of a render and wherever a kustomization lists it).
pub(crate) fn suffix_names(resources: &mut [crate::resource::Resource]) {
    for resource in resources.iter_mut().filter(|r| r.needs_hash) {
        if let Some(suffix) = suffix(&resource.object) {
            resource.store_previous_id();
            let name = format!("{}-{suffix}", resource.name());
            resource.set_name(&name);
        }
    }
}

pub(crate) fn suffix(object: &Map<String, Value>) -> Option<String> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    // Kustomize looks the name up as the single field `metadata/name`, which never
    // exists: the name it hashes is always empty. Matching its hashes means doing the same.
    let name = Value::String(String::new());
    let field = |key: &str| match object.get(key) {
        None => Value::String(String::new()),
        Some(value) => value.clone(),
    };
    let mut document = Map::new();
    document.insert("kind".into(), kind.into());
    document.insert("name".into(), name);
    match kind {
        "ConfigMap" => {
            document.insert("data".into(), field("data"));
            if let Some(binary @ Value::Object(_)) = object.get("binaryData") {
                document.insert("binaryData".into(), binary.clone());
            }
        }
        "Secret" => {
            document.insert("data".into(), field("data"));
            document.insert("type".into(), field("type"));
            if let Some(string_data @ Value::Object(_)) = object.get("stringData") {
                document.insert("stringData".into(), string_data.clone());
            }
        }
        _ => return None,
    }
    let mut encoded = String::new();
    go_json(&Value::Object(document), &mut encoded);
    Some(encode(&Sha256::digest(encoded.as_bytes())))
}

fn encode(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// `encoding/json.Marshal` of a decoded JSON value: map keys sorted by bytes, `<>&` and
/// U+2028/U+2029 escaped.
fn go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_json::write_string(out, s, true),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json::write_string(out, key, true);
                out.push(':');
                go_json(&map[key.as_str()], out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_json_escapes_html_and_sorts_keys() {
        let mut out = String::new();
        go_json(&json!({"b": "<&>", "a": "x\ny"}), &mut out);
        assert_eq!(out, r#"{"a":"x\ny","b":"\u003c\u0026\u003e"}"#);
    }

    #[test]
    fn the_alphabet_avoids_lookalikes() {
        assert_eq!(
            encode(&[0x01, 0x3a, 0xe0, 0x00, 0x00]),
            "ghkmtgggggg"[..10].to_string()
        );
    }
}

#[cfg(test)]
mod oracle_values {
    use serde_json::json;

    #[test]
    fn a_generated_config_map_hashes_as_kustomize_does() {
        // `kubectl kustomize` names a generator `created` with literal x=1 this way.
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "created"}, "data": {"x": "1"}});
        assert_eq!(
            super::suffix(object.as_object().unwrap()).unwrap(),
            "hmg6f82fh6"
        );
    }
}
