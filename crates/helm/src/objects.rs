//! The Go objects templates reach by field and method: `.Chart`, `.Files`, `.Capabilities`.

use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine;

use crate::chart::Metadata;
use crate::funcs::yaml::to_yaml;
use crate::value::{Object, Value};

/// `.Chart`: Helm 4 gives templates the chart's metadata as a plain map with Go's field
/// names (`.Chart.Name`, `.Chart.AppVersion`) and `IsRoot`; a field it lacks is nil.
pub(crate) fn chart_value(m: &Metadata, is_root: bool) -> Value {
    let strings = |v: &[String]| Value::list(v.iter().map(|s| Value::str(s.as_str())).collect());
    let entries = |pairs: Vec<(&str, Value)>| {
        Value::map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let maintainers = m
        .maintainers
        .iter()
        .map(|x| {
            entries(vec![
                ("Email", Value::str(x.email.as_str())),
                ("Name", Value::str(x.name.as_str())),
                ("URL", Value::str(x.url.as_str())),
            ])
        })
        .collect();
    let dependencies = m
        .dependencies
        .iter()
        .map(|d| {
            entries(vec![
                ("Alias", Value::str(d.alias.as_str())),
                ("Condition", Value::str(d.condition.as_str())),
                ("Enabled", Value::Bool(true)),
                (
                    "ImportValues",
                    Value::list(d.import_values.iter().map(Value::from_json).collect()),
                ),
                ("Name", Value::str(d.name.as_str())),
                ("Repository", Value::str(d.repository.as_str())),
                ("Tags", strings(&d.tags)),
                ("Version", Value::str(d.version.as_str())),
            ])
        })
        .collect();
    let annotations = m
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::str(v.as_str())))
        .collect();
    entries(vec![
        ("APIVersion", Value::str(m.api_version.as_str())),
        ("Annotations", Value::map(annotations)),
        ("AppVersion", Value::str(m.app_version.as_str())),
        ("Condition", Value::str(m.condition.as_str())),
        ("Dependencies", Value::list(dependencies)),
        ("Deprecated", Value::Bool(m.deprecated)),
        ("Description", Value::str(m.description.as_str())),
        ("Home", Value::str(m.home.as_str())),
        ("Icon", Value::str(m.icon.as_str())),
        ("IsRoot", Value::Bool(is_root)),
        ("Keywords", strings(&m.keywords)),
        ("KubeVersion", Value::str(m.kube_version.as_str())),
        ("Maintainers", Value::list(maintainers)),
        ("Name", Value::str(m.name.as_str())),
        ("Sources", strings(&m.sources)),
        ("Tags", Value::str(m.tags.as_str())),
        ("Type", Value::str(m.chart_type.as_str())),
        ("Version", Value::str(m.version.as_str())),
    ])
}

/// `.Files`: the chart's files other than templates, values and subcharts.
pub(crate) struct Files(pub(crate) std::sync::Arc<BTreeMap<String, Vec<u8>>>);

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let arg = |n: usize| -> Result<String, String> {
            match args.get(n) {
                Some(Value::String(s)) => Ok(s.to_string()),
                Some(other) => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
                None => Err(format!("wrong number of args for {name}: want 1 got 0")),
            }
        };
        Some(match name {
            "Get" => arg(0).map(|p| {
                Value::str(
                    self.0
                        .get(&p)
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .unwrap_or_default(),
                )
            }),
            "GetBytes" => arg(0).map(|p| {
                Value::list(
                    self.0
                        .get(&p)
                        .map(|d| d.iter().map(|b| Value::Int(i64::from(*b))).collect())
                        .unwrap_or_default(),
                )
            }),
            "Glob" => arg(0).map(|pattern| {
                let selected = self
                    .0
                    .iter()
                    .filter(|(name, _)| double_star_match(&pattern, name))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(Rc::new(Files(std::sync::Arc::new(selected))))
            }),
            "AsConfig" => {
                Ok(Value::str(self.as_map(|d| {
                    Value::str(String::from_utf8_lossy(d).into_owned())
                })))
            }
            "AsSecrets" => Ok(Value::str(self.as_map(|d| {
                Value::str(base64::engine::general_purpose::STANDARD.encode(d))
            }))),
            "Lines" => arg(0).map(|p| {
                let Some(data) = self.0.get(&p) else {
                    return Value::list(Vec::new());
                };
                let mut text = String::from_utf8_lossy(data).into_owned();
                if text.ends_with('\n') {
                    text.pop();
                }
                Value::list(text.split('\n').map(Value::from).collect())
            }),
            _ => return None,
        })
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" | "AsSecrets" => self.call(name, &[]).and_then(Result::ok),
            _ => None,
        }
    }
    fn entries(&self) -> Option<Vec<(Value, Value)>> {
        Some(
            self.0
                .iter()
                .map(|(k, v)| (Value::str(k.as_str()), Files::bytes(v)))
                .collect(),
        )
    }
    fn display(&self) -> String {
        let entries: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}:[{}]",
                    v.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
                )
            })
            .collect();
        format!("map[{}]", entries.join(" "))
    }
}

impl Files {
    fn bytes(data: &[u8]) -> Value {
        Value::list(data.iter().map(|b| Value::Int(i64::from(*b))).collect())
    }

    /// `AsConfig`/`AsSecrets`: files by base name, as YAML.
    fn as_map(&self, f: impl Fn(&[u8]) -> Value) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let map: BTreeMap<String, Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.rsplit('/').next().unwrap_or(k).to_string(), f(v)))
            .collect();
        // Helm's `AsConfig`/`AsSecrets` give "" where the YAML cannot be written.
        to_yaml(&Value::map(map)).unwrap_or_default()
    }
}

/// gobwas/glob with `/` as separator, as `.Files.Glob` uses it: `*` and `?` stay within a
/// path segment, `**` crosses them, `{a,b}` alternatives and `[…]` classes.
pub(crate) fn double_star_match(pattern: &str, name: &str) -> bool {
    if let Some(open) = pattern.find('{')
        && let Some(close) = pattern[open..].find('}').map(|i| open + i)
    {
        let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
        return pattern[open + 1..close]
            .split(',')
            .any(|alt| double_star_match(&format!("{head}{alt}{tail}"), name));
    }
    crate::glob::matches(pattern, name, true)
}

/// What the chart is told of the cluster (`.Capabilities`).
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `v1.35.0`
    pub kube_version: String,
    /// `group/version` and `group/version/Kind` entries the cluster serves.
    pub api_versions: Vec<String>,
}

impl Capabilities {
    /// What `helm template` v4.3.2 assumes without a cluster: Kubernetes v1.37.0 (one more
    /// than its client-go's major, as Helm derives it) and the API versions its client-go
    /// knows, group/versions only (no kinds).
    pub fn helm_template_default() -> Capabilities {
        Capabilities {
            kube_version: "v1.37.0".into(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|v| v.to_string()).collect(),
        }
    }
}

/// helm v4.3.2's `DefaultVersionSet`, in its order (printed by `helm template` itself).
const DEFAULT_API_VERSIONS: [&str; 57] = [
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

pub(crate) struct CapabilitiesObject(pub(crate) Rc<Capabilities>);

impl Object for CapabilitiesObject {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(Rc::new(KubeVersion(
                self.0.kube_version.clone(),
            )))),
            "APIVersions" => Some(Value::Object(Rc::new(VersionSet(self.0.clone())))),
            "HelmVersion" => {
                let mut map = BTreeMap::new();
                map.insert("Version".to_string(), Value::str(crate::HELM_VERSION));
                map.insert("GitCommit".to_string(), Value::str(""));
                map.insert("GitTreeState".to_string(), Value::str("clean"));
                map.insert("GoVersion".to_string(), Value::str("go1.26.8"));
                map.insert("KubeClientVersion".to_string(), Value::str("v1.37"));
                Some(Value::map(map))
            }
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!(
            "&{{{} {}}}",
            self.0.kube_version,
            VersionSet(self.0.clone()).display()
        )
    }
}

struct KubeVersion(String);

impl KubeVersion {
    fn parts(&self) -> (String, String) {
        let core = self.0.trim_start_matches('v');
        let mut it = core.split(['.', '-', '+']);
        (
            it.next().unwrap_or("").to_string(),
            it.next().unwrap_or("").to_string(),
        )
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let (major, minor) = self.parts();
        Some(match name {
            "Version" | "GitVersion" | "String" => Value::str(self.0.as_str()),
            "Major" => Value::str(major),
            "Minor" => Value::str(minor),
            _ => return None,
        })
    }
    fn display(&self) -> String {
        self.0.clone()
    }
}

struct VersionSet(Rc<Capabilities>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Has" => Some(match args {
                [Value::String(s)] => {
                    Ok(Value::Bool(self.0.api_versions.iter().any(|v| v == &**s)))
                }
                [other] => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
                _ => Err(format!(
                    "wrong number of args for Has: want 1 got {}",
                    args.len()
                )),
            }),
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!("[{}]", self.0.api_versions.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_glob_as_gobwas() {
        assert!(double_star_match("files/*.conf", "files/a.conf"));
        assert!(!double_star_match("files/*.conf", "files/x/a.conf"));
        assert!(double_star_match("files/**.conf", "files/x/a.conf"));
        assert!(double_star_match(
            "dashboards/*.{json,yaml}",
            "dashboards/a.yaml"
        ));
    }
}
