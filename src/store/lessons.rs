//! The lesson library.

use super::{Result, StoreError, opt_secs, opt_ts, secs};
use crate::domain::time::from_unix;
use crate::domain::{Lesson, LessonId, LessonStatus, PatternRef};
use rusqlite::{Connection, params};

/// Inserts or updates a lesson, replacing its pattern references.
pub fn upsert(conn: &Connection, l: &Lesson) -> Result<()> {
    let tags = serde_json::to_string(&l.tags).map_err(|e| StoreError::Invalid {
        what: "lesson tags",
        value: e.to_string(),
    })?;
    conn.prepare_cached(
        "INSERT INTO lessons (id, statement, recommendation, condition, status, status_changed_by,
             status_changed_at, owner, tags_json, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(id) DO UPDATE SET statement = excluded.statement,
             recommendation = excluded.recommendation, condition = excluded.condition,
             status = excluded.status, status_changed_by = excluded.status_changed_by,
             status_changed_at = excluded.status_changed_at, owner = excluded.owner,
             tags_json = excluded.tags_json, version = excluded.version,
             created_at = excluded.created_at, updated_at = excluded.updated_at",
    )?
    .execute(params![
        l.id.as_str(),
        l.statement,
        l.recommendation,
        l.condition,
        l.status.as_str(),
        l.status_changed_by,
        opt_secs(l.status_changed_at),
        l.owner,
        tags,
        l.version,
        secs(l.created_at),
        secs(l.updated_at),
    ])?;
    conn.prepare_cached("DELETE FROM lesson_patterns WHERE lesson_id = ?1")?
        .execute([l.id.as_str()])?;
    let mut pattern = conn.prepare_cached(
        "INSERT INTO lesson_patterns (lesson_id, seq, key, outcome, population, condition)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, p) in l.patterns.iter().enumerate() {
        pattern.execute(params![
            l.id.as_str(),
            seq as i64,
            p.key,
            p.outcome,
            p.population,
            p.condition
        ])?;
    }
    Ok(())
}

/// Every lesson, oldest first.
pub fn all(conn: &Connection) -> Result<Vec<Lesson>> {
    type RowTuple = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        String,
        i64,
        i64,
        i64,
    );
    let rows: Vec<RowTuple> = conn
        .prepare_cached(
            "SELECT id, statement, recommendation, condition, status, status_changed_by,
                    status_changed_at, owner, tags_json, version, created_at, updated_at
               FROM lessons ORDER BY created_at, id",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut patterns = conn.prepare_cached(
        "SELECT key, outcome, population, condition FROM lesson_patterns WHERE lesson_id = ?1
          ORDER BY seq",
    )?;
    rows.into_iter()
        .map(
            |(
                id,
                statement,
                recommendation,
                condition,
                status,
                by,
                at,
                owner,
                tags,
                version,
                created,
                updated,
            )| {
                let status = LessonStatus::parse(&status).ok_or(StoreError::Invalid {
                    what: "lesson status",
                    value: status,
                })?;
                let tags = serde_json::from_str(&tags).map_err(|_| StoreError::Invalid {
                    what: "lesson tags",
                    value: tags,
                })?;
                let refs = patterns
                    .query_map([&id], |r| {
                        Ok(PatternRef {
                            key: r.get(0)?,
                            outcome: r.get(1)?,
                            population: r.get(2)?,
                            condition: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(Lesson {
                    id: LessonId(id),
                    statement,
                    recommendation,
                    condition,
                    patterns: refs,
                    status,
                    status_changed_by: by,
                    status_changed_at: opt_ts(at),
                    owner,
                    tags,
                    version,
                    created_at: from_unix(created),
                    updated_at: from_unix(updated),
                })
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::Store;

    #[test]
    fn lessons_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let mut lesson = Lesson {
            id: "lesson-1".into(),
            statement: "Single-threaded deals slip more after Demo".into(),
            recommendation: "Get a second stakeholder into a call before Proposal".into(),
            condition: "single_threaded".into(),
            patterns: vec![PatternRef {
                key: "slipped/demo/single_threaded".into(),
                outcome: "slipped".into(),
                population: "demo".into(),
                condition: "single_threaded".into(),
            }],
            status: LessonStatus::Active,
            status_changed_by: Some("revops".into()),
            status_changed_at: Some(from_unix(3 * DAY)),
            owner: Some("revops".into()),
            tags: vec!["threading".into(), "demo".into()],
            version: 2,
            created_at: from_unix(DAY),
            updated_at: from_unix(3 * DAY),
        };
        upsert(store.conn(), &lesson).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![lesson.clone()]);
        lesson.patterns.clear();
        lesson.status = LessonStatus::Retired;
        upsert(store.conn(), &lesson).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![lesson]);
    }
}
