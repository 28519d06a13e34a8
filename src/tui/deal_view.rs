//! The deal view's state: one deal's header facts, its merged timeline, its people and its
//! reviews, built once when the deal is opened (pure; the event loop reads the cache).

use crate::domain::activity::ActivityKind;
use crate::domain::history::HistoryEvent;
use crate::domain::time::{days_between, ymd};
use crate::format::{amount, fit};
use crate::signals::Skills;
use crate::store::detail::DealDetail;
use crate::text::sanitize_line;
use jiff::Timestamp;

/// Characters of a call note or email shown on its timeline line.
pub const EXCERPT_CHARS: usize = 160;

/// The deal view's panes, in `Tab` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealPane {
    /// Stage, close-date and amount changes merged with activities.
    Timeline,
    /// The stakeholder map.
    People,
    /// Reviews and decision traces.
    Reviews,
}

impl DealPane {
    /// Every pane in `Tab` order.
    pub const ALL: [DealPane; 3] = [DealPane::Timeline, DealPane::People, DealPane::Reviews];

    /// The pane's title.
    pub fn title(self) -> &'static str {
        match self {
            DealPane::Timeline => "Timeline",
            DealPane::People => "Stakeholders",
            DealPane::Reviews => "Reviews & traces",
        }
    }

    fn index(self) -> usize {
        DealPane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The pane `delta` steps along the `Tab` order, wrapping.
    pub fn step(self, delta: isize) -> DealPane {
        let n = DealPane::ALL.len() as isize;
        DealPane::ALL[(self.index() as isize + delta).rem_euclid(n) as usize]
    }
}

/// What kind of event a timeline line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    /// The deal entered a stage.
    Stage,
    /// The close date was set or moved.
    CloseDate,
    /// The close date moved later (a slip).
    Slip,
    /// The amount changed.
    Amount,
    /// A call, meeting, email or note.
    Activity(ActivityKind),
}

/// One line of the merged timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: Timestamp,
    /// What it is.
    pub kind: TimelineKind,
    /// The event in one line.
    pub text: String,
    /// A call note or email excerpt, when there is one.
    pub excerpt: Option<String>,
}

/// The deal as the deal view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DealScreen {
    /// The deal, all CRM text made safe for the terminal.
    pub detail: DealDetail,
    /// Field changes and activities, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Whole days in the current stage as of the cache's "now".
    pub days_in_stage: Option<i64>,
    /// How many times the close date was moved (any direction) after it was first set.
    pub close_moves: usize,
    /// How many of those moves were slips.
    pub slips: usize,
    /// Contacts with two-way activity in the last 30 days.
    pub engaged_30d: usize,
    /// Per stakeholder (in `detail.stakeholders` order), the personas their title matches.
    pub personas: Vec<Vec<String>>,
    /// The pane with focus.
    pub pane: DealPane,
    /// Scroll position of each pane, in [`DealPane::ALL`] order.
    pub scroll: [usize; 3],
}

impl DealScreen {
    /// Builds the view of `detail` as of `now`, sanitising every CRM string first; `skills`
    /// names each stakeholder's personas from their title.
    pub fn new(
        detail: DealDetail,
        now: Timestamp,
        slip_min_days: i64,
        skills: &Skills,
    ) -> DealScreen {
        let detail = sanitized(detail);
        let personas = detail
            .stakeholders
            .iter()
            .map(|p| {
                let title = p.title.as_deref().unwrap_or("");
                skills
                    .personas_of(title)
                    .into_iter()
                    .map(|persona| persona.label().to_owned())
                    .collect()
            })
            .collect();
        let timeline = timeline(&detail, slip_min_days);
        let close_moves = detail.history.close_dates.len().saturating_sub(1);
        let slips = detail.history.slip_count(slip_min_days);
        let engaged_30d = crate::review::snapshot::engaged_contacts(&detail, now).len();
        DealScreen {
            personas,
            days_in_stage: detail.history.days_in_current_stage(now),
            timeline,
            close_moves,
            slips,
            engaged_30d,
            pane: DealPane::Timeline,
            scroll: [0; 3],
            detail,
        }
    }

    /// Whether the deal is single-threaded now: at most one contact engaged in 30 days.
    pub fn single_threaded(&self) -> bool {
        !self.detail.summary.is_closed && self.engaged_30d <= 1
    }

    /// Scrolls the focused pane by `delta` lines (not past its last line).
    pub fn scroll_by(&mut self, delta: isize) {
        let len = self.pane_len(self.pane);
        let i = self.pane.index();
        self.scroll[i] = self.scroll[i]
            .saturating_add_signed(delta)
            .min(len.saturating_sub(1));
    }

    /// Scrolls the focused pane to its first or last line.
    pub fn scroll_to_end(&mut self, end: bool) {
        let len = self.pane_len(self.pane);
        self.scroll[self.pane.index()] = if end { len.saturating_sub(1) } else { 0 };
    }

    /// The scroll position of `pane`.
    pub fn scroll_of(&self, pane: DealPane) -> usize {
        self.scroll[pane.index()]
    }

    /// How many lines `pane` can scroll through.
    pub fn pane_len(&self, pane: DealPane) -> usize {
        match pane {
            DealPane::Timeline => self.timeline.len(),
            DealPane::People => self.detail.stakeholders.len(),
            DealPane::Reviews => self.detail.reviews.len() + self.detail.traces.len(),
        }
    }
}

/// Every CRM string of the detail made safe for the terminal. What dealtrace wrote itself
/// (reviews, traces) is sanitised too: it may quote CRM text.
pub fn sanitized(mut d: DealDetail) -> DealDetail {
    let line = |s: &mut String| *s = sanitize_line(s);
    let opt = |s: &mut Option<String>| {
        if let Some(v) = s {
            *v = sanitize_line(v);
        }
    };
    d.summary = d.summary.sanitized();
    // Stage ids are CRM text too: they are drawn wherever a stage has no label.
    d.stage_labels = std::mem::take(&mut d.stage_labels)
        .into_iter()
        .map(|(id, label)| (sanitize_line(&id), sanitize_line(&label)))
        .collect();
    for change in &mut d.history.stages {
        change.stage_id = sanitize_line(change.stage_id.as_str()).into();
    }
    for p in &mut d.stakeholders {
        line(&mut p.name);
        opt(&mut p.title);
        opt(&mut p.email);
    }
    for a in &mut d.activities {
        opt(&mut a.subject);
        // Bodies are cut to an excerpt later; keep only their first part to bound the work.
        let head: String = a.body.chars().take(EXCERPT_CHARS * 4).collect();
        a.body = sanitize_line(&head);
    }
    for r in &mut d.reviews {
        line(&mut r.reviewer);
        line(&mut r.notes);
        for reason in &mut r.reasons {
            opt(&mut reason.detail);
        }
        for c in &mut r.lesson_candidates {
            line(&mut c.text);
        }
    }
    for t in &mut d.traces {
        for field in [
            &mut t.actor,
            &mut t.action,
            &mut t.rationale,
            &mut t.expected_outcome,
        ] {
            line(field);
        }
        opt(&mut t.actual_outcome);
        if let Some(stage) = &mut t.stage_id {
            *stage = sanitize_line(stage.as_str()).into();
        }
        if let Some(rec) = &mut t.recommendation {
            line(&mut rec.text);
        }
    }
    // A lesson's text can come from anyone's library file.
    for r in &mut d.recommendations {
        line(&mut r.text);
    }
    d
}

/// Stage, close-date and amount changes merged with activities, oldest first.
pub fn timeline(detail: &DealDetail, slip_min_days: i64) -> Vec<TimelineEntry> {
    let currency = detail.summary.currency.as_str();
    let mut out = Vec::new();
    let mut last_close: Option<Timestamp> = None;
    let mut last_amount: Option<f64> = None;
    for event in detail.history.timeline() {
        let at = event.at();
        let (kind, text) = match event {
            HistoryEvent::Stage(c) => (
                TimelineKind::Stage,
                format!("entered {}", detail.stage_label(c.stage_id.as_str())),
            ),
            HistoryEvent::CloseDate(c) => {
                let entry = close_change(last_close, c.close_date, slip_min_days);
                last_close = c.close_date;
                entry
            }
            HistoryEvent::Amount(c) => {
                let text = match (last_amount, c.amount) {
                    (None, new) => format!("amount set to {}", amount(new, currency)),
                    (Some(old), Some(new)) if old > 0.0 => format!(
                        "amount {} → {} ({:+.0}%)",
                        amount(Some(old), currency),
                        amount(Some(new), ""),
                        (new - old) / old * 100.0
                    ),
                    (Some(old), new) => format!(
                        "amount {} → {}",
                        amount(Some(old), currency),
                        amount(new, "")
                    ),
                };
                last_amount = c.amount;
                (TimelineKind::Amount, text)
            }
        };
        out.push(TimelineEntry {
            at,
            kind,
            text,
            excerpt: None,
        });
    }
    for a in &detail.activities {
        let subject = a.subject.as_deref().filter(|s| !s.is_empty());
        let text = match subject {
            Some(s) => format!("{} · {s}", a.kind.as_str()),
            None => a.kind.as_str().to_owned(),
        };
        let excerpt = (!a.body.trim().is_empty()).then(|| fit(a.body.trim(), EXCERPT_CHARS));
        out.push(TimelineEntry {
            at: a.occurred_at,
            kind: TimelineKind::Activity(a.kind),
            text,
            excerpt,
        });
    }
    // Stable: a field change and an activity at the same instant keep history-first order.
    out.sort_by_key(|e| e.at);
    out
}

fn close_change(
    old: Option<Timestamp>,
    new: Option<Timestamp>,
    slip_min_days: i64,
) -> (TimelineKind, String) {
    match (old, new) {
        (Some(old), Some(new)) => {
            let days = days_between(old, new);
            let kind = if new > old && days >= slip_min_days.max(0) {
                TimelineKind::Slip
            } else {
                TimelineKind::CloseDate
            };
            let verb = if kind == TimelineKind::Slip {
                "slipped"
            } else {
                "moved"
            };
            (
                kind,
                format!("close date {verb} {} → {} ({days:+} d)", ymd(old), ymd(new)),
            )
        }
        (None, Some(new)) => (
            TimelineKind::CloseDate,
            format!("close date set to {}", ymd(new)),
        ),
        (_, None) => (TimelineKind::CloseDate, "close date cleared".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::fixtures::{day, lost_deal};

    #[test]
    fn the_timeline_merges_field_changes_and_activities_in_time_order() {
        let detail = lost_deal();
        let entries = timeline(&detail, 7);
        assert!(
            entries.windows(2).all(|w| w[0].at <= w[1].at),
            "oldest first"
        );
        let stages = entries
            .iter()
            .filter(|e| e.kind == TimelineKind::Stage)
            .count();
        assert_eq!(stages, detail.history.stages.len());
        let activities = entries
            .iter()
            .filter(|e| matches!(e.kind, TimelineKind::Activity(_)))
            .count();
        assert_eq!(activities, detail.activities.len());
        // The close date moved from day 60 to day 81: a slip of 21 days.
        let slip = entries
            .iter()
            .find(|e| e.kind == TimelineKind::Slip)
            .expect("the slip is on the timeline");
        assert_eq!(slip.at, day(45));
        assert!(slip.text.contains("+21 d"), "{}", slip.text);
        // 60,000 → 42,000 is a 30% cut.
        assert!(
            entries
                .iter()
                .any(|e| e.kind == TimelineKind::Amount && e.text.contains("-30%"))
        );
    }

    #[test]
    fn a_small_move_is_not_a_slip_and_clearing_the_date_says_so() {
        assert_eq!(
            close_change(Some(day(10)), Some(day(13)), 7).0,
            TimelineKind::CloseDate
        );
        assert_eq!(
            close_change(Some(day(10)), Some(day(20)), 7).0,
            TimelineKind::Slip
        );
        assert_eq!(
            close_change(Some(day(20)), Some(day(10)), 7).0,
            TimelineKind::CloseDate,
            "earlier is not a slip"
        );
        assert_eq!(close_change(Some(day(1)), None, 7).1, "close date cleared");
    }

    #[test]
    fn the_header_facts_and_threading_as_of_now() {
        let detail = lost_deal();
        let moves = detail.history.close_dates.len() - 1;
        let screen = DealScreen::new(detail, day(80), 7, &Skills::builtin());
        assert_eq!((screen.close_moves, screen.slips), (moves, 1));
        assert!(
            !screen.single_threaded(),
            "a closed deal is not called single-threaded"
        );
        let mut open = lost_deal();
        open.summary.is_closed = false;
        // Long after the last activity nobody is engaged: single-threaded (no one) now.
        let later = DealScreen::new(open, day(400), 7, &Skills::builtin());
        assert_eq!(later.engaged_30d, 0);
        assert!(later.single_threaded());
    }

    #[test]
    fn panes_cycle_and_scrolling_stops_at_the_ends() {
        let mut screen = DealScreen::new(lost_deal(), day(80), 7, &Skills::builtin());
        assert_eq!(screen.pane.step(1), DealPane::People);
        assert_eq!(screen.pane.step(-1), DealPane::Reviews);
        screen.scroll_by(-5);
        assert_eq!(screen.scroll_of(DealPane::Timeline), 0);
        screen.scroll_to_end(true);
        assert_eq!(
            screen.scroll_of(DealPane::Timeline),
            screen.pane_len(DealPane::Timeline) - 1
        );
        screen.scroll_by(100);
        assert_eq!(
            screen.scroll_of(DealPane::Timeline),
            screen.pane_len(DealPane::Timeline) - 1
        );
    }
}
