//! The request log: every request the fake received, with what it answered.

use serde_json::Value;
use std::time::Duration;

/// Which budget a request falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Counted against the app's rolling 10-second budget (and the daily cap).
    App,
    /// CRM search: exempt from the 10-second budget, limited to its own requests per second.
    Search,
    /// v4 association batch reads: exempt from the 10-second budget ([spec]).
    Associations,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Position in arrival order, from 1.
    pub seq: u64,
    /// Arrival time since the fake started (monotonic clock).
    pub at: Duration,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Request headers (names lower-case), in order.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if there was one that parsed (and `Options::log_bodies` is on).
    pub body: Option<Value>,
    /// The status the fake answered.
    pub status: u16,
    /// The budget the request falls under.
    pub class: Class,
}

impl LoggedRequest {
    /// The last value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The most requests (matching `keep`) whose arrival times fall within any interval of length
/// `window` (half-open, so two requests exactly `window` apart are in different windows: the
/// same rule the fake's own rate limiter applies).
pub fn max_in_window<'a>(
    log: impl IntoIterator<Item = &'a LoggedRequest>,
    window: Duration,
    keep: impl Fn(&LoggedRequest) -> bool,
) -> usize {
    let mut times: Vec<Duration> = log.into_iter().filter(|r| keep(r)).map(|r| r.at).collect();
    times.sort_unstable();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}
