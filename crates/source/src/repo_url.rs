//! Repository URLs: which transport they use, what is safe to print, and where their cache
//! lives.
//!
//! A URL given by a user may carry credentials (`https://user:token@host/repo`). They are
//! taken out here, once: git is only ever given the URL without them (so they never reach a
//! command line visible in `/proc`), and only the redacted form is ever printed.

use crate::error::{Error, Result};

/// How git reaches a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A repository on the local file system (`file://` or an absolute path).
    File,
    /// The unauthenticated git protocol (`git://`).
    Git,
    /// Smart HTTP or HTTPS.
    Http,
    /// SSH (`ssh://` or `user@host:path`).
    Ssh,
}

/// A parsed repository URL.
#[derive(Clone, Debug)]
pub(crate) struct RepoUrl {
    /// What git is given: no password, never starting with `-`.
    pub(crate) for_git: String,
    /// What is printed: [`for_git`](Self::for_git), which is already free of secrets.
    pub(crate) shown: String,
    pub(crate) transport: Transport,
    /// `user`/`password` found in an HTTP(S) URL.
    pub(crate) embedded: Option<(String, String)>,
}

impl RepoUrl {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redact_url(text),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(invalid("is empty"));
        }
        if text.starts_with('-') || text.chars().any(char::is_control) {
            return Err(invalid(
                "may not start with '-' or contain control characters",
            ));
        }
        if text.starts_with('/') {
            return Ok(Self::plain(format!("file://{text}"), Transport::File));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return scp_like(text).ok_or_else(|| {
                invalid("is neither a URL (https://, ssh://, git://, file://), user@host:path, nor an absolute path")
            });
        };
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "file" => Transport::File,
            "git" => Transport::Git,
            "http" | "https" => Transport::Http,
            "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
            other => {
                return Err(invalid(&format!(
                    "transport {other:?} is not supported (use https, ssh, git or file)"
                )));
            }
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            return Ok(Self::plain(text.to_owned(), transport));
        };
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let scheme = scheme.to_ascii_lowercase();
        match (transport, password) {
            (Transport::Http, Some(password)) => Ok(RepoUrl {
                embedded: Some((user.to_owned(), password.to_owned())),
                ..Self::plain(format!("{scheme}://{host}{path}"), transport)
            }),
            (Transport::Http, None) => Ok(RepoUrl {
                embedded: Some((user.to_owned(), String::new())),
                ..Self::plain(format!("{scheme}://{host}{path}"), transport)
            }),
            (Transport::Ssh, None) => Ok(Self::plain(text.to_owned(), transport)),
            (Transport::Ssh, Some(_)) => Err(invalid(
                "SSH URLs may not carry a password: give a private key in the credentials",
            )),
            _ => Err(invalid("only HTTP(S) and SSH URLs may carry a user")),
        }
    }

    /// The scheme git speaks, lower-case: `https`, `http`, `git`, `ssh` or `file`.
    pub(crate) fn scheme(&self) -> &'static str {
        match self.transport {
            Transport::File => "file",
            Transport::Git => "git",
            Transport::Ssh => "ssh",
            Transport::Http if self.for_git[..5].eq_ignore_ascii_case("https") => "https",
            Transport::Http => "http",
        }
    }

    fn plain(for_git: String, transport: Transport) -> Self {
        RepoUrl {
            shown: for_git.clone(),
            for_git,
            transport,
            embedded: None,
        }
    }

    /// A directory name for this repository's cache: readable, and unique by a hash of the
    /// normalised URL (scheme and host lower-cased, no user, no trailing `/` or `.git`).
    pub(crate) fn cache_key(&self) -> String {
        let normal = self.normalised();
        let slug: String = normal
            .split_once("://")
            .map_or(normal.as_str(), |(_, rest)| rest)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let slug = slug.trim_matches('-');
        let slug = &slug[slug.len().saturating_sub(48)..];
        format!("{slug}-{:016x}", fnv1a(normal.as_bytes()))
    }

    /// The URL with what does not change the repository removed: the key of the cache.
    pub(crate) fn normalised(&self) -> String {
        let url = &self.for_git;
        let (scheme, rest) = url.split_once("://").unwrap_or(("ssh", url));
        let (authority, path) = rest.split_at(rest.find(['/', ':']).unwrap_or(rest.len()));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        format!(
            "{}://{}{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase(),
            path
        )
    }
}

/// Where a repository is, however its URL is spelled: the host (with a port, if any) and the
/// path on it, without scheme, user, `.git` or trailing slash. A push payload carries some
/// spellings of a repository while an Application's `repoURL` uses another:
/// `https://github.com/Org/Repo.git`, `git@github.com:org/repo`,
/// `ssh://git@github.com/org/repo.git` and `git://github.com/org/repo` are one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryLocation {
    /// `github.com`, `git.example.com:7999`.
    pub host: String,
    /// `org/repo`, as written (case kept).
    pub path: String,
}

impl RepositoryLocation {
    /// Reads any spelling git accepts; never fails (an odd URL gives an odd location that
    /// matches nothing else).
    pub fn of(url: &str) -> RepositoryLocation {
        let url = url.trim();
        let (rest, scp_like) = match url.split_once("://") {
            Some((_scheme, rest)) => (rest, false),
            None => (url, true),
        };
        let rest = match rest.split_once('@') {
            Some((user, host_and_path)) if !user.contains('/') => host_and_path,
            _ => rest,
        };
        // In scp syntax (`host:path`) the colon separates the path, not a port.
        let separator = if scp_like { ':' } else { '/' };
        let (host, path) = match rest.split_once(separator) {
            Some((host, path)) if !host.contains('/') => (host, path),
            _ => ("", rest),
        };
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        RepositoryLocation {
            host: host.to_owned(),
            path: path.to_owned(),
        }
    }

    /// `host/path`, lower-cased: equal for every spelling of one repository.
    pub fn canonical(&self) -> String {
        format!("{}/{}", self.host, self.path).to_ascii_lowercase()
    }
}

/// `user@host:path` (no scheme, a colon before any slash) is SSH, as git reads it.
fn scp_like(text: &str) -> Option<RepoUrl> {
    let colon = text.find(':')?;
    if text[..colon].contains('/') || colon == 0 || text.contains(char::is_whitespace) {
        return None;
    }
    Some(RepoUrl::plain(text.to_owned(), Transport::Ssh))
}

/// A repository URL fit to show or send: the user information of a URL with a scheme
/// (`https://user:token@host/…`) replaced by `***`, so that neither a password nor a token
/// given as the user name (`https://TOKEN@github.com/…`) leaves the controller. SSH's
/// `user@host:path` has no secret there (SSH URLs may carry no password) and is kept as
/// written. This is the one function everything that shows an Application's `repoURL`
/// (status, Events, notifications, the API and the dashboard) goes through.
pub fn redact_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[end..]),
        None => text.to_owned(),
    }
}

/// FNV-1a, 64 bits: stable across Rust releases and processes (unlike `DefaultHasher`),
/// which a cache directory name shared by processes needs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_an_https_url_is_taken_out_of_what_git_sees_and_what_is_printed() {
        let url = RepoUrl::parse("https://deployer:s3cret@git.example.com/org/deploy.git").unwrap();
        assert_eq!(url.for_git, "https://git.example.com/org/deploy.git");
        assert!(!url.shown.contains("s3cret"));
        assert_eq!(
            url.embedded,
            Some(("deployer".to_owned(), "s3cret".to_owned()))
        );
        assert_eq!(url.transport, Transport::Http);
    }

    #[test]
    fn user_information_is_never_shown_or_sent() {
        for (given, shown) in [
            (
                "https://deployer:s3cret@git.example.com/org/deploy.git",
                "https://***@git.example.com/org/deploy.git",
            ),
            // A token as the user name, as GitHub and GitLab accept it.
            (
                "https://ghp_t0ken@github.com/org/deploy.git",
                "https://***@github.com/org/deploy.git",
            ),
            // An `@` in the password, and none in the path.
            (
                "http://me:p@ss@host:8080/x?ref=a@b",
                "http://***@host:8080/x?ref=a@b",
            ),
            (
                "https://git.example.com/org/a@b.git",
                "https://git.example.com/org/a@b.git",
            ),
            (
                "git@github.com:org/deploy.git",
                "git@github.com:org/deploy.git",
            ),
            ("/srv/git/deploy.git", "/srv/git/deploy.git"),
        ] {
            assert_eq!(redact_url(given), shown, "{given}");
        }
    }

    #[test]
    fn every_spelling_of_a_repository_is_one() {
        let canonical = |url: &str| RepositoryLocation::of(url).canonical();
        for url in [
            "https://github.com/Org/Repo.git",
            "https://github.com/org/repo",
            "https://github.com/org/repo/",
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo.git",
            "git://github.com/org/repo",
            "https://user:token@github.com/org/repo.git",
        ] {
            assert_eq!(canonical(url), "github.com/org/repo", "{url}");
        }
        assert_eq!(
            canonical("ssh://git@bitbucket.example.com:7999/proj/repo.git"),
            "bitbucket.example.com:7999/proj/repo"
        );
        assert_eq!(
            canonical("git://127.0.0.1:9418/deploy.git"),
            "127.0.0.1:9418/deploy"
        );
        assert_ne!(
            canonical("https://github.com/org/repo2"),
            "github.com/org/repo"
        );
        let location = RepositoryLocation::of("git@gitlab.example.com:Group/Sub/App.git");
        assert_eq!(
            (location.host.as_str(), location.path.as_str()),
            ("gitlab.example.com", "Group/Sub/App")
        );
    }

    #[test]
    fn transports_are_recognised() {
        let transport = |text: &str| RepoUrl::parse(text).unwrap().transport;
        assert_eq!(transport("/srv/git/x.git"), Transport::File);
        assert_eq!(transport("file:///srv/git/x.git"), Transport::File);
        assert_eq!(transport("git://host/x.git"), Transport::Git);
        assert_eq!(transport("HTTPS://host/x.git"), Transport::Http);
        assert_eq!(transport("ssh://git@host:2222/x.git"), Transport::Ssh);
        assert_eq!(transport("git@github.com:org/x.git"), Transport::Ssh);
    }

    #[test]
    fn unsupported_and_dangerous_urls_are_refused_without_printing_passwords() {
        for bad in [
            "ext::sh -c touch% /tmp/pwned",
            "-uhelp",
            "relative/path",
            "ftp://host/x",
            "",
        ] {
            assert!(RepoUrl::parse(bad).is_err(), "{bad}");
        }
        let message = RepoUrl::parse("ftp://me:hunter2@host/x")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(RepoUrl::parse("ssh://me:hunter2@host/x").is_err());
    }

    #[test]
    fn one_repository_has_one_cache_key_however_it_is_written() {
        let key = |text: &str| RepoUrl::parse(text).unwrap().cache_key();
        assert_eq!(
            key("https://Git.Example.com/org/deploy.git"),
            key("https://user:pw@git.example.com/org/deploy/")
        );
        assert_ne!(
            key("https://git.example.com/org/deploy.git"),
            key("https://git.example.com/org/other.git")
        );
        assert!(
            key("https://git.example.com/org/deploy.git").starts_with("git-example-com-org-deploy")
        );
    }
}
