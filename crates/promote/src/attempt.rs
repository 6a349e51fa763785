//! One attempt at an edit: the overlay's kustomization read and edited in memory, the
//! overlay rendered before and after, and every container using an edited image checked to
//! run what was asked. Nothing is written here.

use std::path::Path;

use plumb_kustomize::{
    BuildOptions, ContainerImage, image_matches, kustomization_file, overlay_images, set_images,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::want::Wanted;

/// Which command edits, for commit messages and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `set-image`.
    Set,
    /// `promote`, from this overlay.
    Promote {
        /// The source overlay.
        from: String,
    },
}

impl Verb {
    /// The `plumb` subcommand that makes this edit.
    pub fn command(&self) -> &'static str {
        match self {
            Verb::Set => "set-image",
            Verb::Promote { .. } => "promote",
        }
    }
}

/// An edit of the overlay at `path`.
pub struct Edit<'a> {
    /// The repository root: nothing outside it is read.
    pub root: &'a Path,
    /// The overlay, relative to the root.
    pub path: String,
    /// How the overlay is rendered.
    pub options: BuildOptions,
    /// The images to change.
    pub wanted: Vec<Wanted>,
    /// Which command edits.
    pub verb: Verb,
    /// Fail when an image is used by no workload of the overlay, rather than warn.
    pub strict: bool,
}

/// One image's versions before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageMove {
    /// The image name in the bases.
    pub name: String,
    /// The distinct images its containers ran before.
    pub from: Vec<String>,
    /// The distinct images they run after.
    pub to: Vec<String>,
}

/// One attempt at the edit, nothing written yet.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The kustomization file, relative to the root.
    pub file: String,
    /// Its text before.
    pub before: String,
    /// Its text after; `None` when it already says what was asked.
    pub after: Option<String>,
    /// Each image's versions before and after.
    pub moves: Vec<ImageMove>,
    /// What the user should know (an image no workload uses).
    pub warnings: Vec<String>,
}

impl Edit<'_> {
    /// The overlay's kustomization file, relative to the root.
    pub fn file(&self) -> Result<String> {
        kustomization_file(self.root, &self.path).map_err(|source| Error::NotAnOverlay {
            path: self.path.clone(),
            source: Box::new(source),
        })
    }

    /// Reads the kustomization, edits it in memory and renders the result.
    pub fn attempt(&self) -> Result<Attempt> {
        let path = &self.path;
        let file = self.file()?;
        let before =
            std::fs::read_to_string(self.root.join(&file)).map_err(|source| Error::Read {
                file: file.clone(),
                source,
            })?;
        let containers = overlay_images(self.root, path, &self.options, None).map_err(|err| {
            Error::DoesNotRender {
                path: path.clone(),
                source: Box::new(err),
            }
        })?;
        let mut warnings = Vec::new();
        let mut changes = Vec::new();
        let mut checks = Vec::new();
        for wanted in &self.wanted {
            let name = &wanted.change.name;
            let using = using(&containers, name);
            if using.is_empty() {
                if self.strict {
                    return Err(Error::UnusedImage {
                        path: path.clone(),
                        name: name.clone(),
                        hint: "; check the name against the images in its bases",
                    });
                }
                warnings.push(format!(
                    "no workload of {path} uses image {name:?}; its entry is set anyway"
                ));
            }
            if wanted.skip_if_rendered
                && !using.is_empty()
                && using.iter().all(|c| wanted.want.met_by(&c.output))
            {
                continue;
            }
            changes.push(wanted.change.clone());
            checks.push(wanted);
        }
        let after = set_images(&file, &before, &changes)?;
        let rendered_after = match &after {
            Some(text) => {
                overlay_images(self.root, path, &self.options, Some(text)).map_err(|err| {
                    Error::BreaksRender {
                        path: path.clone(),
                        source: Box::new(err),
                    }
                })?
            }
            None => containers.clone(),
        };
        for wanted in checks {
            let name = &wanted.change.name;
            if let Some(container) = using(&rendered_after, name)
                .into_iter()
                .find(|c| !wanted.want.met_by(&c.output))
            {
                return Err(Error::Overridden {
                    object: container.object.clone(),
                    container: container.container.clone(),
                    path: path.clone(),
                    image: container.output.clone(),
                    name: name.clone(),
                });
            }
        }
        let moves = self
            .wanted
            .iter()
            .map(|w| ImageMove {
                name: w.change.name.clone(),
                from: distinct(&containers, &w.change.name),
                to: distinct(&rendered_after, &w.change.name),
            })
            .collect();
        Ok(Attempt {
            file,
            before,
            after,
            moves,
            warnings,
        })
    }
}

/// The containers given image `name` (as an `images:` entry named so matches them).
fn using<'c>(containers: &'c [ContainerImage], name: &str) -> Vec<&'c ContainerImage> {
    containers
        .iter()
        .filter(|c| image_matches(name, &c.input))
        .collect()
}

/// The distinct images containers using `name` render, in order of appearance.
fn distinct(containers: &[ContainerImage], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in using(containers, name) {
        if !out.contains(&c.output) {
            out.push(c.output.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::requested_image;

    /// A base running `web:1` and an overlay over it, in a fresh directory.
    fn repository(overlay: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("base/kustomization.yaml", "resources:\n- web.yaml\n");
        write(
            "base/web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n",
        );
        write("dev/kustomization.yaml", overlay);
        dir
    }

    fn edit<'a>(root: &'a Path, argument: &str, strict: bool) -> Edit<'a> {
        Edit {
            root,
            path: "dev".into(),
            options: BuildOptions::default(),
            wanted: vec![requested_image(argument).unwrap()],
            verb: Verb::Set,
            strict,
        }
    }

    #[test]
    fn an_edit_is_rendered_and_its_moves_reported() {
        let repo = repository("# the dev overlay\nresources:\n- ../base\n");
        let attempt = edit(repo.path(), "web:2", false).attempt().unwrap();
        assert_eq!(attempt.file, "dev/kustomization.yaml");
        let after = attempt.after.unwrap();
        assert!(after.starts_with("# the dev overlay\n"), "{after}");
        assert!(
            after.ends_with("images:\n- name: web\n  newTag: \"2\"\n"),
            "{after}"
        );
        assert_eq!(
            attempt.moves,
            [ImageMove {
                name: "web".into(),
                from: vec!["web:1".into()],
                to: vec!["web:2".into()],
            }]
        );
        // Nothing was written.
        let on_disk = std::fs::read_to_string(repo.path().join("dev/kustomization.yaml")).unwrap();
        assert_eq!(on_disk, attempt.before);
    }

    #[test]
    fn an_unused_image_warns_or_fails_when_strict() {
        let repo = repository("resources:\n- ../base\n");
        let attempt = edit(repo.path(), "db:2", false).attempt().unwrap();
        assert_eq!(attempt.warnings.len(), 1);
        let err = edit(repo.path(), "db:2", true).attempt().unwrap_err();
        assert!(matches!(err, Error::UnusedImage { .. }), "{err}");
    }

    #[test]
    fn an_edit_undone_later_in_the_overlay_is_refused() {
        // A replacement runs after `images:` and pins the image again.
        let repo = repository(
            "resources:\n- ../base\n- pin.yaml\nreplacements:\n- source: {kind: ConfigMap, name: pin, fieldPath: data.image}\n  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.template.spec.containers.0.image]\n",
        );
        std::fs::write(
            repo.path().join("dev/pin.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pin\ndata:\n  image: web:pinned\n",
        )
        .unwrap();
        let err = edit(repo.path(), "web:2", false).attempt().unwrap_err();
        assert!(matches!(err, Error::Overridden { .. }), "{err}");
    }

    #[test]
    fn a_directory_without_a_kustomization_is_not_an_overlay() {
        let repo = repository("resources:\n- ../base\n");
        let mut edit = edit(repo.path(), "web:2", false);
        edit.path = "nowhere".into();
        assert!(matches!(edit.attempt(), Err(Error::NotAnOverlay { .. })));
    }
}
