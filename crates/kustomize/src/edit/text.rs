//! Entries and scalars written as YAML text (keys in Kustomize's order, the quoting a
//! value needs), and the key and value read back from a line.

use serde_json::Value;

use super::KEY_ORDER;
use plumb_manifest::go_yaml::resolves_as_string;

/// How a value is written on its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    Empty,
    Plain,
    Single,
    Double,
    /// Anchors, aliases, tags, block scalars, flow collections: not edited.
    Other,
}

/// Joins insertions at the same offset into one, keeping their order.
pub(super) fn merge_inserts(edits: &mut Vec<(usize, usize, String)>) {
    edits.sort_by_key(|(start, end, _)| (*start, *end));
    let mut merged: Vec<(usize, usize, String)> = Vec::new();
    for edit in edits.drain(..) {
        match merged.last_mut() {
            Some(last) if last.0 == edit.0 && last.1 == last.0 && edit.1 == edit.0 => {
                last.2.push_str(&edit.2);
            }
            _ => merged.push(edit),
        }
    }
    *edits = merged;
}

pub(super) fn rank(key: &str) -> usize {
    KEY_ORDER
        .iter()
        .position(|k| *k == key)
        .unwrap_or(KEY_ORDER.len())
}

/// A new block entry: `- name: …` at `dash`, further keys at `column`.
pub(super) fn new_entry(entry: &Value, dash: usize, column: usize, eol: &str) -> String {
    let mut out = String::new();
    for (n, (key, value)) in ordered(entry).into_iter().enumerate() {
        if n == 0 {
            out.push_str(&" ".repeat(dash));
            out.push('-');
            out.push_str(&" ".repeat(column.saturating_sub(dash + 1).max(1)));
        } else {
            out.push_str(&" ".repeat(column));
        }
        out.push_str(&format!("{key}: {}{eol}", scalar(&value, Style::Plain)));
    }
    out
}

/// `{name: app, newTag: "1.2"}`.
pub(super) fn flow_entry(entry: &Value) -> String {
    let fields: Vec<String> = ordered(entry)
        .into_iter()
        .map(|(key, value)| format!("{key}: {}", scalar(&value, Style::Plain)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// An entry's fields in Kustomize's order, unknown keys last.
pub(super) fn ordered(entry: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = entry else {
        return Vec::new();
    };
    let mut fields: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    fields.sort_by_key(|(k, _)| rank(k));
    fields
}

/// A string written as a YAML scalar: in `style` when it was quoted, plain when that reads
/// back as the same string (in YAML 1.1 and 1.2), double-quoted otherwise.
pub(super) fn scalar(value: &str, style: Style) -> String {
    match style {
        Style::Single => format!("'{}'", value.replace('\'', "''")),
        Style::Double => double_quoted(value),
        _ if plain_is_safe(value) => value.to_owned(),
        _ => double_quoted(value),
    }
}

pub(super) fn double_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Image names, tags and digests are plain-safe unless they read as another type
/// (`1.20`, `1e3`, `true`, `0x1F`).
pub(super) fn plain_is_safe(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c))
        && resolves_as_string(value)
        && !value.ends_with(':')
}

/// `- ` or a lone `-`: the start of a sequence entry.
pub(super) fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// The key of a `key: value` text, and the offset just after its `:`.
pub(super) fn key_of(text: &str) -> Option<(String, usize)> {
    let first = text.chars().next()?;
    if first == '"' || first == '\'' {
        let close = text[1..].find(first)? + 1;
        let key = text[1..close].to_owned();
        let rest = &text[close + 1..];
        let colon = rest.strip_prefix(':')?;
        (colon.is_empty() || colon.starts_with(' ')).then_some((key, close + 2))
    } else {
        if matches!(
            first,
            '#' | '-' | '?' | '{' | '[' | '&' | '*' | '!' | '|' | '>'
        ) {
            return None;
        }
        let bytes = text.as_bytes();
        let colon = (0..bytes.len())
            .find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))?;
        let key = text[..colon].trim_end();
        if key.contains(" #") {
            return None;
        }
        Some((key.to_owned(), colon + 1))
    }
}

/// The value span (relative to `text`) and its style, after leading spaces; a trailing
/// comment is not part of it.
pub(super) fn split_value(text: &str) -> ((usize, usize), Style) {
    let start = text.len() - text.trim_start_matches(' ').len();
    let rest = &text[start..];
    let end_of = |len: usize| (start, start + len);
    match rest.chars().next() {
        None | Some('#') => ((start, start), Style::Empty),
        Some('"') => {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return (end_of(i + 1), Style::Double),
                    _ => i += 1,
                }
            }
            (end_of(rest.len()), Style::Other)
        }
        Some('\'') => {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return (end_of(i + 1), Style::Single);
                }
                i += 1;
            }
            (end_of(rest.len()), Style::Other)
        }
        Some(c) => {
            let len = rest.find(" #").unwrap_or(rest.len());
            let value = rest[..len].trim_end();
            let style = if matches!(c, '&' | '*' | '!' | '|' | '>' | '[' | '{' | '%' | '@' | '`') {
                Style::Other
            } else {
                Style::Plain
            };
            (end_of(value.len()), style)
        }
    }
}
