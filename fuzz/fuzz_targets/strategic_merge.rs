#![no_main]
//! plumb-kustomize's strategic merge patch, as a `patches` entry applies it: the input is
//! YAML documents, an object (whose apiVersion and kind pick the merge keys) and then
//! patches applied in turn.
//!
//! Checks: never a panic, a hang or unbounded memory (Ok or a typed error); a merged object
//! is a map; every scalar a patch sets through maps is in the result, and every top-level
//! field a patch does not name is left as it was (unless a `$patch` directive is at play).

use libfuzzer_sys::fuzz_target;
use plumb_kustomize::fuzzing::strategic_merge;
use plumb_manifest::Limits;
use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";

fuzz_target!(|data: &[u8]| {
    let options = Limits::default().kustomize_yaml_options();
    let Ok(documents) = serde_saphyr::from_slice_multiple_with_options::<Value>(data, options)
    else {
        return;
    };
    let mut documents = documents.into_iter().filter(|d| !d.is_null());
    let Some(mut object @ Value::Object(_)) = documents.next() else {
        return;
    };
    for patch in documents {
        let Ok(merged) = strategic_merge(object.clone(), patch.clone()) else {
            return;
        };
        let Some(merged) = merged else {
            return;
        };
        let (Value::Object(before), Value::Object(after), Value::Object(patch)) =
            (&object, &merged, &patch)
        else {
            panic!("a merged object is not a map: {merged}");
        };
        if !patch.contains_key(DIRECTIVE) {
            for (key, value) in before {
                if !patch.contains_key(key) {
                    assert_eq!(
                        after.get(key),
                        Some(value),
                        "{key} was changed by a patch not naming it"
                    );
                }
            }
        }
        patch_wins(patch, after, "");
        object = merged;
    }
});

/// Every non-null scalar `patch` sets through maps is in `merged` at its place.
fn patch_wins(patch: &Map<String, Value>, merged: &Map<String, Value>, at: &str) {
    if patch.contains_key(DIRECTIVE) {
        return;
    }
    for (key, value) in patch {
        let here = format!("{at}/{key}");
        match value {
            Value::Null | Value::Array(_) => {}
            Value::Object(inner) => {
                if let Some(Value::Object(merged_inner)) = merged.get(key) {
                    patch_wins(inner, merged_inner, &here);
                } else if !inner.is_empty() && !inner.contains_key(DIRECTIVE) {
                    panic!("{here}: the patch's map is gone: {:?}", merged.get(key));
                }
            }
            scalar => assert_eq!(
                merged.get(key),
                Some(scalar),
                "{here}: the patch's value is not kept"
            ),
        }
    }
}
