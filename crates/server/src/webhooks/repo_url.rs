//! One spelling per repository: `https://github.com/Org/Repo.git`,
//! `git@github.com:org/repo`, `ssh://git@github.com/org/repo.git` and
//! `git://github.com/org/repo` all name the same repository, and a push payload carries
//! some of these spellings while an Application's `repoURL` uses one.

/// `host[:port]/path`, lower-cased, without scheme, user, `.git` or trailing slash.
pub(crate) fn normalize(url: &str) -> String {
    let url = url.trim();
    let (rest, scp_like) = match url.split_once("://") {
        Some((_scheme, rest)) => (rest, false),
        None => (url, true),
    };
    let rest = match rest.split_once('@') {
        Some((user, host_and_path)) if !user.contains('/') => host_and_path,
        _ => rest,
    };
    let rest = if scp_like {
        // `host:path` (scp syntax) — the colon separates the path, not a port.
        match rest.split_once(':') {
            Some((host, path)) if !host.contains('/') => format!("{host}/{path}"),
            _ => rest.to_owned(),
        }
    } else {
        rest.to_owned()
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    rest.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn every_spelling_of_a_repository_is_one() {
        for url in [
            "https://github.com/Org/Repo.git",
            "https://github.com/org/repo",
            "https://github.com/org/repo/",
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo.git",
            "git://github.com/org/repo",
            "https://user:token@github.com/org/repo.git",
        ] {
            assert_eq!(normalize(url), "github.com/org/repo", "{url}");
        }
        assert_eq!(
            normalize("ssh://git@bitbucket.example.com:7999/proj/repo.git"),
            "bitbucket.example.com:7999/proj/repo"
        );
        assert_eq!(
            normalize("git://127.0.0.1:9418/deploy.git"),
            "127.0.0.1:9418/deploy"
        );
        assert_ne!(
            normalize("https://github.com/org/repo2"),
            "github.com/org/repo"
        );
    }
}
