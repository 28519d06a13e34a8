//! Hand-built deals for the review tests (and for anyone else's tests that need a realistic one).
//!
//! `lost_deal()` is a deal lost on day 80 whose history has one of every kind of key moment:
//!
//! | day | fact |
//! | --- | --- |
//! | 0   | created in Discovery, 60,000, closing day 60; Sam Lee (VP Operations, champion) on it |
//! | 5, 15, 35, 70 | meetings with Sam |
//! | 10  | entered Demo |
//! | 20  | Dana Ortiz (CFO, economic buyer) joined |
//! | 22  | call with Dana (her last two-way activity) |
//! | 30  | entered Proposal |
//! | 40  | amount cut to 42,000 (30%) |
//! | 45  | close date moved from day 60 to day 81 (a 21-day slip) |
//! | 52  | Dana has been quiet for 30 days |
//! | 60  | inbound email from Pat Kim (IT Director, no date of joining known) |
//! | 75  | a note mentioning Dana (not two-way) |
//! | 78  | outbound email to Sam (not two-way) |
//! | 80  | entered Closed Lost |
//!
//! Days are counted from 2026-01-01T10:00:00Z (ten in the morning, so no fact sits on midnight).

use crate::domain::time::{DAY, from_unix};
use crate::domain::{
    Activity, ActivityKind, AmountChange, CloseDateChange, DealHistory, DealRole, Direction,
    StageChange, Stakeholder,
};
use crate::store::deals::{DealSummary, StakeholderView};
use crate::store::detail::DealDetail;
use jiff::Timestamp;

/// 2026-01-01T10:00:00Z in Unix seconds.
pub(crate) const DAY0: i64 = 1_767_261_600;

/// The instant `d` days after day 0.
pub(crate) fn day(d: i64) -> Timestamp {
    from_unix(DAY0 + d * DAY)
}

/// An activity on deal `d1` on day `d`.
pub(crate) fn activity(
    id: &str,
    d: i64,
    kind: ActivityKind,
    direction: Option<Direction>,
    contacts: &[&str],
) -> Activity {
    Activity {
        id: id.into(),
        deal_id: "d1".into(),
        kind,
        occurred_at: day(d),
        direction,
        subject: None,
        body: String::new(),
        owner_id: None,
        contact_ids: contacts.iter().map(|c| (*c).into()).collect(),
    }
}

/// A stakeholder of deal `d1`.
pub(crate) fn stakeholder(
    contact: &str,
    name: &str,
    title: Option<&str>,
    role: Option<DealRole>,
    added: Option<i64>,
) -> StakeholderView {
    StakeholderView {
        link: Stakeholder {
            deal_id: "d1".into(),
            contact_id: contact.into(),
            role,
            added_at: added.map(day),
        },
        name: name.into(),
        title: title.map(Into::into),
        email: None,
        last_engaged: None,
    }
}

/// The deal of the module doc: lost on day 80, owned by Riley Chen.
pub(crate) fn lost_deal() -> DealDetail {
    let stage = |d: i64, id: &str| StageChange {
        at: day(d),
        stage_id: id.into(),
    };
    let history = DealHistory {
        stages: vec![
            stage(0, "discovery"),
            stage(10, "demo"),
            stage(30, "proposal"),
            stage(80, "closedlost"),
        ],
        amounts: vec![
            AmountChange {
                at: day(0),
                amount: Some(60_000.0),
            },
            AmountChange {
                at: day(40),
                amount: Some(42_000.0),
            },
        ],
        close_dates: vec![
            CloseDateChange {
                at: day(0),
                close_date: Some(day(60)),
            },
            CloseDateChange {
                at: day(45),
                close_date: Some(day(81)),
            },
        ],
    };
    let stakeholders = vec![
        stakeholder(
            "c_sam",
            "Sam Lee",
            Some("VP Operations"),
            Some(DealRole::Champion),
            Some(0),
        ),
        stakeholder(
            "c_dana",
            "Dana Ortiz",
            Some("CFO"),
            Some(DealRole::EconomicBuyer),
            Some(20),
        ),
        stakeholder("c_pat", "Pat Kim", Some("IT Director"), None, None),
    ];
    let meeting = |id: &str, d: i64| activity(id, d, ActivityKind::Meeting, None, &["c_sam"]);
    let activities = vec![
        meeting("a1", 5),
        meeting("a2", 15),
        activity("a3", 22, ActivityKind::Call, None, &["c_dana"]),
        meeting("a4", 35),
        activity(
            "a5",
            60,
            ActivityKind::Email,
            Some(Direction::Inbound),
            &["c_pat"],
        ),
        meeting("a6", 70),
        activity("a7", 75, ActivityKind::Note, None, &["c_dana"]),
        activity(
            "a8",
            78,
            ActivityKind::Email,
            Some(Direction::Outbound),
            &["c_sam"],
        ),
    ];
    let stage_labels = [
        ("discovery", "Discovery"),
        ("demo", "Demo"),
        ("proposal", "Proposal"),
        ("negotiation", "Negotiation"),
        ("closedwon", "Closed Won"),
        ("closedlost", "Closed Lost"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    DealDetail {
        summary: DealSummary {
            id: "d1".into(),
            name: "Acme rollout".into(),
            company: Some("Acme".into()),
            owner: Some("Riley Chen".into()),
            team: Some("Mid-market".into()),
            pipeline: "Sales".into(),
            stage: "Closed Lost".into(),
            stage_id: "closedlost".into(),
            amount: Some(42_000.0),
            currency: "USD".into(),
            created_at: day(0),
            close_date: Some(day(80)),
            is_closed: true,
            is_won: false,
        },
        history,
        stakeholders,
        activities,
        stage_labels,
        reviews: vec![],
        traces: vec![],
        recommendations: vec![],
    }
}

/// The same deal still open on day 50 (in Proposal, closing day 81), as seen on day 50.
pub(crate) fn open_deal() -> DealDetail {
    let mut d = lost_deal();
    d.history.stages.retain(|c| c.at <= day(50));
    d.activities.retain(|a| a.occurred_at <= day(50));
    d.summary.stage = "Proposal".into();
    d.summary.stage_id = "proposal".into();
    d.summary.close_date = Some(day(81));
    d.summary.is_closed = false;
    d
}
