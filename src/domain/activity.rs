//! Activities: calls, meetings, emails and notes on a deal.

use super::ids::{ActivityId, ContactId, DealId, OwnerId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What kind of activity this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A phone or video call.
    Call,
    /// A scheduled meeting.
    Meeting,
    /// An email.
    Email,
    /// A note the rep wrote.
    Note,
}

impl ActivityKind {
    /// Every kind, in a stable order.
    pub const ALL: [ActivityKind; 4] = [
        ActivityKind::Call,
        ActivityKind::Meeting,
        ActivityKind::Email,
        ActivityKind::Note,
    ];

    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Email => "email",
            ActivityKind::Note => "note",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which way an activity went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer to us.
    Inbound,
    /// From us to the customer.
    Outbound,
}

impl Direction {
    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// One activity on a deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The CRM's id.
    pub id: ActivityId,
    /// The deal it is logged against.
    pub deal_id: DealId,
    /// Call, meeting, email or note.
    pub kind: ActivityKind,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Which way it went, where that applies (emails, calls).
    pub direction: Option<Direction>,
    /// Subject or title, if any.
    pub subject: Option<String>,
    /// Body text or call notes (untrusted CRM text).
    pub body: String,
    /// The rep who logged it.
    pub owner_id: Option<OwnerId>,
    /// The customer contacts involved.
    pub contact_ids: Vec<ContactId>,
}

impl Activity {
    /// True when the customer took part: calls, meetings and inbound emails. Notes and
    /// outbound emails alone do not show that a deal is alive.
    pub fn is_two_way(&self) -> bool {
        match self.kind {
            ActivityKind::Call | ActivityKind::Meeting => true,
            ActivityKind::Email => self.direction == Some(Direction::Inbound),
            ActivityKind::Note => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;

    fn activity(kind: ActivityKind, direction: Option<Direction>) -> Activity {
        Activity {
            id: "a".into(),
            deal_id: "d".into(),
            kind,
            occurred_at: from_unix(0),
            direction,
            subject: None,
            body: String::new(),
            owner_id: None,
            contact_ids: vec![],
        }
    }

    #[test]
    fn two_way_means_the_customer_took_part() {
        assert!(activity(ActivityKind::Call, None).is_two_way());
        assert!(activity(ActivityKind::Meeting, None).is_two_way());
        assert!(activity(ActivityKind::Email, Some(Direction::Inbound)).is_two_way());
        assert!(!activity(ActivityKind::Email, Some(Direction::Outbound)).is_two_way());
        assert!(!activity(ActivityKind::Note, None).is_two_way());
    }

    #[test]
    fn kinds_and_directions_round_trip() {
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k));
        }
        for d in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
    }
}
