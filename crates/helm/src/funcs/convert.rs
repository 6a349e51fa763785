//! Conversions (spf13/cast as Sprig uses it: failures give zero) and the functions that
//! judge values: `default`, `empty`, `coalesce`, `ternary`, `typeOf`, `deepEqual`…

use super::Param::{Any, Bool, Str};
use super::{Table, one, s};
use crate::gofmt;
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("toString", &[Any], |_, a| {
        Ok(Value::str(to_string(&one(a))))
    });
    t.add("toStrings", &[Any], |_, a| Ok(string_list(&one(a))));
    t.add("atoi", &[Str], |_, a| {
        Ok(Value::Int(s(&a[0]).parse::<i64>().unwrap_or(0)))
    });
    t.add("int", &[Any], |_, a| Ok(Value::Int(to_int64(&one(a)))));
    t.add("int64", &[Any], |_, a| Ok(Value::Int64(to_int64(&one(a)))));
    t.add("float64", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&one(a))))
    });
    t.add("toDecimal", &[Any], |_, a| {
        Ok(Value::Int64(
            i64::from_str_radix(&to_string(&one(a)), 8).unwrap_or(0),
        ))
    });
    t.variadic("default", &[Any], Any, |_, a| {
        let given = a.get(1).cloned().unwrap_or(Value::Nil);
        Ok(if empty(&given) { a[0].clone() } else { given })
    });
    t.add("empty", &[Any], |_, a| Ok(Value::Bool(empty(&one(a)))));
    t.variadic("coalesce", &[], Any, |_, a| {
        Ok(a.into_iter().find(|v| !empty(v)).unwrap_or(Value::Nil))
    });
    t.variadic("all", &[], Any, |_, a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    t.variadic("any", &[], Any, |_, a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    t.add("ternary", &[Any, Any, Bool], |_, a| {
        Ok(if a[2].is_true() {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    t.add("typeOf", &[Any], |st, a| {
        Ok(Value::str(st.ns.type_name(&one(a))))
    });
    t.add("typeIs", &[Str, Any], |st, a| {
        Ok(Value::Bool(s(&a[0]) == st.ns.type_name(&a[1])))
    });
    t.add("typeIsLike", &[Str, Any], |st, a| {
        let t = st.ns.type_name(&a[1]);
        Ok(Value::Bool(s(&a[0]) == t || s(&a[0]) == format!("*{t}")))
    });
    t.add("kindOf", &[Any], |_, a| Ok(Value::str(one(a).kind_name())));
    t.add("kindIs", &[Str, Any], |_, a| {
        Ok(Value::Bool(s(&a[0]) == a[1].kind_name()))
    });
    t.add("deepEqual", &[Any, Any], |_, a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
}

/// Sprig's `strval`: strings as they are, everything else as `%v` prints it.
pub(crate) fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        v => gofmt::print_value(v),
    }
}

/// Sprig's `strslice`: a list's non-nil elements as strings, a scalar as a one-element list.
pub(crate) fn string_list(v: &Value) -> Value {
    Value::list(strings_of(v).into_iter().map(Value::from).collect())
}

pub(crate) fn strings_of(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .borrow()
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(to_string)
            .collect(),
        Value::Nil => Vec::new(),
        v => vec![to_string(v)],
    }
}

/// spf13/cast's `ToInt64`, errors as zero.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64`, errors as zero.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.parse::<f64>().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `1.000` reads as `1` (cast's `trimZeroDecimal`).
fn trim_zero_decimal(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac))
            if !int.is_empty() && !frac.is_empty() && frac.bytes().all(|b| b == b'0') =>
        {
            int
        }
        _ => s,
    }
}

/// `strconv.ParseInt(s, 0, 64)`: base prefixes and a leading 0 for octal.
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = digits.to_ascii_lowercase();
    let underscores_ok = lower.len() > 1 && lower.starts_with('0');
    if lower.contains('_') && !underscores_ok {
        return None;
    }
    let clean = lower.replace('_', "");
    let value = if let Some(h) = clean.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = clean.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if let Some(o) = clean.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if clean.len() > 1 && clean.starts_with('0') {
        i64::from_str_radix(&clean[1..], 8).ok()?
    } else {
        if clean.is_empty() || !clean.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        clean.parse().ok()?
    };
    Some(if negative { -value } else { value })
}

/// Sprig's `empty`: the zero value of its type, or nil.
pub(crate) fn empty(v: &Value) -> bool {
    !v.is_true()
}

/// Go's `reflect.DeepEqual` over template values: types must match too.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > crate::value::MAX_NESTING {
        return a.same_reference(b);
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(a, b)| deep_equal_at(a, b, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_as_sprig_does() {
        assert_eq!(to_int64(&Value::str("42")), 42);
        assert_eq!(to_int64(&Value::str("1.0")), 1);
        assert_eq!(to_int64(&Value::str("1.5")), 0);
        assert_eq!(to_int64(&Value::str("0x1f")), 31);
        assert_eq!(to_int64(&Value::str("010")), 8);
        assert_eq!(to_int64(&Value::Float(3.9)), 3);
        assert_eq!(to_string(&Value::Float(1e6)), "1e+06");
        assert_eq!(to_string(&Value::Nil), "<nil>");
    }
}
