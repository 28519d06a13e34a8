//! Value formats on HubSpot's wire: property values as strings, ISO instants with milliseconds,
//! opaque paging cursors, and the error bodies.

use jiff::Timestamp;
use serde_json::{Value, json};

/// An instant as HubSpot writes datetime properties and record timestamps:
/// `2026-11-23T09:50:00.000Z` (UTC, always three fractional digits).
pub fn iso_ms(ts: Timestamp) -> String {
    let ms = ts.as_millisecond();
    let whole = Timestamp::from_second(ms.div_euclid(1000)).unwrap_or(ts);
    format!(
        "{}.{:03}Z",
        whole.strftime("%Y-%m-%dT%H:%M:%S"),
        ms.rem_euclid(1000)
    )
}

/// A filter or property value given as an instant: epoch milliseconds (what the search docs
/// show) or an ISO 8601 instant (accepted too, since HubSpot's own notes API takes both).
pub fn parse_instant(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if !s.is_empty()
        && s.trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Timestamp::from_millisecond(s.parse().ok()?).ok();
    }
    s.parse().ok()
}

/// A number in its plain decimal form: `12340`, `1500.5` (Rust's `Display` for `f64` never uses
/// an exponent, and drops a zero fraction, which is how HubSpot echoes whole amounts).
pub fn plain_number(x: f64) -> String {
    format!("{x}")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding (a few lines rather than a new dev-dependency).
fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// What a cursor points into; a cursor from one listing is rejected by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CursorKind {
    /// Object list paging (`GET /crm/v3/objects/...`): the next record's internal key.
    Objects = 1,
    /// Owner list paging: the next owner's position.
    Owners = 2,
    /// Per-record association paging in v4 batch reads: the next association's position.
    Associations = 3,
}

/// Opaque `after` cursors. The docs say the list cursor "is the Record ID of the next record", but
/// clients must treat it as opaque, so the fake scrambles the position with a salt and adds a
/// check byte: a client that computes or edits cursors gets a 400 instead of silently working.
#[derive(Debug, Clone, Copy)]
pub struct Cursors {
    salt: u64,
}

impl Cursors {
    /// Cursors scrambled with `salt`.
    pub fn new(salt: u64) -> Cursors {
        Cursors { salt }
    }

    /// The cursor for position `pos` of a listing of `kind`.
    pub fn encode(&self, kind: CursorKind, pos: u64) -> String {
        let mut bytes = Vec::with_capacity(10);
        bytes.push(kind as u8);
        bytes.extend_from_slice(&(pos ^ self.salt).to_be_bytes());
        bytes.push(self.check(&bytes));
        b64_encode(&bytes)
    }

    /// The position a cursor stands for, if it is a well-formed cursor of `kind`.
    pub fn decode(&self, kind: CursorKind, cursor: &str) -> Option<u64> {
        let bytes = b64_decode(cursor)?;
        if bytes.len() != 10 || bytes[0] != kind as u8 || bytes[9] != self.check(&bytes[..9]) {
            return None;
        }
        let raw: [u8; 8] = bytes[1..9].try_into().ok()?;
        Some(u64::from_be_bytes(raw) ^ self.salt)
    }

    /// A check byte over the cursor and the salt, so that an edited cursor, or one from another
    /// fake, is refused rather than read as some other position.
    fn check(&self, bytes: &[u8]) -> u8 {
        self.salt
            .to_le_bytes()
            .iter()
            .chain(bytes)
            .fold(0xA5u8, |acc, b| acc.rotate_left(3) ^ b.wrapping_mul(31))
    }
}

/// A correlation id in UUID form, derived from the request's sequence number so that logs and
/// bodies are reproducible run to run.
pub fn correlation_id(seq: u64) -> String {
    format!("00000000-0000-4000-8000-{seq:012x}")
}

/// HubSpot's CRM error body (`status`, `message`, `correlationId`, `category`), as in the
/// error-handling docs ([doc], CRM-APIS 1.12).
pub fn error_body(seq: u64, category: &str, message: &str) -> Value {
    json!({
        "status": "error",
        "message": message,
        "correlationId": correlation_id(seq),
        "category": category,
    })
}

/// A 400 `VALIDATION_ERROR` body. The category is documented; the messages are the fake's own
/// (HubSpot's exact wording for these cases is not in the sources).
pub fn validation_error(seq: u64, message: &str) -> Value {
    error_body(seq, "VALIDATION_ERROR", message)
}

/// The 429 body: `{status, message, errorType: "RATE_LIMIT", correlationId, policyName,
/// requestId}` ([doc] usage guidelines, CRM-APIS 1.12).
pub fn rate_limit_body(seq: u64, policy: &str, message: &str) -> Value {
    json!({
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(seq),
        "policyName": policy,
        "requestId": format!("{seq:016x}-fake"),
    })
}
