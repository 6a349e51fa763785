//! `configMapGenerator` and `secretGenerator`: objects made from literals, files and env
//! files, marked to get a content hash in their name, merged into or replacing an object
//! of the same id when their `behavior` says so.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::BuildError;
use super::kustomization::{Generator, GeneratorOptions};
use super::load::Loader;
use super::resource::{Behavior, Resource};
use crate::error::Result;
use plumb_manifest::Origin;

/// Which generator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GeneratedKind {
    ConfigMap,
    Secret,
}

/// Makes the object one generator entry describes.
pub(crate) fn generate(
    loader: &Loader,
    kind: GeneratedKind,
    args: &Generator,
    global: Option<&GeneratorOptions>,
) -> Result<Resource> {
    let fail = |detail: String| loader.error(detail);
    let behavior = match args.behavior.as_str() {
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        // Kustomize reads any other word (kubeflow writes `add`) as unspecified: create.
        _ => Behavior::Create,
    };
    let options = merged_options(args.options.as_ref(), global);
    let pairs = pairs(loader, args)?;

    let mut metadata = Map::new();
    metadata.insert("name".into(), args.name.clone().into());
    if !args.namespace.is_empty() {
        metadata.insert("namespace".into(), args.namespace.clone().into());
    }
    if !options.labels.is_empty() {
        metadata.insert("labels".into(), string_map(&options.labels));
    }
    if !options.annotations.is_empty() {
        metadata.insert("annotations".into(), string_map(&options.annotations));
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), "v1".into());
    let mut data = Map::new();
    let mut binary = Map::new();
    let mut seen = std::collections::HashSet::new();
    for (key, value) in pairs {
        if !valid_key(&key) {
            return Err(fail(format!(
                "{key:?} is not a valid key name for a {}: a valid key must consist of alphanumeric characters, '-', '_' or '.'",
                kind.name()
            )));
        }
        if !seen.insert(key.clone()) {
            return Err(fail(format!(
                "cannot add key {key}, another key by that name already exists"
            )));
        }
        match kind {
            GeneratedKind::ConfigMap => match String::from_utf8(value) {
                Ok(text) => {
                    data.insert(key, text.into());
                }
                Err(bytes) => {
                    binary.insert(key, base64_of(bytes.as_bytes()).into());
                }
            },
            GeneratedKind::Secret => {
                data.insert(key, base64_of(&value).into());
            }
        }
    }
    object.insert("kind".into(), kind.name().into());
    object.insert("metadata".into(), Value::Object(metadata));
    // Kustomize writes a Secret's data even when empty (a placeholder for a webhook's
    // certificate), and hashes it so; a ConfigMap's only when it holds something.
    if !data.is_empty() || kind == GeneratedKind::Secret {
        object.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        object.insert("binaryData".into(), Value::Object(binary));
    }
    if kind == GeneratedKind::Secret {
        let type_ = if args.type_.is_empty() {
            "Opaque"
        } else {
            &args.type_
        };
        object.insert("type".into(), type_.into());
    }
    if options.immutable {
        object.insert("immutable".into(), true.into());
    }
    let origin = Origin {
        path: loader.kustomization_file(),
        line: 1,
        item: None,
    };
    let mut resource = Resource::new(object, origin, false);
    resource.behavior = Some(behavior);
    resource.needs_hash = !options.disable_name_suffix_hash;
    resource.configured_by = Some(match kind {
        GeneratedKind::ConfigMap => "ConfigMapGenerator",
        GeneratedKind::Secret => "SecretGenerator",
    });
    Ok(resource)
}

impl GeneratedKind {
    fn name(self) -> &'static str {
        match self {
            GeneratedKind::ConfigMap => "ConfigMap",
            GeneratedKind::Secret => "Secret",
        }
    }
}

/// An entry's own options over the kustomization's `generatorOptions`: the entry's
/// labels and annotations win on conflicts; either may disable the hash or set immutable.
fn merged_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut options = local.cloned().unwrap_or_default();
    if let Some(global) = global {
        for (k, v) in &global.labels {
            options.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &global.annotations {
            options
                .annotations
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        options.disable_name_suffix_hash |= global.disable_name_suffix_hash;
        options.immutable |= global.immutable;
    }
    options
}

/// Key-value pairs in Kustomize's order: env files, then literals, then files.
fn pairs(loader: &Loader, args: &Generator) -> Result<Vec<(String, Vec<u8>)>> {
    let mut all = Vec::new();
    for env in args.envs.iter().chain(args.env.iter()) {
        let bytes = loader.read_relative(env)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| loader.error(format!("env file {env} is not UTF-8")))?;
        for (number, line) in text.lines().enumerate() {
            let line = if number == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            if !valid_env_name(key) {
                return Err(loader.error(format!(
                    "env file {env}: {key:?} is not a valid environment variable name"
                )));
            }
            all.push((key.to_owned(), value.as_bytes().to_vec()));
        }
    }
    for literal in &args.literals {
        let Some((key, value)) = literal.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(loader.error(format!(
                "invalid literal source {literal}, expected key=value"
            )));
        };
        all.push((key.to_owned(), unquote(value).as_bytes().to_vec()));
    }
    for file in &args.files {
        let (key, path) = match file.split_once('=') {
            Some((key, path)) => {
                if key.is_empty() || path.is_empty() {
                    return Err(loader.error(format!("file source {file:?}: key or path is empty")));
                }
                (key.to_owned(), path)
            }
            None => (
                file.rsplit('/').next().unwrap_or(file).to_owned(),
                file.as_str(),
            ),
        };
        all.push((key, loader.read_relative(path)?));
    }
    Ok(all)
}

fn unquote(value: &str) -> &str {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == bytes[bytes.len() - 1] && matches!(bytes[0], b'"' | b'\'') {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && !key.starts_with("..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn valid_env_name(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Base64 as Kustomize writes generated values: wrapped every 70 characters, each line
/// ending in a newline, once the text is longer than one line.
fn base64_of(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut wrapped = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        wrapped.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        wrapped.push('\n');
    }
    wrapped
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Adds a generated object to the accumulated ones according to its behavior.
pub(crate) fn absorb(
    resources: &mut Vec<Resource>,
    mut generated: Resource,
) -> Result<(), BuildError> {
    let id = generated.cur_id();
    let matches: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.any_ids().iter().any(|other| other.same(&id)))
        .map(|(i, _)| i)
        .collect();
    let behavior = generated.behavior.unwrap_or(Behavior::Create);
    match (matches.as_slice(), behavior) {
        ([], Behavior::Create) => {
            resources.push(generated);
            Ok(())
        }
        ([], _) => Err(BuildError::new(format!(
            "id {} does not exist; cannot merge or replace",
            id.describe()
        ))),
        ([_], Behavior::Create) => Err(BuildError::new(format!(
            "id {} exists; behavior must be merge or replace",
            id.describe()
        ))),
        ([index], _) => {
            let old = &resources[*index];
            let mut labels = old.string_map("labels");
            labels.extend(generated.string_map("labels"));
            let mut annotations = old.string_map("annotations");
            annotations.extend(generated.string_map("annotations"));
            let name = old.name().to_owned();
            let namespace = old.namespace().to_owned();
            {
                let metadata = generated.metadata_mut();
                set_or_remove(metadata, "labels", labels);
                set_or_remove(metadata, "annotations", annotations);
            }
            generated.set_name(&name);
            generated.set_namespace(&namespace);
            generated.previous = old.previous.clone();
            generated.prefixes = old.prefixes.clone();
            generated.suffixes = old.suffixes.clone();
            generated.origin = old.origin.clone();
            // Labels and annotations (and with merge, data) of a decrypted object stay
            // as secret in the object that takes its place.
            generated.decrypted |= old.decrypted;
            if behavior == Behavior::Merge {
                for field in ["data", "binaryData"] {
                    let mut merged = old
                        .object
                        .get(field)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if let Some(Value::Object(new)) = generated.object.get(field) {
                        merged.extend(new.clone());
                    }
                    if !merged.is_empty() {
                        generated.object.insert(field.into(), Value::Object(merged));
                    }
                }
            }
            resources[*index] = generated;
            Ok(())
        }
        (_, _) => Err(BuildError::new(format!(
            "found multiple objects that could accept merge of {}",
            id.describe()
        ))),
    }
}

fn set_or_remove(metadata: &mut Map<String, Value>, field: &str, map: Map<String, Value>) {
    if map.is_empty() {
        metadata.remove(field);
    } else {
        metadata.insert(field.into(), Value::Object(map));
    }
}
