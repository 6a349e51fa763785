//! `values.schema.json`: a chart's values checked against its JSON Schema before anything
//! renders, as Helm does — the chart's own schema against its values, each subchart's
//! against the values it sees.
//!
//! The keywords charts use are checked (types, properties, required, additional and
//! pattern properties, items, enum and const, bounds on numbers, strings and arrays,
//! pattern, allOf/anyOf/oneOf/not, if/then/else, local `$ref`s). `format` is not asserted,
//! as in Helm; unknown keywords are ignored, as the specification says. A `$ref` to another
//! document is refused by name: plumb reads nothing outside the repository.

use serde_json::Value as Json;

use crate::chart::Chart;
use crate::error::{Error, Result};

/// Checks `values` against the schemas of `chart` and its subcharts.
pub(crate) fn validate(chart: &Chart, values: &Json) -> Result<()> {
    let mut report = String::new();
    collect(chart, values, &mut report)?;
    if report.is_empty() {
        return Ok(());
    }
    Err(Error::Chart {
        path: chart.path.clone(),
        message: format!(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n{report}"
        ),
    })
}

fn collect(chart: &Chart, values: &Json, report: &mut String) -> Result<()> {
    if let Some(schema) = &chart.schema {
        let mut problems = Vec::new();
        let mut checker = Checker {
            root: schema,
            problems: &mut problems,
            chart: &chart.path,
        };
        checker.check(schema, values, "", 0)?;
        if !problems.is_empty() {
            report.push_str(&format!("{}:\n", chart.metadata.name));
            for problem in problems {
                report.push_str(&format!("- {problem}\n"));
            }
        }
    }
    for sub in &chart.dependencies {
        let empty = Json::Object(Default::default());
        collect(
            sub,
            values.get(&sub.metadata.name).unwrap_or(&empty),
            report,
        )?;
    }
    Ok(())
}

/// How deep schemas may nest or refer to themselves before the check stops.
const MAX_DEPTH: usize = 200;

struct Checker<'a> {
    root: &'a Json,
    problems: &'a mut Vec<String>,
    chart: &'a str,
}

impl<'a> Checker<'a> {
    /// Whether `value` at `at` satisfies `schema`, recording why not.
    fn check(&mut self, schema: &Json, value: &Json, at: &str, depth: usize) -> Result<bool> {
        if depth > MAX_DEPTH {
            return Err(Error::Chart {
                path: format!("{}/values.schema.json", self.chart),
                message: format!(
                    "the schema nests or refers to itself more than {MAX_DEPTH} levels deep"
                ),
            });
        }
        let schema = match schema {
            Json::Bool(true) => return Ok(true),
            Json::Bool(false) => {
                return Ok(self.fail(at, "false schema does not allow any value".into()));
            }
            Json::Object(map) => map,
            _ => return Ok(true),
        };
        let mut ok = true;
        if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
            let target = self.resolve(reference)?;
            ok &= self.check(target, value, at, depth + 1)?;
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Json::String(t) => vec![t.as_str()],
                Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
                _ => vec![],
            };
            if !allowed.is_empty() && !allowed.iter().any(|t| has_type(value, t)) {
                ok = self.fail(
                    at,
                    format!("got {}, want {}", type_of(value), allowed.join(" or ")),
                );
            }
        }
        if let Some(options) = schema.get("enum").and_then(Json::as_array)
            && !options.iter().any(|o| same(o, value))
        {
            ok = self.fail(at, format!("value must be one of {}", list(options)));
        }
        if let Some(expected) = schema.get("const")
            && !same(expected, value)
        {
            ok = self.fail(at, format!("value must be {expected}"));
        }
        match value {
            Json::Object(map) => ok &= self.object(schema, map, at, depth)?,
            Json::Array(items) => ok &= self.array(schema, items, at, depth)?,
            Json::String(s) => ok &= self.string(schema, s, at),
            Json::Number(n) => ok &= self.number(schema, n.as_f64().unwrap_or(0.0), at),
            _ => {}
        }
        if let Some(all) = schema.get("allOf").and_then(Json::as_array) {
            for sub in all {
                ok &= self.check(sub, value, at, depth + 1)?;
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Json::as_array) {
            let mut matched = false;
            for sub in any {
                matched |= self.quietly(sub, value, at, depth)?;
            }
            if !matched {
                ok = self.fail(at, "anyOf failed".into());
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Json::as_array) {
            let mut matched = 0;
            for sub in one {
                matched += usize::from(self.quietly(sub, value, at, depth)?);
            }
            if matched != 1 {
                ok = self.fail(at, format!("oneOf failed, {matched} subschemas matched"));
            }
        }
        if let Some(not) = schema.get("not")
            && self.quietly(not, value, at, depth)?
        {
            ok = self.fail(at, "not failed".into());
        }
        if let Some(condition) = schema.get("if") {
            let branch = if self.quietly(condition, value, at, depth)? {
                "then"
            } else {
                "else"
            };
            if let Some(sub) = schema.get(branch) {
                ok &= self.check(sub, value, at, depth + 1)?;
            }
        }
        Ok(ok)
    }

    /// A check whose failures are not reported (for anyOf, oneOf, not, if).
    fn quietly(&mut self, schema: &Json, value: &Json, at: &str, depth: usize) -> Result<bool> {
        let mut problems = Vec::new();
        let mut inner = Checker {
            root: self.root,
            problems: &mut problems,
            chart: self.chart,
        };
        inner.check(schema, value, at, depth + 1)
    }

    fn fail(&mut self, at: &str, message: String) -> bool {
        let at = if at.is_empty() { "/" } else { at };
        self.problems.push(format!("at '{at}': {message}"));
        false
    }

    fn resolve(&self, reference: &str) -> Result<&'a Json> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(Error::Unsupported {
                path: format!("{}/values.schema.json", self.chart),
                what: format!(
                    "a $ref to another document ({reference:?}): plumb reads nothing outside the repository"
                ),
            });
        };
        let root: &'a Json = self.root;
        root.pointer(pointer).ok_or_else(|| Error::Chart {
            path: format!("{}/values.schema.json", self.chart),
            message: format!("$ref {reference:?} points at nothing"),
        })
    }

    fn object(
        &mut self,
        schema: &serde_json::Map<String, Json>,
        map: &serde_json::Map<String, Json>,
        at: &str,
        depth: usize,
    ) -> Result<bool> {
        let mut ok = true;
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            let missing: Vec<&str> = required
                .iter()
                .filter_map(Json::as_str)
                .filter(|k| !map.contains_key(*k))
                .collect();
            if !missing.is_empty() {
                ok = self.fail(at, format!("missing property '{}'", missing.join("', '")));
            }
        }
        let properties = schema.get("properties").and_then(Json::as_object);
        let patterns = schema.get("patternProperties").and_then(Json::as_object);
        for (key, item) in map {
            let path = format!("{at}/{key}");
            let mut described = false;
            if let Some(sub) = properties.and_then(|p| p.get(key)) {
                described = true;
                ok &= self.check(sub, item, &path, depth + 1)?;
            }
            for (pattern, sub) in patterns.into_iter().flatten() {
                if regex::Regex::new(pattern).is_ok_and(|re| re.is_match(key)) {
                    described = true;
                    ok &= self.check(sub, item, &path, depth + 1)?;
                }
            }
            if !described && let Some(additional) = schema.get("additionalProperties") {
                if additional == &Json::Bool(false) {
                    ok = self.fail(at, format!("additional properties '{key}' not allowed"));
                } else {
                    ok &= self.check(additional, item, &path, depth + 1)?;
                }
            }
        }
        if let Some(n) = schema.get("minProperties").and_then(Json::as_u64)
            && (map.len() as u64) < n
        {
            ok = self.fail(
                at,
                format!("minimum {n} properties required, but found {}", map.len()),
            );
        }
        if let Some(n) = schema.get("maxProperties").and_then(Json::as_u64)
            && (map.len() as u64) > n
        {
            ok = self.fail(
                at,
                format!("maximum {n} properties allowed, but found {}", map.len()),
            );
        }
        Ok(ok)
    }

    fn array(
        &mut self,
        schema: &serde_json::Map<String, Json>,
        items: &[Json],
        at: &str,
        depth: usize,
    ) -> Result<bool> {
        let mut ok = true;
        match schema.get("items") {
            Some(Json::Array(tuple)) => {
                for (n, (sub, item)) in tuple.iter().zip(items).enumerate() {
                    ok &= self.check(sub, item, &format!("{at}/{n}"), depth + 1)?;
                }
            }
            Some(sub) => {
                for (n, item) in items.iter().enumerate() {
                    ok &= self.check(sub, item, &format!("{at}/{n}"), depth + 1)?;
                }
            }
            None => {}
        }
        if let Some(n) = schema.get("minItems").and_then(Json::as_u64)
            && (items.len() as u64) < n
        {
            ok = self.fail(
                at,
                format!(
                    "minimum {n} items required, but found {} items",
                    items.len()
                ),
            );
        }
        if let Some(n) = schema.get("maxItems").and_then(Json::as_u64)
            && (items.len() as u64) > n
        {
            ok = self.fail(
                at,
                format!(
                    "maximum {n} items required, but found {} items",
                    items.len()
                ),
            );
        }
        if schema.get("uniqueItems") == Some(&Json::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if items[i + 1..].iter().any(|b| same(a, b)) {
                    ok = self.fail(at, "items must be unique".into());
                    break;
                }
            }
        }
        Ok(ok)
    }

    fn string(&mut self, schema: &serde_json::Map<String, Json>, s: &str, at: &str) -> bool {
        let mut ok = true;
        let length = s.chars().count() as u64;
        if let Some(n) = schema.get("minLength").and_then(Json::as_u64)
            && length < n
        {
            ok = self.fail(at, format!("minLength: got {length}, want {n}"));
        }
        if let Some(n) = schema.get("maxLength").and_then(Json::as_u64)
            && length > n
        {
            ok = self.fail(at, format!("maxLength: got {length}, want {n}"));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
            && !regex::Regex::new(pattern).is_ok_and(|re| re.is_match(s))
        {
            ok = self.fail(at, format!("'{s}' does not match pattern '{pattern}'"));
        }
        ok
    }

    fn number(&mut self, schema: &serde_json::Map<String, Json>, n: f64, at: &str) -> bool {
        let mut ok = true;
        let bound = |key: &str| schema.get(key).and_then(Json::as_f64);
        if let Some(min) = bound("minimum")
            && n < min
        {
            ok = self.fail(at, format!("minimum: got {n}, want {min}"));
        }
        if let Some(max) = bound("maximum")
            && n > max
        {
            ok = self.fail(at, format!("maximum: got {n}, want {max}"));
        }
        if let Some(min) = bound("exclusiveMinimum")
            && n <= min
        {
            ok = self.fail(at, format!("exclusiveMinimum: got {n}, want {min}"));
        }
        if let Some(max) = bound("exclusiveMaximum")
            && n >= max
        {
            ok = self.fail(at, format!("exclusiveMaximum: got {n}, want {max}"));
        }
        if let Some(m) = bound("multipleOf")
            && m > 0.0
            && ((n / m) - (n / m).round()).abs() > 1e-9
        {
            ok = self.fail(at, format!("multipleOf: got {n}, want a multiple of {m}"));
        }
        ok
    }
}

fn has_type(value: &Json, t: &str) -> bool {
    match (t, value) {
        ("object", Json::Object(_)) | ("array", Json::Array(_)) | ("string", Json::String(_)) => {
            true
        }
        ("boolean", Json::Bool(_)) | ("null", Json::Null) | ("number", Json::Number(_)) => true,
        ("integer", Json::Number(n)) => n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn type_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn list(options: &[Json]) -> String {
    options
        .iter()
        .map(Json::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Json, values: Json) -> Vec<String> {
        let mut found = Vec::new();
        let mut checker = Checker {
            root: &schema,
            problems: &mut found,
            chart: "c",
        };
        checker.check(&schema, &values, "", 0).unwrap();
        found
    }

    #[test]
    fn the_keywords_charts_use() {
        let schema = json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 1},
                "image": {"$ref": "#/$defs/image"},
                "mode": {"enum": ["a", "b"]},
                "ports": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true}
            },
            "additionalProperties": false,
            "$defs": {"image": {"type": "object", "required": ["repository"], "properties": {"repository": {"type": "string", "pattern": "^[a-z]"}}}}
        });
        assert!(
            problems(
                schema.clone(),
                json!({"image": {"repository": "nginx"}, "replicas": 2.0, "ports": [80.0, 443.0]})
            )
            .is_empty()
        );
        let found = problems(
            schema,
            json!({"replicas": 0.5, "mode": "c", "ports": [80, 80], "extra": 1, "image": {"repository": "Nginx"}}),
        );
        let text = found.join("\n");
        for expected in [
            "want integer",
            "minimum",
            "one of",
            "unique",
            "additional properties 'extra'",
            "does not match pattern",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
        assert_eq!(
            problems(
                json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
                json!(true)
            )
            .len(),
            1
        );
        assert_eq!(problems(json!({"if": {"properties": {"tls": {"const": true}}}, "then": {"required": ["cert"]}}), json!({"tls": true})).len(), 1);
    }
}
