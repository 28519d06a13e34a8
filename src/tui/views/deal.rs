//! The deal view: header facts, the merged timeline, the stakeholder map, reviews and traces.

use crate::domain::time::{days_between, ymd};
use crate::format::{amount, fit};
use crate::tui::app::App;
use crate::tui::deal_view::{DealPane, DealScreen, TimelineKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// From this width the three panes sit side by side; below it one pane shows at a time.
pub const SIDE_BY_SIDE: u16 = 120;

/// Draws the deal in front into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(deal) = &app.deal else {
        frame.render_widget(
            Paragraph::new(" Reading the deal…").style(app.theme.dim),
            area,
        );
        return;
    };
    let mut lines = header_lines(deal, app);
    // The advisor's recommendations for this deal, at most two lines (the Lessons screen has
    // every lesson in full).
    let advice = app
        .advice
        .get(deal.detail.summary.id.as_str())
        .map(Vec::as_slice)
        .unwrap_or_default();
    for a in advice.iter().take(2) {
        lines.push(Line::from(vec![
            Span::styled(" ▲ Advisor: ", app.theme.warn),
            Span::raw(fit(
                &format!("{} — because: {}", a.recommendation, a.statement),
                usize::from(area.width).saturating_sub(13),
            )),
        ]));
    }
    let header_rows = lines.len() as u16;
    let [header, panes] =
        Layout::vertical([Constraint::Length(header_rows), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(lines), header);

    if area.width >= SIDE_BY_SIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(panes);
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(right);
        pane(frame, left, app, deal, DealPane::Timeline);
        pane(frame, top, app, deal, DealPane::People);
        pane(frame, bottom, app, deal, DealPane::Reviews);
    } else {
        pane(frame, panes, app, deal, deal.pane);
    }
}

fn header_lines<'a>(deal: &'a DealScreen, app: &App) -> Vec<Line<'a>> {
    let s = &deal.detail.summary;
    let status = match (s.is_closed, s.is_won) {
        (false, _) => Span::raw("open"),
        (true, true) => Span::styled("won", app.theme.won),
        (true, false) => Span::styled("lost", app.theme.lost),
    };
    let in_stage = deal
        .days_in_stage
        .filter(|_| !s.is_closed)
        .map(|d| format!(" for {d} d"))
        .unwrap_or_default();
    let close = s.close_date.map(ymd).unwrap_or_else(|| "none".into());
    let moves = match (deal.close_moves, deal.slips) {
        (0, _) => "never moved".to_owned(),
        (m, 0) => format!("moved {m}×"),
        (m, sl) => format!("moved {m}×, {sl} slip{}", if sl == 1 { "" } else { "s" }),
    };
    let owner = match (&s.owner, &s.team) {
        (Some(o), Some(t)) => format!("{o} ({t})"),
        (Some(o), None) => o.clone(),
        (None, _) => "no owner".into(),
    };
    let threading = if s.is_closed {
        Span::raw(format!("{} engaged in 30 d", deal.engaged_30d))
    } else if deal.single_threaded() {
        Span::styled("single-threaded now", app.theme.warn)
    } else {
        Span::raw(format!(
            "multi-threaded: {} engaged in 30 d",
            deal.engaged_30d
        ))
    };
    vec![
        Line::from(vec![
            Span::styled(format!(" {} ", s.name), app.theme.header),
            Span::raw("· "),
            status,
            Span::raw(format!(" · {}", amount(s.amount, &s.currency))),
        ]),
        Line::raw(format!(
            " {}{in_stage} · close {close} ({moves}) · {owner}",
            s.stage
        )),
        Line::from(vec![
            Span::raw(" "),
            threading,
            Span::raw(format!(
                " · {} contacts · {} activities · {} · {}",
                deal.detail.stakeholders.len(),
                deal.detail.activities.len(),
                s.company.as_deref().unwrap_or("no company"),
                s.pipeline,
            )),
        ]),
    ]
}

fn pane(frame: &mut Frame<'_>, area: Rect, app: &App, deal: &DealScreen, which: DealPane) {
    let focused = deal.pane == which;
    let titles: Vec<Span<'_>> = if area.width < SIDE_BY_SIDE {
        // One pane at a time: the title is a tab strip so the others can be found.
        DealPane::ALL
            .iter()
            .map(|p| {
                if *p == which {
                    Span::styled(format!(" [{}] ", p.title()), app.theme.focus)
                } else {
                    Span::raw(format!(" {} ", p.title()))
                }
            })
            .collect()
    } else {
        let style = if focused {
            app.theme.focus
        } else {
            Style::new()
        };
        vec![Span::styled(format!(" {} ", which.title()), style)]
    };
    let border = if focused {
        app.theme.focus
    } else {
        app.theme.dim
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::from(titles));
    let inner_width = usize::from(area.width.saturating_sub(2));
    let lines = match which {
        DealPane::Timeline => timeline_lines(deal, app, inner_width),
        DealPane::People => people_lines(deal, app, inner_width),
        DealPane::Reviews => review_lines(deal, app, inner_width),
    };
    let skip = deal.scroll_of(which);
    let lines: Vec<Line<'_>> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// One entry per line (the excerpt follows on the same line when it fits, else below).
fn timeline_lines(deal: &DealScreen, app: &App, width: usize) -> Vec<Line<'static>> {
    if deal.timeline.is_empty() {
        return vec![Line::styled(
            " No history or activity cached.",
            app.theme.dim,
        )];
    }
    deal.timeline
        .iter()
        .map(|e| {
            let style = match e.kind {
                TimelineKind::Slip => app.theme.warn,
                TimelineKind::Stage => app.theme.header,
                _ => Style::new(),
            };
            let date = ymd(e.at);
            let mut spans = vec![
                Span::raw(format!("{date} ")),
                Span::styled(e.text.clone(), style),
            ];
            if let Some(excerpt) = &e.excerpt {
                let used = date.chars().count() + 1 + e.text.chars().count() + 3;
                let room = width.saturating_sub(used);
                if room >= 12 {
                    spans.push(Span::styled(
                        format!(" — {}", fit(excerpt, room)),
                        app.theme.dim,
                    ));
                }
            }
            Line::from(spans)
        })
        .collect()
}

fn people_lines(deal: &DealScreen, app: &App, width: usize) -> Vec<Line<'static>> {
    let now = app.now();
    let mut lines = Vec::new();
    if deal.detail.stakeholders.is_empty() {
        lines.push(Line::styled(" No contacts on this deal.", app.theme.dim));
    }
    for (i, p) in deal.detail.stakeholders.iter().enumerate() {
        let role = p.link.role.map(|r| r.as_str()).unwrap_or("role unknown");
        let title = p.title.as_deref().unwrap_or("no title");
        let personas = deal
            .personas
            .get(i)
            .map(|v| v.join(", "))
            .unwrap_or_default();
        let title = if personas.is_empty() {
            title.to_owned()
        } else {
            format!("{title} [{personas}]")
        };
        let engaged = match p.last_engaged {
            Some(at) => format!("last {} ({} d ago)", ymd(at), days_between(at, now).max(0)),
            None => "never engaged".into(),
        };
        lines.push(Line::raw(fit(
            &format!("{} · {title} · {role} · {engaged}", p.name),
            width,
        )));
    }
    lines
}

fn review_lines(deal: &DealScreen, app: &App, width: usize) -> Vec<Line<'static>> {
    let d = &deal.detail;
    if d.reviews.is_empty() && d.traces.is_empty() {
        return vec![Line::styled(
            " Not reviewed yet. Press r to start a review.",
            app.theme.dim,
        )];
    }
    let mut lines = Vec::new();
    for r in &d.reviews {
        let outcome = r.outcome.map(|o| o.as_str()).unwrap_or("no outcome");
        let reasons: Vec<String> = r
            .reasons
            .iter()
            .map(|x| {
                let label = app.taxonomy.label_of(&x.code);
                let star = if x.primary { "*" } else { "" };
                match &x.detail {
                    Some(detail) if !detail.is_empty() => format!("{label}{star} ({detail})"),
                    _ => format!("{label}{star}"),
                }
            })
            .collect();
        let head = format!(
            "{} {} by {} · {} rev {} · {outcome}: {}",
            ymd(r.updated_at),
            "review",
            r.reviewer,
            r.status.as_str(),
            r.revision,
            reasons.join(", ")
        );
        lines.push(Line::styled(fit(&head, width), app.theme.header));
        for t in d
            .traces
            .iter()
            .filter(|t| t.review_id.as_ref() == Some(&r.id))
        {
            let expected = match t.expected_by {
                Some(by) => format!("{} by {}", t.expected_outcome, ymd(by)),
                None => t.expected_outcome.clone(),
            };
            let actual = t.actual_outcome.as_deref().unwrap_or("not known yet");
            lines.push(Line::raw(fit(
                &format!(
                    "  {} {}: {} → expected {expected}; actual {actual}",
                    ymd(t.at),
                    t.stage_id
                        .as_ref()
                        .map(|s| d.stage_label(s.as_str()))
                        .unwrap_or(""),
                    t.action
                ),
                width,
            )));
            if let Some(rec) = &t.recommendation {
                let followed = match t.followed {
                    Some(true) => "followed",
                    Some(false) => "not followed",
                    None => "followed? not known",
                };
                lines.push(Line::styled(
                    fit(&format!("    advisor: {} ({followed})", rec.text), width),
                    app.theme.dim,
                ));
            }
        }
    }
    lines
}
