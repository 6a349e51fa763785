//! The Kubernetes releases a test control plane can run, and which one this run uses.
//!
//! plumb is tested on the release people run today and on the oldest it supports; both are
//! built by `scripts/provision.sh` (see `scripts/kubernetes.sh`). A run picks one with
//! `PLUMB_K8S_VERSION` (`current` — the default — or `oldest`, or the version itself), so
//! `scripts/test.sh` can run the suite against each in turn.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::locations::cache_dir;

/// The environment variable choosing the release of control planes started by this process.
pub const RELEASE_ENV: &str = "PLUMB_K8S_VERSION";

/// A Kubernetes release of the test control plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    /// v1.20.2, from Debian's source package: the oldest release plumb supports.
    Oldest,
    /// v1.37.2, from Go's module proxy: the newest release, and the default.
    Current,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 2] = [Release::Oldest, Release::Current];

    /// The version, without the leading `v`.
    pub fn version(self) -> &'static str {
        match self {
            Release::Oldest => "1.20.2",
            Release::Current => "1.37.2",
        }
    }

    /// The minor version (20 for 1.20.2), for flags and behaviours that changed between them.
    pub fn minor(self) -> u32 {
        self.version()
            .split('.')
            .nth(1)
            .and_then(|minor| minor.parse().ok())
            .expect("release versions are written major.minor.patch")
    }

    /// The release named by [`RELEASE_ENV`]; [`Release::Current`] when it is unset.
    pub fn from_env() -> Result<Release, Error> {
        match std::env::var(RELEASE_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(Release::Current),
            Ok(value) if value.is_empty() => Ok(Release::Current),
            Ok(value) => value.parse(),
            Err(std::env::VarError::NotUnicode(value)) => Err(Error::UnknownRelease {
                given: value.to_string_lossy().into_owned(),
            }),
        }
    }

    /// Directory holding this release's `kube-apiserver` and `kube-controller-manager`
    /// (and, for releases built from Go modules, `etcd`).
    ///
    /// `PLUMB_K8S_BIN_DIR` overrides; otherwise the provisioning script's cache:
    /// `${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/plumb}/k8s-VERSION/bin`.
    pub fn bin_dir(self) -> PathBuf {
        if let Some(dir) = std::env::var_os("PLUMB_K8S_BIN_DIR") {
            return dir.into();
        }
        cache_dir()
            .join(format!("k8s-{}", self.version()))
            .join("bin")
    }

    /// Whether kube-controller-manager makes a token Secret for every ServiceAccount.
    /// Kubernetes 1.24 stopped (LegacyServiceAccountTokenNoAutoGeneration): tokens come
    /// from the TokenRequest API, or from a Secret made for the purpose.
    pub fn makes_token_secrets(self) -> bool {
        self.minor() < 24
    }

    /// Whether the components still take the flags of their insecure HTTP ports
    /// (`--insecure-port`, `--port`), removed in 1.24.
    pub fn has_insecure_ports(self) -> bool {
        self.minor() < 24
    }
}

impl std::str::FromStr for Release {
    type Err = Error;

    fn from_str(given: &str) -> Result<Release, Error> {
        let given = given.trim().trim_start_matches('v');
        Release::ALL
            .into_iter()
            .find(|release| {
                release.version() == given || given.eq_ignore_ascii_case(&release.to_string())
            })
            .ok_or_else(|| Error::UnknownRelease {
                given: given.to_owned(),
            })
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Release::Oldest => "oldest",
            Release::Current => "current",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_is_named_by_its_version_or_its_role() {
        assert_eq!("1.20.2".parse::<Release>().unwrap(), Release::Oldest);
        assert_eq!("v1.37.2".parse::<Release>().unwrap(), Release::Current);
        assert_eq!("oldest".parse::<Release>().unwrap(), Release::Oldest);
        assert_eq!("Current".parse::<Release>().unwrap(), Release::Current);
        let err = "1.29.0".parse::<Release>().unwrap_err().to_string();
        assert!(err.contains("1.29.0") && err.contains("1.37.2"), "{err}");
    }

    #[test]
    fn behaviours_follow_the_minor_version() {
        assert_eq!(Release::Oldest.minor(), 20);
        assert!(Release::Oldest.makes_token_secrets() && Release::Oldest.has_insecure_ports());
        assert!(!Release::Current.makes_token_secrets() && !Release::Current.has_insecure_ports());
    }
}
