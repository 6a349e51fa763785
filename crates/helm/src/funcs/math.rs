//! Sprig's arithmetic: integer functions cast their arguments to `int64` (so `add .Values.n 1`
//! works on YAML's floats), the `…f` functions work in decimals and return `float64`.

use super::Param::{Any, Int};
use super::convert::{to_float64, to_int64};
use super::{Table, i};
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("add1", &[Any], |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
    });
    t.variadic("add", &[], Any, |_, a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(0i64, i64::wrapping_add),
        ))
    });
    t.add("sub", &[Any, Any], |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    t.add("div", &[Any, Any], |_, a| match to_int64(&a[1]) {
        0 => Err("runtime error: integer divide by zero".into()),
        d => Ok(Value::Int64(to_int64(&a[0]).wrapping_div(d))),
    });
    t.add("mod", &[Any, Any], |_, a| match to_int64(&a[1]) {
        0 => Err("runtime error: integer divide by zero".into()),
        d => Ok(Value::Int64(to_int64(&a[0]).wrapping_rem(d))),
    });
    t.variadic("mul", &[Any], Any, |_, a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(1i64, i64::wrapping_mul),
        ))
    });
    for name in ["max", "biggest"] {
        t.variadic(name, &[Any], Any, |_, a| {
            Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    t.variadic("min", &[Any], Any, |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    t.variadic("maxf", &[Any], Any, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::MIN, f64::max),
        ))
    });
    t.variadic("minf", &[Any], Any, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::MAX, f64::min),
        ))
    });
    t.add("add1f", &[Any], |_, a| {
        Ok(Value::Float(decimal(to_float64(&a[0]) + 1.0)))
    });
    t.variadic("addf", &[], Any, |_, a| {
        Ok(Value::Float(decimal(a.iter().map(to_float64).sum())))
    });
    t.variadic("subf", &[Any], Any, |_, a| {
        Ok(Value::Float(decimal(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), |x, y| x - y),
        )))
    });
    t.variadic("mulf", &[Any], Any, |_, a| {
        Ok(Value::Float(decimal(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), |x, y| x * y),
        )))
    });
    t.variadic("divf", &[Any], Any, |_, a| {
        let mut acc = to_float64(&a[0]);
        for d in &a[1..] {
            let d = to_float64(d);
            if d == 0.0 {
                return Err("decimal division by 0".into());
            }
            acc /= d;
        }
        Ok(Value::Float(decimal(acc)))
    });
    t.add("floor", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    t.add("ceil", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    t.variadic("round", &[Any, Int], Any, |_, a| {
        let point = a.get(2).map_or(0.5, to_float64);
        let pow = 10f64.powi(i(&a[1]) as i32);
        let digit = to_float64(&a[0]) * pow;
        let (int, frac) = (digit.trunc(), digit.fract());
        let rounded = if frac >= point { int + 1.0 } else { int };
        Ok(Value::Float(rounded / pow))
    });
}

/// shopspring/decimal's results, approximated: exact to 15 significant digits, so
/// `addf 0.1 0.2` is `0.3` as in Sprig, not `0.30000000000000004`.
fn decimal(f: f64) -> f64 {
    format!("{f:.14e}").parse().unwrap_or(f)
}
