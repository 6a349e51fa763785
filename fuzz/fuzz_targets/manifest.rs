#![no_main]
//! plumb-manifest's reader of repository files: the bytes of one file, read as multi-document
//! YAML and as JSON, into Kubernetes objects with their origin.
//!
//! Checks: never a panic, a hang or unbounded memory (the parse is Ok or a typed error);
//! every object has the identity it claims, a line inside the file, and nesting within
//! `max_depth`; and the objects written out as JSON and read again are the same objects.

mod common;

use libfuzzer_sys::fuzz_target;
use plumb_manifest::{FileContents, Limits, Syntax, parse};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for (path, syntax) in [("m.yaml", Syntax::Yaml), ("m.json", Syntax::Json)] {
        if let Ok(contents) = parse(path, syntax, data, false, &limits) {
            check(data, &contents, &limits);
        }
    }
});

fn check(data: &[u8], contents: &FileContents, limits: &Limits) {
    let lines = data.split(|b| *b == b'\n').count() as u64;
    for object in &contents.objects {
        let manifest = object.manifest();
        let id = object.id();
        assert!(!id.kind.is_empty() && !id.name.is_empty(), "{id:?}");
        assert_eq!(manifest["apiVersion"], object.api_version());
        assert_eq!(manifest["kind"], id.kind.as_str());
        let line = object.origin().line;
        assert!((1..=lines).contains(&line), "line {line} of {lines}");
        let depth = common::depth(&Value::Object(manifest.clone()));
        assert!(
            depth <= limits.max_depth,
            "nesting {depth} passed max_depth {}",
            limits.max_depth
        );
    }
    // Written out as JSON (what plumb sends the API server) and read again: the same objects.
    for object in &contents.objects {
        let text = serde_json::to_vec(object.manifest()).expect("objects serialize");
        let again = parse("again.json", Syntax::Json, &text, false, limits)
            .unwrap_or_else(|e| panic!("an object written as JSON does not read back: {e}"));
        let [read] = again.objects.as_slice() else {
            panic!(
                "one object written as JSON reads back as {}",
                again.objects.len()
            );
        };
        assert_eq!(object.id(), read.id());
        let a = Value::Object(object.manifest().clone());
        let b = Value::Object(read.manifest().clone());
        assert!(common::same(&a, &b), "{a}\n!=\n{b}");
    }
}
