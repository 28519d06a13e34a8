//! The UI's state and its pure `update`.

use super::action::{Action, Command, DealList};
use super::theme::Theme;
use crate::crm::engine::SyncEvent;
use crate::store::deals::DealSummary;
use crate::text::sanitize_line;
use jiff::Timestamp;

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

/// Everything the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The deals, with CRM text already made safe for the terminal.
    pub deals: Vec<DealSummary>,
    /// Loading, ready or failed.
    pub load: Load,
    /// Index of the selected deal.
    pub selected: usize,
    /// Index of the first deal drawn.
    pub offset: usize,
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
}

impl App {
    /// A new app and the commands it needs run first.
    pub fn new(cache_label: String, width: u16, height: u16, color: bool) -> (App, Vec<Command>) {
        let app = App {
            deals: Vec::new(),
            load: Load::Loading,
            selected: 0,
            offset: 0,
            width,
            height,
            cache_label,
            as_of: None,
            last_sync: None,
            is_demo: false,
            clock: None,
            sync: SyncState::Idle,
            theme: Theme::new(color),
        };
        (app, vec![Command::LoadDeals])
    }

    /// Rows of the deal table that fit on screen (at least one).
    pub fn page_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(ROWS_TOP + ROWS_BOTTOM)).max(1)
    }

    /// The selected deal, if any.
    pub fn selected_deal(&self) -> Option<&DealSummary> {
        self.deals.get(self.selected)
    }

    /// Applies an action and returns the commands it asks for.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        let last = self.deals.len().saturating_sub(1);
        let page = self.page_rows();
        match action {
            Action::Quit => return vec![Command::Quit],
            Action::Up => self.select(self.selected.saturating_sub(1)),
            Action::Down => self.select((self.selected + 1).min(last)),
            Action::PageUp => self.select(self.selected.saturating_sub(page)),
            Action::PageDown => self.select((self.selected + page).min(last)),
            Action::Top => self.select(0),
            Action::Bottom => self.select(last),
            Action::ClickLine(line) => {
                let first = ROWS_TOP;
                let end = self.height.saturating_sub(ROWS_BOTTOM);
                if (first..end).contains(&line) {
                    let index = self.offset + usize::from(line - first);
                    if index < self.deals.len() {
                        self.select(index);
                    }
                }
            }
            Action::Resize { width, height } => {
                self.width = width;
                self.height = height;
                self.select(self.selected);
            }
            Action::Tick(now) => self.clock = Some(now),
            Action::DealsLoaded(Ok(list)) => self.loaded(list),
            Action::DealsLoaded(Err(message)) => self.load = Load::Failed(message),
            Action::StartSync => {
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
                return vec![Command::Sync];
            }
            Action::SyncProgress(event) => {
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
            Action::SyncFinished(result) => {
                self.sync = match result {
                    Ok(summary) => SyncState::Done(sanitize_line(&summary)),
                    Err(message) => SyncState::Failed(sanitize_line(&message)),
                };
                // What landed is in the cache: show it (even after a failure, committed
                // batches are kept).
                return vec![Command::LoadDeals];
            }
        }
        Vec::new()
    }

    fn loaded(&mut self, list: DealList) {
        let DealList {
            mut deals,
            as_of,
            last_sync,
            is_demo,
        } = list;
        for d in &mut deals {
            d.name = sanitize_line(&d.name);
            d.company = d.company.as_deref().map(sanitize_line);
            d.owner = d.owner.as_deref().map(sanitize_line);
            d.stage = sanitize_line(&d.stage);
            d.pipeline = sanitize_line(&d.pipeline);
            d.currency = sanitize_line(&d.currency);
        }
        // Keep the same deal selected across a reload if it is still there.
        let keep = self.selected_deal().map(|d| d.id.clone());
        self.deals = deals;
        self.as_of = Some(as_of);
        self.last_sync = last_sync;
        self.is_demo = is_demo;
        self.load = Load::Ready;
        let index = keep
            .and_then(|id| self.deals.iter().position(|d| d.id == id))
            .unwrap_or(0);
        self.select(index);
    }

    /// Selects `index` (clamped) and scrolls just enough to keep it visible.
    fn select(&mut self, index: usize) {
        let last = self.deals.len().saturating_sub(1);
        self.selected = index.min(last);
        let page = self.page_rows();
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        // After a resize or a shorter list, do not leave empty rows below the last deal.
        self.offset = self.offset.min(self.deals.len().saturating_sub(page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;

    fn deal(i: usize) -> DealSummary {
        DealSummary {
            id: format!("{i}").into(),
            name: format!("Deal {i}"),
            company: Some("Acme".into()),
            owner: Some("Ada".into()),
            pipeline: "Sales".into(),
            stage: "Demo".into(),
            stage_id: "presentationscheduled".into(),
            amount: Some(1000.0),
            currency: "USD".into(),
            created_at: from_unix(0),
            close_date: None,
            is_closed: false,
            is_won: false,
        }
    }

    fn loaded(n: usize, height: u16) -> App {
        let (mut app, commands) = App::new("cache".into(), 80, height, false);
        assert_eq!(commands, vec![Command::LoadDeals]);
        app.update(Action::DealsLoaded(Ok(DealList {
            deals: (0..n).map(deal).collect(),
            as_of: from_unix(0),
            last_sync: None,
            is_demo: true,
        })));
        app
    }

    #[test]
    fn starts_loading_then_ready() {
        let (app, _) = App::new("c".into(), 80, 24, true);
        assert_eq!(app.load, Load::Loading);
        let app = loaded(3, 24);
        assert_eq!(app.load, Load::Ready);
        assert_eq!(app.deals.len(), 3);
    }

    #[test]
    fn moving_clamps_at_both_ends() {
        let mut app = loaded(3, 24);
        app.update(Action::Up);
        assert_eq!(app.selected, 0);
        app.update(Action::Down);
        app.update(Action::Down);
        app.update(Action::Down);
        assert_eq!(app.selected, 2);
        app.update(Action::Top);
        assert_eq!(app.selected, 0);
        app.update(Action::Bottom);
        assert_eq!(app.selected, 2);
    }

    #[test]
    fn scrolling_keeps_the_selection_visible() {
        // 24 lines: 21 table rows.
        let mut app = loaded(100, 24);
        assert_eq!(app.page_rows(), 21);
        for _ in 0..21 {
            app.update(Action::Down);
        }
        assert_eq!((app.selected, app.offset), (21, 1));
        app.update(Action::PageDown);
        assert_eq!((app.selected, app.offset), (42, 22));
        app.update(Action::Bottom);
        assert_eq!((app.selected, app.offset), (99, 79));
        app.update(Action::PageUp);
        assert_eq!((app.selected, app.offset), (78, 78));
        app.update(Action::Top);
        assert_eq!((app.selected, app.offset), (0, 0));
    }

    #[test]
    fn resize_keeps_the_selection_on_screen() {
        let mut app = loaded(100, 40);
        app.update(Action::Bottom);
        app.update(Action::Resize {
            width: 80,
            height: 10,
        });
        assert!(app.selected >= app.offset && app.selected < app.offset + app.page_rows());
        app.update(Action::Resize {
            width: 80,
            height: 200,
        });
        assert_eq!(
            app.offset, 0,
            "everything fits: no blank rows at the bottom"
        );
        app.update(Action::Resize {
            width: 10,
            height: 1,
        });
        assert_eq!(app.page_rows(), 1, "a tiny terminal still shows a row");
    }

    #[test]
    fn clicks_select_the_row_under_the_pointer() {
        let mut app = loaded(100, 24);
        app.update(Action::ClickLine(ROWS_TOP + 4));
        assert_eq!(app.selected, 4);
        app.update(Action::ClickLine(0));
        assert_eq!(app.selected, 4, "title bar clicks do nothing");
        app.update(Action::ClickLine(23));
        assert_eq!(app.selected, 4, "status line clicks do nothing");
        let mut few = loaded(2, 24);
        few.update(Action::ClickLine(ROWS_TOP + 10));
        assert_eq!(few.selected, 0, "clicks below the last deal do nothing");
    }

    #[test]
    fn empty_lists_are_safe() {
        let mut app = loaded(0, 24);
        for a in [
            Action::Down,
            Action::Up,
            Action::PageDown,
            Action::Bottom,
            Action::ClickLine(3),
        ] {
            app.update(a);
        }
        assert_eq!((app.selected, app.offset), (0, 0));
        assert!(app.selected_deal().is_none());
    }

    #[test]
    fn crm_text_is_sanitised_on_load() {
        let (mut app, _) = App::new("c".into(), 80, 24, false);
        let mut evil = deal(0);
        evil.name = "Acme\u{1b}[2J\u{1b}]52;c;eA==\u{7} renewal".into();
        evil.company = Some("Evil\u{7}Corp".into());
        app.update(Action::DealsLoaded(Ok(DealList {
            deals: vec![evil],
            as_of: from_unix(0),
            last_sync: None,
            is_demo: false,
        })));
        assert_eq!(app.deals[0].name, "Acme renewal");
        assert_eq!(app.deals[0].company.as_deref(), Some("EvilCorp"));
    }

    #[test]
    fn a_reload_keeps_the_selected_deal() {
        let mut app = loaded(10, 24);
        app.update(Action::Down);
        app.update(Action::Down);
        let mut deals: Vec<_> = (0..10).map(deal).collect();
        deals.insert(0, deal(99));
        app.update(Action::DealsLoaded(Ok(DealList {
            deals,
            as_of: from_unix(0),
            last_sync: None,
            is_demo: true,
        })));
        assert_eq!(app.selected_deal().map(|d| d.id.as_str()), Some("2"));
    }

    #[test]
    fn quit_and_failures() {
        let (mut app, _) = App::new("c".into(), 80, 24, false);
        assert_eq!(app.update(Action::Quit), vec![Command::Quit]);
        app.update(Action::DealsLoaded(Err("cannot read".into())));
        assert_eq!(app.load, Load::Failed("cannot read".into()));
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
        assert_eq!(
            app.update(Action::SyncFinished(Ok("2 new".into()))),
            vec![Command::LoadDeals]
        );
        assert_eq!(app.sync, SyncState::Done("2 new".into()));
        // Progress from a finished sync changes nothing.
        app.update(Action::SyncProgress(SyncEvent::Phase("owners")));
        assert_eq!(app.sync, SyncState::Done("2 new".into()));
        assert_eq!(app.update(Action::StartSync), vec![Command::Sync]);
        assert_eq!(
            app.update(Action::SyncFinished(Err("no token\u{1b}[2J".into()))),
            vec![Command::LoadDeals],
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
}
