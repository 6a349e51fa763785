//! One manifest file → its objects: multi-document YAML or JSON, `List`s flattened, empty
//! documents skipped, and documents that are not Kubernetes objects set aside and reported.

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::object::{DesiredObject, Origin};

/// A document that was not rendered because it is not a Kubernetes object, e.g. a
/// `values.yaml` beside the manifests. Reported so nobody wonders where it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    /// Where the document is.
    pub origin: Origin,
    /// Why it was not taken as an object.
    pub reason: String,
}

/// What one file holds.
#[derive(Debug, Default)]
pub struct FileContents {
    /// The Kubernetes objects, in file order.
    pub objects: Vec<DesiredObject>,
    /// The documents that are not objects.
    pub ignored: Vec<Ignored>,
}

/// The syntax of a manifest file, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `.yaml` or `.yml`: multi-document YAML.
    Yaml,
    /// `.json`: one JSON document.
    Json,
}

impl Syntax {
    /// `.yaml`, `.yml` and `.json` files are manifests; nothing else is read.
    pub fn of(path: &str) -> Option<Syntax> {
        let extension = path.rsplit_once('.').map(|(_, ext)| ext)?;
        match extension {
            "yaml" | "yml" => Some(Syntax::Yaml),
            "json" => Some(Syntax::Json),
            _ => None,
        }
    }
}

/// Parses `bytes` (the content of `path`) into objects.
pub fn parse(
    path: &str,
    syntax: Syntax,
    bytes: &[u8],
    decrypted: bool,
    limits: &Limits,
) -> Result<FileContents> {
    parse_with(path, syntax, bytes, decrypted, limits.yaml_options())
}

/// [`parse`] with the YAML parser's options given (Kustomize reads YAML 1.2 scalars).
pub fn parse_with(
    path: &str,
    syntax: Syntax,
    bytes: &[u8],
    decrypted: bool,
    yaml_options: serde_saphyr::Options,
) -> Result<FileContents> {
    let syntax_error = |detail: String| Error::Syntax {
        path: path.to_owned(),
        detail,
    };
    let documents: Vec<(u64, Value)> = match syntax {
        Syntax::Yaml => {
            // As go-yaml reads a block scalar that ends the file without a line break.
            let ended = std::str::from_utf8(bytes).map(crate::go_yaml_end::as_go_yaml_ends);
            let bytes = ended.as_ref().map_or(bytes, |text| text.as_bytes());
            let parsed: Vec<Spanned<Value>> =
                serde_saphyr::from_slice_multiple_with_options(bytes, yaml_options)
                    .map_err(|err| syntax_error(first_lines(&err.to_string())))?;
            parsed
                .into_iter()
                .map(|doc| (doc.referenced.line(), doc.value))
                .collect()
        }
        Syntax::Json => {
            let value: Value =
                serde_json::from_slice(bytes).map_err(|err| syntax_error(err.to_string()))?;
            // serde_json stops at 128 levels; the render's bound is the one YAML has.
            if let Some(max_depth) = yaml_options.budget.as_ref().map(|b| b.max_depth)
                && depth(&value) > max_depth
            {
                return Err(Error::LimitExceeded {
                    limit: "max_depth",
                    value: max_depth as u64,
                    detail: format!("{path} nests collections deeper than that"),
                });
            }
            vec![(1, value)]
        }
    };
    let mut contents = FileContents::default();
    for (line, document) in documents {
        let origin = Origin {
            path: path.to_owned(),
            line,
            item: None,
        };
        collect(document, origin, decrypted, &mut contents)?;
    }
    Ok(contents)
}

/// How deep collections nest in `value`: a scalar is 0, `{}` and `[]` are 1.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Sorts one document into objects (flattening Lists) or ignored documents.
fn collect(
    document: Value,
    origin: Origin,
    decrypted: bool,
    into: &mut FileContents,
) -> Result<()> {
    let map = match document {
        Value::Null => return Ok(()),
        Value::Object(map) if map.is_empty() => return Ok(()),
        Value::Object(map) => map,
        other => {
            let shape = if other.is_array() {
                "a sequence"
            } else {
                "a scalar"
            };
            into.ignored.push(Ignored {
                origin,
                reason: format!("the document is {shape}, not a Kubernetes object"),
            });
            return Ok(());
        }
    };
    let has_api_version = map.contains_key("apiVersion");
    let has_kind = map.contains_key("kind");
    if !has_api_version && !has_kind {
        into.ignored.push(Ignored {
            origin,
            reason: "no apiVersion and no kind: not a Kubernetes object".into(),
        });
        return Ok(());
    }
    if is_list(&map) {
        return flatten_list(map, origin, decrypted, into);
    }
    let object = DesiredObject::from_manifest(map, origin.clone(), decrypted)
        .map_err(|detail| Error::InvalidObject { origin, detail })?;
    into.objects.push(object);
    Ok(())
}

/// `v1/List` and every `*List` kind with `items`, as kubectl treats them.
fn is_list(map: &Map<String, Value>) -> bool {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    kind.ends_with("List") && map.contains_key("items")
}

fn flatten_list(
    mut list: Map<String, Value>,
    origin: Origin,
    decrypted: bool,
    into: &mut FileContents,
) -> Result<()> {
    let items = match list.remove("items") {
        Some(Value::Array(items)) => items,
        Some(Value::Null) => Vec::new(),
        _ => {
            return Err(Error::InvalidObject {
                origin,
                detail: "items of a List must be a sequence".into(),
            });
        }
    };
    for (index, item) in items.into_iter().enumerate() {
        let item_origin = Origin {
            item: Some(index),
            ..origin.clone()
        };
        match item {
            Value::Object(map) if is_list(&map) => flatten_list(map, item_origin, decrypted, into)?,
            Value::Object(map) => {
                let object = DesiredObject::from_manifest(map, item_origin.clone(), decrypted)
                    .map_err(|detail| Error::InvalidObject {
                        origin: item_origin,
                        detail,
                    })?;
                into.objects.push(object);
            }
            _ => {
                return Err(Error::InvalidObject {
                    origin: item_origin,
                    detail: "a List item must be a mapping".into(),
                });
            }
        }
    }
    Ok(())
}

/// The parser's message without the source excerpt it appends (which may be long, and
/// may quote secret material).
fn first_lines(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or(message)
        .trim_start_matches("error: ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_yaml(text: &str) -> Result<FileContents> {
        parse(
            "m.yaml",
            Syntax::Yaml,
            text.as_bytes(),
            false,
            &Limits::default(),
        )
    }

    #[test]
    fn a_block_scalar_ending_the_file_without_a_line_break_has_no_final_newline() {
        // As kubectl (go-yaml) reads it: a config file's last line, the file's last too.
        let contents = parse_yaml(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  run.sh: |\n    exec app",
        )
        .unwrap();
        assert_eq!(
            contents.objects[0].manifest()["data"]["run.sh"],
            serde_json::json!("exec app")
        );
    }

    #[test]
    fn documents_become_objects_with_their_line() {
        let contents = parse_yaml(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        )
        .unwrap();
        let found: Vec<String> = contents
            .objects
            .iter()
            .map(|o| o.origin().to_string())
            .collect();
        assert_eq!(found, ["m.yaml:2", "m.yaml:7"]);
    }

    #[test]
    fn lists_are_flattened_and_nested_lists_too() {
        let contents = parse_yaml(
            "apiVersion: v1\nkind: List\nitems:\n\
             - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n\
             - apiVersion: v1\n  kind: ConfigMapList\n  items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: b}}]\n",
        )
        .unwrap();
        let names: Vec<&str> = contents
            .objects
            .iter()
            .map(|o| o.id().name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            contents.objects[0].origin().to_string(),
            "m.yaml:1 (List item 0)"
        );
    }

    #[test]
    fn documents_that_are_not_objects_are_reported_not_rendered() {
        let contents = parse_yaml("replicas: 3\nimage: web\n---\n- a\n---\nplain\n").unwrap();
        assert!(contents.objects.is_empty());
        let reasons: Vec<&str> = contents.ignored.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("no apiVersion and no kind"));
    }

    #[test]
    fn a_half_object_is_an_error_not_a_silent_skip() {
        let err = parse_yaml("apiVersion: v1\nmetadata: {name: x}\n").unwrap_err();
        assert_eq!(err.to_string(), "m.yaml:1: kind is required");
    }

    #[test]
    fn broken_yaml_names_the_file_and_line() {
        let err = parse_yaml("apiVersion: v1\nkind: [\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.yaml: line "), "{err}");
    }

    #[test]
    fn json_files_hold_one_object_or_list() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}"#;
        let contents = parse(
            "x.json",
            Syntax::Json,
            text.as_bytes(),
            false,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(contents.objects[0].id().kind, "Secret");
    }

    /// Found with the manifest fuzz target's nesting check
    /// (`fuzz/corpus/manifest/crash-json-deeper-than-max-depth.json`): a JSON file could nest
    /// up to serde_json's own 128 levels, past `max_depth`.
    #[test]
    fn json_nests_no_deeper_than_yaml_may() {
        let nested = |levels: usize| {
            format!(
                r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "c"}}, "x": {}{}}}"#,
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        let limits = Limits::default();
        let json = |text: String| parse("x.json", Syntax::Json, text.as_bytes(), false, &limits);
        let yaml = |text: String| parse("x.yaml", Syntax::Yaml, text.as_bytes(), false, &limits);
        assert!(json(nested(limits.max_depth)).is_ok());
        assert!(yaml(nested(limits.max_depth)).is_ok());
        let err = json(nested(limits.max_depth + 1)).unwrap_err().to_string();
        assert!(err.contains("max_depth") && err.contains("x.json"), "{err}");
        assert!(yaml(nested(limits.max_depth + 1)).is_err());
    }

    #[test]
    fn a_yaml_bomb_hits_the_node_budget() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 9].join(", ")
            ));
        }
        let limits = Limits {
            max_yaml_nodes_per_file: 10_000,
            ..Limits::default()
        };
        let err = parse("bomb.yaml", Syntax::Yaml, bomb.as_bytes(), false, &limits).unwrap_err();
        assert!(err.to_string().contains("budget"), "{err}");
    }
}
