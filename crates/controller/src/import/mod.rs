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

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use application_set::{ImportedSet, import_sets};

use crate::application::{
    Application, ApplicationSpec, Automated, Decryption, Dependency, DestinationSpec,
    DirectorySpec, HelmParameter, HelmSpec, LocalRef, NamespaceMetadata, SourceSpec, SyncPolicy,
};

/// One converted resource and what could not be carried over.
#[derive(Debug)]
pub struct Imported {
    /// The plumb Application.
    pub application: Application,
    /// Fields with no plumb equivalent, each naming the source object and what to do.
    pub warnings: Vec<String>,
}

/// Converts every Argo CD Application and Flux Kustomization among `documents` (Flux
/// GitRepositories are read for the Kustomizations that name them, ApplicationSets are
/// [`import_sets`]' to convert; other kinds are skipped with a warning). `namespace` is where the Applications go; without it, an Argo
/// CD Application goes to its destination namespace and a Flux Kustomization stays in its
/// own.
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
            ("argoproj.io", "Application") => imported.push(argo_cd(document, namespace)),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                imported.push(flux(document, &repositories, namespace));
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

fn argo_cd(app: &Value, namespace: Option<&str>) -> Imported {
    let mut warn = Warnings::new(format!("Argo CD Application {}", name(app)));
    let spec = &app["spec"];
    let source = match (&spec["source"], spec["sources"].as_array()) {
        (Value::Object(_), _) => &spec["source"],
        (_, Some(sources)) if !sources.is_empty() => {
            if sources.len() > 1 {
                warn.field(
                    "spec.sources",
                    "only the first source is imported: make one Application per source",
                );
            }
            &sources[0]
        }
        _ => &Value::Null,
    };
    let revision = match text(&source["targetRevision"]) {
        "" | "HEAD" => String::new(),
        revision => revision.to_owned(),
    };
    let helm = source["helm"]
        .as_object()
        .map(|helm| argo_helm(helm, &mut warn));
    if let Some(kustomize) = source["kustomize"].as_object() {
        for field in kustomize.keys() {
            warn.field(
                &format!("spec.source.kustomize.{field}"),
                "write it in the overlay's kustomization.yaml",
            );
        }
    }
    let directory = source["directory"].as_object().map(|dir| {
        for field in ["jsonnet"] {
            if dir.contains_key(field) {
                warn.field(&format!("spec.source.directory.{field}"), "not supported");
            }
        }
        DirectorySpec {
            recurse: dir.get("recurse").and_then(Value::as_bool).unwrap_or(false),
            include: globs(dir.get("include")),
            exclude: globs(dir.get("exclude")),
        }
    });
    let destination = &spec["destination"];
    let server = text(&destination["server"]);
    let cluster = text(&destination["name"]);
    let remote_cluster = non_empty(cluster).filter(|name| name != "in-cluster");
    if remote_cluster.is_none()
        && !(server.is_empty() || server == "https://kubernetes.default.svc")
    {
        warn.field(
            "spec.destination.server",
            "plumb names clusters, not servers: register this one as a Secret labelled plumb.dev/cluster in plumb's namespace and name it in spec.destination.cluster",
        );
    }
    if !matches!(text(&spec["project"]), "" | "default") {
        warn.field(
            "spec.project",
            "bound what the namespace's apps may do with an AppPolicy in plumb's admin namespace",
        );
    }
    let sync = &spec["syncPolicy"];
    let mut policy = SyncPolicy::default();
    if let Some(automated) = sync["automated"].as_object() {
        policy.automated = Some(Automated {
            prune: automated
                .get("prune")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            self_heal: automated
                .get("selfHeal")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
        policy.allow_empty = automated
            .get("allowEmpty")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    for option in sync["syncOptions"].as_array().into_iter().flatten() {
        match text(option) {
            "CreateNamespace=true" => policy.create_namespace = true,
            "ServerSideApply=true" | "Validate=false" | "ApplyOutOfSyncOnly=true"
            | "PruneLast=true" | "RespectIgnoreDifferences=true" => {}
            other => warn.field(
                &format!("spec.syncPolicy.syncOptions {other}"),
                "no app-wide equivalent: set it per object with an annotation (see the README's table)",
            ),
        }
    }
    if let Some(metadata) = sync["managedNamespaceMetadata"].as_object() {
        policy.managed_namespace_metadata = Some(NamespaceMetadata {
            labels: strings(metadata.get("labels")),
            annotations: strings(metadata.get("annotations")),
        });
    }
    if let Some(limit) = sync["retry"]["limit"].as_i64() {
        policy.retry.limit = u32::try_from(limit.max(0)).unwrap_or(u32::MAX);
    }
    if sync["retry"]["backoff"].is_object() {
        warn.field(
            "spec.syncPolicy.retry.backoff",
            "plumb backs off exponentially by itself",
        );
    }
    let ignore_differences = spec["ignoreDifferences"]
        .as_array()
        .map(|rules| {
            serde_json::from_value(Value::Array(rules.clone())).unwrap_or_else(|err| {
                warn.field("spec.ignoreDifferences", &format!("not imported: {err}"));
                Vec::new()
            })
        })
        .unwrap_or_default();
    let destination_namespace = non_empty(text(&destination["namespace"]));
    let app_namespace = namespace
        .map(str::to_owned)
        .or_else(|| destination_namespace.clone())
        .unwrap_or_else(|| "default".into());
    let spec = ApplicationSpec {
        source: SourceSpec {
            repo_url: chart_repository(text(&source["repoURL"]), text(&source["chart"])),
            revision,
            path: non_empty(text(&source["path"])).unwrap_or_else(|| ".".into()),
            secret_ref: None,
            decryption: None,
            directory,
            helm,
            chart: text(&source["chart"]).to_owned(),
        },
        destination: DestinationSpec {
            cluster: remote_cluster,
            namespace: destination_namespace.filter(|ns| *ns != app_namespace),
            service_account_name: None,
        },
        sync_policy: policy,
        ignore_differences,
        ..ApplicationSpec::default()
    };
    warn.done(Application::new(&name(app), spec), app_namespace)
}

/// The repository URL as plumb reads it: Argo CD writes an OCI chart repository without a
/// scheme (`registry-1.docker.io/bitnamicharts`), plumb with `oci://`.
fn chart_repository(url: &str, chart: &str) -> String {
    if !chart.is_empty() && !url.contains("://") {
        return format!("oci://{url}");
    }
    url.to_owned()
}

/// Argo CD's `source.helm`: the same fields, except those plumb has no use for.
fn argo_helm(helm: &serde_json::Map<String, Value>, warn: &mut Warnings) -> HelmSpec {
    let mut values = text(helm.get("values").unwrap_or(&Value::Null)).to_owned();
    if let Some(object) = helm.get("valuesObject").filter(|v| v.is_object()) {
        // valuesObject wins over values in Argo CD; written as YAML it is the same input.
        values = serde_json::to_string_pretty(object).unwrap_or_default();
    }
    let parameters = helm
        .get("parameters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|p| HelmParameter {
                    name: text(&p["name"]).to_owned(),
                    value: text(&p["value"]).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    for field in [
        "fileParameters",
        "passCredentials",
        "version",
        "kubeVersion",
        "apiVersions",
        "namespace",
    ] {
        if helm.contains_key(field) {
            warn.field(
                &format!("spec.source.helm.{field}"),
                "not supported by plumb: left out",
            );
        }
    }
    HelmSpec {
        release_name: text(helm.get("releaseName").unwrap_or(&Value::Null)).to_owned(),
        value_files: strings_list(helm.get("valueFiles")),
        ignore_missing_value_files: helm
            .get("ignoreMissingValueFiles")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        values_from: Vec::new(),
        values,
        parameters,
        repositories: Vec::new(),
        skip_crds: helm
            .get("skipCrds")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn strings_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn flux(
    kustomization: &Value,
    repositories: &BTreeMap<(String, String), &Value>,
    namespace: Option<&str>,
) -> Imported {
    let mut warn = Warnings::new(format!("Flux Kustomization {}", name(kustomization)));
    let spec = &kustomization["spec"];
    let source_ref = &spec["sourceRef"];
    let source_namespace =
        non_empty(text(&source_ref["namespace"])).unwrap_or_else(|| own_namespace(kustomization));
    let repository = match text(&source_ref["kind"]) {
        "GitRepository" => repositories
            .get(&(source_namespace, text(&source_ref["name"]).to_owned()))
            .copied(),
        other => {
            warn.field(
                "spec.sourceRef",
                &format!(
                    "a {other} is not a Git repository: only GitRepository sources are imported"
                ),
            );
            None
        }
    };
    let mut source = SourceSpec {
        path: non_empty(text(&spec["path"]).trim_start_matches("./")).unwrap_or_else(|| ".".into()),
        ..SourceSpec::default()
    };
    match repository {
        Some(repository) => {
            let repo = &repository["spec"];
            source.repo_url = text(&repo["url"]).to_owned();
            let reference = &repo["ref"];
            source.revision = ["commit", "tag", "semver", "branch", "name"]
                .iter()
                .map(|key| text(&reference[*key]))
                .find(|value| !value.is_empty())
                .unwrap_or_default()
                .to_owned();
            source.secret_ref =
                non_empty(text(&repo["secretRef"]["name"])).map(|name| LocalRef { name });
            for field in [
                "verify",
                "ignore",
                "include",
                "recurseSubmodules",
                "proxySecretRef",
            ] {
                if !repo[field].is_null() {
                    warn.field(&format!("GitRepository spec.{field}"), "not imported");
                }
            }
        }
        None => warn.field(
            "spec.sourceRef",
            "its GitRepository is not among the documents: fill in spec.source.repoURL",
        ),
    }
    if let Some(decryption) = spec["decryption"].as_object() {
        source.decryption = Some(Decryption {
            provider: decryption
                .get("provider")
                .and_then(Value::as_str)
                .unwrap_or("sops")
                .to_owned(),
            secret_ref: LocalRef {
                name: decryption
                    .get("secretRef")
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
        });
    }
    let mut policy = SyncPolicy {
        // Flux applies every interval and corrects drift; pruning is its own switch.
        automated: Some(Automated {
            prune: spec["prune"].as_bool().unwrap_or(false),
            self_heal: true,
        }),
        ..SyncPolicy::default()
    };
    if let Some(interval) = non_empty(text(&spec["interval"])) {
        policy.interval = interval;
    }
    for (field, instead) in [
        (
            "patches",
            "write them in a kustomization.yaml in the repository",
        ),
        (
            "images",
            "write them in a kustomization.yaml in the repository",
        ),
        (
            "postBuild",
            "not supported: write the values in the repository",
        ),
        (
            "healthChecks",
            "plumb judges the health of every object it applies",
        ),
        (
            "components",
            "list them in a kustomization.yaml in the repository",
        ),
        (
            "kubeConfig",
            "register the cluster as a Secret labelled plumb.dev/cluster in plumb's namespace (its kubeconfig under the key kubeconfig) and name it in spec.destination.cluster",
        ),
        ("force", "annotate the objects plumb.dev/recreate: enabled"),
        (
            "commonMetadata",
            "write it in a kustomization.yaml in the repository",
        ),
        (
            "namePrefix",
            "write it in a kustomization.yaml in the repository",
        ),
        (
            "nameSuffix",
            "write it in a kustomization.yaml in the repository",
        ),
    ] {
        if !spec[field].is_null() && spec[field] != Value::Bool(false) {
            warn.field(&format!("spec.{field}"), instead);
        }
    }
    let depends_on = spec["dependsOn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| non_empty(text(&d["name"])))
        .map(|name| Dependency { name })
        .collect();
    let app_namespace = namespace
        .map(str::to_owned)
        .unwrap_or_else(|| own_namespace(kustomization));
    let spec = ApplicationSpec {
        source,
        destination: DestinationSpec {
            cluster: None,
            namespace: non_empty(text(&spec["targetNamespace"])),
            service_account_name: non_empty(text(&spec["serviceAccountName"])),
        },
        sync_policy: policy,
        depends_on,
        suspend: spec["suspend"].as_bool().unwrap_or(false),
        ..ApplicationSpec::default()
    };
    warn.done(Application::new(&name(kustomization), spec), app_namespace)
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
