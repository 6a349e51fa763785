//! Argo CD ApplicationSets as plumb ApplicationSets: the generators plumb has (list, Git
//! directories and files, clusters, a matrix of two), and the template through the same
//! conversion as an Argo CD Application.

use serde_json::{Value, json};

use super::argo_cd::argo_cd;
use super::{Warnings, name, own_namespace, text};
use crate::appset::{
    ApplicationSet, ApplicationSetSpec, ApplicationTemplate, ClustersGenerator, DirectoryMatch,
    FileMatch, Generator, GitGenerator, ListGenerator, MatrixGenerator, NestedGenerator,
    SetSyncPolicy, TemplateMetadata,
};

/// Argo CD's finalizer that deletes an app's objects with it, and plumb's.
const ARGO_RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// One converted ApplicationSet and what could not be carried over.
#[derive(Debug)]
pub struct ImportedSet {
    /// The plumb ApplicationSet.
    pub set: ApplicationSet,
    /// Fields with no plumb equivalent, each naming the source object and what to do.
    pub warnings: Vec<String>,
}

/// Converts every Argo CD ApplicationSet among `documents`; it goes to `namespace`, else
/// stays in its own (Argo CD keeps them in `argocd`: pass the team's namespace).
pub fn import_sets(documents: &[Value], namespace: Option<&str>) -> Vec<ImportedSet> {
    documents
        .iter()
        .filter(|d| super::kind(d) == ("argoproj.io", "ApplicationSet"))
        .map(|d| convert(d, namespace))
        .collect()
}

fn convert(set: &Value, namespace: Option<&str>) -> ImportedSet {
    let mut warn = Warnings::new(format!("Argo CD ApplicationSet {}", name(set)));
    let spec = &set["spec"];
    let namespace = namespace.map_or_else(|| own_namespace(set), str::to_owned);
    let mut template = spec["template"].clone();
    if spec["goTemplate"].as_bool() == Some(true) {
        go_template_to_parameters(&mut template, &mut warn);
    }
    for field in [
        "templatePatch",
        "strategy",
        "ignoreApplicationDifferences",
        "preservedFields",
    ] {
        if !spec[field].is_null() {
            warn.field(&format!("spec.{field}"), "not supported: left out");
        }
    }
    let generators = spec["generators"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, g)| generator(g, &format!("spec.generators[{index}]"), &mut warn))
        .collect();

    // The template is an Application in all but name: converted as one.
    let app = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": text(&template["metadata"]["name"]), "namespace": namespace},
        "spec": template["spec"].clone(),
    });
    let converted = argo_cd(&app, Some(&namespace));
    for warning in converted.warnings {
        warn.found.push(format!(
            "{}: in its template: {}",
            warn.of,
            warning
                .split_once(": ")
                .map_or(warning.as_str(), |(_, w)| w)
        ));
    }
    let metadata = &template["metadata"];
    let finalizers = metadata["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| match text(f) {
            ARGO_RESOURCES_FINALIZER => crate::application::PRUNE_ON_DELETE.to_owned(),
            other => other.to_owned(),
        })
        .collect();
    let sync = &spec["syncPolicy"];
    // create-only and create-update never delete what they made.
    let prune = !matches!(
        text(&sync["applicationsSync"]),
        "create-only" | "create-update"
    );
    if sync["preserveResourcesOnDeletion"].as_bool() == Some(true) {
        warn.field(
            "spec.syncPolicy.preserveResourcesOnDeletion",
            "generated apps keep their objects unless the template adds the plumb.dev/prune-on-delete finalizer; leave it out",
        );
    }
    let spec = ApplicationSetSpec {
        generators,
        template: ApplicationTemplate {
            metadata: TemplateMetadata {
                name: text(&metadata["name"]).to_owned(),
                labels: super::strings(metadata.get("labels")),
                annotations: super::strings(metadata.get("annotations")),
                finalizers,
            },
            spec: converted.application.spec,
        },
        sync_policy: SetSyncPolicy { prune },
        interval: String::new(),
    };
    let mut converted = ApplicationSet::new(&name(set), spec);
    converted.metadata.namespace = Some(namespace);
    ImportedSet {
        set: converted,
        warnings: warn.found,
    }
}

fn generator(g: &Value, at: &str, warn: &mut Warnings) -> Option<Generator> {
    if let Some(matrix) = g.get("matrix") {
        let inner: Vec<NestedGenerator> = matrix["generators"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, inner)| {
                let at = format!("{at}.matrix.generators[{index}]");
                let one = generator(inner, &at, warn)?;
                if one.matrix.is_some() {
                    warn.field(&at, "a matrix inside a matrix is not supported: left out");
                    return None;
                }
                Some(NestedGenerator {
                    list: one.list,
                    git: one.git,
                    clusters: one.clusters,
                })
            })
            .collect();
        return Some(Generator {
            matrix: Some(MatrixGenerator { generators: inner }),
            ..Generator::default()
        });
    }
    if let Some(list) = g.get("list") {
        if !list["elementsYaml"].is_null() {
            warn.field(
                &format!("{at}.list.elementsYaml"),
                "write the elements out in elements",
            );
        }
        return Some(Generator {
            list: Some(ListGenerator {
                elements: list["elements"].as_array().cloned().unwrap_or_default(),
            }),
            ..Generator::default()
        });
    }
    if let Some(git) = g.get("git") {
        for field in [
            "pathParamPrefix",
            "values",
            "requeueAfterSeconds",
            "template",
        ] {
            if !git[field].is_null() {
                warn.field(&format!("{at}.git.{field}"), "not supported: left out");
            }
        }
        let revision = match text(&git["revision"]) {
            "HEAD" => "",
            other => other,
        };
        return Some(Generator {
            git: Some(GitGenerator {
                repo_url: text(&git["repoURL"]).to_owned(),
                revision: revision.to_owned(),
                directories: git["directories"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| DirectoryMatch {
                        path: text(&d["path"]).to_owned(),
                        exclude: d["exclude"].as_bool().unwrap_or(false),
                    })
                    .collect(),
                files: git["files"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| FileMatch {
                        path: text(&f["path"]).to_owned(),
                    })
                    .collect(),
                secret_ref: None,
            }),
            ..Generator::default()
        });
    }
    if let Some(clusters) = g.get("clusters") {
        if !clusters["selector"]["matchExpressions"].is_null() {
            warn.field(
                &format!("{at}.clusters.selector.matchExpressions"),
                "only matchLabels is supported: left out",
            );
        }
        if !clusters["values"].is_null() {
            warn.field(&format!("{at}.clusters.values"), "not supported: left out");
        }
        return Some(Generator {
            clusters: Some(ClustersGenerator {
                match_labels: super::strings(clusters["selector"].get("matchLabels")),
            }),
            ..Generator::default()
        });
    }
    let kind = g
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .unwrap_or_default();
    warn.field(
        &format!("{at}.{kind}"),
        "plumb generates from lists, Git folders and files, clusters and matrices: this generator is left out",
    );
    None
}

/// Go template actions that only name a parameter (`{{ .path.basename }}`, `{{.path.path}}`,
/// `{{index .path.segments 1}}`) become plumb's `{{path.basename}}`, `{{path}}`, `{{path[1]}}`; any
/// other action is left as written, with a warning.
fn go_template_to_parameters(value: &mut Value, warn: &mut Warnings) {
    match value {
        Value::String(text) if text.contains("{{") => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(open) = rest.find("{{") {
                out.push_str(&rest[..open]);
                let after = &rest[open + 2..];
                let Some(close) = after.find("}}") else {
                    out.push_str(&rest[open..]);
                    rest = "";
                    break;
                };
                let action = after[..close].trim_matches(|c| c == '-' || c == ' ');
                match parameter(action) {
                    Some(name) => out.push_str(&format!("{{{{{name}}}}}")),
                    None => {
                        warn.field(
                            &format!("the template's {{{{{action}}}}}"),
                            "only parameter names are replaced: rewrite it with parameters",
                        );
                        out.push_str(&rest[open..open + 2 + close + 2]);
                    }
                }
                rest = &after[close + 2..];
            }
            out.push_str(rest);
            *text = out;
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| go_template_to_parameters(v, warn)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| go_template_to_parameters(v, warn)),
        _ => {}
    }
}

fn parameter(action: &str) -> Option<String> {
    let words: Vec<&str> = action.split_whitespace().collect();
    let field = |word: &str| {
        let name = word.strip_prefix('.')?;
        (!name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
        .then(|| name.to_owned())
    };
    match words.as_slice() {
        // Go templates see a folder as a map: `.path.path` is what plumb calls `path`.
        [".path.path"] => Some("path".to_owned()),
        [one] => field(one),
        ["index", ".path.segments", n] => n.parse::<usize>().ok().map(|n| format!("path[{n}]")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argo_cd_git_directories_set_becomes_a_plumb_set() {
        let set = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "cluster-addons", "namespace": "argocd"},
            "spec": {
                "goTemplate": true,
                "goTemplateOptions": ["missingkey=error"],
                "generators": [
                    {"git": {"repoURL": "https://github.com/argoproj/argo-cd.git", "revision": "HEAD",
                             "directories": [{"path": "applicationset/examples/git-generator-directory/cluster-addons/*"},
                                             {"path": "applicationset/examples/git-generator-directory/cluster-addons/exclude", "exclude": true}]}},
                    {"scmProvider": {"github": {"organization": "myorg"}}}
                ],
                "template": {
                    "metadata": {"name": "{{.path.basename}}", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
                    "spec": {
                        "project": "default",
                        "source": {"repoURL": "https://github.com/argoproj/argo-cd.git", "targetRevision": "HEAD",
                                   "path": "{{.path.path}}"},
                        "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{ index .path.segments 3 }}"},
                        "syncPolicy": {"automated": {"prune": true}}
                    }
                },
                "syncPolicy": {"applicationsSync": "create-update"}
            }
        });
        let imported = import_sets(&[set], Some("platform"));
        let ImportedSet { set, warnings } = &imported[0];
        assert_eq!(set.metadata.namespace.as_deref(), Some("platform"));
        assert_eq!(
            set.spec.generators.len(),
            1,
            "the SCM generator is left out"
        );
        let git = set.spec.generators[0].git.as_ref().unwrap();
        assert_eq!(git.revision, "");
        assert!(git.directories[1].exclude);
        let template = &set.spec.template;
        assert_eq!(template.metadata.name, "{{path.basename}}");
        assert_eq!(template.metadata.finalizers, ["plumb.dev/prune-on-delete"]);
        assert_eq!(template.spec.source.path, "{{path}}");
        assert_eq!(
            template.spec.destination.namespace.as_deref(),
            Some("{{path[3]}}")
        );
        assert!(!set.spec.sync_policy.prune, "create-update never deletes");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("scmProvider"), "{warnings:?}");
    }

    #[test]
    fn go_template_logic_is_left_as_written_with_a_warning() {
        let mut warn = Warnings::new("set".into());
        let mut value = json!({"name": "{{ if .prod }}prod{{ end }}-{{.env}}"});
        go_template_to_parameters(&mut value, &mut warn);
        assert_eq!(value["name"], "{{ if .prod }}prod{{ end }}-{{env}}");
        assert_eq!(warn.found.len(), 2, "{:?}", warn.found);
    }
}
