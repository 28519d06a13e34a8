//! The post-mortem wizard: a step strip, the step's fields, and the last refusal.

use crate::domain::time::ymd;
use crate::format::fit;
use crate::review::{Field, Step, Wizard};
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
        let state: Vec<String> = m
            .trace
            .state
            .iter()
            .map(|(k, v)| format!("{k}={}", state_value(v)))
            .collect();
        let state = format!(" state then: {}", state.join(" "));
        // Side by side there is room to wrap the whole snapshot; stacked, one line of it.
        let state = if area.width >= SIDE_BY_SIDE {
            state
        } else {
            fit(&state, width)
        };
        lines.push(Line::styled(state, theme.dim));
        for field in w.fields().into_iter().filter(|f| f.is_text()) {
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

/// A snapshot value as a reader wants it: whole numbers without ".0", text without quotes.
fn state_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn step_block<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(title)
}
