//! dotenv files: `KEY=value` lines and `#` comments, with the metadata flattened into
//! `sops_*` lines.
//!
//! As in sops: a value is everything after the first `=`, a literal `\n` in it stands for
//! a newline (and a newline is written back as `\n`), blank lines are dropped, every value
//! is a string, and comments are encrypted like values. The metadata's nested keys are
//! joined with `__map_` and `__list_<index>` (`sops_age__list_0__map_enc`), sorted.

use std::fmt::Write as _;

use crate::tree::{Item, Value};

const PREFIX: &str = "sops_";
const MAP: &str = "__map_";
const LIST: &str = "__list_";

/// Reads the lines of a dotenv file.
pub(crate) fn parse_lines(content: &[u8]) -> Result<Vec<Item>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "the dotenv file is not UTF-8")?;
    let mut items = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            items.push(Item::Comment(comment.to_owned()));
        } else if let Some((key, value)) = line.split_once('=') {
            items.push(Item::entry(key, Value::Str(value.replace("\\n", "\n"))));
        } else {
            return Err(format!("line {} of the dotenv file has no `=`", index + 1));
        }
    }
    Ok(items)
}

/// Whether a dotenv file carries sops metadata.
pub(crate) fn has_metadata(content: &[u8]) -> bool {
    content
        .split(|&byte| byte == b'\n')
        .any(|line| line.starts_with(b"sops_version=") || line.starts_with(b"sops_mac="))
}

/// Splits `sops_*` lines off and rebuilds the metadata mapping from them. `None` when
/// there are none.
pub(crate) fn split_metadata(items: Vec<Item>) -> Result<(Vec<Item>, Option<Value>), String> {
    let mut data = Vec::new();
    let mut metadata: Option<Value> = None;
    for item in items {
        match item {
            Item::Entry { key, value } if key.starts_with(PREFIX) => {
                let tokens = tokenize(&key[PREFIX.len()..])?;
                let root = metadata.get_or_insert_with(|| Value::Map(Vec::new()));
                insert(root, &tokens, value)?;
            }
            other => data.push(other),
        }
    }
    Ok((data, metadata))
}

#[derive(Debug, PartialEq)]
enum Token {
    Key(String),
    Index(usize),
}

fn tokenize(path: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = path;
    let mut kind = MAP;
    loop {
        let next = [MAP, LIST]
            .iter()
            .filter_map(|separator| rest.find(separator).map(|at| (at, *separator)))
            .min();
        let (text, following) = match next {
            Some((at, separator)) => (&rest[..at], Some((at, separator))),
            None => (rest, None),
        };
        tokens.push(if kind == LIST {
            Token::Index(
                text.parse()
                    .map_err(|_| format!("bad list index in `sops_{path}`"))?,
            )
        } else {
            Token::Key(text.to_owned())
        });
        match following {
            Some((at, separator)) => {
                rest = &rest[at + separator.len()..];
                kind = separator;
            }
            None => return Ok(tokens),
        }
    }
}

fn insert(node: &mut Value, tokens: &[Token], value: Value) -> Result<(), String> {
    let Some((first, rest)) = tokens.split_first() else {
        *node = value;
        return Ok(());
    };
    let fresh = || match rest.first() {
        Some(Token::Index(_)) => Value::Seq(Vec::new()),
        _ => Value::Map(Vec::new()),
    };
    let child = match (first, &mut *node) {
        (Token::Key(name), Value::Map(items)) => {
            let position = items
                .iter()
                .position(|item| matches!(item, Item::Entry { key, .. } if key == name));
            let position = position.unwrap_or_else(|| {
                items.push(Item::entry(name.clone(), fresh()));
                items.len() - 1
            });
            match &mut items[position] {
                Item::Entry { value, .. } => value,
                Item::Comment(_) => unreachable!("position found an entry"),
            }
        }
        (Token::Index(index), Value::Seq(values)) => {
            if *index > 1024 {
                return Err("a metadata list index is too large".to_owned());
            }
            if values.len() <= *index {
                values.resize(*index + 1, Value::Null);
            }
            &mut values[*index]
        }
        _ => return Err("the `sops_*` metadata lines mix lists and maps".to_owned()),
    };
    if matches!(child, Value::Null) && !rest.is_empty() {
        *child = fresh();
    }
    insert(child, rest, value)
}

/// Flattens the metadata mapping into sorted `sops_*` entries.
pub(crate) fn flatten_metadata(metadata: &Value) -> Vec<Item> {
    let mut flat = Vec::new();
    flatten(metadata, String::new(), &mut flat);
    flat.sort_by(|a, b| a.0.cmp(&b.0));
    flat.into_iter()
        .map(|(key, value)| Item::entry(format!("{PREFIX}{key}"), Value::Str(value)))
        .collect()
}

fn flatten(value: &Value, prefix: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Map(items) => {
            for item in items {
                if let Item::Entry { key, value } = item {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}{MAP}{key}")
                    };
                    flatten(value, path, out);
                }
            }
        }
        Value::Seq(values) => {
            for (index, value) in values.iter().enumerate() {
                flatten(value, format!("{prefix}{LIST}{index}"), out);
            }
        }
        Value::Null => {}
        scalar => out.push((prefix, scalar_text(scalar))),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Str(text) | Value::Time(text) => text.clone(),
        Value::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) => number.to_string(),
        Value::Null | Value::Map(_) | Value::Seq(_) | Value::Comment(_) => String::new(),
    }
}

/// Writes the lines back.
pub(crate) fn emit_lines(items: &[Item]) -> Result<String, String> {
    let mut out = String::new();
    for item in items {
        match item {
            Item::Comment(text) => {
                let _ = writeln!(out, "#{text}");
            }
            Item::Entry { key, value } => {
                if matches!(value, Value::Map(_) | Value::Seq(_)) {
                    return Err(format!(
                        "`{key}` has a nested value, which dotenv cannot hold"
                    ));
                }
                if matches!(value, Value::Bytes(_)) {
                    return Err(format!("`{key}` is not valid UTF-8"));
                }
                let _ = writeln!(out, "{key}={}", scalar_text(value).replace('\n', "\\n"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_newlines() {
        let items = parse_lines(b"# note\nA=1\n\nB=multi\\nline\nC=\nD=x=y\n").unwrap();
        assert_eq!(
            items,
            vec![
                Item::Comment(" note".into()),
                Item::entry("A", Value::Str("1".into())),
                Item::entry("B", Value::Str("multi\nline".into())),
                Item::entry("C", Value::Str(String::new())),
                Item::entry("D", Value::Str("x=y".into())),
            ]
        );
        assert_eq!(
            emit_lines(&items).unwrap(),
            "# note\nA=1\nB=multi\\nline\nC=\nD=x=y\n"
        );
        assert_eq!(
            parse_lines(b"A=1\nnot a pair\n").unwrap_err(),
            "line 2 of the dotenv file has no `=`"
        );
    }

    #[test]
    fn metadata_flattens_and_unflattens() {
        let metadata = Value::Map(vec![
            Item::entry(
                "age",
                Value::Seq(vec![Value::Map(vec![
                    Item::entry("recipient", Value::Str("age1x".into())),
                    Item::entry("enc", Value::Str("-----BEGIN\nabc\n".into())),
                ])]),
            ),
            Item::entry("lastmodified", Value::Str("2026-11-22T22:49:03Z".into())),
            Item::entry("mac_only_encrypted", Value::Bool(true)),
            Item::entry("version", Value::Str("3.11.0".into())),
        ]);
        let flat = flatten_metadata(&metadata);
        let text = emit_lines(&flat).unwrap();
        assert_eq!(
            text,
            "sops_age__list_0__map_enc=-----BEGIN\\nabc\\n\n\
             sops_age__list_0__map_recipient=age1x\n\
             sops_lastmodified=2026-11-22T22:49:03Z\n\
             sops_mac_only_encrypted=true\n\
             sops_version=3.11.0\n"
        );
        let (data, back) = split_metadata(parse_lines(text.as_bytes()).unwrap()).unwrap();
        assert!(data.is_empty());
        let Some(Value::Map(back)) = back else {
            panic!()
        };
        let Item::Entry {
            key,
            value: Value::Seq(age),
        } = &back[0]
        else {
            panic!()
        };
        assert_eq!(key, "age");
        assert_eq!(
            age[0],
            Value::Map(vec![
                Item::entry("enc", Value::Str("-----BEGIN\nabc\n".into())),
                Item::entry("recipient", Value::Str("age1x".into())),
            ])
        );
        assert!(has_metadata(text.as_bytes()));
        assert!(!has_metadata(b"A=1\n"));
    }

    #[test]
    fn tokenizes_nested_keys() {
        assert_eq!(
            tokenize("key_groups__list_1__map_age__list_0__map_enc").unwrap(),
            vec![
                Token::Key("key_groups".into()),
                Token::Index(1),
                Token::Key("age".into()),
                Token::Index(0),
                Token::Key("enc".into()),
            ]
        );
        assert!(tokenize("age__list_x").is_err());
    }
}
