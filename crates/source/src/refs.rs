//! The references a remote advertises (`git ls-remote`), and which commit a [`Revision`]
//! names among them. Pure: the network part is in [`crate::remote`].

use std::collections::BTreeMap;

use crate::revision::{Revision, tag_version};

/// Branches and tags of a remote, each with the commit it points to (annotated tags
/// peeled to their commit).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RemoteRefs {
    /// Full ref name (`refs/heads/main`, `HEAD`) → commit id.
    commits: BTreeMap<String, String>,
}

/// What a revision names among the advertised references.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// A commit, through the reference that names it (`None` for a commit id).
    Found {
        commit: String,
        reference: Option<String>,
    },
    /// A commit id no reference points to: only a fetch can tell whether it exists.
    Unadvertised(String),
    /// Nothing matches.
    NotFound,
}

impl RemoteRefs {
    /// Reads `git ls-remote` output: `OID<TAB>REF` lines, `^{}` lines for peeled tags,
    /// `ref: TARGET<TAB>HEAD` lines from `--symref` (ignored).
    pub(crate) fn parse(output: &str) -> Self {
        let mut commits = BTreeMap::new();
        let mut peeled = BTreeMap::new();
        for line in output.lines() {
            let Some((oid, name)) = line.split_once('\t') else {
                continue;
            };
            if oid.starts_with("ref:") {
                continue;
            }
            match name.strip_suffix("^{}") {
                Some(tag) => peeled.insert(tag.to_owned(), oid.to_owned()),
                None => commits.insert(name.to_owned(), oid.to_owned()),
            };
        }
        commits.extend(peeled);
        RemoteRefs { commits }
    }

    /// The `git ls-remote` patterns that list just what `revision` needs; empty = all.
    pub(crate) fn patterns(revision: &Revision) -> Vec<String> {
        match revision {
            Revision::Head => vec!["HEAD".into()],
            Revision::Branch(name) => vec![format!("refs/heads/{name}")],
            // The peeled line of an annotated tag is only listed when asked for by name.
            Revision::Tag(name) => vec![
                format!("refs/tags/{name}"),
                format!("refs/tags/{name}^{{}}"),
            ],
            Revision::Name(name) => vec![
                format!("refs/heads/{name}"),
                format!("refs/tags/{name}"),
                format!("refs/tags/{name}^{{}}"),
            ],
            Revision::Commit(id) => vec![
                format!("refs/heads/{id}"),
                format!("refs/tags/{id}"),
                format!("refs/tags/{id}^{{}}"),
                "refs/heads/*".into(),
                "refs/tags/*".into(),
            ],
            Revision::Range(_) => vec!["refs/tags/*".into()],
        }
    }

    pub(crate) fn resolve(&self, revision: &Revision) -> Resolution {
        let by_name = |name: String| {
            self.commits.get(&name).map(|commit| Resolution::Found {
                commit: commit.clone(),
                reference: Some(name),
            })
        };
        let found = match revision {
            Revision::Head => self.commits.get("HEAD").map(|commit| Resolution::Found {
                commit: commit.clone(),
                reference: Some("HEAD".into()),
            }),
            Revision::Branch(name) => by_name(format!("refs/heads/{name}")),
            Revision::Tag(name) => by_name(format!("refs/tags/{name}")),
            Revision::Name(name) => by_name(format!("refs/heads/{name}"))
                .or_else(|| by_name(format!("refs/tags/{name}"))),
            Revision::Commit(id) => by_name(format!("refs/heads/{id}"))
                .or_else(|| by_name(format!("refs/tags/{id}")))
                .or_else(|| Some(self.commit_by_prefix(id))),
            Revision::Range(range) => self
                .commits
                .iter()
                .filter_map(|(name, commit)| {
                    let tag = name.strip_prefix("refs/tags/")?;
                    let version = tag_version(tag)?;
                    range.matches(&version).then_some((version, name, commit))
                })
                // Highest version; between `v1.2.0` and `1.2.0`, the last name sorts first.
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
                .map(|(_, name, commit)| Resolution::Found {
                    commit: commit.clone(),
                    reference: Some(name.clone()),
                }),
        };
        found.unwrap_or(Resolution::NotFound)
    }

    fn commit_by_prefix(&self, id: &str) -> Resolution {
        if id.len() == 40 || id.len() == 64 {
            return Resolution::Found {
                commit: id.to_owned(),
                reference: None,
            };
        }
        let mut matching: Vec<&String> = self
            .commits
            .values()
            .filter(|commit| commit.starts_with(id))
            .collect();
        matching.sort();
        matching.dedup();
        match matching.as_slice() {
            [one] => Resolution::Found {
                commit: (*one).clone(),
                reference: None,
            },
            _ => Resolution::Unadvertised(id.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
    const D: &str = "dddddddddddddddddddddddddddddddddddddddd";

    fn refs() -> RemoteRefs {
        RemoteRefs::parse(&format!(
            "ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{B}\trefs/heads/v1.0.0\n\
             {C}\trefs/tags/v1.0.0\n{D}\trefs/tags/v1.4.2\n{C}\trefs/tags/v1.4.2^{{}}\n\
             {B}\trefs/tags/v2.0.0\n{A}\trefs/tags/v1.5.0-rc.1\n{B}\trefs/tags/release\n"
        ))
    }

    fn found(resolution: Resolution) -> (String, Option<String>) {
        match resolution {
            Resolution::Found { commit, reference } => (commit, reference),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_name_is_a_branch_before_it_is_a_tag() {
        let (commit, reference) = found(refs().resolve(&Revision::Name("v1.0.0".into())));
        assert_eq!(
            (commit.as_str(), reference.as_deref()),
            (B, Some("refs/heads/v1.0.0"))
        );
        let (commit, _) = found(refs().resolve(&Revision::Tag("v1.0.0".into())));
        assert_eq!(commit, C);
    }

    #[test]
    fn annotated_tags_resolve_to_their_commit() {
        let (commit, _) = found(refs().resolve(&Revision::Name("v1.4.2".into())));
        assert_eq!(commit, C);
    }

    #[test]
    fn a_range_picks_the_highest_matching_release() {
        let range = Revision::parse(">=1.0.0 <2.0.0").unwrap();
        let (commit, reference) = found(refs().resolve(&range));
        assert_eq!(
            (commit.as_str(), reference.as_deref()),
            (C, Some("refs/tags/v1.4.2"))
        );
        let none = Revision::parse(">=3").unwrap();
        assert_eq!(refs().resolve(&none), Resolution::NotFound);
    }

    #[test]
    fn commit_ids_resolve_by_prefix_or_are_left_to_a_fetch() {
        let (commit, reference) = found(refs().resolve(&Revision::Commit("bbbbbbb".into())));
        assert_eq!((commit.as_str(), reference), (B, None));
        assert_eq!(
            refs().resolve(&Revision::Commit("1234567".into())),
            Resolution::Unadvertised("1234567".into())
        );
        let (commit, _) = found(refs().resolve(&Revision::Commit("e".repeat(40))));
        assert_eq!(commit, "e".repeat(40));
    }

    #[test]
    fn missing_branches_are_not_found() {
        assert_eq!(
            refs().resolve(&Revision::Branch("gone".into())),
            Resolution::NotFound
        );
    }
}
