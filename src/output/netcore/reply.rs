//! What to do after a request: [`classify`], one pure function of the reply, shared by every
//! network output, and [`describe`] for messages.
//!
//! The rules follow Splunk's HEC status table and what Vector and OpenTelemetry do: retry
//! transport failures, timeouts, 408, 429 and 5xx except 501, and HEC codes 8, 9, 23, 26 and
//! 27; 401 means "log in again" for an output that can (splunkstream with a user and password)
//! and "this server will never take our credentials" for one that cannot (a HEC token, a
//! session key handed over by splunkd), like 403 and HEC codes 1-4; 413 splits the request;
//! 415 drops compression; any other status drops that one request (it would fail again) and
//! the run goes on. The table is in `docs/compatibility.md`.

use crate::output::http::Transport;

/// The reply to one request: a transport failure, or an HTTP status with its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    Transport(Transport),
    Http { status: u16, body: &'a [u8] },
}

/// Whether the output can get new credentials when a server says they expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// A token or key given in the configuration: a 401 is final.
    Fixed,
    /// A user and password: a 401 means the session expired; log in again.
    Renewable,
}

/// What to do with the request (and the server) after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Accepted.
    Delivered,
    /// Send it again later, preferably elsewhere; the server gets a cool-down.
    Retry,
    /// The session expired: log in again, then resend.
    Relogin,
    /// Too large: split in two and send the halves (a single event is dropped instead).
    Split,
    /// Resend without compression.
    Uncompressed,
    /// This server cannot take anything from us (credentials or TLS trust); stop using it.
    ServerFatal,
    /// This request was refused and would be refused again: drop it (count its events as
    /// failed) and go on with the next.
    Drop,
}

/// The decision for `reply`. Pure: the same reply always gives the same decision.
pub fn classify(reply: Reply<'_>, credentials: Credentials) -> Decision {
    let (status, body) = match reply {
        Reply::Transport(Transport::TlsVerification | Transport::TlsClientRefused) => {
            return Decision::ServerFatal;
        }
        Reply::Transport(_) => return Decision::Retry,
        Reply::Http { status, body } => (status, body),
    };
    match hec_code(body) {
        Some(1..=4) => return Decision::ServerFatal,
        Some(8 | 9 | 23 | 26 | 27) => return Decision::Retry,
        _ => {}
    }
    match status {
        200..=299 => Decision::Delivered,
        401 if credentials == Credentials::Renewable => Decision::Relogin,
        401 | 403 => Decision::ServerFatal,
        413 => Decision::Split,
        415 => Decision::Uncompressed,
        408 | 429 => Decision::Retry,
        501 => Decision::Drop,
        500..=599 => Decision::Retry,
        _ => Decision::Drop,
    }
}

/// HEC's `code` from a reply body, if it is a JSON object with one.
pub fn hec_code(body: &[u8]) -> Option<i64> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("code")?
        .as_i64()
}

/// `HTTP 403: {"text":"Invalid token","code":4}`: the status and the body on one line of at
/// most 300 characters.
pub fn describe(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    let mut line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        line.push_str("(empty body)");
    }
    format!("HTTP {status}: {line}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    fn http(status: u16, code: Option<i64>, credentials: Credentials) -> Decision {
        let body = code.map_or(String::new(), |c| format!(r#"{{"text":"x","code":{c}}}"#));
        classify(
            Reply::Http {
                status,
                body: body.as_bytes(),
            },
            credentials,
        )
    }

    /// `(status, HEC code, decision with fixed credentials, with renewable ones)`.
    const TABLE: &[(u16, Option<i64>, Decision, Decision)] = &[
        (200, Some(0), Delivered, Delivered),
        (200, None, Delivered, Delivered),
        (200, Some(24), Delivered, Delivered),
        (200, Some(25), Delivered, Delivered),
        (204, None, Delivered, Delivered),
        (403, Some(1), ServerFatal, ServerFatal),
        (401, Some(2), ServerFatal, ServerFatal),
        (401, Some(3), ServerFatal, ServerFatal),
        (403, Some(4), ServerFatal, ServerFatal),
        (401, None, ServerFatal, Relogin),
        (403, None, ServerFatal, ServerFatal),
        (400, Some(5), Drop, Drop),
        (400, Some(6), Drop, Drop),
        (400, Some(7), Drop, Drop),
        (500, Some(8), Retry, Retry),
        (503, Some(9), Retry, Retry),
        (400, Some(10), Drop, Drop),
        (400, Some(12), Drop, Drop),
        (400, Some(14), Drop, Drop),
        (503, Some(23), Retry, Retry),
        (429, Some(26), Retry, Retry),
        (429, Some(27), Retry, Retry),
        (429, None, Retry, Retry),
        (408, None, Retry, Retry),
        (500, None, Retry, Retry),
        (502, None, Retry, Retry),
        (503, None, Retry, Retry),
        (504, None, Retry, Retry),
        (501, None, Drop, Drop),
        (413, None, Split, Split),
        (415, None, Uncompressed, Uncompressed),
        (404, None, Drop, Drop),
        (400, None, Drop, Drop),
        (301, None, Drop, Drop),
        (100, None, Drop, Drop),
    ];

    #[test]
    fn decision_table() {
        for &(status, code, fixed, renewable) in TABLE {
            assert_eq!(
                http(status, code, Credentials::Fixed),
                fixed,
                "status {status} code {code:?}"
            );
            assert_eq!(
                http(status, code, Credentials::Renewable),
                renewable,
                "status {status} code {code:?} (renewable)"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_hec_json_carry_no_code() {
        let xml = b"<response><messages><msg code=\"4\">x</msg></messages></response>";
        let reply = Reply::Http {
            status: 400,
            body: xml,
        };
        assert_eq!(classify(reply, Credentials::Renewable), Drop);
        assert_eq!(hec_code(br#" {"text":"Invalid token","code":4}"#), Some(4));
        assert_eq!(hec_code(b"<html>"), None);
        assert_eq!(hec_code(br#"{"code":"4"}"#), None);
    }

    #[test]
    fn transport_failures() {
        for t in [Transport::Connect, Transport::Timeout, Transport::Broken] {
            assert_eq!(classify(Reply::Transport(t), Credentials::Fixed), Retry);
        }
        for t in [Transport::TlsVerification, Transport::TlsClientRefused] {
            assert_eq!(
                classify(Reply::Transport(t), Credentials::Renewable),
                ServerFatal
            );
        }
    }

    #[test]
    fn describe_is_one_short_line() {
        assert_eq!(describe(503, b"busy\n"), "HTTP 503: busy");
        assert_eq!(describe(400, b""), "HTTP 400: (empty body)");
        assert_eq!(
            describe(400, b"<a>\n  <b>x</b>\n</a>"),
            "HTTP 400: <a> <b>x</b> </a>"
        );
        assert!(describe(500, &[b'x'; 1000]).len() < 320);
    }
}
