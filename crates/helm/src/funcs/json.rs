//! Go's `encoding/json` encoder, as `toJson`, `toRawJson` and `toPrettyJson` write values.

use crate::gofmt;
use crate::value::Value;
use plumb_manifest::go_json;

/// Go's `json.Marshal`: sorted keys, HTML-safe escapes unless `raw`, floats as Go writes them.
pub(crate) fn to_json(v: &Value, raw: bool, indent: Option<&str>) -> String {
    if v.too_deep() {
        return String::new();
    }
    let mut out = String::new();
    write_json(&mut out, v, raw, indent, 0);
    out
}

fn write_json(out: &mut String, v: &Value, raw: bool, indent: Option<&str>, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(unit);
            }
        }
    };
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::String(s) => go_json::write_string(out, s, !raw),
        Value::Object(o) if o.int().is_some() => out.push_str(&o.int().unwrap_or(0).to_string()),
        Value::Object(o) => match v.struct_as_map() {
            Some(fields) => write_json(out, &fields, raw, indent, depth),
            None => go_json::write_string(out, &o.display(), !raw),
        },
        Value::List(items) => {
            let items = items.borrow();
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(out, item, raw, indent, depth + 1);
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let entries = entries.borrow();
            out.push('{');
            for (n, (k, item)) in entries.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                go_json::write_string(out, k, !raw);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, item, raw, indent, depth + 1);
            }
            if !entries.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
    }
}

/// encoding/json's float format: `f` form between 1e-6 and 1e21, `e` form with a short
/// exponent outside it.
fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = gofmt::format_float(f, 'e', None);
        // e-07 → e-7
        if let Some(i) = s.find("e-0") {
            return format!("{}e-{}", &s[..i], &s[i + 3..]);
        }
        if let Some(i) = s.find("e+0") {
            return format!("{}e+{}", &s[..i], &s[i + 3..]);
        }
        return s;
    }
    gofmt::format_float(f, 'f', None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_escapes_as_go() {
        let v = Value::from_json(&serde_json::json!({"b": "<a&b>", "a": 1.5, "n": 1e21}));
        assert_eq!(
            to_json(&v, false, None),
            r#"{"a":1.5,"b":"\u003ca\u0026b\u003e","n":1e+21}"#
        );
        assert_eq!(
            to_json(&v, true, None),
            r#"{"a":1.5,"b":"<a&b>","n":1e+21}"#
        );
    }
}
