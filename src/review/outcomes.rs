//! Proposals for a trace's actual outcome, written from the synced facts once its expected-by
//! date has passed.
//!
//! The proposal is a suggestion shown to the reviewer, never stored by itself: the reviewer
//! accepts or edits it, so a trace's `actual_outcome` is always something a person signed off.

use crate::domain::DecisionTrace;
use crate::domain::time::ymd;
use crate::format::grouped;
use crate::store::detail::DealDetail;
use crate::text::sanitize_line;
use jiff::Timestamp;

/// A one-line proposal for `trace.actual_outcome`: where the deal stood at the trace's
/// expected-by date, and what it became since (closed won or lost and when, or still open, and
/// how many close-date slips of at least `slip_min_days` happened after the decision).
///
/// `None` when the trace already has an actual outcome, has no expected-by date, or that date
/// is still after `now`.
pub fn propose_actual(
    trace: &DecisionTrace,
    detail: &DealDetail,
    slip_min_days: i64,
    now: Timestamp,
) -> Option<String> {
    if trace.actual_outcome.is_some() {
        return None;
    }
    let due = trace.expected_by.filter(|due| *due <= now)?;
    let history = &detail.history;

    let mut then = format!("By {}", ymd(due));
    match history.stage_at(due) {
        Some(stage) => {
            then += &format!(
                " it was in {}",
                sanitize_line(detail.stage_label(stage.as_str()))
            );
        }
        None => then += " it had no stage yet",
    }
    if let Some(close) = history.close_date_at(due) {
        then += &format!(", closing {}", ymd(close));
    }
    if let Some(amount) = history.amount_at(due) {
        then += &format!(", at {}", grouped(amount.round() as i64));
    }

    let slips = history
        .slips(slip_min_days)
        .iter()
        .filter(|s| s.at > trace.at && s.at <= now)
        .count();
    let slips = match slips {
        0 => "no slip".to_owned(),
        1 => "1 slip".to_owned(),
        n => format!("{n} slips"),
    };
    let summary = &detail.summary;
    let became = if summary.is_closed {
        let verdict = if summary.is_won { "won" } else { "lost" };
        let when = summary
            .close_date
            .or_else(|| history.stages.last().map(|c| c.at))
            .map(|t| format!(" on {}", ymd(t)))
            .unwrap_or_default();
        format!("it was {verdict}{when}, with {slips} since the decision")
    } else {
        let stage = history
            .stage_at(now)
            .map(|s| format!(" in {}", sanitize_line(detail.stage_label(s.as_str()))))
            .unwrap_or_default();
        format!("it is still open{stage}, with {slips} since the decision")
    };
    Some(format!("{then}; {became}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::fixtures::{day, lost_deal, open_deal};
    use std::collections::BTreeMap;

    fn trace(at: i64, expected_by: Option<i64>) -> DecisionTrace {
        DecisionTrace {
            id: "t".into(),
            review_id: None,
            deal_id: "d1".into(),
            at: day(at),
            stage_id: None,
            state: BTreeMap::new(),
            actor: "Riley Chen".into(),
            action: "Sent the proposal".into(),
            recommendation: None,
            rationale: String::new(),
            expected_outcome: "Signed by March".into(),
            expected_by: expected_by.map(day),
            actual_outcome: None,
            followed: None,
            created_at: day(at),
            updated_at: day(at),
        }
    }

    #[test]
    fn proposes_only_once_expected_by_has_passed() {
        let detail = lost_deal();
        let t = trace(30, Some(60));
        assert_eq!(propose_actual(&t, &detail, 7, day(59)), None);
        assert_eq!(
            propose_actual(&t, &detail, 7, day(60)).as_deref(),
            Some(
                "By 2026-03-02 it was in Proposal, closing 2026-03-23, at 42,000; \
                 it was lost on 2026-03-22, with 1 slip since the decision."
            )
        );
        assert_eq!(propose_actual(&trace(30, None), &detail, 7, day(90)), None);
        let mut known = t.clone();
        known.actual_outcome = Some("Lost".into());
        assert_eq!(propose_actual(&known, &detail, 7, day(90)), None);
    }

    #[test]
    fn an_open_deal_is_still_open_and_later_decisions_see_no_earlier_slip() {
        let detail = open_deal();
        assert_eq!(
            propose_actual(&trace(46, Some(48)), &detail, 7, day(50)).as_deref(),
            Some(
                "By 2026-02-18 it was in Proposal, closing 2026-03-23, at 42,000; \
                 it is still open in Proposal, with no slip since the decision."
            )
        );
    }
}
