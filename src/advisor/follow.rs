//! The closed loop: for each recommendation, was it followed and what happened — and per
//! lesson, the outcome when followed against when not, with the pattern engine's statistics.

use crate::patterns::table::Table2x2;
use serde::Serialize;

/// One recommendation's follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUp {
    /// Whether it was followed; `None` while unknown.
    pub followed: Option<bool>,
    /// Whether the lesson's outcome happened in the window after it was shown; `None` while
    /// the window is still open.
    pub outcome: Option<bool>,
}

/// Outcomes when followed against when not, for one lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowTable {
    /// Recommendations counted.
    pub total: u64,
    /// Followed, with a known outcome.
    pub n_followed: u64,
    /// …of which had the outcome.
    pub events_followed: u64,
    /// Not followed, with a known outcome.
    pub n_not_followed: u64,
    /// …of which had the outcome.
    pub events_not_followed: u64,
    /// Whether followed is still unknown, or the window still open.
    pub pending: u64,
    /// Relative risk of the outcome, followed vs not (Katz interval); `None` when a side is
    /// empty.
    pub rr: Option<f64>,
    /// 95% interval.
    pub ci_low: Option<f64>,
    /// 95% interval.
    pub ci_high: Option<f64>,
    /// Fisher's exact p; `None` when a side is empty.
    pub p: Option<f64>,
    /// A cell was 0: 0.5 was added to each for the estimate ("†").
    pub corrected: bool,
}

impl FollowTable {
    /// The 2×2 table behind the figures.
    pub fn table(&self) -> Table2x2 {
        Table2x2::new(
            self.events_followed,
            self.n_followed - self.events_followed,
            self.events_not_followed,
            self.n_not_followed - self.events_not_followed,
        )
    }
}

/// Tallies follow-ups into the followed / not-followed table.
pub fn follow_table(items: impl IntoIterator<Item = FollowUp>) -> FollowTable {
    let (mut a, mut b, mut c, mut d, mut pending, mut total) = (0, 0, 0, 0, 0, 0);
    for item in items {
        total += 1;
        match (item.followed, item.outcome) {
            (Some(true), Some(true)) => a += 1,
            (Some(true), Some(false)) => b += 1,
            (Some(false), Some(true)) => c += 1,
            (Some(false), Some(false)) => d += 1,
            _ => pending += 1,
        }
    }
    let table = Table2x2::new(a, b, c, d);
    let rr = table.relative_risk(crate::patterns::z95());
    let both = table.n1() > 0 && table.n0() > 0;
    FollowTable {
        total,
        n_followed: a + b,
        events_followed: a,
        n_not_followed: c + d,
        events_not_followed: c,
        pending,
        rr: rr.map(|r| r.rr),
        ci_low: rr.map(|r| r.ci.low),
        ci_high: rr.map(|r| r.ci.high),
        p: both.then(|| table.fisher_p()),
        corrected: rr.is_some_and(|r| r.corrected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(spec: &[(Option<bool>, Option<bool>, usize)]) -> Vec<FollowUp> {
        spec.iter()
            .flat_map(|&(followed, outcome, n)| {
                std::iter::repeat_n(FollowUp { followed, outcome }, n)
            })
            .collect()
    }

    #[test]
    fn the_table_counts_each_cell_and_uses_the_engines_statistics() {
        let t = follow_table(items(&[
            (Some(true), Some(true), 6),
            (Some(true), Some(false), 24),
            (Some(false), Some(true), 15),
            (Some(false), Some(false), 15),
            (None, Some(true), 4),
            (Some(true), None, 3),
        ]));
        assert_eq!((t.total, t.pending), (67, 7));
        assert_eq!((t.events_followed, t.n_followed), (6, 30));
        assert_eq!((t.events_not_followed, t.n_not_followed), (15, 30));
        let same = Table2x2::new(6, 24, 15, 15);
        let rr = same.relative_risk(crate::patterns::z95()).unwrap();
        assert_eq!(t.rr, Some(rr.rr));
        assert_eq!(t.ci_low, Some(rr.ci.low));
        assert_eq!(t.p, Some(same.fisher_p()));
        assert!((t.rr.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(t.table(), same);
    }

    #[test]
    fn an_empty_side_has_no_effect() {
        let t = follow_table(items(&[(Some(true), Some(false), 5)]));
        assert_eq!(t.rr, None);
        assert_eq!(t.p, None);
        assert_eq!(follow_table([]).total, 0);
    }
}
