//! Which style go-yaml v2 gives a string (plain, single- or double-quoted, literal) before
//! libyaml's analysis (`plumb_manifest::go_yaml::ScalarAnalysis`) narrows it — the part of
//! `toYaml` that decides how a scalar is written, apart from the emitter that writes it.

use plumb_manifest::go_yaml::{is_base60_float, resolves_as_string};

/// How a scalar is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// go-yaml v2's choice for a string: literal when it has a newline, plain when YAML 1.1
/// would read it back as the same string, double-quoted otherwise. v2 also resolves `<<`
/// as the merge key and so quotes it (Kustomize's printer does not: see plumb-kustomize).
pub(super) fn string_style(s: &str) -> Style {
    if s.contains('\n') {
        return Style::Literal;
    }
    if resolves_as_string(s) && !is_base60_float(s) && s != "<<" {
        Style::Plain
    } else {
        Style::Double
    }
}
