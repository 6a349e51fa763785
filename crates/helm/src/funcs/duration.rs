//! Go's `time.Duration` and the functions over it: Sprig's `duration` and `durationRound`,
//! and the helpers Helm 4.2 added (`mustToDuration`, `durationSeconds`… `durationRoundTo`).
//!
//! A duration is a Go named integer (nanoseconds): templates print it as `1h2m3.5s`, JSON and
//! YAML encode the integer, `eq` compares it with integers.

use std::rc::Rc;

use super::Param::Any;
use super::{Table, one};
use crate::value::{Object, Value};

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

pub(super) fn register(t: &mut Table) {
    t.add("duration", &[Any], |_, a| {
        Ok(Value::str(format(
            sprig_seconds(&one(a)).wrapping_mul(SECOND),
        )))
    });
    t.add("durationRound", &[Any], |_, a| {
        Ok(Value::str(round_words(match one(a) {
            Value::String(s) => parse(&s).unwrap_or(0),
            Value::Int64(n) => n,
            _ => 0,
        })))
    });
    t.add("mustToDuration", &[Any], |_, a| {
        as_duration(&one(a)).map(duration)
    });
    t.add("durationSeconds", &[Any], |_, a| {
        Ok(Value::Float(as_duration(&one(a)).map_or(0.0, seconds)))
    });
    t.add("durationMilliseconds", &[Any], |_, a| {
        Ok(Value::Int(
            as_duration(&one(a)).map_or(0, |d| d / 1_000_000),
        ))
    });
    t.add("durationMicroseconds", &[Any], |_, a| {
        Ok(Value::Int(as_duration(&one(a)).map_or(0, |d| d / 1_000)))
    });
    t.add("durationNanoseconds", &[Any], |_, a| {
        Ok(Value::Int(as_duration(&one(a)).unwrap_or(0)))
    });
    t.add("durationMinutes", &[Any], |_, a| {
        Ok(Value::Float(as_duration(&one(a)).map_or(0.0, |d| {
            (d / MINUTE) as f64 + (d % MINUTE) as f64 / (60.0 * 1e9)
        })))
    });
    t.add("durationHours", &[Any], |_, a| {
        Ok(Value::Float(as_duration(&one(a)).map_or(0.0, hours)))
    });
    t.add("durationDays", &[Any], |_, a| {
        Ok(Value::Float(
            as_duration(&one(a)).map_or(0.0, |d| hours(d) / 24.0),
        ))
    });
    t.add("durationWeeks", &[Any], |_, a| {
        Ok(Value::Float(
            as_duration(&one(a)).map_or(0.0, |d| hours(d) / 24.0 / 7.0),
        ))
    });
    t.add("durationRoundTo", &[Any, Any], |_, a| {
        Ok(duration(to_multiple(&a, round)))
    });
    t.add("durationTruncateTo", &[Any, Any], |_, a| {
        Ok(duration(to_multiple(&a, |d, m| {
            if m <= 0 { d } else { d - d % m }
        })))
    });
}

/// A `time.Duration` value.
pub(crate) struct Duration(i64);

impl Object for Duration {
    fn type_name(&self) -> &str {
        "time.Duration"
    }
    fn display(&self) -> String {
        format(self.0)
    }
    fn int(&self) -> Option<i64> {
        Some(self.0)
    }
    fn kind(&self) -> &'static str {
        "int64"
    }
}

fn duration(nanos: i64) -> Value {
    Value::Object(Rc::new(Duration(nanos)))
}

/// Sprig's `duration` argument: a string of decimal seconds or an `int64` (an `int`, such as
/// a literal, gives 0, as in Sprig).
fn sprig_seconds(v: &Value) -> i64 {
    match v {
        Value::String(s) => go_parse_int(s),
        Value::Int64(n) => *n,
        _ => 0,
    }
}

/// `strconv.ParseInt(s, 10, 64)` with its error ignored: 0, or the bound on overflow.
fn go_parse_int(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse::<i64>().unwrap_or(if s.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Helm's `asDuration`: a duration, a Go duration string, decimal seconds in a string, or
/// a number of seconds.
fn as_duration(v: &Value) -> Result<i64, String> {
    match v {
        Value::Object(o) if o.int().is_some() && o.type_name() == "time.Duration" => {
            Ok(o.int().unwrap_or(0))
        }
        Value::String(text) => {
            let s = text.trim();
            if s.is_empty() {
                return Err("empty duration".into());
            }
            if let Ok(d) = parse(s) {
                return Ok(d);
            }
            match s.parse::<f64>() {
                Ok(f) => from_seconds_float(f),
                Err(_) => Err(format!(
                    "could not parse duration {}",
                    crate::gofmt::quote(text)
                )),
            }
        }
        Value::Nil => Err("invalid duration".into()),
        Value::Int(n) | Value::Int64(n) => {
            if *n > i64::MAX / SECOND || *n < i64::MIN / SECOND {
                return Err(format!("duration seconds overflow: {n}"));
            }
            Ok(n * SECOND)
        }
        Value::Float(f) => from_seconds_float(*f),
        other => Err(format!("unsupported duration type {}", other.type_name())),
    }
}

fn from_seconds_float(seconds: f64) -> Result<i64, String> {
    let shown = crate::gofmt::print_value(&Value::Float(seconds));
    if !seconds.is_finite() {
        return Err(format!("invalid duration seconds: {shown}"));
    }
    let bound = i64::MAX as f64 / SECOND as f64;
    if seconds > bound || seconds < i64::MIN as f64 / SECOND as f64 {
        return Err(format!("duration seconds overflow: {shown}"));
    }
    let nanos = seconds * SECOND as f64;
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err("duration nanoseconds overflow".into());
    }
    Ok(nanos as i64)
}

/// `durationRoundTo`/`durationTruncateTo`: 0 when the duration is bad, the duration itself
/// when the multiple is.
fn to_multiple(args: &[Value], f: fn(i64, i64) -> i64) -> i64 {
    let Ok(d) = as_duration(&args[0]) else {
        return 0;
    };
    match as_duration(&args[1]) {
        Ok(m) => f(d, m),
        Err(_) => d,
    }
}

fn seconds(d: i64) -> f64 {
    (d / SECOND) as f64 + (d % SECOND) as f64 / 1e9
}

fn hours(d: i64) -> f64 {
    (d / HOUR) as f64 + (d % HOUR) as f64 / (60.0 * 60.0 * 1e9)
}

/// `Duration.Round`: halfway values round away from zero; saturates at the bounds.
fn round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let less_than_half = |r: i64| (r as u64).wrapping_add(r as u64) < m as u64;
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if less_than_half(r) {
            return d + r;
        }
        return match d.checked_sub(m).map(|d1| d1 + r) {
            Some(d1) if d1 < d => d1,
            _ => i64::MIN,
        };
    }
    if less_than_half(r) {
        return d - r;
    }
    match d.checked_add(m - r) {
        Some(d1) if d1 > d => d1,
        _ => i64::MAX,
    }
}

/// Sprig's `durationRound`: the largest whole unit (y, mo, d, h, m, s), sign dropped.
fn round_words(d: i64) -> String {
    let u = d.unsigned_abs();
    let hour = HOUR as u64;
    let units = [
        (hour * 24 * 365, "y"),
        (hour * 24 * 30, "mo"),
        (hour * 24, "d"),
        (hour, "h"),
        (MINUTE as u64, "m"),
        (SECOND as u64, "s"),
    ];
    for (size, name) in units {
        if u > size {
            return format!("{}{name}", u / size);
        }
    }
    "0s".into()
}

/// `Duration.String`: `72h3m0.5s`, `1.5ms`, `0s`.
pub(crate) fn format(d: i64) -> String {
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < SECOND as u64 {
        let (unit, prec) = match u {
            0 => return "0s".into(),
            1..=999 => ("ns", 0),
            1_000..=999_999 => ("µs", 3),
            _ => ("ms", 6),
        };
        let (frac, whole) = fraction(u, prec);
        out = format!("{whole}{frac}{unit}");
    } else {
        let (frac, whole) = fraction(u, 9);
        u = whole;
        let secs = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let mins = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&secs);
    }
    if d < 0 {
        out.insert(0, '-');
    }
    out
}

/// The fraction of `v / 10^prec` (`.25`, trailing zeros dropped, nothing when whole) and
/// the whole part.
fn fraction(v: u64, prec: u32) -> (String, u64) {
    let scale = 10u64.pow(prec);
    let digits = format!("{:0width$}", v % scale, width = prec as usize);
    let digits = digits.trim_end_matches('0');
    let frac = if digits.is_empty() {
        String::new()
    } else {
        format!(".{digits}")
    };
    (frac, v / scale)
}

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`.
pub(crate) fn parse(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", crate::gofmt::quote(text));
    let (neg, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s.starts_with('.') || s.as_bytes()[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for b in s[..int_len].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(b - b'0')))
                .filter(|x| *x <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut frac_len) = (0u64, 1f64, 0);
        if let Some(rest) = s.strip_prefix('.') {
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                match frac.checked_mul(10).map(|x| x + u64::from(b - b'0')) {
                    Some(y) if frac <= (LIMIT - 1) / 10 && y <= LIMIT => {
                        frac = y;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            s = &rest[frac_len..];
        } else if int_len == 0 {
            return Err(invalid());
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|b| *b != b'.' && !b.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                crate::gofmt::quote(text)
            ));
        }
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => SECOND as u64,
            "m" => MINUTE as u64,
            "h" => HOUR as u64,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::gofmt::quote(other),
                    crate::gofmt::quote(text)
                ));
            }
        };
        s = &s[unit_len..];
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(v)
            .filter(|t| *t <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_and_parse_as_go() {
        for (text, nanos, shown) in [
            ("1h2m3.5s", 3_723_500_000_000, "1h2m3.5s"),
            ("1.5ms", 1_500_000, "1.5ms"),
            ("1µs", 1_000, "1µs"),
            ("100ns", 100, "100ns"),
            ("-1.5h", -5_400_000_000_000, "-1h30m0s"),
            ("0", 0, "0s"),
            ("90s", 90 * SECOND, "1m30s"),
            ("2h", 2 * HOUR, "2h0m0s"),
        ] {
            assert_eq!(parse(text), Ok(nanos), "{text}");
            assert_eq!(format(nanos), shown, "{text}");
        }
        for bad in ["", "1", "s", "1x", ".s", "-", "9999999999999h"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_halfway_away_from_zero() {
        assert_eq!(round(90 * SECOND, MINUTE), 2 * MINUTE);
        assert_eq!(round(-90 * SECOND, MINUTE), -2 * MINUTE);
        assert_eq!(round(89 * SECOND, MINUTE), MINUTE);
        assert_eq!(round(i64::MAX, HOUR), i64::MAX);
        assert_eq!(round_words(-3 * SECOND), "3s");
        assert_eq!(round_words(SECOND), "0s");
    }
}
