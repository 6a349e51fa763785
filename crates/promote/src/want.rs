//! What an edit must achieve: the `images:` entry to change, and what the containers using
//! that image must run afterwards — checked on the rendered overlay, not on the entry.

use plumb_kustomize::{ImageEntryChange, split_image};

/// One image to change and what the overlay must render for it afterwards.
#[derive(Clone, Debug)]
pub struct Wanted {
    /// The change to the overlay's `images:` entry for this image name.
    pub change: ImageEntryChange,
    /// What containers using the image must run after the edit.
    pub want: Want,
    /// Leave the entry alone when the overlay already renders what is wanted (promote:
    /// the environments already agree).
    pub skip_if_rendered: bool,
}

/// What containers using an image must run after the edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    /// Exactly this image.
    Exact(String),
    /// These parts (`Some("")`: must be absent); `None`: not checked.
    Parts {
        /// The repository, when the edit renames.
        name: Option<String>,
        /// The tag.
        tag: Option<String>,
        /// The digest.
        digest: Option<String>,
    },
}

impl Want {
    /// Whether a container running `image` runs what is wanted.
    pub fn met_by(&self, image: &str) -> bool {
        match self {
            Want::Exact(exact) => image == exact,
            Want::Parts { name, tag, digest } => {
                let (n, t, d) = split_image(image);
                name.as_ref().is_none_or(|x| *x == n)
                    && tag.as_ref().is_none_or(|x| *x == t)
                    && digest.as_ref().is_none_or(|x| *x == d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_left_unchecked_match_anything_and_empty_parts_must_be_absent() {
        let tag_only = Want::Parts {
            name: None,
            tag: Some("1.2".into()),
            digest: Some(String::new()),
        };
        assert!(tag_only.met_by("nginx:1.2"));
        assert!(tag_only.met_by("registry.example/nginx:1.2"));
        assert!(!tag_only.met_by("nginx:1.3"));
        assert!(!tag_only.met_by("nginx:1.2@sha256:abc"));
        assert!(Want::Exact("nginx:1.2".into()).met_by("nginx:1.2"));
        assert!(!Want::Exact("nginx:1.2".into()).met_by("docker.io/nginx:1.2"));
    }
}
