//! JSON files: read into the order-preserving tree, written back like sops writes them.
//!
//! As in sops (Go's `encoding/json` tokens), every number is a float: `8080` is encrypted
//! as `type:float` with text `8080`, and integers beyond 2^53 lose precision exactly as
//! they do in sops. Output is tab-indented; integral numbers print without `.0`.

use std::fmt::Write as _;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::tree::{Item, Value};

/// Reads a JSON document, which must be an object.
pub(crate) fn parse_object(content: &[u8]) -> Result<Vec<Item>, String> {
    let parsed: JsonValue = serde_json::from_slice(content).map_err(|error| {
        // serde_json's messages name a position and a category, never the input.
        format!("invalid JSON: {error}")
    })?;
    match parsed.0 {
        Value::Map(items) => Ok(items),
        _ => Err("the JSON document is not an object; sops supports objects only".to_owned()),
    }
}

struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Value, E> {
        Ok(Value::Float(number as f64))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Value, E> {
        Ok(Value::Float(number as f64))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Value, E> {
        Ok(Value::Float(number))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Str(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::Str(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(JsonValue(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(Value::Seq(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some((key, JsonValue(value))) = map.next_entry::<String, JsonValue>()? {
            items.push(Item::Entry { key, value });
        }
        Ok(Value::Map(items))
    }
}

/// Writes an object with tab indentation and a final newline, as sops does.
pub(crate) fn emit_object(items: &[Item]) -> Result<String, String> {
    let mut out = String::new();
    write_map(&mut out, items, 0)?;
    out.push('\n');
    Ok(out)
}

fn write_map(out: &mut String, items: &[Item], depth: usize) -> Result<(), String> {
    let entries: Vec<(&String, &Value)> = items
        .iter()
        .filter_map(|item| match item {
            Item::Entry { key, value } => Some((key, value)),
            Item::Comment(_) => None,
        })
        .collect();
    if entries.is_empty() {
        out.push_str("{}");
        return Ok(());
    }
    out.push_str("{\n");
    for (index, (key, value)) in entries.iter().enumerate() {
        tabs(out, depth + 1);
        out.push_str(&string(key));
        out.push_str(": ");
        write_value(out, value, depth + 1)?;
        out.push_str(if index + 1 < entries.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    tabs(out, depth);
    out.push('}');
    Ok(())
}

fn write_value(out: &mut String, value: &Value, depth: usize) -> Result<(), String> {
    match value {
        Value::Map(items) => write_map(out, items, depth)?,
        Value::Seq(values) if values.is_empty() => out.push_str("[]"),
        Value::Seq(values) => {
            let values: Vec<&Value> = values
                .iter()
                .filter(|value| !matches!(value, Value::Comment(_)))
                .collect();
            if values.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push_str("[\n");
            for (index, value) in values.iter().enumerate() {
                tabs(out, depth + 1);
                write_value(out, value, depth + 1)?;
                out.push_str(if index + 1 < values.len() {
                    ",\n"
                } else {
                    "\n"
                });
            }
            tabs(out, depth);
            out.push(']');
        }
        Value::Null | Value::Comment(_) => out.push_str("null"),
        Value::Bool(flag) => {
            let _ = write!(out, "{flag}");
        }
        Value::Int(number) => {
            let _ = write!(out, "{number}");
        }
        Value::Float(number) => out.push_str(&json_number(*number)?),
        Value::Str(text) | Value::Time(text) => out.push_str(&string(text)),
        Value::Bytes(_) => {
            return Err("a value is not valid UTF-8 and cannot be written as JSON".to_owned());
        }
    }
    Ok(())
}

fn json_number(number: f64) -> Result<String, String> {
    if !number.is_finite() {
        return Err("a number is infinite or NaN, which JSON cannot hold".to_owned());
    }
    // Go's encoding/json: exponent form below 1e-6 and from 1e21 on.
    Ok(
        if number.abs() >= 1e21 || (number != 0.0 && number.abs() < 1e-6) {
            format!("{number:e}")
        } else {
            number.to_string()
        },
    )
}

fn string(text: &str) -> String {
    // Serialising a &str to JSON cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}

fn tabs(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_floats_and_order_is_kept() {
        let items =
            parse_object(br#"{"z": 8080, "a": [1.5, null, true, {"k": "v"}], "e": {}}"#).unwrap();
        assert_eq!(
            items,
            vec![
                Item::entry("z", Value::Float(8080.0)),
                Item::entry(
                    "a",
                    Value::Seq(vec![
                        Value::Float(1.5),
                        Value::Null,
                        Value::Bool(true),
                        Value::Map(vec![Item::entry("k", Value::Str("v".into()))]),
                    ])
                ),
                Item::entry("e", Value::Map(vec![])),
            ]
        );
        let text = emit_object(&items).unwrap();
        assert_eq!(
            text,
            "{\n\t\"z\": 8080,\n\t\"a\": [\n\t\t1.5,\n\t\tnull,\n\t\ttrue,\n\t\t{\n\t\t\t\"k\": \"v\"\n\t\t}\n\t],\n\t\"e\": {}\n}\n"
        );
        assert_eq!(parse_object(text.as_bytes()).unwrap(), items);
    }

    #[test]
    fn errors_do_not_echo_content() {
        let error = parse_object(br#"{"password": "hunter2"#).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(
            parse_object(b"[1, 2]")
                .unwrap_err()
                .contains("not an object")
        );
        assert!(emit_object(&[Item::entry("x", Value::Float(f64::NAN))]).is_err());
    }

    #[test]
    fn big_integers_round_like_sops() {
        let items = parse_object(br#"{"big": 12345678901234567890}"#).unwrap();
        assert_eq!(
            emit_object(&items).unwrap(),
            "{\n\t\"big\": 12345678901234567000\n}\n"
        );
    }
}
