//! The nouns of dealtrace (DESIGN section 4) as plain data with no I/O.
//!
//! Everything here is a value: constructing, comparing and deriving facts from these types never
//! touches a database, a network or the clock. Derived facts that are pure functions of a deal's
//! history (slips, days in stage, stalls) live beside the types they read.

pub mod activity;
pub mod deal;
pub mod history;
pub mod ids;
pub mod lesson;
pub mod people;
pub mod queue;
pub mod review;
pub mod taxonomy;
pub mod time;

pub use activity::{Activity, ActivityKind, Direction};
pub use deal::{Deal, DealStatus, Pipeline, Stage};
pub use history::{
    AmountChange, CloseDateChange, DealHistory, HistoryEvent, Slip, StageChange, StageNorms,
};
pub use ids::{
    ActivityId, CompanyId, ContactId, DealId, LessonId, OwnerId, PipelineId, StageId, TeamId,
};
pub use lesson::{
    Evidence, FollowedSource, Lesson, LessonStatus, PatternRef, RecommendationRecord, Trigger,
    Verdict,
};
pub use people::{Company, Contact, DealRole, Owner, Stakeholder, Team};
pub use queue::{Badge, DealFacts, QueueEntry, QueueReviewStatus};
pub use review::{
    DecisionTrace, LessonCandidate, ReasonEntry, Recommendation, Review, ReviewOutcome,
    ReviewStatus,
};
pub use taxonomy::{Reason, ReasonProblem, Taxonomy};
pub use time::{DAY, days_between};
