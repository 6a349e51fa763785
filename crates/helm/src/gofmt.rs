//! Go's `fmt`, as far as templates reach it: how an action prints a value (`%v`), `print`,
//! `println`, `printf` and `%q` quoting. Charts' output depends on these bytes — a float
//! printed `1e+06`, a map printed `map[a:1]`, a wrong verb printed `%!d(string=x)`.

use crate::value::Value;

/// `fmt.Sprint(v)`: the `%v` form.
pub fn print_value(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

/// `fmt.Sprint(args...)`: spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        write_v(&mut out, arg);
    }
    out
}

/// `fmt.Sprintln(args...)`: spaces between all operands and a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(print_value).collect();
    let mut out = parts.join(" ");
    out.push('\n');
    out
}

fn write_v(out: &mut String, v: &Value) {
    write_at(out, v, 0);
}

fn write_at(out: &mut String, v: &Value, depth: usize) {
    if depth > crate::value::MAX_NESTING {
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f, 'g', None)),
        Value::String(s) => out.push_str(s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_at(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push_str("map[");
            for (i, (k, item)) in entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_at(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Object(object) => out.push_str(&object.display()),
    }
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `e`, `f`, `g` (`E`, `G`);
/// `prec` `None` is the shortest representation that reads back the same.
pub fn format_float(f: f64, fmt: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let negative = f.is_sign_negative();
    let a = f.abs();
    let body = match fmt.to_ascii_lowercase() {
        'f' => match prec {
            Some(p) => format!("{a:.p$}"),
            None => {
                let (digits, exp) = shortest_digits(a);
                fixed(&digits, exp, None)
            }
        },
        'e' => {
            let (digits, exp) = match prec {
                Some(p) => rounded_digits(a, p + 1),
                None => shortest_digits(a),
            };
            let digits = match prec {
                Some(p) => pad_digits(&digits, p + 1),
                None => digits,
            };
            exponent_form(&digits, exp)
        }
        _ => {
            // %g: exponent form when the exponent is < -4 or >= the precision (6 when shortest).
            let (digits, exp, eprec) = match prec {
                None => {
                    let (d, e) = shortest_digits(a);
                    (d, e, 6)
                }
                Some(p) => {
                    let p = p.max(1);
                    let (d, e) = rounded_digits(a, p);
                    let d = d.trim_end_matches('0').to_string();
                    let d = if d.is_empty() { "0".to_string() } else { d };
                    let mut eprec = p as i32;
                    if eprec > d.len() as i32 && d.len() as i32 > e {
                        eprec = d.len() as i32;
                    }
                    (d, e, eprec)
                }
            };
            if exp < -4 || exp >= eprec {
                exponent_form(&digits, exp)
            } else {
                fixed(&digits, exp, None)
            }
        }
    };
    let body = if fmt.is_ascii_uppercase() {
        body.to_uppercase()
    } else {
        body
    };
    if negative { format!("-{body}") } else { body }
}

/// The shortest decimal digits of `a` (no sign) and the exponent of the first digit.
fn shortest_digits(a: f64) -> (String, i32) {
    if a == 0.0 {
        return ("0".into(), 0);
    }
    let e = format!("{a:e}");
    split_exponent(&e)
}

/// `a` rounded to `n` significant digits.
fn rounded_digits(a: f64, n: usize) -> (String, i32) {
    if a == 0.0 {
        return ("0".repeat(n.max(1)), 0);
    }
    let e = format!("{a:.*e}", n.saturating_sub(1));
    split_exponent(&e)
}

fn split_exponent(e: &str) -> (String, i32) {
    let (mantissa, exp) = e.split_once('e').unwrap_or((e, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

fn pad_digits(digits: &str, n: usize) -> String {
    let mut d = digits.to_string();
    while d.len() < n {
        d.push('0');
    }
    d
}

fn exponent_form(digits: &str, exp: i32) -> String {
    let mut out = String::new();
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
    out
}

fn fixed(digits: &str, exp: i32, _prec: Option<usize>) -> String {
    if exp < 0 {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{digits}{}", "0".repeat(int_len - digits.len()))
        } else {
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        }
    }
}

/// Go's `strconv.Quote`: a double-quoted Go string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough: control and format characters, and spaces other
/// than ASCII's, are not printable.
fn is_printable(c: char) -> bool {
    if (c as u32) < 0x20 || c == '\u{7f}' {
        return false;
    }
    if c != ' ' && c.is_whitespace() {
        return false;
    }
    if ('\u{80}'..='\u{9f}').contains(&c) {
        return false;
    }
    !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// The widest field `printf` pads to, and the most digits it writes after a point.
const MAX_WIDTH: usize = 1 << 20;
const MAX_PRECISION: usize = 1_000;

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        // Bounded, where Go would try to build any width: a template is untrusted input.
        spec.width = read_number(&mut chars, args, &mut next_arg).map(|w| w.min(MAX_WIDTH));
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(
                read_number(&mut chars, args, &mut next_arg)
                    .unwrap_or(0)
                    .min(MAX_PRECISION),
            );
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        let text = format_one(&spec, verb, arg);
        out.push_str(&text);
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), print_value(a)),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn read_number(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    next_arg: &mut usize,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let n = match args.get(*next_arg) {
            Some(Value::Int(i)) => Some((*i).max(0) as usize),
            _ => None,
        };
        *next_arg += 1;
        return n;
    }
    let mut n: Option<usize> = None;
    while let Some(&d) = chars.peek() {
        let Some(digit) = d.to_digit(10) else { break };
        n = Some(n.unwrap_or(0) * 10 + digit as usize);
        chars.next();
    }
    n
}

#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    /// `%+v`: fmt's `plusV`, which names struct fields (and reaches inside lists and maps)
    /// in place of the `+` sign.
    plus_v: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        arg => format!("%!{verb}({}={})", arg.type_name(), print_value(arg)),
    }
}

fn format_one(spec: &Spec, verb: char, arg: &Value) -> String {
    if verb == 'v' && spec.plus {
        let spec = Spec {
            plus: false,
            plus_v: true,
            ..spec.clone()
        };
        return format_one(&spec, verb, arg);
    }
    // What the elements of a list or map are printed with.
    let inner = Spec {
        plus_v: spec.plus_v,
        ..Spec::default()
    };
    // A named integer (`time.Duration`) prints by its `String` method for %s and %v only.
    let arg = if matches!(verb, 's' | 'v') {
        arg
    } else {
        &*arg.basic()
    };
    let (body, numeric) = match (verb, arg) {
        ('v', Value::Float(f)) | ('g' | 'G' | 'e' | 'E' | 'f' | 'F', Value::Float(f)) => {
            let v = if verb == 'v' { 'g' } else { verb };
            let mut s = format_float(*f, if v == 'F' { 'f' } else { v }, spec.precision);
            if (spec.plus || spec.space) && !s.starts_with('-') {
                s.insert(0, if spec.plus { '+' } else { ' ' });
            }
            (s, true)
        }
        ('v' | 'd', Value::Int(i) | Value::Int64(i)) => {
            let mut s = i.to_string();
            if (spec.plus || spec.space) && *i >= 0 {
                s.insert(0, if spec.plus { '+' } else { ' ' });
            }
            (s, true)
        }
        ('b', Value::Int(i) | Value::Int64(i)) => (format!("{i:b}"), true),
        ('o', Value::Int(i) | Value::Int64(i)) => (format!("{i:o}"), true),
        ('x', Value::Int(i) | Value::Int64(i)) => (
            if *i < 0 {
                format!("-{:x}", i.unsigned_abs())
            } else {
                format!("{i:x}")
            },
            true,
        ),
        ('X', Value::Int(i) | Value::Int64(i)) => (
            if *i < 0 {
                format!("-{:X}", i.unsigned_abs())
            } else {
                format!("{i:X}")
            },
            true,
        ),
        ('c', Value::Int(i) | Value::Int64(i)) => (
            char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
            false,
        ),
        ('q', Value::Int(i) | Value::Int64(i)) => (
            format!("'{}'", char::from_u32(*i as u32).unwrap_or('\u{fffd}')),
            false,
        ),
        ('t' | 'v', Value::Bool(b)) => (b.to_string(), false),
        ('s' | 'v', Value::String(s)) => {
            let s: &str = s;
            let s = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            (s, false)
        }
        ('q', Value::String(s)) => (quote(s), false),
        ('x', Value::String(s)) => (s.bytes().map(|b| format!("{b:02x}")).collect(), false),
        ('X', Value::String(s)) => (s.bytes().map(|b| format!("{b:02X}")).collect(), false),
        ('v', Value::Nil) => ("<nil>".into(), false),
        ('s' | 'v' | 'd' | 'q' | 'x' | 'X' | 'f' | 'g' | 'e' | 't', Value::List(items)) => {
            let parts: Vec<String> = items
                .borrow()
                .iter()
                .map(|item| format_one(&inner, verb, item))
                .collect();
            (format!("[{}]", parts.join(" ")), false)
        }
        ('s' | 'v' | 'd' | 'q' | 'x' | 'X' | 'f' | 'g' | 'e' | 't', Value::Map(entries)) => {
            let parts: Vec<String> = entries
                .borrow()
                .iter()
                .map(|(k, item)| {
                    format!(
                        "{}:{}",
                        format_one(&inner, verb, &Value::str(k.as_str())),
                        format_one(&inner, verb, item)
                    )
                })
                .collect();
            (format!("map[{}]", parts.join(" ")), false)
        }
        // `%+v` names a struct's fields: `{Cert:… Key:…}`.
        ('v', Value::Object(object)) if spec.plus_v && object.fields().is_some() => {
            let parts: Vec<String> = (object.fields().unwrap_or_default().iter())
                .map(|(name, item)| format!("{name}:{}", format_one(&inner, 'v', item)))
                .collect();
            (format!("{{{}}}", parts.join(" ")), false)
        }
        ('s' | 'v', Value::Object(object)) => (object.display(), false),
        ('T', arg) => (arg.type_name(), false),
        (verb, arg) => (bad_verb(verb, arg), false),
    };
    let _ = spec.sharp;
    pad(spec, body, numeric)
}

fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.strip_prefix(['-', '+', ' ']) {
            Some(rest) => (&body[..1], rest),
            None => ("", body.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        let cases = [
            (1_000_000.0, "1e+06"),
            (100_000.0, "100000"),
            (1_234_567.0, "1.234567e+06"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.0, "-2"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f, 'g', None), want, "{f}");
        }
        assert_eq!(format_float(1.23456, 'f', Some(2)), "1.23");
        assert_eq!(format_float(2.5, 'e', Some(3)), "2.500e+00");
    }

    #[test]
    fn printf_verbs_and_mistakes() {
        let args = [Value::str("a"), Value::Int(5), Value::Float(1.5)];
        assert_eq!(sprintf("%s-%d-%v", &args), "a-5-1.5");
        assert_eq!(sprintf("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[Value::str("x")]), "x %!s(MISSING)");
        assert_eq!(
            sprintf("%s", &[Value::str("x"), Value::Int(1)]),
            "x%!(EXTRA int=1)"
        );
        assert_eq!(
            sprintf(
                "%05d|%-4s|%4s",
                &[Value::Int(42), Value::str("ab"), Value::str("cd")]
            ),
            "00042|ab  |  cd"
        );
        assert_eq!(sprintf("%q", &[Value::str("a\"b\n")]), r#""a\"b\n""#);
        assert_eq!(quote("nbsp\u{a0}é"), r#""nbsp\u00a0é""#);
    }

    #[test]
    fn sprint_spaces_only_between_non_strings() {
        assert_eq!(
            sprint(&[Value::Int(1), Value::Int(2), Value::str("a"), Value::Int(3)]),
            "1 2a3"
        );
        let m = Value::from_json(&crate::value::as_go_json(
            serde_json::json!({"b": [1, "x"], "a": null}),
        ));
        assert_eq!(print_value(&m), "map[a:<nil> b:[1 x]]");
    }
}
