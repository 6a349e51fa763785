//! Go's own template functions (`and` and `or` short-circuit, so the executor runs them).

use super::Param::{Any, Str};
use super::{Table, one, s};
use crate::gofmt;
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    // Placeholders so the parser knows them; the executor evaluates them lazily.
    t.variadic("and", &[Any], Any, |_, _| Ok(Value::Nil));
    t.variadic("or", &[Any], Any, |_, _| Ok(Value::Nil));
    t.add("not", &[Any], |_, a| Ok(Value::Bool(!one(a).is_true())));
    t.add("len", &[Any], |_, a| length(&one(a)).map(Value::Int));
    t.variadic("index", &[Any], Any, |_, a| index(a));
    t.variadic("slice", &[Any], Any, |_, a| slice(a));
    t.variadic("print", &[], Any, |_, a| Ok(Value::str(gofmt::sprint(&a))));
    t.variadic("println", &[], Any, |_, a| {
        Ok(Value::str(gofmt::sprintln(&a)))
    });
    t.variadic("printf", &[Str], Any, |_, a| {
        Ok(Value::str(gofmt::sprintf(s(&a[0]), &a[1..])))
    });
    t.variadic("html", &[], Any, |_, a| {
        Ok(Value::str(html_escape(&eval_args(&a))))
    });
    t.variadic("js", &[], Any, |_, a| {
        Ok(Value::str(js_escape(&eval_args(&a))))
    });
    t.variadic("urlquery", &[], Any, |_, a| {
        Ok(Value::str(query_escape(&eval_args(&a))))
    });
    t.variadic("eq", &[Any], Any, |_, a| {
        eq(&a[0], &a[1..]).map(Value::Bool)
    });
    t.add("ne", &[Any, Any], |_, a| {
        eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))
    });
    t.add("lt", &[Any, Any], |_, a| lt(&a[0], &a[1]).map(Value::Bool));
    t.add("le", &[Any, Any], |_, a| {
        Ok(Value::Bool(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?))
    });
    t.add("gt", &[Any, Any], |_, a| {
        Ok(Value::Bool(!(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?)))
    });
    t.add("ge", &[Any, Any], |_, a| {
        Ok(Value::Bool(!lt(&a[0], &a[1])?))
    });
    t.variadic("call", &[Any], Any, |_, _| {
        Err("call of a function value: charts have none".into())
    });
}

/// Go's `evalArgs`: one string argument as is, anything else through `fmt.Sprint`.
fn eval_args(args: &[Value]) -> String {
    match args {
        [Value::String(s)] => s.to_string(),
        args => gofmt::sprint(args),
    }
}

pub(crate) fn length(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => Ok(s.len() as i64),
        Value::List(items) => Ok(items.borrow().len() as i64),
        Value::Map(entries) => Ok(entries.borrow().len() as i64),
        Value::Nil => Err("len of nil pointer".into()),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index(args: Vec<Value>) -> Result<Value, String> {
    let mut item = args[0].clone();
    for key in &args[1..] {
        item = match (&item, key) {
            (Value::Nil, _) => return Err("index of untyped nil".into()),
            (Value::Map(entries), Value::String(k)) => {
                entries.borrow().get(&**k).cloned().unwrap_or(Value::Nil)
            }
            (Value::Map(_), Value::Nil) => Value::Nil,
            (Value::Map(_), k) => {
                return Err(format!(
                    "value has type {}; should be string",
                    k.type_name()
                ));
            }
            (Value::List(items), Value::Int(i) | Value::Int64(i)) => {
                let items = items.borrow();
                if *i < 0 || *i as usize >= items.len() {
                    return Err(format!("index out of range: {i}"));
                }
                items[*i as usize].clone()
            }
            (Value::String(s), Value::Int(i) | Value::Int64(i)) => {
                if *i < 0 || *i as usize >= s.len() {
                    return Err(format!("index out of range: {i}"));
                }
                Value::Int(i64::from(s.as_bytes()[*i as usize]))
            }
            (Value::List(_) | Value::String(_), k) => {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    k.type_name()
                ));
            }
            (other, _) => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(args: Vec<Value>) -> Result<Value, String> {
    let item = &args[0];
    let mut idx = Vec::new();
    for a in &args[1..] {
        match a {
            Value::Int(i) | Value::Int64(i) => idx.push(*i),
            other => {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    other.type_name()
                ));
            }
        }
    }
    let len = match item {
        Value::List(items) => items.borrow().len() as i64,
        Value::String(s) => s.len() as i64,
        Value::Nil => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    if idx.len() > 3 || (idx.len() == 3 && matches!(item, Value::String(_))) {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let start = idx.first().copied().unwrap_or(0);
    let end = idx.get(1).copied().unwrap_or(len);
    if start < 0 || end < start || end > len {
        return Err(format!(
            "index out of range: {}",
            if start < 0 || start > len { start } else { end }
        ));
    }
    Ok(match item {
        Value::List(items) => Value::list(items.borrow()[start as usize..end as usize].to_vec()),
        Value::String(s) => match s.get(start as usize..end as usize) {
            Some(sub) => Value::str(sub),
            None => Value::str(
                String::from_utf8_lossy(&s.as_bytes()[start as usize..end as usize]).into_owned(),
            ),
        },
        _ => Value::Nil,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    String,
    Invalid,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        Value::Nil => Kind::Invalid,
        _ => Kind::Other,
    }
}

/// Go 1.18+'s `eq`: true when `a` equals any of `others`; values of different basic kinds
/// are an error unless one is nil.
pub(crate) fn eq(a: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let a = &*a.basic();
    let k1 = kind(a);
    for b in others {
        let b = &*b.basic();
        let k2 = kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                (x, y) => {
                    if x.type_name() != y.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            gofmt::print_value(x),
                            x.type_name(),
                            y.type_name(),
                            gofmt::print_value(y)
                        ));
                    }
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::print_value(y),
                        y.type_name()
                    ));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (a, b) = (&*a.basic(), &*b.basic());
    let (k1, k2) = (kind(a), kind(b));
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    match (a, b) {
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err("invalid type for comparison".into()),
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{fffd}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
