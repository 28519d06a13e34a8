//! Field history of a deal (stage, amount, close date) and the facts derived from it.
//!
//! A **slip** is a close-date change that moves the expected close date later; a **stall** is an
//! open deal that has stayed in its stage for longer than that stage's norm in the team's history.
//! Both are pure functions of the history, so the review queue, the deal view and the pattern
//! engine agree on them.

use super::ids::StageId;
use super::time::{DAY, days_between};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The deal entered `stage_id` at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    /// When the stage was entered.
    pub at: Timestamp,
    /// The stage entered.
    pub stage_id: StageId,
}

/// The deal's amount became `amount` at `at` (`None`: cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmountChange {
    /// When the amount changed.
    pub at: Timestamp,
    /// The new amount.
    pub amount: Option<f64>,
}

/// The deal's expected close date became `close_date` at `at` (`None`: cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseDateChange {
    /// When the close date was changed.
    pub at: Timestamp,
    /// The new close date.
    pub close_date: Option<Timestamp>,
}

/// A close date moved later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slip {
    /// When the change was made.
    pub at: Timestamp,
    /// The close date before the change.
    pub from: Timestamp,
    /// The close date after the change.
    pub to: Timestamp,
    /// How many whole days later the new date is.
    pub days: i64,
}

/// One entry of a deal's merged field timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum HistoryEvent {
    /// The stage changed.
    Stage(StageChange),
    /// The amount changed.
    Amount(AmountChange),
    /// The close date changed.
    CloseDate(CloseDateChange),
}

impl HistoryEvent {
    /// When the change happened.
    pub fn at(&self) -> Timestamp {
        match self {
            HistoryEvent::Stage(c) => c.at,
            HistoryEvent::Amount(c) => c.at,
            HistoryEvent::CloseDate(c) => c.at,
        }
    }
}

/// The full field history of one deal, each list sorted by time (ties keep CRM order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DealHistory {
    /// Stage entries.
    pub stages: Vec<StageChange>,
    /// Amount changes.
    pub amounts: Vec<AmountChange>,
    /// Close-date changes.
    pub close_dates: Vec<CloseDateChange>,
}

impl DealHistory {
    /// Sorts every list by time, keeping the order of equal timestamps (as the CRM gave them).
    pub fn normalise(&mut self) {
        self.stages.sort_by_key(|c| c.at);
        self.amounts.sort_by_key(|c| c.at);
        self.close_dates.sort_by_key(|c| c.at);
    }

    /// Every change merged into one timeline, oldest first.
    pub fn timeline(&self) -> Vec<HistoryEvent> {
        let mut events: Vec<HistoryEvent> = self
            .stages
            .iter()
            .cloned()
            .map(HistoryEvent::Stage)
            .chain(self.amounts.iter().cloned().map(HistoryEvent::Amount))
            .chain(
                self.close_dates
                    .iter()
                    .cloned()
                    .map(HistoryEvent::CloseDate),
            )
            .collect();
        events.sort_by_key(HistoryEvent::at);
        events
    }

    /// Every change of the close date to a date at least `min_days` later than the one before.
    /// Changes from or to an empty date are not slips: nothing was promised or nothing is now.
    pub fn slips(&self, min_days: i64) -> Vec<Slip> {
        self.close_dates
            .windows(2)
            .filter_map(|w| {
                let (from, to) = (w[0].close_date?, w[1].close_date?);
                let days = days_between(from, to);
                (to > from && days >= min_days.max(0)).then_some(Slip {
                    at: w[1].at,
                    from,
                    to,
                    days,
                })
            })
            .collect()
    }

    /// How many times the close date moved later by at least `min_days`.
    pub fn slip_count(&self, min_days: i64) -> usize {
        self.slips(min_days).len()
    }

    /// The stage the deal was in at `t` (the last entry at or before `t`).
    pub fn stage_at(&self, t: Timestamp) -> Option<&StageId> {
        self.stages
            .iter()
            .take_while(|c| c.at <= t)
            .last()
            .map(|c| &c.stage_id)
    }

    /// When the deal first entered `stage`, if it ever did.
    pub fn first_entered(&self, stage: &StageId) -> Option<Timestamp> {
        self.stages
            .iter()
            .find(|c| &c.stage_id == stage)
            .map(|c| c.at)
    }

    /// When the deal entered the stage it is in at `now`.
    pub fn current_stage_since(&self, now: Timestamp) -> Option<Timestamp> {
        self.stages
            .iter()
            .take_while(|c| c.at <= now)
            .last()
            .map(|c| c.at)
    }

    /// Whole days the deal has spent in the stage it is in at `now`.
    pub fn days_in_current_stage(&self, now: Timestamp) -> Option<i64> {
        self.current_stage_since(now)
            .map(|since| days_between(since, now))
    }

    /// Completed stays: (stage, whole days) for every stage the deal entered and then left.
    pub fn completed_stays(&self) -> impl Iterator<Item = (&StageId, i64)> {
        self.stages
            .windows(2)
            .map(|w| (&w[0].stage_id, days_between(w[0].at, w[1].at)))
    }

    /// True when an open deal has been in its current stage for longer than the stage's norm.
    /// Deals in a stage with no norm (too little history) are never called stalled.
    pub fn is_stalled(&self, now: Timestamp, norms: &StageNorms) -> bool {
        let (Some(stage), Some(days)) = (self.stage_at(now), self.days_in_current_stage(now))
        else {
            return false;
        };
        norms.norm_days(stage).is_some_and(|norm| days > norm)
    }

    /// The amount at `t` (the last change at or before `t`).
    pub fn amount_at(&self, t: Timestamp) -> Option<f64> {
        self.amounts
            .iter()
            .take_while(|c| c.at <= t)
            .last()
            .and_then(|c| c.amount)
    }

    /// The expected close date at `t` (the last change at or before `t`).
    pub fn close_date_at(&self, t: Timestamp) -> Option<Timestamp> {
        self.close_dates
            .iter()
            .take_while(|c| c.at <= t)
            .last()
            .and_then(|c| c.close_date)
    }
}

/// How long deals usually stay in each stage, learnt from the team's completed stays.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StageNorms {
    norms: BTreeMap<StageId, i64>,
}

impl StageNorms {
    /// Fewest completed stays a stage needs before it gets a norm; below this, one odd deal
    /// would define what "normal" means.
    pub const MIN_STAYS: usize = 10;

    /// Learns the norm of each stage as the `quantile` (0–1, e.g. 0.75) of its completed stays,
    /// nearest-rank, over the given histories.
    pub fn learn<'a>(histories: impl IntoIterator<Item = &'a DealHistory>, quantile: f64) -> Self {
        let mut stays: BTreeMap<StageId, Vec<i64>> = BTreeMap::new();
        for h in histories {
            for (stage, days) in h.completed_stays() {
                stays.entry(stage.clone()).or_default().push(days);
            }
        }
        let q = quantile.clamp(0.0, 1.0);
        let norms = stays
            .into_iter()
            .filter(|(_, v)| v.len() >= Self::MIN_STAYS)
            .map(|(stage, mut v)| {
                v.sort_unstable();
                // Nearest rank: the smallest value with at least q of the stays at or below it.
                let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
                (stage, v[rank - 1])
            })
            .collect();
        StageNorms { norms }
    }

    /// Norms given directly (for tests and for a configured override).
    pub fn from_days(norms: impl IntoIterator<Item = (StageId, i64)>) -> Self {
        StageNorms {
            norms: norms.into_iter().collect(),
        }
    }

    /// The norm of a stage in whole days, if it has one.
    pub fn norm_days(&self, stage: &StageId) -> Option<i64> {
        self.norms.get(stage).copied()
    }
}

/// Seconds in `days` whole days (a small helper for building histories in tests and the demo).
pub const fn days(days: i64) -> i64 {
    days * DAY
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;

    fn t(d: i64) -> Timestamp {
        from_unix(days(d))
    }

    fn close(at: i64, date: Option<i64>) -> CloseDateChange {
        CloseDateChange {
            at: t(at),
            close_date: date.map(t),
        }
    }

    fn stage(at: i64, id: &str) -> StageChange {
        StageChange {
            at: t(at),
            stage_id: id.into(),
        }
    }

    #[test]
    fn a_slip_is_a_close_date_moved_later() {
        let h = DealHistory {
            close_dates: vec![
                close(0, Some(60)),
                close(10, Some(90)),  // +30: slip
                close(20, Some(80)),  // earlier: not a slip
                close(30, Some(83)),  // +3: below 7-day threshold
                close(40, None),      // cleared
                close(50, Some(200)), // from empty: not a slip
            ],
            ..Default::default()
        };
        let slips = h.slips(7);
        assert_eq!(slips.len(), 1);
        assert_eq!(slips[0].at, t(10));
        assert_eq!(slips[0].days, 30);
        assert_eq!(h.slip_count(1), 2);
        assert_eq!(
            h.slip_count(0),
            2,
            "zero threshold still needs the date to move later"
        );
    }

    #[test]
    fn stage_at_and_days_in_stage() {
        let h = DealHistory {
            stages: vec![
                stage(0, "discovery"),
                stage(10, "demo"),
                stage(25, "proposal"),
            ],
            ..Default::default()
        };
        assert_eq!(h.stage_at(t(9)).map(StageId::as_str), Some("discovery"));
        assert_eq!(h.stage_at(t(10)).map(StageId::as_str), Some("demo"));
        assert_eq!(h.stage_at(from_unix(-1)), None);
        assert_eq!(h.days_in_current_stage(t(30)), Some(5));
        assert_eq!(h.days_in_current_stage(t(24)), Some(14));
        assert_eq!(h.first_entered(&"demo".into()), Some(t(10)));
        let stays: Vec<_> = h.completed_stays().map(|(s, d)| (s.as_str(), d)).collect();
        assert_eq!(stays, vec![("discovery", 10), ("demo", 15)]);
    }

    #[test]
    fn stalls_need_a_norm_and_an_overstay() {
        let h = DealHistory {
            stages: vec![stage(0, "discovery"), stage(10, "demo")],
            ..Default::default()
        };
        let norms = StageNorms::from_days([("demo".into(), 20)]);
        assert!(
            !h.is_stalled(t(30), &norms),
            "exactly the norm is not a stall"
        );
        assert!(h.is_stalled(t(31), &norms));
        assert!(!h.is_stalled(t(5), &norms), "discovery has no norm");
    }

    #[test]
    fn norms_are_nearest_rank_quantiles_with_a_minimum_sample() {
        let histories: Vec<DealHistory> = (1..=20)
            .map(|d| DealHistory {
                stages: vec![stage(0, "demo"), stage(d, "proposal")],
                ..Default::default()
            })
            .collect();
        let norms = StageNorms::learn(&histories, 0.75);
        assert_eq!(norms.norm_days(&"demo".into()), Some(15));
        assert_eq!(
            StageNorms::learn(&histories, 1.0).norm_days(&"demo".into()),
            Some(20)
        );
        assert_eq!(
            StageNorms::learn(&histories, 0.0).norm_days(&"demo".into()),
            Some(1)
        );
        let few = StageNorms::learn(&histories[..5], 0.75);
        assert_eq!(few.norm_days(&"demo".into()), None);
    }

    #[test]
    fn timeline_merges_in_time_order() {
        let h = DealHistory {
            stages: vec![stage(0, "discovery"), stage(10, "demo")],
            amounts: vec![AmountChange {
                at: t(5),
                amount: Some(1.0),
            }],
            close_dates: vec![close(7, Some(90))],
        };
        let at: Vec<_> = h.timeline().iter().map(HistoryEvent::at).collect();
        assert_eq!(at, vec![t(0), t(5), t(7), t(10)]);
    }

    #[test]
    fn values_as_of_a_time() {
        let h = DealHistory {
            amounts: vec![
                AmountChange {
                    at: t(0),
                    amount: Some(100.0),
                },
                AmountChange {
                    at: t(10),
                    amount: Some(80.0),
                },
            ],
            close_dates: vec![close(0, Some(60)), close(10, Some(90))],
            ..Default::default()
        };
        assert_eq!(h.amount_at(t(9)), Some(100.0));
        assert_eq!(h.amount_at(t(10)), Some(80.0));
        assert_eq!(h.close_date_at(t(9)), Some(t(60)));
        assert_eq!(h.close_date_at(from_unix(-5)), None);
    }
}
