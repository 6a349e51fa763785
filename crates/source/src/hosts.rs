//! Where the controller may fetch from on a tenant's say: the operator's bound on the hosts
//! and transports of Git and chart repositories.
//!
//! Whoever may write an Application's `repoURL` (or a `Chart.yaml` dependency) makes the
//! controller connect from inside the cluster. Three things are bounded here, before any
//! connection:
//! - **which hosts**: an operator's allow-list (`--allowed-source-hosts`), empty meaning
//!   any host. A pattern is a host (`github.com`), a host and port
//!   (`git.example.com:7999`) or every subdomain of a domain (`*.example.com`);
//! - **which transports**: `git://` and `http://` send everything unencrypted and
//!   unauthenticated (the commit, and for HTTP the credentials), so a network attacker
//!   can serve any manifest: they are refused unless the operator allows plain text
//!   (`--allow-plain-text-sources`) — or the host is the controller's own loopback, where
//!   there is no network to attack (tests and demos, as Docker treats `localhost`);
//! - **which addresses**: never a link-local address or a cloud metadata service, however
//!   written ([`crate::outbound`]); a name is resolved and every address it resolves to
//!   checked. git resolves the name again when it connects, so a name that changes its
//!   answer in between (DNS rebinding) is not stopped here: an egress NetworkPolicy is the
//!   defence in depth. Loopback and private networks stay allowed, as they are for Argo
//!   CD's and Flux's users, whose Git servers live there.

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::outbound::OutboundPolicy;

/// Repositories are fetched from loopback and private networks; never from link-local or
/// metadata addresses.
const ADDRESSES: OutboundPolicy = OutboundPolicy {
    allow_loopback: true,
};

/// The hosts and transports repositories may use. The default allows any host over an
/// encrypted transport (HTTPS, SSH), and plain text only on loopback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceHosts {
    patterns: Vec<HostPattern>,
    /// Allow `git://` and `http://` to hosts other than loopback.
    pub allow_plain_text: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct HostPattern {
    /// Lower-cased host, without a leading `*.`.
    host: String,
    /// `*.example.com`: any subdomain of `host`, not `host` itself.
    subdomains: bool,
    /// A port the pattern is limited to; `None` allows any.
    port: Option<u16>,
}

impl SourceHosts {
    /// Hosts matching one of `patterns` (an empty list allows every host).
    pub fn allowing(
        patterns: &[String],
        allow_plain_text: bool,
    ) -> std::result::Result<Self, String> {
        let patterns = patterns
            .iter()
            .flat_map(|p| p.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(HostPattern::parse)
            .collect::<std::result::Result<_, _>>()?;
        Ok(SourceHosts {
            patterns,
            allow_plain_text,
        })
    }

    /// Whether `url` (already redacted) may be fetched: its transport and host. `scheme`
    /// is lower-case (`https`, `http`, `git`, `ssh`); `host` may carry a port.
    pub(crate) fn check(&self, url: &str, scheme: &str, host: &str) -> Result<()> {
        let refuse = |reason: String| Error::NotAllowed {
            url: url.to_owned(),
            reason,
        };
        let (name, port) = split_port(host);
        ADDRESSES.check_host(name).map_err(refuse)?;
        if matches!(scheme, "git" | "http") && !self.allow_plain_text && !is_loopback(name) {
            return Err(refuse(format!(
                "{scheme}:// is neither encrypted nor authenticated, so anyone on the network could serve other manifests: use https:// or ssh://, or start the controller with --allow-plain-text-sources"
            )));
        }
        if !self.patterns.is_empty() && !self.patterns.iter().any(|p| p.matches(name, port)) {
            return Err(refuse(format!(
                "host {host} is not among the hosts the controller may fetch from (--allowed-source-hosts): ask the operator to add it"
            )));
        }
        Ok(())
    }

    /// Resolves `host` and checks every address it resolves to (see the module docs); a
    /// name that does not resolve is left to the fetch, which reports it as unreachable.
    pub(crate) async fn check_addresses(&self, url: &str, host: &str) -> Result<()> {
        let (name, port) = split_port(host);
        if name.parse::<IpAddr>().is_ok() || name.is_empty() {
            return Ok(()); // checked as written by `check`
        }
        let Ok(addresses) = tokio::net::lookup_host((name, port.unwrap_or(0))).await else {
            return Ok(());
        };
        check_resolved(url, name, addresses.map(|a| a.ip()))
    }
}

/// Every address `name` resolved to must be one repositories may be fetched from.
fn check_resolved(url: &str, name: &str, addresses: impl Iterator<Item = IpAddr>) -> Result<()> {
    for ip in addresses {
        ADDRESSES.check(ip).map_err(|why| Error::NotAllowed {
            url: url.to_owned(),
            reason: format!("{name} resolves to {ip}, {why}"),
        })?;
    }
    Ok(())
}

impl HostPattern {
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let invalid = |why: &str| format!("allowed source host {text:?}: {why}");
        let (host, port) = split_port(text);
        if port.is_none() && host.contains(':') && host.parse::<IpAddr>().is_err() {
            return Err(invalid("the port is not a number"));
        }
        let (host, subdomains) = match host.strip_prefix("*.") {
            Some(rest) => (rest, true),
            None => (host, false),
        };
        if host.is_empty() || host.contains(['*', '/', '@', ' ']) {
            return Err(invalid(
                "write a host (github.com), a host and port (git.example.com:7999) or *.domain",
            ));
        }
        Ok(HostPattern {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            subdomains,
            port,
        })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host_matches = if self.subdomains {
            host.strip_suffix(&self.host)
                .is_some_and(|label| label.ends_with('.') && label.len() > 1)
        } else {
            host == self.host
        };
        host_matches && self.port.is_none_or(|p| Some(p) == port)
    }
}

/// `host:port` → (`host`, port); IPv6 literals keep their brackets off. A host whose
/// port is not a number comes back whole, with no port.
fn split_port(text: &str) -> (&str, Option<u16>) {
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, tail)) => (ip, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (text, None),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (text, None),
        },
        _ => (text, None),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(patterns: &[&str], plain_text: bool) -> SourceHosts {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        SourceHosts::allowing(&patterns, plain_text).unwrap()
    }

    fn allowed(hosts: &SourceHosts, scheme: &str, host: &str) -> bool {
        hosts.check("url", scheme, host).is_ok()
    }

    #[test]
    fn any_host_is_allowed_over_tls_and_ssh_when_no_list_is_given() {
        let any = hosts(&[], false);
        assert!(allowed(&any, "https", "github.com"));
        assert!(allowed(&any, "ssh", "git.example.com:2222"));
        assert!(allowed(&any, "https", "10.0.0.5"));
    }

    #[test]
    fn plain_text_is_refused_off_loopback_unless_the_operator_allows_it() {
        let strict = hosts(&[], false);
        for (scheme, host) in [("git", "git.example.com"), ("http", "10.0.0.5:8080")] {
            let error = strict.check("url", scheme, host).unwrap_err().to_string();
            assert!(error.contains("--allow-plain-text-sources"), "{error}");
        }
        for host in ["127.0.0.1:9418", "localhost", "[::1]:8080"] {
            assert!(allowed(&strict, "git", host), "{host}");
        }
        assert!(allowed(&hosts(&[], true), "git", "git.example.com"));
    }

    #[test]
    fn only_listed_hosts_are_reached_when_a_list_is_given() {
        let list = hosts(
            &["github.com", "*.corp.example", "git.example.com:7999"],
            true,
        );
        assert!(allowed(&list, "https", "github.com"));
        assert!(allowed(&list, "https", "GitHub.com."));
        assert!(allowed(&list, "ssh", "git.eu.corp.example"));
        assert!(allowed(&list, "ssh", "git.example.com:7999"));
        for host in [
            "corp.example",
            "evilcorp.example",
            "github.com.evil.example",
            "git.example.com",
            "git.example.com:22",
            "gitlab.com",
        ] {
            let error = list.check("url", "https", host).unwrap_err().to_string();
            assert!(error.contains("--allowed-source-hosts"), "{host}: {error}");
        }
    }

    #[test]
    fn metadata_services_are_refused_even_when_listed() {
        let list = hosts(&["169.254.169.254", "metadata.google.internal"], true);
        for host in ["169.254.169.254", "metadata.google.internal", "[fe80::1]"] {
            assert!(!allowed(&list, "http", host), "{host}");
        }
    }

    #[test]
    fn malformed_patterns_are_refused_with_the_form_to_write() {
        for pattern in [
            "*",
            "git.example.com:ssh",
            "https://github.com",
            "a*.example",
        ] {
            let error = SourceHosts::allowing(&[pattern.to_owned()], false).unwrap_err();
            assert!(error.contains(pattern), "{error}");
        }
        assert_eq!(
            hosts(&["a.example, b.example"], false).patterns.len(),
            2,
            "comma-separated lists are read"
        );
    }

    #[test]
    fn a_name_that_resolves_to_a_metadata_address_is_refused() {
        let ips = |list: &[&str]| {
            list.iter()
                .map(|ip| ip.parse().unwrap())
                .collect::<Vec<IpAddr>>()
        };
        let checked =
            |list: &[&str]| check_resolved("url", "git.example.com", ips(list).into_iter());
        assert!(checked(&["10.0.0.5", "127.0.0.1", "::1"]).is_ok());
        for list in [
            &["10.0.0.5", "169.254.169.254"][..],
            &["::ffff:169.254.169.254"],
            &["fd00:ec2::254"],
        ] {
            let error = checked(list).unwrap_err().to_string();
            assert!(error.contains("git.example.com resolves to"), "{error}");
        }
    }

    #[tokio::test]
    async fn names_are_resolved_before_anything_is_fetched() {
        let any = hosts(&[], false);
        assert!(any.check_addresses("url", "localhost:80").await.is_ok());
    }
}
