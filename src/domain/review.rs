//! Post-mortem reviews and the decision traces they record.

use super::ids::{DealId, LessonId, StageId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether a review is still being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Autosaved work in progress.
    Draft,
    /// Saved as finished; amending it creates a new revision.
    Final,
}

impl ReviewStatus {
    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "draft",
            ReviewStatus::Final => "final",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(ReviewStatus::Draft),
            "final" => Some(ReviewStatus::Final),
            _ => None,
        }
    }
}

/// The outcome a review records for the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The deal was won.
    Won,
    /// The deal was lost.
    Lost,
    /// The deal is still open (a mid-flight review, e.g. after a slip).
    Open,
}

impl ReviewOutcome {
    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Won => "won",
            ReviewOutcome::Lost => "lost",
            ReviewOutcome::Open => "open",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "won" => Some(ReviewOutcome::Won),
            "lost" => Some(ReviewOutcome::Lost),
            "open" => Some(ReviewOutcome::Open),
            _ => None,
        }
    }
}

/// One win/loss reason: a taxonomy code and optional free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonEntry {
    /// A code from `assets/taxonomy.toml` (`lost_to_competitor`, …).
    pub code: String,
    /// Free text ("lost to Quantivo on price").
    pub detail: Option<String>,
    /// Whether this is the primary reason (exactly one per finished review).
    pub primary: bool,
}

/// A lesson a reviewer thinks the deal teaches, optionally tied to a mined pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonCandidate {
    /// The lesson in the reviewer's words.
    pub text: String,
    /// The key of the pattern it refers to, if any.
    pub pattern_key: Option<String>,
}

/// A post-mortem of one deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// A UUID v7 minted by dealtrace.
    pub id: String,
    /// The deal reviewed.
    pub deal_id: DealId,
    /// Who reviewed it.
    pub reviewer: String,
    /// When the review was started.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Draft or final.
    pub status: ReviewStatus,
    /// The outcome recorded.
    pub outcome: Option<ReviewOutcome>,
    /// Reasons from the taxonomy.
    pub reasons: Vec<ReasonEntry>,
    /// Free-text notes.
    pub notes: String,
    /// Lessons the reviewer proposes.
    pub lesson_candidates: Vec<LessonCandidate>,
    /// Incremented each time a final review is amended.
    pub revision: i64,
}

/// What the advisor recommended at the time of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The lesson behind the recommendation.
    pub lesson_id: LessonId,
    /// The recommendation as it was shown, never rewritten later.
    pub text: String,
}

/// One decision in one deal: the unit of learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTrace {
    /// A UUID v7 minted by dealtrace.
    pub id: String,
    /// The review that recorded it, if any.
    pub review_id: Option<String>,
    /// The deal.
    pub deal_id: DealId,
    /// The moment of the decision.
    pub at: Timestamp,
    /// The deal's stage at that moment.
    pub stage_id: Option<StageId>,
    /// Snapshot of the deal's signals and key fields as of `at` (name → value).
    pub state: BTreeMap<String, serde_json::Value>,
    /// Who decided (usually the deal owner).
    pub actor: String,
    /// What they did.
    pub action: String,
    /// What the advisor recommended then, if anything.
    pub recommendation: Option<Recommendation>,
    /// Why the action was taken.
    pub rationale: String,
    /// The outcome expected.
    pub expected_outcome: String,
    /// By when the expected outcome should show.
    pub expected_by: Option<Timestamp>,
    /// What actually happened, once known.
    pub actual_outcome: Option<String>,
    /// Whether the recommendation was followed, where there was one and it is known.
    pub followed: Option<bool>,
    /// When the trace was recorded.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

impl DecisionTrace {
    /// A trace of `deal` at `at` with nothing decided yet: the fields a reviewer types are
    /// empty, no recommendation, no outcome. The caller fills in the rest.
    pub fn blank(
        id: String,
        deal_id: DealId,
        at: Timestamp,
        actor: String,
        now: Timestamp,
    ) -> Self {
        DecisionTrace {
            id,
            review_id: None,
            deal_id,
            at,
            stage_id: None,
            state: BTreeMap::new(),
            actor,
            action: String::new(),
            recommendation: None,
            rationale: String::new(),
            expected_outcome: String::new(),
            expected_by: None,
            actual_outcome: None,
            followed: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [ReviewStatus::Draft, ReviewStatus::Final] {
            assert_eq!(ReviewStatus::parse(s.as_str()), Some(s));
        }
        for o in [ReviewOutcome::Won, ReviewOutcome::Lost, ReviewOutcome::Open] {
            assert_eq!(ReviewOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(ReviewStatus::parse("done"), None);
    }
}
