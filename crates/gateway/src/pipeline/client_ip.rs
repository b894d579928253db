//! Who the caller is: the socket peer, or — when the peer is a proxy the operator trusts —
//! the right-most address in `X-Forwarded-For` that is not one of those proxies. This is the
//! address `ip-filter` and `context.Request.IpAddress` see.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// The caller's address. Without trusted proxies (the default) it is always the peer; an
/// `X-Forwarded-For` a caller wrote itself is never believed.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if proxies.is_empty() || !trusted(peer, proxies) {
        return peer;
    }
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect::<Vec<_>>();
    let mut last = peer;
    while let Some(hop) = hops.pop() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Garbage from the far side of the trusted chain: stop at the last known hop.
            return last;
        };
        if !trusted(ip, proxies) {
            return ip;
        }
        last = ip;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-forwarded-for", xff.parse().unwrap());
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn trusts_forwarded_for_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoofed = headers("1.1.1.1, 203.0.113.7");
        // No proxies configured, or an untrusted peer: the peer, whatever the header says.
        assert_eq!(
            client_ip(ip("198.51.100.2"), &spoofed, &[]),
            ip("198.51.100.2")
        );
        assert_eq!(
            client_ip(ip("198.51.100.2"), &spoofed, &proxies),
            ip("198.51.100.2")
        );
        // Through a trusted proxy: the right-most untrusted entry.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &spoofed, &proxies),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(
                ip("10.0.0.5"),
                &headers("1.1.1.1, 203.0.113.7, 10.1.1.1"),
                &proxies
            ),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.5"), &spoofed, &proxies),
            ip("203.0.113.7")
        );
        // Only proxies in the chain: the left-most; garbage: the last good hop.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &headers("10.2.2.2"), &proxies),
            ip("10.2.2.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &headers("nonsense, 10.2.2.2"), &proxies),
            ip("10.2.2.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &proxies),
            ip("10.0.0.5")
        );
    }
}
