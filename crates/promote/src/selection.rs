//! `promote`'s choice: which images of the target overlay to set, and the one version the
//! source overlay renders for each — refused when the source runs several.

use plumb_kustomize::{ContainerImage, FieldChange, ImageEntryChange, split_image};

use crate::error::{Error, Result};
use crate::want::{Want, Wanted};

/// A promotion between two overlays, from the images both render.
pub struct Promotion<'a> {
    /// The source overlay, as named to the user.
    pub from: &'a str,
    /// The target overlay, as named to the user.
    pub to: &'a str,
    /// What the source renders.
    pub source: &'a [ContainerImage],
    /// What the target renders.
    pub target: &'a [ContainerImage],
    /// Only these images (their names in the bases, or rendered names); empty: all.
    pub only: &'a [String],
    /// Fail where a named image is missing, rather than warn.
    pub strict: bool,
}

/// The entries a promotion sets, and what it left alone and why.
#[derive(Debug)]
pub struct Selection {
    /// The edits, one per image name.
    pub wanted: Vec<Wanted>,
    /// Images asked for or used that are not promoted, in words for the user.
    pub warnings: Vec<String>,
}

impl Promotion<'_> {
    /// The edits that make the target run what the source runs.
    pub fn select(&self) -> Result<Selection> {
        let mut warnings = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for container in self.target {
            let name = split_image(&container.input).0;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let selected: Vec<String> = if self.only.is_empty() {
            names
        } else {
            let mut selected = Vec::new();
            for asked in self.only {
                let found: Vec<&String> = names
                    .iter()
                    .filter(|name| *name == asked || rendered_as(self.target, name, asked))
                    .collect();
                if found.is_empty() {
                    if self.strict {
                        return Err(Error::UnusedImage {
                            path: self.to.to_owned(),
                            name: asked.clone(),
                            hint: "",
                        });
                    }
                    warnings.push(format!(
                        "no workload of {} uses image {asked:?}; not promoted",
                        self.to
                    ));
                }
                selected.extend(found.into_iter().cloned());
            }
            selected
        };
        let mut wanted = Vec::new();
        for name in selected {
            let versions = versions(self.source, &name);
            let image = match versions.as_slice() {
                [] => {
                    if self.strict && !self.only.is_empty() {
                        return Err(Error::NotInSource {
                            name,
                            to: self.to.to_owned(),
                            from: self.from.to_owned(),
                        });
                    }
                    warnings.push(format!(
                        "image {name:?} of {} is used by no workload of {}; left as it is",
                        self.to, self.from
                    ));
                    continue;
                }
                [one] => one.clone(),
                many => {
                    return Err(Error::SourceDisagrees {
                        from: self.from.to_owned(),
                        name,
                        versions: many.join(", "),
                    });
                }
            };
            wanted.push(exactly(&name, image));
        }
        Ok(Selection { wanted, warnings })
    }
}

/// The entry that makes containers given image `name` run exactly `image`.
fn exactly(name: &str, image: String) -> Wanted {
    let (new_name, tag, digest) = split_image(&image);
    let set = |value: &str| {
        if value.is_empty() {
            FieldChange::Remove
        } else {
            FieldChange::Set(value.to_owned())
        }
    };
    Wanted {
        change: ImageEntryChange {
            new_name: if new_name == name {
                FieldChange::Remove
            } else {
                FieldChange::Set(new_name.clone())
            },
            new_tag: set(&tag),
            digest: set(&digest),
            tag_suffix: FieldChange::Remove,
            ..ImageEntryChange::keep(name)
        },
        want: Want::Exact(image),
        skip_if_rendered: true,
    }
}

/// Whether a target container using image `name` renders as repository `asked`.
fn rendered_as(target: &[ContainerImage], name: &str, asked: &str) -> bool {
    target
        .iter()
        .any(|c| split_image(&c.input).0 == name && split_image(&c.output).0 == asked)
}

/// The distinct images the source renders for containers given image `name`.
fn versions(source: &[ContainerImage], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in source.iter().filter(|c| split_image(&c.input).0 == name) {
        if !out.contains(&c.output) {
            out.push(c.output.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(object: &str, input: &str, output: &str) -> ContainerImage {
        ContainerImage {
            object: object.into(),
            container: "/spec/template/spec/containers/0".into(),
            input: input.into(),
            output: output.into(),
        }
    }

    fn promotion<'a>(
        source: &'a [ContainerImage],
        target: &'a [ContainerImage],
        only: &'a [String],
        strict: bool,
    ) -> Promotion<'a> {
        Promotion {
            from: "envs/staging",
            to: "envs/prod",
            source,
            target,
            only,
            strict,
        }
    }

    #[test]
    fn the_target_is_set_to_exactly_what_the_source_runs() {
        let source = [container(
            "Deployment a/web",
            "web",
            "ghcr.io/x/web:2@sha256:b",
        )];
        let target = [container("Deployment b/web", "web:1", "web:1")];
        let selection = promotion(&source, &target, &[], false).select().unwrap();
        let [wanted] = selection.wanted.as_slice() else {
            panic!("{selection:?}")
        };
        assert_eq!(wanted.change.name, "web");
        assert_eq!(
            wanted.change.new_name,
            FieldChange::Set("ghcr.io/x/web".into())
        );
        assert_eq!(wanted.change.new_tag, FieldChange::Set("2".into()));
        assert_eq!(wanted.change.digest, FieldChange::Set("sha256:b".into()));
        assert_eq!(wanted.change.tag_suffix, FieldChange::Remove);
        assert_eq!(wanted.want, Want::Exact("ghcr.io/x/web:2@sha256:b".into()));
        assert!(selection.warnings.is_empty());
    }

    #[test]
    fn a_source_running_two_versions_is_refused() {
        let source = [
            container("Deployment a/web", "web", "web:2"),
            container("Deployment a/worker", "web", "web:3"),
        ];
        let target = [container("Deployment b/web", "web", "web:1")];
        let err = promotion(&source, &target, &[], false)
            .select()
            .unwrap_err();
        assert!(
            matches!(err, Error::SourceDisagrees { ref versions, .. } if versions == "web:2, web:3")
        );
    }

    #[test]
    fn images_the_source_lacks_are_left_with_a_warning_or_refused_when_named_strictly() {
        let target = [container("Deployment b/db", "postgres", "postgres:16")];
        let selection = promotion(&[], &target, &[], true).select().unwrap();
        assert!(selection.wanted.is_empty());
        assert_eq!(selection.warnings.len(), 1);
        let only = ["postgres".to_owned()];
        let err = promotion(&[], &target, &only, true).select().unwrap_err();
        assert!(matches!(err, Error::NotInSource { .. }));
    }

    #[test]
    fn an_image_may_be_named_as_it_renders() {
        let source = [container("Deployment a/web", "web", "ghcr.io/x/web:2")];
        let target = [container("Deployment b/web", "web", "ghcr.io/x/web:1")];
        let only = ["ghcr.io/x/web".to_owned()];
        let selection = promotion(&source, &target, &only, true).select().unwrap();
        assert_eq!(selection.wanted.len(), 1);
        let missing = ["nothing".to_owned()];
        let err = promotion(&source, &target, &missing, true)
            .select()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no workload of envs/prod uses image \"nothing\" (--strict)"
        );
    }
}
