//! `replacements`: copy a value from one object's field into fields of others (whole, or
//! one part of a delimited string).
//!
//! Two guarantees beyond Kustomize's: a value taken from a SOPS-decrypted object makes
//! every object it is written into decrypted too, so it is masked wherever that object
//! is shown (a replacement must not launder a secret into a ConfigMap); and the bytes one
//! replacement writes are bounded by `max_copy_bytes` before they are written, each
//! target it grows by `max_object_bytes` (replacements of a subtree into itself double
//! it, as JSON patch `copy` does).

use serde_json::{Map, Value};

use super::BuildError;
use super::kustomization::{Replacement, ReplacementEntry, ReplacementOptions, Selector};
use super::load::Loader;
use super::resource::{ResId, Resource};
use plumb_manifest::Limits;
use plumb_manifest::size::{Tally, json_bytes};

/// `replacements` entries (inline, or files holding one or a list), in order.
pub(crate) fn apply_entries(
    loader: &Loader,
    resources: &mut [Resource],
    entries: &[ReplacementEntry],
) -> crate::error::Result<()> {
    for entry in entries {
        let replacements = match entry {
            ReplacementEntry::Inline(replacement) => vec![replacement.clone()],
            ReplacementEntry::File { path } => {
                let bytes = loader.read_relative(path)?;
                let documents = loader.parse_yaml(path, &bytes)?;
                let mut all = Vec::new();
                for document in documents.into_iter().filter(|d| !d.is_null()) {
                    let items = match document {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for item in items {
                        all.push(serde_json::from_value(item).map_err(|err| {
                            loader.error(format!("replacement file {path}: {err}"))
                        })?);
                    }
                }
                all
            }
        };
        for replacement in &replacements {
            apply(resources, replacement, &loader.context.options.limits)
                .map_err(|e| loader.fail(e))?;
        }
    }
    Ok(())
}

pub(crate) fn apply(
    resources: &mut [Resource],
    replacement: &Replacement,
    limits: &Limits,
) -> Result<(), BuildError> {
    let source = &replacement.source;
    let wanted = ResId {
        group: source.group.clone(),
        version: source.version.clone(),
        kind: source.kind.clone(),
        name: source.name.clone(),
        namespace: source.namespace.clone(),
    };
    let matches: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.any_ids().iter().any(|id| selected_by(id, &wanted)))
        .collect();
    let source_resource = match matches.as_slice() {
        [one] => *one,
        [] => {
            return Err(BuildError::new(format!(
                "nothing selected by {}",
                wanted.describe()
            )));
        }
        _ => {
            return Err(BuildError::new(format!(
                "multiple matches for selector {}",
                wanted.describe()
            )));
        }
    };
    let field_path = if source.field_path.is_empty() {
        "metadata.name"
    } else {
        &source.field_path
    };
    let object = Value::Object(source_resource.object.clone());
    let mut found = Vec::new();
    lookup(&object, &segments(field_path), &mut found);
    let mut value = found.into_iter().next().ok_or_else(|| {
        BuildError::new(format!(
            "fieldPath `{field_path}` is missing for replacement source {}",
            source_resource.cur_id().describe()
        ))
    })?;
    if let Some(options) = &source.options {
        value = source_part(value, options)?;
    }
    let decrypted = source_resource.decrypted;
    let mut copied = Copied {
        source: format!("{} {field_path}", source_resource.cur_id().describe()),
        each: json_bytes(&value),
        total: 0,
        limit: limits.max_copy_bytes,
    };
    let mut tally = Tally::new(limits);
    for target in &replacement.targets {
        for resource in resources.iter_mut() {
            if !target_selected(resource, &target.select) {
                continue;
            }
            if target.reject.iter().any(|r| target_selected(resource, r)) {
                continue;
            }
            for path in &target.field_paths {
                let options = target.options.clone().unwrap_or_default();
                let mut object = Value::Object(std::mem::take(&mut resource.object));
                let result = set(&mut object, &segments(path), &value, &options, &mut copied);
                resource.object = super::transform::namespace::into_map(object);
                if !result? {
                    return Err(BuildError::new(format!(
                        "unable to find field \"{path}\" in replacement target {}",
                        resource.cur_id().describe()
                    )));
                }
            }
            if target.field_paths.is_empty() {
                continue;
            }
            resource.decrypted |= decrypted;
            tally
                .add(&resource.object, || {
                    format!(
                        "replacement target {} (from {})",
                        resource.cur_id().describe(),
                        copied.source
                    )
                })
                .map_err(BuildError::from)?;
        }
    }
    Ok(())
}

/// The bytes one replacement has written into its targets, counted before each write.
struct Copied {
    /// The source, as errors name it.
    source: String,
    /// Bytes of the value written at each field.
    each: u64,
    total: u64,
    limit: u64,
}

impl Copied {
    fn take(&mut self) -> Result<(), BuildError> {
        self.total += self.each;
        if self.total > self.limit {
            return Err(BuildError::limit(
                "max_copy_bytes",
                self.limit,
                format!(
                    "the replacement from {} would have written {} bytes into its targets",
                    self.source, self.total
                ),
            ));
        }
        Ok(())
    }
}

/// Exact matching of the non-empty parts of a selector id.
fn selected_by(id: &ResId, wanted: &ResId) -> bool {
    (wanted.group.is_empty() || wanted.group == id.group)
        && (wanted.version.is_empty() || wanted.version == id.version)
        && (wanted.kind.is_empty() || wanted.kind == id.kind)
        && (wanted.name.is_empty() || wanted.name == id.name)
        && (wanted.namespace.is_empty()
            || wanted.namespace == id.effective_namespace()
            || wanted.namespace == id.namespace)
}

fn target_selected(resource: &Resource, selector: &Selector) -> bool {
    let wanted = ResId {
        group: selector.group.clone(),
        version: selector.version.clone(),
        kind: selector.kind.clone(),
        name: selector.name.clone(),
        namespace: selector.namespace.clone(),
    };
    if !resource.any_ids().iter().any(|id| selected_by(id, &wanted)) {
        return false;
    }
    if selector.label_selector.is_empty() && selector.annotation_selector.is_empty() {
        return true;
    }
    let only_labels = Selector {
        label_selector: selector.label_selector.clone(),
        annotation_selector: selector.annotation_selector.clone(),
        ..Selector::default()
    };
    super::selector::Compiled::new(&only_labels).is_ok_and(|c| c.matches(resource))
}

fn source_part(value: Value, options: &ReplacementOptions) -> Result<Value, BuildError> {
    if options.delimiter.is_empty() {
        return Ok(value);
    }
    let Value::String(text) = &value else {
        return Err(BuildError::new(
            "delimiter option can only be used with scalar nodes".into(),
        ));
    };
    let parts: Vec<&str> = text.split(options.delimiter.as_str()).collect();
    let index = usize::try_from(options.index)
        .ok()
        .filter(|&i| i < parts.len())
        .ok_or_else(|| {
            BuildError::new(format!(
                "options.index {} is out of bounds for value {text}",
                options.index
            ))
        })?;
    Ok(resolve_plain(parts[index]))
}

/// Kustomize writes a part of a delimited string as an untagged scalar, so YAML reads
/// `1.0` back as a number and `true` as a boolean; only strings stay strings.
fn resolve_plain(text: &str) -> Value {
    let looks_scalar = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'));
    if looks_scalar
        && let Ok(value) = serde_saphyr::from_str_with_options::<Value>(text, {
            let mut options = plumb_manifest::yaml_reading_options();
            options.strict_booleans = true;
            options
        })
        && matches!(value, Value::Number(_) | Value::Bool(_) | Value::Null)
    {
        return value;
    }
    Value::String(text.to_owned())
}

/// A field path's steps, split as Kustomize's `SmarterPathSplitter` splits it: on dots,
/// except an escaped one (`a\.b`) or one inside brackets. Brackets holding `=` select a
/// list element (`[name=a.b]`) and stay; brackets around a key with dots in it
/// (`[cert-manager.io/inject-ca-from]`) are only quoting, and go. An empty step (a leading
/// dot, as kubebuilder writes `.metadata.namespace`) is none; `a[name=x]` is `a`,
/// `[name=x]`.
fn segments(path: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for piece in path.split('.') {
        match pieces.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => pieces.push(piece.to_owned()),
        }
    }
    let mut out = Vec::new();
    let mut pieces = pieces.into_iter();
    while let Some(piece) = pieces.next() {
        if piece.starts_with('[') && !piece.ends_with(']') {
            let mut bracketed = piece;
            for next in pieces.by_ref() {
                bracketed.push('.');
                bracketed.push_str(&next);
                if next.ends_with(']') {
                    break;
                }
            }
            if bracketed.contains('=') {
                out.push(bracketed);
            } else {
                out.push(bracketed.trim_matches(['[', ']']).to_owned());
            }
            continue;
        }
        match piece.find('[') {
            Some(at) if at > 0 && piece.ends_with(']') => {
                out.push(piece[..at].to_owned());
                out.push(piece[at..].to_owned());
            }
            _ if piece.is_empty() => {}
            _ => out.push(piece),
        }
    }
    out
}

fn lookup(node: &Value, path: &[String], found: &mut Vec<Value>) {
    let Some((first, rest)) = path.split_first() else {
        found.push(node.clone());
        return;
    };
    match (node, element_filter(first)) {
        (Value::Array(items), Some((key, value))) => {
            for item in items
                .iter()
                .filter(|i| i.get(key).and_then(Value::as_str) == Some(value))
            {
                lookup(item, rest, found);
            }
        }
        (Value::Array(items), None) if first == "*" => {
            items.iter().for_each(|i| lookup(i, rest, found))
        }
        (Value::Array(items), None) => {
            if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                lookup(item, rest, found);
            }
        }
        (Value::Object(map), None) if first == "*" => {
            map.values().for_each(|v| lookup(v, rest, found))
        }
        (Value::Object(map), None) => {
            if let Some(child) = map.get(first.as_str()) {
                lookup(child, rest, found);
            }
        }
        _ => {}
    }
}

fn element_filter(segment: &str) -> Option<(&str, &str)> {
    segment
        .strip_prefix('[')?
        .strip_suffix(']')?
        .split_once('=')
}

/// Sets `value` at `path`; `Ok(false)` when the path is missing and may not be created.
fn set(
    node: &mut Value,
    path: &[String],
    value: &Value,
    options: &ReplacementOptions,
    copied: &mut Copied,
) -> Result<bool, BuildError> {
    let Some((first, rest)) = path.split_first() else {
        copied.take()?;
        if options.delimiter.is_empty() {
            *node = value.clone();
        } else {
            let current = node.as_str().unwrap_or("").to_owned();
            let mut parts: Vec<String> = current
                .split(options.delimiter.as_str())
                .map(str::to_owned)
                .collect();
            let replacement = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if options.index < 0 {
                parts.insert(0, replacement);
            } else if options.index as usize >= parts.len() {
                parts.push(replacement);
            } else {
                parts[options.index as usize] = replacement;
            }
            *node = resolve_plain(&parts.join(&options.delimiter));
        }
        return Ok(true);
    };
    match (node, element_filter(first)) {
        (Value::Array(items), Some((key, wanted))) => {
            let mut any = false;
            for item in items
                .iter_mut()
                .filter(|i| i.get(key).and_then(Value::as_str) == Some(wanted))
            {
                any |= set(item, rest, value, options, copied)?;
            }
            Ok(any)
        }
        (Value::Array(items), None) if first == "*" => {
            let mut any = false;
            for item in items.iter_mut() {
                any |= set(item, rest, value, options, copied)?;
            }
            Ok(any)
        }
        (Value::Array(items), None) => {
            match first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) => set(item, rest, value, options, copied),
                None => Ok(false),
            }
        }
        (Value::Object(map), None) => {
            if !map.contains_key(first.as_str()) {
                if !options.create {
                    return Ok(false);
                }
                let fresh = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                map.insert(first.clone(), fresh);
            }
            let child = map.get_mut(first.as_str()).expect("inserted above");
            if child.is_null() && !rest.is_empty() && options.create {
                *child = Value::Object(Map::new());
            }
            set(child, rest, value, options, copied)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_split_on_dots_outside_brackets() {
        assert_eq!(
            segments("spec.containers.[name=a.b].image"),
            ["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(
            segments("spec.containers[name=x].env"),
            ["spec", "containers", "[name=x]", "env"]
        );
    }

    #[test]
    fn brackets_around_a_dotted_key_only_quote_it() {
        assert_eq!(
            segments(".metadata.annotations.[cert-manager.io/inject-ca-from]"),
            ["metadata", "annotations", "cert-manager.io/inject-ca-from"]
        );
        assert_eq!(
            segments("metadata.labels.app\\.kubernetes\\.io/name"),
            ["metadata", "labels", "app.kubernetes.io/name"]
        );
        // Without a dot inside, Kustomize keeps the brackets (and refuses the step).
        assert_eq!(
            segments("metadata.labels.[app]"),
            ["metadata", "labels", "[app]"]
        );
    }
}
