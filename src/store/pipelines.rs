//! Pipelines and their stages.

use super::Result;
use crate::domain::{Pipeline, Stage};
use rusqlite::{Connection, params};

/// Inserts or updates a pipeline and replaces its stages.
pub fn upsert(conn: &Connection, p: &Pipeline) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO pipelines (id, label, display_order) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET label = excluded.label, display_order = excluded.display_order",
    )?
    .execute(params![p.id.as_str(), p.label, p.display_order])?;
    conn.prepare_cached("DELETE FROM stages WHERE pipeline_id = ?1")?
        .execute([p.id.as_str()])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO stages (pipeline_id, id, label, display_order, probability, is_closed, is_won)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for s in &p.stages {
        insert.execute(params![
            p.id.as_str(),
            s.id.as_str(),
            s.label,
            s.display_order,
            s.probability,
            s.is_closed,
            s.is_won
        ])?;
    }
    Ok(())
}

/// Every pipeline with its stages, in display order.
pub fn all(conn: &Connection) -> Result<Vec<Pipeline>> {
    let mut pipelines: Vec<Pipeline> = conn
        .prepare_cached(
            "SELECT id, label, display_order FROM pipelines ORDER BY display_order, id",
        )?
        .query_map([], |r| {
            Ok(Pipeline {
                id: r.get::<_, String>(0)?.into(),
                label: r.get(1)?,
                display_order: r.get(2)?,
                stages: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stages = conn.prepare_cached(
        "SELECT id, label, display_order, probability, is_closed, is_won FROM stages
         WHERE pipeline_id = ?1 ORDER BY display_order, id",
    )?;
    for p in &mut pipelines {
        p.stages = stages
            .query_map([p.id.as_str()], |r| {
                Ok(Stage {
                    id: r.get::<_, String>(0)?.into(),
                    label: r.get(1)?,
                    display_order: r.get(2)?,
                    probability: r.get(3)?,
                    is_closed: r.get(4)?,
                    is_won: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(pipelines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    pub(crate) fn sample() -> Pipeline {
        let stage = |id: &str, label: &str, order, closed, won| Stage {
            id: id.into(),
            label: label.into(),
            display_order: order,
            probability: Some(if won { 1.0 } else { 0.2 }),
            is_closed: closed,
            is_won: won,
        };
        Pipeline {
            id: "default".into(),
            label: "Sales Pipeline".into(),
            display_order: 0,
            stages: vec![
                stage("appointmentscheduled", "Discovery", 0, false, false),
                stage("closedwon", "Closed Won", 1, true, true),
            ],
        }
    }

    #[test]
    fn round_trip_and_replace_stages() {
        let store = Store::open_in_memory().unwrap();
        let mut p = sample();
        upsert(store.conn(), &p).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![p.clone()]);
        p.stages.pop();
        p.label = "Renamed".into();
        upsert(store.conn(), &p).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![p]);
    }
}
