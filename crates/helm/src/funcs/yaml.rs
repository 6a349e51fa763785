//! YAML and JSON as Helm writes and reads them.
//!
//! `toYaml` is sigs.k8s.io/yaml's `Marshal`: Go's `encoding/json` first, then go-yaml v2's
//! emitter — so whole floats print as integers, map keys are in go-yaml's "natural" order
//! (`a9` before `a10`, punctuation before letters), strings YAML 1.1 would read as something
//! else (`yes`, `1e3`, `2024-01-01`, ``) are double-quoted, and long plain strings fold
//! past column 80. This module reproduces that emitter for the values templates handle:
//! block mappings and sequences, empty ones in flow style, and the four scalar styles.

use plumb_manifest::go_yaml::{ScalarAnalysis, is_break, is_printable, natural_order};

use super::yaml_json_strings;
use super::yaml_scalar::{Style, string_style};

use crate::gofmt;
use crate::value::Value;

/// A node after the JSON round trip: what go-yaml v2 sees.
enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// `json` when the value goes through encoding/json first (`toYaml`): whole floats become
/// ints and strings are what go-yaml reads back from the JSON ([`yaml_json_strings`]).
fn to_node(v: &Value, json: bool) -> Result<Node, String> {
    Ok(match v {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Node::Int(i128::from(*i)),
        Value::Float(f) => {
            // encoding/json writes a whole float below 1e21 without a fraction, which
            // go-yaml then reads back as an integer.
            if json && f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 && f.abs() < 1.8e19 {
                Node::Int(*f as i128)
            } else {
                Node::Float(*f)
            }
        }
        Value::String(s) if json => Node::Str(yaml_json_strings::value(s)?.into_owned()),
        Value::String(s) => Node::Str(s.to_string()),
        Value::List(items) => Node::Seq(
            items
                .borrow()
                .iter()
                .map(|v| to_node(v, json))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut pairs = Vec::with_capacity(entries.borrow().len());
            for (k, v) in entries.borrow().iter() {
                if json {
                    yaml_json_strings::key(k)?;
                }
                pairs.push((k.clone(), to_node(v, json)?));
            }
            pairs.sort_by(|a, b| natural_order(&a.0, &b.0));
            Node::Map(pairs)
        }
        Value::Object(o) => match (o.int(), v.struct_as_map()) {
            (Some(i), _) => Node::Int(i.into()),
            // go-yaml v3 names a struct's fields in lower case; JSON keeps Go's names.
            (None, Some(fields)) if json => to_node(&fields, json)?,
            (None, Some(fields)) => match to_node(&fields, json)? {
                Node::Map(pairs) => Node::Map(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_lowercase(), v))
                        .collect(),
                ),
                other => other,
            },
            (None, None) if json => Node::Str(yaml_json_strings::value(&o.display())?.into_owned()),
            (None, None) => Node::Str(o.display()),
        },
    })
}

/// `toYaml`: the YAML go-yaml v2 writes, without its final newline; `Err` where
/// sigs.k8s.io/yaml fails (`toYaml` then prints nothing, `mustToYaml` fails).
pub(crate) fn to_yaml(v: &Value) -> Result<String, String> {
    emit(v, Emitter::default())
}

/// `toYamlPretty`: go-yaml v3's encoder with indent 2 on the value itself (no JSON first, so
/// floats stay floats): sequences indented under their key, long lines never folded.
pub(crate) fn to_yaml_pretty(v: &Value) -> Result<String, String> {
    emit(
        v,
        Emitter {
            v3: true,
            width: i64::MAX,
            ..Emitter::default()
        },
    )
}

fn emit(v: &Value, mut e: Emitter) -> Result<String, String> {
    // Go's encoder fails on a value that contains itself, and toYaml then gives "".
    if v.too_deep() {
        return Ok(String::new());
    }
    e.node(&to_node(v, !e.v3)?, Context::Root);
    let mut out = e.out;
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    MappingValue,
    SequenceItem,
    Key,
}

/// libyaml's emitter state, as far as block output needs it.
struct Emitter {
    out: String,
    indent: i64,
    indents: Vec<i64>,
    column: i64,
    whitespace: bool,
    indention: bool,
    /// go-yaml v3: a mapping's sequence is indented, not flush with its key.
    v3: bool,
    /// The column past which plain and quoted scalars fold.
    width: i64,
}

impl Default for Emitter {
    fn default() -> Emitter {
        Emitter {
            out: String::new(),
            indent: -1,
            indents: Vec::new(),
            column: 0,
            whitespace: true,
            indention: true,
            v3: false,
            width: BEST_WIDTH,
        }
    }
}

const BEST_WIDTH: i64 = 80;
const BEST_INDENT: i64 = 2;

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// libyaml's `write_break`: a line break in a scalar's text. `\n` is written as the
    /// emitter's break; any other (U+2028, U+2029) as itself, then a new line begins.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_str(text);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, node: &Node, context: Context) {
        match node {
            Node::Seq(items) if items.is_empty() => self.flow_empty("[", "]"),
            Node::Map(pairs) if pairs.is_empty() => self.flow_empty("{", "}"),
            Node::Seq(items) => {
                let indentless = !self.v3 && context == Context::MappingValue && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.indicator("-", true, false, true);
                    self.node(item, Context::SequenceItem);
                }
                self.pop_indent();
            }
            Node::Map(pairs) => {
                self.increase_indent(false, false);
                for (key, value) in pairs {
                    self.write_indent();
                    if key.chars().count() > 128 || key.contains(['\n', '\r']) {
                        // Not a simple key: `? key` then `: value`.
                        self.indicator("?", true, false, true);
                        self.scalar(key, string_style(key), Context::SequenceItem);
                        self.write_indent();
                        self.indicator(":", true, false, true);
                        self.node(value, Context::SequenceItem);
                        continue;
                    }
                    self.scalar(key, string_style(key), Context::Key);
                    self.indicator(":", false, false, false);
                    self.node(value, Context::MappingValue);
                }
                self.pop_indent();
            }
            Node::Null => self.scalar("null", Style::Plain, context),
            Node::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, context),
            Node::Int(i) => self.scalar(&i.to_string(), Style::Plain, context),
            Node::Float(f) => {
                let text = match gofmt::format_float(*f, 'g', None).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    other => other.to_string(),
                };
                self.scalar(&text, Style::Plain, context)
            }
            Node::Str(s) => self.scalar(s, string_style(s), context),
        }
    }

    fn flow_empty(&mut self, open: &str, close: &str) {
        self.indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.indicator(close, false, false, false);
    }

    fn scalar(&mut self, value: &str, requested: Style, context: Context) {
        let key = context == Context::Key;
        let analysis = ScalarAnalysis::of(value);
        let mut style = requested;
        if key && analysis.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!analysis.block_plain_allowed || (value.is_empty() && key)) {
            style = Style::Single;
        }
        if style == Style::Single && !analysis.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!analysis.block_allowed || key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !key;
        match style {
            Style::Plain => self.plain(value, allow_breaks),
            Style::Single => self.single(value, allow_breaks),
            Style::Double => self.double(value, allow_breaks),
            Style::Literal => self.literal(value),
        }
        self.pop_indent();
    }

    fn plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single(&mut self, value: &str, allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width
                    && i > 0
                    && i < chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double(&mut self, value: &str, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let v = c as u32;
                        let (prefix, width) = if v <= 0xff {
                            ('x', 2)
                        } else if v <= 0xffff {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(prefix);
                        self.write_str(&format!("{v:0width$X}"));
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.width
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let chomp = match chars.last() {
            None => Some("-"),
            Some(last) if !is_break(*last) => Some("-"),
            Some(_) if chars.len() == 1 => Some("+"),
            Some(_) if is_break(chars[chars.len() - 2]) => Some("+"),
            Some(_) => None,
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

// ---------------------------------------------------------------- reading

/// YAML read as Helm reads it (sigs.k8s.io/yaml: YAML 1.1 words, then JSON, so every number
/// is a float64).
pub(crate) fn from_yaml_str(text: &str) -> Result<Value, String> {
    from_yaml_json(text).map(|json| Value::from_json(&json))
}

/// YAML as sigs.k8s.io/yaml reads it, as JSON: YAML 1.1's `yes`/`on` are booleans and a
/// leading `0` is octal, as go-yaml v2 reads them. Only the first document counts, as in
/// go-yaml's `Unmarshal` (a template that renders several is read as its first).
pub(crate) fn from_yaml_json(text: &str) -> Result<serde_json::Value, String> {
    let text = crate::yaml_breaks::as_go_yaml_unmarshals(text);
    Ok(yaml_documents(&text)?
        .into_iter()
        .next()
        .unwrap_or(serde_json::Value::Null))
}

/// Every document of a YAML stream, as [`from_yaml_json`] reads each.
pub(crate) fn yaml_documents(text: &str) -> Result<Vec<serde_json::Value>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let text = crate::yaml_breaks::as_go_yaml_reads(text);
    let mut options = plumb_manifest::yaml_reading_options();
    options.legacy_octal_numbers = true;
    let documents: Vec<super::yaml_keys::GoJson> =
        serde_saphyr::from_str_multiple_with_options(&text, options).map_err(|e| e.to_string())?;
    Ok(documents.into_iter().map(|d| d.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(json: serde_json::Value) -> String {
        to_yaml(&Value::from_json(&crate::value::as_go_json(json))).unwrap()
    }

    #[test]
    fn to_yaml_writes_what_go_yaml_v2_writes() {
        assert_eq!(
            yaml(
                serde_json::json!({"b": [1, 2.5, "x"], "a": {"c": true, "d": null}, "e": [], "f": {}})
            ),
            "a:\n  c: true\n  d: null\nb:\n- 1\n- 2.5\n- x\ne: []\nf: {}"
        );
        assert_eq!(
            yaml(
                serde_json::json!({"k": ["yes", "1e3", "", "2024-01-01", "a: b", "- x", "#c", "ok"]})
            ),
            "k:\n- \"yes\"\n- \"1e3\"\n- \"\"\n- \"2024-01-01\"\n- 'a: b'\n- '- x'\n- '#c'\n- ok"
        );
        assert_eq!(
            yaml(serde_json::json!({"s": "line1\nline2\n"})),
            "s: |\n  line1\n  line2"
        );
        assert_eq!(yaml(serde_json::json!({"s": "a\nb"})), "s: |-\n  a\n  b");
        assert_eq!(
            yaml(serde_json::json!({"num": 1000000, "f": 1234567.5})),
            "f: 1.2345675e+06\nnum: 1000000"
        );
        // YAML 1.1 reads a bare `n` or `y` as a bool, so go-yaml v2 quotes them, keys too.
        assert_eq!(yaml(serde_json::json!({"n": "y"})), "\"n\": \"y\"");
        assert_eq!(
            yaml(serde_json::json!([{"a": 1, "b": [{"c": 2}]}])),
            "- a: 1\n  b:\n  - c: 2"
        );
        assert_eq!(yaml(serde_json::json!({"t": "a\tb"})), "t: \"a\\tb\"");
    }

    #[test]
    fn keys_sort_naturally() {
        let mut keys = vec!["a10", "a9", "aB", "a_x", "Z", "b"];
        keys.sort_by(|a, b| natural_order(a, b));
        assert_eq!(keys, ["Z", "a_x", "a9", "a10", "aB", "b"]);
    }

    #[test]
    fn long_plain_strings_fold_past_column_80() {
        let words = vec!["word"; 30].join(" ");
        let out = yaml(serde_json::json!({ "description": words }));
        let first = out.lines().next().unwrap();
        assert!(first.len() > 80 && first.len() < 90, "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("  word"), "{out}");
    }
}
