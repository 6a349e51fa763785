//! `toToml`, `mustToToml` and `fromToml`, added in Helm 4: TOML as BurntSushi/toml v1.6
//! (what Helm v4.3.2 links) writes and reads it.
//!
//! The writer follows BurntSushi's encoder: keys sorted, plain values before tables, tables
//! indented two spaces per level, floats in Go's shortest `g` form with `.0` added when
//! whole. Reading uses the `toml` crate; a document that does not parse gives a map whose
//! `Error` entry is that crate's message, not BurntSushi's (as `fromYaml`'s is plumb's own).
//! TOML dates and times are refused by name: Go's `time.Time` prints in a form plumb does not
//! reproduce.

use std::collections::BTreeMap;

use super::Param::{Any, Str};
use super::{Table, one, s};
use crate::gofmt;
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("toToml", &[Any], |_, a| {
        Ok(Value::str(to_toml(&one(a)).unwrap_or_else(|e| e)))
    });
    t.add("mustToToml", &[Any], |_, a| {
        to_toml(&one(a)).map(Value::str)
    });
    t.add("fromToml", &[Str], |_, a| {
        match s(&a[0]).parse::<toml::Table>() {
            Ok(table) => from_table(table),
            Err(e) => {
                let mut map = BTreeMap::new();
                map.insert("Error".to_string(), Value::str(e.to_string().trim_end()));
                Ok(Value::map(map))
            }
        }
    });
}

const NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";

/// What BurntSushi's encoder writes for `v`, or its error message.
fn to_toml(v: &Value) -> Result<String, String> {
    if v.too_deep() {
        return Err("toml: the value nests too deeply (or contains itself)".into());
    }
    let mut encoder = Encoder {
        out: String::new(),
        written: false,
    };
    // BurntSushi/toml writes a struct as a table of its fields.
    encoder.encode(&mut Vec::new(), &v.structs_as_maps())?;
    Ok(encoder.out)
}

/// The TOML type of a value, as far as the encoder's layout depends on it.
#[derive(PartialEq)]
enum Kind {
    /// A Go nil: skipped in maps, an error in arrays.
    Nil,
    /// A map: written as a `[table]`.
    Table,
    /// A non-empty list of maps only: written as `[[tables]]`.
    TableArray,
    /// Anything written as `key = value`.
    Plain,
}

fn kind(v: &Value) -> Result<Kind, String> {
    Ok(match v {
        Value::Nil => Kind::Nil,
        Value::Map(_) => Kind::Table,
        Value::List(items) => {
            let items = items.borrow();
            let mut all_tables = !items.is_empty();
            for item in items.iter() {
                match kind(item)? {
                    Kind::Nil => return Err(NIL_ELEMENT.into()),
                    Kind::Table => {}
                    _ => all_tables = false,
                }
            }
            if all_tables {
                Kind::TableArray
            } else {
                Kind::Plain
            }
        }
        _ => Kind::Plain,
    })
}

struct Encoder {
    out: String,
    written: bool,
}

impl Encoder {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.written = true;
    }

    fn newline(&mut self) {
        if self.written {
            self.write("\n");
        }
    }

    fn indent(&mut self, key: &[String]) {
        self.write(&"  ".repeat(key.len().saturating_sub(1)));
    }

    fn encode(&mut self, key: &mut Vec<String>, v: &Value) -> Result<(), String> {
        match (kind(v)?, v) {
            (Kind::Nil, _) => Ok(()),
            (Kind::Table, Value::Map(_)) => {
                if key.len() == 1 {
                    self.newline();
                }
                if !key.is_empty() {
                    self.indent(key);
                    self.write(&format!("[{}]", dotted(key)));
                    self.newline();
                }
                self.map(key, v, false)
            }
            (Kind::TableArray, Value::List(items)) => {
                if key.is_empty() {
                    return Err(NO_KEY.into());
                }
                for item in items.borrow().iter() {
                    self.newline();
                    self.indent(key);
                    self.write(&format!("[[{}]]", dotted(key)));
                    self.newline();
                    self.map(key, item, false)?;
                }
                Ok(())
            }
            _ => self.key_value(key, v, false),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        let Some(last) = key.last() else {
            return self.element(v);
        };
        self.indent(key);
        self.write(&format!("{} = ", bare_or_quoted(last)));
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    /// A map's entries: plain values first, then tables, each group sorted by key.
    fn map(&mut self, key: &mut Vec<String>, v: &Value, inline: bool) -> Result<(), String> {
        let Value::Map(entries) = v else {
            return Ok(());
        };
        let entries: Vec<(String, Value)> = entries
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (k, item) in &entries {
            if matches!(kind(item)?, Kind::Table | Kind::TableArray) {
                sub.push((k, item));
            } else {
                direct.push((k, item));
            }
        }
        if inline {
            self.write("{");
        }
        let trailing_comma = !sub.is_empty();
        for (group, trail) in [(direct, trailing_comma), (sub, false)] {
            let count = group.len();
            for (i, (k, item)) in group.into_iter().enumerate() {
                if matches!(item, Value::Nil) {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), item, true)?;
                    if trail || i != count - 1 {
                        self.write(", ");
                    }
                } else {
                    key.push(k.clone());
                    let done = self.encode(key, item);
                    key.pop();
                    done?;
                }
            }
        }
        if inline {
            self.write("}");
        }
        Ok(())
    }

    /// A value in `key = value` or in an array.
    fn element(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::Object(o) if o.type_name() == "time.Duration" => {
                self.write(&quoted(&o.display()))
            }
            Value::String(s) => self.write(&quoted(s)),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.write(&i.to_string()),
            Value::Float(f) => self.write(&float(*f)),
            Value::List(items) => {
                self.write("[");
                let items = items.borrow();
                for (i, item) in items.iter().enumerate() {
                    self.element(item)?;
                    if i + 1 != items.len() {
                        self.write(", ");
                    }
                }
                self.write("]");
            }
            Value::Map(_) => self.map(&mut Vec::new(), v, true)?,
            Value::Nil => return Err(NIL_ELEMENT.into()),
            Value::Object(o) => {
                return Err(format!(
                    "plumb cannot write a {} as TOML; convert it to a string or a map first",
                    o.type_name()
                ));
            }
        }
        Ok(())
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, with `.0` when it has neither `.` nor `e`.
fn float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    let s = gofmt::format_float(f, 'g', None);
    if s.contains(['.', 'e']) { s } else { s + ".0" }
}

fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn bare_or_quoted(key: &str) -> String {
    if is_bare(key) {
        key.to_string()
    } else {
        quoted(key)
    }
}

/// A table's name: its keys joined by `.`, each bare or quoted.
fn dotted(key: &[String]) -> String {
    key.iter()
        .map(|k| bare_or_quoted(k))
        .collect::<Vec<_>>()
        .join(".")
}

/// A basic string, escaped as BurntSushi escapes it.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn from_table(table: toml::Table) -> Result<Value, String> {
    let mut map = BTreeMap::new();
    for (k, v) in table {
        map.insert(k, from_toml(v)?);
    }
    Ok(Value::map(map))
}

/// TOML into Go's `interface{}` as BurntSushi decodes it: integers are `int64`, floats
/// `float64`.
fn from_toml(v: toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int64(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Array(items) => Value::list(
            items
                .into_iter()
                .map(from_toml)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        toml::Value::Table(table) => from_table(table)?,
        toml::Value::Datetime(d) => {
            return Err(format!(
                "plumb cannot read the TOML date-time {d} in fromToml: Go's time.Time prints in a form \
                 plumb does not reproduce; quote it as a string, or render the chart with --helm-external"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_after_values_indented_by_depth() {
        let v = Value::from_json(&serde_json::json!({
            "b": {"c": {"d": 1}}, "a": "x", "l": [{"k": 1}, {"k": 2}], "f": 2.0, "m": [1, "s", {"i": true}]
        }));
        assert_eq!(
            to_toml(&v).unwrap(),
            "a = \"x\"\nf = 2.0\nm = [1, \"s\", {i = true}]\n\n[b]\n  [b.c]\n    d = 1\n\n[[l]]\n  k = 1\n\n[[l]]\n  k = 2\n"
        );
        assert_eq!(
            to_toml(&Value::from_json(&serde_json::json!([1, 2]))).unwrap(),
            "[1, 2]"
        );
        assert_eq!(
            to_toml(&Value::from_json(&serde_json::json!([{"a": 1}]))),
            Err(NO_KEY.into())
        );
        assert_eq!(
            to_toml(&Value::from_json(&serde_json::json!({"a": [null]}))),
            Err(NIL_ELEMENT.into())
        );
        assert_eq!(float(1e6), "1e+06");
        assert_eq!(quoted("a\"\u{1}"), "\"a\\\"\\u0001\"");
    }
}
