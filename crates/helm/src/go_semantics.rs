//! Go `text/template` semantics with Sprig and Helm's functions, each case as Go 1.26 and
//! helm v4.3.2 print it.

use std::rc::Rc;

use crate::template::{Namespace, parse};
use crate::value::Value;

fn run(text: &str, data: serde_json::Value) -> Result<String, String> {
    // As `render` does: a thread with a stack for the deepest nesting allowed.
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(crate::render::STACK_BYTES)
        .spawn(move || run_here(&text, data))
        .expect("a thread")
        .join()
        .expect("no panic")
}

fn run_here(text: &str, data: serde_json::Value) -> Result<String, String> {
    let funcs = Rc::new(crate::funcs::table());
    let trees = parse("t", text, &|f| funcs.contains_key(f)).map_err(|e| e.to_string())?;
    let mut ns = Namespace::new(trees, funcs, 1 << 20);
    ns.execute("t", Value::from_json(&crate::value::as_go_json(data)), 0)
        .map_err(|e| e.to_string())
}

fn ok(text: &str, data: serde_json::Value) -> String {
    run(text, data).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn actions_print_as_go_prints() {
    let data = serde_json::json!({"n": 1000000, "f": 1.5, "s": "x", "m": {"b": 1, "a": [1, "y"]}, "nil": null});
    assert_eq!(
        ok("{{ .n }} {{ 1000000 }} {{ .f }} {{ .s }}", data.clone()),
        "1e+06 1000000 1.5 x"
    );
    assert_eq!(ok("{{ .m }}", data.clone()), "map[a:[1 y] b:1]");
    assert_eq!(
        ok("{{ .missing }}|{{ .nil }}", data.clone()),
        "<no value>|<no value>"
    );
    assert_eq!(ok("{{ print .missing }}", data), "<nil>");
}

#[test]
fn trim_markers_and_comments() {
    assert_eq!(ok("a  {{- 1 -}}  b", serde_json::json!({})), "a1b");
    assert_eq!(ok("a {{/* c */}} b", serde_json::json!({})), "a  b");
    assert_eq!(ok("a\n{{- /* c */ -}}\nb", serde_json::json!({})), "ab");
    assert_eq!(ok("{{ -1 }} {{ 3 }}", serde_json::json!({})), "-1 3");
}

#[test]
fn control_structures() {
    let data =
        serde_json::json!({"list": ["a", "b"], "map": {"y": 2, "x": 1}, "on": true, "empty": []});
    assert_eq!(
        ok(
            "{{ range $i, $v := .list }}{{ $i }}={{ $v }};{{ end }}",
            data.clone()
        ),
        "0=a;1=b;"
    );
    assert_eq!(
        ok(
            "{{ range $k, $v := .map }}{{ $k }}={{ $v }};{{ end }}",
            data.clone()
        ),
        "x=1;y=2;"
    );
    assert_eq!(
        ok("{{ range .empty }}x{{ else }}none{{ end }}", data.clone()),
        "none"
    );
    assert_eq!(
        ok(
            "{{ if .off }}a{{ else if .on }}b{{ else }}c{{ end }}",
            data.clone()
        ),
        "b"
    );
    assert_eq!(
        ok(
            "{{ with .map }}{{ .x }}{{ end }}{{ with .nope }}no{{ else }}else{{ end }}",
            data.clone()
        ),
        "1else"
    );
    assert_eq!(
        ok(
            "{{ range .list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
            data.clone()
        ),
        "a"
    );
    assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", data.clone()), "012");
    assert_eq!(
        ok(
            r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .on }}"#,
            data.clone()
        ),
        "[true]"
    );
    assert_eq!(
        ok(
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
            data
        ),
        "2"
    );
}

#[test]
fn go_types_decide_comparisons() {
    let data = serde_json::json!({"one": 1, "s": "a"});
    assert_eq!(
        ok(
            "{{ eq .s \"a\" }} {{ eq .missing \"a\" }} {{ ne 1 2 }}",
            data.clone()
        ),
        "true false true"
    );
    let err = run("{{ eq .one 1 }}", data.clone()).unwrap_err();
    assert!(err.contains("incompatible types for comparison"), "{err}");
    assert_eq!(
        ok(
            "{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ not .s }}",
            data.clone()
        ),
        "0 x false"
    );
    let err = run("{{ .missing.field }}", data.clone()).unwrap_err();
    assert!(
        err.contains("nil pointer evaluating interface {}.field"),
        "{err}"
    );
    assert_eq!(ok("{{ $m := .missing }}{{ $m.field }}", data), "<no value>");
}

#[test]
fn arguments_are_converted_by_parameter_type() {
    let data = serde_json::json!({"n": 5, "s": "hello"});
    assert_eq!(
        ok("{{ trunc 3 .s }} {{ .s | trunc 2 }}", data.clone()),
        "hel he"
    );
    let err = run("{{ trunc .n .s }}", data.clone()).unwrap_err();
    assert!(
        err.contains("wrong type for value; expected int; got float64"),
        "{err}"
    );
    let err = run("{{ upper 3 }}", data.clone()).unwrap_err();
    assert!(err.contains("expected string; found 3"), "{err}");
    let err = run("{{ nosuch 1 }}", data).unwrap_err();
    assert!(err.contains("function \"nosuch\" not defined"), "{err}");
}

#[test]
fn maps_are_references() {
    let out = ok(
        r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}"#,
        serde_json::json!({}),
    );
    assert_eq!(out, "map[a:1 b:2]");
    let out = ok(
        r#"{{ $_ := set .v "k" "changed" }}{{ .v.k }}"#,
        serde_json::json!({"v": {"k": "orig"}}),
    );
    assert_eq!(out, "changed");
}

#[test]
fn sprig_and_helm_functions() {
    let data = serde_json::json!({"list": [3, 1, 2], "m": {"a": {"b": "deep"}}, "t": "  pad  "});
    assert_eq!(
        ok(
            r#"{{ default "d" .missing }} {{ default "d" "" }} {{ default "d" "x" }}"#,
            data.clone()
        ),
        "d d x"
    );
    assert_eq!(
        ok(r#"{{ "a\nb" | nindent 2 }}"#, data.clone()),
        "\n  a\n  b"
    );
    assert_eq!(
        ok(
            r#"{{ dig "a" "b" "none" .m }} {{ dig "a" "c" "none" .m }}"#,
            data.clone()
        ),
        "deep none"
    );
    assert_eq!(ok(r#"{{ .m | toYaml }}"#, data.clone()), "a:\n  b: deep");
    assert_eq!(
        ok(
            r#"{{ .list | toJson }} {{ quote .t }} {{ trim .t }}"#,
            data.clone()
        ),
        r#"[3,1,2] "  pad  " pad"#
    );
    assert_eq!(
        ok(
            r#"{{ include "x" 1 }}{{ define "x" }}<{{ . }}>{{ end }}"#,
            data.clone()
        ),
        "<1>"
    );
    assert_eq!(
        ok(r#"{{ tpl "{{ .a }}" (dict "a" "tpl!") }}"#, data.clone()),
        "tpl!"
    );
    assert_eq!(
        ok(
            r#"{{ semverCompare ">=1.19-0" "v1.29.1" }} {{ add 1 .list }}"#,
            serde_json::json!({"list": 2})
        ),
        "true 3"
    );
    let err = run(r#"{{ required "need .x" .x }}"#, data).unwrap_err();
    assert!(err.contains("need .x"), "{err}");
}

#[test]
fn hostile_templates_end_with_an_error_not_a_crash() {
    let cases = [
        (
            r#"{{ define "x" }}{{ template "x" . }}{{ end }}{{ template "x" . }}"#,
            "nest deeper",
        ),
        (
            r#"{{ define "y" }}{{ include "y" . }}{{ end }}{{ include "y" . }}"#,
            "nest deeper",
        ),
        ("{{ range 1000000000000 }}{{ end }}", "steps"),
        (r#"{{ repeat 1000000000000 "x" }}"#, "bytes"),
        (r#"{{ until 1000000000000 | len }}"#, "elements"),
        (r#"{{ indent 1000000000000 "x" }}"#, "bytes"),
        (r#"{{ randAlphaNum 1000000000000 }}"#, "bytes"),
        (
            r#"{{ $s := "xxxxxxxxxxxxxxxx" }}{{ range 64 }}{{ $s = print $s $s }}{{ end }}"#,
            "bytes",
        ),
        (
            r#"{{ $l := list 1 }}{{ range 64 }}{{ $l = concat $l $l }}{{ end }}"#,
            "elements",
        ),
    ];
    for (text, what) in cases {
        let err = run(text, serde_json::json!({})).expect_err(text);
        assert!(err.contains(what), "{text}: {err}");
    }
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(100_000), ")".repeat(100_000));
    let err = run(&deep, serde_json::json!({})).unwrap_err();
    assert!(err.contains("nest deeper"), "{err}");
    let deep = format!(
        "{}{}",
        "{{ if true }}".repeat(100_000),
        "{{ end }}".repeat(100_000)
    );
    let err = run(&deep, serde_json::json!({})).unwrap_err();
    assert!(err.contains("nest deeper"), "{err}");
    // A map that contains itself: encoded as Go's failing encoder leaves it (""), printed
    // and copied to a bounded depth, never followed forever.
    let out = run(
        r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "self" $d }}[{{ toYaml $d }}][{{ toJson $d }}]{{ $c := deepCopy $d }}{{ len (print $d) | lt 0 }}{{ $_ := merge $c $d }}"#,
        serde_json::json!({}),
    )
    .unwrap();
    assert_eq!(out, "[][]true");
}
