//! Sprig's list functions. Membership is Go's `reflect.DeepEqual`: the int `1` is not in a
//! list of values read from YAML, which hold the float `1`.

use super::Param::{Any, Int};
use super::convert::{deep_equal, to_int64};
use super::{Table, i, one};
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.variadic("list", &[], Any, |_, a| Ok(Value::list(a)));
    t.variadic("tuple", &[], Any, |_, a| Ok(Value::list(a)));
    for name in ["append", "push", "mustAppend", "mustPush"] {
        t.add(name, &[Any, Any], |_, a| {
            let mut items = items_of(&a[0], "append")?;
            items.push(a[1].clone());
            Ok(Value::list(items))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        t.add(name, &[Any, Any], |_, a| {
            let mut items = items_of(&a[0], "prepend")?;
            items.insert(0, a[1].clone());
            Ok(Value::list(items))
        });
    }
    for name in ["first", "mustFirst"] {
        t.add(name, &[Any], |_, a| {
            Ok(items_of(&one(a), "first")?
                .into_iter()
                .next()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        t.add(name, &[Any], |_, a| {
            Ok(items_of(&one(a), "last")?.pop().unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        t.add(name, &[Any], |_, a| {
            let items = items_of(&one(a), "rest")?;
            Ok(if items.is_empty() {
                Value::Nil
            } else {
                Value::list(items[1..].to_vec())
            })
        });
    }
    for name in ["initial", "mustInitial"] {
        t.add(name, &[Any], |_, a| {
            let items = items_of(&one(a), "initial")?;
            Ok(if items.is_empty() {
                Value::Nil
            } else {
                Value::list(items[..items.len() - 1].to_vec())
            })
        });
    }
    for name in ["reverse", "mustReverse"] {
        t.add(name, &[Any], |_, a| {
            let mut items = items_of(&one(a), "reverse")?;
            items.reverse();
            Ok(Value::list(items))
        });
    }
    for name in ["uniq", "mustUniq"] {
        t.add(name, &[Any], |_, a| {
            let mut out: Vec<Value> = Vec::new();
            for item in items_of(&one(a), "uniq")? {
                if !out.iter().any(|o| deep_equal(o, &item)) {
                    out.push(item);
                }
            }
            Ok(Value::list(out))
        });
    }
    for name in ["compact", "mustCompact"] {
        t.add(name, &[Any], |_, a| {
            Ok(Value::list(
                items_of(&one(a), "compact")?
                    .into_iter()
                    .filter(|v| v.is_true())
                    .collect(),
            ))
        });
    }
    for name in ["without", "mustWithout"] {
        t.variadic(name, &[Any], Any, |_, a| {
            let items = items_of(&a[0], "without")?;
            Ok(Value::list(
                items
                    .into_iter()
                    .filter(|v| !a[1..].iter().any(|o| deep_equal(o, v)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        t.add(name, &[Any, Any], |_, a| match &a[1] {
            Value::Nil => Ok(Value::Bool(false)),
            haystack => Ok(Value::Bool(
                items_of(haystack, "has")?
                    .iter()
                    .any(|v| deep_equal(v, &a[0])),
            )),
        });
    }
    for name in ["slice", "mustSlice"] {
        t.variadic(name, &[Any], Any, |_, a| {
            let items = items_of(&a[0], "slice")?;
            if items.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map_or(0, to_int64);
            let end = a.get(2).map_or(items.len() as i64, to_int64);
            if start < 0 || end < start || end as usize > items.len() {
                return Err(format!("slice bounds out of range [{start}:{end}]"));
            }
            Ok(Value::list(items[start as usize..end as usize].to_vec()))
        });
    }
    t.variadic("concat", &[], Any, |_, a| {
        let mut out = Vec::new();
        for list in &a {
            out.extend(items_of(list, "concat")?);
        }
        Ok(Value::list(out))
    });
    for name in ["chunk", "mustChunk"] {
        t.add(name, &[Int, Any], |_, a| {
            let size = i(&a[0]).max(1) as usize;
            let items = items_of(&a[1], "chunk")?;
            Ok(Value::list(
                items
                    .chunks(size)
                    .map(|c| Value::list(c.to_vec()))
                    .collect(),
            ))
        });
    }
    t.add("until", &[Int], |st, a| {
        st.ns.allow_items(i(&a[0]).unsigned_abs() as u128)?;
        Ok(until(0, i(&a[0]), if i(&a[0]) < 0 { -1 } else { 1 }))
    });
    t.add("untilStep", &[Int, Int, Int], |st, a| {
        let (start, stop, step) = (i(&a[0]), i(&a[1]), i(&a[2]));
        if step != 0 {
            st.ns
                .allow_items(start.abs_diff(stop) as u128 / step.unsigned_abs() as u128)?;
        }
        Ok(until(start, stop, step))
    });
}

/// A list argument's elements; anything that is not a list is an error, as in Sprig.
pub(crate) fn items_of(v: &Value, func: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::List(items) => Ok(items.borrow().clone()),
        other => Err(format!("Cannot {func} on type {}", other.kind_name())),
    }
}

fn until(start: i64, stop: i64, step: i64) -> Value {
    let mut out = Vec::new();
    if step == 0 {
        return Value::list(out);
    }
    let mut n = start;
    while (step > 0 && n < stop) || (step < 0 && n > stop) {
        out.push(Value::Int(n));
        n += step;
    }
    Value::list(out)
}
