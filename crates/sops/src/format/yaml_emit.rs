//! Writing the tree as YAML that both go-yaml (sops) and serde-saphyr (plumb) read back
//! to the same typed values.
//!
//! That matters beyond looks: a value left in clear is hashed into the MAC with the type
//! sops will give it when it reads the file. So a string is written unquoted only when it
//! is plainly a string to every YAML reader (no `yes`, `0755`, `2024-01-01`, `1e3`…);
//! otherwise it is double-quoted, or a literal block when it spans lines. Layout follows
//! sops: four-space indentation, sequences indented under their key.

use std::fmt::Write as _;

use super::yaml_scalar::plain;
use crate::tree::{Item, Value};
use crate::value::looks_encrypted;

const INDENT: usize = 4;

/// Writes documents separated by `---`.
pub(crate) fn emit_documents(documents: &[&[Item]]) -> Result<String, String> {
    let mut out = String::new();
    for (index, items) in documents.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        if has_entries(items) {
            write_map(&mut out, items, 0)?;
        } else {
            write_comments(&mut out, items, 0);
            out.push_str("{}\n");
        }
    }
    Ok(out)
}

fn has_entries(items: &[Item]) -> bool {
    items.iter().any(|item| matches!(item, Item::Entry { .. }))
}

fn write_comments(out: &mut String, items: &[Item], indent: usize) {
    for item in items {
        if let Item::Comment(text) = item {
            let _ = writeln!(out, "{:indent$}#{}", "", text.replace('\n', " "));
        }
    }
}

fn write_map(out: &mut String, items: &[Item], indent: usize) -> Result<(), String> {
    for item in items {
        match item {
            Item::Comment(text) => {
                let _ = writeln!(out, "{:indent$}#{}", "", text.replace('\n', " "));
            }
            Item::Entry { key, value } => {
                let _ = write!(out, "{:indent$}{}:", "", quoted_or_plain(key));
                write_value_after(out, value, indent + INDENT)?;
            }
        }
    }
    Ok(())
}

/// A sequence whose `- ` markers sit at `indent`.
fn write_seq(out: &mut String, values: &[Value], indent: usize) -> Result<(), String> {
    for value in values {
        if let Value::Comment(text) = value {
            let _ = writeln!(out, "{:indent$}#{}", "", text.replace('\n', " "));
            continue;
        }
        let _ = write!(out, "{:indent$}-", "");
        match value {
            Value::Map(items) if has_entries(items) => {
                // The first entry shares the dash's line.
                let mut nested = String::new();
                write_map(&mut nested, items, indent + 2)?;
                out.push(' ');
                out.push_str(&nested[indent + 2..]);
            }
            Value::Seq(inner)
                if inner
                    .iter()
                    .any(|value| !matches!(value, Value::Comment(_))) =>
            {
                let mut nested = String::new();
                write_seq(&mut nested, inner, indent + 2)?;
                out.push(' ');
                out.push_str(&nested[indent + 2..]);
            }
            scalar => write_value_after(out, scalar, indent + 2)?,
        }
    }
    Ok(())
}

/// Writes what follows `key:` or `-`: ` scalar\n`, or a newline and a nested block.
/// `block_indent` is where nested content and literal lines go.
fn write_value_after(out: &mut String, value: &Value, block_indent: usize) -> Result<(), String> {
    match value {
        Value::Map(items) if has_entries(items) => {
            out.push('\n');
            write_map(out, items, block_indent)
        }
        Value::Map(_) => {
            out.push_str(" {}\n");
            Ok(())
        }
        Value::Seq(values)
            if values
                .iter()
                .all(|value| matches!(value, Value::Comment(_))) =>
        {
            out.push_str(" []\n");
            Ok(())
        }
        Value::Seq(values) => {
            out.push('\n');
            write_seq(out, values, block_indent)
        }
        Value::Str(text) => {
            match literal_block(text, block_indent) {
                Some(block) => {
                    out.push(' ');
                    out.push_str(&block);
                }
                None => {
                    out.push(' ');
                    out.push_str(&quoted_or_plain(text));
                    out.push('\n');
                }
            }
            Ok(())
        }
        Value::Bytes(bytes) => {
            let encoded = binary_base64(bytes);
            out.push_str(" !!binary ");
            match literal_block(&encoded, block_indent) {
                Some(block) => out.push_str(&block),
                None => {
                    out.push_str(&encoded);
                    out.push('\n');
                }
            }
            Ok(())
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar)?);
            out.push('\n');
            Ok(())
        }
    }
}

/// Bytes that are not UTF-8 as go-yaml writes such a string (sops' `!!binary` values come
/// back so): standard base64, cut into lines of 70 each ending in a newline when longer.
fn binary_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    const LINE: usize = 70;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut lines = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        lines.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        lines.push('\n');
    }
    lines
}

/// A non-string scalar's YAML text.
fn scalar_text(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null | Value::Comment(_) => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) => yaml_float(*number),
        Value::Time(text) => text.clone(),
        Value::Str(text) => quoted_or_plain(text),
        Value::Bytes(_) => {
            return Err("a value is not valid UTF-8 and cannot be written as YAML".to_owned());
        }
        Value::Map(_) | Value::Seq(_) => return Err("nested value written as a scalar".into()),
    })
}

/// A float as sops (go-yaml, Go's `FormatFloat(f, 'g', -1, 64)`) prints it: shortest
/// digits, exponent form from 1e6 up and below 1e-4 (`1e+06`, `1.5e-07`), integral values
/// below that without a fraction. `-0.0` keeps its fraction so that it stays a float.
fn yaml_float(number: f64) -> String {
    if number.is_nan() {
        return ".nan".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    if number == 0.0 {
        return if number.is_sign_negative() {
            "-0.0"
        } else {
            "0"
        }
        .to_owned();
    }
    // Rust's `{:e}` gives the same shortest digits: `d.ddde<exp>`.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        number.to_string()
    }
}

/// Unquoted when unambiguous, else double-quoted.
pub(crate) fn quoted_or_plain(text: &str) -> String {
    if safe_plain(text) {
        text.to_owned()
    } else {
        double_quoted(text)
    }
}

/// Plain only for ordinary words that every reader takes as the same string: a letter
/// (or `_`, `/`) first, then letters, digits, ` -_./@+=` and `:` not followed by a space,
/// no trailing space, and nothing go-yaml or a YAML 1.1 reader would turn into a boolean,
/// null or number.
fn safe_plain(text: &str) -> bool {
    if looks_encrypted(text) {
        // `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` is plain in sops' own output; base64
        // and these separators cannot end a plain scalar.
        return text.ends_with(']')
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=,:_[]".contains(&byte));
    }
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'/') {
        return false;
    }
    if bytes.last() == Some(&b' ') || bytes.last() == Some(&b':') {
        return false;
    }
    let allowed = bytes.iter().enumerate().all(|(index, &byte)| match byte {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
        b'-' | b'_' | b'.' | b'/' | b'@' | b'+' | b'=' => true,
        b' ' => bytes.get(index + 1) != Some(&b' '),
        b':' => bytes.get(index + 1) != Some(&b' '),
        _ => false,
    });
    let yaml11_words = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    allowed
        && !yaml11_words.contains(&text.to_ascii_lowercase().as_str())
        && plain(text).is_ok_and(|value| value == Value::Str(text.to_owned()))
}

fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `|`, `|-` or `|+` and the indented lines, for multi-line text that a literal block
/// reproduces exactly; `None` otherwise.
fn literal_block(text: &str, indent: usize) -> Option<String> {
    if !text.contains('\n') {
        return None;
    }
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    let lines: Vec<&str> = body.split('\n').collect();
    let first_content = lines.iter().find(|line| !line.is_empty())?;
    let printable =
        |c: char| !(c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'));
    let fits = !first_content.starts_with([' ', '\t'])
        && lines.iter().all(|line| {
            !line.ends_with([' ', '\t']) && line.chars().all(|c| c == '\t' || printable(c))
        });
    if !fits {
        return None;
    }
    let mut out = String::from(match trailing {
        0 => "|-\n",
        1 => "|\n",
        _ => "|+\n",
    });
    for line in &lines {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::yaml_parse::parse_documents;

    fn round_trip(items: Vec<Item>) {
        let text = emit_documents(&[&items]).unwrap();
        let back = parse_documents(&text).unwrap();
        assert_eq!(back, vec![items], "emitted:\n{text}");
    }

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        for text in [
            "yes",
            "No",
            "on",
            "true",
            "null",
            "~",
            "",
            "0755",
            "1_000",
            "1e3",
            "2024-01-01",
            "12:30",
            "-",
            "- x",
            "a: b",
            "#x",
            "x #y",
            "@a",
            "'",
            "\"",
            " lead",
            "trail ",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "{a}",
            "[a]",
            "a,b",
            "?",
            "|",
            ">",
            ".inf",
            "héllo",
        ] {
            let quoted = quoted_or_plain(text);
            assert!(quoted.starts_with('"'), "{text:?} → {quoted}");
        }
        for text in [
            "hello",
            "hello world",
            "apps/v1",
            "my-app_1.2",
            "http://x.y/z",
            "a=b",
        ] {
            assert_eq!(quoted_or_plain(text), text);
        }
    }

    #[test]
    fn values_read_back_the_same() {
        round_trip(vec![
            Item::entry("plain", Value::Str("hello world".into())),
            Item::entry("tricky", Value::Str("yes".into())),
            Item::entry("octal", Value::Str("0755".into())),
            Item::entry(
                "escapes",
                Value::Str("tab\tquote\" back\\ nul\0 bell\u{7}".into()),
            ),
            Item::entry("block", Value::Str("line1\nline2\n".into())),
            Item::entry("block_strip", Value::Str("a\n\nb".into())),
            Item::entry("block_keep", Value::Str("a\n\n\n".into())),
            Item::entry("indented", Value::Str("  starts with spaces\nx\n".into())),
            Item::entry("crlf", Value::Str("a\r\nb".into())),
            Item::entry("int", Value::Int(-5)),
            Item::entry("float", Value::Float(1.5)),
            Item::entry("big", Value::Float(1e21)),
            Item::entry("tiny", Value::Float(1.5e-7)),
            Item::entry("bool", Value::Bool(false)),
            Item::entry("null", Value::Null),
            Item::entry("time", Value::Time("2024-01-01T10:00:00Z".into())),
            Item::entry("empty_map", Value::Map(vec![])),
            Item::entry("empty_seq", Value::Seq(vec![])),
            Item::entry(
                "seq",
                Value::Seq(vec![
                    Value::Str("a".into()),
                    Value::Map(vec![
                        Item::entry("k", Value::Str("v".into())),
                        Item::entry("n", Value::Map(vec![Item::entry("d", Value::Int(1))])),
                    ]),
                    Value::Seq(vec![Value::Int(1), Value::Seq(vec![Value::Int(2)])]),
                    Value::Str("multi\nline\n".into()),
                    Value::Map(vec![]),
                ]),
            ),
            Item::entry(
                "nested",
                Value::Map(vec![Item::entry("deep", Value::Str("x".into()))]),
            ),
        ]);
    }

    /// Found by the sops_encrypt fuzz target
    /// (`fuzz/corpus/sops_encrypt/crash-binary-not-utf8.yaml`, minimised): a `!!binary` value that is
    /// not UTF-8 encrypted, but the file then never decrypted ("a value is not valid UTF-8
    /// and cannot be written as YAML"). It is written back as go-yaml writes it.
    #[test]
    fn bytes_that_are_not_utf8_are_written_as_binary() {
        for bytes in [vec![0x68, 0x6b, 0xec, 0x6c], vec![0xff; 60]] {
            let items = vec![Item::entry("key", Value::Bytes(bytes.clone()))];
            let text = emit_documents(&[&items]).unwrap();
            assert!(text.starts_with("key: !!binary "), "{text}");
            let read = parse_documents(&text).unwrap();
            assert_eq!(
                read,
                vec![vec![Item::entry("key", Value::Bytes(bytes))]],
                "{text}"
            );
        }
        let long = emit_documents(&[&[Item::entry("k", Value::Bytes(vec![0xff; 60]))]]).unwrap();
        assert!(long.starts_with("k: !!binary |\n    /////"), "{long}");
    }

    #[test]
    fn integral_floats_print_like_sops() {
        assert_eq!(yaml_float(8080.0), "8080");
        assert_eq!(yaml_float(1.5), "1.5");
        assert_eq!(yaml_float(-0.0), "-0.0");
        assert_eq!(yaml_float(1e21), "1e+21");
        assert_eq!(yaml_float(1e6), "1e+06");
        assert_eq!(yaml_float(123456.0), "123456");
        assert_eq!(yaml_float(1234567.0), "1.234567e+06");
        assert_eq!(yaml_float(-0.00001), "-1e-05");
        assert_eq!(yaml_float(0.0001), "0.0001");
        assert_eq!(yaml_float(1.5e-7), "1.5e-07");
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
    }

    #[test]
    fn comments_in_sequences_are_written_as_comments() {
        let items = vec![Item::entry(
            "list",
            Value::Seq(vec![
                Value::Comment(" first".into()),
                Value::Str("a".into()),
            ]),
        )];
        let text = emit_documents(&[&items]).unwrap();
        assert_eq!(text, "list:\n    # first\n    - a\n");
        let only = vec![Item::entry(
            "list",
            Value::Seq(vec![Value::Comment("c".into())]),
        )];
        assert_eq!(emit_documents(&[&only]).unwrap(), "list: []\n");
    }

    #[test]
    fn empty_documents_and_separators() {
        let one = vec![Item::entry("a", Value::Int(1))];
        let text = emit_documents(&[&one, &[]]).unwrap();
        assert_eq!(text, "a: 1\n---\n{}\n");
    }
}
