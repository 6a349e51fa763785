//! A Helm chart rendered by `plumb-helm`: its values files read through the same
//! confinement and limits as the chart, the documents it renders parsed as any manifest.
//!
//! Precedence, lowest first, as `helm template -f … --set …` and Argo CD apply them: the
//! chart's `values.yaml`, the values files in order, inline values, parameters.

use plumb_helm::{Capabilities, Chart, Manifest};
use plumb_manifest::{DesiredObject, FileContents, Root, Syntax};

use crate::desired_set::DesiredSet;
use crate::error::{Error, Result, exceeded};
use crate::format::Renderer;
use crate::options::RenderOptions;
use crate::rendered::Rendered;

/// The dependencies the chart in directory `relative` of `root` declares without carrying
/// them in `charts/`, for the caller to fetch (see [`crate::HelmOptions::dependencies`]).
pub fn missing_dependencies(
    snapshot_root: &std::path::Path,
    relative: &str,
    limits: &plumb_manifest::Limits,
) -> Result<Vec<plumb_helm::Dependency>> {
    let root = Root::new(snapshot_root)?;
    let (display, dir) = root.directory(relative)?;
    if crate::format::Renderer::detect(&dir) != crate::format::Renderer::Helm {
        return Ok(Vec::new());
    }
    Ok(Chart::load(&root, &display, limits)?.missing_dependencies())
}

/// Renders the chart in directory `relative` of `root`.
pub(crate) fn render_chart(
    root: &Root,
    relative: &str,
    options: &RenderOptions,
) -> Result<Rendered> {
    let chart = Chart::load(root, relative, &options.limits)?;
    render_loaded(root, relative, None, chart, options)
}

/// Renders the packaged chart (`.tgz`) at `relative` in `root`; values files are relative
/// to the directory holding it.
pub(crate) fn render_archive(
    root: &Root,
    relative: &str,
    options: &RenderOptions,
) -> Result<Rendered> {
    let chart = Chart::load_archive(root, relative, &options.limits)?;
    let dir = relative.rsplit_once('/').map_or(".", |(dir, _)| dir);
    render_loaded(root, dir, Some(relative), chart, options)
}

fn render_loaded(
    root: &Root,
    relative: &str,
    archive: Option<&str>,
    mut chart: Chart,
    options: &RenderOptions,
) -> Result<Rendered> {
    let helm = &options.helm;
    let limits = &options.limits;
    for archive in &helm.dependencies {
        let (Some(dir), Some(file)) = (archive.parent(), archive.file_name()) else {
            continue;
        };
        chart.add_dependency(&Root::new(dir)?, &file.to_string_lossy(), limits)?;
    }
    let mut layers = Vec::new();
    for file in &helm.value_files {
        let path = if relative == "." {
            file.clone()
        } else {
            format!("{relative}/{file}")
        };
        let found = match root.resolve(&path) {
            Ok(found) => found,
            Err(plumb_manifest::Error::NotFound { .. }) if helm.ignore_missing_value_files => {
                continue;
            }
            Err(plumb_manifest::Error::NotFound { path }) => {
                return Err(Error::HelmValues(format!(
                    "values file {path} does not exist (the app's helm.valueFiles are relative to the chart's directory, {relative})"
                )));
            }
            Err(other) => return Err(other.into()),
        };
        let bytes = root.read(&found, limits.max_file_bytes)?;
        let text = String::from_utf8_lossy(&bytes);
        layers.push(
            plumb_helm::read_values(&text)
                .map_err(|e| Error::HelmValues(format!("{}: {e}", found.relative)))?,
        );
    }
    if let Some(inline) = &helm.values {
        if !inline.is_object() {
            return Err(Error::HelmValues(
                "the app's inline helm values must be a map".into(),
            ));
        }
        layers.push(plumb_helm::value::as_go_json(inline.clone()));
    }
    let mut values = plumb_helm::merge_user_values(&layers);
    for (name, value) in &helm.parameters {
        plumb_helm::set_parameter(&mut values, name, value)
            .map_err(|e| Error::HelmValues(format!("helm parameter {name}={value}: {e}")))?;
    }
    let render_options = plumb_helm::RenderOptions {
        release_name: helm
            .release_name
            .clone()
            .unwrap_or_else(|| "release-name".into()),
        namespace: helm.namespace.clone().unwrap_or_else(|| "default".into()),
        is_upgrade: false,
        values,
        capabilities: helm
            .capabilities
            .clone()
            .unwrap_or_else(Capabilities::helm_template_default),
        max_output_bytes: usize::try_from(limits.max_rendered_bytes).unwrap_or(usize::MAX),
        random_key: options.random_key.clone(),
    };
    if let Some(command) = &helm.external {
        return render_external(command, root, relative, archive, &render_options, options);
    }
    let rendered = plumb_helm::render(&chart, &render_options)?;
    let crds = if helm.skip_crds {
        &[][..]
    } else {
        &rendered.crds[..]
    };
    // Test hooks run only under `helm test`; the other hooks are the engine's to run.
    let hooks = rendered.hooks.iter().filter(|h| !h.is_test_hook());
    let mut objects = Vec::new();
    for manifest in crds.iter().chain(&rendered.manifests).chain(hooks) {
        let path = repository_path(relative, manifest);
        let FileContents {
            objects: found,
            ignored,
        } = plumb_manifest::parse_with(
            &path,
            Syntax::Yaml,
            manifest.content.as_bytes(),
            false,
            limits.yaml_options(),
        )?;
        if let Some(skipped) = ignored.first() {
            return Err(Error::HelmValues(format!(
                "{}: the chart rendered a document that is not an object: {}",
                skipped.origin, skipped.reason
            )));
        }
        objects.extend(found);
        if objects.len() > limits.max_objects {
            return Err(exceeded("max_objects", limits.max_objects as u64, &path));
        }
    }
    finish(objects, Vec::new(), limits)
}

/// A chart's objects as a render: within the render's size limits, as one DesiredSet.
fn finish(
    objects: Vec<DesiredObject>,
    ignored: Vec<plumb_manifest::Ignored>,
    limits: &plumb_manifest::Limits,
) -> Result<Rendered> {
    plumb_manifest::size::check(
        limits,
        objects
            .iter()
            .map(|o: &DesiredObject| (o.manifest(), o.origin().to_string())),
    )?;
    Ok(Rendered {
        renderer: Renderer::Helm,
        objects: DesiredSet::new(objects)?,
        ignored,
    })
}

/// `helm template` by an external binary, on a private copy of the chart's files (read
/// through the same confinement and limits as the native engine's) with the dependencies
/// fetched for it in `charts/`, and the values composed by plumb in one file.
fn render_external(
    command: &str,
    root: &Root,
    relative: &str,
    archive: Option<&str>,
    render_options: &plumb_helm::RenderOptions,
    options: &RenderOptions,
) -> Result<Rendered> {
    let limits = &options.limits;
    let helm = &options.helm;
    let io = |action: &str, source: std::io::Error| {
        Error::HelmValues(format!("--helm-external: cannot {action}: {source}"))
    };
    let scratch = tempfile::tempdir().map_err(|e| io("make a private directory", e))?;
    let chart_dir = match archive {
        // A packaged chart (from a repository) goes to helm as it is.
        Some(archive) => {
            let file = root.resolve(archive)?;
            let target = scratch.path().join("chart.tgz");
            std::fs::write(&target, root.read(&file, limits.max_file_bytes)?)
                .map_err(|e| io("copy the chart", e))?;
            target
        }
        None => copy_chart(root, relative, scratch.path(), helm, limits)?,
    };
    let values = scratch.path().join("values.json");
    std::fs::write(&values, render_options.values.to_string())
        .map_err(|e| io("write the values", e))?;
    let mut args: Vec<std::ffi::OsString> = vec![
        "template".into(),
        render_options.release_name.clone().into(),
        chart_dir.into(),
        "--namespace".into(),
        render_options.namespace.clone().into(),
        "-f".into(),
        values.into(),
        "--skip-tests".into(),
        "--kube-version".into(),
        render_options.capabilities.kube_version.clone().into(),
    ];
    if !helm.skip_crds {
        args.push("--include-crds".into());
    }
    for api in &render_options.capabilities.api_versions {
        args.push("--api-versions".into());
        args.push(api.into());
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let timeout = std::time::Duration::from_secs(limits.max_external_seconds);
    let out = plumb_kustomize::run_external(command, &args, timeout, limits.max_rendered_bytes)
        .map_err(|failure| {
            Error::HelmValues(match failure {
                plumb_kustomize::ExternalFailure::Spawn(e) => {
                    format!("--helm-external {command}: cannot run it: {e}")
                }
                plumb_kustomize::ExternalFailure::Timeout(t) => {
                    format!("--helm-external {command}: still running after {t:?}; killed")
                }
                plumb_kustomize::ExternalFailure::TooMuchOutput(n) => {
                    format!("--helm-external {command}: printed more than {n} bytes; killed")
                }
                plumb_kustomize::ExternalFailure::Exit(message) => {
                    format!("--helm-external {command}: {message}")
                }
            })
        })?;
    let origin = format!("{relative} (helm-external)");
    let FileContents { objects, ignored } =
        plumb_manifest::parse_with(&origin, Syntax::Yaml, &out, false, limits.yaml_options())?;
    if objects.len() > limits.max_objects {
        return Err(exceeded("max_objects", limits.max_objects as u64, &origin));
    }
    finish(objects, ignored, limits)
}

/// A private copy of the chart in `relative`, its files read within the repository and its
/// limits, with the fetched dependencies in `charts/`.
fn copy_chart(
    root: &Root,
    relative: &str,
    scratch: &std::path::Path,
    helm: &crate::options::HelmOptions,
    limits: &plumb_manifest::Limits,
) -> Result<std::path::PathBuf> {
    let io = |action: &str, source: std::io::Error| {
        Error::HelmValues(format!("--helm-external: cannot {action}: {source}"))
    };
    let chart_dir = scratch.join("chart");
    let (display, dir) = root.directory(relative)?;
    let base = if display == "." { "" } else { display.as_str() };
    for file in root.files(base, &dir, true)? {
        let inside = file.relative.strip_prefix(base).unwrap_or(&file.relative);
        let inside = inside.trim_start_matches('/').trim_start_matches("./");
        let target = chart_dir.join(inside);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("copy the chart", e))?;
        }
        std::fs::write(&target, root.read(&file, limits.max_file_bytes)?)
            .map_err(|e| io("copy the chart", e))?;
    }
    std::fs::create_dir_all(chart_dir.join("charts")).map_err(|e| io("copy the chart", e))?;
    for archive in &helm.dependencies {
        if let Some(name) = archive.file_name() {
            std::fs::copy(archive, chart_dir.join("charts").join(name))
                .map_err(|e| io("copy a dependency", e))?;
        }
    }
    Ok(chart_dir)
}

/// Where a rendered document came from, as a repository path: the template
/// `web/charts/db/templates/x.yaml` of the chart in `apps/web` is
/// `apps/web/charts/db/templates/x.yaml`.
fn repository_path(chart_dir: &str, manifest: &Manifest) -> String {
    let inside = manifest
        .source
        .split_once('/')
        .map_or(manifest.source.as_str(), |(_, rest)| rest);
    if chart_dir == "." {
        inside.to_string()
    } else {
        format!("{chart_dir}/{inside}")
    }
}
