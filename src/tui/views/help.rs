//! The `?` overlay: every key of the screen in front, read from the bindings themselves.

use super::centered;
use crate::tui::app::{App, Screen};
use crate::tui::keys::{Mode, help};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the help for the screen in front over `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mode = match app.screen {
        Screen::Queue | Screen::Pipeline => Mode::List,
        Screen::Deal => Mode::Deal,
        Screen::Patterns => Mode::Patterns,
        Screen::Lessons => Mode::Lessons,
        Screen::Review => Mode::WizardList,
    };
    let keys = help(mode);
    let key_width = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line<'_>> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_width$}  "), app.theme.header),
                Span::raw(*what),
            ])
        })
        .collect();
    let width = 76.min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys · any key closes "),
        ),
        rect,
    );
}
