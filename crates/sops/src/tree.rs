//! The in-memory form of a SOPS document: an order-preserving tree of typed values.
//!
//! SOPS computes its MAC over values in document order and types each encrypted value
//! (`str`, `int`, `float`, `bool`, `time`), so neither a `HashMap` nor `serde_json::Value`
//! (whose `preserve_order` feature would change the whole workspace) fits. This tree keeps
//! mappings as vectors of entries, keeps comments where a format gives them (dotenv), and
//! wipes its strings when dropped because after decryption it holds secrets.

use zeroize::Zeroize;

/// One value of a document, typed the way sops' Go stores type it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// `null` / `~` / empty: never encrypted, not part of the MAC.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (Go `int`).
    Int(i64),
    /// A floating-point number (every JSON number is one, as in sops).
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Bytes that are not UTF-8: only binary files hold them.
    Bytes(Vec<u8>),
    /// A timestamp, kept as its canonical RFC 3339 text (Go's `time.Time` text form).
    Time(String),
    /// A mapping, in document order.
    Map(Vec<Item>),
    /// A sequence.
    Seq(Vec<Value>),
    /// A comment standing where a value stands: sops writes an encrypted comment inside a
    /// YAML sequence as a sequence item, which decrypts back to a comment. Not in the MAC.
    Comment(String),
}

/// An entry of a mapping: a key with its value, or a comment line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Item {
    /// `key: value`.
    Entry {
        /// The key (sops accepts string keys only).
        key: String,
        /// The value.
        value: Value,
    },
    /// A comment (text after `#`), which sops encrypts like a value but leaves out of the MAC.
    Comment(String),
}

impl Item {
    pub(crate) fn entry(key: impl Into<String>, value: Value) -> Item {
        Item::Entry {
            key: key.into(),
            value,
        }
    }
}

/// A whole file: one top-level mapping per document (only YAML has several).
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub(crate) documents: Vec<Vec<Item>>,
}

impl Tree {
    pub(crate) fn new(documents: Vec<Vec<Item>>) -> Tree {
        Tree { documents }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        for document in &mut self.documents {
            wipe_items(document);
        }
    }
}

fn wipe_items(items: &mut [Item]) {
    for item in items {
        match item {
            Item::Entry { key, value } => {
                key.zeroize();
                wipe_value(value);
            }
            Item::Comment(text) => text.zeroize(),
        }
    }
}

fn wipe_value(value: &mut Value) {
    match value {
        Value::Str(text) | Value::Time(text) | Value::Comment(text) => text.zeroize(),
        Value::Bytes(bytes) => bytes.zeroize(),
        Value::Int(number) => number.zeroize(),
        Value::Float(number) => number.zeroize(),
        Value::Bool(flag) => flag.zeroize(),
        Value::Map(items) => wipe_items(items),
        Value::Seq(values) => values.iter_mut().for_each(wipe_value),
        Value::Null => {}
    }
}

/// A leaf reached by [`walk`]: a scalar value or a comment.
pub(crate) enum Leaf<'a> {
    Value(&'a mut Value),
    Comment(&'a mut String),
}

/// Visits every leaf of `items` in document order with the path of mapping keys leading to
/// it. Sequence indexes are not part of a path, and `null` is no leaf: both as in sops.
pub(crate) fn walk<E>(
    items: &mut [Item],
    path: &mut Vec<String>,
    visit: &mut impl FnMut(Leaf<'_>, &[String]) -> Result<(), E>,
) -> Result<(), E> {
    for item in items {
        match item {
            Item::Comment(text) => visit(Leaf::Comment(text), path)?,
            Item::Entry { key, value } => {
                path.push(key.clone());
                let result = walk_value(value, path, visit);
                path.pop();
                result?;
            }
        }
    }
    Ok(())
}

fn walk_value<E>(
    value: &mut Value,
    path: &mut Vec<String>,
    visit: &mut impl FnMut(Leaf<'_>, &[String]) -> Result<(), E>,
) -> Result<(), E> {
    match value {
        Value::Map(items) => walk(items, path, visit),
        Value::Seq(values) => {
            for value in values {
                walk_value(value, path, visit)?;
            }
            Ok(())
        }
        Value::Null => Ok(()),
        leaf => visit(Leaf::Value(leaf), path),
    }
}

/// The additional authenticated data of a value at `path`: its keys joined by `:`, plus a
/// final `:` (so a top-level comment has `:`).
pub(crate) fn path_aad(path: &[String]) -> String {
    let mut aad = path.join(":");
    aad.push(':');
    aad
}

/// A path for messages: `a:b:c` (key names are in clear in every sops file).
pub(crate) fn path_display(path: &[String]) -> String {
    if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.join(":")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Item> {
        vec![
            Item::Comment(" head".into()),
            Item::entry("a", Value::Str("x".into())),
            Item::entry(
                "list",
                Value::Seq(vec![
                    Value::Int(1),
                    Value::Null,
                    Value::Map(vec![Item::entry("k", Value::Bool(true))]),
                ]),
            ),
            Item::entry(
                "nested",
                Value::Map(vec![
                    Item::Comment(" inner".into()),
                    Item::entry(
                        "deep",
                        Value::Map(vec![Item::entry("x", Value::Float(1.5))]),
                    ),
                ]),
            ),
        ]
    }

    #[test]
    fn walk_visits_leaves_in_order_with_key_paths() {
        let mut items = sample();
        let mut seen = Vec::new();
        walk::<()>(&mut items, &mut Vec::new(), &mut |leaf, path| {
            let what = match leaf {
                Leaf::Value(value) => format!("{value:?}"),
                Leaf::Comment(text) => format!("#{text}"),
            };
            seen.push((path_aad(path), what));
            Ok(())
        })
        .unwrap();
        let seen: Vec<(&str, &str)> = seen.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            seen,
            [
                (":", "# head"),
                ("a:", "Str(\"x\")"),
                ("list:", "Int(1)"),
                ("list:k:", "Bool(true)"),
                ("nested:", "# inner"),
                ("nested:deep:x:", "Float(1.5)"),
            ]
        );
    }

    #[test]
    fn aad_is_keys_joined_with_trailing_colon() {
        assert_eq!(path_aad(&[]), ":");
        assert_eq!(
            path_aad(&["data".into(), "password".into()]),
            "data:password:"
        );
        assert_eq!(path_display(&[]), "(top level)");
    }
}
