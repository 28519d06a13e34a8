//! Rolling-window rate limits and seeded faults.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The accepted requests of one rolling window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    times: VecDeque<Instant>,
}

impl Window {
    /// How many accepted requests are less than `len` old at `now`.
    pub fn count(&mut self, now: Instant, len: Duration) -> usize {
        while self
            .times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= len)
        {
            self.times.pop_front();
        }
        self.times.len()
    }

    /// Records an accepted request.
    pub fn push(&mut self, now: Instant) {
        self.times.push_back(now);
    }

    /// How long until the oldest request leaves the window (zero if the window is empty).
    pub fn wait(&self, now: Instant, len: Duration) -> Duration {
        self.times.front().map_or(Duration::ZERO, |t| {
            (*t + len).saturating_duration_since(now)
        })
    }
}

/// The random 5xx statuses: the transient ones HubSpot documents (CRM-APIS 1.12).
const FAULT_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// Seeded random faults. Whether a request fails depends only on the seed, the request itself
/// (method, path, query, body) and how many times that same request was seen before, never on
/// arrival order or timing: concurrent clients get the same faults run after run, and a retried
/// request gets a fresh draw.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    seen: HashMap<u64, u32>,
}

impl Faults {
    /// The fault for this request, if it draws one with probability `rate`.
    pub fn draw(&mut self, seed: u64, rate: f64, fingerprint: &[&[u8]]) -> Option<u16> {
        if rate <= 0.0 {
            return None;
        }
        let mut h = fnv1a(FNV_OFFSET, &seed.to_le_bytes());
        for part in fingerprint {
            h = fnv1a(h, part);
            // A separator, so that ("ab", "c") and ("a", "bc") differ.
            h = fnv1a(h, &[0xff]);
        }
        let n = self.seen.entry(h).or_insert(0);
        *n += 1;
        let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(h, &n.to_le_bytes()));
        rng.random_bool(rate.min(1.0))
            .then(|| FAULT_STATUSES[rng.random_range(0..FAULT_STATUSES.len())])
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust releases).
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A scripted fault: the next `remaining` requests whose path starts with `prefix` get `status`.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// Path prefix the fault applies to (`""`: every request).
    pub prefix: String,
    /// Requests still to fail.
    pub remaining: usize,
    /// The status they get.
    pub status: u16,
}
