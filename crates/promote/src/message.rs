//! The commit message of an edit: a subject saying what moved from which version to which,
//! and one body line per image that changed.

use crate::attempt::{Attempt, Edit, ImageMove, Verb};

impl Edit<'_> {
    /// The message committing `attempt`; `subject` replaces the composed first line.
    pub fn message(&self, attempt: &Attempt, subject: Option<&str>) -> String {
        let path = &self.path;
        let changed: Vec<&ImageMove> = attempt.moves.iter().filter(|m| m.from != m.to).collect();
        let subject = match (subject, &self.verb, changed.as_slice()) {
            (Some(subject), _, _) => subject.to_owned(),
            (None, Verb::Set, [one]) => format!(
                "{path}: set {} to {} (was {})",
                one.name,
                one.to.join(", "),
                shown(&one.from)
            ),
            (None, Verb::Set, many) => format!(
                "{path}: set images {}",
                many.iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Verb::Promote { from }, [one]) => format!(
                "{path}: promote {} {} from {from} (was {})",
                one.name,
                one.to.join(", "),
                shown(&one.from)
            ),
            (None, Verb::Promote { from }, many) => {
                format!("{path}: promote {} images from {from}", many.len())
            }
        };
        let mut body = String::new();
        for m in &changed {
            body.push_str(&format!(
                "- {}: {} -> {}\n",
                m.name,
                shown(&m.from),
                m.to.join(", ")
            ));
        }
        format!(
            "{subject}\n\n{body}\nMade with `plumb {}`.\n",
            self.verb.command()
        )
    }
}

/// Versions as a person reads them: `unused` when no container ran the image.
pub fn shown(images: &[String]) -> String {
    if images.is_empty() {
        "unused".into()
    } else {
        images.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use plumb_kustomize::BuildOptions;

    use super::*;

    fn attempt(moves: Vec<ImageMove>) -> Attempt {
        Attempt {
            file: "prod/kustomization.yaml".into(),
            before: String::new(),
            after: Some(String::new()),
            moves,
            warnings: Vec::new(),
        }
    }

    fn image(name: &str, from: &[&str], to: &[&str]) -> ImageMove {
        ImageMove {
            name: name.into(),
            from: from.iter().map(|s| (*s).to_owned()).collect(),
            to: to.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn edit(verb: Verb) -> Edit<'static> {
        Edit {
            root: Path::new("."),
            path: "prod".into(),
            options: BuildOptions::default(),
            wanted: Vec::new(),
            verb,
            strict: false,
        }
    }

    #[test]
    fn one_promoted_image_is_named_in_the_subject_with_its_old_version() {
        let promote = edit(Verb::Promote {
            from: "staging".into(),
        });
        let text = promote.message(
            &attempt(vec![
                image("web", &["web:1"], &["web:2"]),
                image("db", &["db:9"], &["db:9"]),
            ]),
            None,
        );
        assert_eq!(
            text,
            "prod: promote web web:2 from staging (was web:1)\n\n- web: web:1 -> web:2\n\nMade with `plumb promote`.\n"
        );
    }

    #[test]
    fn several_images_and_a_given_subject() {
        let set = edit(Verb::Set);
        let moves = vec![
            image("web", &[], &["web:2"]),
            image("db", &["db:1"], &["db:2"]),
        ];
        let text = set.message(&attempt(moves.clone()), None);
        assert!(text.starts_with("prod: set images web, db\n\n- web: unused -> web:2\n"));
        let given = set.message(&attempt(moves), Some("release 7"));
        assert!(given.starts_with("release 7\n\n"));
        assert!(given.ends_with("Made with `plumb set-image`.\n"));
    }
}
