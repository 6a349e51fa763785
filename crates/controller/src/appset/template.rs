//! The template: a set of parameters → an Application. Every string of the template may
//! name parameters as `{{name}}` (spaces inside the braces allowed); a name no generator
//! gives is left as written, as Argo CD leaves it — Helm values in a template may hold
//! `{{ .Values.x }}` meant for the chart.

use serde_json::{Value, json};

use super::generate::Params;
use super::spec::{ApplicationSet, ApplicationTemplate};
use crate::application::Application;

/// The label every generated Application carries: the name of its ApplicationSet.
pub const SET_LABEL: &str = "plumb.dev/application-set";

/// The Application `template` makes for `params`, owned by `set`, in its namespace.
pub(crate) fn application(
    set: &ApplicationSet,
    template: &ApplicationTemplate,
    params: &Params,
) -> Result<Application, String> {
    let mut value = serde_json::to_value(template).map_err(|e| e.to_string())?;
    substitute(&mut value, params);
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !is_name(&name) {
        let given: Vec<&str> = params.keys().map(String::as_str).collect();
        return Err(format!(
            "template.metadata.name makes {name:?}, not a valid name (lower-case letters, digits and '-', up to 63) — its generators give: {}",
            given.join(", ")
        ));
    }
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let mut labels = value["metadata"]["labels"].take();
    if !labels.is_object() {
        labels = json!({});
    }
    labels[SET_LABEL] = json!(set_name);
    let mut metadata = json!({
        "name": name,
        "namespace": set.metadata.namespace,
        "labels": labels,
        "ownerReferences": [{
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "ApplicationSet",
            "name": set_name,
            "uid": set.metadata.uid,
            "controller": true,
        }],
    });
    for field in ["annotations", "finalizers"] {
        let taken = value["metadata"][field].take();
        if !taken.is_null() {
            metadata[field] = taken;
        }
    }
    let app = json!({
        "apiVersion": "plumb.dev/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": value["spec"].take(),
    });
    serde_json::from_value(app).map_err(|e| format!("the template for {name}: {e}"))
}

fn substitute(value: &mut Value, params: &Params) {
    match value {
        Value::String(text) if text.contains("{{") => *text = replace(text, params),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, params)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, params)),
        _ => {}
    }
}

/// `text` with each `{{name}}` of a given parameter replaced by its value.
pub(crate) fn replace(text: &str, params: &Params) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        match params.get(after[..close].trim()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// An RFC 1123 label: what an Application's name must be to serve as its inventory's and
/// label's name too.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> ApplicationSet {
        serde_json::from_value(json!({
            "apiVersion": "plumb.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "apps", "namespace": "team", "uid": "1234"},
            "spec": {
                "generators": [],
                "template": {
                    "metadata": {"name": "{{path.basename}}-{{ env }}", "labels": {"team": "{{team}}"}},
                    "spec": {
                        "source": {"repoURL": "https://git.example/deploy.git", "path": "{{path}}",
                                   "helm": {"values": "name: {{ .Release.Name }}"}},
                        "destination": {"namespace": "{{path.basename}}-{{env}}"}
                    }
                }
            }
        }))
        .unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parameters_fill_every_string_and_the_app_is_owned_by_its_set() {
        let set = set();
        let given = params(&[
            ("path", "apps/web"),
            ("path.basename", "web"),
            ("env", "prod"),
            ("team", "shop"),
        ]);
        let app = application(&set, &set.spec.template, &given).unwrap();
        assert_eq!(app.metadata.name.as_deref(), Some("web-prod"));
        assert_eq!(app.metadata.namespace.as_deref(), Some("team"));
        let labels = app.metadata.labels.clone().unwrap();
        assert_eq!(labels["team"], "shop");
        assert_eq!(labels[SET_LABEL], "apps");
        let owner = &app.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("ApplicationSet", "1234")
        );
        assert_eq!(app.spec.source.path, "apps/web");
        assert_eq!(app.spec.destination.namespace.as_deref(), Some("web-prod"));
        // Not a parameter: left for the chart.
        let helm = app.spec.source.helm.as_ref().unwrap();
        assert_eq!(helm.values, "name: {{ .Release.Name }}");
    }

    #[test]
    fn a_name_that_is_not_one_says_which_parameters_there_are() {
        let set = set();
        let err =
            application(&set, &set.spec.template, &params(&[("path", "apps/web")])).unwrap_err();
        assert!(err.contains("\"{{path.basename}}-{{ env }}\""), "{err}");
        assert!(err.contains("its generators give: path"), "{err}");
    }

    #[test]
    fn unclosed_braces_stay_as_written() {
        assert_eq!(replace("a {{b", &params(&[("b", "x")])), "a {{b");
        assert_eq!(replace("{{b}}{{b}}", &params(&[("b", "x")])), "xx");
    }
}
