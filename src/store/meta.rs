//! Cache metadata (key/value) and what the cache holds.

use super::Result;
use crate::domain::time::from_unix;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Keys of the metadata table.
pub mod keys {
    /// When the last sync finished (Unix seconds).
    pub const LAST_SYNC: &str = "last_sync";
    /// The seed of a generated demo history.
    pub const DEMO_SEED: &str = "demo_seed";
    /// The instant a demo history ends at (Unix seconds): its "now".
    pub const DEMO_AS_OF: &str = "demo_as_of";
    /// What the rows of `deal_facts` were computed under (see `store::facts`).
    pub const FACTS_KEY: &str = "facts_key";
}

/// Sets a metadata value.
pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Reads a metadata value.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Reads a metadata value holding Unix seconds.
pub fn get_instant(conn: &Connection, key: &str) -> Result<Option<Timestamp>> {
    Ok(get(conn, key)?
        .and_then(|v| v.parse::<i64>().ok())
        .map(from_unix))
}

/// The tables `stats` counts, in the order it prints them.
pub const COUNTED_TABLES: &[&str] = &[
    "deals",
    "pipelines",
    "stages",
    "owners",
    "teams",
    "companies",
    "contacts",
    "deal_contacts",
    "stage_history",
    "amount_history",
    "close_date_history",
    "activities",
    "activity_contacts",
    "reviews",
    "decision_traces",
    "lessons",
];

/// Deals per source CRM, by source name.
pub fn deals_by_source(conn: &Connection) -> Result<Vec<(String, i64)>> {
    Ok(conn
        .prepare_cached("SELECT source, COUNT(*) FROM deals GROUP BY source ORDER BY source")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// How many records dealtrace owns: (reviews, decision traces, lessons). Anything that would
/// replace the CRM facts wholesale must refuse while these exist.
pub fn owned_record_counts(conn: &Connection) -> Result<(i64, i64, i64)> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM reviews), (SELECT COUNT(*) FROM decision_traces),
                (SELECT COUNT(*) FROM lessons)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// What the cache holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheStats {
    /// Rows per table, in [`COUNTED_TABLES`] order.
    pub counts: Vec<(String, i64)>,
    /// Deals per source CRM.
    pub deals_by_source: Vec<(String, i64)>,
    /// Earliest deal creation.
    pub first_created: Option<Timestamp>,
    /// Latest fact in the cache (deal change or activity).
    pub last_activity: Option<Timestamp>,
    /// When the last sync finished.
    pub last_sync: Option<Timestamp>,
}

/// Counts what the cache holds.
pub fn stats(conn: &Connection) -> Result<CacheStats> {
    let counts = COUNTED_TABLES
        .iter()
        .map(|t| {
            // Table names come from the constant list above, never from input.
            let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
            Ok(((*t).to_owned(), n))
        })
        .collect::<Result<Vec<_>>>()?;
    let deals_by_source = deals_by_source(conn)?;
    let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT MIN(created_at),
                MAX(MAX(COALESCE((SELECT MAX(last_modified) FROM deals), 0)),
                    COALESCE((SELECT MAX(occurred_at) FROM activities), 0))
           FROM deals",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(CacheStats {
        counts,
        deals_by_source,
        first_created: first.map(from_unix),
        last_activity: first.and(last).map(from_unix),
        last_sync: get_instant(conn, keys::LAST_SYNC)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deals::tests::seeded;

    #[test]
    fn meta_round_trip() {
        let store = seeded(0);
        assert_eq!(get(store.conn(), "x").unwrap(), None);
        set(store.conn(), "x", "1").unwrap();
        set(store.conn(), "x", "2").unwrap();
        assert_eq!(get(store.conn(), "x").unwrap().as_deref(), Some("2"));
        assert_eq!(get_instant(store.conn(), "x").unwrap(), Some(from_unix(2)));
    }

    #[test]
    fn stats_count_every_table() {
        let store = seeded(3);
        let s = stats(store.conn()).unwrap();
        let count = |t: &str| s.counts.iter().find(|(n, _)| n == t).map(|(_, c)| *c);
        assert_eq!(count("deals"), Some(3));
        assert_eq!(count("close_date_history"), Some(6));
        assert_eq!(count("contacts"), Some(2));
        assert_eq!(s.counts.len(), COUNTED_TABLES.len());
        assert_eq!(s.deals_by_source, vec![("test".to_string(), 3)]);
        assert_eq!(s.first_created, Some(from_unix(0)));
        assert_eq!(s.last_activity, Some(from_unix(3 * 86_400)));
        assert_eq!(s.last_sync, None);
        assert_eq!(owned_record_counts(store.conn()).unwrap(), (0, 0, 0));
        let empty = stats(seeded(0).conn()).unwrap();
        assert_eq!(empty.first_created, None);
        assert_eq!(empty.last_activity, None);
    }
}
