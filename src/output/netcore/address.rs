//! Server addresses checked when the plan is built: a host name, an IPv4 address or an IPv6
//! address (bracketed or not), never a URL, a path, credentials or a port, which each output
//! takes from keys of their own.

/// The bare host of `text` (brackets of an IPv6 address removed), or what is wrong with it.
/// `elsewhere` says where the scheme and port go, e.g. `give the port in splunkPort and the
/// scheme in splunkMethod`.
pub fn host(text: &str, elsewhere: &str) -> Result<String, String> {
    let h = text.trim();
    let bare = h.trim_start_matches('[').trim_end_matches(']');
    let not = |what: &str| Err(format!("{h:?} is not a host name or address: {what}"));
    if bare.is_empty() {
        return Err("the address is empty".to_string());
    }
    if h.contains("://") {
        return not(&format!("it is a URL ({elsewhere})"));
    }
    if bare.contains('@') {
        return not("it holds credentials (give them in the output's own keys)");
    }
    if bare.contains(['/', '?', '#']) {
        return not(&format!("it holds a path ({elsewhere})"));
    }
    if bare.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return not("it holds spaces or control characters");
    }
    if bare.contains(':') && bare.parse::<std::net::Ipv6Addr>().is_err() {
        return not(&format!("it holds a port ({elsewhere})"));
    }
    Ok(bare.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_what_is_not_one() {
        let ok = |t: &str| host(t, "x").unwrap();
        assert_eq!(ok("splunk.example.com"), "splunk.example.com");
        assert_eq!(ok(" 10.0.0.1 "), "10.0.0.1");
        assert_eq!(ok("[::1]"), "::1");
        assert_eq!(ok("fe80::1"), "fe80::1");
        let err = |t: &str| host(t, "scheme in protocol").unwrap_err();
        assert!(err("https://splunk.example.com").contains("is a URL (scheme in protocol)"));
        assert!(err("splunk.example.com:8088").contains("holds a port"));
        assert!(err("host/services").contains("holds a path"));
        assert!(err("admin:pw@host").contains("holds credentials"));
        assert!(err("a b").contains("spaces"));
        assert_eq!(err(" "), "the address is empty");
        assert_eq!(err("[]"), "the address is empty");
    }
}
