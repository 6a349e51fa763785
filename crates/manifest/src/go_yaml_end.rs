//! The end of a YAML text as go-yaml reads it.
//!
//! When a block scalar's last line ends the text with no line break (`k: |\n  a`), go-yaml
//! (v2 in Helm and kubectl, v3 in Kustomize; both libyaml's scanner) gives it no final
//! newline — `"a"`, whatever its chomping — where saphyr gives `"a\n"`, as YAML 1.2's test
//! suite wants. Files written without a final newline are common (a ConfigMap holding a
//! config file, last in its file), and the value then differed from what kubectl applies.
//! [`as_go_yaml_ends`] writes such a scalar's chomping as `-` (strip), which gives go-yaml's
//! value, and leaves every other text as it is.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// `text` with a block scalar that ends it without a line break set to strip chomping.
pub fn as_go_yaml_ends(text: &str) -> Cow<'_, str> {
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    // Parsing again costs: only where a block scalar may end the text.
    if last_line.trim_matches([' ', '\t', '\r']).is_empty() || !text.contains(['|', '>']) {
        return Cow::Borrowed(text);
    }
    match header_of_last_block_scalar(text) {
        Some(at) => Cow::Owned(stripped_at(text, at)),
        None => Cow::Borrowed(text),
    }
}

/// Where the header (`|`, `>2+`…) of the text's last scalar starts, when that scalar is a
/// block scalar whose content runs to the end of the text.
fn header_of_last_block_scalar(text: &str) -> Option<usize> {
    let mut parser = Parser::new_from_str_with_options(text, crate::yaml_parser_options());
    let mut last = None;
    while let Some(event) = parser.next_event() {
        match event.ok()? {
            (Event::Scalar(_, style, _, _), span) => last = Some((style, span)),
            (Event::StreamEnd, _) => break,
            _ => {}
        }
    }
    let (style, span) = last?;
    if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
        || span.end.index() != text.chars().count()
    {
        return None;
    }
    // The content starts at `span.start` (a char index); the header ends the nearest line
    // before it that is not blank.
    let start = text.char_indices().nth(span.start.index())?.0;
    let mut end = text[..start].rfind('\n')?;
    let (line_start, line) = loop {
        let line_start = text[..end].rfind('\n').map_or(0, |n| n + 1);
        let line = &text[line_start..end];
        if !line.trim().is_empty() {
            break (line_start, line);
        }
        end = line_start.checked_sub(1)?;
    };
    // Without its comment, the header line ends in the indicator and its modifiers.
    let code = match line.find(" #") {
        Some(comment) => &line[..comment],
        None => line,
    }
    .trim_end();
    let modifiers = code.len()
        - code
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
            .len();
    let indicator = code.len() - modifiers - 1;
    matches!(code.as_bytes().get(indicator), Some(b'|' | b'>')).then_some(line_start + indicator)
}

/// `text` with the block scalar header at `at` set to strip chomping.
fn stripped_at(text: &str, at: usize) -> String {
    let rest = &text[at + 1..];
    let modifiers_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '+' || c == '-'))
        .unwrap_or(rest.len());
    let indent: String = rest[..modifiers_end]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{}{indent}-{}", &text[..=at], &rest[modifiers_end..])
}

#[cfg(test)]
mod tests {
    use super::as_go_yaml_ends;

    #[test]
    fn a_block_scalar_ending_the_text_has_no_final_newline() {
        for (text, want) in [
            ("k: |\n  a", "k: |-\n  a"),
            ("k: |+\n  a", "k: |-\n  a"),
            ("k: >2 # c|\n\n    a\n   b", "k: >2- # c|\n\n    a\n   b"),
            ("- |\n  a", "- |-\n  a"),
            ("k: |\n  a\n", "k: |\n  a\n"),
            ("k: |\n  a\n  ", "k: |\n  a\n  "),
            ("k: |\n  a\n# c", "k: |\n  a\n# c"),
            ("k: a", "k: a"),
        ] {
            assert_eq!(as_go_yaml_ends(text), want, "{text:?}");
        }
    }

    #[test]
    fn characters_beyond_ascii_are_counted_as_characters() {
        assert_eq!(as_go_yaml_ends("k: |\n  é"), "k: |-\n  é");
    }
}
