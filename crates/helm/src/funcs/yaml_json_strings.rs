//! Strings as `toYaml` gets them back from its JSON round trip.
//!
//! sigs.k8s.io/yaml's `Marshal` writes the value with `encoding/json`, then reads that text
//! with go-yaml v2 before emitting it. encoding/json escapes every control character, but
//! leaves NEL (U+0085) raw, and go-yaml v2 reads a raw NEL as a line break: inside the
//! double-quoted string it folds like any break in a quoted scalar. So `x<NEL>y` comes back
//! `x y`, two NELs in a row come back as one `\n`, a map key with a NEL is a key spanning
//! lines (an error), and `---` or `...` starting the line after a NEL is a document marker
//! (an error). Errors make `toYaml` print nothing and `mustToYaml` fail.

use std::borrow::Cow;

const NEL: char = '\u{85}';

/// What go-yaml v2 reads back for the JSON string `s` (a value), or what it fails with.
pub(super) fn value(s: &str) -> Result<Cow<'_, str>, String> {
    if !s.contains(NEL) {
        return Ok(Cow::Borrowed(s));
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_raw_blank(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Spaces and NELs are the only blanks encoding/json leaves raw: the run folds as
        // go-yaml folds the whitespace of a quoted scalar.
        let start = i;
        while i < chars.len() && is_raw_blank(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        match run.iter().filter(|&&c| c == NEL).count() {
            0 => out.extend(run),
            1 => out.push(' '),
            breaks => out.extend(std::iter::repeat_n('\n', breaks - 1)),
        }
        if run.last() == Some(&NEL) && starts_document_marker(&chars[i..]) {
            return Err("yaml: found unexpected document indicator".into());
        }
    }
    Ok(Cow::Owned(out))
}

/// Whether go-yaml v2 reads back the JSON map key `key`: not when it spans lines.
pub(super) fn key(key: &str) -> Result<(), String> {
    if key.contains(NEL) {
        return Err(format!(
            "yaml: the map key {key:?} has a NEL (U+0085), a line break to go-yaml"
        ));
    }
    Ok(())
}

fn is_raw_blank(c: char) -> bool {
    c == ' ' || c == NEL
}

/// `---` or `...` then a blank or a break, at the start of a line.
fn starts_document_marker(rest: &[char]) -> bool {
    rest.len() >= 4 && (rest[..3] == ['-'; 3] || rest[..3] == ['.'; 3]) && is_raw_blank(rest[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nel_folds_as_in_a_quoted_scalar() {
        assert_eq!(value("plain").unwrap(), "plain");
        assert_eq!(value("\u{85}").unwrap(), " ");
        assert_eq!(value("x \u{85} y").unwrap(), "x y");
        assert_eq!(value("x  \u{85}  \u{85} y").unwrap(), "x\ny");
        assert_eq!(value("x\u{85}---").unwrap(), "x ---");
        assert_eq!(value("x\u{85} --- y").unwrap(), "x --- y");
        assert!(value("x\u{85}--- y").is_err());
        assert!(value("x\u{85}...\u{85}y").is_err());
        assert!(key("k\u{85}").is_err());
    }
}
