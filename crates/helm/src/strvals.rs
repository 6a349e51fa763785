//! `--set name=value`, as Helm's `strvals` reads it: a dotted path with `[n]` list indexes
//! (`\.` for a literal dot), and a value typed as `--set` types it — `true`/`false`/`null`,
//! integers (not starting with `0`) as `int64`, `{a,b}` as a list, anything else a string.

use serde_json::{Map, Value as Json};

/// Sets `name` to `value` in `values`, creating maps and lists along the path.
pub fn set_parameter(values: &mut Json, name: &str, value: &str) -> Result<(), String> {
    let path = parse_path(name)?;
    let typed = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
        Some(items) => Json::Array(items.split(',').map(typed_value).collect()),
        None => typed_value(value),
    };
    set(values, &path, typed);
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(name: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = name.chars().peekable();
    let flush = |key: &mut String, steps: &mut Vec<Step>| {
        if !key.is_empty() {
            steps.push(Step::Key(std::mem::take(key)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.extend(chars.next()),
            '.' => {
                if key.is_empty() && !matches!(steps.last(), Some(Step::Index(_))) {
                    return Err(format!("key {name:?} has an empty segment"));
                }
                flush(&mut key, &mut steps);
            }
            '[' => {
                flush(&mut key, &mut steps);
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| format!("key {name:?} has a bad list index [{digits}]"))?;
                if index > 65_536 {
                    return Err(format!("key {name:?}: index {index} is too large"));
                }
                steps.push(Step::Index(index));
            }
            c => key.push(c),
        }
    }
    flush(&mut key, &mut steps);
    if steps.is_empty() {
        return Err(format!("key {name:?} is empty"));
    }
    Ok(steps)
}

fn typed_value(value: &str) -> Json {
    if value.eq_ignore_ascii_case("true") {
        return Json::Bool(true);
    }
    if value.eq_ignore_ascii_case("false") {
        return Json::Bool(false);
    }
    if value.eq_ignore_ascii_case("null") {
        return Json::Null;
    }
    if value == "0" {
        return Json::from(0i64);
    }
    if !value.starts_with('0')
        && let Ok(i) = value.parse::<i64>()
    {
        return Json::from(i);
    }
    Json::String(value.to_string())
}

fn set(target: &mut Json, path: &[Step], value: Json) {
    let Some((step, rest)) = path.split_first() else {
        *target = value;
        return;
    };
    match step {
        Step::Key(key) => {
            if !target.is_object() {
                *target = Json::Object(Map::new());
            }
            let Json::Object(map) = target else {
                unreachable!("made an object above")
            };
            let slot = map.entry(key.clone()).or_insert(Json::Null);
            set(slot, rest, value)
        }
        Step::Index(index) => {
            if !target.is_array() {
                *target = Json::Array(Vec::new());
            }
            let Json::Array(items) = target else {
                unreachable!("made an array above")
            };
            while items.len() <= *index {
                items.push(Json::Null);
            }
            set(&mut items[*index], rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_types_as_helm_set() {
        let mut v = json!({"image": {"tag": "1"}});
        set_parameter(&mut v, "image.tag", "2.0").unwrap();
        set_parameter(&mut v, "replicas", "3").unwrap();
        set_parameter(&mut v, "zero", "0").unwrap();
        set_parameter(&mut v, "octal", "007").unwrap();
        set_parameter(&mut v, "on", "True").unwrap();
        set_parameter(&mut v, "hosts[1].name", "b").unwrap();
        set_parameter(&mut v, "annotations.a\\.b/c", "x").unwrap();
        set_parameter(&mut v, "list", "{a,1}").unwrap();
        assert_eq!(
            v,
            json!({
                "image": {"tag": "2.0"}, "replicas": 3, "zero": 0, "octal": "007", "on": true,
                "hosts": [null, {"name": "b"}], "annotations": {"a.b/c": "x"}, "list": ["a", 1]
            })
        );
        assert!(set_parameter(&mut v, "a..b", "x").is_err());
    }
}
