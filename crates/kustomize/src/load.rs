//! Reading a kustomization's files: the kustomization itself, resources (files, or
//! directories with their own kustomization), patches and generator sources — all
//! confined to the snapshot root, bounded by the render's limits, and decrypted when
//! SOPS encrypted them. Under [`LoadRestrictor::RootOnly`] the files a kustomization
//! reads must lie in or below its directory, as Kustomize's default requires; under
//! [`LoadRestrictor::None`] (Flux's rule, plumb's default) anywhere in the repository.
//! Bases may be anywhere in the repository either way.

use std::cell::Cell;

use serde_json::Value;

use super::resource::Resource;
use crate::error::{Error, Result};
use crate::options::KUSTOMIZATION_FILES;
use crate::options::{BuildOptions, LoadRestrictor};
use plumb_manifest::Syntax;
use plumb_manifest::{RepoFile, Root};

/// What one render shares across all its kustomizations.
pub(crate) struct Context<'a> {
    pub(crate) root: Root,
    pub(crate) options: &'a BuildOptions,
    files: Cell<usize>,
    bytes: Cell<u64>,
    /// Kustomization directories being built, to refuse cycles.
    pub(crate) stack: std::cell::RefCell<Vec<String>>,
    /// A file read with other contents than on disk (path relative to the root): how an
    /// edit is rendered before it is written.
    pub(crate) replaced: Option<(String, Vec<u8>)>,
    /// Whether transformers note themselves on the objects (`transformerAnnotations`).
    pub(crate) transformations: Cell<bool>,
    /// The schema strategic merges use, as kustomizations name it (`openapi`).
    pub(crate) openapi: std::cell::RefCell<crate::schema::OpenApi>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(root: Root, options: &'a BuildOptions) -> Self {
        Context {
            root,
            options,
            files: Cell::new(0),
            bytes: Cell::new(0),
            stack: std::cell::RefCell::new(Vec::new()),
            replaced: None,
            transformations: Cell::new(false),
            openapi: Default::default(),
        }
    }

    /// Reads a confined file, counting it against the limits.
    pub(crate) fn read(&self, file: &RepoFile) -> Result<Vec<u8>> {
        let limits = &self.options.limits;
        self.files.set(self.files.get() + 1);
        if self.files.get() > limits.max_files {
            return Err(exceeded(
                "max_files",
                limits.max_files as u64,
                &file.relative,
            ));
        }
        let bytes = match &self.replaced {
            Some((path, contents)) if *path == file.relative => contents.clone(),
            _ => self.root.read(file, limits.max_file_bytes)?,
        };
        self.bytes.set(self.bytes.get() + bytes.len() as u64);
        if self.bytes.get() > limits.max_total_bytes {
            return Err(exceeded(
                "max_total_bytes",
                limits.max_total_bytes,
                &file.relative,
            ));
        }
        Ok(bytes)
    }
}

pub(crate) fn exceeded(limit: &'static str, value: u64, at: &str) -> Error {
    Error::Manifest(plumb_manifest::Error::LimitExceeded {
        limit,
        value,
        detail: format!("reached at {at}"),
    })
}

/// One kustomization directory and its file.
pub(crate) struct Loader<'c, 'a> {
    pub(crate) context: &'c Context<'a>,
    /// The directory, relative to the root (`.` for the root itself).
    pub(crate) dir: RepoFile,
    pub(crate) file: RepoFile,
}

impl<'c, 'a> Loader<'c, 'a> {
    /// Opens the kustomization in `dir`; exactly one kustomization file must be there.
    pub(crate) fn open(context: &'c Context<'a>, dir: RepoFile) -> Result<Self> {
        let mut found = Vec::new();
        for name in KUSTOMIZATION_FILES {
            found.extend(context.root.child_file(&dir, name)?);
        }
        match found.len() {
            0 => Err(Error::KustomizationMissing {
                path: dir.relative.clone(),
            }),
            1 => Ok(Loader {
                context,
                file: found.into_iter().next().expect("one"),
                dir,
            }),
            _ => Err(Error::KustomizationInvalid {
                file: dir.relative.clone(),
                detail: "found multiple kustomization files; keep one".into(),
            }),
        }
    }

    /// The kustomization file, relative to the root.
    pub(crate) fn kustomization_file(&self) -> String {
        self.file.relative.clone()
    }

    /// An error in this kustomization.
    pub(crate) fn error(&self, detail: String) -> Error {
        Error::KustomizeFailed {
            file: self.kustomization_file(),
            detail,
        }
    }

    /// A transformer's failure in this kustomization; a limit passed stays that.
    pub(crate) fn fail(&self, error: super::BuildError) -> Error {
        match error.limit {
            Some((limit, value)) => Error::Manifest(plumb_manifest::Error::LimitExceeded {
                limit,
                value,
                detail: format!("{}: {}", self.kustomization_file(), error.detail),
            }),
            None => self.error(error.detail),
        }
    }

    /// The kustomization's document. A key given twice takes its last value, as Kustomize
    /// reads kustomization files (its resources and patches refuse that).
    pub(crate) fn read_kustomization(&self) -> Result<Value> {
        let bytes = self.context.read(&self.file)?;
        let mut options = self.context.options.limits.kustomize_yaml_options();
        options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        let documents = parse_with(&self.file.relative, &bytes, options)?;
        Ok(documents.into_iter().next().unwrap_or(Value::Null))
    }

    /// Joins a path written in the kustomization onto its directory.
    pub(crate) fn join(&self, path: &str) -> String {
        if self.dir.relative == "." {
            path.to_owned()
        } else {
            format!("{}/{path}", self.dir.relative)
        }
    }

    /// Resolves a path of the kustomization (file or directory).
    pub(crate) fn resolve(&self, path: &str) -> Result<RepoFile> {
        if path.starts_with('/') {
            return Err(Error::Manifest(plumb_manifest::Error::PathOutsideRoot {
                path: path.to_owned(),
                reason: "absolute paths are not allowed".into(),
            }));
        }
        Ok(self.context.root.resolve(&self.join(path))?)
    }

    /// Reads a file of this kustomization: it must be in or below the directory.
    pub(crate) fn read_relative(&self, path: &str) -> Result<Vec<u8>> {
        let file = self.resolve(path)?;
        self.check_restriction(path, &file)?;
        if file.is_dir() {
            return Err(self.error(format!("{path} is a directory, not a file")));
        }
        self.context.read(&file)
    }

    /// Refuses a file outside this kustomization's directory under
    /// [`LoadRestrictor::RootOnly`]; `path` is how the kustomization names it.
    fn check_restriction(&self, path: &str, file: &RepoFile) -> Result<()> {
        let below = self.dir.relative == "."
            || file
                .relative
                .starts_with(&format!("{}/", self.dir.relative));
        if below || self.context.options.load_restrictor == LoadRestrictor::None {
            return Ok(());
        }
        Err(self.error(format!(
            "security; file '{path}' is not in or below '{}' (load restrictor {}); move it below the kustomization, make it a base with its own kustomization, or render with --load-restrictor {}",
            self.dir.relative,
            LoadRestrictor::RootOnly,
            LoadRestrictor::None
        )))
    }

    /// Parses YAML as Kustomize reads it.
    pub(crate) fn parse_yaml(&self, source: &str, bytes: &[u8]) -> Result<Vec<Value>> {
        parse_with(
            source,
            bytes,
            self.context.options.limits.kustomize_yaml_options(),
        )
    }

    /// The objects of a resource file (decrypted when SOPS encrypted it).
    /// Objects from YAML this kustomization produced (a chart it inflated), named `origin`.
    pub(crate) fn resource_bytes(&self, origin: &str, bytes: &[u8]) -> Result<Vec<Resource>> {
        let options = self.context.options;
        let contents = plumb_manifest::parse_with(
            origin,
            Syntax::Yaml,
            bytes,
            false,
            options.limits.kustomize_yaml_options(),
        )?;
        resources_of(contents)
    }

    pub(crate) fn resource_file(&self, file: &RepoFile) -> Result<Vec<Resource>> {
        self.check_restriction(&file.relative, file)?;
        let bytes = self.context.read(file)?;
        let syntax = if file.relative.ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Yaml
        };
        let options = self.context.options;
        let contents = plumb_manifest::parse_decrypted(
            &file.relative,
            syntax,
            &bytes,
            options.decryption.as_deref(),
            options.limits.kustomize_yaml_options(),
        )?;
        resources_of(contents)
    }
}

fn parse_with(source: &str, bytes: &[u8], options: serde_saphyr::Options) -> Result<Vec<Value>> {
    serde_saphyr::from_slice_multiple_with_options(bytes, options).map_err(|err| {
        Error::Manifest(plumb_manifest::Error::Syntax {
            path: source.to_owned(),
            detail: err
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
    })
}

/// A file's objects as resources; a document that is not an object is an error, as in
/// Kustomize.
fn resources_of(contents: plumb_manifest::FileContents) -> Result<Vec<Resource>> {
    if let Some(ignored) = contents.ignored.first() {
        return Err(Error::Manifest(plumb_manifest::Error::InvalidObject {
            origin: ignored.origin.clone(),
            detail: format!(
                "{}; Kustomize accepts only Kubernetes objects as resources",
                ignored.reason
            ),
        }));
    }
    Ok(contents
        .objects
        .into_iter()
        .map(|object| {
            let (manifest, origin, decrypted) = object.into_parts();
            Resource::new(manifest, origin, decrypted)
        })
        .collect())
}
