//! A chart rendered as `helm template` renders it: every template of the chart and its
//! subcharts parsed into one namespace (deepest first, so a parent's `define` wins a name
//! clash), each non-partial file executed with its chart's scope, the output split into
//! documents and put in Helm's install order, hooks apart.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::chart::Chart;
use crate::error::Result;
use crate::manifests::{self, Manifest};
use crate::objects::{Capabilities, CapabilitiesObject, Files, chart_value};
use crate::randomness::RandomKey;
use crate::template::{Namespace, Trees, is_empty_tree, parse};
use crate::value::{self, Value};
use crate::{import_values, values};

/// What `helm template` is told besides the chart.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// `.Release.Name`
    pub release_name: String,
    /// `.Release.Namespace`
    pub namespace: String,
    /// `.Release.IsUpgrade` (and `IsInstall` its opposite); `.Release.Revision` 2 when set.
    pub is_upgrade: bool,
    /// The user's values, already merged in precedence order (see [`crate::merge_user_values`]).
    pub values: serde_json::Value,
    /// `.Capabilities`
    pub capabilities: Capabilities,
    /// Most bytes all templates together may write.
    pub max_output_bytes: usize,
    /// The key random functions (`randAlphaNum`, `genCA`…) draw from: the same key gives
    /// the same passwords and certificates every render, and nobody without it can compute
    /// them. `None` draws a fresh key for this render alone — different every run, as
    /// `helm template` is. A controller supplies one key per Application (see
    /// [`crate::randomness`]).
    pub random_key: Option<RandomKey>,
}

/// A rendered chart.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The `crds/` files of the chart and its subcharts, as read.
    pub crds: Vec<Manifest>,
    /// Documents in Helm's install order.
    pub manifests: Vec<Manifest>,
    /// Documents annotated `helm.sh/hook` with known hook events.
    pub hooks: Vec<Manifest>,
}

impl Rendered {
    /// The text `helm template --include-crds` prints (hooks included; `skip_tests` drops
    /// `test` hooks as `--skip-tests` does).
    pub fn helm_template_text(&self, skip_tests: bool) -> String {
        let document = |out: &mut String, m: &Manifest| {
            out.push_str("---\n# Source: ");
            out.push_str(&m.source);
            out.push('\n');
            out.push_str(&m.content);
            out.push('\n');
        };
        let mut manifest = String::new();
        for m in self.crds.iter().chain(&self.manifests) {
            document(&mut manifest, m);
        }
        let mut out = String::with_capacity(manifest.len() + 1);
        out.push_str(manifest.trim());
        out.push('\n');
        for hook in &self.hooks {
            if skip_tests && hook.is_test_hook() {
                continue;
            }
            document(&mut out, hook);
        }
        out
    }
}

/// One template file to execute: its text, the scope its chart sees, and names.
struct Renderable {
    text: String,
    scope: Value,
    base_path: String,
}

/// How much stack a render's thread reserves: templates nest (`include` in `include`) up to
/// 1,000 deep (the executor's limit), and each level takes a few frames. Only the pages a
/// render touches are ever backed by memory.
pub(crate) const STACK_BYTES: usize = 512 << 20;

/// Renders `chart` with `options`, on a thread of its own with a stack deep enough for any
/// nesting the executor allows (a template's recursion ends in an error, never a crash).
pub fn render(chart: &Chart, options: &RenderOptions) -> Result<Rendered> {
    render_with_steps(chart, options, crate::template::MAX_STEPS)
}

/// [`render`] allowing `max_steps` steps (the fuzz targets allow fewer: their builds run
/// templates a hundred times slower).
pub(crate) fn render_with_steps(
    chart: &Chart,
    options: &RenderOptions,
    max_steps: u64,
) -> Result<Rendered> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("helm-render".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || render_here(chart, options, max_steps))
            .map_err(|e| {
                crate::error::Error::Limit(format!("cannot start the render thread: {e}"))
            })?;
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn render_here(chart: &Chart, options: &RenderOptions, max_steps: u64) -> Result<Rendered> {
    // Declared first, so dropped last: after the render's own values, it breaks the cycles
    // templates made, which would otherwise leak at every render.
    let _cycles = value::CycleBreaker::default();
    let mut chart = chart.clone();
    values::process_dependencies(&mut chart, &options.values)?;
    import_values::import_values(&mut chart);
    let coalesced = values::coalesce(&chart, &options.values);
    crate::schema::validate(&chart, &coalesced)?;

    let top_values = Value::from_json(&coalesced);
    let mut named_values = Vec::new();
    let caps = Value::Object(Rc::new(CapabilitiesObject(Rc::new(
        options.capabilities.clone(),
    ))));
    let release = release(options);

    let mut renderables: BTreeMap<String, Renderable> = BTreeMap::new();
    collect(
        &chart,
        &chart.metadata.name,
        top_values,
        true,
        &release,
        &caps,
        &mut renderables,
        &mut named_values,
    );

    let funcs = Rc::new(crate::funcs::table());
    let order = sort_templates(renderables.keys().cloned().collect());
    let mut trees = Trees::new();
    for name in &order {
        let parsed = parse(name, &renderables[name].text, &|f| funcs.contains_key(f))?;
        for (tree_name, list) in parsed {
            if is_empty_tree(&list) && trees.contains_key(&tree_name) {
                continue;
            }
            trees.insert(tree_name, list);
        }
    }
    let mut ns = Namespace::new(trees, funcs, options.max_output_bytes);
    ns.max_steps = max_steps;
    ns.named_values = named_values;
    let key = options.random_key.clone().unwrap_or_else(RandomKey::fresh);
    ns.random = key.derive(&[
        b"plumb-helm release",
        options.release_name.as_bytes(),
        options.namespace.as_bytes(),
    ]);

    let mut rendered: BTreeMap<String, String> = BTreeMap::new();
    for name in &order {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') {
            continue;
        }
        let r = &renderables[name];
        if let Value::Map(scope) = &r.scope {
            let mut template = BTreeMap::new();
            template.insert("Name".to_string(), Value::str(name.as_str()));
            template.insert("BasePath".to_string(), Value::str(r.base_path.as_str()));
            scope
                .borrow_mut()
                .insert("Template".into(), Value::map(template));
        }
        ns.included.clear();
        let out = ns.execute(name, r.scope.clone(), 0)?;
        rendered.insert(name.clone(), out.replace("<no value>", ""));
    }
    rendered.retain(|name, _| !name.ends_with("NOTES.txt"));

    let (manifests, hooks) = manifests::sort(&rendered)?;
    Ok(Rendered {
        crds: crds(&chart, &chart.metadata.name),
        manifests,
        hooks,
    })
}

fn release(options: &RenderOptions) -> Value {
    let mut map = BTreeMap::new();
    map.insert(
        "Name".to_string(),
        Value::str(options.release_name.as_str()),
    );
    map.insert(
        "Namespace".to_string(),
        Value::str(options.namespace.as_str()),
    );
    map.insert("IsUpgrade".to_string(), Value::Bool(options.is_upgrade));
    map.insert("IsInstall".to_string(), Value::Bool(!options.is_upgrade));
    map.insert(
        "Revision".to_string(),
        Value::Int(if options.is_upgrade { 2 } else { 1 }),
    );
    map.insert("Service".to_string(), Value::str("Helm"));
    Value::map(map)
}

/// Helm's `recAllTpls`: every chart's templates with the scope its templates see.
#[allow(clippy::too_many_arguments)]
fn collect(
    chart: &Chart,
    full_path: &str,
    chart_values: Value,
    is_root: bool,
    release: &Value,
    caps: &Value,
    out: &mut BTreeMap<String, Renderable>,
    named_values: &mut Vec<value::Map>,
) -> Value {
    if let Value::Map(m) = &chart_values {
        named_values.push(m.clone());
    }
    let subcharts = Value::empty_map();
    let mut scope = BTreeMap::new();
    scope.insert("Chart".to_string(), chart_value(&chart.metadata, is_root));
    scope.insert(
        "Files".to_string(),
        Value::Object(Rc::new(Files(std::sync::Arc::clone(&chart.files)))),
    );
    scope.insert("Release".to_string(), release.clone());
    scope.insert("Capabilities".to_string(), caps.clone());
    scope.insert("Values".to_string(), chart_values.clone());
    scope.insert("Subcharts".to_string(), subcharts.clone());
    let scope = Value::map(scope);
    for sub in &chart.dependencies {
        let sub_values = match chart_values.get(&sub.metadata.name) {
            v @ Value::Map(_) => v,
            _ => Value::empty_map(),
        };
        let sub_path = format!("{full_path}/charts/{}", sub.metadata.name);
        let sub_scope = collect(
            sub,
            &sub_path,
            sub_values,
            false,
            release,
            caps,
            out,
            named_values,
        );
        if let Value::Map(s) = &subcharts {
            s.borrow_mut().insert(sub.metadata.name.clone(), sub_scope);
        }
    }
    for (name, text) in &chart.templates {
        let base = name.rsplit('/').next().unwrap_or(name);
        if chart.is_library() && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{name}"),
            Renderable {
                text: text.clone(),
                scope: scope.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    scope
}

/// Helm's `sortTemplates`: deeper paths first, then reverse lexical order.
fn sort_templates(mut names: Vec<String>) -> Vec<String> {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
    names
}

/// `crds/` of the chart, then of its subcharts, named as `helm template` names them.
fn crds(chart: &Chart, full_path: &str) -> Vec<Manifest> {
    let mut out: Vec<Manifest> = chart
        .crds()
        .filter(|(name, _)| {
            name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
        })
        .map(|(name, data)| {
            Manifest::crd(
                format!("{full_path}/{name}"),
                String::from_utf8_lossy(data).into_owned(),
            )
        })
        .collect();
    for sub in &chart.dependencies {
        out.extend(crds(
            sub,
            &format!("{full_path}/charts/{}", sub.metadata.name),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found with the helm_template fuzz target, whose LeakSanitizer reported a hand-made
    /// input (`fuzz/corpus/helm_template/crash-map-contains-itself.yaml`): a map made to
    /// contain itself never dropped, so every render of such a template leaked it — here
    /// the scope, and with it the chart's files.
    #[test]
    fn a_template_s_cycles_do_not_outlive_the_render() {
        let chart = Chart {
            metadata: crate::Metadata {
                api_version: "v2".into(),
                name: "c".into(),
                version: "0.1.0".into(),
                ..Default::default()
            },
            values: serde_json::json!({"a": {"b": 1}}),
            schema: None,
            templates: vec![(
                "templates/cm.yaml".into(),
                "{{- $_ := set . \"me\" . }}{{ $d := dict }}{{ $_ := set $d \"d\" $d }}\
                 {{ $_ := merge .Values.a (dict \"up\" .Values) }}x: 1\n"
                    .into(),
            )],
            files: std::sync::Arc::new(BTreeMap::from([("f".into(), b"x".to_vec())])),
            dependencies: Vec::new(),
            path: "c".into(),
        };
        let options = RenderOptions {
            release_name: "r".into(),
            namespace: "n".into(),
            is_upgrade: false,
            values: serde_json::json!({}),
            capabilities: Capabilities::helm_template_default(),
            max_output_bytes: 1 << 20,
            random_key: None,
        };
        let before = std::sync::Arc::strong_count(&chart.files);
        let rendered = render(&chart, &options).unwrap();
        assert_eq!(rendered.manifests[0].content.trim(), "x: 1");
        assert_eq!(std::sync::Arc::strong_count(&chart.files), before);
    }

    fn chart_of(template: &str) -> Chart {
        Chart {
            metadata: crate::Metadata {
                api_version: "v2".into(),
                name: "c".into(),
                version: "0.1.0".into(),
                ..Default::default()
            },
            values: serde_json::json!({}),
            schema: None,
            templates: vec![("templates/cm.yaml".into(), template.into())],
            files: std::sync::Arc::new(BTreeMap::new()),
            dependencies: Vec::new(),
            path: "c".into(),
        }
    }

    fn rendered_with(chart: &Chart, release: &str, key: Option<RandomKey>) -> String {
        let options = RenderOptions {
            release_name: release.into(),
            namespace: "n".into(),
            is_upgrade: false,
            values: serde_json::json!({}),
            capabilities: Capabilities::helm_template_default(),
            max_output_bytes: 1 << 20,
            random_key: key,
        };
        render(chart, &options).unwrap().manifests[0]
            .content
            .clone()
    }

    /// Random functions are stable under one key, differ under another (and between
    /// releases), and differ every render without one, as under `helm template`.
    #[test]
    fn random_values_are_stable_for_a_key_and_secret_without_it() {
        let chart = chart_of(
            "a: {{ randAlphaNum 24 }}\nb: {{ randAlphaNum 24 }}\nn: {{ randNumeric 8 }}\n\
             i: {{ randInt 0 1000000000 }}\ns: {{ shuffle \"abcdefghijklmnopqrstuvwxyz\" }}\n",
        );
        let key = RandomKey::new([9; 32]);
        let once = rendered_with(&chart, "r", Some(key.clone()));
        assert_eq!(once, rendered_with(&chart, "r", Some(key.clone())));
        assert_ne!(
            once,
            rendered_with(&chart, "r", Some(RandomKey::new([8; 32])))
        );
        assert_ne!(once, rendered_with(&chart, "other", Some(key)));
        assert_ne!(
            rendered_with(&chart, "r", None),
            rendered_with(&chart, "r", None)
        );
        let lines: Vec<&str> = once.lines().collect();
        assert_ne!(lines[0][3..], lines[1][3..], "two calls draw apart");
        assert!(lines[0][3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(lines[0].len(), 3 + 24);
        let mut shuffled: Vec<char> = lines[4][3..].chars().collect();
        shuffled.sort_unstable();
        assert_eq!(
            shuffled.into_iter().collect::<String>(),
            "abcdefghijklmnopqrstuvwxyz"
        );
    }

    #[test]
    fn templates_sort_deepest_first_then_reverse() {
        let order = sort_templates(vec![
            "c/templates/a.yaml".into(),
            "c/templates/b.yaml".into(),
            "c/charts/s/templates/a.yaml".into(),
            "c/templates/_helpers.tpl".into(),
        ]);
        assert_eq!(
            order,
            [
                "c/charts/s/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/a.yaml",
                "c/templates/_helpers.tpl"
            ]
        );
    }
}
