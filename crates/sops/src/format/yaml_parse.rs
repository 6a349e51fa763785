//! Reading YAML into the order-preserving tree, from serde-saphyr's event parser.
//!
//! Events rather than serde, because sops' typing needs what serde hides: whether a scalar
//! was quoted, and its tag. Aliases are expanded (as sops does) under a budget so that an
//! alias bomb fails instead of exhausting memory; nesting depth is bounded by the parser.
//! Comments are not kept (see the module docs of `sops`).

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScanError, Span};

use super::yaml_scalar::resolve;
use crate::tree::{Item, Value};

/// Comments are not read (sops files hold `#ENC[…]` ones): unkept, they cannot run into
/// the parser's buffer of 96 comments met while it looks ahead (kube-client turns comment
/// events on for every crate).
fn parser_options() -> serde_saphyr::granit_parser::Options {
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.set_emit_comments(false);
    options
}

/// Reads every document of a YAML stream. Each must be a mapping (or empty).
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Vec<Item>>, String> {
    let mut reader = Reader {
        events: Parser::new_from_str_with_options(text, parser_options()),
        anchors: HashMap::new(),
        alias_budget: 1_000_000 + 16 * text.len(),
    };
    let mut documents = Vec::new();
    loop {
        match reader.next()? {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(documents),
            Event::DocumentStart(..) => {
                reader.anchors.clear();
                let first = reader.next()?;
                let document = match reader.node(first)? {
                    Value::Map(items) => items,
                    Value::Null => Vec::new(),
                    Value::Seq(_) => {
                        return Err("a YAML document is a sequence; sops supports documents \
                                    that are mappings only"
                            .to_owned());
                    }
                    _ => {
                        return Err("a YAML document is a single value; sops supports \
                                    documents that are mappings only"
                            .to_owned());
                    }
                };
                documents.push(document);
            }
            _ => return Err("unexpected YAML structure outside a document".to_owned()),
        }
    }
}

type EventResult<'a> = Result<(Event<'a>, Span), ScanError>;

struct Reader<'a, I: Iterator<Item = EventResult<'a>>> {
    events: I,
    /// Anchored values of the current document, with their size.
    anchors: HashMap<usize, (Value, usize)>,
    /// What alias expansion may still add (nodes plus bytes).
    alias_budget: usize,
}

impl<'a, I: Iterator<Item = EventResult<'a>>> Reader<'a, I> {
    /// The next node or structure event; comments and anchor notes are skipped.
    fn next(&mut self) -> Result<Event<'a>, String> {
        loop {
            let (event, _) = self
                .events
                .next()
                .ok_or("the YAML ends unexpectedly")?
                .map_err(|error| format!("invalid YAML: {error}"))?;
            if event.is_node()
                || matches!(
                    event,
                    Event::StreamStart
                        | Event::StreamEnd
                        | Event::DocumentStart(..)
                        | Event::DocumentEnd
                        | Event::SequenceEnd
                        | Event::MappingEnd
                )
            {
                return Ok(event);
            }
        }
    }

    fn node(&mut self, event: Event<'a>) -> Result<Value, String> {
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (resolve(&text, style, tag.as_deref())?, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut values = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => values.push(self.node(event)?),
                    }
                }
                (Value::Seq(values), anchor)
            }
            Event::MappingStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::MappingEnd => break,
                        event => {
                            let key = self.key(event)?;
                            let next = self.next()?;
                            let value = self.node(next)?;
                            items.push(Item::Entry { key, value });
                        }
                    }
                }
                (Value::Map(items), anchor)
            }
            Event::Alias(id) => {
                let (value, size) = self
                    .anchors
                    .get(&id)
                    .ok_or("a YAML alias refers to an unknown anchor")?;
                self.alias_budget = self.alias_budget.checked_sub(*size).ok_or(
                    "YAML aliases expand to too much data (an alias bomb?); write the values \
                     out instead",
                )?;
                return Ok(value.clone());
            }
            _ => return Err("unexpected YAML structure".to_owned()),
        };
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), size_of(&value)));
        }
        Ok(value)
    }

    fn key(&mut self, event: Event<'a>) -> Result<String, String> {
        match self.node(event)? {
            Value::Str(key) => Ok(key),
            _ => Err(
                "a mapping key is not a string (sops accepts string keys only; quote \
                      keys such as `1`, `true`, `null` or dates)"
                    .to_owned(),
            ),
        }
    }
}

/// Nodes plus string bytes: what cloning a value costs.
fn size_of(value: &Value) -> usize {
    match value {
        Value::Str(text) | Value::Time(text) => 1 + text.len(),
        Value::Bytes(bytes) => 1 + bytes.len(),
        Value::Map(items) => {
            1 + items
                .iter()
                .map(|item| match item {
                    Item::Entry { key, value } => key.len() + size_of(value),
                    Item::Comment(text) => text.len(),
                })
                .sum::<usize>()
        }
        Value::Seq(values) => 1 + values.iter().map(size_of).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_documents_in_order_with_types() {
        let text =
            "# comment\nb: 1\na:\n  - x\n  - 'quoted: 1'\n  - k: v\nc: ~\n---\nz: yes\n---\n";
        let documents = parse_documents(text).unwrap();
        assert_eq!(documents.len(), 3);
        assert_eq!(
            documents[0],
            vec![
                Item::entry("b", Value::Int(1)),
                Item::entry(
                    "a",
                    Value::Seq(vec![
                        Value::Str("x".into()),
                        Value::Str("quoted: 1".into()),
                        Value::Map(vec![Item::entry("k", Value::Str("v".into()))]),
                    ])
                ),
                Item::entry("c", Value::Null),
            ]
        );
        assert_eq!(
            documents[1],
            vec![Item::entry("z", Value::Str("yes".into()))]
        );
        assert!(documents[2].is_empty());
    }

    #[test]
    fn aliases_expand_and_bombs_fail() {
        let documents = parse_documents("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(
            documents[0][0],
            Item::entry(
                "a",
                Value::Map(vec![Item::entry("k", Value::Str("v".into()))])
            )
        );
        let Item::Entry { value, .. } = &documents[0][1] else {
            panic!()
        };
        assert_eq!(
            value,
            &Value::Map(vec![Item::entry("k", Value::Str("v".into()))])
        );

        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut previous = 'a';
        for name in 'b'..='j' {
            bomb.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{previous}"); 9].join(",")
            ));
            previous = name;
        }
        let error = parse_documents(&bomb).unwrap_err();
        assert!(error.contains("alias bomb"), "{error}");
    }

    #[test]
    fn unsupported_shapes_are_errors() {
        assert!(
            parse_documents("- a\n- b\n")
                .unwrap_err()
                .contains("sequence")
        );
        assert!(
            parse_documents("hello\n")
                .unwrap_err()
                .contains("single value")
        );
        assert!(
            parse_documents("1: a\n")
                .unwrap_err()
                .contains("not a string")
        );
        assert!(
            parse_documents("a: [\n")
                .unwrap_err()
                .contains("invalid YAML")
        );
        assert!(parse_documents("a: *nope\n").is_err());
        assert!(parse_documents("").unwrap().is_empty());
    }
}
