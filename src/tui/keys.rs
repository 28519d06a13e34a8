//! Terminal events to actions: the key bindings in one place.

use super::action::Action;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

/// Lines a mouse wheel notch scrolls.
pub const WHEEL_LINES: usize = 3;

/// The actions a terminal event stands for (a wheel notch is several).
pub fn actions_for(event: &Event) -> Vec<Action> {
    match event {
        Event::Key(key) => key_action(key).into_iter().collect(),
        Event::Mouse(mouse) => mouse_actions(mouse),
        Event::Resize(width, height) => vec![Action::Resize {
            width: *width,
            height: *height,
        }],
        _ => Vec::new(),
    }
}

/// The action bound to a key, if any.
pub fn key_action(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('s') => Action::StartSync,
        _ => return None,
    })
}

fn mouse_actions(mouse: &MouseEvent) -> Vec<Action> {
    match mouse.kind {
        MouseEventKind::ScrollDown => vec![Action::Down; WHEEL_LINES],
        MouseEventKind::ScrollUp => vec![Action::Up; WHEEL_LINES],
        MouseEventKind::Down(_) => vec![Action::ClickLine(mouse.row)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventState, MouseButton};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn vim_keys_and_arrows_move() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            actions_for(&key(KeyCode::Char('j'), none)),
            vec![Action::Down]
        );
        assert_eq!(actions_for(&key(KeyCode::Down, none)), vec![Action::Down]);
        assert_eq!(
            actions_for(&key(KeyCode::Char('k'), none)),
            vec![Action::Up]
        );
        assert_eq!(
            actions_for(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            vec![Action::Bottom]
        );
        assert_eq!(
            actions_for(&key(KeyCode::Char('g'), none)),
            vec![Action::Top]
        );
        assert_eq!(
            actions_for(&key(KeyCode::PageDown, none)),
            vec![Action::PageDown]
        );
        assert_eq!(actions_for(&key(KeyCode::Char('x'), none)), vec![]);
    }

    #[test]
    fn q_esc_and_ctrl_c_quit() {
        assert_eq!(
            actions_for(&key(KeyCode::Char('q'), KeyModifiers::NONE)),
            vec![Action::Quit]
        );
        assert_eq!(
            actions_for(&key(KeyCode::Esc, KeyModifiers::NONE)),
            vec![Action::Quit]
        );
        assert_eq!(
            actions_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            vec![Action::Quit]
        );
    }

    #[test]
    fn releases_are_ignored() {
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert!(actions_for(&release).is_empty());
    }

    #[test]
    fn mouse_wheel_and_click() {
        let mouse = |kind| {
            Event::Mouse(MouseEvent {
                kind,
                column: 5,
                row: 7,
                modifiers: KeyModifiers::NONE,
            })
        };
        assert_eq!(
            actions_for(&mouse(MouseEventKind::ScrollDown)).len(),
            WHEEL_LINES
        );
        assert_eq!(
            actions_for(&mouse(MouseEventKind::Down(MouseButton::Left))),
            vec![Action::ClickLine(7)]
        );
        assert_eq!(
            actions_for(&Event::Resize(100, 30)),
            vec![Action::Resize {
                width: 100,
                height: 30
            }]
        );
    }
}
