//! YAML text exactly as `kubectl kustomize` prints it.
//!
//! Kustomize turns each object into JSON and hands it to `sigs.k8s.io/yaml`, whose
//! emitter is a fork of go-yaml v2. Matching its bytes therefore means matching v2's
//! choices: block style everywhere, sequences not indented under their key, map keys in
//! v2's "natural" order (digit runs compare as numbers), integral floats printed as
//! integers, and a string quoted exactly when v2 would read it back as something else or
//! its characters forbid the plain style. Long plain and quoted strings are folded at
//! column 80 as v2 folds them. Each rule was checked against `kubectl kustomize`.

use plumb_manifest::go_yaml::{
    ScalarAnalysis, is_base60_float, is_break, is_printable, natural_order, resolves_as_string,
};
use serde_json::{Map, Value};

/// Where v2 folds long scalars.
const BEST_WIDTH: usize = 80;

/// One object as a YAML document (without the `---` separator).
pub(crate) fn document(object: &Map<String, Value>) -> String {
    let mut out = Emitter::default();
    if object.is_empty() {
        out.put("{}\n");
    } else {
        out.mapping(object, 0);
    }
    out.text
}

/// Objects as a stream, `---` between documents, as `kubectl kustomize` prints them.
pub fn stream<'a>(objects: impl IntoIterator<Item = &'a Map<String, Value>>) -> String {
    let mut text = String::new();
    for (index, object) in objects.into_iter().enumerate() {
        if index > 0 {
            text.push_str("---\n");
        }
        text.push_str(&document(object));
    }
    text
}

#[derive(Default)]
struct Emitter {
    text: String,
    column: usize,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        self.text.push_str(s);
        match s.rfind('\n') {
            Some(at) => self.column = s[at + 1..].chars().count(),
            None => self.column += s.chars().count(),
        }
    }

    fn put_char(&mut self, c: char) {
        self.text.push(c);
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
    }

    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.text.push(' ');
        }
        self.column += n;
    }

    /// A newline, then `indent` spaces.
    fn indent(&mut self, indent: usize) {
        self.put_char('\n');
        self.spaces(indent);
    }

    /// A block mapping whose first key starts at the current position, and whose other
    /// keys start at `indent`.
    fn mapping(&mut self, map: &Map<String, Value>, indent: usize) {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| natural_order(a, b));
        for (index, key) in keys.into_iter().enumerate() {
            if index > 0 {
                self.spaces(indent);
            }
            self.scalar_string(key, indent, true);
            self.put_char(':');
            self.value(&map[key.as_str()], indent, true);
        }
    }

    /// A block sequence whose first item starts at the current position.
    fn sequence(&mut self, items: &[Value], indent: usize) {
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.spaces(indent);
            }
            self.put_char('-');
            match item {
                Value::Object(map) if !map.is_empty() => {
                    self.put_char(' ');
                    self.mapping(map, indent + 2);
                }
                Value::Array(inner) if !inner.is_empty() => {
                    self.put_char(' ');
                    self.sequence(inner, indent + 2);
                }
                other => self.value(other, indent, false),
            }
        }
    }

    /// The value after `key:` (`in_mapping`) or `-`; `indent` is the key's or dash's.
    fn value(&mut self, value: &Value, indent: usize, in_mapping: bool) {
        match value {
            Value::Object(map) if map.is_empty() => self.put(" {}\n"),
            Value::Array(items) if items.is_empty() => self.put(" []\n"),
            Value::Object(map) => {
                if in_mapping {
                    self.put_char('\n');
                    self.spaces(indent + 2);
                    self.mapping(map, indent + 2);
                } else {
                    self.put_char(' ');
                    self.mapping(map, indent + 2);
                }
            }
            Value::Array(items) => {
                if in_mapping {
                    // v2 does not indent a sequence under its key.
                    self.put_char('\n');
                    self.spaces(indent);
                    self.sequence(items, indent);
                } else {
                    self.put_char(' ');
                    self.sequence(items, indent + 2);
                }
            }
            Value::Null => self.put(" null\n"),
            Value::Bool(b) => self.put(if *b { " true\n" } else { " false\n" }),
            Value::Number(n) => {
                self.put_char(' ');
                self.put(&number(n));
                self.put_char('\n');
            }
            Value::String(s) => {
                self.put_char(' ');
                self.scalar_string(s, indent + 2, false);
                self.put_char('\n');
            }
        }
    }

    /// A string scalar in the style v2 picks; `indent` is where folded lines continue.
    fn scalar_string(&mut self, s: &str, indent: usize, simple_key: bool) {
        match style(s, simple_key) {
            Style::Plain => self.plain(s, indent, !simple_key),
            Style::Single => self.single_quoted(s, indent, !simple_key),
            Style::Double => self.double_quoted(s, indent, !simple_key),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.indent(indent);
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.put_char('\'');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.indent(indent);
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put_char('\'');
                }
                self.put_char(c);
                spaces = false;
            }
        }
        self.put_char('\'');
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.put_char('"');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put(&escape(c));
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put_char('\\');
                    }
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
        self.put_char('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.put_char('|');
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.put_char('2');
        }
        match chars.last() {
            Some(&last) if is_break(last) => {
                if chars.len() == 1 || chars.get(chars.len() - 2).is_some_and(|&c| is_break(c)) {
                    self.put_char('+');
                }
            }
            _ => self.put_char('-'),
        }
        self.put_char('\n');
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.put_char('\n');
                breaks = true;
            } else {
                if breaks {
                    self.spaces(indent);
                }
                self.put_char(c);
                breaks = false;
            }
        }
        // The caller writes the final newline; a value ending in a break already has it.
        if chars.last().is_some_and(|&c| is_break(c)) {
            self.text.pop();
            self.column = 0;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style v2 gives a string: what `stringv` asks for, corrected by what the
/// emitter's analysis of the characters allows.
fn style(s: &str, simple_key: bool) -> Style {
    let wanted = if s.contains('\n') {
        Style::Literal
    } else if resolves_as_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    let analysis = ScalarAnalysis::of(s);
    let mut chosen = wanted;
    if simple_key && analysis.multiline {
        return Style::Double;
    }
    if chosen == Style::Plain && (!analysis.block_plain_allowed || (s.is_empty() && simple_key)) {
        chosen = Style::Single;
    }
    if chosen == Style::Single && !analysis.single_quoted_allowed {
        chosen = Style::Double;
    }
    if chosen == Style::Literal && (!analysis.block_allowed || simple_key) {
        chosen = Style::Double;
    }
    chosen
}

fn escape(c: char) -> String {
    match c {
        '\0' => "\\0".into(),
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\t' => "\\t".into(),
        '\n' => "\\n".into(),
        '\u{b}' => "\\v".into(),
        '\u{c}' => "\\f".into(),
        '\r' => "\\r".into(),
        '\u{1b}' => "\\e".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\u{85}' => "\\N".into(),
        '\u{a0}' => "\\_".into(),
        '\u{2028}' => "\\L".into(),
        '\u{2029}' => "\\P".into(),
        c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
        c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
        c => format!("\\U{:08X}", c as u32),
    }
}

/// A JSON number as v2 prints it after a round trip through Go's JSON: integral values
/// as integers, others in Go's shortest `%g` form (`1.2345675e+06`, `1e-05`).
fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        return "0".into();
    }
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return format!("{}", f as i64);
    }
    go_shortest_g(f)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
fn go_shortest_g(f: f64) -> String {
    let sci = format!("{f:e}"); // shortest digits: "1.2345675e6", "-1e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn yaml(value: Value) -> String {
        document(value.as_object().unwrap())
    }

    #[test]
    fn strings_that_would_read_back_as_other_types_are_double_quoted() {
        let out = yaml(
            json!({"a": "yes", "b": "1.5", "c": "", "d": "0x1F", "e": "1:20",
                              "f": "2001-01-01", "g": "null", "h": "plain", "i": "1_000"}),
        );
        assert_eq!(
            out,
            "a: \"yes\"\nb: \"1.5\"\nc: \"\"\nd: \"0x1F\"\ne: \"1:20\"\nf: \"2001-01-01\"\n\
             g: \"null\"\nh: plain\ni: \"1_000\"\n"
        );
    }

    #[test]
    fn indicators_and_spaces_force_single_quotes() {
        let out =
            yaml(json!({"a": "-", "b": " lead", "c": "a: b", "d": "*x", "e": "a'b", "f": "'q'"}));
        assert_eq!(
            out,
            "a: '-'\nb: ' lead'\nc: 'a: b'\nd: '*x'\ne: a'b\nf: '''q'''\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_chomping() {
        let out = yaml(json!({"a": "x\ny", "b": "x\n", "c": "x\n\n", "d": "  x\ny"}));
        assert_eq!(
            out,
            "a: |-\n  x\n  y\nb: |\n  x\nc: |+\n  x\n\nd: |2-\n    x\n  y\n"
        );
    }

    #[test]
    fn sequences_sit_under_their_key_and_maps_in_sequences_inline() {
        let out = yaml(json!({"s": [{"b": 1, "a": [1, 2]}, "x", [], {}]}));
        assert_eq!(out, "s:\n- a:\n  - 1\n  - 2\n  b: 1\n- x\n- []\n- {}\n");
    }

    #[test]
    fn keys_sort_naturally() {
        let mut keys = vec!["a10", "a2", "a_b", "aB", "ab", "A", "_", "n"];
        keys.sort_by(|a, b| natural_order(a, b));
        // As `kubectl kustomize` orders them (see the yaml-formatting fixture).
        assert_eq!(keys, ["_", "A", "a_b", "a2", "a10", "aB", "ab", "n"]);
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        let out = yaml(json!({"a": 1.0, "b": 1000.0, "c": 0.5, "d": 1234567.5, "e": 0.00001}));
        assert_eq!(out, "a: 1\nb: 1000\nc: 0.5\nd: 1.2345675e+06\ne: 1e-05\n");
    }

    #[test]
    fn long_plain_strings_fold_at_column_80() {
        let long = "long ".repeat(25);
        let out = yaml(json!({"k": long.trim_end()}));
        let first = out.lines().next().unwrap();
        assert!(first.len() > 80 && first.len() < 90, "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("  long"), "{out}");
    }
}
