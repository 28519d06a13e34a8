//! Time helpers. Instants are `jiff::Timestamp` in memory and INTEGER Unix seconds on disk.

use jiff::Timestamp;

/// Seconds in a day; day counts in dealtrace are whole 24-hour periods, as in the pattern spec.
pub const DAY: i64 = 86_400;

/// Whole days from `from` to `to`, rounded down (negative when `to` is earlier).
pub fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()).div_euclid(DAY)
}

/// A timestamp from Unix seconds, clamped into jiff's supported range so that a corrupt value in
/// the cache cannot panic the caller.
pub fn from_unix(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// RFC 3339 text for a timestamp in UTC, second precision (`2026-11-23T09:30:00Z`).
pub fn rfc3339(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The calendar date of a timestamp in UTC (`2026-11-23`).
pub fn ymd(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_between_rounds_down_and_handles_order() {
        let a = from_unix(0);
        assert_eq!(days_between(a, from_unix(DAY - 1)), 0);
        assert_eq!(days_between(a, from_unix(DAY)), 1);
        assert_eq!(days_between(from_unix(DAY), a), -1);
        assert_eq!(days_between(from_unix(1), a), -1);
    }

    #[test]
    fn formats_are_utc() {
        let t = from_unix(1_795_427_400); // 2026-11-23T09:50:00Z
        assert_eq!(rfc3339(t), "2026-11-23T09:50:00Z");
        assert_eq!(ymd(t), "2026-11-23");
    }

    #[test]
    fn out_of_range_seconds_clamp() {
        assert_eq!(from_unix(i64::MAX), Timestamp::MAX);
        assert_eq!(from_unix(i64::MIN), Timestamp::MIN);
    }
}
