//! Sync bookkeeping: checkpoints and runs.
//!
//! Checkpoints are written with the data they cover, in the caller's transaction: a sync killed
//! at any moment leaves either both or neither.

use super::{Result, secs};
use crate::domain::time::from_unix;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Sets a checkpoint value.
pub fn set_state(
    conn: &Connection,
    connector: &str,
    key: &str,
    value: &str,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (connector, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(connector, key) DO UPDATE SET value = excluded.value,
             updated_at = excluded.updated_at",
    )?
    .execute(params![connector, key, value, secs(now)])?;
    Ok(())
}

/// Reads a checkpoint value.
pub fn state(conn: &Connection, connector: &str, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_state WHERE connector = ?1 AND key = ?2")?
        .query_row(params![connector, key], |r| r.get(0))
        .optional()?)
}

/// Removes a checkpoint.
pub fn clear_state(conn: &Connection, connector: &str, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM sync_state WHERE connector = ?1 AND key = ?2")?
        .execute(params![connector, key])?;
    Ok(())
}

/// Full or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Every deal, paged from the start (or from a checkpoint of an interrupted full run).
    Full,
    /// Only what changed since the last run.
    Incremental,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            RunKind::Full => "full",
            RunKind::Incremental => "incremental",
        }
    }
}

/// What a run did, for the summary and `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunCounts {
    /// Deals the cache did not hold before.
    pub deals_new: i64,
    /// Deals it held and that changed.
    pub deals_changed: i64,
    /// Deals deleted or archived in the CRM, archived here.
    pub deals_removed: i64,
    /// HTTP requests sent.
    pub requests: i64,
    /// Requests retried (429s, 5xx, timeouts).
    pub retries: i64,
}

/// Starts a run and returns its id.
pub fn start_run(conn: &Connection, connector: &str, kind: RunKind, now: Timestamp) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO sync_runs (connector, kind, started_at, status) VALUES (?1, ?2, ?3, 'running')",
    )?
    .execute(params![connector, kind.as_str(), secs(now)])?;
    Ok(conn.last_insert_rowid())
}

/// Adds to a run's counts (called in each batch's transaction, so counts survive a kill).
pub fn add_to_run(conn: &Connection, run: i64, c: &RunCounts) -> Result<()> {
    conn.prepare_cached(
        "UPDATE sync_runs SET deals_new = deals_new + ?2, deals_changed = deals_changed + ?3,
             deals_removed = deals_removed + ?4, requests = requests + ?5, retries = retries + ?6
         WHERE id = ?1",
    )?
    .execute(params![
        run,
        c.deals_new,
        c.deals_changed,
        c.deals_removed,
        c.requests,
        c.retries
    ])?;
    Ok(())
}

/// Marks a run finished, successfully or not.
pub fn finish_run(conn: &Connection, run: i64, ok: bool, now: Timestamp) -> Result<()> {
    conn.prepare_cached("UPDATE sync_runs SET status = ?2, finished_at = ?3 WHERE id = ?1")?
        .execute(params![run, if ok { "done" } else { "failed" }, secs(now)])?;
    Ok(())
}

/// A run's totals.
pub fn run_counts(conn: &Connection, run: i64) -> Result<Option<RunCounts>> {
    Ok(conn
        .prepare_cached(
            "SELECT deals_new, deals_changed, deals_removed, requests, retries FROM sync_runs
              WHERE id = ?1",
        )?
        .query_row([run], |r| {
            Ok(RunCounts {
                deals_new: r.get(0)?,
                deals_changed: r.get(1)?,
                deals_removed: r.get(2)?,
                requests: r.get(3)?,
                retries: r.get(4)?,
            })
        })
        .optional()?)
}

/// When the last successful run of a connector finished.
pub fn last_success(conn: &Connection, connector: &str) -> Result<Option<Timestamp>> {
    let at: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(finished_at) FROM sync_runs WHERE connector = ?1 AND status = 'done'",
        )?
        .query_row([connector], |r| r.get(0))?;
    Ok(at.map(from_unix))
}

/// Stamps deals as seen by a full-scan run.
pub fn mark_seen(conn: &Connection, run: i64, deal_ids: &[&str]) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE deals SET sync_run = ?1 WHERE id = ?2")?;
    for id in deal_ids {
        stmt.execute(params![run, id])?;
    }
    Ok(())
}

/// How many of the source's deals the full-scan `run` has committed so far.
pub fn seen_by_run(conn: &Connection, source: &str, run: i64) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM deals WHERE source = ?1 AND sync_run = ?2")?
        .query_row(params![source, run], |r| r.get::<_, i64>(0))? as u64)
}

/// After a complete full scan: archives the source's live deals the scan did not see, and
/// returns how many. Nothing is deleted: reviews and traces of those deals stay.
pub fn archive_unseen(conn: &Connection, source: &str, run: i64, now: Timestamp) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "UPDATE deals SET archived_at = ?3
              WHERE source = ?1 AND archived_at IS NULL AND (sync_run IS NULL OR sync_run <> ?2)",
        )?
        .execute(params![source, run, secs(now)])? as i64)
}

/// Archives one deal (deleted in the CRM); returns whether a live deal was archived.
pub fn archive_deal(conn: &Connection, source: &str, id: &str, at: Timestamp) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE deals SET archived_at = ?3 WHERE source = ?1 AND id = ?2 AND archived_at IS NULL",
        )?
        .execute(params![source, id, secs(at)])?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deals::tests::seeded;

    #[test]
    fn checkpoints_round_trip() {
        let store = seeded(0);
        let c = store.conn();
        assert_eq!(state(c, "hubspot", "full.after").unwrap(), None);
        set_state(c, "hubspot", "full.after", "abc", from_unix(1)).unwrap();
        set_state(c, "hubspot", "full.after", "def", from_unix(2)).unwrap();
        assert_eq!(
            state(c, "hubspot", "full.after").unwrap().as_deref(),
            Some("def")
        );
        assert_eq!(state(c, "pipedrive", "full.after").unwrap(), None);
        clear_state(c, "hubspot", "full.after").unwrap();
        assert_eq!(state(c, "hubspot", "full.after").unwrap(), None);
    }

    #[test]
    fn runs_accumulate_and_finish() {
        let store = seeded(0);
        let c = store.conn();
        let run = start_run(c, "hubspot", RunKind::Full, from_unix(10)).unwrap();
        let add = RunCounts {
            deals_new: 2,
            requests: 5,
            ..Default::default()
        };
        add_to_run(c, run, &add).unwrap();
        add_to_run(c, run, &add).unwrap();
        assert_eq!(run_counts(c, run).unwrap().unwrap().deals_new, 4);
        assert_eq!(last_success(c, "hubspot").unwrap(), None);
        finish_run(c, run, true, from_unix(20)).unwrap();
        assert_eq!(last_success(c, "hubspot").unwrap(), Some(from_unix(20)));
    }

    #[test]
    fn unseen_deals_are_archived_not_deleted() {
        let store = seeded(3); // source "test"
        let c = store.conn();
        mark_seen(c, 7, &["d0", "d2"]).unwrap();
        assert_eq!(archive_unseen(c, "test", 7, from_unix(99)).unwrap(), 1);
        assert_eq!(archive_unseen(c, "other", 7, from_unix(99)).unwrap(), 0);
        let archived: Vec<String> = c
            .prepare("SELECT id FROM deals WHERE archived_at IS NOT NULL")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(archived, vec!["d1".to_string()]);
        assert!(archive_deal(c, "test", "d0", from_unix(100)).unwrap());
        assert!(
            !archive_deal(c, "test", "d0", from_unix(100)).unwrap(),
            "already archived"
        );
    }
}
