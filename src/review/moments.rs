//! Key moments of a deal, proposed from its synced facts so the reviewer starts from a timeline
//! instead of a blank page.
//!
//! A moment is a point where something observable happened: the deal entered a stage, its close
//! date slipped, its amount was cut, a stakeholder joined, or a stakeholder went quiet. Each is
//! a candidate decision point the reviewer may record a [`DecisionTrace`](crate::domain::DecisionTrace)
//! for. Labels built from CRM text (names, titles, stage labels) are sanitised here, because
//! that text is untrusted and the label is drawn as is.

use crate::domain::DealRole;
#[cfg(test)]
use crate::domain::HistoryEvent;
use crate::domain::time::{DAY, ymd};
use crate::format::grouped;
use crate::store::detail::DealDetail;
use crate::text::sanitize_line;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// At most this many moments are proposed: a long-running deal with dozens of changes would
/// otherwise bury the few that matter.
pub const MAX_MOMENTS: usize = 12;

/// A contact whose last two-way activity is more than this many days behind the deal has gone
/// quiet; a month without the customer taking part is the usual sign a thread went cold.
pub const QUIET_DAYS: i64 = 30;

/// What kind of moment this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MomentKind {
    /// The deal entered a stage (every entry after the first).
    StageEntered,
    /// The close date moved later by at least the slip threshold.
    Slip {
        /// Whole days later.
        days: i64,
    },
    /// The amount was lowered.
    AmountCut {
        /// The cut in whole percent of the previous amount.
        percent: i64,
    },
    /// A contact was associated with the deal after it was created.
    StakeholderJoined,
    /// A contact stopped taking part while the deal went on.
    WentQuiet,
    /// A moment the reviewer added by hand.
    Added,
}

impl MomentKind {
    /// The snake_case name, for exports and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            MomentKind::StageEntered => "stage_entered",
            MomentKind::Slip { .. } => "slip",
            MomentKind::AmountCut { .. } => "amount_cut",
            MomentKind::StakeholderJoined => "stakeholder_joined",
            MomentKind::WentQuiet => "went_quiet",
            MomentKind::Added => "added",
        }
    }
}

/// One moment of a deal's history worth reviewing.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMoment {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: MomentKind,
    /// One readable line ("Entered Proposal", "Close date slipped 21 days to 2026-10-31").
    pub label: String,
    /// The stage the deal was in at that moment (the stage entered, for a stage entry).
    pub stage_id: Option<String>,
}

/// The key moments of a deal, oldest first, at most [`MAX_MOMENTS`] of them: when there are
/// more, the most informative are kept (see [`all_moments`] for the uncapped list).
pub fn propose_moments(detail: &DealDetail, slip_min_days: i64, now: Timestamp) -> Vec<KeyMoment> {
    cap(all_moments(detail, slip_min_days, now), detail)
}

/// Every key moment of a deal up to `now`, oldest first, without the cap. Resuming a draft uses
/// this so a moment the reviewer already wrote about is found even if it fell out of the cap.
pub fn all_moments(detail: &DealDetail, slip_min_days: i64, now: Timestamp) -> Vec<KeyMoment> {
    let history = &detail.history;
    let mut moments = Vec::new();

    // Stage entries after the first: the first is the deal being created, not a decision.
    for change in history.stages.iter().skip(1) {
        let id = change.stage_id.as_str();
        moments.push(KeyMoment {
            at: change.at,
            kind: MomentKind::StageEntered,
            label: format!("Entered {}", sanitize_line(detail.stage_label(id))),
            stage_id: Some(id.to_owned()),
        });
    }

    for slip in history.slips(slip_min_days) {
        moments.push(KeyMoment {
            at: slip.at,
            kind: MomentKind::Slip { days: slip.days },
            label: format!(
                "Close date slipped {} {} to {}",
                slip.days,
                if slip.days == 1 { "day" } else { "days" },
                ymd(slip.to)
            ),
            stage_id: stage_at(detail, slip.at),
        });
    }

    // Amount cuts: consecutive known amounts where the later is lower. A cleared amount is not
    // a cut (nothing is known), and a cut that rounds to 0% is noise.
    for pair in history.amounts.windows(2) {
        let (Some(before), Some(after)) = (pair[0].amount, pair[1].amount) else {
            continue;
        };
        if before <= 0.0 || after >= before {
            continue;
        }
        let percent = ((before - after) / before * 100.0).round() as i64;
        if percent == 0 {
            continue;
        }
        moments.push(KeyMoment {
            at: pair[1].at,
            kind: MomentKind::AmountCut { percent },
            label: format!("Amount cut {percent}% to {}", grouped(after.round() as i64)),
            stage_id: stage_at(detail, pair[1].at),
        });
    }

    for person in &detail.stakeholders {
        // Contacts on the deal from its creation were there from the start, not a change.
        let Some(added) = person.link.added_at else {
            continue;
        };
        if added <= detail.summary.created_at {
            continue;
        }
        moments.push(KeyMoment {
            at: added,
            kind: MomentKind::StakeholderJoined,
            label: format!("{} joined", who(person)),
            stage_id: stage_at(detail, added),
        });
    }

    let end = deal_end(detail, now);
    for (contact, last) in last_two_way(detail, end) {
        let quiet_from = Timestamp::from_second(last.as_second() + QUIET_DAYS * DAY).ok();
        let Some(quiet_from) = quiet_from.filter(|q| *q < end) else {
            continue;
        };
        let name = detail
            .stakeholders
            .iter()
            .find(|s| s.link.contact_id.as_str() == contact)
            .map(|s| sanitize_line(&s.name))
            .unwrap_or_else(|| format!("Contact {}", sanitize_line(contact)));
        moments.push(KeyMoment {
            at: quiet_from,
            kind: MomentKind::WentQuiet,
            label: format!("{name} went quiet"),
            stage_id: stage_at(detail, quiet_from),
        });
    }

    moments.retain(|m| m.at <= now);
    // Stable: equal times keep the order above (stage, slip, amount, people).
    moments.sort_by_key(|m| m.at);
    moments
}

/// When the deal stopped "going on": its close for a closed deal (the close date, or the last
/// stage entry when the CRM has no date), otherwise `now`.
pub fn deal_end(detail: &DealDetail, now: Timestamp) -> Timestamp {
    if !detail.summary.is_closed {
        return now;
    }
    detail
        .summary
        .close_date
        .or_else(|| detail.history.stages.last().map(|c| c.at))
        .map_or(now, |t| t.min(now))
}

/// "Dana Ortiz (CFO, economic buyer)": the name with what is known of the person's place.
fn who(person: &crate::store::deals::StakeholderView) -> String {
    let mut parts = Vec::new();
    if let Some(title) = person.title.as_deref().filter(|t| !t.trim().is_empty()) {
        parts.push(sanitize_line(title));
    }
    if let Some(role) = person.link.role {
        parts.push(role.as_str().replace('_', " "));
    }
    let name = sanitize_line(&person.name);
    if parts.is_empty() {
        name
    } else {
        format!("{name} ({})", parts.join(", "))
    }
}

fn stage_at(detail: &DealDetail, t: Timestamp) -> Option<String> {
    detail.history.stage_at(t).map(|s| s.as_str().to_owned())
}

/// Each contact's last two-way activity on the deal at or before `end`.
fn last_two_way(detail: &DealDetail, end: Timestamp) -> BTreeMap<&str, Timestamp> {
    let mut last: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for activity in detail
        .activities
        .iter()
        .filter(|a| a.is_two_way() && a.occurred_at <= end)
    {
        for contact in &activity.contact_ids {
            let slot = last.entry(contact.as_str()).or_insert(activity.occurred_at);
            *slot = (*slot).max(activity.occurred_at);
        }
    }
    last
}

/// Keeps the [`MAX_MOMENTS`] most informative moments, in time order.
fn cap(moments: Vec<KeyMoment>, detail: &DealDetail) -> Vec<KeyMoment> {
    if moments.len() <= MAX_MOMENTS {
        return moments;
    }
    let last_stage_entry = detail.history.stages.last().map(|c| c.at);
    let mut ranked: Vec<(i64, usize)> = moments
        .iter()
        .enumerate()
        .map(|(i, m)| (informativeness(m, detail, last_stage_entry), i))
        .collect();
    // Highest score first; among equals the earlier moment, so the cut is deterministic.
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut keep: Vec<usize> = ranked.into_iter().take(MAX_MOMENTS).map(|x| x.1).collect();
    keep.sort_unstable();
    let mut slots: Vec<Option<KeyMoment>> = moments.into_iter().map(Some).collect();
    keep.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// A rough score of how much a moment tells: big slips and cuts, the decisive people and the
/// final stage entry matter more than one more routine stage change.
fn informativeness(m: &KeyMoment, detail: &DealDetail, last_stage_entry: Option<Timestamp>) -> i64 {
    let decisive = |label: &str| {
        detail.stakeholders.iter().any(|s| {
            matches!(
                s.link.role,
                Some(DealRole::EconomicBuyer | DealRole::Champion)
            ) && label.starts_with(&sanitize_line(&s.name))
        })
    };
    match m.kind {
        MomentKind::StageEntered if Some(m.at) == last_stage_entry => 50,
        MomentKind::StageEntered => 20,
        MomentKind::Slip { days } => 30 + days.min(90) / 3,
        MomentKind::AmountCut { percent } => 30 + percent.min(90) / 3,
        MomentKind::WentQuiet if decisive(&m.label) => 40,
        MomentKind::WentQuiet => 25,
        MomentKind::StakeholderJoined if decisive(&m.label) => 35,
        MomentKind::StakeholderJoined => 15,
        MomentKind::Added => 100,
    }
}

/// The merged field history up to `t` (used by tests to check moments come from the history).
#[cfg(test)]
fn history_events_until(detail: &DealDetail, t: Timestamp) -> Vec<HistoryEvent> {
    detail
        .history
        .timeline()
        .into_iter()
        .filter(|e| e.at() <= t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::days_between;
    use crate::review::fixtures::{day, lost_deal};

    #[test]
    fn proposes_stage_entries_slips_cuts_joins_and_quiet_people_oldest_first() {
        let detail = lost_deal();
        let moments = propose_moments(&detail, 7, day(120));
        let got: Vec<(i64, &str, &str)> = moments
            .iter()
            .map(|m| {
                (
                    days_between(day(0), m.at),
                    m.kind.as_str(),
                    m.label.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (10, "stage_entered", "Entered Demo"),
                (
                    20,
                    "stakeholder_joined",
                    "Dana Ortiz (CFO, economic buyer) joined"
                ),
                (30, "stage_entered", "Entered Proposal"),
                (40, "amount_cut", "Amount cut 30% to 42,000"),
                (45, "slip", "Close date slipped 21 days to 2026-03-23"),
                (52, "went_quiet", "Dana Ortiz went quiet"),
                (80, "stage_entered", "Entered Closed Lost"),
            ]
        );
        assert_eq!(moments[1].stage_id.as_deref(), Some("demo"));
        assert_eq!(moments[4].kind, MomentKind::Slip { days: 21 });
        assert_eq!(moments[3].kind, MomentKind::AmountCut { percent: 30 });
        // Every moment but the quiet one and the join is a fact of the field history.
        let events = history_events_until(&detail, day(120));
        assert!(
            moments
                .iter()
                .filter(|m| m.kind == MomentKind::StageEntered)
                .all(|m| { events.iter().any(|e| e.at() == m.at) })
        );
    }

    #[test]
    fn nothing_after_now_and_no_quiet_moment_before_thirty_days() {
        let detail = lost_deal();
        // At day 50 Dana's last call (day 22) is 28 days back: not quiet yet.
        let moments = propose_moments(&detail, 7, day(50));
        assert!(moments.iter().all(|m| m.at <= day(50)));
        assert!(!moments.iter().any(|m| m.kind == MomentKind::WentQuiet));
        // A higher slip threshold hides the 21-day slip.
        let moments = propose_moments(&detail, 30, day(120));
        assert!(!moments.iter().any(|m| m.kind.as_str() == "slip"));
    }

    #[test]
    fn a_long_history_is_capped_in_time_order_keeping_the_close() {
        let mut detail = lost_deal();
        let closed = detail.history.stages.pop();
        for i in 0..30 {
            detail.history.stages.push(crate::domain::StageChange {
                at: day(31 + i),
                stage_id: if i % 2 == 0 { "demo" } else { "proposal" }.into(),
            });
        }
        detail.history.stages.extend(closed);
        let all = all_moments(&detail, 7, day(120));
        assert!(all.len() > MAX_MOMENTS);
        let capped = propose_moments(&detail, 7, day(120));
        assert_eq!(capped.len(), MAX_MOMENTS);
        assert!(capped.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(
            capped.last().map(|m| m.label.as_str()),
            Some("Entered Closed Lost")
        );
        for kind in ["slip", "amount_cut", "went_quiet", "stakeholder_joined"] {
            assert!(
                capped.iter().any(|m| m.kind.as_str() == kind),
                "{kind} kept"
            );
        }
    }

    #[test]
    fn crm_text_in_labels_is_sanitised() {
        let mut detail = lost_deal();
        detail.stakeholders[1].name = "Dana\u{1b}]52;c;evil\u{7} Ortiz".into();
        let moments = propose_moments(&detail, 7, day(120));
        assert!(moments.iter().all(|m| !m.label.contains('\u{1b}')));
    }

    #[test]
    fn the_end_of_a_deal_is_its_close_or_now() {
        let mut detail = lost_deal();
        assert_eq!(deal_end(&detail, day(200)), day(80));
        assert_eq!(deal_end(&detail, day(70)), day(70));
        detail.summary.is_closed = false;
        assert_eq!(deal_end(&detail, day(200)), day(200));
    }
}
