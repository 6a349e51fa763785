//! How plumb asks the YAML parser to read: without keeping comments.
//!
//! kube-client turns on serde-saphyr's `comments` feature, and with it the parser keeps
//! every comment as an event — and refuses a file once it has buffered 96 of them while
//! looking ahead to decide what a key holds. A key followed by a long commented-out block
//! is exactly what scaffolds write (kubebuilder's `config/default/kustomization.yaml`
//! comments out over a hundred lines of `replacements` under a key), and go-yaml reads it.
//! Nothing in plumb reads a comment, so none is kept and the limit never applies.

/// serde-saphyr's options as plumb reads any YAML: its defaults, comments not kept.
pub fn yaml_reading_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.emit_comments = false;
    options
}

/// The parser's own options, for code that reads its events directly.
pub fn yaml_parser_options() -> serde_saphyr::granit_parser::Options {
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.set_emit_comments(false);
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key, then more commented lines than the parser buffers, then what the key holds.
    fn commented_block(lines: usize) -> String {
        let comments: String = (0..lines).map(|i| format!("# - line {i}\n")).collect();
        format!("first: 1\npatches:\n{comments}last:\n{comments}  nested: true\n")
    }

    #[test]
    fn a_long_commented_block_under_a_key_reads_as_go_yaml_reads_it() {
        let text = commented_block(300);
        let value: serde_json::Value =
            serde_saphyr::from_str_with_options(&text, yaml_reading_options()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"first": 1, "patches": null, "last": {"nested": true}})
        );
    }

    #[test]
    fn the_event_parser_reads_it_too() {
        let text = commented_block(300);
        let parser = serde_saphyr::granit_parser::Parser::new_from_str_with_options(
            &text,
            yaml_parser_options(),
        );
        assert!(parser.into_iter().all(|event| event.is_ok()));
    }
}
