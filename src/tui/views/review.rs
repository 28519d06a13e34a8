//! The post-mortem wizard: a step strip, the step's fields, and the last refusal.

use crate::domain::time::ymd;
use crate::format::fit;
use crate::review::{Field, MomentDraft, Step, Wizard};
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// From this width the Moments step shows the list and the trace side by side.
const SIDE_BY_SIDE: u16 = 120;

/// Draws the wizard into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(w) = &app.wizard else {
        frame.render_widget(
            Paragraph::new(" Reading the deal and its reviews…").style(app.theme.dim),
            area,
        );
        return;
    };
    let [strip, body, message] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(step_strip(w, &app.theme)), strip);
    match w.step() {
        Step::Outcome => outcome(frame, body, w, &app.theme),
        Step::Moments => moments(frame, body, w, &app.theme),
        Step::Lessons => lessons(frame, body, w, &app.theme),
        Step::Summary => {
            let lines: Vec<Line<'_>> = w
                .summary_lines()
                .into_iter()
                .map(|l| Line::raw(format!(" {l}")))
                .collect();
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(app.theme.focus)
                .title(" Summary · Ctrl-S saves as final · PgUp goes back ");
            frame.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                body,
            );
        }
    }
    if let Some(text) = w.message() {
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), app.theme.error)),
            message,
        );
    }
}

fn step_strip(w: &Wizard, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, step) in Step::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" › "));
        }
        let label = format!("{} {}", i + 1, step.title());
        if *step == w.step() {
            spans.push(Span::styled(format!("[{label}]"), theme.focus));
        } else {
            spans.push(Span::raw(label));
        }
    }
    match w.amends() {
        Some(old) => spans.push(Span::styled(
            format!("  · amending revision {old}"),
            theme.dim,
        )),
        None => spans.push(Span::styled("  · autosaved as you type", theme.dim)),
    }
    Line::from(spans)
}

/// A label and a value on one line; the focused field is highlighted and shows a cursor.
fn field_line(w: &Wizard, field: Field, hint: &str, theme: &Theme, width: usize) -> Line<'static> {
    let focused = w.focus() == Some(field);
    let value = w.field_text(field).unwrap_or_default();
    let label = format!(" {:<18}", format!("{}:", field.label()));
    let cursor = if focused { "▏" } else { "" };
    let shown = if value.is_empty() && !focused {
        hint.to_owned()
    } else {
        // Keep the end of long text in view while typing.
        let room = width.saturating_sub(label.chars().count() + 2);
        let chars: Vec<char> = value.chars().collect();
        let start = chars.len().saturating_sub(room);
        chars[start..]
            .iter()
            .collect::<String>()
            .replace('\n', " ⏎ ")
    };
    let style = if focused {
        theme.selected
    } else {
        Style::new()
    };
    let value_style = if value.is_empty() && !focused {
        theme.dim
    } else {
        style
    };
    Line::from(vec![
        Span::styled(label, if focused { theme.focus } else { theme.header }),
        Span::styled(format!("{shown}{cursor}"), value_style),
    ])
}

fn outcome(frame: &mut Frame<'_>, area: Rect, w: &Wizard, theme: &Theme) {
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = Vec::new();
    let focused = w.focus() == Some(Field::Outcome);
    let outcome = w.review().outcome.map(|o| o.as_str()).unwrap_or("none");
    lines.push(Line::from(vec![
        Span::styled(
            format!(" {:<18}", "Outcome:"),
            if focused { theme.focus } else { theme.header },
        ),
        Span::styled(
            format!("‹ {outcome} ›"),
            if focused {
                theme.selected
            } else {
                Style::new()
            },
        ),
        Span::styled("  (←/→ changes it)", theme.dim),
    ]));
    let options = w.reason_options();
    if !options.is_empty() {
        let in_list = w.focus() == Some(Field::Reasons);
        lines.push(Line::styled(
            " Reasons (Space selects, p makes primary; the first selected is primary):",
            if in_list { theme.focus } else { theme.header },
        ));
        for (i, o) in options.iter().enumerate() {
            let mark = match (o.selected, o.primary) {
                (true, true) => "[*]",
                (true, false) => "[x]",
                _ => "[ ]",
            };
            let retired = if o.retired { " (retired)" } else { "" };
            let detail = o
                .detail
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            let text = fit(&format!("   {mark} {}{retired}{detail}", o.label), width);
            let style = if i == w.reason_cursor() && in_list {
                theme.selected
            } else if i == w.reason_cursor() {
                theme.header
            } else {
                Style::new()
            };
            lines.push(Line::styled(text, style));
        }
        let prompt = options
            .get(w.reason_cursor())
            .and_then(|o| o.detail_prompt.clone())
            .unwrap_or_else(|| "optional free text for the highlighted reason".into());
        lines.push(field_line(w, Field::ReasonDetail, &prompt, theme, width));
    }
    lines.push(field_line(
        w,
        Field::Notes,
        "anything the reasons do not say",
        theme,
        width,
    ));
    frame.render_widget(
        Paragraph::new(lines).block(step_block(" Outcome and reasons ", theme)),
        area,
    );
}

fn moments(frame: &mut Frame<'_>, area: Rect, w: &Wizard, theme: &Theme) {
    let (list_area, trace_area) = if area.width >= SIDE_BY_SIDE {
        let [l, r] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(area);
        (l, r)
    } else {
        let rows = (w.moments().len() as u16 + 2).clamp(3, area.height / 2);
        let [l, r] = Layout::vertical([Constraint::Length(rows), Constraint::Fill(1)]).areas(area);
        (l, r)
    };
    let width = usize::from(list_area.width.saturating_sub(2));
    let in_list = w.focus() == Some(Field::MomentList);
    let visible = usize::from(list_area.height.saturating_sub(2)).max(1);
    let first = w.moment_cursor().saturating_sub(visible.saturating_sub(1));
    let mut lines: Vec<Line<'_>> = w
        .moments()
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, m)| {
            let mark = if m.included { "[x]" } else { "[ ]" };
            let text = fit(
                &format!(" {mark} {} {}", ymd(m.moment.at), m.moment.label),
                width,
            );
            let style = match (i == w.moment_cursor(), in_list) {
                (true, true) => theme.selected,
                (true, false) => theme.header,
                _ => Style::new(),
            };
            Line::styled(text, style)
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            " No key moments in the history. a adds one.",
            theme.dim,
        ));
    }
    let title = " Key moments · Space records a trace · a adds ";
    let list_block = if in_list {
        step_block(title, theme)
    } else {
        Block::default().borders(Borders::ALL).title(title)
    };
    frame.render_widget(Paragraph::new(lines).block(list_block), list_area);

    let width = usize::from(trace_area.width.saturating_sub(2));
    let mut lines = Vec::new();
    if let Some(m) = w.moments().get(w.moment_cursor()) {
        lines.push(Line::styled(
            fit(
                &format!(" {} — {}", ymd(m.moment.at), m.moment.label),
                width,
            ),
            theme.header,
        ));
        for field in w.fields().into_iter().filter(|f| f.is_text()) {
            if field == Field::State {
                // Side by side there is room to wrap the whole snapshot; stacked, one line.
                lines.push(state_line(w, m, theme, width, area.width >= SIDE_BY_SIDE));
                continue;
            }
            let hint = match field {
                Field::MomentDate => "YYYY-MM-DD",
                Field::Action => "what the rep did",
                Field::Rationale => "why",
                Field::ExpectedOutcome => "what they expected to happen",
                Field::ExpectedBy => "YYYY-MM-DD",
                Field::ActualOutcome => match &m.proposed_actual {
                    Some(_) => "proposed below (→ accepts)",
                    None => "what happened, once known",
                },
                _ => "",
            };
            lines.push(field_line(w, field, hint, theme, width));
        }
        if let Some(rec) = &m.trace.recommendation {
            lines.push(Line::styled(
                fit(
                    &format!(" the advisor had recommended: {}", rec.text),
                    width,
                ),
                theme.dim,
            ));
            lines.push(field_line(
                w,
                Field::Followed,
                "Space: yes / no / not known",
                theme,
                width,
            ));
        }
        if let Some(p) = &m.proposed_actual {
            lines.push(Line::styled(
                fit(&format!(" proposed from the facts: {p}"), width),
                theme.dim,
            ));
        }
        if !m.included {
            lines.push(Line::styled(
                " Not recorded: Space on the list includes this moment.",
                theme.dim,
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Decision trace "),
            )
            .wrap(Wrap { trim: false }),
        trace_area,
    );
}

fn lessons(frame: &mut Frame<'_>, area: Rect, w: &Wizard, theme: &Theme) {
    let width = usize::from(area.width.saturating_sub(2));
    let in_list = w.focus() == Some(Field::Lessons);
    let mut lines = Vec::new();
    let candidates = &w.review().lesson_candidates;
    if candidates.is_empty() {
        lines.push(Line::styled(
            " No lesson candidates yet: a adds one (optional; Enter moves on).",
            theme.dim,
        ));
    }
    for (i, c) in candidates.iter().enumerate() {
        let pattern = c
            .pattern_key
            .as_deref()
            .map(|p| format!("  [{p}]"))
            .unwrap_or_default();
        let style = match (i == w.lesson_cursor(), in_list) {
            (true, true) => theme.selected,
            (true, false) => theme.header,
            _ => Style::new(),
        };
        lines.push(Line::styled(
            fit(&format!(" • {}{pattern}", c.text), width),
            style,
        ));
    }
    if !candidates.is_empty() {
        lines.push(Line::raw(""));
        lines.push(field_line(
            w,
            Field::LessonText,
            "the lesson in your words",
            theme,
            width,
        ));
        lines.push(field_line(
            w,
            Field::PatternKey,
            "a pattern key from `dealtrace patterns` (optional)",
            theme,
            width,
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).block(step_block(
            " Lesson candidates · a adds · d removes ",
            theme,
        )),
        area,
    );
}

/// The moment's state snapshot as pairs (`key=value; …`). Unfocused, the whole snapshot; focused
/// and narrow, the highlighted pair alone with its end in view (it is typed at its end) and a
/// hint; focused and wide, every pair wrapped with the highlighted one marked.
fn state_line(
    w: &Wizard,
    m: &MomentDraft,
    theme: &Theme,
    width: usize,
    wide: bool,
) -> Line<'static> {
    let focused = w.focus() == Some(Field::State);
    let label = format!(" {:<18}", format!("{}:", Field::State.label()));
    let label_span = Span::styled(
        label.clone(),
        if focused { theme.focus } else { theme.header },
    );
    let room = width.saturating_sub(label.chars().count() + 1);
    let rows = &m.state_rows;
    let cursor = w.state_cursor();
    let pairs = |range: std::ops::Range<usize>| -> Vec<String> {
        rows[range]
            .iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect()
    };
    if !focused {
        let all = pairs(0..rows.len()).join("; ");
        if all.is_empty() {
            return Line::from(vec![
                label_span,
                Span::styled("no facts recorded", theme.dim),
            ]);
        }
        let all = if wide { all } else { fit(&all, room) };
        return Line::from(vec![label_span, Span::raw(all)]);
    }
    let current = rows.get(cursor).cloned().unwrap_or_default();
    let adding = current.trim().is_empty() && cursor + 1 >= rows.len();
    let hint = if adding {
        "  type key=value to add a pair".to_owned()
    } else {
        format!(
            "  ↑↓ pair {}/{} · empty removes",
            cursor + 1,
            rows.len().saturating_sub(1).max(1)
        )
    };
    if wide {
        let mut spans = vec![label_span];
        let before = pairs(0..cursor.min(rows.len()));
        if !before.is_empty() {
            spans.push(Span::raw(format!("{}; ", before.join("; "))));
        }
        spans.push(Span::styled(format!("{current}▏"), theme.selected));
        let after = pairs((cursor + 1).min(rows.len())..rows.len());
        if !after.is_empty() {
            spans.push(Span::raw(format!("; {}", after.join("; "))));
        }
        spans.push(Span::styled(hint, theme.dim));
        return Line::from(spans);
    }
    // Keep the end of the pair in view while typing, and the hint only where it fits.
    let chars: Vec<char> = current.chars().collect();
    let shown: String = chars[chars.len().saturating_sub(room)..].iter().collect();
    let left = room.saturating_sub(shown.chars().count());
    let mut spans = vec![
        label_span,
        Span::styled(format!("{shown}▏"), theme.selected),
    ];
    if hint.chars().count() <= left {
        spans.push(Span::styled(hint, theme.dim));
    }
    Line::from(spans)
}

fn step_block<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Taxonomy;
    use crate::review::WizardInput;
    use crate::review::fixtures::{day, lost_deal};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    /// The screen's rows as text, with the wizard on the Moments step after `inputs`.
    fn moments_screen(width: u16, height: u16, inputs: &[WizardInput]) -> Vec<String> {
        let taxonomy = Taxonomy::builtin();
        let (mut app, _) = App::new("cache.sqlite".into(), width, height, false);
        let mut w = Wizard::start(&lost_deal(), &taxonomy, "M", "r1".into(), day(120), 7);
        for input in [WizardInput::Toggle, WizardInput::NextStep]
            .iter()
            .chain(inputs)
        {
            w.handle(*input, &taxonomy, day(120));
        }
        app.wizard = Some(w);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a terminal");
        terminal
            .draw(|frame| draw(frame, frame.area(), &app))
            .expect("drawn");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    fn typed(text: &str) -> Vec<WizardInput> {
        text.chars().map(WizardInput::Char).collect()
    }

    #[test]
    fn the_focused_state_shows_one_pair_with_its_end_in_view_at_80_columns() {
        let mut inputs = vec![WizardInput::FocusNext, WizardInput::Up];
        inputs.extend(typed(
            " and a long note typed after the count of activities",
        ));
        let screen = moments_screen(80, 24, &inputs);
        let state: Vec<&String> = screen.iter().filter(|l| l.contains("State:")).collect();
        assert_eq!(state.len(), 1, "{screen:#?}");
        assert!(
            state[0].contains("after the count of activities▏"),
            "{}",
            state[0]
        );
        assert!(
            !screen.iter().any(|l| l.contains("amount=")),
            "one pair only"
        );

        // On the empty last row, the line says how to add a pair.
        let mut inputs = vec![WizardInput::FocusNext];
        inputs.extend([WizardInput::Down; 20]);
        let screen = moments_screen(80, 24, &inputs);
        assert!(
            screen
                .iter()
                .any(|l| l.contains("▏  type key=value to add a pair")),
            "{screen:#?}"
        );
    }

    #[test]
    fn the_focused_state_shows_every_pair_side_by_side() {
        let mut inputs = vec![WizardInput::FocusNext, WizardInput::Down];
        inputs.extend([WizardInput::Backspace; 5]);
        inputs.extend(typed("45000"));
        let screen = moments_screen(160, 48, &inputs).join("\n");
        for part in [
            "activities_last_30d=1; amount=45000▏",
            "↑↓ pair 2/13",
            "stakeholders_known=",
        ] {
            assert!(screen.contains(part), "{part} in {screen}");
        }
    }
}
