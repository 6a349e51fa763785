//! A chart as Helm's loader reads a directory: `Chart.yaml`, `values.yaml`, `templates/`,
//! subcharts under `charts/`, and every other file as `.Files` (`crds/` among them).
//!
//! Files are read through `plumb-manifest`'s confinement and limits, like every input of
//! plumb: a chart is untrusted repository content.

use std::collections::BTreeMap;

use plumb_manifest::{Limits, RepoFile, Root};
use serde::Deserialize;

use crate::error::{Error, Result};

/// `Chart.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `v1` (Helm 2) or `v2`.
    #[serde(default)]
    pub api_version: String,
    /// The chart's name; templates are named after it, not after its directory.
    #[serde(default)]
    pub name: String,
    /// SemVer 2 version.
    #[serde(default)]
    pub version: String,
    /// Constraint on the cluster's version.
    #[serde(default)]
    pub kube_version: String,
    #[serde(default)]
    #[allow(missing_docs)]
    pub description: String,
    /// `application` (default) or `library`.
    #[serde(default, rename = "type")]
    pub chart_type: String,
    #[serde(default)]
    #[allow(missing_docs)]
    pub keywords: Vec<String>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub home: String,
    #[serde(default)]
    #[allow(missing_docs)]
    pub sources: Vec<String>,
    /// Subcharts this chart depends on.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub maintainers: Vec<Maintainer>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub icon: String,
    #[serde(default)]
    #[allow(missing_docs)]
    pub app_version: String,
    #[serde(default)]
    #[allow(missing_docs)]
    pub deprecated: bool,
    #[serde(default)]
    #[allow(missing_docs)]
    pub annotations: BTreeMap<String, String>,
    /// Helm 2's condition field, kept for templates that read it.
    #[serde(default)]
    pub condition: String,
    /// Helm 2's tags field, kept for templates that read it.
    #[serde(default)]
    pub tags: String,
}

/// One `dependencies` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Dependency {
    /// The subchart's name (its `Chart.yaml` name).
    pub name: String,
    /// A SemVer range the subchart's version must satisfy.
    #[serde(default)]
    pub version: String,
    /// Where `helm dependency update` fetches it from.
    #[serde(default)]
    pub repository: String,
    /// Comma-separated values paths; the first that holds a bool enables or disables it.
    #[serde(default)]
    pub condition: String,
    /// Tags under `.Values.tags` that enable or disable it.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Another name for this use of the subchart (its values key and template paths).
    #[serde(default)]
    pub alias: String,
    /// Values imported from the subchart into the parent.
    #[serde(default)]
    pub import_values: Vec<serde_json::Value>,
}

/// `Chart.yaml`'s `maintainers` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs)]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// `values.yaml`, read as Helm reads it (numbers are floats).
    pub values: serde_json::Value,
    /// `values.schema.json`, when present.
    pub schema: Option<serde_json::Value>,
    /// `templates/…`, by path inside the chart, in path order.
    pub templates: Vec<(String, String)>,
    /// Every other file by path inside the chart (`.Files`), `crds/` included; shared, so
    /// the copies a render makes of a chart (aliases, disabled subcharts dropped) do not
    /// copy megabytes of CRDs each time.
    pub files: std::sync::Arc<BTreeMap<String, Vec<u8>>>,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
    /// Where the chart was read from, for messages.
    pub path: String,
}

impl Chart {
    /// Whether `Chart.yaml` says this is a library chart (templates only as partials).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// The `crds/` files, in path order.
    pub fn crds(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.files
            .iter()
            .filter(|(name, _)| name.starts_with("crds/"))
    }

    /// Loads the chart in directory `relative` of the repository `root`.
    pub fn load(root: &Root, relative: &str, limits: &Limits) -> Result<Chart> {
        let (display, dir) = root.directory(relative)?;
        let listed = root.files(&display, &dir, true)?;
        let mut budget = Budget {
            limits,
            read: 0,
            files: 0,
        };
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for file in &listed {
            let inside = inside(&display, file);
            files.push((inside, budget.read(root, file)?));
        }
        from_files(&display, files, limits)
    }
}

impl Chart {
    /// Adds a dependency fetched from its repository (an archive in plumb's cache).
    pub fn add_dependency(&mut self, root: &Root, archive: &str, limits: &Limits) -> Result<()> {
        let mut sub = Chart::load_archive(root, archive, limits)?;
        sub.path = format!("{}/charts/{}", self.path, sub.metadata.name);
        self.dependencies.push(sub);
        Ok(())
    }

    /// Loads the packaged chart (`.tgz`, as `helm package` and chart repositories make it)
    /// at `relative` in `root`.
    pub fn load_archive(root: &Root, relative: &str, limits: &Limits) -> Result<Chart> {
        let file = root.resolve(relative)?;
        let bytes = root.read(&file, limits.max_file_bytes)?;
        let files = unpack(&file.relative, &bytes, limits)?;
        from_files(&file.relative, files, limits)
    }
}

struct Budget<'a> {
    limits: &'a Limits,
    read: u64,
    files: usize,
}

impl Budget<'_> {
    fn read(&mut self, root: &Root, file: &RepoFile) -> Result<Vec<u8>> {
        self.files += 1;
        if self.files > self.limits.max_files {
            return Err(Error::Limit(format!(
                "the chart holds more than {} files (limit max_files)",
                self.limits.max_files
            )));
        }
        let bytes = root.read(file, self.limits.max_file_bytes)?;
        self.read += bytes.len() as u64;
        if self.read > self.limits.max_total_bytes {
            return Err(Error::Limit(format!(
                "the chart's files hold more than {} bytes (limit max_total_bytes)",
                self.limits.max_total_bytes
            )));
        }
        Ok(bytes)
    }
}

fn inside(chart_dir: &str, file: &RepoFile) -> String {
    if chart_dir == "." || chart_dir.is_empty() {
        return file.relative.trim_start_matches("./").to_string();
    }
    file.relative
        .strip_prefix(chart_dir)
        .map(|r| r.trim_start_matches('/').to_string())
        .unwrap_or_else(|| file.relative.clone())
}

/// A chart from its files (paths relative to the chart's directory).
pub(crate) fn from_files(
    path: &str,
    files: Vec<(String, Vec<u8>)>,
    limits: &Limits,
) -> Result<Chart> {
    let ignore = files
        .iter()
        .find(|(name, _)| name == ".helmignore")
        .map(|(_, data)| HelmIgnore::parse(&String::from_utf8_lossy(data)))
        .unwrap_or_default();
    let mut metadata: Option<Metadata> = None;
    let mut values = serde_json::Value::Object(Default::default());
    let mut schema = None;
    let mut templates = Vec::new();
    let mut chart_files = BTreeMap::new();
    let mut subcharts: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    let mut packaged: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, data) in files {
        if ignore.ignores(&name) {
            continue;
        }
        let text = || String::from_utf8_lossy(&data).into_owned();
        match name.as_str() {
            "Chart.yaml" => {
                let parsed: Metadata = serde_saphyr::from_str_with_options(
                    &crate::yaml_breaks::as_go_yaml_unmarshals(&text()),
                    plumb_manifest::yaml_reading_options(),
                )
                .map_err(|e| Error::Chart {
                    path: format!("{path}/Chart.yaml"),
                    message: e.to_string(),
                })?;
                metadata = Some(parsed);
            }
            "values.yaml" => {
                values =
                    crate::values_file::read_values(&text()).map_err(|message| Error::Chart {
                        path: format!("{path}/values.yaml"),
                        message,
                    })?;
            }
            "values.schema.json" => {
                schema = Some(serde_json::from_slice(&data).map_err(|e| Error::Chart {
                    path: format!("{path}/values.schema.json"),
                    message: e.to_string(),
                })?);
            }
            "requirements.lock" | "Chart.lock" => {
                crate::lock_readable::check(&data, &name).map_err(|message| Error::Chart {
                    path: format!("{path}/{name}"),
                    message,
                })?;
                chart_files.insert(name, data);
            }
            "requirements.yaml" => {
                chart_files.insert(name, data);
            }
            n if n.starts_with("templates/") => {
                // Hidden files in templates/ are never templates.
                if n.rsplit('/')
                    .next()
                    .is_some_and(|base| base.starts_with('.'))
                {
                    continue;
                }
                templates.push((name.clone(), text()));
            }
            n if n.starts_with("charts/") => {
                let rest = &n["charts/".len()..];
                match rest.split_once('/') {
                    Some((sub, inner)) => subcharts
                        .entry(sub.to_string())
                        .or_default()
                        .push((inner.to_string(), data)),
                    None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                        packaged.push((name.clone(), data))
                    }
                    None => {
                        chart_files.insert(name, data);
                    }
                }
            }
            _ => {
                chart_files.insert(name, data);
            }
        }
    }
    let metadata = metadata.ok_or_else(|| Error::Chart {
        path: path.to_string(),
        message: "Chart.yaml file is missing".into(),
    })?;
    validate(path, &metadata)?;
    let mut dependencies = Vec::new();
    for (sub, sub_files) in subcharts {
        dependencies.push(from_files(
            &format!("{path}/charts/{sub}"),
            sub_files,
            limits,
        )?);
    }
    for (name, data) in packaged {
        let archive = format!("{path}/{name}");
        let files = unpack(&archive, &data, limits)?;
        dependencies.push(from_files(&archive, files, limits)?);
    }
    Ok(Chart {
        metadata,
        values,
        schema,
        templates,
        files: std::sync::Arc::new(chart_files),
        dependencies,
        path: path.to_string(),
    })
}

/// The files of a packaged chart (`name/Chart.yaml`, … in a gzipped tar), paths inside the
/// chart. Bounded as files read from the repository are: a few kilobytes of archive must not
/// unpack into gigabytes. Links and paths leaving the chart are refused.
fn unpack(archive: &str, data: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let bad = |message: String| Error::Chart {
        path: archive.to_string(),
        message,
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(data));
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in tar
        .entries()
        .map_err(|e| bad(format!("not a gzipped tar archive: {e}")))?
    {
        let mut entry = entry.map_err(|e| bad(format!("a damaged archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if !kind.is_file() {
            return Err(bad(format!(
                "{name}: links and special files are refused in a packaged chart"
            )));
        }
        // `chart/templates/x.yaml`: the first segment is the chart's own directory.
        let inside = match name.trim_start_matches("./").split_once('/') {
            Some((_, rest)) if !rest.is_empty() => rest.to_string(),
            _ => continue,
        };
        if inside.starts_with('/') || inside.split('/').any(|p| p == "..") {
            return Err(bad(format!("{name}: a path leaving the chart")));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        total = total.saturating_add(size);
        if size > limits.max_file_bytes || total > limits.max_total_bytes {
            return Err(Error::Limit(format!(
                "{archive} unpacks to more than {} bytes (limits max_file_bytes, max_total_bytes)",
                limits.max_total_bytes.min(limits.max_file_bytes.max(size))
            )));
        }
        if files.len() >= limits.max_files {
            return Err(Error::Limit(format!(
                "{archive} holds more than {} files (limit max_files)",
                limits.max_files
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        entry
            .by_ref()
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        files.push((inside, bytes));
    }
    Ok(files)
}

fn validate(path: &str, metadata: &Metadata) -> Result<()> {
    let bad = |message: String| {
        Err(Error::Chart {
            path: format!("{path}/Chart.yaml"),
            message,
        })
    };
    match metadata.api_version.as_str() {
        "v1" | "v2" => {}
        "" => return bad("validation: chart.metadata.apiVersion is required".into()),
        "v3" => {
            return bad("chart apiVersion v3 is experimental in Helm 4 and not supported".into());
        }
        other => {
            return bad(format!(
                "validation: chart.metadata.apiVersion {other:?} is invalid"
            ));
        }
    }
    if metadata.name.is_empty() {
        return bad("validation: chart.metadata.name is required".into());
    }
    if metadata.name.contains(['/', '\\']) || metadata.name == "." || metadata.name == ".." {
        return bad(format!(
            "validation: chart.metadata.name {:?} is invalid",
            metadata.name
        ));
    }
    if metadata.version.is_empty() {
        return bad("validation: chart.metadata.version is required".into());
    }
    if crate::funcs::parse_version(&metadata.version).is_err() {
        return bad(format!(
            "validation: chart.metadata.version {:?} is invalid",
            metadata.version
        ));
    }
    if !matches!(metadata.chart_type.as_str(), "" | "application" | "library") {
        return bad(format!(
            "validation: chart.metadata.type {:?} is invalid",
            metadata.chart_type
        ));
    }
    Ok(())
}

/// `.helmignore`: gitignore-like patterns, one per line, `#` comments, `!` negation, a
/// trailing `/` for directories only.
#[derive(Default)]
struct HelmIgnore {
    rules: Vec<(bool, bool, String)>,
}

impl HelmIgnore {
    fn parse(text: &str) -> HelmIgnore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let (dir_only, pattern) = match pattern.strip_suffix('/') {
                Some(rest) => (true, rest),
                None => (false, pattern),
            };
            rules.push((negate, dir_only, pattern.to_string()));
        }
        HelmIgnore { rules }
    }

    /// Whether `name` (a file path inside the chart) is ignored. Helm matches each rule
    /// against the path and its parent directories; `Chart.yaml` cannot be ignored.
    fn ignores(&self, name: &str) -> bool {
        if name == "Chart.yaml" {
            return false;
        }
        let mut ignored = false;
        let parts: Vec<&str> = name.split('/').collect();
        for (negate, dir_only, pattern) in &self.rules {
            let mut hit = false;
            for end in 1..=parts.len() {
                let is_dir = end < parts.len();
                if *dir_only && !is_dir {
                    continue;
                }
                let candidate = parts[..end].join("/");
                let base = parts[end - 1];
                let matched = if pattern.contains('/') {
                    glob_match(pattern.trim_start_matches('/'), &candidate)
                } else {
                    glob_match(pattern, base)
                };
                if matched {
                    hit = true;
                    break;
                }
            }
            if hit {
                ignored = !negate;
            }
        }
        ignored
    }
}

/// Go's `filepath.Match`: `*` and `?` do not cross `/`, `[…]` classes.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    crate::glob::matches(pattern, name, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if kind.is_symlink() {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn packaged_subcharts_unpack_within_bounds() {
        let limits = Limits::default();
        let chart = b"apiVersion: v2\nname: sub\nversion: 1.0.0\n";
        let good = archive(&[
            ("sub/Chart.yaml", tar::EntryType::Regular, chart),
            ("sub/templates/a.yaml", tar::EntryType::Regular, b"x"),
        ]);
        let files = unpack("c/charts/sub-1.0.0.tgz", &good, &limits).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Chart.yaml", "templates/a.yaml"]);

        let link = archive(&[("sub/templates/a.yaml", tar::EntryType::Symlink, b"")]);
        let err = unpack("c/charts/sub.tgz", &link, &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("links and special files are refused"), "{err}");

        let escape = archive(&[("sub/../../etc/x", tar::EntryType::Regular, b"x")]);
        let err = unpack("c/charts/sub.tgz", &escape, &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a path leaving the chart"), "{err}");

        let small = Limits {
            max_total_bytes: 10,
            ..Limits::default()
        };
        let big = archive(&[("sub/Chart.yaml", tar::EntryType::Regular, &[b'a'; 64])]);
        let err = unpack("c/charts/sub.tgz", &big, &small)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unpacks to more than"), "{err}");

        let err = unpack("c/charts/sub.tgz", b"not gzip", &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("c/charts/sub.tgz"), "{err}");
    }

    #[test]
    fn helmignore_and_globs() {
        let ignore = HelmIgnore::parse("# c\n*.tmp\nci/\n!keep.tmp\nsecret/*.yaml\n");
        assert!(ignore.ignores("a.tmp"));
        assert!(!ignore.ignores("keep.tmp"));
        assert!(ignore.ignores("ci/values.yaml"));
        assert!(ignore.ignores("secret/x.yaml"));
        assert!(!ignore.ignores("Chart.yaml"));
        assert!(glob_match("files/*.conf", "files/a.conf"));
        assert!(!glob_match("files/*.conf", "files/sub/a.conf"));
        assert!(glob_match("[a-c]?.txt", "b1.txt"));
    }
}
