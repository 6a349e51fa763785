//! Argo CD Applications and ApplicationSets, and Flux Kustomizations (with their
//! GitRepositories), as plumb Applications and ApplicationSets — what `plumb import`
//! prints, so a team moves by committing the output.
//!
//! ```text
//!  documents ─┬▶ argoproj.io Application ──────────────────────────────▶ Application + warnings
//!             ├▶ argoproj.io ApplicationSet ───────(its template as above)─▶ ApplicationSet + warnings
//!             └▶ kustomize.toolkit.fluxcd.io Kustomization ─(sourceRef)─▶ GitRepository ─┘
//! ```
//!
//! A field with no plumb equivalent is never dropped silently: each becomes a warning
//! naming the source object, the field and what to do instead.

mod application_set;
mod argo_cd;
mod flux;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use application_set::{ImportedSet, import_sets};

use crate::application::Application;

/// One converted resource and what could not be carried over.
#[derive(Debug)]
pub struct Imported {
    /// The plumb Application.
    pub application: Application,
    /// Fields with no plumb equivalent, each naming the source object and what to do.
    pub warnings: Vec<String>,
}

/// Converts every Argo CD Application and Flux Kustomization among `documents` (Flux
/// GitRepositories are read for the Kustomizations that name them; ApplicationSets are
/// left to [`import_sets`]; other kinds are skipped with a warning). `namespace` is where
/// the Applications go; without it, an Argo CD Application goes to its destination
/// namespace and a Flux Kustomization stays in its own.
pub fn import(documents: &[Value], namespace: Option<&str>) -> (Vec<Imported>, Vec<String>) {
    let repositories: BTreeMap<(String, String), &Value> = documents
        .iter()
        .filter(|d| kind(d) == ("source.toolkit.fluxcd.io", "GitRepository"))
        .map(|d| ((own_namespace(d), name(d)), d))
        .collect();
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    for document in documents {
        match kind(document) {
            ("argoproj.io", "Application") => imported.push(argo_cd::argo_cd(document, namespace)),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                imported.push(flux::flux(document, &repositories, namespace));
            }
            ("source.toolkit.fluxcd.io", "GitRepository") | ("argoproj.io", "ApplicationSet") => {}
            (group, kind) => skipped.push(format!(
                "{kind} {} ({group}) is not an Argo CD Application or a Flux Kustomization: skipped",
                name(document)
            )),
        }
    }
    (imported, skipped)
}

/// The warnings of one source object.
struct Warnings {
    of: String,
    found: Vec<String>,
}

impl Warnings {
    fn new(of: String) -> Self {
        Warnings {
            of,
            found: Vec::new(),
        }
    }

    fn field(&mut self, field: &str, instead: &str) {
        self.found.push(format!(
            "{}: {field} has no plumb equivalent; {instead}",
            self.of
        ));
    }

    fn done(self, mut application: Application, namespace: String) -> Imported {
        application.metadata.namespace = Some(namespace);
        Imported {
            application,
            warnings: self.found,
        }
    }
}

fn kind(document: &Value) -> (&str, &str) {
    let group = text(&document["apiVersion"])
        .rsplit_once('/')
        .map_or("", |(g, _)| g);
    (group, text(&document["kind"]))
}

fn name(document: &Value) -> String {
    text(&document["metadata"]["name"]).to_owned()
}

fn own_namespace(document: &Value) -> String {
    non_empty(text(&document["metadata"]["namespace"])).unwrap_or_else(|| "default".into())
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Argo CD writes include/exclude as one glob or `{a,b}`; plumb takes a list.
fn globs(value: Option<&Value>) -> Vec<String> {
    match value.and_then(Value::as_str) {
        None | Some("") => Vec::new(),
        Some(glob) => match glob.strip_prefix('{').and_then(|g| g.strip_suffix('}')) {
            Some(list) => list.split(',').map(str::to_owned).collect(),
            None => vec![glob.to_owned()],
        },
    }
}

fn strings(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map: &Map<String, Value>| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_argo_cd_application_keeps_its_source_policy_and_namespace_options() {
        let app = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                           "targetRevision": "HEAD", "path": "guestbook",
                           "directory": {"recurse": true, "exclude": "{config.yaml,*.md}"}},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true},
                               "syncOptions": ["CreateNamespace=true", "PrunePropagationPolicy=orphan"],
                               "retry": {"limit": 5, "backoff": {"duration": "5s"}}},
                "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
            },
        });
        let (imported, skipped) = import(&[app], None);
        assert!(skipped.is_empty());
        let Imported {
            application,
            warnings,
        } = &imported[0];
        assert_eq!(application.metadata.namespace.as_deref(), Some("guestbook"));
        let spec = &application.spec;
        assert_eq!(
            spec.source.repo_url,
            "https://github.com/argoproj/argocd-example-apps.git"
        );
        assert_eq!(spec.source.revision, "", "HEAD is the default branch");
        assert_eq!(spec.source.path, "guestbook");
        let directory = spec.source.directory.as_ref().unwrap();
        assert!(directory.recurse);
        assert_eq!(directory.exclude, ["config.yaml", "*.md"]);
        assert_eq!(spec.destination.namespace, None, "the app's own namespace");
        let automated = spec.sync_policy.automated.as_ref().unwrap();
        assert!(automated.prune && automated.self_heal);
        assert!(spec.sync_policy.create_namespace);
        assert_eq!(spec.sync_policy.retry.limit, 5);
        assert_eq!(spec.ignore_differences.len(), 1);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("PrunePropagationPolicy=orphan"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("retry.backoff"), "{warnings:?}");
    }

    #[test]
    fn a_flux_kustomization_takes_its_repository_from_its_git_repository() {
        let repository = json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "flux-system", "namespace": "flux-system"},
            "spec": {"url": "ssh://git@github.com/acme/fleet", "ref": {"branch": "main"},
                     "secretRef": {"name": "flux-system"}, "interval": "1m"},
        });
        let kustomization = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"interval": "10m", "path": "./apps/production", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                     "dependsOn": [{"name": "infra-configs"}], "targetNamespace": "shop",
                     "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}},
                     "postBuild": {"substitute": {"cluster": "prod"}}},
        });
        let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        let (imported, skipped) = import(&[repository, kustomization, other], Some("team-a"));
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        let Imported {
            application,
            warnings,
        } = &imported[0];
        assert_eq!(application.metadata.namespace.as_deref(), Some("team-a"));
        let spec = &application.spec;
        assert_eq!(spec.source.repo_url, "ssh://git@github.com/acme/fleet");
        assert_eq!(spec.source.revision, "main");
        assert_eq!(spec.source.path, "apps/production");
        assert_eq!(spec.source.secret_ref.as_ref().unwrap().name, "flux-system");
        assert_eq!(
            spec.source.decryption.as_ref().unwrap().secret_ref.name,
            "sops-age"
        );
        assert_eq!(spec.destination.namespace.as_deref(), Some("shop"));
        assert_eq!(spec.sync_policy.interval, "10m");
        assert!(spec.sync_policy.automated.as_ref().unwrap().prune);
        assert_eq!(spec.depends_on[0].name, "infra-configs");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("spec.postBuild"));
    }
}
