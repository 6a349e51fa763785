//! Values files as Helm reads them: YAML 1.1 through JSON (every number a float64), several
//! documents merged, later files over earlier ones.

use serde_json::{Map, Value as Json};

type Table = Map<String, Json>;

/// A values file, read as Helm reads it (YAML 1.1 words such as `yes`; `0644` is octal).
pub fn read_values(text: &str) -> std::result::Result<Json, String> {
    // Several documents merge, later ones winning (Helm's `LoadValues`).
    let mut merged = Table::new();
    for document in crate::funcs::yaml::yaml_documents(text)? {
        match document {
            Json::Null => {}
            Json::Object(map) => merged = merge_maps(merged, &map),
            other => return Err(format!("values must be a map, not {}", kind(&other))),
        }
    }
    Ok(Json::Object(merged))
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// `helm -f a.yaml -f b.yaml`: later files win; maps merge key by key.
pub fn merge_user_values(layers: &[Json]) -> Json {
    let mut out = Table::new();
    for layer in layers {
        if let Json::Object(layer) = layer {
            out = merge_maps(out, layer);
        }
    }
    Json::Object(out)
}

pub(crate) fn merge_maps(mut a: Table, b: &Table) -> Table {
    for (k, v) in b {
        if let (Json::Object(bv), Some(Json::Object(av))) = (v, a.get(k)) {
            let merged = merge_maps(av.clone(), bv);
            a.insert(k.clone(), Json::Object(merged));
            continue;
        }
        a.insert(k.clone(), v.clone());
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_files_merge_in_order() {
        let merged = merge_user_values(&[
            json!({"a": {"x": 1, "y": 1}}),
            json!({"a": {"y": 2}, "b": 3}),
        ]);
        assert_eq!(merged, json!({"a": {"x": 1, "y": 2}, "b": 3}));
    }

    #[test]
    fn several_documents_merge() {
        let values = read_values("a: {x: 1}\n---\na: {z: 2}\nb: 0755\n").unwrap();
        assert_eq!(values, json!({"a": {"x": 1.0, "z": 2.0}, "b": 493.0}));
        assert!(read_values("- 1\n").unwrap_err().contains("must be a map"));
    }
}
