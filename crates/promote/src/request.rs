//! `set-image`'s arguments: `NAME=IMAGE[:TAG|@DIGEST]` or `NAME:TAG` / `NAME@DIGEST`, read as
//! `kustomize edit set image` reads them.

use plumb_kustomize::{FieldChange, ImageEntryChange, ImageRef, check_image_name};

use crate::error::{Error, Result};
use crate::want::{Want, Wanted};

/// `NAME=IMAGE[:TAG|@DIGEST]`: workloads using NAME run exactly IMAGE (and the tag or
/// digest, when given — giving one clears the other); `NAME:TAG` or `NAME@DIGEST`: only
/// the tag or digest changes. These are `kustomize edit set image`'s meanings.
pub fn requested_image(argument: &str) -> Result<Wanted> {
    let (name, image, renames) = match argument.split_once('=') {
        Some((name, image)) => {
            check_image_name(name)?;
            (name.to_owned(), ImageRef::parse(image)?, true)
        }
        None => {
            let image = ImageRef::parse(argument).map_err(|err| Error::Argument {
                argument: argument.to_owned(),
                detail: format!("is neither NAME=IMAGE[:TAG] nor NAME:TAG: {err}"),
            })?;
            if image.tag.is_none() && image.digest.is_none() {
                return Err(Error::Argument {
                    argument: argument.to_owned(),
                    detail: "says no tag or digest: write NAME=IMAGE[:TAG|@DIGEST] or NAME:TAG"
                        .to_owned(),
                });
            }
            (image.name.clone(), image, false)
        }
    };
    let set = |value: &Option<String>| match value {
        Some(value) => FieldChange::Set(value.clone()),
        None => FieldChange::Remove,
    };
    let versioned = image.tag.is_some() || image.digest.is_some();
    let change = ImageEntryChange {
        new_name: match (renames, image.name == name) {
            (false, _) => FieldChange::Keep,
            (true, true) => FieldChange::Remove,
            (true, false) => FieldChange::Set(image.name.clone()),
        },
        new_tag: if versioned {
            set(&image.tag)
        } else {
            FieldChange::Keep
        },
        digest: if versioned {
            set(&image.digest)
        } else {
            FieldChange::Keep
        },
        ..ImageEntryChange::keep(&name)
    };
    let want = Want::Parts {
        name: renames.then(|| image.name.clone()),
        tag: versioned.then(|| image.tag.clone().unwrap_or_default()),
        digest: versioned.then(|| image.digest.clone().unwrap_or_default()),
    };
    Ok(Wanted {
        change,
        want,
        skip_if_rendered: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_alone_keeps_the_name_and_clears_the_digest() {
        let wanted = requested_image("nginx:1.27").unwrap();
        assert_eq!(wanted.change.name, "nginx");
        assert_eq!(wanted.change.new_name, FieldChange::Keep);
        assert_eq!(wanted.change.new_tag, FieldChange::Set("1.27".into()));
        assert_eq!(wanted.change.digest, FieldChange::Remove);
        assert!(wanted.want.met_by("ghcr.io/x/nginx:1.27"));
    }

    #[test]
    fn a_new_name_without_a_version_keeps_tag_and_digest() {
        let wanted = requested_image("nginx=registry.example/nginx").unwrap();
        assert_eq!(
            wanted.change.new_name,
            FieldChange::Set("registry.example/nginx".into())
        );
        assert_eq!(wanted.change.new_tag, FieldChange::Keep);
        assert!(wanted.want.met_by("registry.example/nginx:1.0"));
        assert!(!wanted.want.met_by("nginx:1.0"));
    }

    #[test]
    fn naming_the_same_image_removes_new_name() {
        let wanted = requested_image("nginx=nginx:2").unwrap();
        assert_eq!(wanted.change.new_name, FieldChange::Remove);
    }

    #[test]
    fn a_bare_name_is_refused_with_the_forms_to_write() {
        let err = requested_image("nginx").unwrap_err().to_string();
        assert!(
            err.contains("NAME=IMAGE[:TAG|@DIGEST] or NAME:TAG"),
            "{err}"
        );
    }
}
