//! `dealtrace import csv`

use super::open_store;
use crate::crm::csv::rows::RowIssue;
use crate::crm::csv::{self, ImportError, ImportReport, ImportRequest};
use crate::text::sanitize_line;
use color_eyre::eyre::Result;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Skipped rows listed on stderr before "… and N more"; `--json` lists them all.
const LISTED: usize = 50;

/// `--json`: the report plus the time taken.
#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a ImportReport,
    /// False when the import was refused (too many bad rows).
    imported: bool,
    seconds: f64,
}

/// Reads and checks the files, then writes them into the cache at `db`. The files are read
/// before the cache is opened, so that a wrong path never leaves an empty cache behind.
pub(super) fn csv(db: &Path, request: &ImportRequest, json: bool) -> Result<()> {
    let started = Instant::now();
    let prepared = match csv::prepare(request) {
        Ok(p) => p,
        Err(e) => {
            // Refused for too many bad rows: show them, since they say what is wrong with the
            // mapping; the error line follows.
            if let ImportError::TooManyBad { report, .. } = &e {
                if json {
                    print_json(report, false, started)?;
                } else {
                    list_rows(report, "bad row:");
                }
            }
            return Err(e.into());
        }
    };
    let mut store = open_store(db)?;
    let report = csv::write(&mut store, &prepared, request.dry_run)?;
    if json {
        return print_json(&report, true, started);
    }
    list_rows(&report, "skipped");
    print_summary(&report, started);
    Ok(())
}

fn print_json(report: &ImportReport, imported: bool, started: Instant) -> Result<()> {
    let out = Output {
        report,
        imported: imported && !report.dry_run,
        seconds: started.elapsed().as_secs_f64(),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out)?;
    writeln!(stdout)?;
    Ok(())
}

/// Skipped rows and notes on stderr, one per line. Reasons quote the file's cells, which are
/// untrusted text, so everything printed is sanitised.
fn list_rows(report: &ImportReport, verb: &str) {
    list(&report.bad_rows, verb, "bad rows");
    list(&report.notes, "note:", "notes");
}

fn list(issues: &[RowIssue], prefix: &str, what: &str) {
    for issue in issues.iter().take(LISTED) {
        eprintln!(
            "{prefix} {} line {}: {}",
            sanitize_line(&issue.file),
            issue.line,
            sanitize_line(&issue.reason)
        );
    }
    if issues.len() > LISTED {
        eprintln!(
            "… and {} more {what} (--json lists them all)",
            issues.len() - LISTED
        );
    }
}

fn print_summary(r: &ImportReport, started: Instant) {
    for f in &r.files {
        eprintln!(
            "read {} ({}, {}): {} rows, {} skipped",
            sanitize_line(&f.path),
            f.encoding,
            if f.delimiter == "tab" {
                "tab-separated".to_owned()
            } else {
                format!("'{}'-separated", f.delimiter)
            },
            f.rows,
            f.skipped
        );
    }
    let c = &r.created;
    eprintln!(
        "{}deals: {} new, {} updated, {} unchanged ({} rows read, {} skipped in all files)",
        if r.dry_run {
            "dry run, nothing written; "
        } else {
            ""
        },
        r.deals.new,
        r.deals.updated,
        r.deals.unchanged,
        r.rows_read,
        r.skipped_rows,
    );
    eprintln!(
        "also: {} stage-history entries, {} contacts, {} deal-contact links, {} activities; \
         new: {} pipelines, {} stages, {} owners, {} companies; {:.2} s",
        r.stage_entries,
        r.contacts,
        r.stakeholders,
        r.activities,
        c.pipelines,
        c.stages,
        c.owners,
        c.companies,
        started.elapsed().as_secs_f64()
    );
}
