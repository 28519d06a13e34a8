//! The post-mortem wizard: a pure state machine a front end drives with [`WizardInput`]s.
//!
//! Four steps, in order: [`Step::Outcome`] (outcome, reasons, notes), [`Step::Moments`] (a
//! decision trace for each key moment worth recording), [`Step::Lessons`] (lesson candidates)
//! and [`Step::Summary`] (read-only, where `Save` finalises).
//!
//! Every input that changes content returns [`WizardEffect::Autosave`]; the caller persists
//! [`Wizard::draft`] straight away, so nothing typed is lost. Two exceptions, both deliberate:
//! a moment the reviewer leaves out (not included) is not saved as a trace, so anything typed
//! on it lasts only while the wizard is open; an expected-by date typed halfway is saved as
//! "no date" until it parses; and a state snapshot with a pair typed halfway (not yet
//! `key=value`) is saved as it last parsed.
//!
//! Text fields are edited at their end (append and delete-last); there is no caret. Dates are
//! typed as `YYYY-MM-DD` and stored as midnight UTC of that day.
//!
//! A trace's state snapshot ([`Field::State`]) is filled from [`state_at`] and edited one
//! `key=value` pair at a time: `Up`/`Down` pick a pair and typing edits it at its end, which is
//! where its value is. A single line of every pair would be unusable here, since with no caret
//! changing a value in its middle means deleting everything after it. Values are read as JSON
//! literals where they are one (numbers, `true`/`false`, `null`, a `"quoted"` string), else as
//! bare text; a pair emptied is removed and the empty row after the last pair adds one. The
//! pairs are rebuilt from the saved snapshot on resume, sorted by key (see [`state_rows`]).
//!
//! Ids: the caller mints the review's id; trace ids are minted here as UUID v7 whose time is
//! `now` and whose other bits are a hash of the review id and a counter, so tests are
//! deterministic and no clock or random source is read.
//!
//! Revisions: a review's first final version has revision 0 and each amendment finalises with
//! the revision after the one it amends. A draft carries the revision it will have when it is
//! finalised, which is how [`Wizard::resume`] knows a draft is an amendment in progress.

use super::moments::{KeyMoment, MomentKind, all_moments, deal_end, propose_moments};
use super::outcomes::propose_actual;
use super::snapshot::state_at;
use crate::domain::time::{DAY, from_unix, ymd};
use crate::domain::{
    DecisionTrace, LessonCandidate, ReasonEntry, ReasonProblem, Review, ReviewOutcome,
    ReviewStatus, Taxonomy,
};
use crate::store::detail::DealDetail;
use crate::text::sanitize_line;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The label of a moment the reviewer added by hand.
const ADDED_LABEL: &str = "Moment added by the reviewer";

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The outcome, the reasons from the taxonomy, and notes.
    Outcome,
    /// Decision traces for the deal's key moments.
    Moments,
    /// Lesson candidates.
    Lessons,
    /// Everything on one page; `Save` finalises from here.
    Summary,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 4] = [Step::Outcome, Step::Moments, Step::Lessons, Step::Summary];

    /// The step's title, as the view shows it.
    pub fn title(self) -> &'static str {
        match self {
            Step::Outcome => "Outcome",
            Step::Moments => "Key moments",
            Step::Lessons => "Lessons",
            Step::Summary => "Summary",
        }
    }

    fn next(self) -> Option<Step> {
        match self {
            Step::Outcome => Some(Step::Moments),
            Step::Moments => Some(Step::Lessons),
            Step::Lessons => Some(Step::Summary),
            Step::Summary => None,
        }
    }

    fn prev(self) -> Option<Step> {
        match self {
            Step::Outcome => None,
            Step::Moments => Some(Step::Outcome),
            Step::Lessons => Some(Step::Moments),
            Step::Summary => Some(Step::Lessons),
        }
    }
}

/// What has focus within a step. Lists move with `Up`/`Down`; text fields take `Char` and
/// `Backspace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Outcome step: the won/lost/open selector (`Left`/`Right`/`Up`/`Down`/`Toggle` cycle it).
    Outcome,
    /// Outcome step: the reasons offered for the outcome (`Toggle`, `MarkPrimary`, `Remove`).
    Reasons,
    /// Outcome step: free text of the highlighted reason.
    ReasonDetail,
    /// Outcome step: the review's notes (the only field that takes line breaks).
    Notes,
    /// Moments step: the list of moments (`Toggle` includes, `Add`, `Remove` an added one).
    MomentList,
    /// Moments step: the date of a hand-added moment (`YYYY-MM-DD`); proposed ones have none.
    MomentDate,
    /// Moments step: the deal's state then, one `key=value` pair at a time (`Up`/`Down` pick
    /// the pair instead of the moment; typing edits the pair; see the module doc).
    State,
    /// Moments step: what was done.
    Action,
    /// Moments step: why.
    Rationale,
    /// Moments step: the outcome expected.
    ExpectedOutcome,
    /// Moments step: by when (`YYYY-MM-DD`).
    ExpectedBy,
    /// Moments step: what actually happened (`Right` or `Toggle` accepts a proposal; typing
    /// edits it).
    ActualOutcome,
    /// Moments step, when the advisor had recommended something before the decision: whether
    /// the recommendation was followed (`Toggle`, `Left`, `Right` cycle yes / no / not known).
    Followed,
    /// Lessons step: the list of candidates (`Add`, `Remove`).
    Lessons,
    /// Lessons step: the highlighted candidate's text.
    LessonText,
    /// Lessons step: the pattern key it refers to (empty: none).
    PatternKey,
}

impl Field {
    /// The field's label, as the view shows it.
    pub fn label(self) -> &'static str {
        match self {
            Field::Outcome => "Outcome",
            Field::Reasons => "Reasons",
            Field::ReasonDetail => "Detail",
            Field::Notes => "Notes",
            Field::MomentList => "Moments",
            Field::MomentDate => "Date",
            Field::State => "State",
            Field::Action => "Action",
            Field::Rationale => "Rationale",
            Field::ExpectedOutcome => "Expected outcome",
            Field::ExpectedBy => "Expected by",
            Field::ActualOutcome => "Actual outcome",
            Field::Followed => "Followed?",
            Field::Lessons => "Lessons",
            Field::LessonText => "Lesson",
            Field::PatternKey => "Pattern",
        }
    }

    /// True for text fields, false for lists and selectors.
    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Field::Outcome | Field::Reasons | Field::MomentList | Field::Lessons | Field::Followed
        )
    }
}

/// An input to the wizard, free of any terminal type; the front end maps its keys onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WizardInput {
    /// Validate the step and go to the next one.
    NextStep,
    /// Go back a step, keeping everything.
    PrevStep,
    /// Focus the step's next field (wrapping).
    FocusNext,
    /// Focus the step's previous field (wrapping).
    FocusPrev,
    /// Move up in a list (also moves the highlighted item from its text fields).
    Up,
    /// Move down in a list (likewise).
    Down,
    /// Previous choice in a selector.
    Left,
    /// Next choice in a selector; accepts a proposed actual outcome.
    Right,
    /// Select or include the highlighted item.
    Toggle,
    /// Make the highlighted reason the primary one.
    MarkPrimary,
    /// Type a character into the focused text field.
    Char(char),
    /// Delete the last character of the focused text field.
    Backspace,
    /// Add a moment (Moments step) or a lesson candidate (Lessons step).
    Add,
    /// Remove the highlighted hand-added moment, lesson candidate or reason.
    Remove,
    /// Save: on the Summary step, validate everything and finalise; elsewhere, autosave.
    Save,
}

/// What the caller should do after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WizardEffect {
    /// Nothing changed that needs saving (navigation, ignored input).
    None,
    /// Content changed: persist [`Wizard::draft`] now.
    Autosave,
    /// Everything is valid: persist [`Wizard::finalize`].
    Finalize,
    /// The input was refused; [`Wizard::message`] says why in one sentence.
    Invalid,
}

/// One key moment and the decision trace the reviewer is writing for it.
#[derive(Debug, Clone, PartialEq)]
pub struct MomentDraft {
    /// The moment.
    pub moment: KeyMoment,
    /// Whether it is recorded as a trace (only included moments are saved).
    pub included: bool,
    /// The trace: `at`, `stage_id` and `state` are filled from the facts when the moment is
    /// proposed and never rewritten from them afterwards (a hand-added moment's follow its
    /// date while the reviewer edits it, its state only while the reviewer has not edited
    /// it); `state` changes only by the reviewer's edits of [`MomentDraft::state_rows`]; the
    /// rest is what the reviewer types.
    pub trace: DecisionTrace,
    /// The date of a hand-added moment as typed (`YYYY-MM-DD`); proposed moments show theirs.
    pub date_text: String,
    /// The expected-by date as typed.
    pub expected_by_text: String,
    /// The state snapshot as typed, one `key=value` pair per row, the last row empty (where a
    /// new pair is typed). `trace.state` follows it whenever every row parses.
    pub state_rows: Vec<String>,
    /// An actual outcome proposed from the facts, shown until the reviewer accepts or edits it
    /// (and never saved by itself).
    pub proposed_actual: Option<String>,
}

/// One line of the reasons list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonOption {
    /// The taxonomy code.
    pub code: String,
    /// What people read (the code itself for a code the taxonomy does not know).
    pub label: String,
    /// The question the detail field asks, if the reason wants detail.
    pub detail_prompt: Option<String>,
    /// Whether the review lists it.
    pub selected: bool,
    /// Whether it is the primary reason.
    pub primary: bool,
    /// Whether the taxonomy retired it (only shown when an old review already uses it).
    pub retired: bool,
    /// The free text typed for it.
    pub detail: Option<String>,
}

/// A validation problem: which step, the sentence, and where to put the cursor to fix it.
#[derive(Debug, Clone, PartialEq)]
struct Problem {
    step: Step,
    message: String,
    field: Field,
    index: Option<usize>,
}

/// The post-mortem wizard for one deal.
#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    /// The facts proposals and snapshots come from (a copy, so `handle` needs no store).
    detail: DealDetail,
    /// The reason taxonomy, kept so that finalising and the summary need no argument; `handle`
    /// refreshes it from the one it is given.
    taxonomy: Taxonomy,
    slip_min_days: i64,
    review: Review,
    moments: Vec<MomentDraft>,
    step: Step,
    focus: Option<Field>,
    reason_cursor: usize,
    moment_cursor: usize,
    /// The highlighted row of the highlighted moment's state.
    state_cursor: usize,
    lesson_cursor: usize,
    message: Option<String>,
    amends: Option<i64>,
    /// Retired codes the amended review already used, which it may keep.
    kept_retired: BTreeSet<String>,
    /// Reasons set aside when the outcome changed, restored if it changes back.
    stashed_reasons: Vec<ReasonEntry>,
    /// Trace ids minted so far (part of the next id's hash).
    minted: u64,
}

/// Parses a `YYYY-MM-DD` date into midnight UTC of that day; anything else is `None`.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

impl Wizard {
    /// A new review of the deal by `reviewer` with the id `review_id` (a UUID v7 the caller
    /// minted), its outcome proposed from the deal: won or lost when it is closed, else open.
    pub fn start(
        detail: &DealDetail,
        taxonomy: &Taxonomy,
        reviewer: &str,
        review_id: String,
        now: Timestamp,
        slip_min_days: i64,
    ) -> Wizard {
        let summary = &detail.summary;
        let outcome = match (summary.is_closed, summary.is_won) {
            (true, true) => ReviewOutcome::Won,
            (true, false) => ReviewOutcome::Lost,
            (false, _) => ReviewOutcome::Open,
        };
        let review = Review {
            id: review_id,
            deal_id: summary.id.clone(),
            reviewer: reviewer.to_owned(),
            created_at: now,
            updated_at: now,
            status: ReviewStatus::Draft,
            outcome: Some(outcome),
            reasons: vec![],
            notes: String::new(),
            lesson_candidates: vec![],
            revision: 0,
        };
        Wizard::build(detail, taxonomy, review, vec![], None, now, slip_min_days)
    }

    /// Reopens a draft exactly as it was saved: its outcome, reasons, notes and lessons, and
    /// one moment per saved trace (matched to the proposed moment at the same instant; a trace
    /// matching none is a hand-added moment). Proposed moments with no trace are offered again,
    /// left out. A draft whose revision is above 0 is an amendment of the revision before it.
    pub fn resume(
        detail: &DealDetail,
        draft: Review,
        draft_traces: Vec<DecisionTrace>,
        taxonomy: &Taxonomy,
        now: Timestamp,
        slip_min_days: i64,
    ) -> Wizard {
        let amends = (draft.revision > 0).then(|| draft.revision - 1);
        Wizard::build(
            detail,
            taxonomy,
            draft,
            draft_traces,
            amends,
            now,
            slip_min_days,
        )
    }

    /// Reopens a final review for amendment: the same review id, status draft, and the next
    /// revision when it is finalised again. Retired reasons it already used may stay.
    pub fn amend(
        detail: &DealDetail,
        final_review: Review,
        its_traces: Vec<DecisionTrace>,
        taxonomy: &Taxonomy,
        now: Timestamp,
        slip_min_days: i64,
    ) -> Wizard {
        let amends = Some(final_review.revision);
        let mut review = final_review;
        review.status = ReviewStatus::Draft;
        review.revision = amends.map_or(0, |r| r + 1);
        review.updated_at = now;
        Wizard::build(
            detail,
            taxonomy,
            review,
            its_traces,
            amends,
            now,
            slip_min_days,
        )
    }

    fn build(
        detail: &DealDetail,
        taxonomy: &Taxonomy,
        review: Review,
        mut traces: Vec<DecisionTrace>,
        amends: Option<i64>,
        now: Timestamp,
        slip_min_days: i64,
    ) -> Wizard {
        let kept_retired = if amends.is_some() {
            review.reasons.iter().map(|r| r.code.clone()).collect()
        } else {
            BTreeSet::new()
        };
        let proposed = propose_moments(detail, slip_min_days, now);
        let mut candidates: Vec<(KeyMoment, Option<DecisionTrace>)> =
            all_moments(detail, slip_min_days, now)
                .into_iter()
                .map(|m| (m, None))
                .collect();

        // Match saved traces to moments by instant (to the second: the cache stores seconds).
        traces.sort_by_key(|t| t.at);
        let mut added = Vec::new();
        for trace in traces {
            let slot = candidates.iter_mut().find(|(m, t)| {
                t.is_none()
                    && m.at.as_second() == trace.at.as_second()
                    && m.kind != MomentKind::Added
            });
            match slot {
                Some((_, t)) => *t = Some(trace),
                None => added.push(trace),
            }
        }

        let actor = detail
            .summary
            .owner
            .clone()
            .unwrap_or_else(|| review.reviewer.clone());
        let mut wizard = Wizard {
            detail: detail.clone(),
            taxonomy: taxonomy.clone(),
            slip_min_days,
            review,
            moments: vec![],
            step: Step::Outcome,
            focus: None,
            reason_cursor: 0,
            moment_cursor: 0,
            state_cursor: 0,
            lesson_cursor: 0,
            message: None,
            amends,
            kept_retired,
            stashed_reasons: vec![],
            minted: 0,
        };
        // Saved traces first, so that ids minted for the rest can be checked against theirs.
        let mut unsaved = Vec::new();
        for (moment, trace) in candidates {
            match trace {
                Some(trace) => {
                    wizard
                        .moments
                        .push(draft_for(moment, true, trace, detail, slip_min_days, now))
                }
                // A moment beyond the cap is shown only when the reviewer already wrote about it.
                None if proposed.contains(&moment) => unsaved.push(moment),
                None => {}
            }
        }
        for trace in added {
            let moment = KeyMoment {
                at: trace.at,
                kind: MomentKind::Added,
                label: ADDED_LABEL.to_owned(),
                stage_id: trace.stage_id.as_ref().map(|s| s.as_str().to_owned()),
            };
            wizard
                .moments
                .push(draft_for(moment, true, trace, detail, slip_min_days, now));
        }
        for moment in unsaved {
            let trace = DecisionTrace {
                review_id: Some(wizard.review.id.clone()),
                stage_id: moment.stage_id.clone().map(Into::into),
                state: state_at(detail, moment.at, slip_min_days),
                recommendation: detail.recommended_at(moment.at),
                ..DecisionTrace::blank(
                    wizard.mint_trace_id(now),
                    detail.summary.id.clone(),
                    moment.at,
                    actor.clone(),
                    now,
                )
            };
            wizard
                .moments
                .push(draft_for(moment, false, trace, detail, slip_min_days, now));
        }
        wizard.moments.sort_by_key(|m| m.moment.at);
        // A closed deal's outcome is known: the reviewer's first job is the reason.
        wizard.focus = Some(match wizard.review.outcome {
            Some(ReviewOutcome::Won | ReviewOutcome::Lost) => Field::Reasons,
            _ => Field::Outcome,
        });
        wizard
    }

    /// A new trace id: a UUID v7 with `now` as its time and a hash of the review id and a
    /// counter as its other bits, skipping any id a moment already has.
    fn mint_trace_id(&mut self, now: Timestamp) -> String {
        loop {
            self.minted += 1;
            let mut bytes = [0u8; 10];
            let high = fnv1a(
                0xcbf2_9ce4_8422_2325,
                self.review.id.as_bytes(),
                self.minted,
            );
            let low = fnv1a(
                0x6c62_272e_07bb_0142,
                self.review.id.as_bytes(),
                self.minted,
            );
            bytes[..8].copy_from_slice(&high.to_le_bytes());
            bytes[8..].copy_from_slice(&low.to_le_bytes()[..2]);
            let millis = u64::try_from(now.as_millisecond()).unwrap_or(0);
            let id = uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
                .into_uuid()
                .to_string();
            if !self.moments.iter().any(|m| m.trace.id == id) {
                return id;
            }
        }
    }

    // ----- what the view reads -----

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The focused field (`None` on the Summary step, which has nothing to edit).
    pub fn focus(&self) -> Option<Field> {
        self.focus
    }

    /// True when a text field has focus, so the front end sends typed characters as `Char`
    /// (and `j`, `k`, space as text) instead of list keys.
    pub fn is_typing(&self) -> bool {
        self.focus.is_some_and(Field::is_text)
    }

    /// The current step's fields in focus order (see [`Wizard::handle`] for the order).
    pub fn fields(&self) -> Vec<Field> {
        match self.step {
            Step::Outcome => match self.review.outcome {
                Some(ReviewOutcome::Won | ReviewOutcome::Lost) => {
                    vec![
                        Field::Outcome,
                        Field::Reasons,
                        Field::ReasonDetail,
                        Field::Notes,
                    ]
                }
                _ => vec![Field::Outcome, Field::Notes],
            },
            Step::Moments => match self.moments.get(self.moment_cursor) {
                None => vec![Field::MomentList],
                Some(m) => {
                    let mut fields = vec![Field::MomentList];
                    if m.moment.kind == MomentKind::Added {
                        fields.push(Field::MomentDate);
                    }
                    fields.extend([
                        Field::State,
                        Field::Action,
                        Field::Rationale,
                        Field::ExpectedOutcome,
                        Field::ExpectedBy,
                        Field::ActualOutcome,
                    ]);
                    if m.trace.recommendation.is_some() {
                        fields.push(Field::Followed);
                    }
                    fields
                }
            },
            Step::Lessons if self.review.lesson_candidates.is_empty() => vec![Field::Lessons],
            Step::Lessons => vec![Field::Lessons, Field::LessonText, Field::PatternKey],
            Step::Summary => vec![],
        }
    }

    /// The review as it stands.
    pub fn review(&self) -> &Review {
        &self.review
    }

    /// The moments, oldest first.
    pub fn moments(&self) -> &[MomentDraft] {
        &self.moments
    }

    /// The highlighted reason (an index into [`Wizard::reason_options`]).
    pub fn reason_cursor(&self) -> usize {
        self.reason_cursor
    }

    /// The highlighted moment.
    pub fn moment_cursor(&self) -> usize {
        self.moment_cursor
    }

    /// The highlighted row of the highlighted moment's state (an index into its
    /// [`MomentDraft::state_rows`]).
    pub fn state_cursor(&self) -> usize {
        self.state_cursor
    }

    /// The highlighted lesson candidate.
    pub fn lesson_cursor(&self) -> usize {
        self.lesson_cursor
    }

    /// The last refusal, in one sentence (cleared by the next input).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The revision of the final review being amended, if this is an amendment.
    pub fn amends(&self) -> Option<i64> {
        self.amends
    }

    /// The revision the review gets when finalised: 0 for a first final version, one more
    /// than the amended revision for an amendment.
    pub fn revision(&self) -> i64 {
        self.amends.map_or(0, |r| r + 1)
    }

    /// The reasons list: those the taxonomy offers for the outcome, in its order, then any the
    /// review lists that are not offered (retired or unknown ones from an older review).
    pub fn reason_options(&self) -> Vec<ReasonOption> {
        let Some(outcome) = self.review.outcome else {
            return vec![];
        };
        let entry = |code: &str| self.review.reasons.iter().find(|r| r.code == code);
        let mut options: Vec<ReasonOption> = self
            .taxonomy
            .offered(outcome)
            .map(|r| ReasonOption {
                code: r.code.clone(),
                label: r.label.clone(),
                detail_prompt: r.detail.clone(),
                selected: entry(&r.code).is_some(),
                primary: entry(&r.code).is_some_and(|e| e.primary),
                retired: false,
                detail: entry(&r.code).and_then(|e| e.detail.clone()),
            })
            .collect();
        for e in &self.review.reasons {
            if options.iter().any(|o| o.code == e.code) {
                continue;
            }
            let known = self.taxonomy.get(&e.code);
            options.push(ReasonOption {
                code: e.code.clone(),
                label: known.map_or_else(|| e.code.clone(), |r| r.label.clone()),
                detail_prompt: known.and_then(|r| r.detail.clone()),
                selected: true,
                primary: e.primary,
                retired: known.is_some_and(|r| r.retired),
                detail: e.detail.clone(),
            });
        }
        options
    }

    /// The text of a text field for the highlighted item (for the actual outcome: the accepted
    /// text, else the proposal; for the state: the highlighted pair as typed); `None` for lists
    /// or when there is no highlighted item.
    pub fn field_text(&self, field: Field) -> Option<String> {
        let moment = self.moments.get(self.moment_cursor);
        let lesson = self.review.lesson_candidates.get(self.lesson_cursor);
        match field {
            Field::ReasonDetail => {
                let code = self.highlighted_reason()?;
                Some(
                    self.review
                        .reasons
                        .iter()
                        .find(|r| r.code == code)
                        .and_then(|r| r.detail.clone())
                        .unwrap_or_default(),
                )
            }
            Field::Notes => Some(self.review.notes.clone()),
            Field::MomentDate => moment.map(|m| m.date_text.clone()),
            Field::State => moment.map(|m| {
                m.state_rows
                    .get(self.state_cursor)
                    .cloned()
                    .unwrap_or_default()
            }),
            Field::Action => moment.map(|m| m.trace.action.clone()),
            Field::Rationale => moment.map(|m| m.trace.rationale.clone()),
            Field::ExpectedOutcome => moment.map(|m| m.trace.expected_outcome.clone()),
            Field::ExpectedBy => moment.map(|m| m.expected_by_text.clone()),
            Field::ActualOutcome => moment.map(|m| {
                m.trace
                    .actual_outcome
                    .clone()
                    .or_else(|| m.proposed_actual.clone())
                    .unwrap_or_default()
            }),
            Field::Followed => moment.map(|m| {
                match m.trace.followed {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "not known",
                }
                .to_owned()
            }),
            Field::LessonText => lesson.map(|c| c.text.clone()),
            Field::PatternKey => lesson.map(|c| c.pattern_key.clone().unwrap_or_default()),
            Field::Outcome | Field::Reasons | Field::MomentList | Field::Lessons => None,
        }
    }

    // ----- input -----

    /// Applies one input.
    ///
    /// Focus order per step (`FocusNext`/`FocusPrev` wrap):
    /// - Outcome: outcome selector, reasons, reason detail, notes (reasons and detail only for
    ///   won or lost; a closed deal starts on the reasons list);
    /// - Moments: moment list, then the highlighted moment's date (hand-added ones only),
    ///   state, action, rationale, expected outcome, expected by, actual outcome;
    /// - Lessons: candidate list, candidate text, pattern key;
    /// - Summary: nothing.
    ///
    /// Typing goes to the focused text field only; `Char` in a list is ignored. Typing into a
    /// left-out moment includes it, and typing a reason's detail selects the reason. `Up`/`Down`
    /// in a moment's text field move to another moment, except in the state, where they pick
    /// the pair.
    pub fn handle(
        &mut self,
        input: WizardInput,
        taxonomy: &Taxonomy,
        now: Timestamp,
    ) -> WizardEffect {
        self.message = None;
        // The caller's taxonomy is the current one (it may have been reloaded).
        if self.taxonomy != *taxonomy {
            self.taxonomy = taxonomy.clone();
        }
        match input {
            WizardInput::NextStep => self.next_step(),
            WizardInput::PrevStep => {
                if let Some(prev) = self.step.prev() {
                    self.go_to(prev);
                }
                WizardEffect::None
            }
            WizardInput::FocusNext | WizardInput::FocusPrev => {
                let fields = self.fields();
                if let Some(at) = self.focus.and_then(|f| fields.iter().position(|x| *x == f)) {
                    let n = fields.len();
                    let to = if input == WizardInput::FocusNext {
                        (at + 1) % n
                    } else {
                        (at + n - 1) % n
                    };
                    self.focus = Some(fields[to]);
                }
                WizardEffect::None
            }
            WizardInput::Save if self.step == Step::Summary => {
                match self.all_problems().into_iter().next() {
                    Some(problem) => self.refuse(problem),
                    None => WizardEffect::Finalize,
                }
            }
            // Elsewhere Save is the habit of saving work in progress.
            WizardInput::Save => WizardEffect::Autosave,
            _ => {
                let effect = self.edit(input, now);
                if effect == WizardEffect::Autosave {
                    self.review.updated_at = now;
                }
                self.settle_focus();
                effect
            }
        }
    }

    fn next_step(&mut self) -> WizardEffect {
        let Some(next) = self.step.next() else {
            return WizardEffect::None;
        };
        if let Some(problem) = self.problem(self.step) {
            return self.refuse(problem);
        }
        self.go_to(next);
        WizardEffect::None
    }

    fn go_to(&mut self, step: Step) {
        self.step = step;
        self.focus = None;
        self.settle_focus();
    }

    /// Keeps the focus on a field the step has (its first one when the old one went away) and
    /// the cursors inside their lists.
    fn settle_focus(&mut self) {
        self.moment_cursor = self.moment_cursor.min(self.moments.len().saturating_sub(1));
        let rows = self
            .moments
            .get(self.moment_cursor)
            .map_or(0, |m| m.state_rows.len());
        self.state_cursor = self.state_cursor.min(rows.saturating_sub(1));
        self.lesson_cursor = self
            .lesson_cursor
            .min(self.review.lesson_candidates.len().saturating_sub(1));
        let fields = self.fields();
        if !self.focus.is_some_and(|f| fields.contains(&f)) {
            self.focus = fields.first().copied();
        }
    }

    fn refuse(&mut self, problem: Problem) -> WizardEffect {
        self.step = problem.step;
        match problem.field {
            Field::Reasons | Field::ReasonDetail => {
                self.reason_cursor = problem.index.unwrap_or(self.reason_cursor);
            }
            Field::Lessons | Field::LessonText | Field::PatternKey => {
                self.lesson_cursor = problem.index.unwrap_or(self.lesson_cursor);
            }
            Field::Outcome | Field::Notes => {}
            _ => self.moment_cursor = problem.index.unwrap_or(self.moment_cursor),
        }
        if problem.field == Field::State
            && let Some(m) = self.moments.get(self.moment_cursor)
            && let Err(bad) = parse_state(&m.state_rows, &m.trace.state, &BTreeMap::new())
        {
            self.state_cursor = bad.row;
        }
        self.focus = Some(problem.field);
        self.settle_focus();
        self.message = Some(problem.message);
        WizardEffect::Invalid
    }

    fn edit(&mut self, input: WizardInput, now: Timestamp) -> WizardEffect {
        let Some(field) = self.focus else {
            return WizardEffect::None;
        };
        match (self.step, input) {
            (Step::Moments, WizardInput::Add) => return self.add_moment(now),
            (Step::Lessons, WizardInput::Add) => {
                let at = (self.lesson_cursor + 1).min(self.review.lesson_candidates.len());
                self.review.lesson_candidates.insert(
                    at,
                    LessonCandidate {
                        text: String::new(),
                        pattern_key: None,
                    },
                );
                self.lesson_cursor = at;
                self.focus = Some(Field::LessonText);
                return WizardEffect::Autosave;
            }
            _ => {}
        }
        match field {
            Field::Outcome => self.edit_outcome(input),
            Field::Reasons | Field::ReasonDetail => self.edit_reasons(field, input),
            Field::Notes => edit_text(&mut self.review.notes, input, true),
            Field::MomentList => self.edit_moment_list(input),
            Field::MomentDate
            | Field::State
            | Field::Action
            | Field::Rationale
            | Field::ExpectedOutcome
            | Field::ExpectedBy
            | Field::ActualOutcome => self.edit_moment(field, input, now),
            Field::Followed => self.edit_followed(input),
            Field::Lessons | Field::LessonText | Field::PatternKey => {
                self.edit_lessons(field, input)
            }
        }
    }

    fn edit_outcome(&mut self, input: WizardInput) -> WizardEffect {
        const CHOICES: [ReviewOutcome; 3] =
            [ReviewOutcome::Won, ReviewOutcome::Lost, ReviewOutcome::Open];
        let at = self
            .review
            .outcome
            .and_then(|o| CHOICES.iter().position(|c| *c == o));
        let to = match (input, at) {
            (WizardInput::Right | WizardInput::Down | WizardInput::Toggle, None) => 0,
            (WizardInput::Left | WizardInput::Up, None) => CHOICES.len() - 1,
            (WizardInput::Right | WizardInput::Down | WizardInput::Toggle, Some(i)) => {
                (i + 1) % CHOICES.len()
            }
            (WizardInput::Left | WizardInput::Up, Some(i)) => {
                (i + CHOICES.len() - 1) % CHOICES.len()
            }
            _ => return WizardEffect::None,
        };
        self.set_outcome(CHOICES[to]);
        WizardEffect::Autosave
    }

    /// Changes the outcome, setting aside the reasons that cannot explain it (and bringing back
    /// those set aside earlier that can), so flicking through outcomes loses nothing.
    fn set_outcome(&mut self, outcome: ReviewOutcome) {
        self.review.outcome = Some(outcome);
        let fits = |code: &str| {
            // A code the taxonomy does not know stays put, so validation can name it.
            self.taxonomy
                .get(code)
                .is_none_or(|r| r.outcomes.contains(&outcome))
        };
        let all: Vec<ReasonEntry> = self
            .review
            .reasons
            .drain(..)
            .chain(self.stashed_reasons.drain(..))
            .collect();
        let (kept, stashed): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| fits(&r.code));
        self.review.reasons = kept;
        self.stashed_reasons = stashed;
        // Exactly one primary among what is kept: the first one marked, else the first listed.
        let first_primary = self.review.reasons.iter().position(|r| r.primary);
        for (i, r) in self.review.reasons.iter_mut().enumerate() {
            r.primary = Some(i) == first_primary.or(Some(0));
        }
        self.reason_cursor = 0;
    }

    fn highlighted_reason(&self) -> Option<String> {
        self.reason_options()
            .get(self.reason_cursor)
            .map(|o| o.code.clone())
    }

    fn edit_reasons(&mut self, field: Field, input: WizardInput) -> WizardEffect {
        let count = self.reason_options().len();
        match input {
            WizardInput::Up => {
                self.reason_cursor = self.reason_cursor.saturating_sub(1);
                return WizardEffect::None;
            }
            WizardInput::Down => {
                self.reason_cursor = (self.reason_cursor + 1).min(count.saturating_sub(1));
                return WizardEffect::None;
            }
            _ => {}
        }
        let Some(code) = self.highlighted_reason() else {
            return WizardEffect::None;
        };
        let selected = self.review.reasons.iter().position(|r| r.code == code);
        match (field, input, selected) {
            (Field::Reasons, WizardInput::Toggle, None) => {
                self.select_reason(&code);
                WizardEffect::Autosave
            }
            (Field::Reasons, WizardInput::Toggle | WizardInput::Remove, Some(i)) => {
                let was_primary = self.review.reasons.remove(i).primary;
                if was_primary && let Some(first) = self.review.reasons.first_mut() {
                    first.primary = true;
                }
                // An unselected retired reason leaves the list; keep the cursor inside it.
                self.reason_cursor = self
                    .reason_cursor
                    .min(self.reason_options().len().saturating_sub(1));
                WizardEffect::Autosave
            }
            (Field::Reasons, WizardInput::MarkPrimary, Some(i))
                if self.review.reasons[i].primary =>
            {
                WizardEffect::None
            }
            (Field::Reasons, WizardInput::MarkPrimary, _) => {
                if selected.is_none() {
                    self.select_reason(&code);
                }
                for r in &mut self.review.reasons {
                    r.primary = r.code == code;
                }
                WizardEffect::Autosave
            }
            (Field::ReasonDetail, WizardInput::Char(_) | WizardInput::Backspace, _) => {
                if selected.is_none() && input == WizardInput::Backspace {
                    return WizardEffect::None;
                }
                let i = match selected {
                    Some(i) => i,
                    None => {
                        self.select_reason(&code);
                        self.review.reasons.len() - 1
                    }
                };
                let entry = &mut self.review.reasons[i];
                let mut text = entry.detail.take().unwrap_or_default();
                let effect = edit_text(&mut text, input, false);
                entry.detail = (!text.is_empty()).then_some(text);
                if selected.is_none() {
                    WizardEffect::Autosave
                } else {
                    effect
                }
            }
            _ => WizardEffect::None,
        }
    }

    /// Adds a reason; the first one selected becomes the primary one, so a rep with one reason
    /// never has to mark it.
    fn select_reason(&mut self, code: &str) {
        let primary = !self.review.reasons.iter().any(|r| r.primary);
        self.review.reasons.push(ReasonEntry {
            code: code.to_owned(),
            detail: None,
            primary,
        });
    }

    fn edit_moment_list(&mut self, input: WizardInput) -> WizardEffect {
        match input {
            WizardInput::Up | WizardInput::Down => {
                let to = if input == WizardInput::Up {
                    self.moment_cursor.saturating_sub(1)
                } else {
                    (self.moment_cursor + 1).min(self.moments.len().saturating_sub(1))
                };
                // Another moment's state starts at its first pair.
                if to != self.moment_cursor {
                    self.state_cursor = 0;
                }
                self.moment_cursor = to;
                WizardEffect::None
            }
            WizardInput::Toggle => match self.moments.get_mut(self.moment_cursor) {
                Some(m) => {
                    m.included = !m.included;
                    WizardEffect::Autosave
                }
                None => WizardEffect::None,
            },
            WizardInput::Remove => match self.moments.get(self.moment_cursor) {
                Some(m) if m.moment.kind == MomentKind::Added => {
                    self.moments.remove(self.moment_cursor);
                    WizardEffect::Autosave
                }
                Some(_) => {
                    self.message = Some(
                        "A proposed moment cannot be removed; toggle it to leave it out."
                            .to_owned(),
                    );
                    WizardEffect::Invalid
                }
                None => WizardEffect::None,
            },
            _ => WizardEffect::None,
        }
    }

    fn add_moment(&mut self, now: Timestamp) -> WizardEffect {
        let id = self.mint_trace_id(now);
        // Start from the highlighted moment's day (or the deal's end): the reviewer usually
        // adds a decision next to one they are looking at, and edits the date if not.
        let near = self
            .moments
            .get(self.moment_cursor)
            .map_or_else(|| deal_end(&self.detail, now), |m| m.moment.at);
        let date_text = ymd(near);
        let at = parse_date(&date_text).unwrap_or(near);
        let actor = self
            .detail
            .summary
            .owner
            .clone()
            .unwrap_or_else(|| self.review.reviewer.clone());
        // The snapshot at `at` marks the state as untouched, so `place_added` retakes it.
        let trace = DecisionTrace {
            review_id: Some(self.review.id.clone()),
            state: state_at(&self.detail, at, self.slip_min_days),
            recommendation: self.detail.recommended_at(at),
            ..DecisionTrace::blank(id, self.detail.summary.id.clone(), at, actor, now)
        };
        let moment = KeyMoment {
            at,
            kind: MomentKind::Added,
            label: ADDED_LABEL.to_owned(),
            stage_id: None,
        };
        let id = trace.id.clone();
        let rows = state_rows(&trace.state);
        self.moments.push(MomentDraft {
            moment,
            included: true,
            trace,
            date_text,
            expected_by_text: String::new(),
            state_rows: rows,
            proposed_actual: None,
        });
        let last = self.moments.len() - 1;
        self.place_added(last, at);
        self.moment_cursor = self
            .moments
            .iter()
            .position(|m| m.trace.id == id)
            .unwrap_or(last);
        self.state_cursor = 0;
        self.focus = Some(Field::MomentDate);
        WizardEffect::Autosave
    }

    /// Moves a hand-added moment to `at` (nudged by seconds off any other moment's instant, so
    /// that resuming can always tell it from a proposed one), snapshots the deal there unless
    /// the reviewer edited the snapshot (their edits are never thrown away), and keeps the list
    /// in time order.
    fn place_added(&mut self, index: usize, at: Timestamp) {
        let mut at = at;
        while self
            .moments
            .iter()
            .enumerate()
            .any(|(i, m)| i != index && m.moment.at.as_second() == at.as_second())
        {
            at = from_unix(at.as_second() + 1);
        }
        let stage_id = self
            .detail
            .history
            .stage_at(at)
            .map(|s| s.as_str().to_owned());
        let state = state_at(&self.detail, at, self.slip_min_days);
        let m = &self.moments[index];
        let untouched = m.trace.state == state_at(&self.detail, m.moment.at, self.slip_min_days)
            && m.state_rows == state_rows(&m.trace.state);
        let m = &mut self.moments[index];
        m.moment.at = at;
        m.moment.stage_id = stage_id.clone();
        m.trace.at = at;
        m.trace.stage_id = stage_id.map(Into::into);
        if untouched {
            m.state_rows = state_rows(&state);
            m.trace.state = state;
        }
        self.moments.sort_by_key(|m| m.moment.at);
    }

    /// Cycles whether the recommendation before this decision was followed: not known → yes
    /// → no (`Left` the other way); `Up`/`Down` move along the moments as in every trace field.
    fn edit_followed(&mut self, input: WizardInput) -> WizardEffect {
        if matches!(input, WizardInput::Up | WizardInput::Down) {
            return self.edit_moment_list(input);
        }
        let Some(m) = self.moments.get_mut(self.moment_cursor) else {
            return WizardEffect::None;
        };
        const ORDER: [Option<bool>; 3] = [None, Some(true), Some(false)];
        let at = ORDER
            .iter()
            .position(|o| *o == m.trace.followed)
            .unwrap_or(0);
        let next = match input {
            WizardInput::Toggle | WizardInput::Right => (at + 1) % 3,
            WizardInput::Left => (at + 2) % 3,
            _ => return WizardEffect::None,
        };
        m.trace.followed = ORDER[next];
        WizardEffect::Autosave
    }

    fn edit_moment(&mut self, field: Field, input: WizardInput, now: Timestamp) -> WizardEffect {
        if field == Field::State && matches!(input, WizardInput::Up | WizardInput::Down) {
            self.move_state_cursor(input);
            return WizardEffect::None;
        }
        if matches!(input, WizardInput::Up | WizardInput::Down) {
            return self.edit_moment_list(input);
        }
        let index = self.moment_cursor;
        let (detail, slip_min_days) = (&self.detail, self.slip_min_days);
        let Some(m) = self.moments.get_mut(index) else {
            return WizardEffect::None;
        };
        let effect = match field {
            Field::Action => edit_text(&mut m.trace.action, input, false),
            Field::Rationale => edit_text(&mut m.trace.rationale, input, false),
            Field::ExpectedOutcome => edit_text(&mut m.trace.expected_outcome, input, false),
            Field::State => {
                let Some(row) = m.state_rows.get_mut(self.state_cursor) else {
                    return WizardEffect::None;
                };
                let effect = edit_text(row, input, false);
                if effect == WizardEffect::Autosave {
                    // Typing on the empty last row starts a pair: offer the next empty one.
                    if m.state_rows.last().is_none_or(|r| !r.trim().is_empty()) {
                        m.state_rows.push(String::new());
                    }
                    // Half-typed rows keep the last state that parsed; validation names them.
                    let facts = state_at(detail, m.moment.at, slip_min_days);
                    if let Ok(state) = parse_state(&m.state_rows, &m.trace.state, &facts) {
                        m.trace.state = state;
                    }
                }
                effect
            }
            Field::ExpectedBy => {
                let effect = edit_text(&mut m.expected_by_text, input, false);
                if effect == WizardEffect::Autosave {
                    m.trace.expected_by = parse_date(&m.expected_by_text);
                    m.proposed_actual = propose_actual(&m.trace, detail, slip_min_days, now);
                }
                effect
            }
            Field::ActualOutcome => {
                // Right accepts like a shell's autosuggestion, since in a text field the
                // front end sends space as a character rather than Toggle.
                let accept = matches!(input, WizardInput::Toggle | WizardInput::Right)
                    && m.proposed_actual.is_some();
                let edits = matches!(input, WizardInput::Char(_) | WizardInput::Backspace);
                if !accept && !edits {
                    return WizardEffect::None;
                }
                // Accepting or editing a proposal turns it into the reviewer's own text.
                let mut text = m
                    .trace
                    .actual_outcome
                    .take()
                    .or_else(|| m.proposed_actual.take())
                    .unwrap_or_default();
                if edits {
                    edit_text(&mut text, input, false);
                }
                m.trace.actual_outcome = (!text.is_empty()).then_some(text);
                WizardEffect::Autosave
            }
            Field::MomentDate => {
                let effect = edit_text(&mut m.date_text, input, false);
                if effect == WizardEffect::Autosave
                    && let Some(at) = parse_date(&m.date_text)
                {
                    let id = m.trace.id.clone();
                    m.included = true;
                    m.trace.updated_at = now;
                    self.place_added(index, at);
                    self.moment_cursor = self
                        .moments
                        .iter()
                        .position(|m| m.trace.id == id)
                        .unwrap_or(index);
                }
                effect
            }
            _ => WizardEffect::None,
        };
        if effect == WizardEffect::Autosave
            && let Some(m) = self.moments.get_mut(self.moment_cursor)
        {
            // Writing about a moment means it is worth recording.
            m.included = true;
            m.trace.updated_at = now;
        }
        effect
    }

    /// Moves to the previous or next pair of the highlighted moment's state, dropping the row
    /// left behind if the reviewer emptied it (its pair is already gone from the state).
    fn move_state_cursor(&mut self, input: WizardInput) {
        let Some(m) = self.moments.get_mut(self.moment_cursor) else {
            return;
        };
        let rows = &mut m.state_rows;
        let last = rows.len().saturating_sub(1);
        let from = self.state_cursor.min(last);
        let mut to = if input == WizardInput::Up {
            from.saturating_sub(1)
        } else {
            (from + 1).min(last)
        };
        if to != from && from < last && rows[from].trim().is_empty() {
            rows.remove(from);
            if to > from {
                to -= 1;
            }
        }
        self.state_cursor = to;
    }

    fn edit_lessons(&mut self, field: Field, input: WizardInput) -> WizardEffect {
        let count = self.review.lesson_candidates.len();
        match input {
            WizardInput::Up => {
                self.lesson_cursor = self.lesson_cursor.saturating_sub(1);
                return WizardEffect::None;
            }
            WizardInput::Down => {
                self.lesson_cursor = (self.lesson_cursor + 1).min(count.saturating_sub(1));
                return WizardEffect::None;
            }
            _ => {}
        }
        let index = self.lesson_cursor;
        let Some(candidate) = self.review.lesson_candidates.get_mut(index) else {
            return WizardEffect::None;
        };
        match (field, input) {
            (Field::Lessons, WizardInput::Remove) => {
                self.review.lesson_candidates.remove(index);
                WizardEffect::Autosave
            }
            (Field::LessonText, _) => edit_text(&mut candidate.text, input, false),
            (Field::PatternKey, _) => {
                let mut key = candidate.pattern_key.take().unwrap_or_default();
                let effect = edit_text(&mut key, input, false);
                candidate.pattern_key = (!key.is_empty()).then_some(key);
                effect
            }
            _ => WizardEffect::None,
        }
    }

    // ----- validation -----

    /// Every validation problem, one sentence each, in step order (empty when ready to save).
    pub fn problems(&self) -> Vec<String> {
        self.all_problems().into_iter().map(|p| p.message).collect()
    }

    fn all_problems(&self) -> Vec<Problem> {
        [Step::Outcome, Step::Moments, Step::Lessons]
            .into_iter()
            .filter_map(|s| self.problem(s))
            .collect()
    }

    /// The first problem of a step. The rules:
    /// - Outcome: an outcome is chosen; for won or lost, `Taxonomy::check` passes (one primary,
    ///   known codes that explain the outcome, none twice, no retired code except those an
    ///   amended review already used); every selected reason whose taxonomy entry asks a detail
    ///   question has an answer, since "lost to a competitor" without the competitor teaches
    ///   nothing. An open deal needs no reason.
    /// - Moments: each included moment has a valid date (hand-added ones), a state whose every
    ///   row is a `key=value` pair with no key twice, an action, and an expected-by date that
    ///   parses and is not before the moment, when one is given.
    /// - Lessons: no candidate is empty.
    fn problem(&self, step: Step) -> Option<Problem> {
        match step {
            Step::Outcome => self.outcome_problem(),
            Step::Moments => self.moments_problem(),
            Step::Lessons => self
                .review
                .lesson_candidates
                .iter()
                .position(|c| c.text.trim().is_empty())
                .map(|i| Problem {
                    step,
                    message: format!("Write lesson {} or remove it.", i + 1),
                    field: Field::LessonText,
                    index: Some(i),
                }),
            Step::Summary => None,
        }
    }

    fn outcome_problem(&self) -> Option<Problem> {
        let problem = |message: String, field: Field, code: Option<&str>| {
            let index =
                code.and_then(|code| self.reason_options().iter().position(|o| o.code == code));
            Some(Problem {
                step: Step::Outcome,
                message,
                field,
                index,
            })
        };
        let Some(outcome) = self.review.outcome else {
            return problem(
                "Choose the outcome: won, lost or open.".to_owned(),
                Field::Outcome,
                None,
            );
        };
        let reasons = &self.review.reasons;
        if outcome == ReviewOutcome::Open && reasons.is_empty() {
            return None;
        }
        let label = |code: &str| self.taxonomy.label_of(code).to_owned();
        let checked = self.taxonomy.check(outcome, reasons, self.amends.is_some());
        if let Err(e) = checked {
            let (message, code) = match &e {
                ReasonProblem::NoPrimary if reasons.is_empty() => (
                    format!("Choose the main reason the deal was {}.", outcome.as_str()),
                    None,
                ),
                ReasonProblem::NoPrimary => (
                    "Mark one of the reasons as the primary one.".to_owned(),
                    None,
                ),
                ReasonProblem::SeveralPrimaries => {
                    ("Only one reason can be the primary one.".to_owned(), None)
                }
                ReasonProblem::Unknown(code) => (
                    format!("“{code}” is not in the reason taxonomy; remove it."),
                    Some(code.as_str()),
                ),
                ReasonProblem::WrongOutcome { code, outcome } => (
                    format!(
                        "“{}” does not explain a {outcome} deal; remove it.",
                        label(code)
                    ),
                    Some(code.as_str()),
                ),
                ReasonProblem::Retired(code) => (
                    format!("“{}” is retired; pick a current reason.", label(code)),
                    Some(code.as_str()),
                ),
                ReasonProblem::Repeated(code) => (
                    format!("“{}” is listed twice.", label(code)),
                    Some(code.as_str()),
                ),
            };
            return problem(message, Field::Reasons, code);
        }
        // An amendment may keep the retired reasons it had, not pick up new ones.
        if let Some(r) = reasons.iter().find(|r| {
            self.taxonomy.get(&r.code).is_some_and(|t| t.retired)
                && !self.kept_retired.contains(&r.code)
        }) {
            return problem(
                format!("“{}” is retired; pick a current reason.", label(&r.code)),
                Field::Reasons,
                Some(&r.code),
            );
        }
        for r in reasons {
            let Some(prompt) = self.taxonomy.get(&r.code).and_then(|t| t.detail.as_deref()) else {
                continue;
            };
            if r.detail.as_deref().is_none_or(|d| d.trim().is_empty()) {
                return problem(
                    format!("Answer “{prompt}” for “{}”.", label(&r.code)),
                    Field::ReasonDetail,
                    Some(&r.code),
                );
            }
        }
        None
    }

    fn moments_problem(&self) -> Option<Problem> {
        let problem = |message: String, field: Field, i: usize| {
            Some(Problem {
                step: Step::Moments,
                message,
                field,
                index: Some(i),
            })
        };
        for (i, m) in self.moments.iter().enumerate().filter(|(_, m)| m.included) {
            let name = moment_name(m);
            if m.moment.kind == MomentKind::Added && parse_date(&m.date_text).is_none() {
                return problem(
                    "Write the date of the added moment as YYYY-MM-DD.".to_owned(),
                    Field::MomentDate,
                    i,
                );
            }
            if let Err(bad) = parse_state(&m.state_rows, &m.trace.state, &BTreeMap::new()) {
                let message = match bad.problem {
                    StateProblem::NotAPair(pair) => {
                        format!("Write the state pair “{pair}” of {name} as key=value.")
                    }
                    StateProblem::Repeated(key) => {
                        format!("The state of {name} lists “{key}” twice; remove one.")
                    }
                };
                return problem(message, Field::State, i);
            }
            if m.trace.action.trim().is_empty() {
                return problem(format!("Say what was done at {name}."), Field::Action, i);
            }
            if m.expected_by_text.trim().is_empty() {
                continue;
            }
            match parse_date(&m.expected_by_text) {
                None => {
                    return problem(
                        format!("Write the expected-by date of {name} as YYYY-MM-DD."),
                        Field::ExpectedBy,
                        i,
                    );
                }
                // The date is midnight of its day: "by the day of the moment" is fine.
                Some(by) if by.as_second() + DAY <= m.moment.at.as_second() => {
                    return problem(
                        format!("The expected-by date of {name} is before the moment itself."),
                        Field::ExpectedBy,
                        i,
                    );
                }
                Some(_) => {}
            }
        }
        None
    }

    // ----- output -----

    /// What to autosave: the review (status draft, carrying the revision it will have when
    /// finalised) and one trace per included moment, each pointing at the review. This is the
    /// review's whole set of traces: the caller deletes saved traces of this review that are
    /// no longer in it (a moment left out or removed since the last save).
    pub fn draft(&self, now: Timestamp) -> (Review, Vec<DecisionTrace>) {
        let mut review = self.review.clone();
        review.status = ReviewStatus::Draft;
        review.revision = self.revision();
        review.updated_at = now;
        (review, self.traces())
    }

    /// The finished review (status final, revision per the module doc) and its traces, or the
    /// first validation problem.
    pub fn finalize(&self, now: Timestamp) -> Result<(Review, Vec<DecisionTrace>), String> {
        if let Some(problem) = self.all_problems().into_iter().next() {
            return Err(problem.message);
        }
        let mut review = self.review.clone();
        review.status = ReviewStatus::Final;
        review.revision = self.revision();
        review.updated_at = now;
        Ok((review, self.traces()))
    }

    fn traces(&self) -> Vec<DecisionTrace> {
        self.moments
            .iter()
            .filter(|m| m.included)
            .map(|m| {
                let mut t = m.trace.clone();
                t.review_id = Some(self.review.id.clone());
                t
            })
            .collect()
    }

    /// The Summary step as plain lines for the view: the outcome, the reasons with their
    /// labels, each recorded trace in two lines, the lesson candidates, and what still stops
    /// saving (or that it is ready).
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(old) = self.amends {
            lines.push(format!(
                "Amending revision {old} (saves as revision {}).",
                self.revision()
            ));
        }
        lines.push(format!(
            "Outcome: {}",
            self.review
                .outcome
                .map_or("not chosen", ReviewOutcome::as_str)
        ));
        let label = |code: &str| self.taxonomy.label_of(code).to_owned();
        let mut reasons: Vec<&ReasonEntry> = self.review.reasons.iter().collect();
        reasons.sort_by_key(|r| !r.primary);
        for r in reasons {
            let kind = if r.primary { "Primary reason" } else { "Also" };
            let detail = r
                .detail
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            lines.push(format!("{kind}: {}{detail}", label(&r.code)));
        }
        if !self.review.notes.trim().is_empty() {
            lines.push(format!("Notes: {}", sanitize_line(&self.review.notes)));
        }
        let included: Vec<&MomentDraft> = self.moments.iter().filter(|m| m.included).collect();
        lines.push(match included.len() {
            0 => "No decisions recorded.".to_owned(),
            1 => "1 decision recorded:".to_owned(),
            n => format!("{n} decisions recorded:"),
        });
        for m in included {
            lines.push(format!(
                "{} {}: {}",
                ymd(m.moment.at),
                m.moment.label,
                m.trace.action
            ));
            let mut second = Vec::new();
            if !m.trace.rationale.is_empty() {
                second.push(format!("why: {}", m.trace.rationale));
            }
            if !m.trace.expected_outcome.is_empty() || m.trace.expected_by.is_some() {
                let by = m
                    .trace
                    .expected_by
                    .map(|t| format!(" by {}", ymd(t)))
                    .unwrap_or_default();
                second.push(format!("expected: {}{by}", m.trace.expected_outcome));
            }
            second.push(match (&m.trace.actual_outcome, &m.proposed_actual) {
                (Some(actual), _) => format!("actual: {actual}"),
                (None, Some(proposal)) => format!("actual (proposed): {proposal}"),
                (None, None) => "actual: not known yet".to_owned(),
            });
            lines.push(format!("    {}", second.join("; ")));
        }
        match self.review.lesson_candidates.len() {
            0 => lines.push("No lesson candidates.".to_owned()),
            _ => {
                lines.push("Lesson candidates:".to_owned());
                for c in &self.review.lesson_candidates {
                    let key = c
                        .pattern_key
                        .as_deref()
                        .map(|k| format!(" [{k}]"))
                        .unwrap_or_default();
                    lines.push(format!("- {}{key}", c.text));
                }
            }
        }
        let problems = self.problems();
        if problems.is_empty() {
            lines.push("Ready to save.".to_owned());
        } else {
            lines.push("Before saving:".to_owned());
            lines.extend(problems.into_iter().map(|p| format!("- {p}")));
        }
        lines
    }
}

/// A moment's draft with its proposal of an actual outcome computed from the facts.
fn draft_for(
    moment: KeyMoment,
    included: bool,
    trace: DecisionTrace,
    detail: &DealDetail,
    slip_min_days: i64,
    now: Timestamp,
) -> MomentDraft {
    MomentDraft {
        date_text: ymd(moment.at),
        expected_by_text: trace.expected_by.map(ymd).unwrap_or_default(),
        state_rows: state_rows(&trace.state),
        proposed_actual: propose_actual(&trace, detail, slip_min_days, now),
        moment,
        included,
        trace,
    }
}

/// A state snapshot as rows to edit: one `key=value` per key, sorted by key, then an empty row
/// for a new pair. Reading the rows back with the same snapshot gives it back exactly.
pub fn state_rows(state: &BTreeMap<String, Value>) -> Vec<String> {
    state
        .iter()
        .map(|(k, v)| format!("{k}={}", state_value_text(v)))
        .chain(std::iter::once(String::new()))
        .collect()
}

/// A state value as the reviewer reads and types it: JSON literals for numbers, booleans and
/// null (whole numbers without ".0"), bare text for a string unless bare text would read back
/// as something else (`"42"`, `"true"`, leading spaces…), which is quoted as JSON.
pub fn state_value_text(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            // Amounts are stored as floats; "42000.0" is noise to a reader.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::String(s)
            if s.trim() == s && !s.chars().any(char::is_control) && parse_state_value(s) == *v =>
        {
            s.clone()
        }
        other => other.to_string(),
    }
}

/// Reads a typed value (already trimmed): a JSON literal where it is one, else the text.
fn parse_state_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Why a state's rows do not read as a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StateProblem {
    /// A row that is not `key=value` (no `=`, or nothing before it), as typed.
    NotAPair(String),
    /// A key on two rows.
    Repeated(String),
}

/// The first bad row of a state and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BadRow {
    row: usize,
    problem: StateProblem,
}

/// Reads state rows back into a snapshot (blank rows are skipped). A value whose text is
/// unchanged from `old`'s keeps `old`'s value exactly, so an untouched pair never changes type
/// or precision (an amount `42000.0` shown as `42000` stays a float); and a number typed for a
/// key that is a float in `old` or in the snapshot of the facts `facts` is a float, so a
/// retyped amount keeps its type even though its text went through empty on the way.
fn parse_state(
    rows: &[String],
    old: &BTreeMap<String, Value>,
    facts: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, BadRow> {
    let mut state = BTreeMap::new();
    for (row, text) in rows.iter().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let bad = |problem| Err(BadRow { row, problem });
        let Some((key, value)) = text.split_once('=') else {
            return bad(StateProblem::NotAPair(text.to_owned()));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return bad(StateProblem::NotAPair(text.to_owned()));
        }
        if state.contains_key(key) {
            return bad(StateProblem::Repeated(key.to_owned()));
        }
        let is_float = |v: Option<&Value>| v.is_some_and(Value::is_f64);
        let value = match (old.get(key), parse_state_value(value)) {
            (Some(was), _) if state_value_text(was) == value => was.clone(),
            (_, Value::Number(typed)) if is_float(old.get(key)) || is_float(facts.get(key)) => {
                typed
                    .as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Number(typed), Value::Number)
            }
            (_, typed) => typed,
        };
        state.insert(key.to_owned(), value);
    }
    Ok(state)
}

/// How validation messages name a moment: "“Entered Proposal” on 2026-01-31".
fn moment_name(m: &MomentDraft) -> String {
    if m.moment.kind == MomentKind::Added {
        format!("the moment added on {}", ymd(m.moment.at))
    } else {
        format!("“{}” on {}", m.moment.label, ymd(m.moment.at))
    }
}

/// 64-bit FNV-1a of `bytes` then `n`, from `seed`: a small stable hash for minting ids.
fn fnv1a(seed: u64, bytes: &[u8], n: u64) -> u64 {
    bytes
        .iter()
        .chain(n.to_le_bytes().iter())
        .fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// Types into or deletes from the end of a text field. Control characters are dropped (line
/// breaks only where `multiline`); returns `Autosave` when the text changed.
fn edit_text(text: &mut String, input: WizardInput, multiline: bool) -> WizardEffect {
    match input {
        WizardInput::Char(c) if c == '\n' && multiline => text.push(c),
        WizardInput::Char(c) if !c.is_control() => text.push(c),
        WizardInput::Backspace if text.pop().is_some() => {}
        _ => return WizardEffect::None,
    }
    WizardEffect::Autosave
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::fixtures::{day, lost_deal, open_deal};
    use WizardInput::*;

    fn now() -> Timestamp {
        day(120)
    }

    fn started() -> (Wizard, Taxonomy) {
        let taxonomy = Taxonomy::builtin();
        let w = Wizard::start(&lost_deal(), &taxonomy, "Morgan", "r1".into(), now(), 7);
        (w, taxonomy)
    }

    fn press(w: &mut Wizard, t: &Taxonomy, inputs: &[WizardInput]) -> Vec<WizardEffect> {
        inputs.iter().map(|i| w.handle(*i, t, now())).collect()
    }

    fn type_text(w: &mut Wizard, t: &Taxonomy, text: &str) -> Vec<WizardEffect> {
        text.chars().map(|c| w.handle(Char(c), t, now())).collect()
    }

    fn focus_on(w: &mut Wizard, t: &Taxonomy, field: Field) {
        for _ in 0..10 {
            if w.focus() == Some(field) {
                return;
            }
            w.handle(FocusNext, t, now());
        }
        panic!("{field:?} is not a field of {:?}", w.step());
    }

    /// Selects the reason with `code` from the reasons list.
    fn pick(w: &mut Wizard, t: &Taxonomy, code: &str) {
        focus_on(w, t, Field::Reasons);
        press(w, t, &[Up; 30]);
        let at = w
            .reason_options()
            .iter()
            .position(|o| o.code == code)
            .expect("offered");
        press(w, t, &vec![Down; at]);
        assert_eq!(w.handle(Toggle, t, now()), WizardEffect::Autosave);
    }

    #[test]
    fn a_closed_deal_starts_on_its_reasons_with_the_outcome_filled_in() {
        let (w, _) = started();
        assert_eq!(w.step(), Step::Outcome);
        assert_eq!(w.focus(), Some(Field::Reasons));
        assert!(!w.is_typing());
        assert_eq!(w.review().outcome, Some(ReviewOutcome::Lost));
        assert_eq!(w.review().status, ReviewStatus::Draft);
        assert_eq!(w.review().id, "r1");
        assert_eq!(w.moments().len(), 7);
        assert!(w.moments().iter().all(|m| !m.included));
        let first = &w.moments()[0];
        assert_eq!(first.moment.label, "Entered Demo");
        assert_eq!(first.trace.actor, "Riley Chen");
        assert_eq!(first.trace.recommendation, None);
        assert_eq!(first.trace.state, state_at(&lost_deal(), day(10), 7));
        assert_eq!(
            first.trace.stage_id.as_ref().map(|s| s.as_str()),
            Some("demo")
        );
        // Nothing is saved for moments the reviewer has not taken up.
        assert!(w.draft(now()).1.is_empty());

        let open = Wizard::start(
            &open_deal(),
            &Taxonomy::builtin(),
            "M",
            "r".into(),
            day(50),
            7,
        );
        assert_eq!(open.review().outcome, Some(ReviewOutcome::Open));
        assert_eq!(open.focus(), Some(Field::Outcome));
        assert_eq!(open.fields(), vec![Field::Outcome, Field::Notes]);
    }

    #[test]
    fn a_trace_carries_the_recommendation_shown_before_it_and_whether_it_was_followed() {
        let mut deal = lost_deal();
        // Shown on day 5, before every key moment of the deal.
        deal.recommendations
            .push(crate::domain::RecommendationRecord {
                deal_id: deal.summary.id.clone(),
                lesson_id: "l1".into(),
                lesson_version: 2,
                text: "Bring a second stakeholder into a two-way conversation".into(),
                shown_at: day(5),
                followed: None,
                followed_source: None,
                followed_at: None,
            });
        let t = Taxonomy::builtin();
        let mut w = Wizard::start(&deal, &t, "Morgan", "r1".into(), now(), 7);
        let first = &w.moments()[0];
        assert_eq!(
            first
                .trace
                .recommendation
                .as_ref()
                .map(|r| r.lesson_id.as_str()),
            Some("l1")
        );
        // Shown after a decision, it is not what that decision had before it.
        assert_eq!(deal.recommended_at(day(4)), None);
        pick(&mut w, &t, "no_decision");
        w.handle(NextStep, &t, now());
        assert_eq!(w.step(), Step::Moments);
        assert!(w.fields().contains(&Field::Followed));
        focus_on(&mut w, &t, Field::Followed);
        assert!(!w.is_typing(), "letters are commands on the selector");
        assert_eq!(w.field_text(Field::Followed).as_deref(), Some("not known"));
        assert_eq!(w.handle(Toggle, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.field_text(Field::Followed).as_deref(), Some("yes"));
        assert_eq!(w.handle(Toggle, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.moments()[0].trace.followed, Some(false));
        assert_eq!(w.handle(Left, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.moments()[0].trace.followed, Some(true));
        // Without a recommendation there is no such field.
        let (plain, _) = started();
        assert!(
            plain
                .moments()
                .iter()
                .all(|m| m.trace.recommendation.is_none())
        );
    }

    #[test]
    fn a_loss_reason_takes_a_handful_of_keys() {
        let (mut w, t) = started();
        let effects = press(&mut w, &t, &[Toggle, NextStep, NextStep, NextStep, Save]);
        assert_eq!(
            effects,
            vec![
                WizardEffect::Autosave,
                WizardEffect::None,
                WizardEffect::None,
                WizardEffect::None,
                WizardEffect::Finalize
            ]
        );
        let (review, traces) = w.finalize(now()).expect("valid");
        assert_eq!(review.status, ReviewStatus::Final);
        assert_eq!(review.revision, 0);
        assert_eq!(
            review.reasons,
            vec![ReasonEntry {
                code: "no_decision".into(),
                detail: None,
                primary: true
            }]
        );
        assert!(traces.is_empty());
    }

    fn primaries(w: &Wizard) -> Vec<(&str, bool)> {
        w.review()
            .reasons
            .iter()
            .map(|r| (r.code.as_str(), r.primary))
            .collect()
    }

    #[test]
    fn reasons_toggle_mark_primary_and_keep_exactly_one_primary() {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        pick(&mut w, &t, "timing");
        let primary = primaries(&w);
        assert_eq!(primary, vec![("price", true), ("timing", false)]);
        assert_eq!(w.handle(MarkPrimary, &t, now()), WizardEffect::Autosave);
        let primary = primaries(&w);
        assert_eq!(primary, vec![("price", false), ("timing", true)]);
        // Unselecting the primary hands the role to the first one left.
        assert_eq!(w.handle(Toggle, &t, now()), WizardEffect::Autosave);
        let primary = primaries(&w);
        assert_eq!(primary, vec![("price", true)]);
    }

    #[test]
    fn refusals_say_what_is_missing_in_one_sentence() {
        let (mut w, t) = started();
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Choose the main reason the deal was lost.")
        );
        assert_eq!(w.step(), Step::Outcome);

        // A reason that asks a question needs its answer; the focus goes to it.
        pick(&mut w, &t, "lost_to_competitor");
        assert_eq!(w.message(), None, "the next input clears the message");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Answer “Which competitor?” for “Lost to a competitor”.")
        );
        assert_eq!(w.focus(), Some(Field::ReasonDetail));
        assert!(w.is_typing());
        assert!(
            type_text(&mut w, &t, "Quantivo")
                .iter()
                .all(|e| *e == WizardEffect::Autosave)
        );
        assert_eq!(
            w.field_text(Field::ReasonDetail).as_deref(),
            Some("Quantivo")
        );
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);
        assert_eq!(w.step(), Step::Moments);

        // An included moment needs an action.
        assert_eq!(w.handle(Toggle, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Say what was done at “Entered Demo” on 2026-01-11.")
        );
        assert_eq!(w.focus(), Some(Field::Action));
        type_text(&mut w, &t, "Ran the demo for ops only");

        // An expected-by date must parse and not precede the moment.
        focus_on(&mut w, &t, Field::ExpectedBy);
        type_text(&mut w, &t, "2026-13-01");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Write the expected-by date of “Entered Demo” on 2026-01-11 as YYYY-MM-DD.")
        );
        press(&mut w, &t, &[Backspace; 10]);
        type_text(&mut w, &t, "2025-12-31");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some(
                "The expected-by date of “Entered Demo” on 2026-01-11 is before the moment itself."
            )
        );
        press(&mut w, &t, &[Backspace; 10]);
        type_text(&mut w, &t, "2026-01-11");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);

        // No empty lesson.
        assert_eq!(w.step(), Step::Lessons);
        assert_eq!(w.handle(Add, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.focus(), Some(Field::LessonText));
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(w.message(), Some("Write lesson 1 or remove it."));
        focus_on(&mut w, &t, Field::Lessons);
        assert_eq!(w.handle(Remove, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);
        assert_eq!(w.step(), Step::Summary);
        assert_eq!(w.focus(), None);
        assert_eq!(w.handle(Save, &t, now()), WizardEffect::Finalize);
    }

    #[test]
    fn a_missing_primary_and_a_retired_reason_are_refused() {
        let mut t = Taxonomy::builtin();
        let (w, _) = started();
        let (mut draft, traces) = w.draft(now());
        draft.reasons = vec![ReasonEntry {
            code: "price".into(),
            detail: None,
            primary: false,
        }];
        let mut resumed = Wizard::resume(&lost_deal(), draft.clone(), traces.clone(), &t, now(), 7);
        assert_eq!(resumed.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            resumed.message(),
            Some("Mark one of the reasons as the primary one.")
        );

        draft.reasons[0].primary = true;
        if let Some(r) = t.reasons.iter_mut().find(|r| r.code == "price") {
            r.retired = true;
        }
        let mut resumed = Wizard::resume(&lost_deal(), draft.clone(), traces.clone(), &t, now(), 7);
        assert_eq!(resumed.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            resumed.message(),
            Some("“Price” is retired; pick a current reason.")
        );
        // It stays visible (so it can be unselected) but is no longer offered to new picks.
        let price = resumed
            .reason_options()
            .into_iter()
            .find(|o| o.code == "price");
        assert!(price.is_some_and(|o| o.retired && o.selected));
        assert_eq!(resumed.focus(), Some(Field::Reasons));
        assert_eq!(resumed.handle(Toggle, &t, now()), WizardEffect::Autosave);
        assert!(!resumed.reason_options().iter().any(|o| o.code == "price"));

        // An amendment may keep the retired reason its final version already used.
        let mut final_review = draft;
        final_review.status = ReviewStatus::Final;
        let mut amending = Wizard::amend(&lost_deal(), final_review, traces, &t, now(), 7);
        assert_eq!(amending.handle(NextStep, &t, now()), WizardEffect::None);
        assert_eq!(amending.step(), Step::Moments);
    }

    #[test]
    fn going_back_and_forth_keeps_everything() {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        focus_on(&mut w, &t, Field::Notes);
        type_text(&mut w, &t, "CFO never engaged");
        press(
            &mut w,
            &t,
            &[NextStep, Down, Down, Toggle, FocusNext, FocusNext],
        );
        type_text(&mut w, &t, "Sent proposal");
        press(&mut w, &t, &[NextStep, Add]);
        type_text(&mut w, &t, "Reach the CFO before Proposal");
        let before = w.draft(now());
        assert_eq!(w.handle(PrevStep, &t, now()), WizardEffect::None);
        assert_eq!(w.step(), Step::Moments);
        press(&mut w, &t, &[PrevStep, PrevStep]);
        assert_eq!(w.step(), Step::Outcome);
        assert_eq!(w.handle(PrevStep, &t, now()), WizardEffect::None);
        assert_eq!(w.draft(now()), before);
        press(&mut w, &t, &[NextStep, NextStep, NextStep]);
        assert_eq!(w.step(), Step::Summary);
        assert_eq!(w.draft(now()), before);
        assert_eq!(w.review().notes, "CFO never engaged");
        assert_eq!(before.1.len(), 1);
        assert_eq!(before.1[0].action, "Sent proposal");
        assert_eq!(before.1[0].at, day(30));
        assert_eq!(before.1[0].review_id.as_deref(), Some("r1"));
    }

    #[test]
    fn every_content_change_autosaves_and_navigation_does_not() {
        let (mut w, t) = started();
        let cases: Vec<(WizardInput, WizardEffect)> = vec![
            (Down, WizardEffect::None),
            (Char('x'), WizardEffect::None), // typing in a list is ignored
            (Up, WizardEffect::None),
            (Toggle, WizardEffect::Autosave),
            (MarkPrimary, WizardEffect::None), // already the primary one
            (Down, WizardEffect::None),
            (Down, WizardEffect::None),
            (MarkPrimary, WizardEffect::Autosave),
            (FocusPrev, WizardEffect::None),
            (Right, WizardEffect::Autosave), // the outcome selector
            (Left, WizardEffect::Autosave),
            (FocusNext, WizardEffect::None),
            (FocusNext, WizardEffect::None),
            (FocusNext, WizardEffect::None), // notes
            (Char('a'), WizardEffect::Autosave),
            (Backspace, WizardEffect::Autosave),
            (Backspace, WizardEffect::None), // nothing left to delete
            (Char('\u{1b}'), WizardEffect::None),
            (NextStep, WizardEffect::None),
            (Toggle, WizardEffect::Autosave),
            (FocusNext, WizardEffect::None), // the state
            (FocusNext, WizardEffect::None),
            (Char('a'), WizardEffect::Autosave),
            (FocusNext, WizardEffect::None),
            (Char('b'), WizardEffect::Autosave),
            (FocusNext, WizardEffect::None),
            (Char('c'), WizardEffect::Autosave),
            (FocusNext, WizardEffect::None),
            (Char('2'), WizardEffect::Autosave),
            (FocusNext, WizardEffect::None),
            (Char('d'), WizardEffect::Autosave),
            (Add, WizardEffect::Autosave),
            (Backspace, WizardEffect::Autosave), // the new moment's date
            (NextStep, WizardEffect::Invalid),
            (Char('1'), WizardEffect::Autosave),
            (Save, WizardEffect::Autosave), // Save before the Summary saves the draft
        ];
        for (i, (input, effect)) in cases.into_iter().enumerate() {
            assert_eq!(w.handle(input, &t, now()), effect, "input {i}: {input:?}");
        }
    }

    #[test]
    fn changing_the_outcome_sets_reasons_aside_and_brings_them_back() {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        focus_on(&mut w, &t, Field::Outcome);
        assert_eq!(w.handle(Right, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.review().outcome, Some(ReviewOutcome::Open));
        assert!(w.review().reasons.is_empty());
        assert_eq!(w.fields(), vec![Field::Outcome, Field::Notes]);
        press(&mut w, &t, &[Right]);
        assert_eq!(w.review().outcome, Some(ReviewOutcome::Won));
        assert!(w.reason_options().iter().all(|o| !o.selected));
        press(&mut w, &t, &[Right]);
        assert_eq!(w.review().outcome, Some(ReviewOutcome::Lost));
        assert_eq!(w.review().reasons.len(), 1);
        assert!(w.review().reasons[0].primary);
        // An open deal needs no reason.
        press(&mut w, &t, &[Right]);
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);
    }

    #[test]
    fn typing_a_detail_selects_the_reason_and_typing_on_a_moment_includes_it() {
        let (mut w, t) = started();
        press(&mut w, &t, &[Down, FocusNext]);
        assert_eq!(w.focus(), Some(Field::ReasonDetail));
        assert_eq!(w.handle(Backspace, &t, now()), WizardEffect::None);
        type_text(&mut w, &t, "Quantivo");
        assert_eq!(
            w.review().reasons,
            vec![ReasonEntry {
                code: "lost_to_competitor".into(),
                detail: Some("Quantivo".into()),
                primary: true
            }]
        );
        press(&mut w, &t, &[NextStep, FocusNext, FocusNext]);
        assert_eq!(w.focus(), Some(Field::Action));
        type_text(&mut w, &t, "x");
        assert!(w.moments()[0].included);
        // Up/Down from a field moves to the next moment and keeps the field.
        press(&mut w, &t, &[Down]);
        assert_eq!((w.moment_cursor(), w.focus()), (1, Some(Field::Action)));
    }

    #[test]
    fn a_proposed_actual_outcome_appears_after_expected_by_and_is_accepted_or_edited() {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        press(&mut w, &t, &[NextStep, Down, Down, FocusNext, FocusNext]);
        type_text(&mut w, &t, "Sent the proposal");
        focus_on(&mut w, &t, Field::ExpectedBy);
        type_text(&mut w, &t, "2026-12-31");
        assert_eq!(
            w.moments()[2].proposed_actual,
            None,
            "not due yet at day 120"
        );
        press(&mut w, &t, &[Backspace; 10]);
        type_text(&mut w, &t, "2026-03-02");
        let proposal = w.moments()[2].proposed_actual.clone().expect("due");
        assert!(
            proposal.starts_with("By 2026-03-02 it was in Proposal"),
            "{proposal}"
        );
        assert_eq!(
            w.moments()[2].trace.actual_outcome,
            None,
            "not saved until accepted"
        );
        focus_on(&mut w, &t, Field::ActualOutcome);
        assert_eq!(w.field_text(Field::ActualOutcome), Some(proposal.clone()));
        let mut edited = w.clone();
        assert_eq!(w.handle(Right, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.moments()[2].trace.actual_outcome, Some(proposal.clone()));
        assert_eq!(w.moments()[2].proposed_actual, None);
        assert_eq!(w.draft(now()).1[0].actual_outcome, Some(proposal.clone()));
        // Typing edits the proposal rather than starting from nothing.
        press(&mut edited, &t, &[Backspace]);
        assert_eq!(
            edited.moments()[2].trace.actual_outcome.as_deref(),
            proposal.strip_suffix('.')
        );
    }

    #[test]
    fn added_moments_take_a_date_and_a_snapshot_and_can_be_removed() {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        press(&mut w, &t, &[NextStep, Down, Down]);
        assert_eq!(w.handle(Add, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.focus(), Some(Field::MomentDate));
        let added = w.moments()[w.moment_cursor()].clone();
        assert_eq!(added.moment.kind, MomentKind::Added);
        assert_eq!(added.date_text, "2026-01-31");
        assert!(added.included);
        press(&mut w, &t, &[Backspace, Backspace]);
        type_text(&mut w, &t, "20"); // 2026-01-20
        let m = &w.moments()[w.moment_cursor()];
        assert_eq!(m.trace.id, added.trace.id);
        assert_eq!(ymd(m.moment.at), "2026-01-20");
        assert_eq!(m.trace.stage_id.as_ref().map(|s| s.as_str()), Some("demo"));
        assert_eq!(m.trace.state, state_at(&lost_deal(), m.moment.at, 7));
        assert!(
            w.moments()
                .windows(2)
                .all(|p| p[0].moment.at <= p[1].moment.at)
        );
        assert_eq!(w.fields()[1], Field::MomentDate);

        focus_on(&mut w, &t, Field::MomentList);
        let cursor = w.moment_cursor();
        assert_eq!(w.handle(Remove, &t, now()), WizardEffect::Autosave);
        assert_eq!(w.moments().len(), 7);
        assert!(w.moments().iter().all(|m| m.trace.id != added.trace.id));
        press(&mut w, &t, &[Up; 10]);
        assert_eq!(w.handle(Remove, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("A proposed moment cannot be removed; toggle it to leave it out.")
        );
        assert!(cursor > 0);
    }

    #[test]
    fn trace_ids_are_deterministic_unique_uuid_v7() {
        let (w, _) = started();
        let (again, _) = started();
        let ids: BTreeSet<&str> = w.moments().iter().map(|m| m.trace.id.as_str()).collect();
        assert_eq!(ids.len(), w.moments().len());
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).expect("a uuid");
            assert_eq!(uuid.get_version_num(), 7);
        }
        assert_eq!(
            w.moments().iter().map(|m| &m.trace.id).collect::<Vec<_>>(),
            again
                .moments()
                .iter()
                .map(|m| &m.trace.id)
                .collect::<Vec<_>>()
        );
    }

    /// A wizard with something in every part of it.
    fn filled() -> (Wizard, Taxonomy) {
        let (mut w, t) = started();
        pick(&mut w, &t, "lost_to_competitor");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "Quantivo");
        pick(&mut w, &t, "price");
        focus_on(&mut w, &t, Field::Notes);
        type_text(&mut w, &t, "Single-threaded\nthrough Sam");
        press(&mut w, &t, &[NextStep, Down, Toggle, FocusNext, FocusNext]);
        type_text(&mut w, &t, "Asked Sam to bring the CFO");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "Budget sits with her");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "CFO in the next call");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "2026-02-01");
        press(&mut w, &t, &[FocusNext, Right, Add]);
        press(&mut w, &t, &[Backspace]);
        type_text(&mut w, &t, "5"); // 2026-01-25
        press(&mut w, &t, &[FocusNext, FocusNext]);
        type_text(&mut w, &t, "Skipped the security review");
        press(&mut w, &t, &[NextStep, Add]);
        type_text(&mut w, &t, "Meet the economic buyer before Proposal");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "lost/proposal/no_eb");
        (w, t)
    }

    #[test]
    fn a_saved_draft_resumes_exactly_as_it_was_typed() {
        let (w, t) = filled();
        let (review, traces) = w.draft(now());
        assert_eq!(traces.len(), 2);
        assert!(traces.iter().any(|tr| tr.actual_outcome.is_some()));
        let later = day(121);
        let resumed = Wizard::resume(&lost_deal(), review.clone(), traces.clone(), &t, later, 7);
        assert_eq!(resumed.draft(now()), (review.clone(), traces.clone()));
        assert_eq!(resumed.amends(), None);
        assert_eq!(resumed.step(), Step::Outcome);
        let shape = |w: &Wizard| {
            w.moments()
                .iter()
                .map(|m| {
                    (
                        m.moment.clone(),
                        m.included,
                        m.included.then(|| m.trace.clone()),
                        m.expected_by_text.clone(),
                        m.date_text.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(&resumed), shape(&w));
        assert_eq!(resumed.summary_lines(), w.summary_lines());
        // Reopened in the same millisecond, the ids minted for left-out moments still differ
        // from the saved ones.
        let same_instant = Wizard::resume(&lost_deal(), review, traces, &t, now(), 7);
        let ids: BTreeSet<&str> = same_instant
            .moments()
            .iter()
            .map(|m| m.trace.id.as_str())
            .collect();
        assert_eq!(ids.len(), same_instant.moments().len());
    }

    #[test]
    fn amending_a_final_review_keeps_its_id_and_bumps_the_revision() {
        let (mut w, t) = filled();
        press(&mut w, &t, &[NextStep]);
        assert_eq!(w.handle(Save, &t, now()), WizardEffect::Finalize);
        let (final_review, traces) = w.finalize(now()).expect("valid");
        assert_eq!(
            (final_review.status, final_review.revision),
            (ReviewStatus::Final, 0)
        );

        let mut amending = Wizard::amend(
            &lost_deal(),
            final_review.clone(),
            traces.clone(),
            &t,
            now(),
            7,
        );
        assert_eq!(amending.amends(), Some(0));
        let (draft, draft_traces) = amending.draft(now());
        assert_eq!(draft.id, final_review.id);
        assert_eq!((draft.status, draft.revision), (ReviewStatus::Draft, 1));
        assert_eq!(draft_traces, traces, "the same traces, the same ids");
        assert_eq!(draft.reasons, final_review.reasons);

        // A draft of an amendment resumes as an amendment.
        let resumed = Wizard::resume(&lost_deal(), draft, draft_traces, &t, now(), 7);
        assert_eq!(resumed.amends(), Some(0));

        focus_on(&mut amending, &t, Field::Notes);
        type_text(&mut amending, &t, "!");
        press(&mut amending, &t, &[NextStep, NextStep, NextStep]);
        assert_eq!(amending.handle(Save, &t, now()), WizardEffect::Finalize);
        let (second, _) = amending.finalize(now()).expect("valid");
        assert_eq!(
            (second.id.as_str(), second.status, second.revision),
            ("r1", ReviewStatus::Final, 1)
        );
        let third = Wizard::amend(&lost_deal(), second, vec![], &t, now(), 7);
        assert_eq!(third.finalize(now()).map(|(r, _)| r.revision), Ok(2));
    }

    #[test]
    fn save_on_the_summary_sends_the_reviewer_to_the_first_problem() {
        let (mut w, t) = filled();
        press(&mut w, &t, &[NextStep]);
        assert_eq!(w.step(), Step::Summary);
        // Break the Outcome step behind the reviewer's back: finalising must still check it.
        w.review.reasons.clear();
        assert_eq!(w.handle(Save, &t, now()), WizardEffect::Invalid);
        assert_eq!(w.step(), Step::Outcome);
        assert_eq!(
            w.message(),
            Some("Choose the main reason the deal was lost.")
        );
        assert_eq!(
            w.finalize(now()),
            Err("Choose the main reason the deal was lost.".to_owned())
        );
    }

    #[test]
    fn the_summary_lists_outcome_reasons_traces_lessons_and_problems() {
        let (w, _) = filled();
        let lines = w.summary_lines();
        let expect = [
            "Outcome: lost",
            "Primary reason: Lost to a competitor — Quantivo",
            "Also: Price",
            "Notes: Single-threaded through Sam",
            "2 decisions recorded:",
            "2026-01-21 Dana Ortiz (CFO, economic buyer) joined: Asked Sam to bring the CFO",
            "2026-01-25 Moment added by the reviewer: Skipped the security review",
            "    actual: not known yet",
            "Lesson candidates:",
            "- Meet the economic buyer before Proposal [lost/proposal/no_eb]",
            "Ready to save.",
        ];
        for line in expect {
            assert!(
                lines.iter().any(|l| l == line),
                "missing {line:?} in {lines:#?}"
            );
        }
        let second = lines
            .iter()
            .find(|l| l.starts_with("    why: Budget sits with her; expected: CFO in the next call by 2026-02-01; actual: By 2026-02-01"));
        assert!(second.is_some(), "{lines:#?}");
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(
            parse_date("2026-01-11"),
            Some(crate::domain::time::from_unix(1_768_089_600))
        );
        assert_eq!(
            parse_date(" 2026-01-11 ").map(ymd).as_deref(),
            Some("2026-01-11")
        );
        for bad in [
            "2026-1-11",
            "2026-02-30",
            "20260111",
            "2026-01-11T00:00",
            "",
            "abcd-ef-gh",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    // ----- the state snapshot -----

    /// Puts the state cursor on the pair whose key is `key` (or the empty last row for "").
    fn to_pair(w: &mut Wizard, t: &Taxonomy, key: &str) {
        focus_on(w, t, Field::State);
        press(w, t, &[Up; 30]);
        for _ in 0..30 {
            let text = w.field_text(Field::State).unwrap_or_default();
            let here = match key {
                "" => {
                    text.is_empty()
                        && w.state_cursor() + 1 == w.moments()[w.moment_cursor()].state_rows.len()
                }
                _ => text.split_once('=').is_some_and(|(k, _)| k == key),
            };
            if here {
                return;
            }
            press(w, t, &[Down]);
        }
        panic!(
            "no pair {key:?} in {:?}",
            w.moments()[w.moment_cursor()].state_rows
        );
    }

    /// Replaces the value of the highlighted pair by `value`, as a reviewer would.
    fn retype_value(w: &mut Wizard, t: &Taxonomy, value: &str) {
        let text = w.field_text(Field::State).unwrap_or_default();
        let old = text.split_once('=').map_or("", |(_, v)| v);
        press(w, t, &vec![Backspace; old.chars().count()]);
        type_text(w, t, value);
    }

    /// On the Moments step, the first moment highlighted ("Entered Demo" on day 10).
    fn on_moments() -> (Wizard, Taxonomy) {
        let (mut w, t) = started();
        pick(&mut w, &t, "price");
        press(&mut w, &t, &[NextStep]);
        (w, t)
    }

    #[test]
    fn the_state_sits_between_the_list_and_the_action_one_pair_per_row() {
        let (mut w, t) = on_moments();
        assert_eq!(
            w.fields(),
            vec![
                Field::MomentList,
                Field::State,
                Field::Action,
                Field::Rationale,
                Field::ExpectedOutcome,
                Field::ExpectedBy,
                Field::ActualOutcome
            ]
        );
        press(&mut w, &t, &[FocusNext]);
        assert_eq!(w.focus(), Some(Field::State));
        assert!(w.is_typing());
        let m = &w.moments()[0];
        assert_eq!(m.state_rows.len(), m.trace.state.len() + 1);
        assert_eq!(m.state_rows.last().map(String::as_str), Some(""));
        assert_eq!(
            w.field_text(Field::State).as_deref(),
            Some("activities_last_30d=1")
        );
        // Whole amounts read without ".0"; text is bare; booleans are literals.
        for row in ["amount=60000", "stage=Demo", "single_threaded=true"] {
            assert!(
                m.state_rows.iter().any(|r| r == row),
                "{row} in {:?}",
                m.state_rows
            );
        }
        // Up/Down pick pairs here, not moments.
        press(&mut w, &t, &[Down, Down]);
        assert_eq!((w.moment_cursor(), w.state_cursor()), (0, 2));
        assert!(
            w.field_text(Field::State)
                .is_some_and(|p| p.starts_with("close_date="))
        );
    }

    #[test]
    fn two_tabs_from_the_list_reach_the_action_and_three_back_tabs_return() {
        let (mut w, t) = on_moments();
        press(&mut w, &t, &[Toggle, FocusNext, FocusNext]);
        assert_eq!(w.focus(), Some(Field::Action));
        type_text(&mut w, &t, "Booked the CTO demo");
        press(&mut w, &t, &[FocusNext]);
        type_text(&mut w, &t, "CTO owns the budget");
        press(&mut w, &t, &[FocusPrev, FocusPrev, FocusPrev]);
        assert_eq!(w.focus(), Some(Field::MomentList));
        press(&mut w, &t, &[Down, Toggle, FocusNext, FocusNext]);
        type_text(&mut w, &t, "Sent the ROI case to finance");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);
        let traces = w.draft(now()).1;
        let actions: Vec<&str> = traces.iter().map(|t| t.action.as_str()).collect();
        assert_eq!(
            actions,
            ["Booked the CTO demo", "Sent the ROI case to finance"]
        );
        assert!(
            traces
                .iter()
                .all(|tr| tr.state == state_at(&lost_deal(), tr.at, 7))
        );
    }

    #[test]
    fn editing_a_value_types_it_and_includes_the_moment() {
        let (mut w, t) = on_moments();
        to_pair(&mut w, &t, "amount");
        retype_value(&mut w, &t, "45000");
        to_pair(&mut w, &t, "stage");
        retype_value(&mut w, &t, "Proposal");
        to_pair(&mut w, &t, "single_threaded");
        retype_value(&mut w, &t, "false");
        to_pair(&mut w, &t, "close_date");
        retype_value(&mut w, &t, "null");
        to_pair(&mut w, &t, "stage_id");
        retype_value(&mut w, &t, "\"42\"");
        let m = &w.moments()[0];
        assert!(m.included, "editing the state records the moment");
        let state = &m.trace.state;
        assert_eq!(
            state["amount"],
            serde_json::json!(45000.0),
            "an amount stays a float"
        );
        assert_eq!(state["stage"], serde_json::json!("Proposal"));
        assert_eq!(state["single_threaded"], serde_json::json!(false));
        assert_eq!(state["close_date"], Value::Null);
        assert_eq!(
            state["stage_id"],
            serde_json::json!("42"),
            "quoted: a string"
        );
        // The pairs nobody touched are exactly the snapshot's.
        let then = state_at(&lost_deal(), day(10), 7);
        for (k, v) in state {
            if ![
                "amount",
                "stage",
                "single_threaded",
                "close_date",
                "stage_id",
            ]
            .contains(&k.as_str())
            {
                assert_eq!(Some(v), then.get(k), "{k}");
            }
        }
        assert_eq!(state.len(), then.len());
        assert_eq!(w.draft(now()).1[0].state, *state);
    }

    #[test]
    fn a_pair_emptied_is_removed_and_one_typed_on_the_last_row_is_added() {
        let (mut w, t) = on_moments();
        let keys = w.moments()[0].trace.state.len();
        to_pair(&mut w, &t, "stage_id");
        let row = w.state_cursor();
        let len = w.field_text(Field::State).map_or(0, |p| p.chars().count());
        let effects = press(&mut w, &t, &vec![Backspace; len]);
        assert!(effects.iter().all(|e| *e == WizardEffect::Autosave));
        assert!(!w.moments()[0].trace.state.contains_key("stage_id"));
        assert_eq!(w.moments()[0].trace.state.len(), keys - 1);
        // The emptied row stays while the cursor is on it (to retype a pair), then goes.
        assert_eq!(w.moments()[0].state_rows.len(), keys + 1);
        press(&mut w, &t, &[Down]);
        assert_eq!(w.moments()[0].state_rows.len(), keys);
        assert_eq!(w.state_cursor(), row);

        to_pair(&mut w, &t, "");
        type_text(&mut w, &t, "champion=Sam Ortiz");
        let m = &w.moments()[0];
        assert_eq!(m.trace.state["champion"], serde_json::json!("Sam Ortiz"));
        assert_eq!(m.trace.state.len(), keys);
        assert_eq!(
            m.state_rows.last().map(String::as_str),
            Some(""),
            "a new empty row"
        );
        let draft = w.draft(now());
        assert_eq!(draft.1[0].state["champion"], serde_json::json!("Sam Ortiz"));
    }

    #[test]
    fn a_malformed_pair_is_refused_naming_it_with_the_focus_on_it() {
        let (mut w, t) = on_moments();
        let then = state_at(&lost_deal(), day(10), 7);
        to_pair(&mut w, &t, "");
        let bad_row = w.state_cursor();
        type_text(&mut w, &t, "champ");
        assert_eq!(
            w.moments()[0].trace.state,
            then,
            "a half-typed pair changes nothing"
        );
        assert_eq!(w.field_text(Field::State).as_deref(), Some("champ"));
        focus_on(&mut w, &t, Field::Action);
        type_text(&mut w, &t, "Ran the demo");
        press(&mut w, &t, &[Up; 30]);
        focus_on(&mut w, &t, Field::MomentList);
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Write the state pair “champ” of “Entered Demo” on 2026-01-11 as key=value.")
        );
        assert_eq!((w.step(), w.focus()), (Step::Moments, Some(Field::State)));
        assert_eq!((w.moment_cursor(), w.state_cursor()), (0, bad_row));
        assert_eq!(
            w.finalize(now()).map(|_| ()),
            Err(w.message().unwrap_or("").to_owned())
        );

        // A key with no name, and a key twice, are refused the same way.
        type_text(&mut w, &t, "ion");
        press(&mut w, &t, &[Backspace; 9]);
        type_text(&mut w, &t, "=Sam");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("Write the state pair “=Sam” of “Entered Demo” on 2026-01-11 as key=value.")
        );
        press(&mut w, &t, &[Backspace; 4]);
        type_text(&mut w, &t, "amount=1");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::Invalid);
        assert_eq!(
            w.message(),
            Some("The state of “Entered Demo” on 2026-01-11 lists “amount” twice; remove one.")
        );
        assert_eq!(w.moments()[0].trace.state, then);
        press(&mut w, &t, &[Backspace; 8]);
        type_text(&mut w, &t, "champion=Sam");
        assert_eq!(w.handle(NextStep, &t, now()), WizardEffect::None);
        assert_eq!(w.step(), Step::Lessons);
    }

    #[test]
    fn a_half_typed_state_survives_autosave_and_resume() {
        let (mut w, t) = on_moments();
        to_pair(&mut w, &t, "amount");
        retype_value(&mut w, &t, "4"); // on the way to 45000
        to_pair(&mut w, &t, "");
        type_text(&mut w, &t, "champion=Sa");
        let (review, traces) = w.draft(now());
        let resumed = Wizard::resume(&lost_deal(), review.clone(), traces.clone(), &t, now(), 7);
        assert_eq!(resumed.draft(now()), (review.clone(), traces.clone()));
        let rows = |w: &Wizard| {
            let mut rows = w.moments()[0].state_rows.clone();
            rows.sort();
            rows
        };
        // The same pairs, the same text; a resumed state is listed in key order.
        assert_eq!(rows(&resumed), rows(&w));
        let m = &resumed.moments()[0];
        assert!(m.state_rows.iter().any(|r| r == "amount=4"));
        assert!(m.state_rows.iter().any(|r| r == "champion=Sa"));
        assert_eq!(m.state_rows, state_rows(&m.trace.state));

        // A pair not yet `key=value` is saved as the state last parsed (module doc).
        let mut w = resumed;
        press(&mut w, &t, &[NextStep]);
        to_pair(&mut w, &t, "");
        type_text(&mut w, &t, "next_st");
        let (review, traces) = w.draft(now());
        let again = Wizard::resume(&lost_deal(), review, traces, &t, now(), 7);
        assert_eq!(again.moments()[0].trace.state, w.moments()[0].trace.state);
        assert!(!again.moments()[0].state_rows.iter().any(|r| r == "next_st"));
    }

    #[test]
    fn an_untouched_snapshot_stays_exactly_state_at_s() {
        let (mut w, t) = filled();
        for tr in w.draft(now()).1 {
            assert_eq!(tr.state, state_at(&lost_deal(), tr.at, 7), "{}", ymd(tr.at));
        }
        // Retyping the same text keeps the value exactly: the amount stays a float.
        press(&mut w, &t, &[PrevStep]);
        focus_on(&mut w, &t, Field::MomentList);
        press(&mut w, &t, &[Up; 10]);
        to_pair(&mut w, &t, "amount");
        assert_eq!(w.field_text(Field::State).as_deref(), Some("amount=60000"));
        press(&mut w, &t, &[Backspace]);
        type_text(&mut w, &t, "0");
        let m = &w.moments()[0];
        assert_eq!(m.trace.state, state_at(&lost_deal(), m.moment.at, 7));
        assert!(m.trace.state["amount"].is_f64());
    }

    #[test]
    fn the_state_recorded_on_finalize_is_the_edited_one() {
        let (mut w, t) = filled();
        press(&mut w, &t, &[PrevStep]);
        focus_on(&mut w, &t, Field::MomentList);
        let included = w.moments().iter().position(|m| m.included).expect("one");
        press(&mut w, &t, &[Up; 10]);
        press(&mut w, &t, &vec![Down; included]);
        to_pair(&mut w, &t, "economic_buyer_engaged_30d");
        retype_value(&mut w, &t, "true");
        to_pair(&mut w, &t, "");
        type_text(&mut w, &t, "cfo_invited=yes");
        press(&mut w, &t, &[NextStep, NextStep]);
        assert_eq!(w.handle(Save, &t, now()), WizardEffect::Finalize);
        let (_, traces) = w.finalize(now()).expect("valid");
        let trace = &traces[0];
        let mut expect = state_at(&lost_deal(), trace.at, 7);
        expect.insert("economic_buyer_engaged_30d".into(), Value::Bool(true));
        expect.insert("cfo_invited".into(), Value::String("yes".into()));
        assert_eq!(trace.state, expect);
    }

    #[test]
    fn an_added_moment_keeps_an_edited_state_when_its_date_changes() {
        let (mut w, t) = on_moments();
        press(&mut w, &t, &[Down, Down, Add]);
        press(&mut w, &t, &[FocusNext]);
        to_pair(&mut w, &t, "");
        type_text(&mut w, &t, "champion=Sam");
        let edited = w.moments()[w.moment_cursor()].trace.state.clone();
        focus_on(&mut w, &t, Field::MomentDate);
        press(&mut w, &t, &[Backspace, Backspace]);
        type_text(&mut w, &t, "20");
        let m = &w.moments()[w.moment_cursor()];
        assert_eq!(ymd(m.moment.at), "2026-01-20");
        assert_eq!(
            m.trace.state, edited,
            "the reviewer's edits are not thrown away"
        );
    }

    mod state_text {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn state_rows_read_back_to_the_same_snapshot(
                entries in proptest::collection::btree_map(
                    "[a-z_]{1,12}",
                    prop_oneof![
                        any::<i64>().prop_map(Value::from),
                        any::<bool>().prop_map(Value::from),
                        Just(Value::Null),
                        "[ -~]{0,12}".prop_map(Value::from),
                        "(true|null|-?[0-9]{1,4}(\\.5)?| x |\"q\")".prop_map(Value::from),
                    ],
                    0..8,
                )
            ) {
                let rows = state_rows(&entries);
                // Read with no snapshot to lean on: the text alone says the value and its type.
                prop_assert_eq!(
                    parse_state(&rows, &BTreeMap::new(), &BTreeMap::new()),
                    Ok(entries.clone())
                );
            }
        }
    }
}
