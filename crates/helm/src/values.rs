//! Values as Helm composes them: user values files merged in order, then coalesced with
//! each chart's `values.yaml` (a `null` deletes a default), globals copied down to every
//! subchart, subcharts switched off by their `condition` or `tags`.

use serde_json::{Map, Value as Json};

use crate::chart::Chart;
use crate::error::{Error, Result};

type Table = Map<String, Json>;

/// The values a render sees: `vals` coalesced over the chart's defaults, recursively.
pub(crate) fn coalesce(chart: &Chart, vals: &Json) -> Json {
    let mut dest = match vals {
        Json::Object(m) => m.clone(),
        _ => Table::new(),
    };
    coalesce_chart(chart, &mut dest, false);
    Json::Object(dest)
}

pub(crate) fn coalesce_chart(chart: &Chart, dest: &mut Table, merge: bool) {
    coalesce_values(chart, dest, merge);
    for sub in &chart.dependencies {
        let name = sub.metadata.name.clone();
        if !dest.contains_key(&name) {
            dest.insert(name.clone(), Json::Object(Table::new()));
        }
        let Some(Json::Object(sub_values)) = dest.get(&name).cloned() else {
            continue;
        };
        let mut sub_values = sub_values;
        coalesce_globals(&mut sub_values, dest);
        coalesce_chart(sub, &mut sub_values, merge);
        dest.insert(name, Json::Object(sub_values));
    }
}

/// The chart's own values under `v`: user values win, a user's `null` deletes a default,
/// and a `null` among the defaults themselves is dropped (it never deletes, never shows).
fn coalesce_values(chart: &Chart, v: &mut Table, merge: bool) {
    let Json::Object(defaults) = &chart.values else {
        return;
    };
    for (key, val) in defaults {
        match v.get_mut(key) {
            Some(Json::Null) if !merge => {
                v.remove(key);
            }
            Some(Json::Object(dest)) => {
                if let Json::Object(src) = val {
                    let is_subchart = chart.dependencies.iter().any(|d| d.metadata.name == *key);
                    let src = if is_subchart {
                        src.clone()
                    } else {
                        without_nulls(src)
                    };
                    coalesce_tables(dest, &src, merge || is_subchart);
                }
            }
            Some(_) => {}
            None => match val {
                Json::Null => {}
                Json::Object(table) => {
                    v.insert(key.clone(), Json::Object(without_nulls(table)));
                }
                other => {
                    v.insert(key.clone(), other.clone());
                }
            },
        }
    }
}

/// A table with its `null` entries removed, recursively.
fn without_nulls(table: &Table) -> Table {
    table
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Json::Object(inner) => (k.clone(), Json::Object(without_nulls(inner))),
            other => (k.clone(), other.clone()),
        })
        .collect()
}

/// `dst` over `src`, both tables; `dst` is authoritative.
fn coalesce_tables(dst: &mut Table, src: &Table, merge: bool) {
    for (key, val) in src {
        match dst.get_mut(key) {
            Some(Json::Null) if !merge && !val.is_null() => {
                dst.remove(key);
            }
            None => {
                dst.insert(key.clone(), val.clone());
            }
            Some(Json::Object(dv)) => {
                if let Json::Object(sv) = val {
                    coalesce_tables(dv, sv, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// Copies the parent's `global` table into the subchart's, the parent's entries winning.
fn coalesce_globals(dest: &mut Table, src: &Table) {
    let mut dg = match dest.get("global") {
        None => Table::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => Table::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match (&val, dg.get(&key)) {
            (Json::Object(vv), None) => {
                dg.insert(key, Json::Object(vv.clone()));
            }
            (Json::Object(vv), Some(Json::Object(existing))) => {
                let mut merged = vv.clone();
                coalesce_tables(&mut merged, existing, true);
                dg.insert(key, Json::Object(merged));
            }
            (Json::Object(_), Some(_)) => {}
            (_, Some(Json::Object(_))) => {}
            (_, _) => {
                dg.insert(key, val);
            }
        }
    }
    dest.insert("global".into(), Json::Object(dg));
}

/// Helm's `ProcessDependencies`: every dependency `Chart.yaml` lists must be in `charts/`,
/// aliases are applied, subcharts whose `condition` or `tags` say so are removed,
/// recursively (`import_values` follows). `vals` are the user's values.
pub(crate) fn process_dependencies(chart: &mut Chart, vals: &Json) -> Result<()> {
    check(chart)?;
    process(chart, vals, "");
    Ok(())
}

fn check(chart: &Chart) -> Result<()> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.metadata.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Chart {
            path: chart.path.clone(),
            message: format!(
                "found in Chart.yaml, but missing in charts/ directory: {}; run `helm dependency build` and commit charts/, or give the dependency an http(s):// or oci:// repository for plumb to fetch",
                missing.join(", ")
            ),
        });
    }
    chart.dependencies.iter().try_for_each(check)
}

fn process(chart: &mut Chart, vals: &Json, path: &str) {
    if chart.metadata.dependencies.is_empty() {
        return;
    }
    // Aliased copies of subcharts, and subcharts Chart.yaml does not list.
    let mut deps: Vec<Chart> = chart
        .dependencies
        .iter()
        .filter(|existing| {
            !chart.metadata.dependencies.iter().any(|req| {
                req.name == existing.metadata.name
                    && version_fits(&req.version, &existing.metadata.version)
            })
        })
        .cloned()
        .collect();
    for req in &mut chart.metadata.dependencies {
        if let Some(found) = chart.dependencies.iter().find(|c| {
            c.metadata.name == req.name && version_fits(&req.version, &c.metadata.version)
        }) {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = deps;
    let cvals = coalesce(chart, vals);
    let mut disabled = Vec::new();
    for req in &chart.metadata.dependencies {
        let mut enabled = true;
        if let Some(Json::Object(tags)) = cvals.get("tags") {
            let (mut has_true, mut has_false) = (false, false);
            for tag in &req.tags {
                match tags.get(tag) {
                    Some(Json::Bool(true)) => has_true = true,
                    Some(Json::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            enabled = has_true || !has_false;
        }
        for condition in req
            .condition
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            if let Some(Json::Bool(b)) = path_value(&cvals, &format!("{path}{condition}")) {
                enabled = *b;
                break;
            }
        }
        if !enabled {
            disabled.push(req.name.clone());
        }
    }
    chart
        .dependencies
        .retain(|c| !disabled.contains(&c.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|d| !disabled.contains(&d.name));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.metadata.name);
        process(sub, &cvals, &sub_path);
    }
}

/// `a.b.c` in a values tree.
fn path_value<'a>(values: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(values, |v, key| v.get(key))
}

/// Whether `version` satisfies the dependency's range; an empty or invalid range matches
/// nothing (the subchart then stays in under its own name, as in Helm).
fn version_fits(range: &str, version: &str) -> bool {
    !range.is_empty() && crate::funcs::version_satisfies(range, version).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chart(values: Json, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: crate::chart::Metadata {
                name: "top".into(),
                version: "1.0.0".into(),
                ..Default::default()
            },
            values,
            schema: None,
            templates: vec![],
            files: Default::default(),
            dependencies: deps,
            path: ".".into(),
        }
    }

    #[test]
    fn null_deletes_defaults_and_globals_flow_down() {
        let mut sub = chart(json!({"port": 80, "global": {"a": 0}}), vec![]);
        sub.metadata.name = "sub".into();
        let top = chart(
            json!({"replicas": 1, "image": {"tag": "x", "pull": "Always"}, "global": {"a": 1, "b": 2}}),
            vec![sub],
        );
        let vals = json!({"image": {"pull": null}, "sub": {"port": 8080}});
        let out = coalesce(&top, &vals);
        assert_eq!(out["image"], json!({"tag": "x"}));
        assert_eq!(out["replicas"], json!(1));
        assert_eq!(out["sub"]["port"], json!(8080));
        assert_eq!(out["sub"]["global"], json!({"a": 1, "b": 2}));
    }
}
