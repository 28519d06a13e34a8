//! The deal list.

use crate::format::{amount, fit};
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Text;
use ratatui::widgets::{Cell, Row, Table, TableState};

/// Below this width the owner column is dropped so the deal name keeps room to be read.
const WIDE: u16 = 100;

/// Draws the deal table into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let wide = area.width >= WIDE;
    let mut header = vec!["Deal", "Company"];
    let mut widths = vec![Constraint::Fill(3), Constraint::Fill(2)];
    if wide {
        header.push("Owner");
        widths.push(Constraint::Length(18));
    }
    header.extend(["Stage", "Amount", "Close", ""]);
    widths.extend([
        Constraint::Length(11),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(4),
    ]);

    let visible = app.deals.iter().skip(app.offset).take(app.page_rows());
    let rows = visible.map(|d| {
        let (mark, style) = match (d.is_closed, d.is_won) {
            (false, _) => ("", Style::new()),
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
            Cell::from(mark).style(style),
        ]);
        Row::new(cells)
    });

    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.header))
        .column_spacing(1)
        .row_highlight_style(app.theme.selected);
    // The offset is part of the app state (so scrolling is pure and tested); the table only
    // draws the window it is given.
    let mut state =
        TableState::default().with_selected(Some(app.selected.saturating_sub(app.offset)));
    frame.render_stateful_widget(table, area, &mut state);
}
