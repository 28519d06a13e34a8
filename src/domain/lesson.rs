//! Lessons: curated claims that become recommendations on open deals.

use super::ids::LessonId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where a lesson is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonStatus {
    /// Suggested, not yet advising anyone.
    Proposed,
    /// Advising open deals.
    Active,
    /// No longer advising; kept for the record.
    Retired,
}

impl LessonStatus {
    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LessonStatus::Proposed => "proposed",
            LessonStatus::Active => "active",
            LessonStatus::Retired => "retired",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "proposed" => Some(LessonStatus::Proposed),
            "active" => Some(LessonStatus::Active),
            "retired" => Some(LessonStatus::Retired),
            _ => None,
        }
    }
}

/// A pattern a lesson rests on, described well enough to re-measure it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternRef {
    /// The pattern's stable key.
    pub key: String,
    /// The outcome it predicts (`slipped`, `won`, …).
    pub outcome: String,
    /// The population (stage reached, optional segment).
    pub population: String,
    /// The selector expression (`single_threaded`).
    pub condition: String,
}

/// A curated lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// The lesson's id.
    pub id: LessonId,
    /// The claim ("Single-threaded deals slip more after Demo").
    pub statement: String,
    /// What reps should do ("Get a second stakeholder into a call before Proposal").
    pub recommendation: String,
    /// The selector expression that makes it fire on an open deal.
    pub condition: String,
    /// The patterns behind it.
    pub patterns: Vec<PatternRef>,
    /// Proposed, active or retired.
    pub status: LessonStatus,
    /// Who last changed the status.
    pub status_changed_by: Option<String>,
    /// When the status last changed.
    pub status_changed_at: Option<Timestamp>,
    /// Who curates it.
    pub owner: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Incremented on every edit, so recommendations record which version they came from.
    pub version: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [
            LessonStatus::Proposed,
            LessonStatus::Active,
            LessonStatus::Retired,
        ] {
            assert_eq!(LessonStatus::parse(s.as_str()), Some(s));
        }
    }
}
