//! A desired object: its identity, its manifest, where it came from, and whether its
//! values are secret.

use std::fmt;

use serde_json::{Map, Value};

/// What the desired values are replaced with wherever an object is shown.
pub const MASK: &str = "*****";

/// The identity of an object: two documents with the same identity describe the same object.
///
/// The version is not part of it: `apps/v1` and `apps/v1beta1` Deployments named `web` are
/// one object served at two versions. The namespace is as written; render does not know
/// which kinds are namespaced (the engine does, and defaults it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// API group; empty for the core group (`v1`).
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, when the manifest sets one.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ObjectId {
    /// `Deployment.apps prod/web`, `ConfigMap web` (no namespace written), `Namespace prod`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_identity(
            f,
            &self.group,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}

/// How plumb names an object everywhere (render's ids, the engine's references):
/// `Kind[.group] [namespace/]name`.
pub fn write_identity(
    f: &mut fmt::Formatter<'_>,
    group: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> fmt::Result {
    f.write_str(kind)?;
    if !group.is_empty() {
        write!(f, ".{group}")?;
    }
    match namespace {
        Some(namespace) => write!(f, " {namespace}/{name}"),
        None => write!(f, " {name}"),
    }
}

/// Where a document came from: `envs/prod/app.yaml:12`, plus the item index inside a List.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// File path relative to the repository root, `/`-separated.
    pub path: String,
    /// Line where the document starts (1-based; 1 for JSON files).
    pub line: u64,
    /// Index in the `items` of a `List` document, when the object came from one.
    pub item: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path, self.line)?;
        if let Some(item) = self.item {
            write!(f, " (List item {item})")?;
        }
        Ok(())
    }
}

/// Annotations that make an object a sync hook (run at a moment of a sync; see
/// plumb-engine's `hooks`).
const HOOK_ANNOTATIONS: [&str; 2] = ["plumb.dev/hook", "argocd.argoproj.io/hook"];

fn is_hook(metadata: &Map<String, Value>) -> bool {
    metadata
        .get("annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| HOOK_ANNOTATIONS.iter().any(|key| a.contains_key(*key)))
}

/// One object to be made to exist in the cluster.
#[derive(Clone, PartialEq)]
pub struct DesiredObject {
    id: ObjectId,
    api_version: String,
    manifest: Map<String, Value>,
    origin: Origin,
    decrypted: bool,
}

impl DesiredObject {
    /// Validates a parsed document as a Kubernetes object.
    ///
    /// `decrypted` marks objects that came from a SOPS-encrypted file: all their values are
    /// masked wherever they are shown, whatever their kind.
    pub fn from_manifest(
        manifest: Map<String, Value>,
        origin: Origin,
        decrypted: bool,
    ) -> Result<Self, String> {
        let api_version = required_string(&manifest, "apiVersion")?;
        let kind = required_string(&manifest, "kind")?;
        let metadata = match manifest.get("metadata") {
            Some(Value::Object(metadata)) => metadata,
            Some(_) => return Err("metadata must be a mapping".into()),
            None => return Err("metadata.name is required".into()),
        };
        let name = match metadata.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            // A sync hook is created afresh each time it runs: a generated name is how it
            // is meant to be written. Its `generateName` stands for its name until then.
            Some(Value::String(_)) | None if is_hook(metadata) => {
                match metadata.get("generateName") {
                    Some(Value::String(prefix)) if !prefix.is_empty() => prefix.clone(),
                    _ => return Err("metadata.name or metadata.generateName is required".into()),
                }
            }
            Some(Value::String(_)) | None if metadata.contains_key("generateName") => {
                return Err(
                    "metadata.generateName cannot be applied declaratively (every \
                     sync would create another object); set metadata.name, or make it a \
                     sync hook (plumb.dev/hook or argocd.argoproj.io/hook)"
                        .into(),
                );
            }
            Some(Value::String(_)) | None => return Err("metadata.name is required".into()),
            Some(_) => return Err("metadata.name must be a string".into()),
        };
        let namespace = match metadata.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(namespace)) if namespace.is_empty() => None,
            Some(Value::String(namespace)) => Some(namespace.clone()),
            Some(_) => return Err("metadata.namespace must be a string".into()),
        };
        let group = match api_version.split_once('/') {
            Some((group, version)) if !group.is_empty() && !version.is_empty() => group.to_owned(),
            Some(_) => return Err(format!("apiVersion {api_version:?} is not GROUP/VERSION")),
            None => String::new(),
        };
        Ok(DesiredObject {
            id: ObjectId {
                group,
                kind,
                namespace,
                name,
            },
            api_version,
            manifest,
            origin,
            decrypted,
        })
    }

    /// The manifest, origin and decrypted mark, for renderers that transform objects.
    pub fn into_parts(self) -> (Map<String, Value>, Origin, bool) {
        (self.manifest, self.origin, self.decrypted)
    }

    /// Its identity.
    pub fn id(&self) -> &ObjectId {
        &self.id
    }

    /// `apiVersion` as written, e.g. `apps/v1`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The manifest as rendered — with secret values in clear. Show [`Self::redacted`] instead.
    pub fn manifest(&self) -> &Map<String, Value> {
        &self.manifest
    }

    /// Where it was defined.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether it came from a SOPS-encrypted file.
    pub fn is_decrypted(&self) -> bool {
        self.decrypted
    }

    /// Whether any of its values must never be shown: Secrets and decrypted objects.
    pub fn is_sensitive(&self) -> bool {
        self.decrypted || (self.id.group.is_empty() && self.id.kind == "Secret")
    }

    /// The manifest safe to show in a diff, a log line or a page.
    ///
    /// A Secret keeps its keys but every value of `data` and `stringData` becomes [`MASK`];
    /// an object from a SOPS file has every value outside `apiVersion`, `kind` and
    /// `metadata` masked, since any of them may have been encrypted.
    pub fn redacted(&self) -> Value {
        let mut manifest = self.manifest.clone();
        if self.decrypted {
            // A Secret's `type` says what kind of Secret it is (`kubernetes.io/tls`,
            // `Opaque`): a reader needs it, and it is never a secret value.
            let secret = self.id.group.is_empty() && self.id.kind == "Secret";
            for (key, value) in manifest.iter_mut() {
                let kept = matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
                    || (secret && key == "type");
                if !kept {
                    mask_leaves(value);
                }
            }
        } else if self.is_sensitive() {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(values)) = manifest.get_mut(field) {
                    values.values_mut().for_each(|value| *value = MASK.into());
                }
            }
        }
        Value::Object(manifest)
    }
}

impl fmt::Debug for DesiredObject {
    /// Redacted: a stray `{:?}` in a log must not leak a Secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesiredObject")
            .field("id", &self.id)
            .field("origin", &self.origin)
            .field("decrypted", &self.decrypted)
            .field("manifest", &self.redacted())
            .finish()
    }
}

fn required_string(manifest: &Map<String, Value>, field: &str) -> Result<String, String> {
    match manifest.get(field) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        Some(Value::String(_)) | None => Err(format!("{field} is required")),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

fn mask_leaves(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(mask_leaves),
        Value::Array(items) => items.iter_mut().for_each(mask_leaves),
        Value::Null => {}
        leaf => *leaf = MASK.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(manifest: Value, decrypted: bool) -> Result<DesiredObject, String> {
        let Value::Object(map) = manifest else {
            panic!("test manifests are mappings")
        };
        let origin = Origin {
            path: "a.yaml".into(),
            line: 1,
            item: None,
        };
        DesiredObject::from_manifest(map, origin, decrypted)
    }

    #[test]
    fn identity_takes_group_kind_namespace_and_name() {
        let web = object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}),
            false,
        )
        .unwrap();
        assert_eq!(web.id().to_string(), "Deployment.apps prod/web");
        let core = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            false,
        )
        .unwrap();
        assert_eq!(core.id().to_string(), "ConfigMap c");
    }

    #[test]
    fn objects_without_the_essentials_are_refused_with_the_reason() {
        let cases = [
            (
                json!({"kind": "ConfigMap", "metadata": {"name": "c"}}),
                "apiVersion is required",
            ),
            (
                json!({"apiVersion": "v1", "kind": 3, "metadata": {"name": "c"}}),
                "kind must be a string",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                "metadata.name is required",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"}}),
                "generateName",
            ),
            (
                json!({"apiVersion": "/v1", "kind": "X", "metadata": {"name": "x"}}),
                "not GROUP/VERSION",
            ),
            (
                json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x", "namespace": 1}}),
                "namespace must be a string",
            ),
        ];
        for (manifest, expected) in cases {
            let err = object(manifest.clone(), false).unwrap_err();
            assert!(err.contains(expected), "{manifest}: {err}");
        }
    }

    #[test]
    fn secrets_are_redacted_but_keep_their_keys() {
        let secret = object(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "t0k3n"}, "type": "Opaque"}),
            false,
        )
        .unwrap();
        let shown = secret.redacted();
        assert_eq!(shown["data"]["password"], MASK);
        assert_eq!(shown["stringData"]["token"], MASK);
        assert_eq!(shown["type"], "Opaque");
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("aHVudGVyMg==") && !debug.contains("t0k3n"),
            "{debug}"
        );
    }

    #[test]
    fn decrypted_objects_have_every_value_masked_outside_metadata() {
        let config = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"team": "a"}},
                   "data": {"url": "postgres://u:p@db"}, "binaryData": {"k": "AAEC"}}),
            true,
        )
        .unwrap();
        assert!(config.is_sensitive());
        let shown = config.redacted();
        assert_eq!(shown["data"]["url"], MASK);
        assert_eq!(shown["binaryData"]["k"], MASK);
        assert_eq!(shown["metadata"]["labels"]["team"], "a");
    }

    #[test]
    fn a_decrypted_secret_keeps_its_type_in_view() {
        let secret = object(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"},
                   "type": "kubernetes.io/tls", "data": {"tls.key": "a2V5"}}),
            true,
        )
        .unwrap();
        let shown = secret.redacted();
        assert_eq!(shown["type"], "kubernetes.io/tls");
        assert_eq!(shown["data"]["tls.key"], MASK);
    }
}
