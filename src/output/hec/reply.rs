//! Reading HEC's replies: [`Answer`] (what came back for one request, as the network core's
//! [`Reply`]), the answer for a transport failure (worded with HEC's keys), and the `ackId`.

use std::time::Duration;

use crate::output::http::{Failure, Transport};
use crate::output::netcore::{Reply, advice};

/// The keys HEC's transport advice points to.
const KEYS: advice::Keys = advice::Keys {
    ca_file: "httpeventCaFile",
    verify: "httpeventVerifyTls",
    client_cert: "httpeventClientCert (and httpeventClientKey)",
};

/// What came back for one request.
pub(super) struct Answer {
    /// The HTTP status, or the failure before one came.
    pub(super) status: Result<u16, Transport>,
    pub(super) body: Vec<u8>,
    pub(super) retry_after: Option<Duration>,
    /// The reply in words, for messages.
    pub(super) error: String,
}

impl Answer {
    pub(super) fn reply(&self) -> Reply<'_> {
        match self.status {
            Ok(status) => Reply::Http {
                status,
                body: &self.body,
            },
            Err(t) => Reply::Transport(t),
        }
    }
}

pub(super) fn failure_answer(f: Failure) -> Answer {
    Answer {
        status: Err(f.kind),
        body: Vec::new(),
        retry_after: None,
        error: advice::transport(&f, &KEYS),
    }
}

pub(super) fn ack_id(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("ackId")?
        .as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_bodies() {
        assert_eq!(
            ack_id(br#"{"text":"Success","code":0,"ackId":12}"#),
            Some(12)
        );
    }
}
