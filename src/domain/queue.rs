//! The review queue: which deals need a look this week, and why.
//!
//! The store gathers one [`DealFacts`] per deal in a few set-based queries; [`badges`] turns those
//! facts into reason badges as of a moment. Keeping the rule here, free of SQL, lets the queue
//! screen, the CLI and the tests agree on it and test it without a database.
//!
//! The rule of "since the last review": an event counts when it happened after the deal's review
//! mark and not after `as_of`; for a deal never marked, when it happened within the lookback
//! window, that is after `as_of - lookback_days` and not after `as_of`. Events later than `as_of`
//! have not happened yet as far as the queue is concerned. Closing and slipping are events;
//! being stalled and being past the close date are states, which show for as long as they hold
//! unless the deal was marked reviewed after they began.

use super::history::StageNorms;
use super::ids::{DealId, StageId};
use super::time::{DAY, from_unix};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a deal is in the review queue. The order is the order badges are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    /// The deal closed won since the last review.
    Won,
    /// The deal closed lost since the last review.
    Lost,
    /// The close date moved later (by at least the configured days) since the last review.
    Slipped,
    /// The open deal overstayed its stage's norm since the last review.
    Stalled,
    /// The open deal's close date passed since the last review.
    PastClose,
}

impl Badge {
    /// Every badge, in display order.
    pub const ALL: [Badge; 5] = [
        Badge::Won,
        Badge::Lost,
        Badge::Slipped,
        Badge::Stalled,
        Badge::PastClose,
    ];

    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Badge::Won => "won",
            Badge::Lost => "lost",
            Badge::Slipped => "slipped",
            Badge::Stalled => "stalled",
            Badge::PastClose => "past_close",
        }
    }

    /// A short label for a narrow queue column.
    pub fn label(self) -> &'static str {
        match self {
            Badge::Won => "WON",
            Badge::Lost => "LOST",
            Badge::Slipped => "SLIP",
            Badge::Stalled => "STALL",
            Badge::PastClose => "PAST",
        }
    }
}

/// Where the deal's reviews stand, for the queue's status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueReviewStatus {
    /// The deal has no review.
    #[default]
    None,
    /// At least one of the deal's reviews is a draft: work in progress wins over a finished
    /// older review, because that is what the reviewer has to come back to.
    Draft,
    /// The deal has only final reviews.
    Final,
}

/// What the queue needs to know about one deal, gathered by `store::queue::facts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealFacts {
    /// The deal.
    pub deal: DealId,
    /// The deal's current stage.
    pub stage_id: StageId,
    /// Whether the deal is closed.
    pub is_closed: bool,
    /// Whether it was won (only meaningful when closed).
    pub is_won: bool,
    /// The expected close date of an open deal; for a closed deal, when it closed.
    pub close_date: Option<Timestamp>,
    /// When the deal's latest stage change happened (the newest entry of its stage history).
    pub stage_since: Option<Timestamp>,
    /// When the close date last moved later by at least the slip threshold.
    pub last_slip_at: Option<Timestamp>,
    /// By how many whole days that last slip moved the date.
    pub last_slip_days: Option<i64>,
    /// How many slips of at least the threshold the deal has had in all.
    pub slip_count: usize,
    /// When the deal was last marked reviewed.
    pub reviewed_at: Option<Timestamp>,
    /// Where the deal's reviews stand.
    pub review_status: QueueReviewStatus,
}

impl DealFacts {
    /// When an open deal started to be stalled: the first instant at which it had spent more
    /// whole days in its stage than the norm, the same test as `DealHistory::is_stalled`.
    /// `None` for closed deals, deals without stage history and stages without a norm.
    pub fn stalled_since(&self, norms: &StageNorms) -> Option<Timestamp> {
        if self.is_closed {
            return None;
        }
        let norm = norms.norm_days(&self.stage_id)?;
        let since = self.stage_since?;
        // `days_between(since, t) > norm` first holds at `since + (norm + 1)` days.
        let crossed = norm.saturating_add(1).saturating_mul(DAY);
        Some(from_unix(since.as_second().saturating_add(crossed)))
    }
}

/// The reason badges of one deal as of `as_of`, in display order; empty when the deal does not
/// need a look.
///
/// - [`Badge::Won`] / [`Badge::Lost`]: a closed deal whose close date counts (a closed deal
///   without a close date cannot be placed in time and gets neither).
/// - [`Badge::Slipped`]: the last slip counts.
/// - [`Badge::Stalled`]: an open deal stalled since [`DealFacts::stalled_since`], unless marked
///   reviewed after that.
/// - [`Badge::PastClose`]: an open deal whose close date is before `as_of`, unless marked
///   reviewed after that date.
///
/// "Counts" is the rule in the module documentation: after the review mark, or, unmarked, within
/// the last `lookback_days` days; never after `as_of`.
pub fn badges(
    facts: &DealFacts,
    norms: &StageNorms,
    as_of: Timestamp,
    lookback_days: i64,
) -> Vec<Badge> {
    let now = as_of.as_second();
    let after = match facts.reviewed_at {
        Some(mark) => mark.as_second(),
        None => now.saturating_sub(lookback_days.max(0).saturating_mul(DAY)),
    };
    let counts = |t: Timestamp| t.as_second() > after && t.as_second() <= now;
    // Stalled and past its close date are states, not events: they hold until something
    // changes, so a deal never reviewed shows them for as long as they hold; a review mark
    // made after the state began clears them.
    let holds = |t: Timestamp| match facts.reviewed_at {
        Some(mark) => t > mark && t <= as_of,
        None => t <= as_of,
    };

    let mut out = Vec::new();
    if facts.is_closed && facts.close_date.is_some_and(counts) {
        out.push(if facts.is_won {
            Badge::Won
        } else {
            Badge::Lost
        });
    }
    if facts.last_slip_at.is_some_and(counts) {
        out.push(Badge::Slipped);
    }
    if facts.stalled_since(norms).is_some_and(holds) {
        out.push(Badge::Stalled);
    }
    // A close date that is today is not past yet: the deal may still close today.
    if !facts.is_closed && facts.close_date.is_some_and(|c| c < as_of && holds(c)) {
        out.push(Badge::PastClose);
    }
    out
}

/// One deal in the review queue with its badges.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry<'a> {
    /// The deal's facts.
    pub facts: &'a DealFacts,
    /// Why it is in the queue (never empty).
    pub badges: Vec<Badge>,
}

/// The deals that need a look as of `as_of`: those with at least one badge, in the order given.
pub fn queue<'a>(
    facts: &'a [DealFacts],
    norms: &StageNorms,
    as_of: Timestamp,
    lookback_days: i64,
) -> Vec<QueueEntry<'a>> {
    facts
        .iter()
        .filter_map(|f| {
            let badges = badges(f, norms, as_of, lookback_days);
            (!badges.is_empty()).then_some(QueueEntry { facts: f, badges })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1000;

    fn t(day: i64) -> Timestamp {
        from_unix(day * DAY)
    }

    fn open() -> DealFacts {
        DealFacts {
            deal: "d".into(),
            stage_id: "demo".into(),
            is_closed: false,
            is_won: false,
            close_date: Some(t(NOW + 30)),
            stage_since: Some(t(NOW - 2)),
            last_slip_at: None,
            last_slip_days: None,
            slip_count: 0,
            reviewed_at: None,
            review_status: QueueReviewStatus::None,
        }
    }

    fn norms() -> StageNorms {
        StageNorms::from_days([("demo".into(), 20)])
    }

    fn of(f: &DealFacts) -> Vec<Badge> {
        badges(f, &norms(), t(NOW), 7)
    }

    #[test]
    fn a_quiet_open_deal_has_no_badges() {
        assert!(of(&open()).is_empty());
    }

    #[test]
    fn closed_deals_are_won_or_lost_when_they_closed_recently() {
        let won = DealFacts {
            is_closed: true,
            is_won: true,
            stage_id: "closedwon".into(),
            close_date: Some(t(NOW - 3)),
            ..open()
        };
        assert_eq!(of(&won), [Badge::Won]);
        let lost = DealFacts {
            is_won: false,
            stage_id: "closedlost".into(),
            ..won.clone()
        };
        assert_eq!(of(&lost), [Badge::Lost]);
        let long_ago = DealFacts {
            close_date: Some(t(NOW - 30)),
            ..won.clone()
        };
        assert!(of(&long_ago).is_empty());
        let undated = DealFacts {
            close_date: None,
            ..won
        };
        assert!(of(&undated).is_empty(), "cannot tell when it closed");
    }

    #[test]
    fn closed_deals_are_neither_past_close_nor_stalled() {
        let lost = DealFacts {
            is_closed: true,
            close_date: Some(t(NOW - 1)),
            stage_since: Some(t(NOW - 100)),
            ..open()
        };
        assert_eq!(of(&lost), [Badge::Lost]);
    }

    #[test]
    fn slipped_counts_the_last_slip() {
        let f = DealFacts {
            last_slip_at: Some(t(NOW - 1)),
            last_slip_days: Some(14),
            slip_count: 2,
            ..open()
        };
        assert_eq!(of(&f), [Badge::Slipped]);
        let old = DealFacts {
            last_slip_at: Some(t(NOW - 8)),
            ..f
        };
        assert!(of(&old).is_empty());
    }

    #[test]
    fn stalled_counts_from_the_moment_the_norm_was_crossed() {
        // In demo since day NOW-25: more than 20 whole days from NOW-4 on.
        let f = DealFacts {
            stage_since: Some(t(NOW - 25)),
            ..open()
        };
        assert_eq!(f.stalled_since(&norms()), Some(t(NOW - 4)));
        assert_eq!(of(&f), [Badge::Stalled]);
        // Exactly the norm is not a stall (as `DealHistory::is_stalled`).
        let at_norm = DealFacts {
            stage_since: Some(t(NOW - 20)),
            ..open()
        };
        assert!(of(&at_norm).is_empty());
        let just_over = DealFacts {
            stage_since: Some(t(NOW - 21)),
            ..open()
        };
        assert_eq!(of(&just_over), [Badge::Stalled]);
        // Crossed long ago and never reviewed: still stalled, still in the queue; reviewed
        // after it stalled: out until something new happens.
        let long = DealFacts {
            stage_since: Some(t(NOW - 60)),
            ..open()
        };
        assert_eq!(of(&long), [Badge::Stalled]);
        let reviewed = DealFacts {
            reviewed_at: Some(t(NOW - 10)),
            ..long.clone()
        };
        assert!(of(&reviewed).is_empty());
        let reviewed_before_it_stalled = DealFacts {
            reviewed_at: Some(t(NOW - 50)),
            ..long
        };
        assert_eq!(of(&reviewed_before_it_stalled), [Badge::Stalled]);
        // No norm for the stage: never stalled.
        let unknown = DealFacts {
            stage_id: "new_stage".into(),
            ..f
        };
        assert!(of(&unknown).is_empty());
    }

    #[test]
    fn past_close_counts_from_the_close_date() {
        let f = DealFacts {
            close_date: Some(t(NOW - 2)),
            ..open()
        };
        assert_eq!(of(&f), [Badge::PastClose]);
        let today = DealFacts {
            close_date: Some(t(NOW)),
            ..open()
        };
        assert!(of(&today).is_empty(), "the close date is today, not past");
        // Past its date for weeks and never reviewed: it stays in the queue until it is.
        let long = DealFacts {
            close_date: Some(t(NOW - 40)),
            ..open()
        };
        assert_eq!(of(&long), [Badge::PastClose]);
        let reviewed = DealFacts {
            reviewed_at: Some(t(NOW - 1)),
            ..long
        };
        assert!(of(&reviewed).is_empty());
    }

    #[test]
    fn the_lookback_window_excludes_its_start_and_includes_as_of() {
        let at = |secs: i64| DealFacts {
            is_closed: true,
            is_won: true,
            close_date: Some(from_unix(secs)),
            ..open()
        };
        let start = (NOW - 7) * DAY;
        assert!(of(&at(start)).is_empty(), "exactly 7 days ago is outside");
        assert_eq!(of(&at(start + 1)), [Badge::Won]);
        assert_eq!(of(&at(NOW * DAY)), [Badge::Won]);
        assert!(of(&at(NOW * DAY + 1)).is_empty(), "after as_of");
        assert!(badges(&at(start + 1), &norms(), t(NOW), 0).is_empty());
        assert!(badges(&at(start + 1), &norms(), t(NOW), -3).is_empty());
        assert_eq!(
            badges(&at(start), &norms(), t(NOW), 8),
            [Badge::Won],
            "a longer lookback reaches further"
        );
    }

    #[test]
    fn a_review_mark_replaces_the_lookback_window() {
        let busy = DealFacts {
            close_date: Some(t(NOW - 2)),
            last_slip_at: Some(t(NOW - 3)),
            stage_since: Some(t(NOW - 22)), // stalled from NOW - 1
            ..open()
        };
        assert_eq!(
            of(&busy),
            [Badge::Slipped, Badge::Stalled, Badge::PastClose]
        );
        // Reviewed after all of it: nothing new.
        let reviewed = DealFacts {
            reviewed_at: Some(t(NOW - 1)),
            review_status: QueueReviewStatus::Final,
            ..busy.clone()
        };
        assert!(of(&reviewed).is_empty());
        // Reviewed between the slip and the close date: only the later event counts.
        let between = DealFacts {
            reviewed_at: Some(from_unix((NOW - 3) * DAY + 60)),
            ..busy.clone()
        };
        assert_eq!(of(&between), [Badge::Stalled, Badge::PastClose]);
        // Reviewed long ago: events older than the lookback still count, since nobody saw them.
        let stale_mark = DealFacts {
            reviewed_at: Some(t(NOW - 100)),
            close_date: Some(t(NOW - 40)),
            last_slip_at: None,
            stage_since: Some(t(NOW - 2)),
            ..open()
        };
        assert_eq!(of(&stale_mark), [Badge::PastClose]);
        // The event at the exact moment of the mark was seen by the reviewer.
        let same = DealFacts {
            reviewed_at: Some(t(NOW - 2)),
            ..busy
        };
        assert_eq!(of(&same), [Badge::Stalled]);
    }

    #[test]
    fn queue_keeps_only_deals_with_badges() {
        let facts = vec![
            open(),
            DealFacts {
                deal: "slipped".into(),
                last_slip_at: Some(t(NOW - 1)),
                ..open()
            },
        ];
        let q = queue(&facts, &norms(), t(NOW), 7);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].facts.deal.as_str(), "slipped");
        assert_eq!(q[0].badges, [Badge::Slipped]);
    }

    #[test]
    fn badge_names_are_distinct() {
        let names: std::collections::BTreeSet<_> = Badge::ALL.iter().map(|b| b.as_str()).collect();
        let labels: std::collections::BTreeSet<_> = Badge::ALL.iter().map(|b| b.label()).collect();
        assert_eq!((names.len(), labels.len()), (5, 5));
        assert_eq!(
            serde_json::to_string(&Badge::PastClose).unwrap(),
            "\"past_close\""
        );
    }
}
