//! The one vocabulary of the UI: everything that can happen, as plain values, and the work
//! `update` asks the event loop to do.

use super::lessons_view::LessonsData;
use super::patterns_view::{MinePhase, Mined};
use super::rows::Rows;
use crate::crm::engine::SyncEvent;
use crate::domain::{DealId, DecisionTrace, Review};
use crate::review::WizardInput;
use crate::store::detail::DealDetail;
use jiff::Timestamp;
use std::sync::Arc;

/// Something that happened: a key, a resize, a tick, or a background job reporting back.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Move the selection (or scroll the pane) up one row.
    Up,
    /// Move down one row.
    Down,
    /// Move up one page.
    PageUp,
    /// Move down one page.
    PageDown,
    /// Jump to the first row.
    Top,
    /// Jump to the last row.
    Bottom,
    /// Select the row drawn at this screen line (a mouse click).
    ClickLine(u16),
    /// Open the selected deal.
    Open,
    /// Go back one screen.
    Back,
    /// Show the review queue.
    ShowQueue,
    /// Show the pipeline.
    ShowPipeline,
    /// Show the Patterns screen (mining the history the first time).
    ShowPatterns,
    /// Mine the history again (after a sync, say).
    MineAgain,
    /// Show or hide the candidates that lacked the data to be tested.
    ToggleInsufficient,
    /// Promote the selected pattern to a proposed lesson.
    Promote,
    /// Show the Lessons screen (reading the lessons again).
    ShowLessons,
    /// Move the selected lesson to this status.
    SetLessonStatus(crate::domain::LessonStatus),
    /// Next pane (or next list screen).
    NextPane,
    /// Previous pane.
    PrevPane,
    /// Start typing a `/` search.
    StartSearch,
    /// A character typed into the search.
    SearchInput(char),
    /// Delete the last character of the search.
    SearchBackspace,
    /// Keep the search and go back to the list.
    SearchAccept,
    /// Clear the search.
    SearchCancel,
    /// Cycle the owner filter.
    CycleOwner,
    /// Cycle the team filter.
    CycleTeam,
    /// Cycle the badge filter.
    CycleBadge,
    /// Next sort order.
    CycleSort,
    /// Reverse the sort order.
    ReverseSort,
    /// Clear search and filters.
    ClearFilters,
    /// Mark the selected deal reviewed.
    MarkReviewed,
    /// Open the review wizard on the selected deal.
    Review,
    /// Input for the review wizard.
    Wizard(WizardInput),
    /// Leave the wizard (its draft is already saved).
    CloseWizard,
    /// Show the keys of the current screen.
    Help,
    /// Hide the help.
    CloseHelp,
    /// Leave the UI.
    Quit,
    /// The terminal now has this size.
    Resize {
        /// Columns.
        width: u16,
        /// Lines.
        height: u16,
    },
    /// Time passed (keeps ages in the status line current).
    Tick(Timestamp),
    /// The deal list finished loading from the cache.
    DealsLoaded(Result<DealList, String>),
    /// One deal finished loading for the deal view.
    DealLoaded(Box<Result<DealDetail, String>>),
    /// What the wizard needs finished loading.
    ReviewLoaded(Box<Result<ReviewSource, String>>),
    /// A draft save or a final save finished (or failed: why, in one sentence).
    Saved {
        /// Which save.
        kind: SaveKind,
        /// Done, or why not.
        result: Result<(), String>,
    },
    /// A deal was marked reviewed (or that failed).
    Marked(Result<DealId, String>),
    /// Queued review notes were posted to the CRM (or why not).
    NotesPosted(Result<String, String>),
    /// The user asked for a sync from the CRM.
    StartSync,
    /// The background sync reports progress.
    SyncProgress(SyncEvent),
    /// The background sync ended: a one-line summary, or why it stopped.
    SyncFinished(Result<String, String>),
    /// A background mining run moved on to its next phase.
    MineProgress {
        /// The run (see [`Command::Mine`]).
        generation: u64,
        /// Where it is.
        phase: MinePhase,
    },
    /// The lessons finished loading (or why not).
    LessonsLoaded {
        /// The load (see [`Command::LoadLessons`]).
        generation: u64,
        /// The lessons, ready to show.
        result: Box<Result<LessonsData, String>>,
    },
    /// A lesson was saved (promoted, or its status changed): what happened, or why not.
    LessonSaved(Result<String, String>),
    /// The advisor ran: the active lessons' recommendations by deal id (or why not).
    Advised(Result<Arc<Advice>, String>),
    /// A background mining run finished (or why it failed, in one sentence).
    Mined {
        /// The run (see [`Command::Mine`]).
        generation: u64,
        /// The run, ready to show.
        result: Box<Result<Mined, String>>,
    },
}

/// One recommendation the advisor makes for a deal, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviceLine {
    /// The lesson.
    pub lesson_id: crate::domain::LessonId,
    /// Its version.
    pub version: i64,
    /// What to do (sanitised).
    pub recommendation: String,
    /// Why: the lesson's claim (sanitised).
    pub statement: String,
}

/// The advisor's recommendations by deal id.
pub type Advice = std::collections::HashMap<String, Vec<AdviceLine>>;

/// What the loader read from the cache, prepared for the lists.
#[derive(Debug, Clone, PartialEq)]
pub struct DealList {
    /// The deals with their queue badges, sanitised and with every order precomputed.
    pub rows: Arc<Rows>,
    /// The cache's "now": a demo's as-of instant, else the clock at load time.
    pub as_of: Timestamp,
    /// When the cache was last synced.
    pub last_sync: Option<Timestamp>,
    /// Whether this is a generated demo history.
    pub is_demo: bool,
    /// False for the first, queue-only step of a load: the pipeline is still being read.
    pub complete: bool,
    /// The load this came from (see [`Command::LoadDeals`]).
    pub generation: u64,
}

/// A deal and its reviews, for starting, resuming or amending a review.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSource {
    /// The deal.
    pub detail: DealDetail,
    /// Its newest draft with its traces, if any.
    pub draft: Option<(Review, Vec<DecisionTrace>)>,
    /// Its newest final review with its traces, if any.
    pub last_final: Option<(Review, Vec<DecisionTrace>)>,
    /// A fresh UUID for a new review.
    pub new_review_id: String,
}

/// Which kind of save finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveKind {
    /// An autosaved draft (or amendment in progress).
    Draft,
    /// A review of this deal saved as final.
    Final(DealId),
}

/// Work `update` asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Read the deal lists from the cache in the background.
    LoadDeals {
        /// Numbers the loads, so that an older one landing late is ignored.
        generation: u64,
        /// Read the review queue first and report it before every deal (the first load).
        queue_first: bool,
    },
    /// Read one deal for the deal view.
    LoadDeal(DealId),
    /// Read what the review wizard needs for this deal.
    LoadReview(DealId),
    /// Save this draft (in order with every other save).
    SaveDraft(Box<(Review, Vec<DecisionTrace>)>),
    /// Save this review as final, keeping its earlier revisions.
    SaveFinal(Box<(Review, Vec<DecisionTrace>)>),
    /// Mark this deal reviewed now.
    MarkReviewed(DealId),
    /// Post queued review notes to the CRM, when write-back is on.
    PostNotes,
    /// Sync from the configured CRM in the background, reporting progress as actions.
    Sync,
    /// Read the lessons, their evidence, follow-ups and the deals they fire on.
    LoadLessons {
        /// Numbers the loads, so that an older one landing late is ignored.
        generation: u64,
    },
    /// Save this pattern as a proposed lesson.
    Promote(Box<crate::patterns::mine::Pattern>),
    /// Run the advisor on the open deals as of now.
    Advise,
    /// Record that these recommendations were shown (once per deal and lesson version).
    RecordShown(Vec<crate::domain::RecommendationRecord>),
    /// Move a lesson to a status.
    SetLessonStatus {
        /// The lesson.
        id: crate::domain::LessonId,
        /// The new status.
        status: crate::domain::LessonStatus,
    },
    /// Mine the history for patterns in the background, reporting progress as actions.
    Mine {
        /// Numbers the runs, so that an older one landing late is ignored.
        generation: u64,
    },
    /// Restore the terminal and exit.
    Quit,
}
