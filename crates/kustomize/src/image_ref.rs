//! Image references as a person writes them (`registry:5000/team/app:1.4.0@sha256:…`):
//! checked against the grammar registries accept, so a typo is refused before it reaches
//! a kustomization, and split into name, tag and digest exactly as the images transformer
//! splits the images it rewrites ([`super::transform::images::split`]).

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::transform::images::split;
use crate::error::{Error, Result};

/// `[domain[:port]/]component[/component…]`, as the distribution reference grammar has
/// it: lower-case path components joined by `.`, `_`, `__` or dashes; a domain of
/// dot-separated labels (any case) with an optional port.
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    let label = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"{label}(?:\.{label})*(?::[0-9]+)?");
    Regex::new(&format!(r"^(?:{domain}/)?{component}(?:/{component})*$")).expect("valid")
});

static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid"));

static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$").expect("valid")
});

/// A checked image reference: a name and at most one tag and one digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository, with its registry when one is named (`registry:5000/team/app`).
    pub name: String,
    /// The tag (`1.4.0`), if any.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses and checks `text`; the error says which part is malformed.
    pub fn parse(text: &str) -> Result<ImageRef> {
        let (name, tag, digest) = split(text);
        let bad = |reason: String| Error::ImageReference {
            reference: text.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(bad("the image name is empty".into()));
        }
        check_name(&name).map_err(bad)?;
        if text.contains(':') && tag.is_empty() && digest.is_empty() && text.ends_with(':') {
            return Err(bad("the tag after ':' is empty".into()));
        }
        if text.ends_with('@') {
            return Err(bad("the digest after '@' is empty".into()));
        }
        if !tag.is_empty() && !TAG.is_match(&tag) {
            return Err(bad(format!(
                "tag {tag:?} is not valid: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
            )));
        }
        if !digest.is_empty() {
            check_digest(&digest).map_err(bad)?;
        }
        Ok(ImageRef {
            name,
            tag: (!tag.is_empty()).then_some(tag),
            digest: (!digest.is_empty()).then_some(digest),
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Checks an image name without tag or digest (the `name` of an `images:` entry).
pub fn check_image_name(name: &str) -> Result<()> {
    check_name(name).map_err(|reason| Error::ImageReference {
        reference: name.to_owned(),
        reason,
    })
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.len() > 255 {
        return Err("the name is longer than 255 characters".into());
    }
    if !NAME.is_match(name) {
        return Err(format!(
            "{name:?} is not a valid image name: lower-case path components of letters, digits, '.', '_' or '-', separated by '/', optionally after a registry host[:port]/"
        ));
    }
    Ok(())
}

fn check_digest(digest: &str) -> std::result::Result<(), String> {
    if !DIGEST.is_match(digest) {
        return Err(format!(
            "digest {digest:?} is not valid: ALGORITHM:HEX, e.g. sha256: and 64 hex digits"
        ));
    }
    let (algorithm, hex) = digest.split_once(':').unwrap_or_default();
    let expected = match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    };
    if let Some(expected) = expected
        && hex.len() != expected
    {
        return Err(format!(
            "digest {digest:?}: a {algorithm} digest has {expected} hex digits, this one {}",
            hex.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";

    #[test]
    fn references_split_as_the_transformer_splits_them() {
        let r = ImageRef::parse("registry.example.com:5000/team/app:1.4.0").unwrap();
        assert_eq!(r.name, "registry.example.com:5000/team/app");
        assert_eq!(r.tag.as_deref(), Some("1.4.0"));
        assert_eq!(r.digest, None);
        let r = ImageRef::parse(&format!("app@{SHA}")).unwrap();
        assert_eq!((r.name.as_str(), r.tag.as_deref()), ("app", None));
        assert_eq!(r.digest.as_deref(), Some(SHA));
        let r = ImageRef::parse(&format!("ghcr.io/o/app:v2@{SHA}")).unwrap();
        assert_eq!(r.to_string(), format!("ghcr.io/o/app:v2@{SHA}"));
        assert_eq!(ImageRef::parse("nginx").unwrap().to_string(), "nginx");
        assert_eq!(
            ImageRef::parse("localhost:5000/app").unwrap().tag,
            None,
            "a port is not a tag"
        );
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (text, says) in [
            ("", "empty"),
            ("App:1", "not a valid image name"),
            ("app:", "tag after ':' is empty"),
            ("app@", "digest after '@' is empty"),
            ("app:-1", "tag \"-1\" is not valid"),
            ("app:1 2", "not valid"),
            ("app@sha256:abc", "64 hex digits"),
            ("app@md5", "not valid"),
            ("team//app", "not a valid image name"),
            ("app/", "not a valid image name"),
            ("-app", "not a valid image name"),
        ] {
            let err = ImageRef::parse(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
