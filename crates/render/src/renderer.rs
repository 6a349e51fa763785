//! The render of one application path: the renderer [`crate::format`] picks, then the
//! bounds every render keeps (objects, bytes), whatever produced the objects.

use std::path::Path;

use crate::desired_set::DesiredSet;
use crate::directory::FileFilter;
use crate::error::{Error, Result, exceeded};
use crate::format::Renderer;
use crate::options::RenderOptions;
use crate::rendered::Rendered;
use plumb_manifest::DesiredObject;
use plumb_manifest::Root;
use plumb_manifest::{FileContents, Syntax};

/// Renders the directory `path` (relative to `snapshot_root`) into objects.
///
/// All or nothing: any error (a bad file, a confinement breach, a duplicate, a limit) fails
/// the whole render, and the caller must then apply and prune nothing.
pub fn render(snapshot_root: &Path, path: &str, options: &RenderOptions) -> Result<Rendered> {
    let root = Root::new(snapshot_root)?;
    if path.ends_with(".tgz") {
        return crate::helm::render_archive(&root, path, options);
    }
    let (relative, dir) = root.directory(path)?;
    match Renderer::detect(&dir) {
        Renderer::Kustomize(file) => render_kustomize(root, &relative, &dir, file, options),
        Renderer::Helm => crate::helm::render_chart(&root, &relative, options),
        Renderer::PlainManifests => render_plain(&root, &relative, &dir, options),
    }
}

fn render_kustomize(
    root: Root,
    relative: &str,
    dir: &Path,
    file: &'static str,
    options: &RenderOptions,
) -> Result<Rendered> {
    let built = plumb_kustomize::render(root, dir, relative, &options.build_options())?;
    if built.len() > options.limits.max_objects {
        return Err(exceeded(
            "max_objects",
            options.limits.max_objects as u64,
            relative,
        ));
    }
    plumb_manifest::size::check(
        &options.limits,
        built
            .iter()
            .map(|(manifest, origin, _)| (manifest, origin.to_string())),
    )?;
    let objects = built
        .into_iter()
        .map(|(manifest, origin, decrypted)| {
            DesiredObject::from_manifest(manifest, origin.clone(), decrypted).map_err(|detail| {
                Error::Manifest(plumb_manifest::Error::InvalidObject { origin, detail })
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Rendered {
        renderer: Renderer::Kustomize(file),
        objects: DesiredSet::new(objects)?,
        ignored: Vec::new(),
    })
}

fn render_plain(
    root: &Root,
    relative: &str,
    dir: &Path,
    options: &RenderOptions,
) -> Result<Rendered> {
    let limits = &options.limits;
    let filter = FileFilter::new(&options.directory)?;
    let prefix = if relative == "." {
        String::new()
    } else {
        format!("{relative}/")
    };
    let base = if relative == "." { "" } else { relative };
    let files = root.files(base, dir, options.directory.recursive)?;

    // Read in order (the limits stop at the file that crosses them), then parse.
    let mut read = Vec::new();
    let mut total_bytes = 0u64;
    for file in &files {
        let Some(syntax) = Syntax::of(&file.relative) else {
            continue;
        };
        let within_app = file
            .relative
            .strip_prefix(&prefix)
            .unwrap_or(&file.relative);
        if !filter.admits(within_app) {
            continue;
        }
        if let Some(chart) = helm_chart(&file.relative) {
            return Err(Error::HelmChart { chart });
        }
        if read.len() >= limits.max_files {
            return Err(exceeded(
                "max_files",
                limits.max_files as u64,
                &file.relative,
            ));
        }
        let bytes = root.read(file, limits.max_file_bytes)?;
        total_bytes += bytes.len() as u64;
        if total_bytes > limits.max_total_bytes {
            return Err(exceeded(
                "max_total_bytes",
                limits.max_total_bytes,
                &file.relative,
            ));
        }
        read.push((file.relative.as_str(), syntax, bytes));
    }

    let mut objects = Vec::new();
    let mut ignored = Vec::new();
    for ((path, _, _), parsed) in read.iter().zip(parse_all(&read, options)) {
        let FileContents {
            objects: found,
            ignored: skipped,
        } = parsed?;
        objects.extend(found);
        ignored.extend(skipped);
        if objects.len() > limits.max_objects {
            return Err(exceeded("max_objects", limits.max_objects as u64, path));
        }
    }
    plumb_manifest::size::check(
        limits,
        objects
            .iter()
            .map(|o| (o.manifest(), o.origin().to_string())),
    )?;
    Ok(Rendered {
        renderer: Renderer::PlainManifests,
        objects: DesiredSet::new(objects)?,
        ignored,
    })
}

/// The chart directory, when `relative` is a Helm chart's `Chart.yaml`: its templates are
/// not manifests, and the file itself would only be reported as a document without `kind`.
fn helm_chart(relative: &str) -> Option<String> {
    match relative.rsplit_once('/') {
        Some((dir, "Chart.yaml")) => Some(dir.to_owned()),
        None if relative == "Chart.yaml" => Some(".".to_owned()),
        _ => None,
    }
}

/// Parses every file, on as many threads as there are processors (parsing YAML is most of
/// rendering a large directory); results come back in the files' order.
fn parse_all(
    files: &[(&str, Syntax, Vec<u8>)],
    options: &RenderOptions,
) -> Vec<Result<FileContents>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    // Small directories are not worth a thread.
    if threads < 2 || files.len() < 8 {
        return files
            .iter()
            .map(|(path, syntax, bytes)| parse_file(path, *syntax, bytes, options))
            .collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(path, syntax, bytes)| parse_file(path, *syntax, bytes, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Parses one manifest file, decrypted first when SOPS encrypted it.
fn parse_file(
    path: &str,
    syntax: Syntax,
    bytes: &[u8],
    options: &RenderOptions,
) -> Result<FileContents> {
    Ok(plumb_manifest::parse_decrypted(
        path,
        syntax,
        bytes,
        options.decryption.as_deref(),
        options.limits.yaml_options(),
    )?)
}
