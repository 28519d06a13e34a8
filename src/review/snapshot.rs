//! The state of a deal as of a moment: the snapshot a decision trace records.
//!
//! A trace is only worth learning from if its state is what the rep could have known then, so
//! [`state_at`] reads only facts timestamped at or before `t` — the field history, activity
//! dates, stakeholders' association dates — and never the summary's current-state columns for
//! anything that changes over time. Adding any fact after `t` never changes the snapshot (a
//! property test below checks it).
//!
//! The keys, stable and snake_case (`null` where the fact is not known at `t`):
//!
//! | key | value |
//! | --- | --- |
//! | `stage_id` | the stage's internal id at `t` |
//! | `stage` | that stage's label |
//! | `amount` | the amount at `t` (number) |
//! | `close_date` | the expected close date at `t`, `YYYY-MM-DD` (UTC) |
//! | `days_in_stage` | whole days since the stage at `t` was entered |
//! | `slips_so_far` | close-date slips of at least the threshold made at or before `t` |
//! | `days_since_created` | whole days since the deal was created |
//! | `stakeholders_known` | contacts whose association date is at or before `t`; contacts with no recorded association date are not counted, since they cannot be placed in time |
//! | `engaged_last_30d` | distinct contacts in a two-way activity in (t − 30 days, t] |
//! | `single_threaded` | `engaged_last_30d` ≤ 1 |
//! | `economic_buyer_engaged_30d` | a contact with the economic-buyer role is among them |
//! | `last_activity_days_ago` | whole days since the last activity of any kind at or before `t` |
//! | `activities_last_30d` | activities of any kind in (t − 30 days, t] |
//!
//! One fact is not timestamped in the cache: a stakeholder's *role*. It is read as it is now, so
//! `economic_buyer_engaged_30d` trusts that the person who is the economic buyer today was the
//! economic buyer then. Their engagement, which is the signal, is still read as of `t`.

use crate::domain::time::{DAY, days_between, ymd};
use crate::domain::{DealHistory, DealRole};
use crate::store::detail::DealDetail;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The window of "recent" engagement and activity, in days.
pub const RECENT_DAYS: i64 = 30;

/// Whether `at` is in the [`RECENT_DAYS`] up to `t`: (t − 30 days, t].
fn is_recent(at: Timestamp, t: Timestamp) -> bool {
    at.as_second() > t.as_second().saturating_sub(RECENT_DAYS * DAY) && at <= t
}

/// The contacts in a two-way activity (call, meeting, inbound email) on the deal in the
/// [`RECENT_DAYS`] up to `t`: (t − 30 days, t]. The deal view's "single-threaded now" and every
/// trace's snapshot read this one rule.
pub fn engaged_contacts(detail: &DealDetail, t: Timestamp) -> BTreeSet<&str> {
    detail
        .activities
        .iter()
        .filter(|a| a.is_two_way() && is_recent(a.occurred_at, t))
        .flat_map(|a| a.contact_ids.iter().map(|c| c.as_str()))
        .collect()
}

/// The snapshot of the deal's key fields and signals as of `t` (keys in the module doc).
pub fn state_at(detail: &DealDetail, t: Timestamp, slip_min_days: i64) -> BTreeMap<String, Value> {
    let history = &detail.history;
    let stage_id = history.stage_at(t).map(|s| s.as_str().to_owned());
    let recent = |at: Timestamp| is_recent(at, t);

    let past_close_dates = DealHistory {
        close_dates: history
            .close_dates
            .iter()
            .take_while(|c| c.at <= t)
            .cloned()
            .collect(),
        ..Default::default()
    };

    let engaged = engaged_contacts(detail, t);
    let economic_buyer_engaged = detail.stakeholders.iter().any(|s| {
        s.link.role == Some(DealRole::EconomicBuyer) && engaged.contains(s.link.contact_id.as_str())
    });
    let last_activity = detail
        .activities
        .iter()
        .map(|a| a.occurred_at)
        .filter(|at| *at <= t)
        .max();

    let mut state = BTreeMap::new();
    let mut put = |key: &str, value: Value| {
        state.insert(key.to_owned(), value);
    };
    put(
        "stage",
        json!(stage_id.as_deref().map(|s| detail.stage_label(s))),
    );
    put("stage_id", json!(stage_id));
    put("amount", json!(history.amount_at(t)));
    put("close_date", json!(history.close_date_at(t).map(ymd)));
    put("days_in_stage", json!(history.days_in_current_stage(t)));
    put(
        "slips_so_far",
        json!(past_close_dates.slip_count(slip_min_days)),
    );
    put(
        "days_since_created",
        json!(days_between(detail.summary.created_at, t)),
    );
    put(
        "stakeholders_known",
        json!(
            detail
                .stakeholders
                .iter()
                .filter(|s| s.link.added_at.is_some_and(|a| a <= t))
                .count()
        ),
    );
    put("engaged_last_30d", json!(engaged.len()));
    put("single_threaded", json!(engaged.len() <= 1));
    put("economic_buyer_engaged_30d", json!(economic_buyer_engaged));
    put(
        "last_activity_days_ago",
        json!(last_activity.map(|at| days_between(at, t))),
    );
    put(
        "activities_last_30d",
        json!(
            detail
                .activities
                .iter()
                .filter(|a| recent(a.occurred_at))
                .count()
        ),
    );
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        ActivityKind, AmountChange, CloseDateChange, DealRole, Direction, StageChange,
    };
    use crate::review::fixtures::{activity, day, lost_deal, stakeholder};
    use proptest::prelude::*;

    #[test]
    fn the_state_on_day_50_of_the_lost_deal() {
        let state = state_at(&lost_deal(), day(50), 7);
        let expect = json!({
            "stage": "Proposal",
            "stage_id": "proposal",
            "amount": 42000.0,
            "close_date": "2026-03-23",
            "days_in_stage": 20,
            "slips_so_far": 1,
            "days_since_created": 50,
            "stakeholders_known": 2,
            "engaged_last_30d": 2,
            "single_threaded": false,
            "economic_buyer_engaged_30d": true,
            "last_activity_days_ago": 15,
            "activities_last_30d": 2,
        });
        assert_eq!(serde_json::to_value(&state).ok(), Some(expect));
    }

    #[test]
    fn before_anything_happened_the_facts_are_null() {
        let state = state_at(&lost_deal(), day(-1), 7);
        assert_eq!(state["stage"], Value::Null);
        assert_eq!(state["amount"], Value::Null);
        assert_eq!(state["last_activity_days_ago"], Value::Null);
        assert_eq!(state["stakeholders_known"], json!(0));
        assert_eq!(state["single_threaded"], json!(true));
    }

    #[test]
    fn current_state_columns_are_never_read() {
        let mut detail = lost_deal();
        let before = state_at(&detail, day(50), 7);
        detail.summary.stage_id = "closedwon".into();
        detail.summary.stage = "Closed Won".into();
        detail.summary.amount = Some(1.0);
        detail.summary.close_date = Some(day(5));
        detail.summary.is_won = true;
        assert_eq!(state_at(&detail, day(50), 7), before);
    }

    /// A fact that can be added to a deal, `after` days after the snapshot time (≥ 1 second).
    #[derive(Debug, Clone)]
    enum Fact {
        Stage(i64, u8),
        Amount(i64, Option<u32>),
        CloseDate(i64, Option<i64>),
        Activity(i64, u8, u8),
        Stakeholder(i64, u8, bool),
    }

    fn fact() -> impl Strategy<Value = Fact> {
        let later = 1i64..200 * DAY;
        prop_oneof![
            (later.clone(), 0u8..5).prop_map(|(s, i)| Fact::Stage(s, i)),
            (later.clone(), proptest::option::of(0u32..200_000))
                .prop_map(|(s, a)| Fact::Amount(s, a)),
            (later.clone(), proptest::option::of(0i64..400))
                .prop_map(|(s, d)| Fact::CloseDate(s, d)),
            (later.clone(), 0u8..4, 0u8..4).prop_map(|(s, k, c)| Fact::Activity(s, k, c)),
            (later, 0u8..4, any::<bool>()).prop_map(|(s, c, eb)| Fact::Stakeholder(s, c, eb)),
        ]
    }

    fn add(detail: &mut crate::store::detail::DealDetail, t: Timestamp, fact: &Fact, n: usize) {
        let after = |secs: i64| crate::domain::time::from_unix(t.as_second() + secs);
        let contacts = ["c_sam", "c_dana", "c_pat", "c_new"];
        match *fact {
            Fact::Stage(s, i) => detail.history.stages.push(StageChange {
                at: after(s),
                stage_id: ["discovery", "demo", "proposal", "closedwon", "closedlost"]
                    [usize::from(i)]
                .into(),
            }),
            Fact::Amount(s, a) => detail.history.amounts.push(AmountChange {
                at: after(s),
                amount: a.map(f64::from),
            }),
            Fact::CloseDate(s, d) => detail.history.close_dates.push(CloseDateChange {
                at: after(s),
                close_date: d.map(day),
            }),
            Fact::Activity(s, k, c) => {
                let (kind, dir) = [
                    (ActivityKind::Call, None),
                    (ActivityKind::Meeting, None),
                    (ActivityKind::Email, Some(Direction::Inbound)),
                    (ActivityKind::Note, None),
                ][usize::from(k)];
                let mut a = activity(&format!("x{n}"), 0, kind, dir, &[contacts[usize::from(c)]]);
                a.occurred_at = after(s);
                detail.activities.push(a);
            }
            Fact::Stakeholder(s, c, eb) => {
                let mut p = stakeholder(
                    &format!("{}{n}", contacts[usize::from(c)]),
                    "New Person",
                    None,
                    eb.then_some(DealRole::EconomicBuyer),
                    None,
                );
                p.link.added_at = Some(after(s));
                detail.stakeholders.push(p);
            }
        }
    }

    proptest! {
        #[test]
        fn facts_after_t_never_change_the_state_at_t(
            t_day in -5i64..120,
            t_secs in 0i64..DAY,
            facts in proptest::collection::vec(fact(), 0..12),
            slip_min in 0i64..30,
        ) {
            let t = crate::domain::time::from_unix(day(t_day).as_second() + t_secs);
            let mut detail = lost_deal();
            // Keep only what was known at t, then add the future back in random pieces.
            detail.history.stages.retain(|c| c.at <= t);
            detail.history.amounts.retain(|c| c.at <= t);
            detail.history.close_dates.retain(|c| c.at <= t);
            detail.activities.retain(|a| a.occurred_at <= t);
            let before = state_at(&detail, t, slip_min);
            for (n, f) in facts.iter().enumerate() {
                add(&mut detail, t, f, n);
            }
            detail.history.normalise();
            detail.activities.sort_by_key(|a| a.occurred_at);
            prop_assert_eq!(state_at(&detail, t, slip_min), before.clone());
            // And the full deal, which has its own future after t, agrees too.
            prop_assert_eq!(state_at(&lost_deal(), t, slip_min), {
                let mut d = lost_deal();
                d.history.stages.retain(|c| c.at <= t);
                d.history.amounts.retain(|c| c.at <= t);
                d.history.close_dates.retain(|c| c.at <= t);
                d.activities.retain(|a| a.occurred_at <= t);
                d.stakeholders.retain(|s| s.link.added_at.is_none_or(|a| a <= t));
                state_at(&d, t, slip_min)
            });
        }
    }
}
