//! The `--metrics ADDR` value, checked with the other flags (exit 2 before anything runs):
//! `PORT` or `:PORT` listen on loopback only, and any other interface has to be named
//! (`0.0.0.0:9108` for every IPv4 address, `[::]:9108` for every IPv6 one). The page has no
//! authentication, so reaching it from elsewhere is a choice the flag must spell out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// What `PORT` and `:PORT` listen on.
pub const DEFAULT_HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

const EXPECTED: &str = "--metrics expects PORT or :PORT (loopback), or HOST:PORT with an IP \
                        address or host name (0.0.0.0:9108 for every interface, [::1]:9108 for \
                        IPv6) and a port from 0 to 65535";

/// Checks `spec` and returns the `host:port` to bind: `PORT` and `:PORT` become
/// `127.0.0.1:PORT`; a host name must resolve now.
pub fn parse(spec: &str) -> Result<String, String> {
    let t = spec.trim();
    let bad = |why: &str| format!("{EXPECTED}; got {spec:?}: {why}");
    if t.is_empty() {
        return Err(bad("empty"));
    }
    if t.contains("://") || t.contains('/') {
        return Err(bad(
            "a URL or path; give only the address, the page is always served at /metrics",
        ));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(SocketAddr::new(DEFAULT_HOST.into(), port(t).map_err(|e| bad(&e))?).to_string());
    }
    let (host, port_text) = if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("'[' without the closing ']' of an IPv6 address"))?;
        let p = after
            .strip_prefix(':')
            .ok_or_else(|| bad("no :PORT after the IPv6 address"))?;
        let ip: std::net::Ipv6Addr = h
            .parse()
            .map_err(|_| bad(&format!("{h:?} is not an IPv6 address")))?;
        (IpAddr::V6(ip).to_string(), p)
    } else {
        let (h, p) = t
            .rsplit_once(':')
            .ok_or_else(|| bad("no port (a port alone, :PORT or HOST:PORT)"))?;
        if h.contains(':') {
            return Err(bad("an IPv6 address goes in brackets, as in [::1]:9108"));
        }
        (h.to_string(), p)
    };
    let port = port(port_text).map_err(|e| bad(&e))?;
    if host.is_empty() {
        return Ok(SocketAddr::new(DEFAULT_HOST.into(), port).to_string());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port).to_string());
    }
    if !is_host_name(&host) {
        return Err(bad(&format!(
            "{host:?} is neither an IP address nor a host name"
        )));
    }
    match (host.as_str(), port).to_socket_addrs().map(|a| a.count()) {
        Ok(0) => Err(bad(&format!("host {host:?} has no address"))),
        Ok(_) => Ok(format!("{host}:{port}")),
        Err(e) => Err(bad(&format!("host {host:?} does not resolve: {e}"))),
    }
}

fn port(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err("no port after ':'".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port {text:?} is not a number"));
    }
    text.parse::<u16>()
        .map_err(|_| format!("port {text} is out of range (0 to 65535)"))
}

/// Letters, digits, `-` and `.`, in labels of at most 63 characters (RFC 1123).
fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_alone_bind_loopback() {
        assert_eq!(parse("9108").unwrap(), "127.0.0.1:9108");
        assert_eq!(parse(":9108").unwrap(), "127.0.0.1:9108");
        assert_eq!(parse(" :0 ").unwrap(), "127.0.0.1:0");
    }

    #[test]
    fn named_interfaces_are_kept() {
        assert_eq!(parse("0.0.0.0:9108").unwrap(), "0.0.0.0:9108");
        assert_eq!(parse("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert_eq!(parse("[::1]:9108").unwrap(), "[::1]:9108");
        assert_eq!(parse("[::]:80").unwrap(), "[::]:80");
        assert_eq!(parse("localhost:9108").unwrap(), "localhost:9108");
    }

    #[test]
    fn malformed_addresses_say_why() {
        for (bad, why) in [
            ("", "empty"),
            ("  ", "empty"),
            ("abc", "no port"),
            ("127.0.0.1:99999", "out of range"),
            ("127.0.0.1:", "no port after"),
            ("127.0.0.1:http", "not a number"),
            (":-1", "not a number"),
            ("http://127.0.0.1:9108/metrics", "URL"),
            ("127.0.0.1:9108/metrics", "URL"),
            ("::1:9108", "brackets"),
            ("[::1:9108", "closing"),
            ("[::1]", "no :PORT"),
            ("[zz]:1", "not an IPv6"),
            ("bad_host:1", "neither an IP"),
            ("-x:1", "neither an IP"),
            ("99999", "out of range"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("--metrics expects"), "{bad}: {e}");
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
