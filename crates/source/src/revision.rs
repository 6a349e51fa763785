//! What an application asks for — a branch, a tag, a commit, or a semver range over tags —
//! parsed once, before any network traffic, so a typo fails early and clearly.

use std::fmt;

use crate::error::{Error, Result};

/// A revision of a repository, as an application names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Revision {
    /// The remote's default branch (its `HEAD`): the empty string or `HEAD`.
    Head,
    /// `refs/heads/NAME`: a branch, never a tag.
    Branch(String),
    /// `refs/tags/NAME`: a tag, never a branch.
    Tag(String),
    /// A name that is a branch or, if no branch has it, a tag (`main`, `v1.2.0`).
    Name(String),
    /// A commit id, full (40 or 64 hex digits) or abbreviated (at least 7).
    Commit(String),
    /// The highest tag whose version matches a semver range (`>=1.2.0 <2.0.0`, `~1.4`).
    Range(VersionRange),
}

impl Revision {
    /// Reads a revision as written in an Application.
    ///
    /// - `""`, `HEAD` → the default branch;
    /// - `refs/heads/X`, `refs/tags/X` → exactly that branch or tag;
    /// - 7 to 64 hex digits → a commit (a branch or tag of that exact name still wins);
    /// - text starting with `<`, `>`, `=`, `~` or `^`, or holding `*`, `x` wildcards, `||`
    ///   or spaces → a semver range over tags (npm style: `>=1.2.0 <2.0.0`, `~1.4`, `^1`,
    ///   `1.x`, `1.2.0 - 1.4.0`, `^1 || ^2`; the comma form `>=1.2, <2` also works);
    /// - anything else → a branch or tag name.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason: &str| Error::InvalidRevision {
            revision: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() || text == "HEAD" {
            return Ok(Revision::Head);
        }
        if text.starts_with('-') || text.chars().any(char::is_control) {
            return Err(invalid("may not start with '-' or hold control characters"));
        }
        if let Some(branch) = text.strip_prefix("refs/heads/") {
            return valid_ref_name(branch)
                .map(|()| Revision::Branch(branch.to_owned()))
                .map_err(&invalid);
        }
        if let Some(tag) = text.strip_prefix("refs/tags/") {
            return valid_ref_name(tag)
                .map(|()| Revision::Tag(tag.to_owned()))
                .map_err(&invalid);
        }
        if (7..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Revision::Commit(text.to_ascii_lowercase()));
        }
        if looks_like_range(text) {
            return VersionRange::parse(text).map(Revision::Range);
        }
        valid_ref_name(text)
            .map(|()| Revision::Name(text.to_owned()))
            .map_err(&invalid)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revision::Head => write!(f, "default branch (HEAD)"),
            Revision::Branch(name) => write!(f, "branch {name:?}"),
            Revision::Tag(name) => write!(f, "tag {name:?}"),
            Revision::Name(name) => write!(f, "branch or tag {name:?}"),
            Revision::Commit(id) => write!(f, "commit {id}"),
            Revision::Range(range) => write!(f, "tag matching {:?}", range.text),
        }
    }
}

fn looks_like_range(text: &str) -> bool {
    text.starts_with(['<', '>', '=', '~', '^'])
        || text.contains(['*', ' ', ','])
        || text.contains("||")
        || text
            .split('.')
            .skip(1)
            .any(|part| part.eq_ignore_ascii_case("x"))
}

/// The rules of `git check-ref-format` that matter for a name typed by a person.
fn valid_ref_name(name: &str) -> Result<(), &'static str> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.ends_with('/')
        || name.ends_with('.')
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\'));
    if bad {
        Err("is not a valid branch or tag name")
    } else {
        Ok(())
    }
}

/// A semver range in npm's notation, matched against tags such as `v1.4.2` or `1.4.2`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionRange {
    text: String,
    /// Alternatives (`||`); a version matches when any one matches.
    alternatives: Vec<semver::VersionReq>,
}

impl VersionRange {
    /// Parses npm-style ranges into the `semver` crate's comma-separated comparators.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidRevision {
            revision: text.to_owned(),
            reason,
        };
        let mut alternatives = Vec::new();
        for alternative in text.split("||") {
            let comparators =
                npm_comparators(alternative).map_err(|reason| invalid(reason.to_owned()))?;
            let requirement = semver::VersionReq::parse(&comparators.join(", "))
                .map_err(|err| invalid(format!("is not a semver range ({err})")))?;
            alternatives.push(requirement);
        }
        Ok(VersionRange {
            text: text.to_owned(),
            alternatives,
        })
    }

    /// The range as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `version` is in the range. Pre-releases match only comparators that name a
    /// pre-release of the same version, as in npm.
    pub fn matches(&self, version: &semver::Version) -> bool {
        self.alternatives.iter().any(|req| req.matches(version))
    }
}

/// `>=1.2.0 <2.0.0` → `[">=1.2.0", "<2.0.0"]`; `1.2 - 1.4` → `[">=1.2", "<=1.4"]`;
/// operators separated from their version by a space are joined to it.
fn npm_comparators(text: &str) -> Result<Vec<String>, &'static str> {
    let words: Vec<&str> = text
        .split([' ', ','])
        .filter(|word| !word.is_empty())
        .collect();
    if words.is_empty() {
        return Err("has an empty alternative");
    }
    if let [low, "-", high] = words.as_slice() {
        return Ok(vec![format!(">={low}"), format!("<={high}")]);
    }
    let mut comparators: Vec<String> = Vec::new();
    let mut pending_operator = String::new();
    for word in words {
        if word
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
        {
            pending_operator.push_str(word);
            continue;
        }
        let word = strip_v(word);
        comparators.push(format!("{}{word}", std::mem::take(&mut pending_operator)));
    }
    if !pending_operator.is_empty() {
        return Err("ends with an operator and no version");
    }
    Ok(comparators)
}

/// `>=v1.2` → `>=1.2`: tags carry a `v`, ranges often copy it.
fn strip_v(word: &str) -> String {
    let operator_len = word
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '~' | '^'))
        .unwrap_or(word.len());
    let (operator, version) = word.split_at(operator_len);
    let version = version
        .strip_prefix(['v', 'V'])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version);
    format!("{operator}{version}")
}

/// The version a tag names: `v1.4.2`, `1.4.2`, `v1.4` (as 1.4.0); `None` for other tags.
pub(crate) fn tag_version(tag: &str) -> Option<semver::Version> {
    let text = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    let numbers: Vec<u64> = text
        .split('.')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    match numbers.as_slice() {
        [major] => Some(semver::Version::new(*major, 0, 0)),
        [major, minor] => Some(semver::Version::new(*major, *minor, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> VersionRange {
        match Revision::parse(text).unwrap() {
            Revision::Range(range) => range,
            other => panic!("{text} parsed as {other:?}"),
        }
    }

    fn v(text: &str) -> semver::Version {
        semver::Version::parse(text).unwrap()
    }

    #[test]
    fn every_form_of_revision_is_recognised() {
        assert_eq!(Revision::parse("").unwrap(), Revision::Head);
        assert_eq!(Revision::parse("HEAD").unwrap(), Revision::Head);
        assert_eq!(
            Revision::parse("main").unwrap(),
            Revision::Name("main".into())
        );
        assert_eq!(
            Revision::parse("v1.2.0").unwrap(),
            Revision::Name("v1.2.0".into())
        );
        assert_eq!(
            Revision::parse("refs/heads/feature/x").unwrap(),
            Revision::Branch("feature/x".into())
        );
        assert_eq!(
            Revision::parse("refs/tags/v1").unwrap(),
            Revision::Tag("v1".into())
        );
        assert_eq!(
            Revision::parse("3F2C1E9").unwrap(),
            Revision::Commit("3f2c1e9".into())
        );
        let full = "a".repeat(40);
        assert_eq!(Revision::parse(&full).unwrap(), Revision::Commit(full));
    }

    #[test]
    fn npm_style_ranges_match_like_npm() {
        let r = range(">=1.2.0 <2.0.0");
        assert!(r.matches(&v("1.2.0")) && r.matches(&v("1.9.9")));
        assert!(!r.matches(&v("2.0.0")) && !r.matches(&v("1.1.9")));
        let r = range("~1.4");
        assert!(r.matches(&v("1.4.7")) && !r.matches(&v("1.5.0")));
        let r = range(">= 1.2, < 2");
        assert!(r.matches(&v("1.3.0")) && !r.matches(&v("2.1.0")));
        let r = range("1.2.0 - 1.4.0");
        assert!(r.matches(&v("1.4.0")) && !r.matches(&v("1.4.1")));
        let r = range("^1 || ^3");
        assert!(r.matches(&v("3.1.0")) && !r.matches(&v("2.0.0")));
        let r = range("1.x");
        assert!(r.matches(&v("1.7.0")) && !r.matches(&v("2.0.0")));
        let r = range(">=v1.0.0");
        assert!(r.matches(&v("1.0.0")));
        assert!(!range(">=1.0.0").matches(&v("1.1.0-rc.1")));
    }

    #[test]
    fn nonsense_is_refused_with_the_revision_named() {
        for bad in [">=", ">=banana", "a..b", "-x", "has space~", "x^"] {
            let err = Revision::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
    }

    #[test]
    fn tags_name_versions_with_or_without_v() {
        assert_eq!(tag_version("v1.4.2"), Some(v("1.4.2")));
        assert_eq!(tag_version("1.4.2-rc.1"), Some(v("1.4.2-rc.1")));
        assert_eq!(tag_version("v1.4"), Some(v("1.4.0")));
        assert_eq!(tag_version("release"), None);
    }
}
