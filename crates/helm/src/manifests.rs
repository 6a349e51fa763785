//! Rendered files into documents, as Helm's `releaseutil` splits and orders them: split on
//! `---` lines, empty documents dropped, hooks (`helm.sh/hook`) set apart, everything else
//! stably sorted by Helm's install order of kinds (unknown kinds last, alphabetically).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::head;

/// One rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The template (or `crds/` file) it came from: `chart/templates/x.yaml`.
    pub source: String,
    /// The document's text, as the template wrote it (leading whitespace dropped).
    pub content: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
    /// Hook events (`pre-install`, `test`…) when it is a hook.
    pub hook_events: Vec<String>,
}

impl Manifest {
    pub(crate) fn crd(source: String, content: String) -> Manifest {
        Manifest {
            source,
            content,
            kind: "CustomResourceDefinition".into(),
            name: String::new(),
            hook_events: vec![],
        }
    }

    /// A `helm test` hook.
    pub fn is_test_hook(&self) -> bool {
        self.hook_events
            .iter()
            .any(|e| e == "test" || e == "test-success")
    }
}

/// Helm's `InstallOrder`.
const INSTALL_ORDER: [&str; 38] = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: [&str; 10] = [
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

#[derive(Deserialize, Default)]
struct Head {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Option<HeadMetadata>,
}

#[derive(Deserialize, Default)]
struct HeadMetadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// A document's head: line by line when it is plain block YAML, else from the parser's
/// events, else through serde where those do not settle it.
fn read_head(doc: &str) -> std::result::Result<head::Head, String> {
    if let Some(head) = crate::head_lines::read(doc) {
        return Ok(head);
    }
    if let Some(head) = head::read(doc)? {
        return Ok(head);
    }
    let head: Head =
        serde_saphyr::from_str_with_options(doc, plumb_manifest::yaml_reading_options())
            .map_err(|e| e.to_string())?;
    let metadata = head.metadata.unwrap_or_default();
    Ok(head::Head {
        kind: head.kind,
        name: metadata.name,
        hook: metadata
            .annotations
            .and_then(|mut a| a.remove("helm.sh/hook")),
    })
}

/// Splits and orders rendered files (by template path) into manifests and hooks.
pub(crate) fn sort(files: &BTreeMap<String, String>) -> Result<(Vec<Manifest>, Vec<Manifest>)> {
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split(content) {
            // Read as go-yaml reads it; the document itself is printed as rendered.
            let yaml = crate::yaml_breaks::as_go_yaml_reads(&doc);
            let only_comments = yaml
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
            let head = if only_comments {
                head::Head::default()
            } else {
                read_head(&yaml).map_err(|message| Error::Output {
                    path: path.clone(),
                    message,
                })?
            };
            let mut manifest = Manifest {
                source: path.clone(),
                content: doc,
                kind: head.kind,
                name: head.name,
                hook_events: vec![],
            };
            match head.hook {
                None => generic.push(manifest),
                Some(events) => {
                    let events: Vec<String> =
                        events.split(',').map(|e| e.trim().to_lowercase()).collect();
                    if events.iter().all(|e| HOOK_EVENTS.contains(&e.as_str())) {
                        manifest.hook_events = events;
                        hooks.push(manifest);
                    }
                }
            }
        }
    }
    sort_by_kind(&mut generic);
    sort_by_kind(&mut hooks);
    Ok((generic, hooks))
}

/// Helm 4's `releaseutil.SplitManifests`: a line starting `---` separates documents; each
/// keeps its trailing newlines (they show in `helm template`'s output) and loses its leading
/// whitespace.
fn split(content: &str) -> Vec<String> {
    static SEPARATOR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let separator =
        SEPARATOR.get_or_init(|| regex::Regex::new(r"(?m)^---[ \t]*").expect("a valid pattern"));
    separator
        .split(content.trim_start())
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

fn sort_by_kind(manifests: &mut [Manifest]) {
    let rank = |kind: &str| INSTALL_ORDER.iter().position(|k| *k == kind);
    manifests.sort_by(|a, b| match (rank(&a.kind), rank(&b.kind)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kind.cmp(&b.kind),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_separator_lines() {
        assert_eq!(
            split("a: 1\n---\nb: 2\n---   \n\nc: 3\n"),
            ["a: 1\n", "b: 2\n", "c: 3\n"]
        );
        assert_eq!(split("a: 1\n---\n---\nb: 2"), ["a: 1\n", "b: 2"]);
        assert_eq!(split("---\na: 1"), ["a: 1"]);
        // A line that merely starts with `---` splits too, as in Helm 4.
        assert_eq!(split("a: 1\n---b: 2"), ["a: 1\n", "b: 2"]);
        assert_eq!(split("a: '---x'\nb: ---"), ["a: '---x'\nb: ---"]);
    }

    #[test]
    fn kinds_in_install_order_and_hooks_apart() {
        let mut files = BTreeMap::new();
        files.insert("c/templates/a.yaml".to_string(), "kind: Deployment\nmetadata:\n  name: d\n---\nkind: Zed\n---\nkind: Service\nmetadata:\n  name: s\n".to_string());
        files.insert(
            "c/templates/b.yaml".to_string(),
            "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: ConfigMap\nmetadata:\n  name: c\n".to_string(),
        );
        let (manifests, hooks) = sort(&files).unwrap();
        let kinds: Vec<&str> = manifests.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["ConfigMap", "Service", "Deployment", "Zed"]);
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].hook_events, ["pre-install"]);
    }
}
