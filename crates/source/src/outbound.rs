//! Where plumb may connect over HTTP on a tenant's say: the outbound address policy of
//! notifications and of Helm chart repositories.
//!
//! A notification URL is written by whoever may create a Secret in a tenant's namespace,
//! and plumb POSTs to it from inside the cluster; a chart repository URL (an Application's,
//! or a dependency's in a `Chart.yaml` anyone who can push may write) is fetched the same
//! way — an SSRF unless some addresses are off limits. What is refused, always: link-local addresses (169.254.0.0/16, fe80::/10),
//! which hold the clouds' instance metadata services and the credentials they hand out,
//! AWS's IPv6 metadata address (fd00:ec2::254), Alibaba's (100.100.100.200), the metadata
//! host names, and each of these written as an IPv4-mapped, -compatible or NAT64 IPv6
//! address. Loopback (and the unspecified address, which reaches it) is refused unless the
//! operator allows it (`--allow-loopback-notification-targets`): from the controller's
//! pod it reaches plumb's own server and any sidecar's admin port (Envoy's answers
//! `POST /quitquitquit`), which no tenant has any business calling.
//!
//! Private addresses stay allowed: Argo CD's and Flux's users send notifications to
//! receivers in the cluster or the company network (an Alertmanager, a self-hosted
//! Mattermost, Gitea or GitLab) all the time, and neither project refuses them; the
//! network's own policy (an egress NetworkPolicy) is the place to narrow that further.
//!
//! The check is made on what is connected to: a host name is resolved once, every address
//! it resolves to is checked, and the connection is made to those addresses only (the
//! resolver hands them to the connector), so a name that resolves to an allowed address
//! for a check and to the metadata service for the connection (DNS rebinding) gets nowhere.
//! An address written in the URL is checked before anything is sent. Redirects are never
//! followed (hyper does not).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

/// Host names of cloud instance metadata services (compared without a trailing dot).
const METADATA_HOSTS: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Which addresses notifications may reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow loopback (127.0.0.0/8, ::1, and the unspecified address that reaches it):
    /// receivers on the controller's own host, for tests and demos.
    pub allow_loopback: bool,
}

impl OutboundPolicy {
    /// Whether a URL's host may be asked for at all; the error says why not. Addresses
    /// written in the URL are checked here, names again after resolution.
    pub fn check_host(&self, host: &str) -> Result<(), String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if METADATA_HOSTS.contains(&name.as_str()) {
            return Err(format!(
                "{host} is a cloud metadata service, which plumb does not connect to"
            ));
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => self.check(ip).map_err(|why| format!("{host} is {why}")),
            Err(_) => Ok(()),
        }
    }

    /// Whether `ip` may be connected to; the error names the kind of address refused.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let refused = match ip {
            IpAddr::V4(v4) => self.refused_v4(v4),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => self.refused_v4(v4),
                None => self.refused_v6(v6),
            },
        };
        match refused {
            Some(what) => Err(format!(
                "{what}, which plumb does not connect to{}",
                hint(what)
            )),
            None => Ok(()),
        }
    }

    fn refused_v4(&self, ip: Ipv4Addr) -> Option<&'static str> {
        if ip.is_link_local() {
            Some("a link-local address (where cloud metadata services answer)")
        } else if ip == Ipv4Addr::new(100, 100, 100, 200) {
            Some("a cloud metadata service address")
        } else if (ip.is_loopback() || ip.octets()[0] == 0) && !self.allow_loopback {
            Some(LOOPBACK)
        } else {
            None
        }
    }

    fn refused_v6(&self, ip: Ipv6Addr) -> Option<&'static str> {
        if ip.segments()[0] & 0xffc0 == 0xfe80 {
            Some("a link-local address (where cloud metadata services answer)")
        } else if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Some("a cloud metadata service address")
        } else if (ip.is_loopback() || ip.is_unspecified()) && !self.allow_loopback {
            Some(LOOPBACK)
        } else {
            None
        }
    }
}

const LOOPBACK: &str = "a loopback address";

fn hint(what: &str) -> &'static str {
    if what == LOOPBACK {
        " unless the controller allows loopback (--allow-loopback-notification-targets for notifications; chart repositories may be on loopback, as Git repositories may)"
    } else {
        ""
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, but not `::` or `::1`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let ([a, b], [c, d]) = (s[6].to_be_bytes(), s[7].to_be_bytes());
    let low = Ipv4Addr::new(a, b, c, d);
    let compatible = s[..6].iter().all(|&x| x == 0) && s[6] != 0;
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0);
    (compatible || nat64).then_some(low)
}

/// The system resolver, with every answer checked against the policy: the connector
/// connects to what this returns, so only checked addresses are ever connected to.
#[derive(Clone)]
pub struct CheckedResolver {
    policy: OutboundPolicy,
    system: GaiResolver,
}

impl CheckedResolver {
    /// The system's resolver, refusing what `policy` refuses.
    pub fn new(policy: OutboundPolicy) -> CheckedResolver {
        CheckedResolver {
            policy,
            system: GaiResolver::new(),
        }
    }
}

/// A connection the policy refused (found among the causes of a failed request, so that
/// it is reported as such and not retried).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>> + Send>>;

impl tower::Service<Name> for CheckedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        let policy = self.policy;
        if let Err(why) = policy.check_host(name.as_str()) {
            return Box::pin(async move { Err(Refused(why).into()) });
        }
        let resolving = self.system.call(name.clone());
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = resolving.await?.collect();
            for address in &addresses {
                policy.check(address.ip()).map_err(|why| {
                    Refused(format!("{name} resolves to {}, {why}", address.ip()))
                })?;
            }
            Ok(addresses.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: OutboundPolicy, host: &str) -> bool {
        policy.check_host(host).is_err()
    }

    #[test]
    fn metadata_services_are_refused_however_they_are_written() {
        let policy = OutboundPolicy::default();
        for host in [
            "169.254.169.254",
            "169.254.170.2", // ECS task credentials
            "[fe80::1]",
            "[fd00:ec2::254]",
            "[::ffff:169.254.169.254]",
            "[::ffff:a9fe:a9fe]",
            "[::169.254.169.254]",
            "[64:ff9b::169.254.169.254]",
            "100.100.100.200",
            "metadata.google.internal",
            "Metadata.Google.Internal.",
            "metadata",
            "instance-data.ec2.internal",
        ] {
            assert!(refused(policy, host), "{host}");
            let allowing = OutboundPolicy {
                allow_loopback: true,
            };
            assert!(refused(allowing, host), "{host}, loopback allowed");
        }
    }

    #[test]
    fn loopback_is_refused_unless_the_operator_allows_it() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "[::1]",
            "[::]",
            "[::ffff:127.0.0.1]",
        ] {
            let message = OutboundPolicy::default().check_host(host).unwrap_err();
            assert!(
                message.contains("--allow-loopback-notification-targets"),
                "{message}"
            );
            let allowing = OutboundPolicy {
                allow_loopback: true,
            };
            assert_eq!(allowing.check_host(host), Ok(()), "{host}");
        }
    }

    #[test]
    fn receivers_in_the_cluster_and_on_the_internet_are_allowed() {
        let policy = OutboundPolicy::default();
        for host in [
            "10.96.0.12",
            "192.168.1.5",
            "172.16.0.1",
            "[fd12:3456::1]",
            "203.0.113.7",
            "[2001:db8::1]",
            "hooks.slack.com",
            "alertmanager.monitoring.svc",
            "metadata.example.com",
        ] {
            assert_eq!(policy.check_host(host), Ok(()), "{host}");
        }
    }
}
