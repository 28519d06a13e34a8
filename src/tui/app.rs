//! The UI's state and its pure `update`: an action in, state changed, commands out.

use super::action::{Action, Advice, Command, DealList, ReviewSource, SaveKind};
use super::deal_view::DealScreen;
use super::keys::Mode;
use super::lessons_view::LessonsScreen;
use super::list::{ListKind, ListView};
use super::patterns_view::{PatternsPane, PatternsScreen};
use super::rows::Rows;
use super::theme::Theme;
use crate::crm::engine::SyncEvent;
use crate::domain::{DealId, Taxonomy};
use crate::review::{Wizard, WizardEffect};
use crate::signals::Skills;
use crate::text::sanitize_line;
use jiff::Timestamp;
use std::sync::Arc;

/// Lines above the first table row: the title bar and the table header.
pub const ROWS_TOP: u16 = 2;
/// Lines below the table: the status line.
pub const ROWS_BOTTOM: u16 = 1;

/// Whether the deal list is there yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// The loader is running.
    Loading,
    /// The list is loaded.
    Ready,
    /// The loader failed; the message says what to do.
    Failed(String),
}

/// Where the background sync is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SyncState {
    /// No sync since the UI opened.
    #[default]
    Idle,
    /// Running: the phase, and deals committed of how many (when known).
    Running {
        /// "pipelines", "owners", "deals", "removals".
        phase: &'static str,
        /// Deals committed so far.
        done: u64,
        /// Deals expected, when known.
        total: Option<u64>,
    },
    /// Finished: what it did, in one line.
    Done(String),
    /// Stopped: why, in one sentence (what it committed is kept).
    Failed(String),
}

/// Which screen is in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The deals that need a look this week.
    Queue,
    /// Every deal.
    Pipeline,
    /// One deal.
    Deal,
    /// The post-mortem wizard.
    Review,
    /// The patterns mined from the history.
    Patterns,
    /// The lesson library.
    Lessons,
}

/// Settings `update` needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The name recorded on reviews.
    pub reviewer: String,
    /// A close-date move later by at least this many days is a slip.
    pub slip_min_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reviewer: "reviewer".into(),
            slip_min_days: 7,
        }
    }
}

/// Everything the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The deals both lists draw from.
    pub rows: Arc<Rows>,
    /// Loading, ready or failed.
    pub load: Load,
    /// Whether every deal is loaded (the first step of a load holds only the queue's).
    pub complete: bool,
    /// The review queue.
    pub queue: ListView,
    /// The pipeline.
    pub pipeline: ListView,
    /// The screen in front.
    pub screen: Screen,
    /// The list the deal view and the wizard go back to.
    pub list: ListKind,
    /// Whether a `/` search is being typed.
    pub searching: bool,
    /// Whether the help overlay is open.
    pub help: bool,
    /// The open deal, once loaded.
    pub deal: Option<DealScreen>,
    /// The screen `Esc` in the deal view goes back to: a list, or the Patterns screen.
    pub deal_origin: Screen,
    /// The Patterns screen: the last mining run and where the reader is in it.
    pub patterns: PatternsScreen,
    /// The Lessons screen.
    pub lessons: LessonsScreen,
    /// The advisor's recommendations by deal id, from its last run.
    pub advice: Arc<Advice>,
    /// Whether the advisor was asked to run since the UI opened.
    pub advice_asked: bool,
    /// The deal being loaded for the deal view.
    pub loading_deal: Option<DealId>,
    /// The deal whose review is being loaded for the wizard.
    pub loading_review: Option<DealId>,
    /// A final save is on its way: the wizard takes no input until it lands.
    pub finalizing: bool,
    /// The last change is not saved and the user was told: the next `q` quits anyway.
    pub confirm_quit: bool,
    /// Deal loads asked for so far; a load answering for an older one is ignored.
    pub load_generation: u64,
    /// The generation of the rows on screen.
    pub shown_generation: u64,
    /// The review being written.
    pub wizard: Option<Wizard>,
    /// Where saving stands, for the status line.
    pub saving: SaveState,
    /// A one-line message for the status line (the last thing that went wrong or finished).
    pub notice: Option<String>,
    /// Terminal width in columns.
    pub width: u16,
    /// Terminal height in lines.
    pub height: u16,
    /// What the status line calls the cache.
    pub cache_label: String,
    /// The cache's "now" (a demo's as-of instant, or the clock).
    pub as_of: Option<Timestamp>,
    /// When the cache was last synced.
    pub last_sync: Option<Timestamp>,
    /// Whether the cache holds a generated demo history.
    pub is_demo: bool,
    /// The clock, as of the last tick.
    pub clock: Option<Timestamp>,
    /// The background sync.
    pub sync: SyncState,
    /// Colours and emphasis.
    pub theme: Theme,
    /// The win/loss reasons offered.
    pub taxonomy: Taxonomy,
    /// Personas by job title (and, later, the other signal definitions).
    pub skills: Skills,
    /// Reviewer name and review rules.
    pub settings: Settings,
}

/// Where saving stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SaveState {
    /// Nothing saved since the UI opened.
    #[default]
    Idle,
    /// Saves are on their way to the cache.
    Saving(usize),
    /// Every change so far is in the cache.
    Saved,
    /// The last save failed: what to do.
    Failed(String),
}

impl App {
    /// A new app and the commands it needs run first.
    pub fn new(cache_label: String, width: u16, height: u16, color: bool) -> (App, Vec<Command>) {
        let app = App {
            rows: Arc::new(Rows::default()),
            load: Load::Loading,
            complete: false,
            queue: ListView::new(ListKind::Queue),
            pipeline: ListView::new(ListKind::Pipeline),
            screen: Screen::Queue,
            list: ListKind::Queue,
            searching: false,
            help: false,
            deal: None,
            deal_origin: Screen::Queue,
            patterns: PatternsScreen::default(),
            lessons: LessonsScreen::default(),
            advice: Arc::new(Advice::new()),
            advice_asked: false,
            loading_deal: None,
            loading_review: None,
            finalizing: false,
            confirm_quit: false,
            load_generation: 0,
            shown_generation: 0,
            wizard: None,
            saving: SaveState::Idle,
            notice: None,
            width,
            height,
            cache_label,
            as_of: None,
            last_sync: None,
            is_demo: false,
            clock: None,
            sync: SyncState::Idle,
            theme: Theme::new(color),
            taxonomy: Taxonomy::builtin(),
            skills: Skills::builtin(),
            settings: Settings::default(),
        };
        (
            app,
            vec![Command::LoadDeals {
                generation: 0,
                queue_first: true,
            }],
        )
    }

    /// What keys mean right now.
    pub fn mode(&self) -> Mode {
        if self.help {
            return Mode::Help;
        }
        match self.screen {
            Screen::Queue | Screen::Pipeline if self.searching => Mode::Search,
            Screen::Queue | Screen::Pipeline => Mode::List,
            Screen::Deal => Mode::Deal,
            Screen::Patterns => Mode::Patterns,
            Screen::Lessons => Mode::Lessons,
            Screen::Review => match &self.wizard {
                Some(w) if w.is_typing() => Mode::WizardText,
                _ => Mode::WizardList,
            },
        }
    }

    /// Rows of a deal table that fit on screen (at least one).
    pub fn page_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(ROWS_TOP + ROWS_BOTTOM)).max(1)
    }

    /// The list in front (or the one the deal view came from).
    pub fn current_list(&self) -> &ListView {
        match self.list {
            ListKind::Queue => &self.queue,
            ListKind::Pipeline => &self.pipeline,
        }
    }

    fn current_list_mut(&mut self) -> &mut ListView {
        match self.list {
            ListKind::Queue => &mut self.queue,
            ListKind::Pipeline => &mut self.pipeline,
        }
    }

    /// The deal selected in the list in front.
    pub fn selected_deal(&self) -> Option<&crate::store::deals::DealSummary> {
        self.current_list()
            .selected_index()
            .and_then(|i| self.rows.deals.get(i))
    }

    /// "Now" for what the user does: a demo's as-of instant (the demo lives on that day), else
    /// the clock of the last tick (the load time only until the first tick).
    pub fn now(&self) -> Timestamp {
        let now = if self.is_demo {
            self.as_of.or(self.clock)
        } else {
            self.clock.or(self.as_of)
        };
        now.unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Reads the deal lists again (after a sync, a mark or a save), keeping what is on screen
    /// until every deal is read.
    fn reload(&mut self) -> Command {
        self.load_generation += 1;
        Command::LoadDeals {
            generation: self.load_generation,
            queue_first: false,
        }
    }

    /// The deal in front: the open deal in the deal view and wizard, else the selected one.
    fn deal_in_front(&self) -> Option<DealId> {
        match self.screen {
            Screen::Deal | Screen::Review => {
                self.deal.as_ref().map(|d| d.detail.summary.id.clone())
            }
            Screen::Queue | Screen::Pipeline => self.selected_deal().map(|d| d.id.clone()),
            Screen::Patterns | Screen::Lessons => None,
        }
    }

    /// Applies an action and returns the commands it asks for.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        if !matches!(
            action,
            Action::Quit | Action::CloseWizard | Action::Tick(_) | Action::Saved { .. }
        ) {
            self.confirm_quit = false;
        }
        match action {
            Action::Quit => return self.quit(),
            Action::Help => self.help = true,
            Action::CloseHelp => self.help = false,
            Action::Resize { width, height } => {
                self.width = width;
                self.height = height;
                let page = self.page_rows();
                for list in [&mut self.queue, &mut self.pipeline] {
                    list.select(list.selected, page);
                }
            }
            Action::Tick(now) => self.clock = Some(now),
            Action::DealsLoaded(Ok(list)) => {
                self.loaded(list);
                // Freshly read rows know nothing of the advisor: mark its deals again.
                if !self.advice.is_empty() {
                    self.apply_advice();
                }
                // Once every deal is on screen, the advisor runs (it reads every history).
                if self.complete && !self.advice_asked {
                    self.advice_asked = true;
                    return vec![Command::Advise];
                }
            }
            // Before anything is on screen a failed load is the screen; after, it is a notice
            // and what is shown stays.
            Action::DealsLoaded(Err(message)) if self.load != Load::Ready => {
                self.load = Load::Failed(sanitize_line(&message))
            }
            Action::DealsLoaded(Err(message)) => self.notice = Some(sanitize_line(&message)),
            Action::DealLoaded(result) => return self.deal_loaded(*result),
            Action::Advised(Ok(advice)) => {
                self.advice = advice;
                self.apply_advice();
            }
            Action::Advised(Err(why)) => {
                self.notice = Some(format!("the advisor did not run: {}", sanitize_line(&why)))
            }
            Action::ReviewLoaded(result) => return self.review_loaded(*result),
            Action::Saved { kind, result } => return self.saved(kind, result),
            Action::Marked(result) => match result {
                Ok(_) => return vec![self.reload()],
                Err(e) => self.notice = Some(sanitize_line(&e)),
            },
            Action::NotesPosted(result) => {
                self.notice = Some(sanitize_line(match &result {
                    Ok(s) | Err(s) => s,
                }));
            }
            Action::StartSync => return self.start_sync(),
            Action::SyncProgress(event) => self.sync_progress(event),
            Action::SyncFinished(result) => {
                // The patterns on screen were mined before the sync (a failed sync keeps the
                // batches it committed too).
                self.patterns.stale = self.patterns.mined.is_some();
                self.sync = match result {
                    Ok(summary) => SyncState::Done(sanitize_line(&summary)),
                    Err(message) => SyncState::Failed(sanitize_line(&message)),
                };
                // What landed is in the cache: show it (even after a failure, committed
                // batches are kept).
                return vec![self.reload()];
            }
            Action::MineProgress { generation, phase } => self.patterns.progress(generation, phase),
            Action::Mined { generation, result } => self.patterns.finished(generation, *result),
            Action::LessonsLoaded { generation, result } => {
                if generation == self.lessons.generation
                    && let Ok(data) = result.as_ref()
                {
                    self.advice = data.advice.clone();
                    self.apply_advice();
                }
                self.lessons.finished(generation, *result)
            }
            Action::LessonSaved(result) => {
                let ok = result.is_ok();
                self.notice = Some(sanitize_line(match &result {
                    Ok(s) | Err(s) => s,
                }));
                if ok {
                    // A lesson activated or retired changes what the advisor says; reading
                    // the lessons again runs the advisor too.
                    return vec![if self.screen == Screen::Lessons {
                        self.load_lessons()
                    } else {
                        Command::Advise
                    }];
                }
            }
            Action::ShowLessons => return self.show_lessons(),
            Action::Wizard(input) => return self.wizard_input(input),
            Action::CloseWizard => self.close_wizard(),
            other => return self.navigate(other),
        }
        Vec::new()
    }

    /// Keys that move around: lists, the deal view, search and filters.
    fn navigate(&mut self, action: Action) -> Vec<Command> {
        match self.screen {
            Screen::Queue | Screen::Pipeline => self.list_action(action),
            Screen::Deal => self.deal_action(action),
            Screen::Patterns => self.patterns_action(action),
            Screen::Lessons => self.lessons_action(action),
            Screen::Review => Vec::new(),
        }
    }

    fn list_action(&mut self, action: Action) -> Vec<Command> {
        // Actions about the screen first; then those about the list in front.
        match action {
            Action::StartSearch => self.searching = true,
            Action::SearchAccept => self.searching = false,
            Action::ShowQueue => self.show_list(ListKind::Queue),
            Action::ShowPipeline => self.show_list(ListKind::Pipeline),
            Action::ShowPatterns => return self.show_patterns(),
            Action::NextPane | Action::PrevPane => {
                let other = match self.list {
                    ListKind::Queue => ListKind::Pipeline,
                    ListKind::Pipeline => ListKind::Queue,
                };
                self.show_list(other);
            }
            Action::Open => return self.open_selected(),
            Action::Review => return self.review_selected(),
            Action::MarkReviewed => return self.mark_selected(),
            Action::SearchCancel => {
                self.searching = false;
                self.narrow_list(|list, _| list.query.clear());
            }
            other => self.list_only(other),
        }
        Vec::new()
    }

    /// Moves, filters and orders the list in front.
    fn list_only(&mut self, action: Action) {
        let page = self.page_rows();
        let end = self.height.saturating_sub(ROWS_BOTTOM);
        match action {
            Action::SearchInput(c) => self.narrow_list(|list, _| list.query.push(c)),
            Action::SearchBackspace => self.narrow_list(|list, _| {
                list.query.pop();
            }),
            Action::CycleOwner => self.narrow_list(|list, rows| list.cycle_owner(&rows.owners)),
            Action::CycleTeam => self.narrow_list(|list, rows| list.cycle_team(&rows.teams)),
            Action::CycleBadge => self.narrow_list(|list, _| list.cycle_badge()),
            Action::CycleSort => self.narrow_list(|list, _| list.cycle_sort()),
            Action::ReverseSort => self.narrow_list(|list, _| list.descending = !list.descending),
            // Esc in a list clears what narrows it, like leaving a search.
            Action::ClearFilters | Action::Back => self.narrow_list(|list, _| {
                list.query.clear();
                list.filter = Default::default();
            }),
            Action::Up => self.current_list_mut().step(-1, page),
            Action::Down => self.current_list_mut().step(1, page),
            Action::PageUp => self.current_list_mut().step(-(page as isize), page),
            Action::PageDown => self.current_list_mut().step(page as isize, page),
            Action::Top => self.current_list_mut().select(0, page),
            Action::Bottom => self.current_list_mut().select(usize::MAX, page),
            Action::ClickLine(line) if (ROWS_TOP..end).contains(&line) => {
                let list = self.current_list_mut();
                let index = list.offset + usize::from(line - ROWS_TOP);
                if index < list.rows.len() {
                    list.select(index, page);
                }
            }
            _ => {}
        }
    }

    /// Changes what the list in front shows, then recomputes its rows.
    fn narrow_list(&mut self, change: impl FnOnce(&mut ListView, &Rows)) {
        let page = self.page_rows();
        let rows = Arc::clone(&self.rows);
        let list = self.current_list_mut();
        change(list, &rows);
        list.refresh(&rows, page);
    }

    fn show_list(&mut self, kind: ListKind) {
        self.list = kind;
        self.searching = false;
        self.screen = match kind {
            ListKind::Queue => Screen::Queue,
            ListKind::Pipeline => Screen::Pipeline,
        };
    }

    fn open_selected(&mut self) -> Vec<Command> {
        let Some(id) = self.selected_deal().map(|d| d.id.clone()) else {
            return Vec::new();
        };
        self.open_deal(id, self.screen)
    }

    /// Opens a deal in the deal view; `Esc` there goes back to `origin`.
    fn open_deal(&mut self, id: DealId, origin: Screen) -> Vec<Command> {
        self.deal_origin = origin;
        self.screen = Screen::Deal;
        self.deal = None;
        self.loading_deal = Some(id.clone());
        vec![Command::LoadDeal(id)]
    }

    fn review_selected(&mut self) -> Vec<Command> {
        match self.deal_in_front() {
            Some(id) => self.open_review(id),
            None => Vec::new(),
        }
    }

    /// Opens the wizard on a deal (also how `dealtrace review DEAL_ID` starts).
    pub fn open_review(&mut self, id: DealId) -> Vec<Command> {
        self.screen = Screen::Review;
        self.wizard = None;
        self.finalizing = false;
        self.loading_review = Some(id.clone());
        vec![Command::LoadReview(id)]
    }

    fn mark_selected(&mut self) -> Vec<Command> {
        self.deal_in_front()
            .map(Command::MarkReviewed)
            .into_iter()
            .collect()
    }

    fn deal_action(&mut self, action: Action) -> Vec<Command> {
        let page = self.page_rows() as isize;
        match action {
            Action::Back => {
                if self.deal_origin == Screen::Patterns {
                    self.screen = Screen::Patterns;
                } else {
                    self.show_list(self.list);
                }
                self.deal = None;
                self.loading_deal = None;
                return Vec::new();
            }
            Action::ShowQueue => self.show_list(ListKind::Queue),
            Action::ShowPipeline => self.show_list(ListKind::Pipeline),
            Action::ShowPatterns => return self.show_patterns(),
            Action::Review => return self.review_selected(),
            Action::MarkReviewed => return self.mark_selected(),
            _ => {}
        }
        let Some(deal) = self.deal.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::NextPane => deal.pane = deal.pane.step(1),
            Action::PrevPane => deal.pane = deal.pane.step(-1),
            Action::Up => deal.scroll_by(-1),
            Action::Down => deal.scroll_by(1),
            Action::PageUp => deal.scroll_by(-page),
            Action::PageDown => deal.scroll_by(page),
            Action::Top => deal.scroll_to_end(false),
            Action::Bottom => deal.scroll_to_end(true),
            _ => {}
        }
        Vec::new()
    }

    /// Shows the Patterns screen; the first time (or after a failure with nothing to show) it
    /// starts mining in the background.
    fn show_patterns(&mut self) -> Vec<Command> {
        self.screen = Screen::Patterns;
        self.searching = false;
        if self.patterns.mined.is_none() {
            return self.start_mining();
        }
        Vec::new()
    }

    fn start_mining(&mut self) -> Vec<Command> {
        self.patterns
            .start(self.clock)
            .map(|generation| Command::Mine { generation })
            .into_iter()
            .collect()
    }

    fn patterns_action(&mut self, action: Action) -> Vec<Command> {
        let page = (self.page_rows() / 2).max(1) as isize;
        let p = &mut self.patterns;
        match action {
            Action::ShowQueue => self.show_list(ListKind::Queue),
            Action::ShowPipeline => self.show_list(ListKind::Pipeline),
            Action::MineAgain => return self.start_mining(),
            Action::ToggleInsufficient => p.toggle_insufficient(),
            Action::Promote => {
                if let Some(pattern) = p.selected_pattern() {
                    return vec![Command::Promote(Box::new(pattern.clone()))];
                }
            }
            Action::ShowPatterns => {}
            Action::Up => p.step(-1),
            Action::Down => p.step(1),
            Action::PageUp => p.step(-page),
            Action::PageDown => p.step(page),
            Action::Top => p.jump(false),
            Action::Bottom => p.jump(true),
            Action::NextPane | Action::PrevPane => p.toggle_deals(),
            Action::Open => {
                if let Some(id) = p.enter() {
                    return self.open_deal(id, Screen::Patterns);
                }
            }
            // From the deals or the lacking-data list, back to the patterns; from there, the list.
            Action::Back if p.pane != PatternsPane::List => p.pane = PatternsPane::List,
            Action::Back => self.show_list(self.list),
            _ => {}
        }
        Vec::new()
    }

    fn load_lessons(&mut self) -> Command {
        Command::LoadLessons {
            generation: self.lessons.start(),
        }
    }

    /// Shows the Lessons screen, reading the lessons again (a mining run or a sync may have
    /// changed their evidence).
    fn show_lessons(&mut self) -> Vec<Command> {
        self.screen = Screen::Lessons;
        self.searching = false;
        vec![self.load_lessons()]
    }

    fn lessons_action(&mut self, action: Action) -> Vec<Command> {
        let page = (self.page_rows() / 3).max(1) as isize;
        let l = &mut self.lessons;
        match action {
            Action::ShowQueue => self.show_list(ListKind::Queue),
            Action::ShowPipeline => self.show_list(ListKind::Pipeline),
            Action::ShowPatterns => return self.show_patterns(),
            Action::Up => l.step(-1),
            Action::Down => l.step(1),
            Action::PageUp => l.step(-page),
            Action::PageDown => l.step(page),
            Action::Top => l.step(isize::MIN),
            Action::Bottom => l.step(isize::MAX),
            Action::SetLessonStatus(status) => {
                if let Some(row) = l.selected_row() {
                    return vec![Command::SetLessonStatus {
                        id: row.lesson.id.clone(),
                        status,
                    }];
                }
            }
            Action::Back => self.show_list(self.list),
            _ => {}
        }
        Vec::new()
    }

    /// Marks the deals the advisor flags as at risk, in place (the lists' orders do not
    /// depend on it, so nothing is re-sorted on the draw loop).
    fn apply_advice(&mut self) {
        let rows = Arc::make_mut(&mut self.rows);
        for (deal, mark) in rows.deals.iter().zip(rows.marks.iter_mut()) {
            mark.at_risk = self.advice.contains_key(deal.id.as_str());
        }
        let page = self.page_rows();
        self.queue.refresh(&self.rows, page);
        self.pipeline.refresh(&self.rows, page);
    }

    /// The recommendations for `deal`, recorded as shown now.
    fn shown(&self, deal: &DealId) -> Vec<crate::domain::RecommendationRecord> {
        self.advice
            .get(deal.as_str())
            .map(|lines| {
                lines
                    .iter()
                    .map(|a| crate::domain::RecommendationRecord {
                        deal_id: deal.clone(),
                        lesson_id: a.lesson_id.clone(),
                        lesson_version: a.version,
                        text: a.recommendation.clone(),
                        shown_at: self.now(),
                        followed: None,
                        followed_source: None,
                        followed_at: None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn deal_loaded(
        &mut self,
        result: Result<crate::store::detail::DealDetail, String>,
    ) -> Vec<Command> {
        match result {
            Ok(detail) if self.loading_deal.as_ref() == Some(&detail.summary.id) => {
                self.loading_deal = None;
                let shown = self.shown(&detail.summary.id);
                self.deal = Some(DealScreen::new(
                    detail,
                    self.now(),
                    self.settings.slip_min_days,
                    &self.skills,
                ));
                // Shown on screen: recorded (once per deal and lesson version).
                if !shown.is_empty() {
                    return vec![Command::RecordShown(shown)];
                }
            }
            // A deal the user has already left: nothing to show.
            Ok(_) => {}
            // A failure for the deal the view waits for: back to the list, saying why.
            Err(e) if self.loading_deal.is_some() => {
                self.loading_deal = None;
                self.notice = Some(sanitize_line(&e));
                if self.screen == Screen::Deal {
                    self.show_list(self.list);
                }
            }
            Err(_) => {}
        }
        Vec::new()
    }

    fn review_loaded(&mut self, result: Result<ReviewSource, String>) -> Vec<Command> {
        let source = match result {
            Ok(source) if self.loading_review.as_ref() == Some(&source.detail.summary.id) => source,
            Ok(_) => return Vec::new(),
            Err(e) if self.loading_review.is_some() => {
                self.loading_review = None;
                self.notice = Some(sanitize_line(&e));
                if self.screen == Screen::Review {
                    self.back_from_review();
                }
                return Vec::new();
            }
            Err(_) => return Vec::new(),
        };
        self.loading_review = None;
        let now = self.now();
        let detail = super::deal_view::sanitized(source.detail);
        let slip = self.settings.slip_min_days;
        let wizard = match (source.draft, source.last_final) {
            (Some((draft, traces)), _) => {
                self.notice = Some("resumed the saved draft".into());
                Wizard::resume(&detail, draft, traces, &self.taxonomy, now, slip)
            }
            (None, Some((last, traces))) => {
                self.notice = Some(format!(
                    "amending the final review (revision {}); the saved one is kept",
                    last.revision
                ));
                Wizard::amend(&detail, last, traces, &self.taxonomy, now, slip)
            }
            (None, None) => Wizard::start(
                &detail,
                &self.taxonomy,
                &self.settings.reviewer,
                source.new_review_id,
                now,
                slip,
            ),
        };
        self.wizard = Some(wizard);
        if self.deal.as_ref().map(|d| &d.detail.summary.id) != Some(&detail.summary.id) {
            self.deal = Some(DealScreen::new(detail, now, slip, &self.skills));
        }
        Vec::new()
    }

    fn wizard_input(&mut self, input: crate::review::WizardInput) -> Vec<Command> {
        let now = self.now();
        // Once a final save is on its way, a further change would be a draft written after
        // the sign-off: nothing is taken until the save lands.
        if self.finalizing {
            self.notice = Some("saving the review…".into());
            return Vec::new();
        }
        let Some(wizard) = self.wizard.as_mut() else {
            return Vec::new();
        };
        match wizard.handle(input, &self.taxonomy, now) {
            WizardEffect::None | WizardEffect::Invalid => Vec::new(),
            WizardEffect::Autosave => {
                let draft = wizard.draft(now);
                self.saving = SaveState::Saving(self.saves_in_flight() + 1);
                vec![Command::SaveDraft(Box::new(draft))]
            }
            WizardEffect::Finalize => match wizard.finalize(now) {
                Ok(done) => {
                    self.finalizing = true;
                    self.saving = SaveState::Saving(self.saves_in_flight() + 1);
                    vec![Command::SaveFinal(Box::new(done))]
                }
                Err(why) => {
                    self.notice = Some(why);
                    Vec::new()
                }
            },
        }
    }

    fn saves_in_flight(&self) -> usize {
        match self.saving {
            SaveState::Saving(n) => n,
            _ => 0,
        }
    }

    fn saved(&mut self, kind: SaveKind, result: Result<(), String>) -> Vec<Command> {
        let left = self.saves_in_flight().saturating_sub(1);
        if let Err(e) = result {
            if matches!(kind, SaveKind::Final(_)) {
                // The wizard is still there with everything in it: saving again is one key.
                self.finalizing = false;
            }
            self.saving = SaveState::Failed(sanitize_line(&e));
            return Vec::new();
        }
        // A later save succeeding means the cache holds everything typed so far.
        self.saving = if left > 0 {
            SaveState::Saving(left)
        } else {
            SaveState::Saved
        };
        let SaveKind::Final(deal) = kind else {
            return Vec::new();
        };
        self.finalizing = false;
        self.notice = Some("review saved".into());
        let mut commands = vec![self.reload(), Command::PostNotes];
        // Back to the deal, reloaded with its new review and traces, unless the user has
        // already moved on to another review.
        let this_review = self
            .wizard
            .as_ref()
            .is_some_and(|w| w.review().deal_id == deal);
        if this_review {
            self.wizard = None;
            self.screen = Screen::Deal;
            self.loading_deal = Some(deal.clone());
            commands.push(Command::LoadDeal(deal));
        }
        commands
    }

    /// Leaves the wizard for the deal it was about, or the list when there is none.
    fn back_from_review(&mut self) {
        if self.deal.is_some() {
            self.screen = Screen::Deal;
        } else {
            self.show_list(self.list);
        }
    }

    /// True when the last save failed and the user has not yet been told so for this key: then
    /// says so once, and the same key again goes ahead.
    fn unsaved_warning(&mut self, key: &str, what: &str) -> bool {
        let SaveState::Failed(why) = &self.saving else {
            return false;
        };
        if self.confirm_quit {
            return false;
        }
        self.notice = Some(format!(
            "the last change is NOT saved ({why}); press {key} again to {what} anyway"
        ));
        self.confirm_quit = true;
        true
    }

    fn close_wizard(&mut self) {
        if self.unsaved_warning("Esc", "leave") {
            return;
        }
        self.confirm_quit = false;
        self.wizard = None;
        self.loading_review = None;
        self.finalizing = false;
        self.notice = Some("draft kept; r resumes it".into());
        self.back_from_review();
    }

    /// Quits, unless the last change could not be saved: then says so once, and the next `q`
    /// quits anyway.
    fn quit(&mut self) -> Vec<Command> {
        if self.unsaved_warning("q", "quit") {
            return Vec::new();
        }
        vec![Command::Quit]
    }

    fn start_sync(&mut self) -> Vec<Command> {
        // One sync at a time; a demo history has no CRM behind it.
        if matches!(self.sync, SyncState::Running { .. }) {
            return Vec::new();
        }
        if self.is_demo {
            self.sync = SyncState::Failed(
                "this is a generated demo history: open your own cache to sync".into(),
            );
            return Vec::new();
        }
        self.sync = SyncState::Running {
            phase: "starting",
            done: 0,
            total: None,
        };
        vec![Command::Sync]
    }

    fn sync_progress(&mut self, event: SyncEvent) {
        if let SyncState::Running { phase, done, total } = &mut self.sync {
            match event {
                SyncEvent::Phase(p) => *phase = p,
                SyncEvent::Deals { done: d, total: t } => {
                    *done = d;
                    *total = t;
                }
            }
        }
    }

    fn loaded(&mut self, list: DealList) {
        // An older load landing late, or the queue-only step after the full list is shown,
        // would put stale rows on screen.
        let stale = list.generation < self.shown_generation
            || (list.generation == self.shown_generation && self.complete && !list.complete);
        if stale && self.load == Load::Ready {
            return;
        }
        let DealList {
            rows,
            as_of,
            last_sync,
            is_demo,
            complete,
            generation,
        } = list;
        self.shown_generation = generation;
        // Each list keeps its selected deal across a reload if it is still shown: remember it
        // by id, since indices change with the new rows.
        let keep = |list: &ListView| {
            list.selected_index()
                .and_then(|i| self.rows.deals.get(i))
                .map(|d| d.id.clone())
        };
        let (keep_queue, keep_pipeline) = (keep(&self.queue), keep(&self.pipeline));
        self.rows = rows;
        self.as_of = Some(as_of);
        self.last_sync = last_sync;
        self.is_demo = is_demo;
        self.complete = complete;
        self.load = Load::Ready;
        let page = self.page_rows();
        self.queue.reload(&self.rows, page, keep_queue.as_ref());
        self.pipeline
            .reload(&self.rows, page, keep_pipeline.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::queue::Badge;
    use crate::domain::time::from_unix;
    use crate::domain::{ReviewStatus, queue::QueueReviewStatus};
    use crate::review::WizardInput;
    use crate::review::fixtures::{lost_deal, open_deal};
    use crate::tui::rows::QueueMark;
    use crate::tui::rows::tests::deal;

    fn list(n: usize) -> DealList {
        let marks = (0..n)
            .map(|i| QueueMark {
                badges: if i % 2 == 0 {
                    vec![Badge::Lost]
                } else {
                    vec![]
                },
                review: QueueReviewStatus::None,
                at_risk: false,
            })
            .collect();
        DealList {
            rows: Arc::new(Rows::build((0..n).map(deal).collect(), marks, from_unix(0))),
            as_of: from_unix(100 * crate::domain::DAY),
            last_sync: None,
            is_demo: true,
            complete: true,
            generation: 0,
        }
    }

    fn is_reload(c: &Command) -> bool {
        matches!(
            c,
            Command::LoadDeals {
                queue_first: false,
                ..
            }
        )
    }

    fn loaded(n: usize, height: u16) -> App {
        let (mut app, commands) = App::new("cache".into(), 80, height, false);
        assert_eq!(
            commands,
            vec![Command::LoadDeals {
                generation: 0,
                queue_first: true
            }]
        );
        app.update(Action::DealsLoaded(Ok(list(n))));
        app
    }

    fn source(detail: crate::store::detail::DealDetail) -> ReviewSource {
        ReviewSource {
            detail,
            draft: None,
            last_final: None,
            new_review_id: "review-1".into(),
        }
    }

    #[test]
    fn starts_loading_then_shows_the_queue() {
        let (app, _) = App::new("c".into(), 80, 24, true);
        assert_eq!(app.load, Load::Loading);
        let app = loaded(6, 24);
        assert_eq!(app.load, Load::Ready);
        assert_eq!(app.screen, Screen::Queue);
        assert_eq!(app.queue.rows.len(), 3, "only deals with a badge");
        assert_eq!(app.pipeline.rows.len(), 6);
        assert_eq!(app.mode(), Mode::List);
    }

    #[test]
    fn the_queue_comes_first_and_the_pipeline_follows_keeping_the_selection() {
        let (mut app, _) = App::new("c".into(), 80, 24, false);
        let full = list(10);
        // The first step holds only the queue's deals (even indices carry a badge).
        let queued: Vec<_> = full.rows.deals.iter().step_by(2).cloned().collect();
        let marks = (0..queued.len())
            .map(|_| QueueMark {
                badges: vec![Badge::Lost],
                review: QueueReviewStatus::None,
                at_risk: false,
            })
            .collect();
        app.update(Action::DealsLoaded(Ok(DealList {
            rows: Arc::new(Rows::build(queued, marks, from_unix(0))),
            complete: false,
            ..full.clone()
        })));
        assert_eq!(app.queue.rows.len(), 5);
        assert!(!app.complete);
        app.update(Action::Down);
        app.update(Action::Down);
        let picked = app.selected_deal().map(|d| d.id.clone());
        app.update(Action::DealsLoaded(Ok(full)));
        assert!(app.complete);
        assert_eq!(app.pipeline.rows.len(), 10);
        assert_eq!(app.selected_deal().map(|d| d.id.clone()), picked);
    }

    #[test]
    fn lists_switch_by_number_and_tab_and_keep_their_own_selection() {
        let mut app = loaded(10, 24);
        app.update(Action::Down);
        app.update(Action::ShowPipeline);
        assert_eq!(app.screen, Screen::Pipeline);
        app.update(Action::Bottom);
        assert_eq!(app.pipeline.selected, 9);
        app.update(Action::NextPane);
        assert_eq!(app.screen, Screen::Queue);
        assert_eq!(app.queue.selected, 1, "the queue kept its place");
    }

    #[test]
    fn search_is_typed_live_then_kept_or_cleared() {
        let mut app = loaded(30, 24);
        app.update(Action::ShowPipeline);
        app.update(Action::StartSearch);
        assert_eq!(app.mode(), Mode::Search);
        for c in "deal 2".chars() {
            app.update(Action::SearchInput(c));
        }
        assert_eq!(app.pipeline.rows.len(), 11, "Deal 2 and Deal 20-29");
        app.update(Action::SearchBackspace);
        app.update(Action::SearchInput('1'));
        assert_eq!(app.pipeline.rows.len(), 11, "Deal 1 and 10-19");
        app.update(Action::SearchAccept);
        assert_eq!(app.mode(), Mode::List);
        assert_eq!(app.pipeline.query, "deal 1");
        app.update(Action::StartSearch);
        app.update(Action::SearchCancel);
        assert_eq!(app.pipeline.rows.len(), 30);
        app.update(Action::CycleTeam);
        assert_eq!(app.pipeline.rows.len(), 10, "East: every third deal");
        app.update(Action::Back);
        assert_eq!(app.pipeline.rows.len(), 30, "Esc clears the filter");
    }

    #[test]
    fn opening_a_deal_loads_it_and_esc_goes_back() {
        let mut app = loaded(4, 24);
        let detail = lost_deal();
        let id = app.selected_deal().map(|d| d.id.clone()).unwrap();
        assert_eq!(app.update(Action::Open), vec![Command::LoadDeal(id)]);
        assert_eq!(app.screen, Screen::Deal);
        // An answer for a deal the user no longer waits for is ignored.
        app.update(Action::DealLoaded(Box::new(Ok(detail.clone()))));
        assert!(app.deal.is_none());
        app.loading_deal = Some(detail.summary.id.clone());
        app.update(Action::DealLoaded(Box::new(Ok(detail))));
        let deal = app.deal.as_ref().unwrap();
        assert!(!deal.timeline.is_empty());
        app.update(Action::NextPane);
        assert_eq!(
            app.deal.as_ref().unwrap().pane,
            crate::tui::deal_view::DealPane::People
        );
        app.update(Action::Back);
        assert_eq!(app.screen, Screen::Queue);
        assert!(app.deal.is_none());
    }

    #[test]
    fn a_failed_deal_load_says_why_and_returns_to_the_list() {
        let mut app = loaded(4, 24);
        app.update(Action::Open);
        app.update(Action::DealLoaded(Box::new(Err("no such deal".into()))));
        assert_eq!(app.screen, Screen::Queue);
        assert_eq!(app.notice.as_deref(), Some("no such deal"));
    }

    fn reviewing(detail: crate::store::detail::DealDetail) -> App {
        let mut app = loaded(4, 24);
        let id = detail.summary.id.clone();
        assert_eq!(app.open_review(id.clone()), vec![Command::LoadReview(id)]);
        app.update(Action::ReviewLoaded(Box::new(Ok(source(detail)))));
        app
    }

    #[test]
    fn every_change_in_the_wizard_is_saved_in_order_and_a_final_save_returns_to_the_deal() {
        let mut app = reviewing(lost_deal());
        assert_eq!(app.screen, Screen::Review);
        assert!(app.wizard.is_some());
        // A closed deal opens on its reasons list: select one (a draft save), then walk on.
        assert_eq!(app.mode(), Mode::WizardList);
        let mut saves = Vec::new();
        for input in [
            WizardInput::Toggle,
            WizardInput::NextStep,
            WizardInput::NextStep,
            WizardInput::NextStep,
        ] {
            for c in app.update(Action::Wizard(input)) {
                saves.push(c);
            }
        }
        assert!(
            saves
                .iter()
                .any(|c| matches!(c, Command::SaveDraft(d) if d.0.reasons.len() == 1)),
            "the selected reason was autosaved: {saves:?}"
        );
        assert!(matches!(app.saving, SaveState::Saving(_)));
        let done = app.update(Action::Wizard(WizardInput::Save));
        let Some(Command::SaveFinal(job)) = done.first() else {
            panic!("Save on the summary finalises: {done:?}");
        };
        assert_eq!(job.0.status, ReviewStatus::Final);
        for _ in 0..saves.len() {
            app.update(Action::Saved {
                kind: SaveKind::Draft,
                result: Ok(()),
            });
        }
        // While the final save is on its way, the wizard takes nothing more.
        assert_eq!(app.update(Action::Wizard(WizardInput::PrevStep)), vec![]);
        assert!(app.finalizing);
        let deal = job.0.deal_id.clone();
        let after = app.update(Action::Saved {
            kind: SaveKind::Final(deal),
            result: Ok(()),
        });
        assert!(after.iter().any(is_reload));
        assert!(after.iter().any(|c| matches!(c, Command::LoadDeal(_))));
        assert_eq!(app.screen, Screen::Deal);
        assert!(app.wizard.is_none());
        assert_eq!(app.saving, SaveState::Saved);
    }

    #[test]
    fn typing_goes_to_text_fields_and_esc_leaves_the_draft_behind() {
        let mut app = reviewing(open_deal());
        // An open deal: outcome, then notes.
        app.update(Action::Wizard(WizardInput::FocusNext));
        assert_eq!(app.mode(), Mode::WizardText);
        let commands = app.update(Action::Wizard(WizardInput::Char('q')));
        assert!(matches!(commands.as_slice(), [Command::SaveDraft(d)] if d.0.notes == "q"));
        app.update(Action::CloseWizard);
        assert!(app.wizard.is_none());
        assert_eq!(
            app.screen,
            Screen::Deal,
            "back to the deal the review was of"
        );
        assert!(app.notice.as_deref().unwrap_or("").contains("draft kept"));
    }

    #[test]
    fn a_draft_is_resumed_and_a_final_review_is_amended() {
        let detail = lost_deal();
        let mut app = reviewing(detail.clone());
        app.update(Action::Wizard(WizardInput::Toggle));
        let draft = app.wizard.as_ref().unwrap().draft(from_unix(0));
        assert_eq!(draft.0.reasons.len(), 1);

        let mut again = loaded(4, 24);
        again.open_review(detail.summary.id.clone());
        let mut src = source(detail.clone());
        src.draft = Some(draft.clone());
        again.update(Action::ReviewLoaded(Box::new(Ok(src))));
        let resumed = again.wizard.as_ref().unwrap();
        assert_eq!(resumed.review().reasons, draft.0.reasons);
        assert_eq!(resumed.review().id, draft.0.id);

        let mut final_review = draft.0.clone();
        final_review.status = ReviewStatus::Final;
        let mut third = loaded(4, 24);
        third.open_review(detail.summary.id.clone());
        let mut src = source(detail);
        src.last_final = Some((final_review.clone(), draft.1));
        third.update(Action::ReviewLoaded(Box::new(Ok(src))));
        let amending = third.wizard.as_ref().unwrap();
        assert_eq!(amending.amends(), Some(final_review.revision));
        assert_eq!(
            amending.review().id,
            final_review.id,
            "same review, next revision"
        );
    }

    #[test]
    fn marking_reviewed_reloads_the_queue() {
        let mut app = loaded(4, 24);
        let id = app.selected_deal().map(|d| d.id.clone()).unwrap();
        assert_eq!(
            app.update(Action::MarkReviewed),
            vec![Command::MarkReviewed(id.clone())]
        );
        assert!(app.update(Action::Marked(Ok(id))).iter().all(is_reload));
        app.update(Action::Marked(Err("disk full".into())));
        assert_eq!(app.notice.as_deref(), Some("disk full"));
    }

    #[test]
    fn clicks_select_the_row_under_the_pointer() {
        let mut app = loaded(100, 24);
        app.update(Action::ShowPipeline);
        app.update(Action::ClickLine(ROWS_TOP + 4));
        assert_eq!(app.pipeline.selected, 4);
        app.update(Action::ClickLine(0));
        assert_eq!(app.pipeline.selected, 4, "title bar clicks do nothing");
        app.update(Action::ClickLine(23));
        assert_eq!(app.pipeline.selected, 4, "status line clicks do nothing");
    }

    #[test]
    fn help_opens_and_any_key_closes_it() {
        let mut app = loaded(3, 24);
        app.update(Action::Help);
        assert_eq!(app.mode(), Mode::Help);
        app.update(Action::CloseHelp);
        assert_eq!(app.mode(), Mode::List);
    }

    #[test]
    fn a_sync_runs_once_reports_progress_and_reloads_when_it_lands() {
        let mut app = loaded(3, 24);
        app.is_demo = false;
        assert_eq!(app.update(Action::StartSync), vec![Command::Sync]);
        assert_eq!(app.update(Action::StartSync), vec![], "one sync at a time");
        app.update(Action::SyncProgress(SyncEvent::Phase("deals")));
        app.update(Action::SyncProgress(SyncEvent::Deals {
            done: 50,
            total: Some(120),
        }));
        assert_eq!(
            app.sync,
            SyncState::Running {
                phase: "deals",
                done: 50,
                total: Some(120)
            }
        );
        assert!(
            app.update(Action::SyncFinished(Ok("2 new".into())))
                .iter()
                .all(is_reload)
        );
        assert_eq!(app.sync, SyncState::Done("2 new".into()));
        app.update(Action::SyncProgress(SyncEvent::Phase("owners")));
        assert_eq!(app.sync, SyncState::Done("2 new".into()));
        assert_eq!(app.update(Action::StartSync), vec![Command::Sync]);
        assert!(
            app.update(Action::SyncFinished(Err("no token\u{1b}[2J".into())))
                .iter()
                .all(is_reload),
            "what a failed sync committed is shown too"
        );
        assert_eq!(app.sync, SyncState::Failed("no token".into()));
    }

    #[test]
    fn a_demo_history_is_not_synced() {
        let mut app = loaded(3, 24);
        assert!(app.is_demo);
        assert_eq!(app.update(Action::StartSync), vec![]);
        assert!(matches!(app.sync, SyncState::Failed(_)));
    }

    #[test]
    fn a_failed_save_is_said_and_quitting_then_asks_once() {
        let mut app = reviewing(lost_deal());
        app.update(Action::Wizard(WizardInput::Toggle));
        app.update(Action::Saved {
            kind: SaveKind::Draft,
            result: Err("database is locked".into()),
        });
        assert!(matches!(app.saving, SaveState::Failed(_)));
        assert_eq!(app.update(Action::Quit), vec![], "the first q warns");
        assert!(app.notice.as_deref().unwrap_or("").contains("NOT saved"));
        assert_eq!(
            app.update(Action::Quit),
            vec![Command::Quit],
            "the second quits"
        );
        // Esc in the wizard warns the same way before leaving.
        let mut app = reviewing(lost_deal());
        app.update(Action::Saved {
            kind: SaveKind::Draft,
            result: Err("disk I/O error".into()),
        });
        app.update(Action::CloseWizard);
        assert!(app.wizard.is_some());
        app.update(Action::CloseWizard);
        assert!(app.wizard.is_none());
    }

    #[test]
    fn a_failed_final_save_keeps_the_wizard_open_to_try_again() {
        let mut app = reviewing(lost_deal());
        app.finalizing = true;
        let deal = app.wizard.as_ref().unwrap().review().deal_id.clone();
        app.update(Action::Saved {
            kind: SaveKind::Final(deal),
            result: Err("disk full".into()),
        });
        assert!(!app.finalizing);
        assert!(app.wizard.is_some());
        assert_eq!(app.screen, Screen::Review);
    }

    #[test]
    fn reloads_keep_the_screen_and_older_loads_are_ignored() {
        let mut app = loaded(6, 24);
        let reload = app.update(Action::MarkReviewed);
        assert!(matches!(reload.as_slice(), [Command::MarkReviewed(_)]));
        let Some(Command::LoadDeals { generation, .. }) =
            app.update(Action::Marked(Ok("0".into()))).pop()
        else {
            panic!("a mark reloads");
        };
        assert_eq!(generation, 1);
        // The new load lands, then an old one late: the old one changes nothing.
        let mut newer = list(4);
        newer.generation = 1;
        app.update(Action::DealsLoaded(Ok(newer)));
        assert_eq!(app.pipeline.rows.len(), 4);
        app.update(Action::DealsLoaded(Ok(list(9))));
        assert_eq!(app.pipeline.rows.len(), 4, "generation 0 is older");
        // A failed reload is a notice; the lists stay.
        app.update(Action::DealsLoaded(Err("cache busy".into())));
        assert_eq!(app.load, Load::Ready);
        assert_eq!(app.notice.as_deref(), Some("cache busy"));
    }

    #[test]
    fn now_is_the_demo_day_or_the_clock() {
        let mut app = loaded(2, 24);
        let day = from_unix(100 * crate::domain::DAY);
        let tick = from_unix(500 * crate::domain::DAY);
        app.update(Action::Tick(tick));
        assert_eq!(app.now(), day, "a demo lives on its as-of day");
        app.is_demo = false;
        assert_eq!(app.now(), tick, "a real cache uses the clock");
    }

    #[test]
    fn quit_asks_for_nothing() {
        let mut app = reviewing(lost_deal());
        assert_eq!(app.update(Action::Quit), vec![Command::Quit]);
    }
}
