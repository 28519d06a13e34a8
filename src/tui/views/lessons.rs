//! The Lessons screen: every lesson with its verdict, its effect over time and the open deals
//! it fires on now; for the selected one, its recommendation and the outcomes when it was
//! followed against when not.

use crate::advisor::follow::FollowTable;
use crate::cmd::lessons::trigger_text;
use crate::domain::time::ymd;
use crate::format::fit;
use crate::tui::app::App;
use crate::tui::lessons_view::{LessonRow, LessonsData, sparkline};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Padding, Paragraph, Row, Table, TableState, Wrap};

/// Draws the Lessons screen into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let screen = &app.lessons;
    let Some(data) = &screen.data else {
        let text = match (&screen.failed, screen.loading) {
            (Some(why), _) => format!(" Reading the lessons failed: {why}"),
            (None, true) => {
                " Reading the lessons, their evidence and the open deals they fire on…".to_owned()
            }
            (None, false) => " Press 4 to read the lessons.".to_owned(),
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
        return;
    };
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(summary(data, app)).style(app.theme.dim), top);
    if data.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(
                " No lessons yet. On the Patterns screen (3), p promotes the selected pattern to a \
                 proposed lesson; `dealtrace lessons import` reads a team's library.",
            )
            .wrap(Wrap { trim: false }),
            rest,
        );
        return;
    }
    let list_rows = (data.rows.len() as u16 + 1).min(rest.height / 3).max(3);
    let [list, detail] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Fill(1)]).areas(rest);
    table(frame, list, app, data);
    if let Some(row) = screen.selected_row() {
        details(frame, detail, app, row);
    }
}

fn summary(data: &LessonsData, app: &App) -> String {
    let active = data
        .rows
        .iter()
        .filter(|r| r.lesson.status == crate::domain::LessonStatus::Active)
        .count();
    let attention = data
        .rows
        .iter()
        .filter(|r| r.latest().is_some_and(|e| e.verdict.needs_attention()))
        .count();
    let firing: usize = data.rows.iter().map(|r| r.firing).sum();
    let mut text = format!(
        " {} lesson{}, {active} active · {attention} need attention · {firing} recommendation{} on open deals as of {}",
        data.rows.len(),
        if data.rows.len() == 1 { "" } else { "s" },
        if firing == 1 { "" } else { "s" },
        ymd(data.as_of)
    );
    if app.lessons.loading {
        text.push_str(" · reading…");
    }
    fit(&text, usize::from(app.width))
}

fn effect(row: &LessonRow) -> String {
    match row.latest() {
        Some(e) if e.effect.is_finite() => {
            format!("{:.2} ({:.2}–{:.2})", e.effect, e.ci_low, e.ci_high)
        }
        Some(_) => "too few deals".into(),
        None => "not measured".into(),
    }
}

fn table(frame: &mut Frame<'_>, area: Rect, app: &App, data: &LessonsData) {
    let wide = area.width >= 120;
    let mut header = vec![
        "Status",
        "Verdict",
        "Effect (95% CI)",
        "Trend",
        "Fires",
        "Lesson",
    ];
    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(18),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    if wide {
        header.insert(5, "Followed vs not");
        widths.insert(5, Constraint::Length(22));
    }
    let rows = data.rows.iter().map(|r| {
        let verdict = match r.latest() {
            Some(e) if e.verdict.needs_attention() => format!("! {}", e.verdict.as_str()),
            Some(e) => format!("  {}", e.verdict.as_str()),
            None => "  —".into(),
        };
        let style = if r.latest().is_some_and(|e| e.verdict.needs_attention()) {
            app.theme.warn
        } else {
            ratatui::style::Style::new()
        };
        let effects: Vec<f64> = r.trend.iter().map(|e| e.effect).collect();
        let tail = &effects[effects.len().saturating_sub(8)..];
        let mut cells = vec![
            Cell::from(r.lesson.status.as_str()),
            Cell::from(verdict).style(style),
            Cell::from(effect(r)),
            Cell::from(sparkline(tail)),
            Cell::from(Text::from(r.firing.to_string()).right_aligned()),
        ];
        if wide {
            cells.push(Cell::from(compact(&r.follow.replay)));
        }
        cells.push(Cell::from(r.lesson.statement.clone()));
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.header))
        .column_spacing(1)
        .row_highlight_style(app.theme.selected);
    let mut state = TableState::default().with_selected(Some(app.lessons.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

fn share(events: u64, n: u64) -> String {
    if n == 0 {
        "—".into()
    } else {
        format!("{events}/{n} = {}", crate::format::percent(events, n))
    }
}

/// "12/27 vs 24/52": the replay's counts, for the wide list.
fn compact(t: &FollowTable) -> String {
    if t.n_followed + t.n_not_followed == 0 {
        return "—".into();
    }
    format!(
        "{}/{} vs {}/{}",
        t.events_followed, t.n_followed, t.events_not_followed, t.n_not_followed
    )
}

fn follow_row<'a>(label: &'a str, t: &FollowTable) -> Row<'a> {
    let rr = match (t.rr, t.ci_low, t.ci_high) {
        (Some(rr), Some(lo), Some(hi)) => format!(
            "{rr:.2} ({lo:.2}–{hi:.2}){}",
            if t.corrected { " †" } else { "" }
        ),
        _ => "—".into(),
    };
    Row::new(vec![
        Cell::from(label),
        Cell::from(share(t.events_followed, t.n_followed)),
        Cell::from(share(t.events_not_followed, t.n_not_followed)),
        Cell::from(rr),
        Cell::from(t.p.map_or("—".into(), |p| format!("{p:.3}"))),
        Cell::from(t.pending.to_string()),
    ])
}

fn details(frame: &mut Frame<'_>, area: Rect, app: &App, row: &LessonRow) {
    let l = &row.lesson;
    let block = Block::new()
        .borders(Borders::TOP)
        .padding(Padding::left(1))
        .title(format!(" Lesson v{} · {} ", l.version, l.status.as_str()))
        .title_style(app.theme.focus);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let label = |s: &'static str| Span::styled(format!("{s:<10} "), app.theme.header);
    let mut lines = vec![
        Line::raw(l.statement.clone()),
        Line::from(vec![
            label("Recommend"),
            Span::raw(l.recommendation.clone()),
        ]),
        Line::from(vec![
            label("Fires on"),
            Span::raw(format!(
                "{} — {} open deal(s) now",
                trigger_text(l),
                row.firing
            )),
        ]),
    ];
    let evidence = match row.latest() {
        Some(e) if e.effect.is_finite() => format!(
            "{} · {} · q {:.3} · {}/{} vs {}/{} · data to {}",
            e.verdict.as_str(),
            effect(row),
            e.q,
            e.events_exposed,
            e.n_exposed,
            e.events_unexposed,
            e.n_unexposed,
            ymd(e.cutoff)
        ),
        Some(e) => format!("{} · data to {}", e.verdict.as_str(), ymd(e.cutoff)),
        None => "not measured yet: mining (3, then M) re-measures every lesson".into(),
    };
    lines.push(Line::from(vec![label("Evidence"), Span::raw(evidence)]));
    lines.push(Line::from(vec![
        label("Followed?"),
        Span::raw(format!(
            "{} within the window, when followed and when not",
            row.follow.outcome.replace('_', " ")
        )),
    ]));
    let text_rows = lines.len() as u16 + 1;
    let [text, table_area, foot] = Layout::vertical([
        Constraint::Length(text_rows),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text);
    let table = Table::new(
        [
            follow_row("recorded", &row.follow.live),
            follow_row("replayed*", &row.follow.replay),
        ],
        [
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(14),
            Constraint::Length(18),
            Constraint::Length(6),
            Constraint::Length(7),
        ],
    )
    .header(
        Row::new([
            "",
            "followed",
            "not followed",
            "RR (95% CI)",
            "p",
            "pending",
        ])
        .style(app.theme.header),
    )
    .column_spacing(1);
    frame.render_widget(table, table_area);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(
                "* on history, before the lesson: deals that changed course within 14 days vs \
                 those that did not; observational",
                app.theme.dim,
            ),
            Line::styled("a activate · x retire · p back to proposed", app.theme.dim),
        ])
        .wrap(Wrap { trim: false }),
        foot,
    );
}
