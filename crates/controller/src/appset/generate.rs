//! Generators: from an ApplicationSet's spec and what it reads (its repositories' files at
//! a commit, the registered clusters) to sets of parameters — pure, so each rule is tested
//! on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::glob::matches;
use super::spec::{ClustersGenerator, Generator, GitGenerator, ListGenerator, NestedGenerator};
use crate::clusters::RegisteredCluster;

/// One set of parameters: `{{name}}` → value.
pub(crate) type Params = BTreeMap<String, String>;

/// How many sets one ApplicationSet may make (a matrix multiplies).
pub(crate) const MAX_SETS: usize = 10_000;
/// How many entries a repository walk visits, and how big a parameter file may be.
const MAX_ENTRIES: usize = 200_000;
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// What the generators read: each Git generator's files (by repository and revision, as
/// written) and the clusters the namespace may use.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    pub trees: BTreeMap<(String, String), PathBuf>,
    pub clusters: Vec<RegisteredCluster>,
}

/// One generator, whichever field names it.
enum Kind<'a> {
    List(&'a ListGenerator),
    Git(&'a GitGenerator),
    Clusters(&'a ClustersGenerator),
    Matrix(&'a [NestedGenerator]),
}

fn kind<'a>(
    list: Option<&'a ListGenerator>,
    git: Option<&'a GitGenerator>,
    clusters: Option<&'a ClustersGenerator>,
    matrix: Option<&'a [NestedGenerator]>,
) -> Result<Kind<'a>, String> {
    let set = [
        list.is_some(),
        git.is_some(),
        clusters.is_some(),
        matrix.is_some(),
    ];
    match (
        set.iter().filter(|s| **s).count(),
        list,
        git,
        clusters,
        matrix,
    ) {
        (1, Some(list), ..) => Ok(Kind::List(list)),
        (1, _, Some(git), ..) => Ok(Kind::Git(git)),
        (1, _, _, Some(clusters), _) => Ok(Kind::Clusters(clusters)),
        (1, .., Some(matrix)) => Ok(Kind::Matrix(matrix)),
        (0, ..) => Err("a generator sets none of list, git, clusters, matrix".into()),
        _ => Err("a generator sets more than one of list, git, clusters, matrix".into()),
    }
}

/// Every set the generators make, in order: the first generator's, then the next's.
pub(crate) fn generate(generators: &[Generator], inputs: &Inputs) -> Result<Vec<Params>, String> {
    let mut all = Vec::new();
    for (index, generator) in generators.iter().enumerate() {
        let kind = kind(
            generator.list.as_ref(),
            generator.git.as_ref(),
            generator.clusters.as_ref(),
            generator.matrix.as_ref().map(|m| m.generators.as_slice()),
        )
        .map_err(|why| format!("spec.generators[{index}]: {why}"))?;
        let sets = run(&kind, inputs).map_err(|why| format!("spec.generators[{index}]: {why}"))?;
        all.extend(sets);
        if all.len() > MAX_SETS {
            return Err(format!(
                "the generators make more than {MAX_SETS} sets of parameters"
            ));
        }
    }
    Ok(all)
}

fn nested(generator: &NestedGenerator, inputs: &Inputs) -> Result<Vec<Params>, String> {
    let kind = kind(
        generator.list.as_ref(),
        generator.git.as_ref(),
        generator.clusters.as_ref(),
        None,
    )?;
    run(&kind, inputs)
}

fn run(kind: &Kind<'_>, inputs: &Inputs) -> Result<Vec<Params>, String> {
    match kind {
        Kind::List(list) => list_sets(list),
        Kind::Git(git) => {
            let revision = revision(git);
            let tree = inputs
                .trees
                .get(&(git.repo_url.clone(), revision.to_owned()))
                .ok_or_else(|| format!("{} was not fetched", git.repo_url))?;
            git_sets(git, tree)
        }
        Kind::Clusters(clusters) => Ok(cluster_sets(clusters, &inputs.clusters)),
        Kind::Matrix(generators) => {
            let [first, second] = generators else {
                return Err(format!(
                    "matrix takes exactly two generators, not {}",
                    generators.len()
                ));
            };
            let first =
                nested(first, inputs).map_err(|why| format!("matrix.generators[0]: {why}"))?;
            let second =
                nested(second, inputs).map_err(|why| format!("matrix.generators[1]: {why}"))?;
            combine(&first, &second)
        }
    }
}

/// The revision a Git generator reads: `HEAD` unless it names one.
pub(crate) fn revision(git: &GitGenerator) -> &str {
    if git.revision.is_empty() {
        "HEAD"
    } else {
        &git.revision
    }
}

/// Every generator's Git sources (matrices' included): what has to be fetched.
pub(crate) fn git_sources(generators: &[Generator]) -> Vec<&GitGenerator> {
    let mut sources = Vec::new();
    for generator in generators {
        sources.extend(generator.git.as_ref());
        for inner in generator.matrix.iter().flat_map(|m| &m.generators) {
            sources.extend(inner.git.as_ref());
        }
    }
    sources
}

/// Whether a generator lists clusters (matrices' included).
pub(crate) fn reads_clusters(generators: &[Generator]) -> bool {
    generators.iter().any(|g| {
        g.clusters.is_some()
            || g.matrix
                .iter()
                .flat_map(|m| &m.generators)
                .any(|inner| inner.clusters.is_some())
    })
}

fn list_sets(list: &ListGenerator) -> Result<Vec<Params>, String> {
    list.elements
        .iter()
        .enumerate()
        .map(|(index, element)| {
            let Value::Object(_) = element else {
                return Err(format!("list.elements[{index}] is not a map of parameters"));
            };
            let mut params = Params::new();
            flatten("", element, &mut params);
            Ok(params)
        })
        .collect()
}

/// Nested maps give `outer.inner` names; lists are written as JSON.
fn flatten(prefix: &str, value: &Value, params: &mut Params) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, params);
            }
        }
        Value::String(text) => {
            params.insert(prefix.to_owned(), text.clone());
        }
        Value::Null => {
            params.insert(prefix.to_owned(), String::new());
        }
        other => {
            params.insert(prefix.to_owned(), other.to_string());
        }
    }
}

fn git_sets(git: &GitGenerator, tree: &Path) -> Result<Vec<Params>, String> {
    if git.directories.is_empty() == git.files.is_empty() {
        return Err("git sets exactly one of directories and files".into());
    }
    let (directories, files) = walk(tree)?;
    if !git.directories.is_empty() {
        let included = |path: &str| {
            git.directories
                .iter()
                .any(|d| !d.exclude && matches(&d.path, path))
                && !git
                    .directories
                    .iter()
                    .any(|d| d.exclude && matches(&d.path, path))
        };
        return Ok(directories
            .iter()
            .filter(|d| included(d))
            .map(|d| path_params(d))
            .collect());
    }
    let mut sets = Vec::new();
    for file in files
        .iter()
        .filter(|f| git.files.iter().any(|m| matches(&m.path, f)))
    {
        for mut params in file_sets(tree, file)? {
            let folder = file.rsplit_once('/').map_or("", |(dir, _)| dir);
            params.extend(path_params(folder));
            let name = file.rsplit('/').next().unwrap_or(file);
            params.insert("path.filename".into(), name.to_owned());
            params.insert("path.filenameNormalized".into(), normalized(name));
            sets.push(params);
        }
    }
    Ok(sets)
}

/// A parameter file's sets: its keys flattened, or each element's when it holds a list.
fn file_sets(tree: &Path, file: &str) -> Result<Vec<Params>, String> {
    let path = tree.join(file);
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{file}: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{file} is {size} bytes; parameter files are read up to {MAX_FILE_BYTES}"
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
    let value: Value = if text.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_saphyr::from_str_with_options(&text, plumb_render::yaml_reading_options())
            .map_err(|e| format!("{file} is not JSON or YAML: {e}"))?
    };
    let elements = match value {
        Value::Array(elements) => elements,
        object @ Value::Object(_) => vec![object],
        _ => return Err(format!("{file} holds neither a map nor a list of maps")),
    };
    elements
        .iter()
        .map(|element| {
            if !element.is_object() {
                return Err(format!("{file}: an element of its list is not a map"));
            }
            let mut params = Params::new();
            flatten("", element, &mut params);
            Ok(params)
        })
        .collect()
}

/// `path`, `path.basename`, `path.basenameNormalized` and `path[N]` of a folder.
fn path_params(folder: &str) -> Params {
    let mut params = Params::new();
    let basename = folder.rsplit('/').next().unwrap_or(folder);
    params.insert("path".into(), folder.to_owned());
    params.insert("path.basename".into(), basename.to_owned());
    params.insert("path.basenameNormalized".into(), normalized(basename));
    for (index, segment) in folder.split('/').filter(|s| !s.is_empty()).enumerate() {
        params.insert(format!("path[{index}]"), segment.to_owned());
    }
    params
}

/// A name fit for Kubernetes: lower case, runs of other characters as `-`.
fn normalized(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out
}

/// The folders and files of a checked-out tree, as `/`-separated paths from its root.
/// Symbolic links are not followed; hidden entries (`.git`, `.github`) are left out.
fn walk(tree: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let mut directories = Vec::new();
    let mut files = Vec::new();
    let mut pending = vec![String::new()];
    let mut visited = 0usize;
    while let Some(relative) = pending.pop() {
        let dir = if relative.is_empty() {
            tree.to_path_buf()
        } else {
            tree.join(&relative)
        };
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("reading {relative}/: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("reading {relative}/: {e}"))?;
            visited += 1;
            if visited > MAX_ENTRIES {
                return Err(format!(
                    "the repository has more than {MAX_ENTRIES} files and folders"
                ));
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            let kind = entry.file_type().map_err(|e| format!("{path}: {e}"))?;
            if kind.is_dir() {
                directories.push(path.clone());
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    directories.sort();
    files.sort();
    Ok((directories, files))
}

fn cluster_sets(generator: &ClustersGenerator, clusters: &[RegisteredCluster]) -> Vec<Params> {
    clusters
        .iter()
        .filter(|c| {
            generator
                .match_labels
                .iter()
                .all(|(key, value)| c.labels.get(key) == Some(value))
        })
        .map(|c| {
            let mut params = Params::new();
            params.insert("name".into(), c.name.clone());
            params.insert("nameNormalized".into(), normalized(&c.name));
            params.insert("server".into(), c.server.clone());
            for (key, value) in &c.labels {
                params.insert(format!("metadata.labels.{key}"), value.clone());
            }
            for (key, value) in &c.annotations {
                params.insert(format!("metadata.annotations.{key}"), value.clone());
            }
            params
        })
        .collect()
}

/// Every pair of sets, merged; a name both give with different values is an error (the
/// template could not say which it means).
fn combine(first: &[Params], second: &[Params]) -> Result<Vec<Params>, String> {
    if first.len().saturating_mul(second.len()) > MAX_SETS {
        return Err(format!(
            "matrix makes {} × {} sets, more than {MAX_SETS}",
            first.len(),
            second.len()
        ));
    }
    let mut sets = Vec::with_capacity(first.len() * second.len());
    for a in first {
        for b in second {
            let mut merged = a.clone();
            for (key, value) in b {
                match merged.get(key) {
                    Some(existing) if existing != value => {
                        return Err(format!(
                            "matrix: both generators give parameter {key} ({existing:?} and {value:?}); rename one"
                        ));
                    }
                    _ => {
                        merged.insert(key.clone(), value.clone());
                    }
                }
            }
            sets.push(merged);
        }
    }
    Ok(sets)
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
