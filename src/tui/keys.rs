//! Terminal events to actions: every key binding in one place, as data the help screen and the
//! status line read too, so the help can never disagree with what the keys do.

use super::action::Action;
use crate::domain::LessonStatus;
use crate::review::WizardInput;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

/// Lines a mouse wheel notch scrolls.
pub const WHEEL_LINES: usize = 3;

/// What keys mean right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The review queue or the pipeline.
    List,
    /// Typing a `/` search.
    Search,
    /// The deal view.
    Deal,
    /// The Patterns screen.
    Patterns,
    /// The Lessons screen.
    Lessons,
    /// The review wizard, a list or selector focused (letters are commands).
    WizardList,
    /// The review wizard, a text field focused (letters are text).
    WizardText,
    /// The help overlay.
    Help,
}

/// The actions a terminal event stands for in `mode` (a wheel notch is several).
pub fn actions_for(event: &Event, mode: Mode) -> Vec<Action> {
    match event {
        Event::Key(key) => key_action(key, mode).into_iter().collect(),
        // Under the help the screen does not move; a click closes the help.
        Event::Mouse(mouse) if mode == Mode::Help => match mouse.kind {
            MouseEventKind::Down(_) => vec![Action::CloseHelp],
            _ => Vec::new(),
        },
        Event::Mouse(mouse) => mouse_actions(mouse),
        Event::Resize(width, height) => vec![Action::Resize {
            width: *width,
            height: *height,
        }],
        _ => Vec::new(),
    }
}

/// The action bound to a key in `mode`, if any.
pub fn key_action(key: &KeyEvent, mode: Mode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Help => Some(Action::CloseHelp),
        Mode::Search => search_key(key),
        Mode::WizardList | Mode::WizardText => wizard_key(key, mode == Mode::WizardText),
        Mode::List | Mode::Deal | Mode::Patterns | Mode::Lessons => browse_key(key, ctrl, mode),
    }
}

fn browse_key(key: &KeyEvent, ctrl: bool, mode: Mode) -> Option<Action> {
    let list = mode == Mode::List;
    let patterns = mode == Mode::Patterns;
    let lessons = mode == Mode::Lessons;
    Some(match key.code {
        KeyCode::Char('f' | 'd') if ctrl => Action::PageDown,
        KeyCode::Char('b' | 'u') if ctrl => Action::PageUp,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('i') if patterns => Action::ToggleInsufficient,
        KeyCode::Char('M') if patterns => Action::MineAgain,
        KeyCode::Char('p') if patterns => Action::Promote,
        KeyCode::Char('a') if lessons => Action::SetLessonStatus(LessonStatus::Active),
        KeyCode::Char('x') if lessons => Action::SetLessonStatus(LessonStatus::Retired),
        KeyCode::Char('p') if lessons => Action::SetLessonStatus(LessonStatus::Proposed),
        KeyCode::Char('r') if !patterns && !lessons => Action::Review,
        KeyCode::Char('m') if !patterns && !lessons => Action::MarkReviewed,
        KeyCode::Char('s') => Action::StartSync,
        KeyCode::Char('1') => Action::ShowQueue,
        KeyCode::Char('2') => Action::ShowPipeline,
        KeyCode::Char('3') => Action::ShowPatterns,
        KeyCode::Char('4') => Action::ShowLessons,
        KeyCode::Char('/') if list => Action::StartSearch,
        KeyCode::Char('o') if list => Action::CycleOwner,
        KeyCode::Char('t') if list => Action::CycleTeam,
        KeyCode::Char('b') if list => Action::CycleBadge,
        KeyCode::Char('S') if list => Action::CycleSort,
        KeyCode::Char('R') if list => Action::ReverseSort,
        KeyCode::Char('x') if list => Action::ClearFilters,
        _ => return None,
    })
}

fn search_key(key: &KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Esc => Action::SearchCancel,
        KeyCode::Enter => Action::SearchAccept,
        KeyCode::Backspace => Action::SearchBackspace,
        KeyCode::Down => Action::Down,
        KeyCode::Up => Action::Up,
        KeyCode::Char(c) => Action::SearchInput(c),
        _ => return None,
    })
}

fn wizard_key(key: &KeyEvent, text: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let input = match key.code {
        KeyCode::Esc => return Some(Action::CloseWizard),
        KeyCode::Char('s') if ctrl => WizardInput::Save,
        KeyCode::Tab => WizardInput::FocusNext,
        KeyCode::BackTab => WizardInput::FocusPrev,
        KeyCode::Enter | KeyCode::PageDown => WizardInput::NextStep,
        KeyCode::PageUp => WizardInput::PrevStep,
        KeyCode::Up => WizardInput::Up,
        KeyCode::Down => WizardInput::Down,
        KeyCode::Left => WizardInput::Left,
        KeyCode::Right => WizardInput::Right,
        KeyCode::Backspace if text => WizardInput::Backspace,
        KeyCode::Char(c) if text && !ctrl => WizardInput::Char(c),
        KeyCode::Char('?') => return Some(Action::Help),
        KeyCode::Char('k') => WizardInput::Up,
        KeyCode::Char('j') => WizardInput::Down,
        KeyCode::Char('h') => WizardInput::Left,
        KeyCode::Char('l') => WizardInput::Right,
        KeyCode::Char(' ') => WizardInput::Toggle,
        KeyCode::Char('p' | '*') => WizardInput::MarkPrimary,
        KeyCode::Char('a') => WizardInput::Add,
        KeyCode::Char('d') | KeyCode::Delete => WizardInput::Remove,
        _ => return None,
    };
    Some(Action::Wizard(input))
}

fn mouse_actions(mouse: &MouseEvent) -> Vec<Action> {
    match mouse.kind {
        MouseEventKind::ScrollDown => vec![Action::Down; WHEEL_LINES],
        MouseEventKind::ScrollUp => vec![Action::Up; WHEEL_LINES],
        MouseEventKind::Down(_) => vec![Action::ClickLine(mouse.row)],
        _ => Vec::new(),
    }
}

/// Every key of `mode` with what it does, for the `?` screen.
pub fn help(mode: Mode) -> &'static [(&'static str, &'static str)] {
    match mode {
        Mode::List | Mode::Search | Mode::Help => &[
            ("j/k ↑/↓", "move"),
            ("g/G Home/End", "first / last deal"),
            ("PgUp/PgDn Space", "page up / down"),
            ("Enter", "open the deal"),
            (
                "r",
                "review the deal (resumes a draft, amends a final review)",
            ),
            (
                "m",
                "mark reviewed (back in the queue when something new happens)",
            ),
            ("/", "search name, company, owner (Enter keeps, Esc clears)"),
            ("o / t / b", "filter by owner / team / badge (cycles)"),
            ("x", "clear search and filters"),
            ("S / R", "next sort order / reverse it"),
            ("1 / 2  Tab", "review queue / pipeline"),
            (
                "3 / 4",
                "patterns mined from the history / the lesson library",
            ),
            ("s", "sync from the CRM in the background"),
            ("mouse", "click selects, wheel scrolls"),
            ("?", "this help"),
            ("q  Ctrl-C", "quit (drafts are always saved)"),
        ],
        Mode::Deal => &[
            ("Tab / Shift-Tab", "next / previous pane"),
            ("j/k ↑/↓ PgUp/PgDn", "scroll the pane"),
            ("g/G", "top / bottom of the pane"),
            ("r", "review this deal"),
            ("m", "mark reviewed"),
            ("s", "sync from the CRM in the background"),
            ("Esc", "back to the list (or the patterns)"),
            ("1 / 2 / 3", "review queue / pipeline / patterns"),
            ("?", "this help"),
            ("q  Ctrl-C", "quit"),
        ],
        Mode::Patterns => &[
            ("j/k ↑/↓ PgUp/PgDn", "move"),
            ("g/G Home/End", "first / last"),
            ("Enter", "the deals behind the pattern; on a deal, open it"),
            ("Tab", "between the patterns and the selected one's deals"),
            ("Esc", "back to the patterns (from them: to the list)"),
            ("i", "candidates that lacked the data to be tested"),
            ("p", "promote the selected pattern to a proposed lesson"),
            ("M", "mine again (the run is in the background)"),
            ("s", "sync from the CRM in the background"),
            ("1 / 2 / 3", "review queue / pipeline / patterns"),
            ("?", "this help"),
            ("q  Ctrl-C", "quit"),
        ],
        Mode::Lessons => &[
            ("j/k ↑/↓", "move"),
            ("a", "activate the lesson: it advises open deals"),
            ("x", "retire it (kept for the record)"),
            ("p", "back to proposed"),
            ("1 / 2 / 3", "review queue / pipeline / patterns"),
            ("Esc", "back to the list"),
            ("?", "this help"),
            ("q  Ctrl-C", "quit"),
        ],
        Mode::WizardList | Mode::WizardText => &[
            ("Enter PgDn", "next step (checks this one)"),
            ("PgUp", "previous step (keeps everything)"),
            ("Tab / Shift-Tab", "next / previous field"),
            ("↑/↓ (j/k in lists)", "move in a list"),
            ("←/→ (h/l)", "change the outcome"),
            ("Space", "select a reason / include a moment"),
            ("↑/↓ in State", "pick a key=value pair; emptied pairs go"),
            ("p", "make the reason under the cursor primary"),
            ("a / d", "add / remove a moment or lesson"),
            ("Ctrl-S", "on the summary: save as final"),
            ("Esc", "leave; the draft is already saved"),
            ("?", "this help (in a list)"),
            ("Ctrl-C", "quit (the draft is already saved)"),
        ],
    }
}

/// The short key hints the status line shows in `mode`.
pub fn hints(mode: Mode, can_sync: bool) -> &'static str {
    match mode {
        Mode::List if can_sync => "/ search  ⏎ open  r review  s sync  ? help  q quit ",
        Mode::List => "/ search  ⏎ open  r review  ? help  q quit ",
        Mode::Search => "Enter keep  Esc clear ",
        Mode::Deal => "Tab pane  r review  Esc back  ? help ",
        Mode::Patterns => "⏎ deals  p promote  M mine  ? help ",
        Mode::Lessons => "a activate  x retire  ? help ",
        Mode::WizardList | Mode::WizardText => "⏎ next  PgUp back  Tab field  Esc leave ",
        Mode::Help => "any key closes ",
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

    fn press(code: KeyCode, mode: Mode) -> Vec<Action> {
        actions_for(&key(code, KeyModifiers::NONE), mode)
    }

    #[test]
    fn vim_keys_and_arrows_move() {
        for mode in [Mode::List, Mode::Deal] {
            assert_eq!(press(KeyCode::Char('j'), mode), vec![Action::Down]);
            assert_eq!(press(KeyCode::Down, mode), vec![Action::Down]);
            assert_eq!(press(KeyCode::Char('k'), mode), vec![Action::Up]);
            assert_eq!(press(KeyCode::Char('g'), mode), vec![Action::Top]);
            assert_eq!(press(KeyCode::PageDown, mode), vec![Action::PageDown]);
            assert_eq!(press(KeyCode::Char('Z'), mode), vec![]);
        }
        assert_eq!(
            actions_for(&key(KeyCode::Char('G'), KeyModifiers::SHIFT), Mode::List),
            vec![Action::Bottom]
        );
    }

    #[test]
    fn q_quits_esc_goes_back_and_ctrl_c_always_quits() {
        assert_eq!(press(KeyCode::Char('q'), Mode::List), vec![Action::Quit]);
        assert_eq!(press(KeyCode::Esc, Mode::Deal), vec![Action::Back]);
        for mode in [
            Mode::List,
            Mode::Search,
            Mode::Deal,
            Mode::WizardText,
            Mode::WizardList,
            Mode::Help,
        ] {
            assert_eq!(
                actions_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), mode),
                vec![Action::Quit]
            );
        }
    }

    #[test]
    fn letters_are_text_while_typing_and_commands_otherwise() {
        assert_eq!(
            press(KeyCode::Char('q'), Mode::Search),
            vec![Action::SearchInput('q')]
        );
        assert_eq!(
            press(KeyCode::Char('q'), Mode::WizardText),
            vec![Action::Wizard(WizardInput::Char('q'))]
        );
        assert_eq!(
            press(KeyCode::Char('j'), Mode::WizardList),
            vec![Action::Wizard(WizardInput::Down)]
        );
        assert_eq!(
            press(KeyCode::Char(' '), Mode::WizardList),
            vec![Action::Wizard(WizardInput::Toggle)]
        );
        assert_eq!(
            press(KeyCode::Char(' '), Mode::WizardText),
            vec![Action::Wizard(WizardInput::Char(' '))]
        );
        assert_eq!(
            press(KeyCode::Esc, Mode::WizardText),
            vec![Action::CloseWizard]
        );
        assert_eq!(
            press(KeyCode::Char('/'), Mode::Deal),
            vec![],
            "no search in a deal"
        );
        assert_eq!(
            press(KeyCode::Char('x'), Mode::Help),
            vec![Action::CloseHelp]
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
        assert!(actions_for(&release, Mode::List).is_empty());
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
            actions_for(&mouse(MouseEventKind::ScrollDown), Mode::List).len(),
            WHEEL_LINES
        );
        assert_eq!(
            actions_for(&mouse(MouseEventKind::Down(MouseButton::Left)), Mode::List),
            vec![Action::ClickLine(7)]
        );
        assert_eq!(
            actions_for(&Event::Resize(100, 30), Mode::Deal),
            vec![Action::Resize {
                width: 100,
                height: 30
            }]
        );
    }

    #[test]
    fn the_help_lists_the_keys_that_exist() {
        // Every single-letter key the help names for a screen is bound on it.
        for mode in [Mode::List, Mode::Deal, Mode::Patterns] {
            for (keys, _) in help(mode) {
                for k in keys
                    .split([' ', '/'])
                    .filter(|k| k.len() == 1 && k.is_ascii())
                {
                    let c = k.chars().next().unwrap_or(' ');
                    let bound = !press(KeyCode::Char(c), mode).is_empty();
                    assert!(bound, "help names {c:?} in {mode:?} but it does nothing");
                }
            }
        }
    }

    #[test]
    fn the_patterns_screen_has_its_own_keys() {
        for mode in [Mode::List, Mode::Deal, Mode::Patterns] {
            assert_eq!(press(KeyCode::Char('3'), mode), vec![Action::ShowPatterns]);
        }
        let patterns = Mode::Patterns;
        assert_eq!(
            press(KeyCode::Char('i'), patterns),
            vec![Action::ToggleInsufficient]
        );
        assert_eq!(press(KeyCode::Char('M'), patterns), vec![Action::MineAgain]);
        assert_eq!(press(KeyCode::Enter, patterns), vec![Action::Open]);
        // No deal is in front there: reviewing or marking would act on nothing visible.
        assert_eq!(press(KeyCode::Char('r'), patterns), vec![]);
        assert_eq!(press(KeyCode::Char('m'), patterns), vec![]);
        assert_eq!(press(KeyCode::Char('i'), Mode::List), vec![]);
    }
}
