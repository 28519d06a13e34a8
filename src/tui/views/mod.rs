//! Drawing: each view takes the state and a frame, and nothing else.

pub mod deal;
pub mod deals;
pub mod help;
pub mod lessons;
pub mod patterns;
pub mod review;

use super::app::{App, Load, ROWS_BOTTOM, ROWS_TOP, SaveState, Screen, SyncState};
use super::keys::hints;
use crate::domain::time::days_between;
use crate::format::{fit, grouped};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(ROWS_BOTTOM),
    ])
    .areas(frame.area());
    debug_assert_eq!(ROWS_TOP, 2, "title line + table header");

    frame.render_widget(
        Paragraph::new(title_line(app, title.width)).style(app.theme.title),
        title,
    );
    match &app.load {
        // Mining reads the cache on its own: its screen does not wait for the lists.
        _ if app.screen == Screen::Patterns => patterns::draw(frame, body, app),
        _ if app.screen == Screen::Lessons => lessons::draw(frame, body, app),
        Load::Ready => match app.screen {
            Screen::Patterns => patterns::draw(frame, body, app),
            Screen::Lessons => lessons::draw(frame, body, app),
            Screen::Queue | Screen::Pipeline => deals::draw(frame, body, app),
            Screen::Deal => deal::draw(frame, body, app),
            Screen::Review => review::draw(frame, body, app),
        },
        Load::Loading => frame.render_widget(
            Paragraph::new(" Reading the cache…").style(app.theme.dim),
            body,
        ),
        Load::Failed(message) => frame.render_widget(
            Paragraph::new(vec![
                Line::styled(format!(" {message}"), app.theme.error),
                Line::raw(" Press q to quit."),
            ]),
            body,
        ),
    }
    frame.render_widget(
        Paragraph::new(status_line(app)).style(app.theme.status),
        status,
    );
    if app.help {
        help::draw(frame, body, app);
    }
}

/// The title bar: where you are, how much is there, and what narrows it.
fn title_line(app: &App, width: u16) -> String {
    let demo = if app.is_demo { " · demo history" } else { "" };
    let text = match (&app.load, app.screen) {
        (_, Screen::Lessons) => {
            let count = match &app.lessons.data {
                Some(d) => format!(" {}", d.rows.len()),
                None => String::new(),
            };
            format!(
                " dealtrace ·  1 Review queue {}  2 Pipeline {}  3 Patterns  [4 Lessons{count}]{demo}",
                grouped(app.rows.queue_len() as i64),
                grouped(app.rows.deals.len() as i64),
            )
        }
        (_, Screen::Patterns) => {
            let surfaced = match &app.patterns.mined {
                Some(m) => format!(" {}", m.patterns.len()),
                None => String::new(),
            };
            format!(
                " dealtrace ·  1 Review queue {}  2 Pipeline {}  [3 Patterns{surfaced}]{demo}",
                grouped(app.rows.queue_len() as i64),
                grouped(app.rows.deals.len() as i64),
            )
        }
        (Load::Loading, _) => format!(" dealtrace · loading…{demo}"),
        (Load::Failed(_), _) => " dealtrace · not loaded".to_owned(),
        (Load::Ready, Screen::Queue | Screen::Pipeline) => {
            let list = app.current_list();
            let queue = grouped(app.rows.queue_len() as i64);
            let pipeline = if app.complete {
                grouped(app.rows.deals.len() as i64)
            } else {
                "…".to_owned()
            };
            let tabs = match app.screen {
                Screen::Queue => format!("[1 Review queue {queue}]  2 Pipeline {pipeline}"),
                _ => format!(" 1 Review queue {queue}  [2 Pipeline {pipeline}]"),
            };
            let mut narrow = Vec::new();
            if !list.query.is_empty() {
                narrow.push(format!("“{}”", list.query));
            }
            if list.filter.is_active() {
                narrow.push(list.filter.describe());
            }
            let shown = if narrow.is_empty() {
                String::new()
            } else {
                format!(
                    " · {} shown: {}",
                    grouped(list.rows.len() as i64),
                    narrow.join(" · ")
                )
            };
            let dir = if list.descending { "↓" } else { "↑" };
            let with_patterns = format!(
                " dealtrace · {tabs}  3 Patterns · by {}{dir}{shown}{demo}",
                list.sort.label()
            );
            // The third tab is named only where it fits; the key works (and `?` lists it) anyway.
            if with_patterns.chars().count() <= usize::from(width) {
                with_patterns
            } else {
                format!(
                    " dealtrace · {tabs} · by {}{dir}{shown}{demo}",
                    list.sort.label()
                )
            }
        }
        (Load::Ready, Screen::Deal | Screen::Review) => {
            let what = if app.screen == Screen::Review {
                "Review"
            } else {
                "Deal"
            };
            match &app.deal {
                Some(d) => format!(
                    " dealtrace · {what} · {} · {}{demo}",
                    d.detail.summary.name,
                    d.detail.summary.company.as_deref().unwrap_or("no company")
                ),
                None => format!(" dealtrace · {what} · loading…{demo}"),
            }
        }
    };
    fit(&text, usize::from(width))
}

/// The status line: cache freshness and background work on the left, key hints on the right.
fn status_line(app: &App) -> Line<'static> {
    let mode = app.mode();
    if mode == super::keys::Mode::Search {
        let query = &app.current_list().query;
        let left = format!(" /{query}▏");
        return pad_line(left, hints(mode, false), app.width);
    }
    let freshness = match (app.last_sync, app.is_demo) {
        (_, true) => "demo, never synced".to_owned(),
        (None, false) => "never synced".to_owned(),
        (Some(at), false) => match app.clock {
            Some(now) => format!("synced {} ago", age(days_between(at, now))),
            None => format!("synced {}", crate::domain::time::ymd(at)),
        },
    };
    let mut left = match &app.sync {
        SyncState::Idle => format!(" {} · {freshness}", app.cache_label),
        SyncState::Running { phase, done, total } => match total {
            Some(t) => format!(" {} · syncing {phase}: {done}/{t} deals…", app.cache_label),
            None if *done > 0 => format!(" {} · syncing {phase}: {done} deals…", app.cache_label),
            None => format!(" {} · syncing {phase}…", app.cache_label),
        },
        SyncState::Done(summary) => format!(" {} · synced: {summary}", app.cache_label),
        SyncState::Failed(why) => format!(" {} · sync stopped: {why}", app.cache_label),
    };
    match &app.saving {
        SaveState::Idle => {}
        SaveState::Saving(_) => left.push_str(" · saving…"),
        SaveState::Saved => left.push_str(" · draft saved"),
        SaveState::Failed(why) => left.push_str(&format!(" · NOT SAVED: {why}")),
    }
    if let Some(notice) = &app.notice {
        left.push_str(&format!(" · {notice}"));
    }
    pad_line(left, hints(mode, !app.is_demo), app.width)
}

/// `left`, then `right` flush with the right edge when both fit; else `left` cut to fit.
fn pad_line(left: String, right: &str, width: u16) -> Line<'static> {
    let width = usize::from(width);
    let pad = width.saturating_sub(left.chars().count() + right.chars().count());
    if pad == 0 {
        return Line::from(Span::raw(fit(&left, width)));
    }
    Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::raw(right.to_owned()),
    ])
}

fn age(days: i64) -> String {
    match days {
        d if d <= 0 => "less than a day".to_owned(),
        1 => "1 day".to_owned(),
        d => format!("{d} days"),
    }
}

/// A rectangle of at most `width` × `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
