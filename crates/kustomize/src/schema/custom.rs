//! A custom OpenAPI schema (the kustomization's `openapi: {path: …}`), reduced to what
//! strategic merge needs: for each kind its definition, and for each field whether it is a
//! list merged by key and the schema of its value. Definitions refer to each other by
//! `$ref` (`#/definitions/NAME`), so they become nodes of one table and refer by index;
//! nested inline schemas get nodes of their own.
//!
//! Kinds are found by `x-kubernetes-group-version-kind`, never by definition name. A list
//! merges only when its `x-kubernetes-patch-strategy` includes `merge`; its keys are
//! `x-kubernetes-list-map-keys` when given, else `x-kubernetes-patch-merge-key`, else none
//! (a list of scalars merged as a set) — as Kustomize reads them.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// One field of a node.
#[derive(Debug, Default)]
struct Field {
    /// Merged element by element (`x-kubernetes-patch-strategy` includes `merge`).
    merge: bool,
    /// The merge keys of a merge list (empty for lists of scalars).
    keys: Vec<String>,
    /// The node of the field's value (of its elements, for a list).
    child: Option<u32>,
}

/// The fields of one object schema.
#[derive(Debug, Default)]
struct Node {
    fields: HashMap<String, Field>,
    /// `additionalProperties`: what every other field of a map holds.
    other: Option<Field>,
}

/// A custom schema, parsed once per build.
#[derive(Debug, Default)]
pub(crate) struct CustomSchema {
    nodes: Vec<Node>,
    /// `(group, version, kind)` to the node of its definition.
    kinds: HashMap<(String, String, String), u32>,
}

impl CustomSchema {
    /// Reads a schema document (`{definitions: {NAME: schema, …}}`); `Err` says what is
    /// wrong with its shape.
    pub(crate) fn parse(document: &Value) -> Result<CustomSchema, String> {
        let definitions = match document.get("definitions") {
            None | Some(Value::Null) => return Ok(CustomSchema::default()),
            Some(Value::Object(definitions)) => definitions,
            Some(_) => return Err("`definitions` must be a map of names to schemas".into()),
        };
        let mut builder = Builder {
            names: definitions
                .keys()
                .enumerate()
                .map(|(at, name)| (name.as_str(), at as u32))
                .collect(),
            definitions: definitions.values().collect(),
            nodes: (0..definitions.len()).map(|_| Node::default()).collect(),
        };
        let mut kinds = HashMap::new();
        for (at, (name, definition)) in definitions.iter().enumerate() {
            let Value::Object(schema) = definition else {
                return Err(format!("definition {name} is not a schema (a map)"));
            };
            builder.nodes[at] = builder.node(schema);
            for gvk in schema
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |key: &str| gvk.get(key).and_then(Value::as_str).unwrap_or("");
                kinds
                    .entry((
                        text("group").to_owned(),
                        text("version").to_owned(),
                        text("kind").to_owned(),
                    ))
                    .or_insert(at as u32);
            }
        }
        Ok(CustomSchema {
            nodes: builder.nodes,
            kinds,
        })
    }

    /// The node of an object of `api_version` (`group/version` or `version`) and `kind`.
    pub(crate) fn root(&self, api_version: &str, kind: &str) -> Option<u32> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.kinds
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
            .copied()
    }

    fn field(&self, node: u32, name: &str) -> Option<&Field> {
        let node = self.nodes.get(node as usize)?;
        node.fields.get(name).or(node.other.as_ref())
    }

    /// The node of the value of field `name` of `node`.
    pub(crate) fn child(&self, node: u32, name: &str) -> Option<u32> {
        self.field(node, name)?.child
    }

    /// `Some(keys)` when field `name` of `node` is a list merged by key (empty: a list of
    /// scalars merged as a set).
    pub(crate) fn merge_keys(&self, node: u32, name: &str) -> Option<Vec<&str>> {
        let field = self.field(node, name).filter(|f| f.merge)?;
        Some(field.keys.iter().map(String::as_str).collect())
    }
}

/// Turns schemas into nodes: definitions first (their index is their position), inline
/// object schemas appended as they are met.
struct Builder<'d> {
    /// The definitions, by index.
    definitions: Vec<&'d Value>,
    names: HashMap<&'d str, u32>,
    nodes: Vec<Node>,
}

impl<'d> Builder<'d> {
    /// The definition a `$ref` names (only local `#/definitions/NAME` references exist in
    /// such schemas; anything else is unknown).
    fn reference(&self, schema: &Map<String, Value>) -> Option<u32> {
        let target = schema.get("$ref")?.as_str()?;
        let name = target.strip_prefix("#/definitions/")?;
        self.names.get(name).copied()
    }

    /// The schema a `$ref` leads to, or the schema itself.
    fn resolved(&self, schema: &'d Map<String, Value>) -> &'d Map<String, Value> {
        match self.reference(schema) {
            Some(at) => self.definitions[at as usize].as_object().unwrap_or(schema),
            None => schema,
        }
    }

    fn node(&mut self, schema: &'d Map<String, Value>) -> Node {
        let mut node = Node::default();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                if let Value::Object(property) = property {
                    let field = self.field(property);
                    node.fields.insert(name.clone(), field);
                }
            }
        }
        if let Some(Value::Object(other)) = schema.get("additionalProperties") {
            node.other = Some(self.field(other));
        }
        node
    }

    /// The node of an object schema: a definition's, or a new one for an inline schema.
    fn object(&mut self, schema: &'d Map<String, Value>) -> Option<u32> {
        if let Some(at) = self.reference(schema) {
            return Some(at);
        }
        if !schema.contains_key("properties") && !schema.contains_key("additionalProperties") {
            return None;
        }
        let node = self.node(schema);
        self.nodes.push(node);
        Some((self.nodes.len() - 1) as u32)
    }

    fn field(&mut self, property: &'d Map<String, Value>) -> Field {
        let own = self.resolved(property);
        let items = own.get("items").and_then(Value::as_object);
        let Some(items) = items else {
            return Field {
                child: self.object(property),
                ..Field::default()
            };
        };
        let strategy = own
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .unwrap_or("");
        let keys = match own.get("x-kubernetes-list-map-keys") {
            Some(Value::Array(keys)) => keys
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => own
                .get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str)
                .map(|key| vec![key.to_owned()])
                .unwrap_or_default(),
        };
        Field {
            merge: strategy.split(',').any(|s| s.trim() == "merge"),
            keys,
            child: self.object(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> CustomSchema {
        CustomSchema::parse(&json!({"definitions": {
            "widget": {
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
                "properties": {"spec": {"properties": {
                    "parts": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                              "x-kubernetes-patch-merge-key": "id",
                              "items": {"$ref": "#/definitions/part"}},
                    "ports": {"type": "array", "x-kubernetes-patch-strategy": "merge,retainKeys",
                              "x-kubernetes-patch-merge-key": "port",
                              "x-kubernetes-list-map-keys": ["port", "protocol"],
                              "items": {"type": "object"}},
                    "plain": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["id"], "items": {"type": "object"}},
                    "byName": {"additionalProperties": {"$ref": "#/definitions/part"}}
                }}}
            },
            "part": {"properties": {"tags": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                                             "items": {"type": "string"}}}}
        }}))
        .unwrap()
    }

    #[test]
    fn kinds_are_found_by_group_version_kind_only() {
        let schema = schema();
        assert!(schema.root("example.com/v1", "Widget").is_some());
        assert!(schema.root("v1", "Widget").is_none());
        assert!(schema.root("example.com/v1", "widget").is_none());
    }

    #[test]
    fn merge_lists_keys_and_references_are_followed() {
        let schema = schema();
        let widget = schema.root("example.com/v1", "Widget").unwrap();
        let spec = schema.child(widget, "spec").unwrap();
        assert_eq!(schema.merge_keys(spec, "parts"), Some(vec!["id"]));
        assert_eq!(
            schema.merge_keys(spec, "ports"),
            Some(vec!["port", "protocol"])
        );
        // A list type without a merge strategy is replaced, as Kustomize does.
        assert_eq!(schema.merge_keys(spec, "plain"), None);
        let part = schema.child(spec, "parts").unwrap();
        assert_eq!(schema.merge_keys(part, "tags"), Some(vec![]));
        let by_name = schema.child(spec, "byName").unwrap();
        let any_part = schema.child(by_name, "anything").unwrap();
        assert_eq!(schema.merge_keys(any_part, "tags"), Some(vec![]));
    }

    #[test]
    fn shapes_that_are_not_schemas_are_refused() {
        assert!(CustomSchema::parse(&json!({"definitions": [1]})).is_err());
        assert!(CustomSchema::parse(&json!({"definitions": {"x": 1}})).is_err());
        assert!(CustomSchema::parse(&json!({})).unwrap().kinds.is_empty());
    }
}
