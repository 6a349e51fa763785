//! Finding the `images:` list in a kustomization's lines and changing the lines of its
//! entries: the byte-level half of [`super::set_images`].

use serde_json::Value;

use super::text::{
    Style, flow_entry, is_dash, key_of, merge_inserts, new_entry, rank, scalar, split_value,
};
use super::{FieldChange, ImageEntryChange, refuse};
use crate::error::{Error, Result};

/// One line of the file: byte offsets of its content (without the line ending) and of
/// the next line.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

/// The text cut into lines, with the structure of the `images:` list found in it.
pub(super) struct Editor<'a> {
    file: &'a str,
    text: &'a str,
    lines: Vec<Line>,
    eol: &'static str,
}

/// An entry of a block `images:` list.
#[derive(Debug)]
struct Item {
    /// Its `-` line.
    first: usize,
    /// Its last line that is not blank or a comment.
    last: usize,
    /// Column of the `-`.
    dash: usize,
    shape: ItemShape,
}

#[derive(Debug)]
enum ItemShape {
    /// `- key: value` lines; keys at `column`.
    Block { column: usize, keys: Vec<KeyLine> },
    /// `- {name: app, newTag: "1"}` on one line.
    Flow,
    /// Anything else: left alone, never edited.
    Other,
}

/// A `key: value` line of a block entry, and the lines its value continues on.
#[derive(Debug)]
struct KeyLine {
    line: usize,
    key: String,
    /// Byte range of the value on the line (empty when there is none).
    value: (usize, usize),
    style: Style,
    /// The last line of the value (== `line` unless it continues).
    last: usize,
}

/// Where the `images` key is and what its value looks like.
enum ImagesAt {
    /// No `images` key: append one at the end of the document.
    Absent { end: usize, root: usize },
    /// `images:` with `[]`, `~`, `null` or nothing on its line and no entries below.
    Empty {
        key_line: usize,
        value: (usize, usize),
    },
    /// A block list.
    Block { items: Vec<Item> },
}

impl<'a> Editor<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Result<Self> {
        let mut lines = Vec::new();
        let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        while start < text.len() {
            let newline = text[start..].find('\n').map(|i| start + i);
            let (end, next) = match newline {
                Some(n) => (n, n + 1),
                None => (text.len(), text.len()),
            };
            let end = if end > start && text.as_bytes()[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            lines.push(Line { start, end, next });
            start = next;
        }
        let crlf = text
            .find('\n')
            .is_some_and(|n| n > 0 && text.as_bytes()[n - 1] == b'\r');
        Ok(Editor {
            file,
            text,
            lines,
            eol: if crlf { "\r\n" } else { "\n" },
        })
    }

    fn line(&self, index: usize) -> &'a str {
        let line = self.lines[index];
        &self.text[line.start..line.end]
    }

    fn indent(&self, index: usize) -> usize {
        let line = self.line(index);
        line.len() - line.trim_start_matches(' ').len()
    }

    /// Blank, or only a comment.
    fn is_filler(&self, index: usize) -> bool {
        let trimmed = self.line(index).trim();
        trimmed.is_empty() || trimmed.starts_with('#')
    }

    fn refuse(&self, line: usize, detail: &str) -> Error {
        refuse(self.file, Some(line + 1), detail)
    }

    /// The lines of the first document: after directives and a `---`, before the next
    /// `---` or `...`.
    fn document(&self) -> Result<(usize, usize)> {
        let mut first = 0;
        let mut seen_start = false;
        for index in 0..self.lines.len() {
            let line = self.line(index);
            if self.is_filler(index) || line.starts_with('%') {
                continue;
            }
            if !seen_start && (line == "---" || line.starts_with("--- #")) {
                seen_start = true;
                first = index + 1;
                continue;
            }
            if line.starts_with("---") {
                return Err(
                    self.refuse(index, "content on the `---` line; move it to the next line")
                );
            }
            break;
        }
        let end = (first..self.lines.len())
            .find(|&i| {
                let line = self.line(i);
                line == "---"
                    || line == "..."
                    || line.starts_with("--- ")
                    || line.starts_with("... ")
            })
            .unwrap_or(self.lines.len());
        Ok((first, end))
    }

    fn find_images(&self) -> Result<ImagesAt> {
        let (first, end) = self.document()?;
        let Some(top) = (first..end).find(|&i| !self.is_filler(i)) else {
            return Err(refuse(self.file, None, "the kustomization is empty"));
        };
        let root = self.indent(top);
        let top_text = self.line(top).trim_start();
        if top_text.starts_with('{') || top_text.starts_with('[') {
            return Err(self.refuse(
                top,
                "the kustomization is written in flow style ({…}); plumb edits block-style files only",
            ));
        }
        let root_keys: Vec<usize> = (top..end)
            .filter(|&i| {
                !self.is_filler(i) && self.indent(i) == root && !is_dash(self.line(i).trim_start())
            })
            .collect();
        let mut found = None;
        for &index in &root_keys {
            let text = &self.line(index)[root..];
            if key_of(text).is_some_and(|(key, _)| key == "images") {
                if found.is_some() {
                    return Err(self.refuse(index, "`images` appears twice"));
                }
                found = Some(index);
            }
        }
        let Some(key_line) = found else {
            return Ok(ImagesAt::Absent { end, root });
        };
        let region_end = root_keys
            .iter()
            .copied()
            .find(|&i| i > key_line)
            .unwrap_or(end);
        let line = self.lines[key_line];
        let text = self.line(key_line);
        let (_, after_colon) = key_of(&text[root..]).expect("found as a key");
        let value_start = line.start + root + after_colon;
        let (value, _) = split_value(&self.text[value_start..line.end]);
        let value = (value_start + value.0, value_start + value.1);
        let written = &self.text[value.0..value.1];
        let content: Vec<usize> = (key_line + 1..region_end)
            .filter(|&i| !self.is_filler(i))
            .collect();
        match written {
            "" if content.is_empty() => Ok(ImagesAt::Empty { key_line, value }),
            "" => Ok(ImagesAt::Block {
                items: self.items(&content, region_end, root)?,
            }),
            "[]" | "~" | "null" | "Null" | "NULL" if content.is_empty() => {
                Ok(ImagesAt::Empty { key_line, value })
            }
            _ if written.starts_with('[') => Err(self.refuse(
                key_line,
                "`images` is a flow-style list ([…]); write it as a block list (one `- name: …` entry per line) and run plumb again",
            )),
            _ => Err(self.refuse(
                key_line,
                "`images` is written in a form plumb does not edit (an anchor, alias or tag); write it as a plain block list",
            )),
        }
    }

    /// The entries of a block list whose content lines are `content`.
    fn items(&self, content: &[usize], region_end: usize, root: usize) -> Result<Vec<Item>> {
        let first = content[0];
        let dash = self.indent(first);
        if dash < root || !is_dash(self.line(first).trim_start()) {
            return Err(self.refuse(first, "expected a `- ` entry of the `images` list here"));
        }
        let starts: Vec<usize> = content
            .iter()
            .copied()
            .filter(|&i| self.indent(i) == dash && is_dash(self.line(i).trim_start()))
            .collect();
        for &i in content {
            if self.indent(i) < dash || (self.indent(i) == dash && !starts.contains(&i)) {
                return Err(self.refuse(i, "unexpected indentation inside the `images` list"));
            }
        }
        let mut items = Vec::new();
        for (n, &start) in starts.iter().enumerate() {
            let stop = starts.get(n + 1).copied().unwrap_or(region_end);
            let last = (start..stop)
                .rev()
                .find(|&i| !self.is_filler(i))
                .unwrap_or(start);
            items.push(Item {
                first: start,
                last,
                dash,
                shape: self.shape(start, last, dash),
            });
        }
        Ok(items)
    }

    fn shape(&self, first: usize, last: usize, dash: usize) -> ItemShape {
        let line = self.line(first);
        let rest = &line[dash + 1..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let inline = rest.trim_start();
        if inline.starts_with('{') {
            let closed = split_value(inline).0;
            let written = &inline[closed.0..closed.1];
            return if first == last && written.ends_with('}') {
                ItemShape::Flow
            } else {
                ItemShape::Other
            };
        }
        let (column, mut keys) = if inline.is_empty() || inline.starts_with('#') {
            let Some(next) = (first + 1..=last).find(|&i| !self.is_filler(i)) else {
                return ItemShape::Other;
            };
            (self.indent(next), Vec::new())
        } else {
            let column = dash + 1 + spaces;
            match self.key_line(first, column) {
                Some(key) => (column, vec![key]),
                None => return ItemShape::Other,
            }
        };
        if column <= dash {
            return ItemShape::Other;
        }
        for index in first + 1..=last {
            if self.is_filler(index) {
                continue;
            }
            let indent = self.indent(index);
            if indent == column {
                match self.key_line(index, column) {
                    Some(key) => keys.push(key),
                    None => return ItemShape::Other,
                }
            } else if indent > column {
                match keys.last_mut() {
                    Some(key) => key.last = index,
                    None => return ItemShape::Other,
                }
            } else {
                return ItemShape::Other;
            }
        }
        ItemShape::Block { column, keys }
    }

    fn key_line(&self, index: usize, column: usize) -> Option<KeyLine> {
        let line = self.lines[index];
        let text = &self.text[line.start + column..line.end];
        let (key, after_colon) = key_of(text)?;
        let value_start = line.start + column + after_colon;
        let (value, style) = split_value(&self.text[value_start..line.end]);
        Some(KeyLine {
            line: index,
            key,
            value: (value_start + value.0, value_start + value.1),
            style,
            last: index,
        })
    }

    /// Builds the edited text.
    pub(super) fn apply(
        &self,
        before: &[Value],
        after: &[Value],
        changes: &[ImageEntryChange],
    ) -> Result<String> {
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let eol = self.eol;
        match self.find_images()? {
            ImagesAt::Absent { end, root } => {
                let at = if end < self.lines.len() {
                    self.lines[end].start
                } else {
                    self.text.len()
                };
                let mut block = String::new();
                if at > 0 && !self.text[..at].ends_with('\n') {
                    block.push_str(eol);
                }
                block.push_str(&" ".repeat(root));
                block.push_str("images:");
                block.push_str(eol);
                let dash = root + self.sequence_offset(root);
                for entry in after {
                    block.push_str(&new_entry(entry, dash, dash + 2, eol));
                }
                edits.push((at, at, block));
            }
            ImagesAt::Empty { key_line, value } => {
                let line = self.lines[key_line];
                let root = self.indent(key_line);
                // `images: []  # note` → `images:  # note`
                let mut start = value.0;
                while start > line.start && self.text.as_bytes()[start - 1] == b' ' {
                    start -= 1;
                }
                let comment_gap = if value.1 < line.end { " " } else { "" };
                let tail = self.text[value.1..line.end].trim_start();
                let replaced = format!("{comment_gap}{tail}");
                edits.push((start, line.end, replaced));
                let dash = root + self.sequence_offset(root);
                let mut block = String::new();
                if line.next == line.end {
                    block.push_str(eol);
                }
                for entry in after {
                    block.push_str(&new_entry(entry, dash, dash + 2, eol));
                }
                edits.push((line.next, line.next, block));
            }
            ImagesAt::Block { items } => {
                if items.len() != before.len() {
                    return Err(refuse(
                        self.file,
                        None,
                        &format!(
                            "found {} entries under `images` in the text but the file reads as {}; rewrite the list as plain `- name: …` entries",
                            items.len(),
                            before.len()
                        ),
                    ));
                }
                for (index, item) in items.iter().enumerate() {
                    if before[index] != after[index] {
                        let change = changes
                            .iter()
                            .rev()
                            .find(|c| {
                                before[index].get("name").and_then(Value::as_str) == Some(&c.name)
                            })
                            .expect("only changed entries differ");
                        edits.extend(self.edit_item(
                            item,
                            &before[index],
                            &after[index],
                            change,
                        )?);
                    }
                }
                if after.len() > before.len() {
                    let last = items.last().expect("a block list has entries");
                    let column = items
                        .iter()
                        .find_map(|i| match i.shape {
                            ItemShape::Block { column, .. } => Some(column),
                            _ => None,
                        })
                        .unwrap_or(last.dash + 2);
                    let at = self.lines[last.last].next;
                    let mut block = String::new();
                    if self.lines[last.last].next == self.lines[last.last].end {
                        block.push_str(eol);
                    }
                    for entry in &after[before.len()..] {
                        block.push_str(&new_entry(entry, last.dash, column, eol));
                    }
                    edits.push((at, at, block));
                }
            }
        }
        edits.sort_by_key(|(start, end, _)| (*start, *end));
        let mut out = String::with_capacity(self.text.len() + 128);
        let mut at = 0;
        for (start, end, replacement) in edits {
            out.push_str(&self.text[at..start]);
            out.push_str(&replacement);
            at = end;
        }
        out.push_str(&self.text[at..]);
        Ok(out)
    }

    /// How far block sequences under top-level keys are indented in this file (0 when
    /// none is, or when the file has none: Kustomize's own style).
    fn sequence_offset(&self, root: usize) -> usize {
        for index in 0..self.lines.len().saturating_sub(1) {
            if self.is_filler(index) || self.indent(index) != root {
                continue;
            }
            let Some(next) = (index + 1..self.lines.len()).find(|&i| !self.is_filler(i)) else {
                break;
            };
            if is_dash(self.line(next).trim_start()) && self.indent(next) >= root {
                return self.indent(next) - root;
            }
        }
        0
    }

    /// The edits that turn `item` (reading `before`) into `after`.
    fn edit_item(
        &self,
        item: &Item,
        before: &Value,
        after: &Value,
        change: &ImageEntryChange,
    ) -> Result<Vec<(usize, usize, String)>> {
        let eol = self.eol;
        match &item.shape {
            ItemShape::Flow => {
                let line = self.lines[item.first];
                let text = self.line(item.first);
                let open = line.start + item.dash + text[item.dash..].find('{').expect("flow");
                let (span, _) = split_value(&self.text[open..line.end]);
                Ok(vec![(open + span.0, open + span.1, flow_entry(after))])
            }
            ItemShape::Other => Err(self.refuse(
                item.first,
                "this `images` entry is not a plain mapping plumb can edit; write it as `- name: …` with one field per line",
            )),
            ItemShape::Block { column, keys } => {
                let mut edits = Vec::new();
                let found: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
                let Value::Object(parsed) = before else {
                    return Err(self.refuse(item.first, "this `images` entry is not a mapping"));
                };
                if found.len() != parsed.len() || parsed.keys().any(|k| !found.contains(&k.as_str())) {
                    return Err(self.refuse(
                        item.first,
                        "this `images` entry has fields plumb cannot find line by line; write one `field: value` per line",
                    ));
                }
                let mut inserts: Vec<(usize, String)> = Vec::new();
                for (key, field) in change.fields() {
                    let existing = keys.iter().find(|k| k.key == key);
                    match (field, existing) {
                        (FieldChange::Keep, _) | (FieldChange::Remove, None) => {}
                        (FieldChange::Set(value), Some(line)) => {
                            if line.last != line.line || line.style == Style::Other {
                                return Err(self.refuse(
                                    line.line,
                                    &format!("`{key}` is written in a form plumb does not edit (multi-line, anchor, alias or tag); write it as `{key}: value`"),
                                ));
                            }
                            if before.get(key).and_then(Value::as_str) != Some(value.as_str()) {
                                edits.push((line.value.0, line.value.1, scalar(value, line.style)));
                            }
                        }
                        (FieldChange::Set(value), None) => {
                            let wanted = rank(key);
                            let anchor = keys
                                .iter()
                                .filter(|k| rank(&k.key) < wanted)
                                .max_by_key(|k| k.last)
                                .or_else(|| keys.iter().max_by_key(|k| k.last))
                                .map(|k| k.last)
                                .unwrap_or(item.first);
                            let text = format!(
                                "{}{key}: {}{eol}",
                                " ".repeat(*column),
                                scalar(value, Style::Plain)
                            );
                            inserts.push((anchor, text));
                        }
                        (FieldChange::Remove, Some(line)) => {
                            if line.line == item.first {
                                return Ok(vec![self.regenerate(item, after)]);
                            }
                            let start = self.lines[line.line].start;
                            let end = self.lines[line.last].next;
                            edits.push((start, end, String::new()));
                        }
                    }
                }
                // Several keys inserted after one line go in Kustomize's order.
                inserts.sort_by_key(|(anchor, _)| *anchor);
                for (anchor, text) in inserts {
                    let line = self.lines[anchor];
                    let prefix = if line.next == line.end { eol } else { "" };
                    edits.push((line.next, line.next, format!("{prefix}{text}")));
                }
                merge_inserts(&mut edits);
                Ok(edits)
            }
        }
    }

    /// Rewrites a whole block entry (when its first line's key must go).
    fn regenerate(&self, item: &Item, after: &Value) -> (usize, usize, String) {
        let column = match item.shape {
            ItemShape::Block { column, .. } => column,
            _ => item.dash + 2,
        };
        let start = self.lines[item.first].start;
        let end = self.lines[item.last].next;
        let mut text = new_entry(after, item.dash, column, self.eol);
        if end == self.lines[item.last].end {
            // The entry ended the file without a line ending; keep it that way.
            text.truncate(text.len() - self.eol.len());
        }
        (start, end, text)
    }
}
