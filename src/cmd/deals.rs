//! `dealtrace deals list` and `dealtrace deals show`

use super::reference_now;
use crate::domain::time::{rfc3339, ymd};
use crate::domain::{Activity, DealHistory, DealId, HistoryEvent};
use crate::format::{amount as format_amount, fit};
use crate::store::deals::{DealFilter, DealSummary, StakeholderView};
use crate::store::{self, Store};
use crate::text::{sanitize_block, sanitize_line};
use color_eyre::eyre::{Result, eyre};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// Prints the deals matching the filter.
pub(super) fn list(store: &Store, filter: &DealFilter, json: bool) -> Result<()> {
    let deals = store::deals::list(store.conn(), filter)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &deals)?;
        writeln!(out)?;
        return Ok(());
    }
    let header = [
        "ID", "DEAL", "COMPANY", "OWNER", "STAGE", "AMOUNT", "CLOSE", "STATUS",
    ];
    let widths = [12, 34, 24, 18, 12, 12, 10, 6];
    write_row(&mut out, &header.map(String::from), &widths)?;
    for d in &deals {
        let row = [
            d.id.to_string(),
            d.name.clone(),
            d.company.clone().unwrap_or_default(),
            d.owner.clone().unwrap_or_default(),
            d.stage.clone(),
            format_amount(d.amount, &d.currency),
            d.close_date.map(ymd).unwrap_or_default(),
            status_word(d).to_owned(),
        ];
        write_row(&mut out, &row, &widths)?;
    }
    Ok(())
}

fn status_word(d: &DealSummary) -> &'static str {
    match (d.is_closed, d.is_won) {
        (false, _) => "open",
        (true, true) => "won",
        (true, false) => "lost",
    }
}

/// One padded, sanitised table row; the last column is not padded.
fn write_row(out: &mut impl Write, cells: &[String], widths: &[usize]) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = fit(&sanitize_line(cell), *width);
        if i + 1 == cells.len() {
            line.push_str(&cell);
        } else {
            line.push_str(&format!("{cell:<width$}  "));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// `deals show --json`: the deal, its history, stakeholders and activities.
#[derive(Serialize)]
struct DealDetail<'a> {
    #[serde(flatten)]
    summary: &'a DealSummary,
    source: &'a str,
    company_id: Option<&'a str>,
    owner_id: Option<&'a str>,
    pipeline_id: &'a str,
    closed_reason: Option<&'a str>,
    last_modified: Timestamp,
    properties: &'a BTreeMap<String, String>,
    days_in_stage: Option<i64>,
    slip_count: usize,
    history: Vec<HistoryEvent>,
    stakeholders: &'a [StakeholderView],
    activities: &'a [Activity],
}

/// Prints one deal in full.
pub(super) fn show(store: &Store, id: &str, json: bool, slip_min_days: i64) -> Result<()> {
    let conn = store.conn();
    let deal_id = DealId::from(id);
    let Some(deal) = store::deals::get(conn, &deal_id)? else {
        return Err(eyre!(
            "no deal with id {} in the cache at {}; `dealtrace deals list` shows the ids",
            sanitize_line(id),
            store.path().display()
        ));
    };
    let summary = store::deals::summary(conn, &deal_id)?
        .ok_or_else(|| eyre!("the deal {id} disappeared while it was being read; try again"))?;
    let history = store::deals::history(conn, &deal_id)?;
    let stakeholders = store::deals::stakeholders(conn, &deal_id)?;
    let activities = store::activities::for_deal(conn, &deal_id)?;
    let now = reference_now(store)?;
    let days_in_stage = (!deal.is_closed)
        .then(|| history.days_in_current_stage(now))
        .flatten();

    let mut out = std::io::stdout().lock();
    if json {
        let detail = DealDetail {
            summary: &summary,
            source: &deal.source,
            company_id: deal.company_id.as_ref().map(|c| c.as_str()),
            owner_id: deal.owner_id.as_ref().map(|o| o.as_str()),
            pipeline_id: deal.pipeline_id.as_str(),
            closed_reason: deal.closed_reason.as_deref(),
            last_modified: deal.last_modified,
            properties: &deal.properties,
            days_in_stage,
            slip_count: history.slip_count(slip_min_days),
            history: history.timeline(),
            stakeholders: &stakeholders,
            activities: &activities,
        };
        serde_json::to_writer_pretty(&mut out, &detail)?;
        writeln!(out)?;
        return Ok(());
    }

    let s = |t: &str| sanitize_line(t);
    writeln!(out, "{} ({})", s(&summary.name), summary.id)?;
    writeln!(
        out,
        "  {} · owner {} · {} / {}",
        s(summary.company.as_deref().unwrap_or("no company")),
        s(summary.owner.as_deref().unwrap_or("unassigned")),
        s(&summary.pipeline),
        s(&summary.stage)
    )?;
    writeln!(
        out,
        "  amount {} · created {} · close {} · {}{}",
        format_amount(summary.amount, &summary.currency),
        ymd(summary.created_at),
        summary.close_date.map(ymd).unwrap_or_else(|| "none".into()),
        status_word(&summary),
        days_in_stage
            .map(|d| format!(" · {d} days in stage"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "  close date moved later {} time(s)",
        history.slip_count(slip_min_days)
    )?;
    if let Some(reason) = &deal.closed_reason {
        writeln!(out, "  reason: {}", s(reason))?;
    }

    writeln!(out, "\nHistory")?;
    write_history(&mut out, &history, store)?;

    writeln!(out, "\nStakeholders")?;
    for st in &stakeholders {
        writeln!(
            out,
            "  {:<24} {:<24} {:<16} last engaged {}",
            fit(&s(&st.name), 24),
            fit(&s(st.title.as_deref().unwrap_or("")), 24),
            st.link.role.map(|r| r.as_str()).unwrap_or(""),
            st.last_engaged.map(ymd).unwrap_or_else(|| "never".into())
        )?;
    }

    writeln!(out, "\nActivities")?;
    for a in &activities {
        let body = sanitize_block(&a.body);
        let first = body.lines().next().unwrap_or("");
        writeln!(
            out,
            "  {} {:<8} {}",
            rfc3339(a.occurred_at),
            a.kind.as_str(),
            fit(first, 90)
        )?;
    }
    Ok(())
}

fn write_history(out: &mut impl Write, history: &DealHistory, store: &Store) -> Result<()> {
    let labels: BTreeMap<String, String> = store::pipelines::all(store.conn())?
        .into_iter()
        .flat_map(|p| p.stages)
        .map(|s| (s.id.0, s.label))
        .collect();
    for event in history.timeline() {
        let line = match &event {
            HistoryEvent::Stage(c) => format!(
                "stage → {}",
                sanitize_line(labels.get(c.stage_id.as_str()).unwrap_or(&c.stage_id.0))
            ),
            HistoryEvent::Amount(c) => format!("amount → {}", format_amount(c.amount, "")),
            HistoryEvent::CloseDate(c) => format!(
                "close date → {}",
                c.close_date.map(ymd).unwrap_or_else(|| "none".into())
            ),
        };
        writeln!(out, "  {}  {}", rfc3339(event.at()), line.trim_end())?;
    }
    Ok(())
}
