//! Helm's own functions: `include`, `tpl`, `required`, `fail`, `lookup`.

use super::Param::{Any, Str};
use super::{Table, s};
use crate::template::{State, is_empty_tree, parse};
use crate::value::Value;

/// Helm's limit on how deep one template may include itself.
const INCLUDE_LIMIT: usize = 1000;

pub(super) fn register(t: &mut Table) {
    t.add("include", &[Str, Any], |state, a| {
        include(state, s(&a[0]), a[1].clone()).map(Value::str)
    });
    t.add("tpl", &[Str, Any], |state, a| {
        tpl(state, s(&a[0]), a[1].clone()).map(Value::str)
    });
    t.add("required", &[Str, Any], |_, a| match &a[1] {
        Value::Nil => Err(s(&a[0]).to_string()),
        Value::String(v) if v.is_empty() => Err(s(&a[0]).to_string()),
        v => Ok(v.clone()),
    });
    t.add("fail", &[Str], |_, a| Err(s(&a[0]).to_string()));
    // `helm template` talks to no cluster: lookup finds nothing, as there.
    t.add("lookup", &[Str, Str, Str, Str], |_, _| {
        Ok(Value::empty_map())
    });
    t.add("getHostByName", &[Str], |_, _| Ok(Value::str("")));
}

fn include(state: &mut State<'_>, name: &str, data: Value) -> Result<String, String> {
    let count = state.ns.included.entry(name.to_string()).or_insert(0);
    if *count > INCLUDE_LIMIT {
        return Err(format!(
            "unable to execute template: rendering template has a nested reference name: {name}"
        ));
    }
    *count += 1;
    let result = state.ns.execute(name, data, state.depth + 1);
    if let Some(count) = state.ns.included.get_mut(name) {
        *count -= 1;
    }
    result.map_err(|e| e.to_string())
}

/// `tpl`: the text is parsed beside the chart's templates (its `define`s visible to its own
/// `include`s, not to the chart's) and run with `vals` as dot.
fn tpl(state: &mut State<'_>, text: &str, vals: Value) -> Result<String, String> {
    let name = format!("{}#tpl", state.name);
    let trees = {
        let ns = &*state.ns;
        parse(&name, text, &|f| ns.is_function(f))
            .map_err(|e| format!("cannot parse template {text:?}: {e}"))?
    };
    let trees = trees
        .into_iter()
        .filter(|(n, list)| *n == name || !is_empty_tree(list))
        .collect();
    state.ns.push_layer(trees);
    let result = state.ns.execute(&name, vals, state.depth + 1);
    state.ns.pop_layer();
    match result {
        Ok(out) => Ok(out.replace("<no value>", "")),
        Err(e) => Err(format!(
            "error during tpl function execution for {text:?}: {e}"
        )),
    }
}
