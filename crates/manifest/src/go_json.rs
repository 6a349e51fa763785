//! Go's `encoding/json` string escaping, which Helm's `toJson` and Kustomize's name-suffix
//! hash both go through: written once, so the two agree with Go and with each other.

/// Appends `s` as `json.Marshal` writes a string: `\b`, `\f`, `\n`, `\r`, `\t` and
/// `\u00XX` for other control characters, U+2028 and U+2029 escaped, and — unless
/// `escape_html` is off (`SetEscapeHTML(false)`) — `<`, `>` and `&` as `\u003c` and so on.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(s: &str, escape_html: bool) -> String {
        let mut out = String::new();
        write_string(&mut out, s, escape_html);
        out
    }

    #[test]
    fn escapes_as_go_does() {
        assert_eq!(written("<a&b>", true), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(written("<a&b>", false), r#""<a&b>""#);
        assert_eq!(
            written("q\"\\\n\u{8}\u{c}\u{1}", true),
            r#""q\"\\\n\b\f\u0001""#
        );
        assert_eq!(written("\u{2028}é", false), r#""\u2028é""#);
    }
}
