//! Fast loading of CRM facts into emptied tables: the demo's generator and, later, a first full
//! sync write millions of rows where every upsert would first DELETE children that cannot exist.
//!
//! A load goes: [`BulkSettings::apply`] (connection pragmas, outside the transaction), then in one
//! transaction [`clear_crm_facts`], [`drop_secondary_indexes`], the reference data through the
//! aggregate modules' upserts, the deals through [`DealTables`], and [`rebuild_indexes`]; then
//! [`BulkSettings::restore`]. Measured on 100,000 demo deals (4.9 million rows, 2 cores): 6–7 s,
//! against 19 s through the upserts with foreign keys on (figures in BENCHMARKS.md).

use crate::domain::{Activity, Deal, DealHistory, DealRole, Direction, Stakeholder};
use rusqlite::{Connection, Statement};

/// One deal with everything attached to it, as [`DealTables::insert`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct DealRecord<'a> {
    /// The deal.
    pub deal: &'a Deal,
    /// Its field history.
    pub history: &'a DealHistory,
    /// The contacts on it.
    pub stakeholders: &'a [Stakeholder],
    /// Its activities with their participants.
    pub activities: &'a [Activity],
}

/// The CRM-fact tables, children first, so that deleting in this order never trips a foreign key;
/// `deal_facts` is what the cache derived from them.
pub const CRM_TABLES: [&str; 17] = [
    "deal_facts",
    "activity_contacts",
    "activity_deals",
    "activities",
    "deal_contacts",
    "stage_history",
    "amount_history",
    "close_date_history",
    "deal_properties",
    "deals",
    "contacts",
    "company_properties",
    "companies",
    "owners",
    "teams",
    "stages",
    "pipelines",
];

/// Tables whose secondary indexes are dropped for the load and rebuilt after it: building an
/// index once from sorted data is much cheaper than maintaining it through millions of inserts.
pub const REINDEXED_TABLES: [&str; 5] = [
    "deals",
    "contacts",
    "deal_contacts",
    "activities",
    "activity_contacts",
];

/// Connection settings for the duration of a bulk load, and their previous values.
pub struct BulkSettings {
    saved: Vec<(&'static str, i64)>,
}

impl BulkSettings {
    /// Applies the bulk-load settings. Each is a per-connection PRAGMA that cannot change inside a
    /// transaction, so this runs before it begins.
    pub fn apply(conn: &Connection) -> rusqlite::Result<BulkSettings> {
        let wanted: [(&'static str, i64); 5] = [
            // No fsync: the load is one transaction; an application crash still leaves the
            // previous state (an OS crash may not, which is acceptable for data that can be
            // regenerated or re-synced).
            ("synchronous", 0),
            // Callers load whole, consistent worlds (checked in their tests with
            // foreign_key_check); checking every row costs a third of the write.
            ("foreign_keys", 0),
            // Statement journals and index sorts in memory rather than in temp files.
            ("temp_store", 2),
            // 128 MiB of page cache while the write lasts.
            ("cache_size", -131_072),
            // Let SQLite sort with a helper thread when it rebuilds the indexes.
            ("threads", 2),
        ];
        let mut saved = Vec::with_capacity(wanted.len());
        for (name, value) in wanted {
            let before: i64 = conn.pragma_query_value(None, name, |r| r.get(0))?;
            saved.push((name, before));
            conn.pragma_update(None, name, value)?;
        }
        Ok(BulkSettings { saved })
    }

    /// Puts every setting back, in reverse order; reports the first failure.
    pub fn restore(self, conn: &Connection) -> rusqlite::Result<()> {
        let mut first_err = None;
        for (name, value) in self.saved.into_iter().rev() {
            if let Err(e) = conn.pragma_update(None, name, value) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Deletes every CRM fact (never reviews, traces or lessons: callers refuse to load over those).
pub fn clear_crm_facts(conn: &Connection) -> rusqlite::Result<()> {
    for table in CRM_TABLES {
        // Table names are the constants above, never input.
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    Ok(())
}

/// Recreates the indexes [`drop_secondary_indexes`] dropped (and the triggers
/// [`drop_facts_triggers`] dropped), from their DDL.
pub fn rebuild_indexes(conn: &Connection, ddl: &[String]) -> rusqlite::Result<()> {
    for sql in ddl {
        conn.execute(sql, [])?;
    }
    Ok(())
}

/// Drops the explicit indexes of the bulk-loaded tables and returns their exact DDL (as the
/// migrations created it) for rebuilding. Inside the transaction, so a failure restores them.
pub fn drop_secondary_indexes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut found: Vec<(String, String)> = Vec::new();
    for table in REINDEXED_TABLES {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name",
        )?;
        let rows = stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            found.push(row?);
        }
    }
    drop_all(conn, "INDEX", found)
}

/// Drops each `(name, ddl)` schema object of `kind` and returns the DDL, in order.
fn drop_all(
    conn: &Connection,
    kind: &str,
    found: Vec<(String, String)>,
) -> rusqlite::Result<Vec<String>> {
    for (name, _) in &found {
        // Quoted: the name comes from the schema, not from input, but quoting keeps it exact.
        conn.execute(
            &format!("DROP {kind} \"{}\"", name.replace('"', "\"\"")),
            [],
        )?;
    }
    Ok(found.into_iter().map(|(_, sql)| sql).collect())
}

/// Drops the triggers that keep `deal_facts` current (migration 7) and returns their exact DDL,
/// for [`rebuild_indexes`] to recreate. A load into emptied tables has no kept facts to keep
/// current, and the triggers would otherwise run a statement for each of its millions of rows.
/// Inside the transaction, so a failure restores them.
pub fn drop_facts_triggers(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let found: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master
              WHERE type = 'trigger' AND name GLOB 'deal_facts_*' ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop_all(conn, "TRIGGER", found)
}

/// Rows per multi-row INSERT: enough to spread each statement's fixed cost (cursor setup, reset)
/// thin, well under SQLite's limit on bound parameters.
const ROWS_PER_INSERT: usize = 48;

/// Plain INSERT statements for one table: one row at a time, or [`ROWS_PER_INSERT`] at once.
struct Table<'c> {
    one: Statement<'c>,
    many: Statement<'c>,
    width: usize,
}

impl<'c> Table<'c> {
    fn new(conn: &'c Connection, table: &str, columns: &[&str]) -> rusqlite::Result<Table<'c>> {
        let width = columns.len();
        let row = |k: usize| {
            let marks: Vec<String> = (1..=width).map(|c| format!("?{}", k * width + c)).collect();
            format!("({})", marks.join(", "))
        };
        let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let many: Vec<String> = (0..ROWS_PER_INSERT).map(row).collect();
        Ok(Table {
            one: conn.prepare(&format!("{head}{}", row(0)))?,
            many: conn.prepare(&format!("{head}{}", many.join(", ")))?,
            width,
        })
    }

    /// Inserts `rows`, `bind` setting one row's parameters from the given 1-based offset.
    fn insert<R>(
        &mut self,
        rows: &[R],
        bind: impl Fn(&mut Statement<'c>, usize, &R) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
        for chunk in &mut chunks {
            for (k, r) in chunk.iter().enumerate() {
                bind(&mut self.many, k * self.width + 1, r)?;
            }
            self.many.raw_execute()?;
        }
        for r in chunks.remainder() {
            bind(&mut self.one, 1, r)?;
            self.one.raw_execute()?;
        }
        Ok(())
    }
}

/// Every history entry of the batch with its deal id and its position (`seq`) in the deal's list.
fn numbered<'a, T>(
    batch: &[DealRecord<'a>],
    list: impl Fn(&'a DealHistory) -> &'a [T],
) -> Vec<(&'a str, usize, &'a T)> {
    batch
        .iter()
        .flat_map(|b| {
            let id = b.deal.id.as_str();
            list(b.history)
                .iter()
                .enumerate()
                .map(move |(k, c)| (id, k, c))
        })
        .collect()
}

/// Prepared multi-row INSERTs for the deal-level tables, with the columns of
/// [`super::deals::upsert`], [`super::deals::upsert_stakeholder`] and [`super::activities::upsert`].
pub struct DealTables<'c> {
    deals: Table<'c>,
    properties: Table<'c>,
    stages: Table<'c>,
    amounts: Table<'c>,
    close_dates: Table<'c>,
    stakeholders: Table<'c>,
    activities: Table<'c>,
    participants: Table<'c>,
}

impl<'c> DealTables<'c> {
    /// Prepares the statements.
    pub fn new(conn: &'c Connection) -> rusqlite::Result<DealTables<'c>> {
        let history = ["deal_id", "seq", "changed_at"];
        Ok(DealTables {
            deals: Table::new(
                conn,
                "deals",
                &[
                    "id",
                    "source",
                    "name",
                    "company_id",
                    "owner_id",
                    "pipeline_id",
                    "stage_id",
                    "amount",
                    "currency",
                    "created_at",
                    "close_date",
                    "is_closed",
                    "is_won",
                    "closed_reason",
                    "last_modified",
                    "archived_at",
                ],
            )?,
            properties: Table::new(conn, "deal_properties", &["deal_id", "name", "value"])?,
            stages: Table::new(
                conn,
                "stage_history",
                &["deal_id", "seq", "entered_at", "stage_id"],
            )?,
            amounts: Table::new(
                conn,
                "amount_history",
                &[&history[..], &["amount"]].concat(),
            )?,
            close_dates: Table::new(
                conn,
                "close_date_history",
                &[&history[..], &["close_date"]].concat(),
            )?,
            stakeholders: Table::new(
                conn,
                "deal_contacts",
                &["deal_id", "contact_id", "role", "added_at"],
            )?,
            activities: Table::new(
                conn,
                "activities",
                &[
                    "id",
                    "deal_id",
                    "kind",
                    "occurred_at",
                    "direction",
                    "subject",
                    "body",
                    "owner_id",
                ],
            )?,
            participants: Table::new(conn, "activity_contacts", &["activity_id", "contact_id"])?,
        })
    }

    /// Inserts a batch of deals with everything attached to them into tables that hold nothing
    /// of them yet; returns the rows written.
    pub fn insert(&mut self, batch: &[DealRecord<'_>]) -> rusqlite::Result<usize> {
        let deals: Vec<&Deal> = batch.iter().map(|b| b.deal).collect();
        self.deals.insert(&deals, |s, o, d| {
            s.raw_bind_parameter(o, d.id.as_str())?;
            s.raw_bind_parameter(o + 1, &d.source)?;
            s.raw_bind_parameter(o + 2, &d.name)?;
            s.raw_bind_parameter(o + 3, d.company_id.as_ref().map(|c| c.as_str()))?;
            s.raw_bind_parameter(o + 4, d.owner_id.as_ref().map(|c| c.as_str()))?;
            s.raw_bind_parameter(o + 5, d.pipeline_id.as_str())?;
            s.raw_bind_parameter(o + 6, d.stage_id.as_str())?;
            s.raw_bind_parameter(o + 7, d.amount)?;
            s.raw_bind_parameter(o + 8, &d.currency)?;
            s.raw_bind_parameter(o + 9, d.created_at.as_second())?;
            s.raw_bind_parameter(o + 10, d.close_date.map(|t| t.as_second()))?;
            s.raw_bind_parameter(o + 11, d.is_closed)?;
            s.raw_bind_parameter(o + 12, d.is_won)?;
            s.raw_bind_parameter(o + 13, d.closed_reason.as_deref())?;
            s.raw_bind_parameter(o + 14, d.last_modified.as_second())?;
            s.raw_bind_parameter(o + 15, d.archived_at.map(|t| t.as_second()))
        })?;
        let properties: Vec<(&str, &String, &String)> = batch
            .iter()
            .flat_map(|b| {
                b.deal
                    .properties
                    .iter()
                    .map(|(n, v)| (b.deal.id.as_str(), n, v))
            })
            .collect();
        self.properties.insert(&properties, |s, o, (id, n, v)| {
            s.raw_bind_parameter(o, *id)?;
            s.raw_bind_parameter(o + 1, *n)?;
            s.raw_bind_parameter(o + 2, *v)
        })?;
        let stages = numbered(batch, |h| &h.stages);
        self.stages.insert(&stages, |s, o, (id, k, c)| {
            s.raw_bind_parameter(o, *id)?;
            s.raw_bind_parameter(o + 1, *k as i64)?;
            s.raw_bind_parameter(o + 2, c.at.as_second())?;
            s.raw_bind_parameter(o + 3, c.stage_id.as_str())
        })?;
        let amounts = numbered(batch, |h| &h.amounts);
        self.amounts.insert(&amounts, |s, o, (id, k, c)| {
            s.raw_bind_parameter(o, *id)?;
            s.raw_bind_parameter(o + 1, *k as i64)?;
            s.raw_bind_parameter(o + 2, c.at.as_second())?;
            s.raw_bind_parameter(o + 3, c.amount)
        })?;
        let close_dates = numbered(batch, |h| &h.close_dates);
        self.close_dates.insert(&close_dates, |s, o, (id, k, c)| {
            s.raw_bind_parameter(o, *id)?;
            s.raw_bind_parameter(o + 1, *k as i64)?;
            s.raw_bind_parameter(o + 2, c.at.as_second())?;
            s.raw_bind_parameter(o + 3, c.close_date.map(|t| t.as_second()))
        })?;
        let stakeholders: Vec<&Stakeholder> =
            batch.iter().flat_map(|b| b.stakeholders.iter()).collect();
        self.stakeholders.insert(&stakeholders, |s, o, x| {
            s.raw_bind_parameter(o, x.deal_id.as_str())?;
            s.raw_bind_parameter(o + 1, x.contact_id.as_str())?;
            s.raw_bind_parameter(o + 2, x.role.map(DealRole::as_str))?;
            s.raw_bind_parameter(o + 3, x.added_at.map(|t| t.as_second()))
        })?;
        let activities: Vec<&Activity> = batch.iter().flat_map(|b| b.activities.iter()).collect();
        self.activities.insert(&activities, |s, o, a| {
            s.raw_bind_parameter(o, a.id.as_str())?;
            s.raw_bind_parameter(o + 1, a.deal_id.as_str())?;
            s.raw_bind_parameter(o + 2, a.kind.as_str())?;
            s.raw_bind_parameter(o + 3, a.occurred_at.as_second())?;
            s.raw_bind_parameter(o + 4, a.direction.map(Direction::as_str))?;
            s.raw_bind_parameter(o + 5, a.subject.as_deref())?;
            s.raw_bind_parameter(o + 6, &a.body)?;
            s.raw_bind_parameter(o + 7, a.owner_id.as_ref().map(|x| x.as_str()))
        })?;
        let participants: Vec<(&str, &str)> = activities
            .iter()
            .flat_map(|a| a.contact_ids.iter().map(|c| (a.id.as_str(), c.as_str())))
            .collect();
        self.participants.insert(&participants, |s, o, (a, c)| {
            s.raw_bind_parameter(o, *a)?;
            s.raw_bind_parameter(o + 1, *c)
        })?;
        Ok(deals.len()
            + properties.len()
            + stages.len()
            + amounts.len()
            + close_dates.len()
            + stakeholders.len()
            + activities.len()
            + participants.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::domain::{ActivityKind, DealRole};
    use crate::store::deals::tests::{sample_deal, seeded};
    use crate::store::{activities, deals};

    fn attachments(i: usize) -> (Vec<Stakeholder>, Vec<Activity>) {
        let id = format!("d{i}");
        let stakeholders = vec![Stakeholder {
            deal_id: id.as_str().into(),
            contact_id: "p1".into(),
            role: Some(DealRole::Champion),
            added_at: Some(from_unix(DAY)),
        }];
        let activities = (0..3)
            .map(|k| Activity {
                id: format!("a{i}-{k}").into(),
                deal_id: id.as_str().into(),
                kind: ActivityKind::ALL[k % 4],
                occurred_at: from_unix((k as i64 + 1) * DAY),
                direction: (k == 2).then_some(Direction::Inbound),
                subject: None,
                body: format!("note {k}"),
                owner_id: Some("o1".into()),
                contact_ids: if k == 0 {
                    vec![]
                } else {
                    vec!["p1".into(), "p2".into()]
                },
            })
            .collect();
        (stakeholders, activities)
    }

    /// More deals than one multi-row statement holds, so both the batched and the single-row
    /// statements run; everything reads back exactly as the upserts would have written it.
    #[test]
    fn bulk_loaded_deals_read_back_like_upserted_ones() {
        let mut store = seeded(0);
        let n = ROWS_PER_INSERT * 2 + 5;
        let data: Vec<_> = (0..n)
            .map(|i| {
                let (deal, history) = sample_deal(i);
                let (stakeholders, activities) = attachments(i);
                (deal, history, stakeholders, activities)
            })
            .collect();
        let settings = BulkSettings::apply(store.conn()).unwrap();
        let rows = store
            .transaction(|tx| {
                let indexes = drop_secondary_indexes(tx)?;
                assert!(!indexes.is_empty());
                let mut tables = DealTables::new(tx)?;
                let records: Vec<DealRecord<'_>> = data
                    .iter()
                    .map(|(deal, history, stakeholders, activities)| DealRecord {
                        deal,
                        history,
                        stakeholders,
                        activities,
                    })
                    .collect();
                let rows = tables.insert(&records)?;
                drop(tables);
                rebuild_indexes(tx, &indexes)?;
                Ok::<_, rusqlite::Error>(rows)
            })
            .unwrap();
        settings.restore(store.conn()).unwrap();
        let fk: i64 = store
            .conn()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "settings are restored");

        // Per deal: 1 deal + 1 property + 1 stage + 1 amount + 2 close dates + 1 stakeholder
        // + 3 activities + 4 participants.
        assert_eq!(rows, n * 14);
        for (deal, history, stakeholders, acts) in &data {
            assert_eq!(
                deals::get(store.conn(), &deal.id).unwrap().as_ref(),
                Some(deal)
            );
            assert_eq!(&deals::history(store.conn(), &deal.id).unwrap(), history);
            let links: Vec<_> = deals::stakeholders(store.conn(), &deal.id)
                .unwrap()
                .into_iter()
                .map(|v| v.link)
                .collect();
            assert_eq!(&links, stakeholders);
            let mut acts = acts.clone();
            for a in &mut acts {
                a.contact_ids.sort();
            }
            assert_eq!(activities::for_deal(store.conn(), &deal.id).unwrap(), acts);
        }
        let violations: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0);
        let indexes: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(indexes >= 8, "indexes are back: {indexes}");
    }

    #[test]
    fn clearing_keeps_what_reviewers_wrote() {
        let store = seeded(2);
        crate::store::reviews::upsert(store.conn(), &crate::store::reviews::tests::sample())
            .unwrap();
        // Reviews reference deals, so clearing must fail rather than orphan or delete them.
        assert!(clear_crm_facts(store.conn()).is_err());
        let clean = seeded(2);
        clear_crm_facts(clean.conn()).unwrap();
        let n: i64 = clean
            .conn()
            .query_row("SELECT COUNT(*) FROM deals", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
