//! Drawing: each view takes the state and a frame, and nothing else.

pub mod deals;

use super::app::{App, Load, ROWS_BOTTOM, ROWS_TOP, SyncState};
use crate::domain::time::days_between;
use crate::format::grouped;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
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

    let count = match app.load {
        Load::Ready => format!("{} deals", grouped(app.deals.len() as i64)),
        Load::Loading => "loading…".to_owned(),
        Load::Failed(_) => "not loaded".to_owned(),
    };
    let demo = if app.is_demo { " · demo history" } else { "" };
    frame.render_widget(
        Paragraph::new(format!(" dealtrace · Deals · {count}{demo}")).style(app.theme.title),
        title,
    );

    match &app.load {
        Load::Ready => deals::draw(frame, body, app),
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
}

/// The status line: cache freshness on the left, key hints on the right.
fn status_line(app: &App) -> Line<'static> {
    let freshness = match (app.last_sync, app.is_demo) {
        (_, true) => "generated demo, never synced".to_owned(),
        (None, false) => "never synced".to_owned(),
        (Some(at), false) => match app.clock {
            Some(now) => format!("synced {} ago", age(days_between(at, now))),
            None => format!("synced {}", crate::domain::time::ymd(at)),
        },
    };
    let left = match &app.sync {
        SyncState::Idle => format!(" {} · {freshness}", app.cache_label),
        SyncState::Running { phase, done, total } => match total {
            Some(t) => format!(" {} · syncing {phase}: {done}/{t} deals…", app.cache_label),
            None if *done > 0 => format!(" {} · syncing {phase}: {done} deals…", app.cache_label),
            None => format!(" {} · syncing {phase}…", app.cache_label),
        },
        SyncState::Done(summary) => format!(" {} · synced: {summary}", app.cache_label),
        SyncState::Failed(why) => format!(" {} · sync stopped: {why}", app.cache_label),
    };
    // A demo history has no CRM behind it, so it is not offered a sync.
    let hints = if app.is_demo {
        "j/k move  g/G ends  q quit "
    } else {
        "j/k move  g/G ends  s sync  q quit "
    };
    let width = usize::from(app.width);
    let pad = width.saturating_sub(left.chars().count() + hints.chars().count());
    if pad == 0 {
        return Line::from(Span::raw(crate::format::fit(&left, width)));
    }
    Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::raw(hints),
    ])
}

fn age(days: i64) -> String {
    match days {
        d if d <= 0 => "less than a day".to_owned(),
        1 => "1 day".to_owned(),
        d => format!("{d} days"),
    }
}
