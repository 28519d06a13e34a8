//! Analysis units, their fixed-horizon outcomes and their time to decay (spec §5.1, guards 2,
//! 4 and 5 of §5.10).
//!
//! A unit is one deal in one population: its index time T is its first entry into the stage
//! the population is about, plus a landmark L when the exposure develops during the stage. A
//! binary outcome is whether the event happened in the window (T, T + W] — strictly after T,
//! so a fact at exactly T belongs to the features, never the outcome. A unit whose window has
//! not fully elapsed by the data cutoff is not eligible (counting it as "no event" would bias
//! every rate down), and a unit closed before T + L is not in the population at all. Both
//! exclusions are counted, never silent.

use crate::domain::time::DAY;
use crate::domain::{DealHistory, StageId};
use jiff::Timestamp;
use std::collections::HashSet;

/// The fixed horizon of the binary outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// Window length W in days (default 90).
    pub window_days: i64,
    /// The data cutoff: the newest instant the cache's facts are complete for.
    pub cutoff: Timestamp,
}

/// Which stages end a deal, and which of those are wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClosingStages {
    /// Stages that close a deal won.
    pub won: HashSet<StageId>,
    /// Stages that close a deal lost.
    pub lost: HashSet<StageId>,
}

impl ClosingStages {
    /// When the deal first entered a closing stage, if it did.
    pub fn closed_at(&self, history: &DealHistory) -> Option<Timestamp> {
        history
            .stages
            .iter()
            .find(|c| self.won.contains(&c.stage_id) || self.lost.contains(&c.stage_id))
            .map(|c| c.at)
    }
}

/// Why a deal is or is not a unit of a population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// In the population, with its index time.
    Unit(Timestamp),
    /// Never reached the stage.
    NotReached,
    /// Closed before the landmark T + L: excluded and counted.
    ClosedBeforeLandmark,
    /// Its window (T, T + W] ends after the cutoff: excluded from binary outcomes and counted.
    WindowOpen,
}

/// Whether a deal is a unit of the population "reached `stage`" with landmark `landmark_days`,
/// and its index time: the first entry into the stage plus the landmark. The deal must still be
/// open at the index time, and its window must have elapsed by the cutoff.
pub fn membership(
    history: &DealHistory,
    stage: &StageId,
    landmark_days: i64,
    closing: &ClosingStages,
    horizon: &Horizon,
) -> Membership {
    let Some(entered) = history.first_entered(stage) else {
        return Membership::NotReached;
    };
    let t = after_days(entered, landmark_days.max(0));
    if closing.closed_at(history).is_some_and(|closed| closed < t) {
        return Membership::ClosedBeforeLandmark;
    }
    if after_days(t, horizon.window_days) > horizon.cutoff {
        return Membership::WindowOpen;
    }
    Membership::Unit(t)
}

/// `t` plus `days` whole days.
fn after_days(t: Timestamp, days: i64) -> Timestamp {
    crate::domain::time::from_unix(t.as_second().saturating_add(days.saturating_mul(DAY)))
}

/// Whether `at` falls in the window (t, t + W].
fn in_window(at: Timestamp, t: Timestamp, window_days: i64) -> bool {
    at > t && at <= after_days(t, window_days)
}

/// `slipped`: a close-date change in (T, T + W] that moves the expected close date later by at
/// least `min_days` than the date it replaced (read from field history, as `DealHistory::slips`).
pub fn slipped(history: &DealHistory, t: Timestamp, window_days: i64, min_days: i64) -> bool {
    history
        .slips(min_days)
        .iter()
        .any(|s| in_window(s.at, t, window_days))
}

/// `won`: the deal entered a won stage in (T, T + W].
pub fn won(history: &DealHistory, closing: &ClosingStages, t: Timestamp, window_days: i64) -> bool {
    entered_any(history, &closing.won, t, window_days)
}

/// `lost`: the deal entered a lost stage in (T, T + W].
pub fn lost(
    history: &DealHistory,
    closing: &ClosingStages,
    t: Timestamp,
    window_days: i64,
) -> bool {
    entered_any(history, &closing.lost, t, window_days)
}

fn entered_any(
    history: &DealHistory,
    stages: &HashSet<StageId>,
    t: Timestamp,
    window_days: i64,
) -> bool {
    history
        .stages
        .iter()
        .any(|c| stages.contains(&c.stage_id) && in_window(c.at, t, window_days))
}

/// How many deals a population lost to each exclusion, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exclusions {
    /// Closed before the landmark.
    pub closed_before_landmark: usize,
    /// Window still open at the cutoff.
    pub window_open: usize,
}

impl Exclusions {
    /// Counts one deal's membership.
    pub fn count(&mut self, m: Membership) {
        match m {
            Membership::ClosedBeforeLandmark => self.closed_before_landmark += 1,
            Membership::WindowOpen => self.window_open += 1,
            Membership::Unit(_) | Membership::NotReached => {}
        }
    }
}

/// Days of silence (no two-way activity while open) that count as a deal going stale.
pub const STALE_DAYS: i64 = 21;

/// Days after T at which every survival unit is censored.
pub const DECAY_HORIZON_DAYS: i64 = 180;

/// A unit's time to `decay` (spec §5.1): whole days from T to the first of closed-lost or
/// going stale (no two-way activity for [`STALE_DAYS`] consecutive days while open), censored
/// at closed-won, at the data cutoff and at T + [`DECAY_HORIZON_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decay {
    /// Whole days from T to the event or the censoring, `floor((end − T) / 1 day)`, at least 0.
    pub days: u32,
    /// True when the deal decayed; false when it was censored.
    pub event: bool,
}

/// The `decay` duration of a unit with index time `t`. `two_way` holds the instants of the
/// deal's two-way activities (calls, meetings, inbound emails) in any order; only those after
/// T count, the silence clock starting at T itself.
pub fn decay(
    history: &DealHistory,
    closing: &ClosingStages,
    two_way: &[Timestamp],
    t: Timestamp,
    cutoff: Timestamp,
) -> Decay {
    decay_with(history, closing, Some(two_way), t, cutoff)
}

/// [`decay`], where `two_way` is `None` when the source records no activities at all (a CSV
/// export of deals only): silence then says nothing, and only closed-lost is an event.
pub fn decay_with(
    history: &DealHistory,
    closing: &ClosingStages,
    two_way: Option<&[Timestamp]>,
    t: Timestamp,
    cutoff: Timestamp,
) -> Decay {
    let horizon = after_days(t, DECAY_HORIZON_DAYS).min(cutoff);
    let first_after = |stages: &HashSet<StageId>| {
        history
            .stages
            .iter()
            // A deal closed at exactly T is a unit (only closes before T exclude it, §5.1):
            // its close is its outcome, on day 0, not an open deal censored at the horizon.
            .filter(|c| stages.contains(&c.stage_id) && c.at >= t)
            .map(|c| c.at)
            .min()
    };
    let lost_at = first_after(&closing.lost);
    let won_at = first_after(&closing.won);
    // The deal is open until it closes (either way) or the horizon.
    let open_until = [lost_at, won_at, Some(horizon)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(horizon);
    let stale_at = two_way.and_then(|times| stale_from(times, t, open_until));
    let days = |end: Timestamp| ((end.as_second() - t.as_second()).max(0) / DAY) as u32;
    let events = [(lost_at, true), (stale_at, true), (won_at, false)];
    let first = events
        .into_iter()
        .filter_map(|(at, event)| at.filter(|&at| at <= horizon).map(|at| (at, event)))
        // At the same instant an event wins over censoring by a win.
        .min_by_key(|&(at, event)| (at, !event));
    match first {
        Some((at, event)) => Decay {
            days: days(at),
            event,
        },
        None => Decay {
            days: days(horizon),
            event: false,
        },
    }
}

/// `stalled`: while the deal was open, [`STALE_DAYS`] passed without two-way activity, the
/// silence ending in (T, T + W]. The binary face of the staleness `decay` counts: a team
/// whose stalled deals are later lost and whose healthy ones are lost quickly shows no
/// difference in time to decay, yet a large one in how often deals stall.
pub fn stalled(
    history: &DealHistory,
    closing: &ClosingStages,
    two_way: &[Timestamp],
    t: Timestamp,
    window_days: i64,
) -> bool {
    let end = after_days(t, window_days);
    let closed = history
        .stages
        .iter()
        .filter(|c| {
            (closing.won.contains(&c.stage_id) || closing.lost.contains(&c.stage_id)) && c.at >= t
        })
        .map(|c| c.at)
        .min();
    let open_until = closed.map_or(end, |c| c.min(end));
    stale_from(two_way, t, open_until).is_some()
}

/// The first instant after `t` and not after `until` at which [`STALE_DAYS`] have passed with
/// no two-way activity, counting from `t` and from each activity after it.
fn stale_from(two_way: &[Timestamp], t: Timestamp, until: Timestamp) -> Option<Timestamp> {
    let mut times: Vec<Timestamp> = two_way
        .iter()
        .copied()
        .filter(|&a| a > t && a <= until)
        .collect();
    times.sort_unstable();
    let mut last = t;
    for at in times {
        let deadline = after_days(last, STALE_DAYS);
        if at > deadline {
            return Some(deadline);
        }
        last = at;
    }
    let deadline = after_days(last, STALE_DAYS);
    (deadline <= until).then_some(deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;
    use crate::domain::{CloseDateChange, StageChange};

    fn day(d: i64) -> Timestamp {
        from_unix(d * DAY)
    }

    fn history(stages: &[(i64, &str)], close_dates: &[(i64, i64)]) -> DealHistory {
        DealHistory {
            stages: stages
                .iter()
                .map(|&(at, id)| StageChange {
                    at: day(at),
                    stage_id: id.into(),
                })
                .collect(),
            amounts: vec![],
            close_dates: close_dates
                .iter()
                .map(|&(at, date)| CloseDateChange {
                    at: day(at),
                    close_date: Some(day(date)),
                })
                .collect(),
        }
    }

    fn closing() -> ClosingStages {
        ClosingStages {
            won: ["closedwon".into()].into(),
            lost: ["closedlost".into()].into(),
        }
    }

    fn horizon(cutoff: i64) -> Horizon {
        Horizon {
            window_days: 90,
            cutoff: day(cutoff),
        }
    }

    #[test]
    fn the_index_time_is_stage_entry_plus_the_landmark() {
        let h = history(&[(0, "discovery"), (10, "demo"), (50, "closedwon")], &[]);
        let demo: StageId = "demo".into();
        assert_eq!(
            membership(&h, &demo, 0, &closing(), &horizon(500)),
            Membership::Unit(day(10))
        );
        assert_eq!(
            membership(&h, &demo, 14, &closing(), &horizon(500)),
            Membership::Unit(day(24))
        );
        assert_eq!(
            membership(&h, &"proposal".into(), 0, &closing(), &horizon(500)),
            Membership::NotReached
        );
    }

    #[test]
    fn closed_before_the_landmark_and_open_windows_are_excluded_and_counted() {
        let demo: StageId = "demo".into();
        let quick = history(&[(10, "demo"), (20, "closedlost")], &[]);
        let m = membership(&quick, &demo, 14, &closing(), &horizon(500));
        assert_eq!(m, Membership::ClosedBeforeLandmark);
        // Closed exactly at the landmark: still open at T, so a unit.
        let at_landmark = history(&[(10, "demo"), (24, "closedlost")], &[]);
        assert_eq!(
            membership(&at_landmark, &demo, 14, &closing(), &horizon(500)),
            Membership::Unit(day(24))
        );
        // T = 10, T + W = 100: eligible with a cutoff of 100, not of 99.
        let open = history(&[(10, "demo")], &[]);
        assert_eq!(
            membership(&open, &demo, 0, &closing(), &horizon(100)),
            Membership::Unit(day(10))
        );
        let m2 = membership(&open, &demo, 0, &closing(), &horizon(99));
        assert_eq!(m2, Membership::WindowOpen);
        let mut excluded = Exclusions::default();
        for m in [m, m2, Membership::NotReached, Membership::Unit(day(1))] {
            excluded.count(m);
        }
        assert_eq!(
            excluded,
            Exclusions {
                closed_before_landmark: 1,
                window_open: 1
            }
        );
    }

    #[test]
    fn outcome_windows_start_strictly_after_t_and_end_at_t_plus_w() {
        // Close date 60 → 80 (a 20-day slip) made on the day given.
        let slip_on = |d: i64| history(&[(10, "demo")], &[(0, 60), (d, 80)]);
        let t = day(10);
        assert!(
            !slipped(&slip_on(10), t, 90, 7),
            "a fact at T is a feature, not an outcome"
        );
        assert!(slipped(&slip_on(11), t, 90, 7));
        assert!(slipped(&slip_on(100), t, 90, 7), "T + W is inside");
        assert!(!slipped(&slip_on(101), t, 90, 7), "after T + W is outside");
        assert!(
            !slipped(&slip_on(50), t, 90, 30),
            "20 days is below a 30-day threshold"
        );
        let h = history(&[(10, "demo"), (40, "closedwon")], &[]);
        assert!(won(&h, &closing(), t, 90));
        assert!(!lost(&h, &closing(), t, 90));
        assert!(!won(&h, &closing(), t, 20), "won after the window");
    }

    #[test]
    fn decay_is_the_first_of_lost_or_stale_censored_at_won_cutoff_and_horizon() {
        let t = day(10);
        let busy: Vec<Timestamp> = (11..400).step_by(7).map(day).collect();
        // Lost on day 40 while busy: an event after 30 days.
        let lost = history(&[(10, "demo"), (40, "closedlost")], &[]);
        assert_eq!(
            decay(&lost, &closing(), &busy, t, day(1000)),
            Decay {
                days: 30,
                event: true
            }
        );
        // Won on day 40: censored at 30.
        let won = history(&[(10, "demo"), (40, "closedwon")], &[]);
        assert_eq!(
            decay(&won, &closing(), &busy, t, day(1000)),
            Decay {
                days: 30,
                event: false
            }
        );
        // Open and busy throughout: censored at the 180-day horizon, or earlier at the cutoff.
        let open = history(&[(10, "demo")], &[]);
        assert_eq!(
            decay(&open, &closing(), &busy, t, day(1000)),
            Decay {
                days: 180,
                event: false
            }
        );
        assert_eq!(
            decay(&open, &closing(), &busy, t, day(50)),
            Decay {
                days: 40,
                event: false
            }
        );
        // Silent from T: stale after 21 days.
        assert_eq!(
            decay(&open, &closing(), &[], t, day(1000)),
            Decay {
                days: 21,
                event: true
            }
        );
        // Calls on days 15 and 30, then silence: stale on day 51.
        assert_eq!(
            decay(&open, &closing(), &[day(30), day(15)], t, day(1000)),
            Decay {
                days: 41,
                event: true
            }
        );
        // Activity before T does not keep the deal alive after it.
        assert_eq!(
            decay(&open, &closing(), &[day(5), day(9)], t, day(1000)),
            Decay {
                days: 21,
                event: true
            }
        );
        // Won before it would have gone stale: censored, not decayed.
        let quick_win = history(&[(10, "demo"), (20, "closedwon")], &[]);
        assert_eq!(
            decay(&quick_win, &closing(), &[], t, day(1000)),
            Decay {
                days: 10,
                event: false
            }
        ); // Closed at exactly T (coarse dates put stage entry and close on one day): lost is an
        // event on day 0, won a censoring on day 0 — never an open deal followed for 180 days.
        let lost_at_t = history(&[(10, "demo"), (10, "closedlost")], &[]);
        assert_eq!(
            decay(&lost_at_t, &closing(), &busy, t, day(1000)),
            Decay {
                days: 0,
                event: true
            }
        );
        let won_at_t = history(&[(10, "demo"), (10, "closedwon")], &[]);
        assert_eq!(
            decay(&won_at_t, &closing(), &[], t, day(1000)),
            Decay {
                days: 0,
                event: false
            }
        );
        // Nor does a deal closed at T stall afterwards.
        assert!(!stalled(&won_at_t, &closing(), &[], t, 90));
    }

    proptest::proptest! {
        /// Leakage guard: facts after T + W change no outcome, and neither do facts at or
        /// before T (they are the features' business).
        #[test]
        fn outcomes_read_only_their_window(at in 0i64..400, moved in 1i64..60) {
            let t = day(100);
            let base = history(&[(100, "demo")], &[(0, 150)]);
            let mut with_fact = base.clone();
            with_fact.close_dates.push(CloseDateChange {
                at: day(at),
                close_date: Some(day(150 + moved)),
            });
            with_fact.normalise();
            let inside = at > 100 && at <= 190;
            if !inside {
                proptest::prop_assert_eq!(slipped(&with_fact, t, 90, 7), slipped(&base, t, 90, 7));
            }
        }
    }
}
