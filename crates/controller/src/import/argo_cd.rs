//! An Argo CD Application as a plumb Application: source (Git, Helm, directory options),
//! destination, sync policy and options; what has no equivalent is warned of.

use serde_json::Value;

use super::{Imported, Warnings, globs, name, non_empty, strings, text};
use crate::application::{
    Application, ApplicationSpec, Automated, DestinationSpec, DirectorySpec, HelmParameter,
    HelmSpec, NamespaceMetadata, SourceSpec, SyncPolicy,
};

pub(super) fn argo_cd(app: &Value, namespace: Option<&str>) -> Imported {
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
