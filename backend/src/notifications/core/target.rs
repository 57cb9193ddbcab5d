//! Where notifications may be sent: an `http` or `https` URL whose host
//! resolves only to public addresses, unless the operator allows private
//! targets (`CAIRN_NOTIFY_ALLOW_PRIVATE`). The check runs on the addresses
//! the connection will use (the worker connects to the vetted addresses
//! only, so a DNS answer that changes between check and connect cannot
//! point it elsewhere), and redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// A URL that may be used, with what the connection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    /// The host as written (a name, or an IP literal without brackets).
    pub host: String,
    /// Set when the host is an IP literal: nothing to resolve.
    pub ip: Option<IpAddr>,
    pub port: u16,
}

/// Parses and checks the form of a target URL (not its addresses).
pub fn parse(raw: &str) -> Result<Target, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme {:?} is not allowed: use http or https",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in the URL are not accepted: the body is signed with the subscription's secret"
                .into(),
        );
    }
    if url.fragment().is_some() {
        return Err("the URL must not have a fragment (#...)".into());
    }
    let (host, ip) = match url.host() {
        None => return Err("the URL has no host".into()),
        Some(Host::Domain(d)) => (d.to_owned(), None),
        Some(Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
        Some(Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
    };
    let port = url
        .port_or_known_default()
        .ok_or("the URL has no port and its scheme has no default")?;
    Ok(Target {
        url,
        host,
        ip,
        port,
    })
}

/// Why an address may not be a target (None: it is public).
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => forbidden_v4(a),
        IpAddr::V6(a) => forbidden_v6(a),
    }
}

fn forbidden_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    Some(match o {
        _ if a.is_unspecified() || o[0] == 0 => "unspecified (0.0.0.0/8)",
        _ if a.is_loopback() => "loopback",
        _ if a.is_private() => "private (RFC 1918)",
        _ if a.is_link_local() => "link-local",
        [100, b, ..] if (64..128).contains(&b) => "shared address space (100.64.0.0/10)",
        [192, 0, 0, _] => "IETF protocol assignments (192.0.0.0/24)",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking (198.18.0.0/15)",
        _ if a.is_multicast() => "multicast",
        _ if a.is_broadcast() => "broadcast",
        [b, ..] if b >= 240 => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn forbidden_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    if a.is_unspecified() {
        return Some("unspecified (::)");
    }
    if a.is_loopback() {
        return Some("loopback");
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
    // (64:ff9b::/96) and 6to4 (2002::/16) addresses reach an IPv4 address:
    // that one decides.
    if let Some(v4) = a.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if s[..6] == [0; 6] {
        return forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    if s[0] == 0x2002 {
        return forbidden_v4(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32));
    }
    Some(match s[0] {
        x if x & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        x if x & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        x if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        x if x & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// Checks every address a host resolved to: all must be public unless
/// private targets are allowed, and there must be at least one.
pub fn vet(host: &str, addrs: &[SocketAddr], allow_private: bool) -> Result<(), String> {
    if addrs.is_empty() {
        return Err(format!("host {host:?} resolves to no address"));
    }
    if allow_private {
        return Ok(());
    }
    for a in addrs {
        if let Some(why) = forbidden(a.ip()) {
            return Err(format!(
                "host {host:?} resolves to {}, a {why} address: notifications go to public addresses only \
                 unless the operator sets CAIRN_NOTIFY_ALLOW_PRIVATE=true",
                a.ip()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_non_public_addresses() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "239.1.1.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(forbidden(ip(a)).is_some(), "{a} must be refused");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert_eq!(forbidden(ip(a)), None, "{a} is public");
        }
    }

    #[test]
    fn urls() {
        let t = parse("https://hooks.example.com/services/T1/B2?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.ip),
            ("hooks.example.com", 443, None)
        );
        let t = parse("http://[::1]:8080/h").unwrap();
        assert_eq!((t.ip, t.port), (Some(ip("::1")), 8080));
        let t = parse("http://127.0.0.1/").unwrap();
        assert_eq!((t.ip, t.port), (Some(ip("127.0.0.1")), 80));
        for (bad, why) in [
            ("ftp://example.com/", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("gopher://example.com/", "scheme"),
            ("not a url", "not a URL"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com/#frag", "fragment"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(parse(&long).unwrap_err().contains("longer"));
    }

    #[test]
    fn vetting_resolved_addresses() {
        let sa = |s: &str| SocketAddr::new(ip(s), 443);
        assert!(vet("h", &[sa("8.8.8.8")], false).is_ok());
        let e = vet("h", &[sa("8.8.8.8"), sa("10.0.0.1")], false).unwrap_err();
        assert!(
            e.contains("10.0.0.1") && e.contains("CAIRN_NOTIFY_ALLOW_PRIVATE"),
            "{e}"
        );
        assert!(vet("h", &[sa("127.0.0.1")], true).is_ok());
        assert!(vet("h", &[], true).unwrap_err().contains("no address"));
    }
}
