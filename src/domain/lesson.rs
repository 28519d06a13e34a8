//! Lessons: curated claims that become recommendations on open deals, and the evidence that
//! keeps them honest.

use super::ids::{DealId, LessonId};
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

/// A pattern a lesson rests on, described well enough to re-measure it on any later cache:
/// the same population, the same selectors and the same outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternRef {
    /// The pattern's stable key (as `dealtrace patterns --json` prints it).
    pub key: String,
    /// risk | segment | exception | survival.
    pub kind: String,
    /// The outcome it predicts (`slipped`, `won`, …, `decay`).
    pub outcome: String,
    /// The population key (`reached:presentationscheduled`, `created`, …).
    pub population: String,
    /// How the population reads ("after Demo").
    #[serde(default)]
    pub context: String,
    /// The segment selector restricting the population (type B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The selector names, all of which hold for the exposed deals.
    pub condition: Vec<String>,
    /// The moderator of an exception pattern ("… unless M").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    /// The effect when the lesson was promoted (RR, or HR for survival).
    pub effect: f64,
}

/// When a lesson fires on an open deal: the deal is in the population as of now (it reached
/// the stage, and the landmark has passed), is in the segment, and the condition holds (or,
/// for a lesson about something protective, does not hold yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// The population key.
    pub population: String,
    /// The segment selector the deal must match, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The selector names.
    pub condition: Vec<String>,
    /// True: fires when every selector holds (a risk to act on). False: fires when they do not
    /// all hold (a protective practice not yet in place).
    pub when_present: bool,
    /// A selector that silences the lesson when it holds (the moderator of an exception).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
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
    /// When it fires on an open deal.
    pub trigger: Trigger,
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

/// Whether a lesson's pattern still holds on the current cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval still excludes 1 on the side the lesson claims.
    Holds,
    /// The interval now includes 1: the evidence no longer supports the claim.
    Weakened,
    /// The interval excludes 1 on the other side: the claim is now backwards.
    Reversed,
    /// Too few deals to measure (a support gate failed, or the population is gone).
    Insufficient,
}

impl Verdict {
    /// The snake_case name used on disk, in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Weakened => "weakened",
            Verdict::Reversed => "reversed",
            Verdict::Insufficient => "insufficient",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holds" => Some(Verdict::Holds),
            "weakened" => Some(Verdict::Weakened),
            "reversed" => Some(Verdict::Reversed),
            "insufficient" => Some(Verdict::Insufficient),
            _ => None,
        }
    }

    /// Whether RevOps should look at the lesson.
    pub fn needs_attention(self) -> bool {
        self != Verdict::Holds
    }
}

/// One re-measurement of a lesson's first pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The lesson.
    pub lesson_id: LessonId,
    /// The lesson's version when measured.
    pub lesson_version: i64,
    /// When the measurement ran.
    pub measured_at: Timestamp,
    /// The data cutoff it measured up to.
    pub cutoff: Timestamp,
    /// RR (HR for survival); NaN when insufficient.
    pub effect: f64,
    /// 95% interval.
    pub ci_low: f64,
    /// 95% interval.
    pub ci_high: f64,
    /// p-value.
    pub p: f64,
    /// q-value over the lessons measured together.
    pub q: f64,
    /// Exposed deals.
    pub n_exposed: u64,
    /// Unexposed deals.
    pub n_unexposed: u64,
    /// Events among the exposed.
    pub events_exposed: u64,
    /// Events among the unexposed.
    pub events_unexposed: u64,
    /// Holds, weakened, reversed or insufficient.
    pub verdict: Verdict,
}

/// Whether a recommendation was followed, and who said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowedSource {
    /// The rep (or manager) marked it in a review.
    Marked,
    /// The lesson's condition stopped holding while the deal was open (e.g. a CTO call
    /// appeared), or the deal closed with it still holding.
    Inferred,
}

impl FollowedSource {
    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowedSource::Marked => "marked",
            FollowedSource::Inferred => "inferred",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "marked" => Some(FollowedSource::Marked),
            "inferred" => Some(FollowedSource::Inferred),
            _ => None,
        }
    }
}

/// A recommendation shown for a deal: recorded once per deal and lesson version, so that a
/// later decision trace carries what was recommended and its outcome can be measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendationRecord {
    /// The deal.
    pub deal_id: DealId,
    /// The lesson.
    pub lesson_id: LessonId,
    /// The lesson's version when shown.
    pub lesson_version: i64,
    /// The text as shown, never rewritten later.
    pub text: String,
    /// When it was first shown.
    pub shown_at: Timestamp,
    /// Whether it was followed; `None` while unknown.
    pub followed: Option<bool>,
    /// Who said so.
    pub followed_source: Option<FollowedSource>,
    /// When it was followed (or known not to be).
    pub followed_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [
            LessonStatus::Proposed,
            LessonStatus::Active,
            LessonStatus::Retired,
        ] {
            assert_eq!(LessonStatus::parse(s.as_str()), Some(s));
        }
        for v in [
            Verdict::Holds,
            Verdict::Weakened,
            Verdict::Reversed,
            Verdict::Insufficient,
        ] {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
        for f in [FollowedSource::Marked, FollowedSource::Inferred] {
            assert_eq!(FollowedSource::parse(f.as_str()), Some(f));
        }
        assert!(!Verdict::Holds.needs_attention());
        assert!(Verdict::Weakened.needs_attention());
    }
}
