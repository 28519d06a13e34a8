//! The review queue and the pipeline: one table over a [`ListView`](crate::tui::list::ListView).

use crate::domain::queue::QueueReviewStatus;
use crate::format::{amount, fit};
use crate::tui::app::{App, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

/// Below this width the owner column is dropped so the deal name keeps room to be read.
const WIDE: u16 = 100;

/// Draws the list in front into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let list = app.current_list();
    let queue = app.screen == Screen::Queue;
    if !queue && !app.complete {
        frame.render_widget(
            Paragraph::new(" Reading every deal… (the review queue is ready: press 1)")
                .style(app.theme.dim),
            area,
        );
        return;
    }
    if list.rows.is_empty() {
        let message = if list.query.is_empty() && !list.filter.is_active() {
            if queue {
                " Nothing to review: no deal closed, slipped, stalled or passed its close date \
                 since it was last reviewed. Press 2 for the whole pipeline."
            } else {
                " The cache holds no deals yet: run `dealtrace sync` or `dealtrace import csv`."
            }
        } else {
            " No deal matches. Press x to clear the search and filters."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, app.theme.dim))
                .wrap(ratatui::widgets::Wrap { trim: false }),
            area,
        );
        return;
    }
    let wide = area.width >= WIDE;
    let mut header = vec!["Deal", "Company"];
    let mut widths = vec![Constraint::Fill(3), Constraint::Fill(2)];
    if wide {
        header.push("Owner");
        widths.push(Constraint::Length(16));
    }
    header.extend(["Stage", "Amount", "Close"]);
    widths.extend([
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Length(10),
    ]);
    header.push(if queue { "Why" } else { "Status" });
    widths.push(Constraint::Length(if wide { 24 } else { 13 }));
    if wide {
        header.push("Review");
        widths.push(Constraint::Length(8));
    }

    let visible = list.rows.iter().skip(list.offset).take(app.page_rows());
    let rows = visible.map(|&i| {
        let d = &app.rows.deals[i as usize];
        let mark = &app.rows.marks[i as usize];
        let (status, style) = match (d.is_closed, d.is_won) {
            (false, _) => ("open", Style::new()),
            (true, true) => ("won", app.theme.won),
            (true, false) => ("lost", app.theme.lost),
        };
        let mut cells = vec![
            Cell::from(d.name.as_str()),
            Cell::from(d.company.as_deref().unwrap_or("")),
        ];
        if wide {
            cells.push(Cell::from(d.owner.as_deref().unwrap_or("")));
        }
        cells.extend([
            Cell::from(fit(&d.stage, 11)),
            Cell::from(Text::from(amount(d.amount, "")).right_aligned()),
            Cell::from(
                d.close_date
                    .map(crate::domain::time::ymd)
                    .unwrap_or_default(),
            ),
        ]);
        if queue {
            let mut badges: Vec<&str> = mark
                .badges
                .iter()
                .map(|b| if wide { b.as_str() } else { b.label() })
                .collect();
            if mark.at_risk {
                badges.push(if wide { "at_risk" } else { "RISK" });
            }
            // Narrow screens have no review column: a mark says where the review stands.
            if !wide {
                badges.extend(match mark.review {
                    QueueReviewStatus::None => None,
                    QueueReviewStatus::Draft => Some("✎"),
                    QueueReviewStatus::Final => Some("✓"),
                });
            }
            cells.push(Cell::from(badges.join(" ")).style(app.theme.badge));
        } else {
            cells.push(Cell::from(status).style(style));
        }
        if wide {
            cells.push(Cell::from(review_label(&mark.review)));
        }
        Row::new(cells)
    });

    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.header))
        .column_spacing(1)
        .row_highlight_style(app.theme.selected);
    // The offset is part of the app state (so scrolling is pure and tested); the table only
    // draws the window it is given.
    let mut state =
        TableState::default().with_selected(Some(list.selected.saturating_sub(list.offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn review_label(review: &QueueReviewStatus) -> String {
    match review {
        QueueReviewStatus::None => String::new(),
        QueueReviewStatus::Draft => "draft".into(),
        QueueReviewStatus::Final => "done".into(),
    }
}
