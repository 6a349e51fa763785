//! The head of a rendered document read line by line, for documents in the plain block
//! shape templates print: `key: value` mappings, `- ` sequences, quoted strings, block
//! scalars, comments.
//!
//! Even event by event, YAML parsing was the largest part of a render. Most rendered
//! documents use only the simplest block YAML, and a document that does is valid YAML by
//! construction: this scanner accepts a document only when every line fits that shape and
//! every indentation fits the block structure, and reads the head on the way. Anything else
//! — flow collections, anchors, tags, multi-line plain or quoted scalars, tabs, `? ` keys,
//! odd indentation — it declines (`None`), and the YAML parser decides ([`crate::head`]).
//! Declining is always safe; accepting is only done for what is certainly valid.

use crate::head::Head;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Map,
    Seq,
}

/// Where a block sits, as far as the head is concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    Metadata,
    Annotations,
    Elsewhere,
}

struct Open {
    indent: usize,
    block: Block,
    place: Place,
}

/// A line that left a value open (`key:` or `-`): the next line may start a nested block.
struct Pending {
    indent: usize,
    /// `key:` may be followed by a sequence at its own indentation.
    same_indent_seq: bool,
    /// What the key is to the head.
    field: Field,
}

/// What a mapping key is to Helm's `SimpleHead` (apiVersion, kind, metadata.name,
/// metadata.annotations as strings): a field that must be a scalar, one that must be a
/// mapping, or anything else.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Kind,
    Name,
    Hook,
    /// `apiVersion`, any other annotation: a scalar, not kept.
    Scalar,
    Metadata,
    Annotations,
    Other,
}

impl Field {
    fn of(place: Place, key: &str) -> Field {
        match (place, key) {
            (Place::Top, "kind") => Field::Kind,
            (Place::Top, "apiVersion") => Field::Scalar,
            (Place::Top, "metadata") => Field::Metadata,
            (Place::Metadata, "name") => Field::Name,
            (Place::Metadata, "annotations") => Field::Annotations,
            (Place::Annotations, "helm.sh/hook") => Field::Hook,
            (Place::Annotations, _) => Field::Scalar,
            _ => Field::Other,
        }
    }

    fn scalar_only(self) -> bool {
        matches!(
            self,
            Field::Kind | Field::Name | Field::Hook | Field::Scalar
        )
    }

    fn map_only(self) -> bool {
        matches!(self, Field::Metadata | Field::Annotations)
    }

    /// Where the entries of its nested mapping sit.
    fn place(self) -> Place {
        match self {
            Field::Metadata => Place::Metadata,
            Field::Annotations => Place::Annotations,
            _ => Place::Elsewhere,
        }
    }
}

/// The head of `doc` when it is plain block YAML; `None` otherwise.
pub(crate) fn read(doc: &str) -> Option<Head> {
    if !doc.chars().all(printable) {
        return None;
    }
    let mut head = Head::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut lines = doc.lines().peekable();
    while let Some(line) = lines.next() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if content.starts_with('\t') || (indent == 0 && is_marker(content)) {
            return None;
        }
        let is_item = content == "-" || content.starts_with("- ");
        let mut opened = false;
        if stack.is_empty() {
            if indent != 0 || is_item {
                return None;
            }
            stack.push(Open {
                indent: 0,
                block: Block::Map,
                place: Place::Top,
            });
            opened = true;
        }
        if let Some(p) = pending.take()
            && (indent > p.indent || (p.same_indent_seq && is_item && indent == p.indent))
        {
            if p.field.scalar_only() || (p.field.map_only() && is_item) {
                return None;
            }
            let block = if is_item { Block::Seq } else { Block::Map };
            stack.push(Open {
                indent,
                block,
                place: p.field.place(),
            });
            opened = true;
        }
        if !opened {
            while stack.last().is_some_and(|o| o.indent > indent) {
                stack.pop();
            }
            // A sequence at its key's indentation ends where the mapping goes on.
            if !is_item
                && stack
                    .last()
                    .is_some_and(|o| o.indent == indent && o.block == Block::Seq)
            {
                stack.pop();
            }
            let top = stack.last()?;
            let want = if is_item { Block::Seq } else { Block::Map };
            if top.indent != indent || top.block != want {
                return None;
            }
        }
        let (column, entry, place) = if is_item {
            let rest = content[1..].trim_start_matches(' ');
            if rest.is_empty() {
                pending = Some(Pending {
                    indent,
                    same_indent_seq: false,
                    field: Field::Other,
                });
                continue;
            }
            let column = line.len() - rest.len();
            if split_entry(rest).is_none() {
                if value(rest)? == Value::Block {
                    skip_block_scalar(&mut lines, indent)?;
                }
                continue;
            }
            // A mapping in the item: its keys sit at `column`.
            stack.push(Open {
                indent: column,
                block: Block::Map,
                place: Place::Elsewhere,
            });
            (column, rest, Place::Elsewhere)
        } else {
            (indent, content, stack.last()?.place)
        };
        let (key, rest) = split_entry(entry)?;
        let field = Field::of(place, key);
        let rest = rest.trim_start_matches([' ', '\t']);
        let value = if rest.is_empty() || rest.starts_with('#') {
            // A nested block, or nothing (null).
            pending = Some(Pending {
                indent: column,
                same_indent_seq: true,
                field,
            });
            Value::Text(String::new())
        } else {
            value(rest)?
        };
        match value {
            Value::Block if field.scalar_only() && field != Field::Scalar => return None,
            Value::Block if field.map_only() => return None,
            Value::Block => skip_block_scalar(&mut lines, column)?,
            Value::EmptyMap if field.scalar_only() => return None,
            Value::EmptySeq if field.scalar_only() || field.map_only() => return None,
            Value::EmptyMap | Value::EmptySeq => {}
            Value::Text(text) => match field {
                Field::Kind => head.kind = text,
                Field::Name => head.name = text,
                Field::Hook => head.hook = Some(text),
                // `metadata: x`: not a mapping.
                Field::Metadata | Field::Annotations if !text.is_empty() => return None,
                _ => {}
            },
        }
    }
    Some(head)
}

/// Consumes a block scalar's lines: blank lines, and lines indented as its first content
/// line (which must be deeper than `parent`). A line between the two ends in `None`.
fn skip_block_scalar<'a>(
    lines: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
    parent: usize,
) -> Option<()> {
    let mut content_indent: Option<usize> = None;
    while let Some(line) = lines.peek() {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() {
            if content_indent.is_none() && indent > parent {
                // An all-space line before the first content line: leave it to the parser.
                return None;
            }
            lines.next();
            continue;
        }
        match content_indent {
            None if indent > parent => content_indent = Some(indent),
            None => return Some(()),
            Some(m) if indent >= m => {}
            Some(_) if indent > parent => return None,
            Some(_) => return Some(()),
        }
        lines.next();
    }
    Some(())
}

/// `---` or `...` at the start of a line: document markers.
fn is_marker(content: &str) -> bool {
    (content.starts_with("---") || content.starts_with("..."))
        && content[3..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
}

/// Characters YAML allows in a document (and no byte-order mark).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | ' '..='~')
        || (c >= '\u{a0}' && !matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}'))
}

/// `key: rest` (or `key:` at the end) with a simple plain key.
fn split_entry(s: &str) -> Option<(&str, &str)> {
    let at = s.find(':')?;
    let (key, rest) = (&s[..at], &s[at + 1..]);
    // YAML's implicit keys are at most 1024 characters.
    let simple = !key.is_empty()
        && key.len() <= 1024
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    // A null key (`null:`) fails the document in Helm: the parser says so.
    let null = matches!(key, "null" | "Null" | "NULL");
    (simple && !null && (rest.is_empty() || rest.starts_with(' '))).then_some((key, rest))
}

#[derive(Debug, PartialEq, Eq)]
enum Value {
    /// A one-line scalar's text (`null` as empty).
    Text(String),
    /// `{}`.
    EmptyMap,
    /// `[]`.
    EmptySeq,
    /// `|`, `>` and their chomping forms: lines follow.
    Block,
}

/// A value after `key: ` or `- `, when it is one of the simple forms.
fn value(s: &str) -> Option<Value> {
    let s = strip_comment(s)?.trim_end_matches([' ', '\t']);
    match s {
        "{}" => return Some(Value::EmptyMap),
        "[]" => return Some(Value::EmptySeq),
        "|" | "|-" | "|+" | ">" | ">-" | ">+" => return Some(Value::Block),
        "~" | "null" | "Null" | "NULL" => return Some(Value::Text(String::new())),
        _ => {}
    }
    let first = s.chars().next()?;
    match first {
        '"' => double_quoted(s),
        '\'' => single_quoted(s),
        '-' | '?' | ':' => {
            let second = s[1..].chars().next();
            (second.is_some_and(|c| c != ' ') && plain_rest_ok(s)).then(|| Value::Text(s.into()))
        }
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`'
        | '\t' => None,
        _ => plain_rest_ok(s).then(|| Value::Text(s.into())),
    }
}

/// A plain scalar on one line: no `: ` inside, no `:` at the end.
fn plain_rest_ok(s: &str) -> bool {
    !s.contains(": ") && !s.ends_with(':') && !s.contains(":\t")
}

/// The value without a trailing ` # comment` (outside quotes).
fn strip_comment(s: &str) -> Option<&str> {
    if s.starts_with(['"', '\'']) {
        return Some(s);
    }
    match s.find(" #").or_else(|| s.find("\t#")) {
        Some(at) => Some(&s[..at]),
        None => Some(s),
    }
}

/// A double-quoted string closed on its line, nothing but a comment after it.
fn double_quoted(s: &str) -> Option<Value> {
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return rest_is_empty(&s[2 + i..]).then_some(Value::Text(out)),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// A single-quoted string closed on its line (`''` is a quote).
fn single_quoted(s: &str) -> Option<Value> {
    let mut out = String::new();
    let body = &s[1..];
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return rest_is_empty(&body[i + 1..]).then_some(Value::Text(out));
        }
        out.push(c);
    }
    None
}

/// Nothing after a closing quote but spaces and a comment (`#` after a space).
fn rest_is_empty(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches([' ', '\t']);
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(doc: &str) -> Option<(String, String, Option<String>)> {
        read(doc).map(|h| (h.kind, h.name, h.hook))
    }

    #[test]
    fn plain_block_documents_are_read() {
        let doc = "apiVersion: v1\nkind: Job # c\nmetadata:\n  name: \"j\"\n  labels:\n    a: b\n  annotations:\n    x: '5'\n    helm.sh/hook: pre-install\nspec:\n  list:\n  - a\n  - k: v\n    l:\n      - 1\n  text: |\n    any: thing\n     - here\n\n  after: {}\n";
        assert_eq!(
            head(doc),
            Some(("Job".into(), "j".into(), Some("pre-install".into())))
        );
        assert_eq!(
            head("kind: A\nkind: B\n"),
            Some(("B".into(), String::new(), None))
        );
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for doc in [
            "- a",
            "kind: !!str x",
            "kind: [x]",
            "a: &x 1",
            "metadata: 5",
            "a: b\n  c",
            "a: b: c",
            "a:\n  b: 1\n c: 2",
            "a: \"x\ny\"",
            "a: {b: 1}",
            "a:\n\tb: 1",
            "kind:\n  x: 1",
            "a: |\n    x\n  y",
            "? a\n: b",
            "a: 'x",
            "a: \"\\x41\"",
            "a:\n- b\n  - c",
        ] {
            assert_eq!(head(doc), None, "{doc:?}");
        }
    }

    fn rounds() -> usize {
        std::env::var("PLUMB_HEAD_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(20_000)
    }

    /// Mutated documents: whatever the line scanner accepts, the YAML parser accepts too,
    /// with the same head.
    #[test]
    fn never_accepts_what_the_parser_refuses() {
        let bases = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    helm.sh/hook: test\ndata:\n  x: \"1\"\n  y: 'q'\n",
            "kind: Deployment\nspec:\n  list:\n  - a\n  - k: v\n    l:\n      - 1\n  text: |\n    any: thing\n  after: {}\n",
            "metadata:\n  name: x # c\n  labels:\n    a: b\nitems:\n- -1\n- name: n\n  v: >-\n    folded\n",
        ];
        let alphabet = [
            ' ', ' ', ':', '-', '#', '"', '\'', '\n', '|', '{', 'a', '\t', '\\', '[', '>', '&',
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut accepted = 0;
        for round in 0..rounds() {
            let mut doc: Vec<char> = bases[round % bases.len()].chars().collect();
            for _ in 0..1 + next(4) {
                let at = next(doc.len() + 1);
                match next(3) {
                    0 if at < doc.len() => {
                        doc.remove(at);
                    }
                    _ => doc.insert(at.min(doc.len()), alphabet[next(alphabet.len())]),
                }
            }
            let doc: String = doc.into_iter().collect();
            if let Some(fast) = read(&doc) {
                accepted += 1;
                match crate::head::read(&doc) {
                    Ok(Some(slow)) => assert_eq!(fast, slow, "{doc:?}"),
                    Ok(None) => {}
                    Err(e) => panic!("accepted what the parser refuses ({e}): {doc:?}"),
                }
            }
        }
        assert!(accepted > rounds() / 20, "only {accepted} accepted");
    }
}
