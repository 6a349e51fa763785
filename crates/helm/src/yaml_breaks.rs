//! YAML text with go-yaml v2's line breaks, before a YAML 1.2 reader sees it.
//!
//! Helm reads every YAML it meets (values files, `Chart.yaml`, `Chart.lock`, `fromYaml`, the
//! head of each rendered document) with go-yaml v2, a YAML 1.1 reader, for which NEL
//! (U+0085) is a line break like `\n`: it ends a comment or a plain scalar, folds to a
//! space in a quoted scalar, and is read as `\n` inside a block scalar. saphyr follows YAML
//! 1.2, where NEL is an ordinary character, so `# note<NEL>key: 1` was a comment to plumb
//! and a key to helm. Writing NEL as `\n` gives saphyr the same lines go-yaml sees; go-yaml
//! turns a NEL into `\n` wherever it keeps the break, so values read the same too.
//!
//! Not covered: go-yaml also breaks lines at U+2028 and U+2029 but keeps those characters in
//! block and quoted scalars, which no rewrite to `\n` reproduces.
//!
//! One more difference lies at the end of the text: when a block scalar's last line ends the
//! text with no line break (`k: |\n  a`), go-yaml's `Unmarshal` gives it no final newline
//! (`"a"`, whatever its chomping), where saphyr gives `"a\n"`. [`as_go_yaml_unmarshals`]
//! writes such a scalar's chomping as `-` (strip), which gives go-yaml's value. Values files
//! are not read that way: Helm splits them into documents line by line, each line given its
//! newline, so there the last line has its break.

use std::borrow::Cow;

const NEL: char = '\u{85}';

/// `text` with each NEL written as `\n` (borrowed when it has none). After `\r` a NEL is a
/// line break of its own in go-yaml (only `\r\n` pairs up), so it becomes `\n\n` there:
/// `\r\n` and `\n`, two breaks as well.
pub(crate) fn as_go_yaml_reads(text: &str) -> Cow<'_, str> {
    if !text.contains(NEL) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut after_cr = false;
    for c in text.chars() {
        match c {
            NEL if after_cr => out.push_str("\n\n"),
            NEL => out.push('\n'),
            c => out.push(c),
        }
        after_cr = c == '\r';
    }
    Cow::Owned(out)
}

/// `text` as go-yaml's `Unmarshal` reads it: [`as_go_yaml_reads`], and a block scalar that
/// ends the text without a line break gets no final newline (see the module's doc).
pub(crate) fn as_go_yaml_unmarshals(text: &str) -> Cow<'_, str> {
    match as_go_yaml_reads(text) {
        Cow::Borrowed(text) => plumb_manifest::go_yaml_end::as_go_yaml_ends(text),
        Cow::Owned(text) => {
            Cow::Owned(plumb_manifest::go_yaml_end::as_go_yaml_ends(&text).into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{as_go_yaml_reads, as_go_yaml_unmarshals};

    #[test]
    fn a_block_scalar_ending_the_text_has_no_final_newline() {
        assert_eq!(
            as_go_yaml_unmarshals("# c\u{85}k: |\n  a"),
            "# c\nk: |-\n  a"
        );
        assert_eq!(as_go_yaml_unmarshals("k: |\n  a\n"), "k: |\n  a\n");
    }

    #[test]
    fn nel_is_a_line_break() {
        assert!(matches!(
            as_go_yaml_reads("a: 1\n"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(as_go_yaml_reads("# c\u{85}a: 1"), "# c\na: 1");
        assert_eq!(as_go_yaml_reads("a\r\u{85}b"), "a\r\n\nb");
        assert_eq!(as_go_yaml_reads("a\u{2028}b"), "a\u{2028}b");
    }
}
