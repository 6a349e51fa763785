//! What an unquoted YAML scalar means to sops.
//!
//! sops reads YAML with go-yaml v3, and the type it gives a scalar decides both the
//! `type:` of the encrypted value and the bytes the MAC hashes. So plumb resolves plain
//! scalars with go-yaml's rules rather than serde-saphyr's YAML 1.1-leaning defaults:
//! `yes`/`on` are strings, `0755` is the octal integer 493, `1_000` is 1000, `2024-01-01`
//! is a timestamp. Quoted and block scalars are strings unless explicitly tagged.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_saphyr::granit_parser::{ScalarStyle, Tag};

use crate::timestamp::yaml_timestamp;
use crate::tree::Value;

const CORE: &str = "tag:yaml.org,2002:";

/// Resolves a scalar event to a value, or says why it cannot be one (never quoting it).
pub(crate) fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let core = tag.filter(|tag| tag.handle() == CORE).map(Tag::suffix);
    if tag.is_some() && core.is_none() {
        // Local and non-specific tags (`!Ref`, `!`): go-yaml keeps the text as a string.
        return Ok(Value::Str(text.to_owned()));
    }
    let Some(core) = core else {
        return Ok(if matches!(style, ScalarStyle::Plain) {
            plain(text)?
        } else {
            Value::Str(text.to_owned())
        });
    };
    let mismatch = || format!("a scalar tagged !!{core} does not hold a valid {core}");
    match core {
        "str" | "merge" | "value" => Ok(Value::Str(text.to_owned())),
        "null" => match plain(text)? {
            Value::Null => Ok(Value::Null),
            _ => Err(mismatch()),
        },
        "bool" => match plain(text)? {
            value @ Value::Bool(_) => Ok(value),
            _ => Err(mismatch()),
        },
        "int" => match plain_number(text)? {
            Some(value @ Value::Int(_)) => Ok(value),
            _ => Err(mismatch()),
        },
        "float" => match plain(text)? {
            value @ Value::Float(_) => Ok(value),
            Value::Int(number) => Ok(Value::Float(number as f64)),
            _ => Err(mismatch()),
        },
        "timestamp" => yaml_timestamp(text).map(Value::Time).ok_or_else(mismatch),
        "binary" => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = STANDARD.decode(compact).map_err(|_| mismatch())?;
            Ok(match String::from_utf8(bytes) {
                Ok(text) => Value::Str(text),
                Err(error) => Value::Bytes(error.into_bytes()),
            })
        }
        "map" | "seq" => Err(format!("a scalar is tagged !!{core}")),
        _ => Ok(Value::Str(text.to_owned())),
    }
}

/// go-yaml v3's resolution of an untagged plain scalar.
pub(crate) fn plain(text: &str) -> Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'+' | b'-' | b'0'..=b'9' => {
            if let Some(time) = yaml_timestamp(text) {
                return Ok(Value::Time(time));
            }
            Ok(plain_number(text)?.unwrap_or_else(|| Value::Str(text.to_owned())))
        }
        b'.' => Ok(go_float(text).map_or_else(|| Value::Str(text.to_owned()), Value::Float)),
        _ => Ok(Value::Str(text.to_owned())),
    }
}

/// An integer or float spelling (underscores ignored), as go-yaml tries them.
fn plain_number(text: &str) -> Result<Option<Value>, String> {
    let compact = text.replace('_', "");
    if let Some(number) = go_parse_int(&compact) {
        return Ok(Some(Value::Int(number)));
    }
    if go_parse_uint(&compact) {
        return Err(
            "an integer is larger than 9223372036854775807, which sops cannot hold \
                    (quote it to keep it as a string)"
                .to_owned(),
        );
    }
    if yaml_style_float(&compact)
        && let Some(number) = go_float(&compact)
    {
        return Ok(Some(Value::Float(number)));
    }
    Ok(None)
}

/// The digits and radix of Go's `strconv.ParseInt(s, 0, 64)` spellings: `0x`, `0o`, `0b`
/// prefixes and a leading `0` for octal.
fn radix_digits(unsigned: &str) -> (u32, &str) {
    let lower = |prefix: &str| {
        unsigned
            .get(..2)
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if lower("0x") {
        (16, &unsigned[2..])
    } else if lower("0o") {
        (8, &unsigned[2..])
    } else if lower("0b") {
        (2, &unsigned[2..])
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    }
}

fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = radix_digits(unsigned);
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Whether Go's `strconv.ParseUint(s, 0, 64)` accepts it (go-yaml then gives a `uint64`).
fn go_parse_uint(text: &str) -> bool {
    let (radix, digits) = radix_digits(text.strip_prefix('+').unwrap_or(text));
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(text: &str) -> bool {
    let bytes = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut at = digits(0);
    if at == 0 {
        if bytes.first() != Some(&b'.') || digits(1) == 0 {
            return false;
        }
        at = 1 + digits(1);
    } else if bytes.get(at) == Some(&b'.') {
        at += 1 + digits(at + 1);
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

/// Go's `strconv.ParseFloat` for decimal spellings; out-of-range values fail as in Go.
fn go_float(text: &str) -> Option<f64> {
    let valid = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !valid {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Value {
        plain(text).unwrap()
    }

    #[test]
    fn plain_scalars_resolve_like_go_yaml_v3() {
        assert_eq!(p(""), Value::Null);
        assert_eq!(p("~"), Value::Null);
        assert_eq!(p("true"), Value::Bool(true));
        assert_eq!(p("False"), Value::Bool(false));
        for string in [
            "yes", "no", "on", "off", "y", "n", "tRue", "hello", "v1", "<<",
        ] {
            assert_eq!(p(string), Value::Str(string.into()), "{string}");
        }
        assert_eq!(p("42"), Value::Int(42));
        assert_eq!(p("-7"), Value::Int(-7));
        assert_eq!(p("+7"), Value::Int(7));
        assert_eq!(p("0755"), Value::Int(493));
        assert_eq!(p("0x1F"), Value::Int(31));
        assert_eq!(p("0o17"), Value::Int(15));
        assert_eq!(p("0b101"), Value::Int(5));
        assert_eq!(p("1_000"), Value::Int(1000));
        assert_eq!(p("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(p("1.50"), Value::Float(1.5));
        assert_eq!(p("1e6"), Value::Float(1e6));
        assert_eq!(p(".5"), Value::Float(0.5));
        assert_eq!(p("08"), Value::Float(8.0));
        assert_eq!(p("-.inf"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(p("1e999"), Value::Str("1e999".into()));
        assert_eq!(p("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(p("2024-01-01"), Value::Time("2024-01-01T00:00:00Z".into()));
        assert_eq!(p("10:30"), Value::Str("10:30".into()));
        assert!(
            plain("18446744073709551615")
                .unwrap_err()
                .contains("larger than")
        );
    }

    #[test]
    fn quoted_and_tagged_scalars() {
        let tag = |suffix: &str| Tag::new(CORE, suffix);
        let quoted = resolve("42", ScalarStyle::DoubleQuoted, None).unwrap();
        assert_eq!(quoted, Value::Str("42".into()));
        let literal = resolve("true", ScalarStyle::Literal, None).unwrap();
        assert_eq!(literal, Value::Str("true".into()));
        let int = resolve("42", ScalarStyle::DoubleQuoted, Some(&tag("int"))).unwrap();
        assert_eq!(int, Value::Int(42));
        let float = resolve("1", ScalarStyle::Plain, Some(&tag("float"))).unwrap();
        assert_eq!(float, Value::Float(1.0));
        let string = resolve("0755", ScalarStyle::Plain, Some(&tag("str"))).unwrap();
        assert_eq!(string, Value::Str("0755".into()));
        let binary = resolve("aGVs\nbG8=", ScalarStyle::Plain, Some(&tag("binary"))).unwrap();
        assert_eq!(binary, Value::Str("hello".into()));
        let local = resolve("x", ScalarStyle::Plain, Some(&Tag::new("!", "Ref"))).unwrap();
        assert_eq!(local, Value::Str("x".into()));
        assert!(resolve("abc", ScalarStyle::Plain, Some(&tag("int"))).is_err());
        assert!(resolve("abc", ScalarStyle::Plain, Some(&tag("timestamp"))).is_err());
    }

    #[test]
    fn yaml_float_shape() {
        for yes in ["1", "1.", "1.5", ".5", "-1.5e3", "+2E-2", "1e5"] {
            assert!(yaml_style_float(yes), "{yes}");
        }
        for no in ["", ".", "e5", "1e", "1.5.5", "0x10", "1_0", "inf"] {
            assert!(!yaml_style_float(no), "{no}");
        }
    }
}
