//! Decision traces.

use super::{Result, StoreError, opt_secs, opt_ts, secs};
use crate::domain::time::from_unix;
use crate::domain::{DealId, DecisionTrace, Recommendation};
use rusqlite::{Connection, Row, params};

/// Inserts or updates a decision trace.
pub fn upsert(conn: &Connection, t: &DecisionTrace) -> Result<()> {
    let state = serde_json::to_string(&t.state).map_err(|e| StoreError::Invalid {
        what: "trace state",
        value: e.to_string(),
    })?;
    conn.prepare_cached(
        "INSERT INTO decision_traces (id, review_id, deal_id, at, stage_id, state_json, actor,
             action, rec_lesson_id, rec_text, rationale, expected_outcome, expected_by,
             actual_outcome, followed, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT(id) DO UPDATE SET review_id = excluded.review_id, deal_id = excluded.deal_id,
             at = excluded.at, stage_id = excluded.stage_id, state_json = excluded.state_json,
             actor = excluded.actor, action = excluded.action,
             rec_lesson_id = excluded.rec_lesson_id, rec_text = excluded.rec_text,
             rationale = excluded.rationale, expected_outcome = excluded.expected_outcome,
             expected_by = excluded.expected_by, actual_outcome = excluded.actual_outcome,
             followed = excluded.followed, created_at = excluded.created_at,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        t.id,
        t.review_id,
        t.deal_id.as_str(),
        secs(t.at),
        t.stage_id.as_ref().map(|s| s.as_str()),
        state,
        t.actor,
        t.action,
        t.recommendation.as_ref().map(|r| r.lesson_id.as_str()),
        t.recommendation.as_ref().map(|r| r.text.as_str()),
        t.rationale,
        t.expected_outcome,
        opt_secs(t.expected_by),
        t.actual_outcome,
        t.followed,
        secs(t.created_at),
        secs(t.updated_at),
    ])?;
    Ok(())
}

const COLUMNS: &str = "id, review_id, deal_id, at, stage_id, state_json, actor, action,
    rec_lesson_id, rec_text, rationale, expected_outcome, expected_by, actual_outcome, followed,
    created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(DecisionTrace, String)> {
    let lesson: Option<String> = r.get(8)?;
    let text: Option<String> = r.get(9)?;
    Ok((
        DecisionTrace {
            id: r.get(0)?,
            review_id: r.get(1)?,
            deal_id: r.get::<_, String>(2)?.into(),
            at: from_unix(r.get(3)?),
            stage_id: r.get::<_, Option<String>>(4)?.map(Into::into),
            state: Default::default(),
            actor: r.get(6)?,
            action: r.get(7)?,
            recommendation: lesson.zip(text).map(|(l, text)| Recommendation {
                lesson_id: l.into(),
                text,
            }),
            rationale: r.get(10)?,
            expected_outcome: r.get(11)?,
            expected_by: opt_ts(r.get(12)?),
            actual_outcome: r.get(13)?,
            followed: r.get(14)?,
            created_at: from_unix(r.get(15)?),
            updated_at: from_unix(r.get(16)?),
        },
        r.get(5)?,
    ))
}

/// A deal's traces in the order of the decisions.
pub fn for_deal(conn: &Connection, deal: &DealId) -> Result<Vec<DecisionTrace>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM decision_traces WHERE deal_id = ?1 ORDER BY at, id"
        ))?
        .query_map([deal.as_str()], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_state).collect()
}

/// Every trace, by deal and then in the order of the decisions, passed to `each` one at a time
/// so that an export of any size runs in constant memory.
pub fn each<E: From<StoreError>>(
    conn: &Connection,
    mut each: impl FnMut(DecisionTrace) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let store_err = |e: rusqlite::Error| E::from(StoreError::Sqlite(e));
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM decision_traces ORDER BY deal_id, at, id"
        ))
        .map_err(store_err)?;
    let mut rows = stmt.query([]).map_err(store_err)?;
    while let Some(row) = rows.next().map_err(store_err)? {
        each(with_state(from_row(row).map_err(store_err)?)?)?;
    }
    Ok(())
}

fn with_state((mut trace, state): (DecisionTrace, String)) -> Result<DecisionTrace> {
    trace.state = serde_json::from_str(&state).map_err(|_| StoreError::Invalid {
        what: "trace state",
        value: state,
    })?;
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::deals::tests::seeded;
    use crate::store::reviews;

    #[test]
    fn traces_round_trip_with_state_and_recommendation() {
        let store = seeded(1);
        reviews::upsert(store.conn(), &reviews::tests::sample()).unwrap();
        let trace = DecisionTrace {
            id: "0192f0c4-0000-7000-8000-00000000000a".into(),
            review_id: Some(reviews::tests::sample().id),
            deal_id: "d0".into(),
            at: from_unix(12 * DAY),
            stage_id: Some("demo".into()),
            state: [
                ("single_threaded".to_string(), serde_json::json!(true)),
                ("amount".to_string(), serde_json::json!(42_000.0)),
            ]
            .into(),
            actor: "Ada Byron".into(),
            action: "Sent proposal without meeting the CFO".into(),
            recommendation: Some(Recommendation {
                lesson_id: "lesson-1".into(),
                text: "Get the CFO on a call before Proposal".into(),
            }),
            rationale: "Champion said the CFO would sign".into(),
            expected_outcome: "Signed by end of quarter".into(),
            expected_by: Some(from_unix(40 * DAY)),
            actual_outcome: None,
            followed: Some(false),
            created_at: from_unix(50 * DAY),
            updated_at: from_unix(50 * DAY),
        };
        upsert(store.conn(), &trace).unwrap();
        let bare = DecisionTrace {
            id: "0192f0c4-0000-7000-8000-00000000000b".into(),
            review_id: None,
            at: from_unix(5 * DAY),
            recommendation: None,
            followed: None,
            state: Default::default(),
            ..trace.clone()
        };
        upsert(store.conn(), &bare).unwrap();
        assert_eq!(
            for_deal(store.conn(), &"d0".into()).unwrap(),
            vec![bare, trace]
        );
    }

    #[test]
    fn every_trace_comes_out_by_deal_then_time() {
        let store = seeded(2);
        let trace = |id: &str, deal: &str, day: i64| DecisionTrace {
            action: "Called the CFO".into(),
            ..DecisionTrace::blank(
                id.into(),
                deal.into(),
                from_unix(day * DAY),
                "Ada".into(),
                from_unix(60 * DAY),
            )
        };
        for t in [
            trace("t3", "d1", 1),
            trace("t2", "d0", 9),
            trace("t1", "d0", 3),
        ] {
            upsert(store.conn(), &t).unwrap();
        }
        let mut seen = Vec::new();
        each(store.conn(), |t| {
            seen.push(t.id);
            Ok::<_, StoreError>(())
        })
        .unwrap();
        assert_eq!(seen, ["t1", "t2", "t3"]);
    }
}
