//! A Flux Kustomization, with the GitRepository it names, as a plumb Application.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Imported, Warnings, name, non_empty, own_namespace, text};
use crate::application::{
    Application, ApplicationSpec, Automated, Decryption, Dependency, DestinationSpec, LocalRef,
    SourceSpec, SyncPolicy,
};

pub(super) fn flux(
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
