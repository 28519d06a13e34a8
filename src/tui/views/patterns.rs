//! The Patterns screen: the ranked patterns with a forest plot of their effects, the evidence
//! behind the selected one (a Kaplan–Meier chart for survival patterns), its deals, and the
//! candidates that lacked the data to be tested.

use crate::domain::queue::QueueReviewStatus;
use crate::domain::time::ymd;
use crate::format::{fit, grouped, percent};
use crate::patterns::mine::{Kind, Pattern};
use crate::patterns::surface::headline;
use crate::tui::app::App;
use crate::tui::patterns_view::{Axis, Job, Mined, PatternsPane, PatternsScreen, km_points};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, Chart, Dataset, GraphType, LegendPosition, Padding, Paragraph, Row,
    Table, TableState, Wrap,
};

/// From this width the evidence sits beside the Kaplan–Meier chart, and the deals show their
/// owner.
const WIDE: u16 = 120;

/// From this width the ranked table also shows the interval, the counts and the tier (below
/// it, those columns would squeeze the pattern itself out).
const TABLE_WIDE: u16 = 140;

/// Draws the Patterns screen into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let screen = &app.patterns;
    let Some(mined) = &screen.mined else {
        waiting(frame, area, app);
        return;
    };
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(summary_line(mined, screen, app)).style(app.theme.dim),
        top,
    );
    if screen.pane == PatternsPane::Insufficient {
        insufficient(frame, rest, app, mined);
        return;
    }
    if mined.patterns.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                " No pattern passes the surfacing rule at FDR {:.2}. That is an answer, not a \
                 failure: the history shows no effect large and sure enough. Press i for the \
                 {} candidates that lacked the data to be tested.",
                mined.fdr,
                grouped(mined.insufficient_count as i64)
            ))
            .wrap(Wrap { trim: false }),
            rest,
        );
        return;
    }
    // The list takes what it needs up to about half the screen; the evidence the rest.
    let list_rows = (mined.patterns.len() as u16 + 1)
        .min(rest.height / 2)
        .max(3);
    let [list, detail] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Fill(1)]).areas(rest);
    pattern_table(frame, list, app, mined);
    let Some(pattern) = screen.selected_pattern() else {
        return;
    };
    match screen.pane {
        PatternsPane::Deals => deals(frame, detail, app, pattern),
        _ => evidence(frame, detail, app, mined, pattern),
    }
}

/// Before the first run lands: what the miner is doing, or why it failed.
fn waiting(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let lines = match &app.patterns.job {
        Job::Failed(why) => vec![
            Line::styled(format!(" Mining failed: {why}"), app.theme.error),
            Line::raw(" Press M to try again."),
        ],
        Job::Running { phase, started } => vec![
            Line::raw(format!(
                " Mining the team's history: {}{}…",
                phase.label(),
                elapsed(*started, app)
            )),
            Line::styled(
                " This runs in the background: press 1 or 2 for the lists meanwhile.",
                app.theme.dim,
            ),
        ],
        Job::Idle => vec![Line::raw(" Press M to mine the history for patterns.")],
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn elapsed(started: Option<jiff::Timestamp>, app: &App) -> String {
    match (started, app.clock) {
        (Some(s), Some(now)) => {
            let secs = now.as_second() - s.as_second();
            if secs >= 1 {
                format!(" ({secs} s)")
            } else {
                String::new()
            }
        }
        _ => String::new(),
    }
}

/// "812 patterns tested · 14 surfaced at FDR 0.10 · …": the denominators a reader needs.
fn summary_line(mined: &Mined, screen: &PatternsScreen, app: &App) -> String {
    // Most urgent first: a narrow screen cuts from the right.
    let mut parts = Vec::new();
    match &screen.job {
        Job::Running { phase, started } => parts.push(format!(
            "re-mining: {}{}…",
            phase.label(),
            elapsed(*started, app)
        )),
        Job::Failed(why) => parts.push(format!("re-mining failed: {why}")),
        Job::Idle if screen.stale => parts.push("the cache changed: M mines again".into()),
        Job::Idle => {}
    }
    parts.push(format!(
        "{} patterns tested, {} surfaced (FDR {:.2})",
        grouped(mined.tested as i64),
        mined.patterns.len(),
        mined.fdr
    ));
    parts.push(format!(
        "{} lacked data (i)",
        grouped(mined.insufficient_count as i64)
    ));
    if mined.set_aside > 0 {
        parts.push(format!("{} set aside", mined.set_aside));
    }
    parts.push(format!(
        "{} exception tests",
        grouped(mined.tested_exceptions as i64)
    ));
    parts.push(format!(
        "{} deals to {}",
        grouped(mined.deals as i64),
        ymd(mined.cutoff)
    ));
    fit(&format!(" {}", parts.join(" · ")), usize::from(app.width))
}

fn kind_label(kind: Kind, wide: bool) -> &'static str {
    match (kind, wide) {
        (k, true) => k.as_str(),
        (Kind::Risk, false) => "risk",
        (Kind::Segment, false) => "seg",
        (Kind::Exception, false) => "exc",
        (Kind::Survival, false) => "surv",
    }
}

/// "2.4×", "0.21×": effects to two significant figures.
fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return "∞".into();
    }
    if x >= 10.0 {
        format!("{x:.0}×")
    } else if x >= 1.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn q_label(q: f64) -> String {
    if q < 0.001 {
        "<.001".into()
    } else {
        format!("{q:.3}")
    }
}

fn pattern_table(frame: &mut Frame<'_>, area: Rect, app: &App, mined: &Mined) {
    let screen = &app.patterns;
    let wide = area.width >= TABLE_WIDE;
    let plot_width: usize = if wide { 33 } else { 17 };
    let axis = Axis::spanning(mined.patterns.iter().map(|p| (p.ci_low, p.ci_high)));
    let mut header = vec![
        Cell::from("#"),
        Cell::from("Kind"),
        Cell::from("Pattern"),
        Cell::from(Text::from("Effect").right_aligned()),
    ];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(if wide { 9 } else { 4 }),
        Constraint::Fill(1),
        Constraint::Length(6),
    ];
    if wide {
        header.push(Cell::from("95% CI"));
        widths.push(Constraint::Length(11));
    }
    header.push(Cell::from(axis.ticks(plot_width)));
    widths.push(Constraint::Length(plot_width as u16));
    header.push(Cell::from(Text::from("q").right_aligned()));
    widths.push(Constraint::Length(5));
    if wide {
        header.extend([Cell::from("Counts"), Cell::from("Tier")]);
        widths.extend([Constraint::Length(19), Constraint::Length(8)]);
    }
    let focus = screen.pane == PatternsPane::List;
    let rows = mined.patterns.iter().enumerate().map(|(i, p)| {
        let mut cells = vec![
            Cell::from(format!("{:>2}", i + 1)),
            Cell::from(kind_label(p.kind, wide)),
            Cell::from(headline(&p.sentence).to_owned()),
            Cell::from(Text::from(ratio(p.effect)).right_aligned()),
        ];
        if wide {
            cells.push(Cell::from(format!(
                "{}–{}",
                ratio(p.ci_low).trim_end_matches('×'),
                ratio(p.ci_high)
            )));
        }
        cells.push(Cell::from(
            axis.plot(p.effect, p.ci_low, p.ci_high, plot_width),
        ));
        cells.push(Cell::from(Text::from(q_label(p.q)).right_aligned()));
        if wide {
            cells.push(Cell::from(format!(
                "{}/{} vs {}/{}",
                p.events_exposed, p.n_exposed, p.events_unexposed, p.n_unexposed
            )));
            cells.push(Cell::from(p.tier.clone()));
        }
        Row::new(cells)
    });
    let highlight = if focus {
        app.theme.selected
    } else {
        app.theme.header
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.header))
        .column_spacing(1)
        .row_highlight_style(highlight);
    let mut state = TableState::default().with_selected(Some(screen.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Plain words for a pattern's flags.
fn flag_words(flag: &str) -> String {
    match flag.split_once(':') {
        Some(("not_robust", z)) => {
            format!("not robust to {z} (adjusting for it removes the effect)")
        }
        Some(("partly_explained", z)) => format!("partly explained by {z}"),
        Some(("concentrated", who)) => format!("concentrated in one {who}'s deals"),
        _ => match flag {
            "replicated" => "replicated on the latest 30% of deals".into(),
            "not_replicated" => "not replicated on the latest 30% of deals".into(),
            "approx" => "Peto hazard ratio (approximate)".into(),
            "redundant" => "overlaps a stronger pattern".into(),
            "simpson_reversal" => "reverses under a confounder".into(),
            other => other.replace('_', " "),
        },
    }
}

fn evidence_lines<'a>(p: &'a Pattern, mined: &Mined, app: &App) -> Vec<Line<'a>> {
    let label = |s: &'static str| Span::styled(format!("{s:<9} "), app.theme.header);
    let mut lines = vec![Line::raw(p.sentence.as_str()), Line::raw("")];
    let survival = p.kind == Kind::Survival;
    let what = if survival {
        "decayed".to_owned()
    } else {
        p.outcome.replace('_', " ")
    };
    lines.push(Line::from(vec![
        label("Counts"),
        Span::raw(format!(
            "with it {} of {} {what} ({}) · without {} of {} ({})",
            p.events_exposed,
            p.n_exposed,
            percent(p.events_exposed, p.n_exposed),
            p.events_unexposed,
            p.n_unexposed,
            percent(p.events_unexposed, p.n_unexposed),
        )),
    ]));
    let mut effect = format!(
        "{} {:.2}, 95% CI {:.2}–{:.2}{}",
        if survival { "HR" } else { "RR" },
        p.effect,
        p.ci_low,
        p.ci_high,
        if p.corrected { " †" } else { "" }
    );
    if let Some([rd, lo, hi]) = p.rd {
        effect.push_str(&format!(
            " · difference {:+.0} pts ({:+.0} to {:+.0})",
            rd * 100.0,
            lo * 100.0,
            hi * 100.0
        ));
    }
    effect.push_str(&format!(
        " · p {:.1e} · q {} · {}",
        p.p,
        q_label(p.q),
        p.tier
    ));
    lines.push(Line::from(vec![label("Effect"), Span::raw(effect)]));
    if let Some([with, without]) = &p.survival {
        let median = |m: Option<u32>| m.map_or("not reached".into(), |d| format!("{d} days"));
        lines.push(Line::from(vec![
            label("Median"),
            Span::raw(format!(
                "to decay: {} with it, {} without",
                median(with.median),
                median(without.median)
            )),
        ]));
    }
    if let Some(e) = &p.exception {
        lines.push(Line::from(vec![
            label("Unless"),
            Span::raw(format!(
                "{}: {} (95% CI {:.2}–{:.2}) on {}/{} vs {}/{}; the effect differs by {:.2}x ({:.2}–{:.2})",
                e.label,
                ratio(e.effect),
                e.ci_low,
                e.ci_high,
                e.events_exposed,
                e.n_exposed,
                e.events_unexposed,
                e.n_unexposed,
                e.ratio,
                e.ratio_low,
                e.ratio_high
            )),
        ]));
    }
    let mut population = p.population.context.clone();
    if let Some(segment) = &p.population.segment {
        population.push_str(&format!(" · segment {segment}"));
    }
    if !survival {
        population.push_str(&format!(
            " · {} within {} days",
            p.outcome.replace('_', " "),
            mined.window_days
        ));
    }
    lines.push(Line::from(vec![label("Where"), Span::raw(population)]));
    lines.push(Line::from(vec![
        label("Condition"),
        Span::raw(p.condition.join(" and ")),
    ]));
    if !p.confounders.is_empty() {
        let adjusted: Vec<String> = p
            .confounders
            .iter()
            .map(|c| format!("{} {:.2}", c.confounder, c.rr))
            .collect();
        lines.push(Line::from(vec![
            label("Adjusted"),
            Span::raw(format!("{} (Mantel–Haenszel RR)", adjusted.join(" · "))),
        ]));
    }
    if !p.flags.is_empty() {
        let words: Vec<String> = p.flags.iter().map(|f| flag_words(f)).collect();
        lines.push(Line::from(vec![
            label("Checks"),
            Span::raw(words.join(" · ")),
        ]));
    }
    lines.push(Line::styled(
        format!(
            "⏎ the {} deals behind it ({} {what}) · {} patterns tested in all",
            p.deal_ids.len(),
            p.event_deal_ids.len(),
            grouped(mined.tested as i64)
        ),
        app.theme.dim,
    ));
    lines
}

fn evidence(frame: &mut Frame<'_>, area: Rect, app: &App, mined: &Mined, p: &Pattern) {
    let block = Block::new()
        .borders(Borders::TOP)
        .padding(Padding::left(1))
        .title(" Evidence ")
        .title_style(app.theme.focus);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = evidence_lines(p, mined, app);
    let needed = wrapped_height(&lines, inner.width);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    if p.survival.is_none() {
        frame.render_widget(text, inner);
        return;
    }
    if inner.width >= WIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(text, left);
        km_chart(frame, right, app, p);
        return;
    }
    // Narrow: the text first and the chart below it when both fit; else the sentence (which
    // carries the counts, medians and HR) and the chart.
    if inner.height >= needed + CHART_ROWS {
        let [top, bottom] =
            Layout::vertical([Constraint::Length(needed), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(text, top);
        km_chart(frame, bottom, app, p);
        return;
    }
    let sentence = [Line::raw(p.sentence.as_str())];
    let sentence_rows = wrapped_height(&sentence, inner.width);
    if inner.height >= sentence_rows + CHART_ROWS {
        let [top, bottom] =
            Layout::vertical([Constraint::Length(sentence_rows), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(
            Paragraph::new(sentence.to_vec()).wrap(Wrap { trim: false }),
            top,
        );
        km_chart(frame, bottom, app, p);
    } else {
        frame.render_widget(text, inner);
    }
}

/// The fewest rows a Kaplan–Meier chart is worth drawing in.
const CHART_ROWS: u16 = 8;

/// About how many rows `lines` take wrapped at `width`: word wrapping can need a row more per
/// wrapped line than the character count says, so each wrapped line is given one to spare.
fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines
        .iter()
        .map(|l| match l.width() {
            w if w <= width => 1,
            w => w.div_ceil(width) + 1,
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn km_chart(frame: &mut Frame<'_>, area: Rect, app: &App, p: &Pattern) {
    let Some([with, without]) = &p.survival else {
        return;
    };
    let with_points = km_points(&with.steps);
    let without_points = km_points(&without.steps);
    let last = with_points
        .iter()
        .chain(&without_points)
        .map(|(t, _)| *t)
        .fold(30.0, f64::max);
    let x_max = (last / 30.0).ceil() * 30.0;
    // Two markers as well as two styles, so the curves stay apart without colour.
    let datasets = vec![
        Dataset::default()
            .name(format!("with it (n={})", with.units))
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(app.theme.warn)
            .data(&with_points),
        Dataset::default()
            .name(format!("without (n={})", without.units))
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(app.theme.dim)
            .data(&without_points),
    ];
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .title(" Share not yet decayed (Kaplan–Meier) ")
                .border_style(app.theme.dim),
        )
        .legend_position(Some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)))
        .x_axis(
            ratatui::widgets::Axis::default()
                .title("days")
                .bounds([0.0, x_max])
                .labels([
                    "0".to_owned(),
                    format!("{:.0}", x_max / 2.0),
                    format!("{x_max:.0}"),
                ]),
        )
        .y_axis(
            ratatui::widgets::Axis::default()
                .bounds([0.0, 1.0])
                .labels(["0", "0.5", "1"]),
        );
    frame.render_widget(chart, area);
}

fn deals(frame: &mut Frame<'_>, area: Rect, app: &App, p: &Pattern) {
    let screen = &app.patterns;
    let what = if p.kind == Kind::Survival {
        "decayed".to_owned()
    } else {
        p.outcome.replace('_', " ")
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .title(format!(
            " The {} deals behind #{}: {} {what} · ⏎ opens one with its traces · Esc back ",
            p.deal_ids.len(),
            screen.selected + 1,
            p.event_deal_ids.len()
        ))
        .title_style(app.theme.focus);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let wide = inner.width >= WIDE;
    let mut header = vec!["", "Deal", "Company", "Stage", "Status", "Review"];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(11),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    if wide {
        header.insert(2, "Owner");
        widths.insert(2, Constraint::Length(16));
    }
    let list = screen.deals();
    let rows = list.iter().map(|(id, event)| {
        let marker = Cell::from(if *event { "●" } else { "·" });
        let Some(i) = app.rows.position(id) else {
            // Not in the loaded lists (archived, or the lists are still loading).
            let mut cells = vec![marker, Cell::from(*id), Cell::from("")];
            if wide {
                cells.push(Cell::from(""));
            }
            return Row::new(cells);
        };
        let d = &app.rows.deals[i];
        let (status, style) = match (d.is_closed, d.is_won) {
            (false, _) => ("open", Style::new()),
            (true, true) => ("won", app.theme.won),
            (true, false) => ("lost", app.theme.lost),
        };
        let review = match app.rows.marks[i].review {
            QueueReviewStatus::None => "",
            QueueReviewStatus::Draft => "draft",
            QueueReviewStatus::Final => "done",
        };
        let mut cells = vec![
            marker,
            Cell::from(d.name.as_str()),
            Cell::from(d.company.as_deref().unwrap_or("")),
        ];
        if wide {
            cells.insert(2, Cell::from(d.owner.as_deref().unwrap_or("")));
        }
        cells.extend([
            Cell::from(fit(&d.stage, 11)),
            Cell::from(status).style(style),
            Cell::from(review),
        ]);
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.header))
        .column_spacing(1)
        .row_highlight_style(app.theme.selected);
    let mut state = TableState::default().with_selected(Some(screen.deal_selected));
    frame.render_stateful_widget(table, inner, &mut state);
}

/// The support gate in a word, for narrow screens.
fn short_reason(reason: &str) -> &str {
    match reason {
        "exposed or unexposed group" => "group",
        "outcome margin" => "outcomes",
        "survival groups or events" => "survival",
        other => other,
    }
}

fn insufficient(frame: &mut Frame<'_>, area: Rect, app: &App, mined: &Mined) {
    let block = Block::new()
        .borders(Borders::TOP)
        .title(format!(
            " {} candidates lacked the data to be tested; the {} single conditions below · i or Esc back ",
            grouped(mined.insufficient_count as i64),
            mined.insufficient.len()
        ))
        .title_style(app.theme.focus);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if mined.insufficient.is_empty() {
        frame.render_widget(
            Paragraph::new(" Every single condition had the support to be tested."),
            inner,
        );
        return;
    }
    let wide = inner.width >= WIDE;
    let rows = mined
        .insufficient
        .iter()
        .skip(app.patterns.insufficient_offset)
        .map(|i| {
            Row::new(vec![
                Cell::from(i.population.clone()),
                Cell::from(i.outcome.clone()),
                Cell::from(i.condition.clone()),
                Cell::from(if wide {
                    i.reason.clone()
                } else {
                    short_reason(&i.reason).to_owned()
                }),
            ])
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(if wide { 28 } else { 22 }),
            Constraint::Length(17),
            Constraint::Fill(1),
            Constraint::Length(if wide { 26 } else { 10 }),
        ],
    )
    .header(Row::new(["Population", "Outcome", "Condition", "Too few in"]).style(app.theme.header))
    .column_spacing(1);
    frame.render_widget(table, inner);
}
