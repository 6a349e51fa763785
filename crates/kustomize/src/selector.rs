//! Target selectors of patches and replacements: regular expressions on group, version,
//! kind, name and namespace (anchored, as Kustomize anchors them), plus Kubernetes label
//! and annotation selectors.

use regex::Regex;
use serde_json::{Map, Value};

use super::BuildError;
use super::kustomization::Selector;
use super::resource::Resource;

/// A compiled selector.
pub(crate) struct Compiled {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

fn anchored(pattern: &str) -> Result<Option<Regex>, BuildError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|err| BuildError::new(format!("invalid selector pattern {pattern:?}: {err}")))
}

impl Compiled {
    pub(crate) fn new(selector: &Selector) -> Result<Self, BuildError> {
        Ok(Compiled {
            group: anchored(&selector.group)?,
            version: anchored(&selector.version)?,
            kind: anchored(&selector.kind)?,
            name: anchored(&selector.name)?,
            namespace: anchored(&selector.namespace)?,
            labels: parse_requirements(&selector.label_selector)?,
            annotations: parse_requirements(&selector.annotation_selector)?,
        })
    }

    /// Whether `resource` is selected: by original or current name and namespace.
    pub(crate) fn matches(&self, resource: &Resource) -> bool {
        let current = resource.cur_id();
        let original = resource.org_id();
        let hit = |regex: &Option<Regex>, a: &str, b: &str| {
            regex
                .as_ref()
                .is_none_or(|r| r.is_match(a) || r.is_match(b))
        };
        hit(
            &self.namespace,
            original.effective_namespace(),
            current.effective_namespace(),
        ) && hit(&self.name, &original.name, &current.name)
            && hit(&self.group, &current.group, &current.group)
            && hit(&self.version, &current.version, &current.version)
            && hit(&self.kind, &current.kind, &current.kind)
            && self
                .labels
                .iter()
                .all(|r| r.matches(&resource.string_map("labels")))
            && self
                .annotations
                .iter()
                .all(|r| r.matches(&resource.string_map("annotations")))
    }
}

/// One requirement of a label selector.
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        match self {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, values) => get(k).is_some_and(|v| values.iter().any(|x| x == v)),
            Requirement::NotIn(k, values) => get(k).is_none_or(|v| !values.iter().any(|x| x == v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        }
    }
}

/// Splits at commas outside parentheses.
fn split_top(selector: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts
}

fn parse_requirements(selector: &str) -> Result<Vec<Requirement>, BuildError> {
    let mut requirements = Vec::new();
    if selector.trim().is_empty() {
        return Ok(requirements);
    }
    let invalid = || BuildError::new(format!("invalid label selector {selector:?}"));
    for part in split_top(selector) {
        let part = part.trim();
        if part.is_empty() {
            return Err(invalid());
        }
        let set = |rest: &str| -> Option<Vec<String>> {
            let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
            Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
        };
        let requirement = if let Some(key) = part.strip_prefix('!') {
            Requirement::NotExists(key.trim().to_owned())
        } else if let Some((key, value)) = part.split_once("!=") {
            Requirement::NotEquals(key.trim().to_owned(), value.trim().to_owned())
        } else if let Some((key, value)) = part.split_once("==") {
            Requirement::Equals(key.trim().to_owned(), value.trim().to_owned())
        } else if let Some((key, value)) = part.split_once('=') {
            Requirement::Equals(key.trim().to_owned(), value.trim().to_owned())
        } else if let Some((key, rest)) = part.split_once(" notin ") {
            Requirement::NotIn(key.trim().to_owned(), set(rest).ok_or_else(invalid)?)
        } else if let Some((key, rest)) = part.split_once(" in ") {
            Requirement::In(key.trim().to_owned(), set(rest).ok_or_else(invalid)?)
        } else {
            Requirement::Exists(part.to_owned())
        };
        requirements.push(requirement);
    }
    Ok(requirements)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_selectors_cover_equality_sets_and_existence() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object().unwrap();
        let all = |s: &str| {
            parse_requirements(s)
                .unwrap()
                .iter()
                .all(|r| r.matches(labels))
        };
        assert!(all("app=web,tier"));
        assert!(all("app in (api, web),!missing"));
        assert!(!all("app notin (web)"));
        assert!(!all("tier!=front"));
    }
}
