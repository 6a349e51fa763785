//! Plain manifests: a directory of `.yaml`, `.yml` and `.json` files, optionally recursive
//! and filtered by include/exclude globs (as Argo CD's directory source offers).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// How a directory of plain manifests is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryOptions {
    /// Read subdirectories too (`.git` is always skipped).
    pub recursive: bool,
    /// When not empty, only files matching one of these globs are read.
    pub include: Vec<String>,
    /// Files matching one of these globs are not read, even when included.
    pub exclude: Vec<String>,
}

/// Compiled include/exclude globs.
///
/// A pattern is matched against the file's path relative to the application directory;
/// `*` stops at `/`, `**` crosses it, `{a,b}` gives alternatives. A pattern without a `/`
/// matches the file name in any directory, so `*.json` means every JSON file — what people
/// mean when they write it.
#[derive(Debug)]
pub(crate) struct FileFilter {
    include: Option<Patterns>,
    exclude: Option<Patterns>,
}

#[derive(Debug)]
struct Patterns {
    by_path: GlobSet,
    by_name: GlobSet,
}

impl FileFilter {
    pub(crate) fn new(options: &DirectoryOptions) -> Result<Self> {
        Ok(FileFilter {
            include: Patterns::compile(&options.include)?,
            exclude: Patterns::compile(&options.exclude)?,
        })
    }

    /// Whether the file at `relative` (to the application directory) is read.
    pub(crate) fn admits(&self, relative: &str) -> bool {
        let included = self.include.as_ref().is_none_or(|p| p.matches(relative));
        let excluded = self.exclude.as_ref().is_some_and(|p| p.matches(relative));
        included && !excluded
    }
}

impl Patterns {
    fn compile(patterns: &[String]) -> Result<Option<Self>> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut by_path = GlobSetBuilder::new();
        let mut by_name = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .map_err(|err| Error::InvalidGlob {
                    pattern: pattern.clone(),
                    detail: err.kind().to_string(),
                })?;
            if pattern.contains('/') {
                by_path.add(glob);
            } else {
                by_name.add(glob);
            }
        }
        let build = |builder: GlobSetBuilder| {
            builder.build().map_err(|err| Error::InvalidGlob {
                pattern: patterns.join(", "),
                detail: err.to_string(),
            })
        };
        Ok(Some(Patterns {
            by_path: build(by_path)?,
            by_name: build(by_name)?,
        }))
    }

    fn matches(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        self.by_path.is_match(relative) || self.by_name.is_match(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> FileFilter {
        FileFilter::new(&DirectoryOptions {
            recursive: true,
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn no_patterns_admit_everything() {
        assert!(filter(&[], &[]).admits("a/b.yaml"));
    }

    #[test]
    fn a_name_pattern_matches_in_every_directory() {
        let json_only = filter(&["*.json"], &[]);
        assert!(json_only.admits("x.json"));
        assert!(json_only.admits("deep/er/x.json"));
        assert!(!json_only.admits("x.yaml"));
    }

    #[test]
    fn a_path_pattern_is_anchored_and_star_stops_at_slashes() {
        let top = filter(&["apps/*.yaml"], &[]);
        assert!(top.admits("apps/web.yaml"));
        assert!(!top.admits("apps/sub/web.yaml"));
        assert!(filter(&["apps/**/*.yaml"], &[]).admits("apps/sub/web.yaml"));
    }

    #[test]
    fn exclude_wins_and_braces_give_alternatives() {
        let f = filter(&["*.{yaml,yml}"], &["*-test.yaml", "secrets/**"]);
        assert!(f.admits("web.yml"));
        assert!(!f.admits("web-test.yaml"));
        assert!(!f.admits("secrets/db.yaml"));
    }

    #[test]
    fn a_bad_pattern_is_an_error_naming_it() {
        let err = FileFilter::new(&DirectoryOptions {
            include: vec!["{a,b".into()],
            ..DirectoryOptions::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("\"{a,b\""), "{err}");
    }
}
