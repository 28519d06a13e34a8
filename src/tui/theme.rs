//! Colours and emphasis, in one place so that `NO_COLOR` is honoured everywhere.

use ratatui::style::{Color, Modifier, Style};

/// The styles the views use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// The title bar.
    pub title: Style,
    /// Table headers.
    pub header: Style,
    /// The selected row.
    pub selected: Style,
    /// Secondary text.
    pub dim: Style,
    /// Won deals.
    pub won: Style,
    /// Lost deals.
    pub lost: Style,
    /// The status line.
    pub status: Style,
    /// Errors.
    pub error: Style,
    /// Queue badges.
    pub badge: Style,
    /// The border and title of the pane with focus.
    pub focus: Style,
    /// Facts that call for attention (single-threaded now, a slip).
    pub warn: Style,
}

impl Theme {
    /// The theme for a terminal with or without colour. Without colour, emphasis uses only
    /// bold, reverse video and underline, which `NO_COLOR` allows.
    pub fn new(color: bool) -> Theme {
        if color {
            Theme {
                title: Style::new()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                header: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                selected: Style::new()
                    .bg(Color::DarkGray)
                    .add_modifier(Modifier::BOLD),
                dim: Style::new().fg(Color::Gray),
                won: Style::new().fg(Color::Green),
                lost: Style::new().fg(Color::Red),
                status: Style::new().fg(Color::Black).bg(Color::Gray),
                error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                badge: Style::new().fg(Color::Yellow),
                focus: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                warn: Style::new()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            }
        } else {
            Theme {
                title: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                selected: Style::new().add_modifier(Modifier::REVERSED),
                dim: Style::new(),
                won: Style::new(),
                lost: Style::new(),
                status: Style::new().add_modifier(Modifier::REVERSED),
                error: Style::new().add_modifier(Modifier::BOLD),
                badge: Style::new(),
                focus: Style::new().add_modifier(Modifier::BOLD),
                warn: Style::new().add_modifier(Modifier::BOLD),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_theme_has_no_colours() {
        let t = Theme::new(false);
        for style in [
            t.title, t.header, t.selected, t.dim, t.won, t.lost, t.status, t.error, t.badge,
            t.focus, t.warn,
        ] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
    }
}
