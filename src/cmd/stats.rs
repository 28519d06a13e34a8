//! `dealtrace stats`

use crate::domain::time::rfc3339;
use crate::store::{self, Store};
use color_eyre::eyre::Result;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// `stats --json`: stable keys, counts as a table-name → rows object.
#[derive(Serialize)]
struct StatsJson {
    db: String,
    schema_version: i64,
    counts: BTreeMap<String, i64>,
    deals_by_source: BTreeMap<String, i64>,
    date_range: Option<DateRange>,
    last_sync: Option<Timestamp>,
}

#[derive(Serialize)]
struct DateRange {
    first: Timestamp,
    last: Timestamp,
}

/// Prints what the cache holds.
pub(super) fn print(store: &Store, json: bool) -> Result<()> {
    let stats = store::meta::stats(store.conn())?;
    let schema_version = store.schema_version()?;
    let mut out = std::io::stdout().lock();
    if json {
        let body = StatsJson {
            db: store.path().display().to_string(),
            schema_version,
            counts: stats.counts.iter().cloned().collect(),
            deals_by_source: stats.deals_by_source.iter().cloned().collect(),
            date_range: stats
                .first_created
                .zip(stats.last_activity)
                .map(|(first, last)| DateRange { first, last }),
            last_sync: stats.last_sync,
        };
        serde_json::to_writer_pretty(&mut out, &body)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "cache               {} (schema v{schema_version})",
        store.path().display()
    )?;
    for (table, n) in &stats.counts {
        writeln!(out, "{table:<20}{n}")?;
    }
    let sources: Vec<String> = stats
        .deals_by_source
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    if !sources.is_empty() {
        writeln!(out, "sources             {}", sources.join(", "))?;
    }
    match stats.first_created.zip(stats.last_activity) {
        Some((first, last)) => writeln!(
            out,
            "date range          {} → {}",
            rfc3339(first),
            rfc3339(last)
        )?,
        None => writeln!(out, "date range          empty")?,
    }
    writeln!(
        out,
        "last sync           {}",
        stats
            .last_sync
            .map(rfc3339)
            .unwrap_or_else(|| "never".into())
    )?;
    Ok(())
}
