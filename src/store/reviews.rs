//! Post-mortem reviews with their reasons and lesson candidates.

use super::{Result, StoreError, secs};
use crate::domain::time::from_unix;
use crate::domain::{DealId, LessonCandidate, ReasonEntry, Review, ReviewOutcome, ReviewStatus};
use rusqlite::{Connection, OptionalExtension, params};

/// Inserts or updates a review, replacing its reasons and lesson candidates.
pub fn upsert(conn: &Connection, r: &Review) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO reviews (id, deal_id, reviewer, created_at, updated_at, status, outcome, notes,
             revision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET deal_id = excluded.deal_id, reviewer = excluded.reviewer,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             status = excluded.status, outcome = excluded.outcome, notes = excluded.notes,
             revision = excluded.revision",
    )?
    .execute(params![
        r.id,
        r.deal_id.as_str(),
        r.reviewer,
        secs(r.created_at),
        secs(r.updated_at),
        r.status.as_str(),
        r.outcome.map(ReviewOutcome::as_str),
        r.notes,
        r.revision
    ])?;
    for table in ["review_reasons", "review_lesson_candidates"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE review_id = ?1"))?
            .execute([&r.id])?;
    }
    let mut reason = conn.prepare_cached(
        "INSERT INTO review_reasons (review_id, seq, code, detail, is_primary)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (seq, x) in r.reasons.iter().enumerate() {
        reason.execute(params![r.id, seq as i64, x.code, x.detail, x.primary])?;
    }
    let mut candidate = conn.prepare_cached(
        "INSERT INTO review_lesson_candidates (review_id, seq, text, pattern_key)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, c) in r.lesson_candidates.iter().enumerate() {
        candidate.execute(params![r.id, seq as i64, c.text, c.pattern_key])?;
    }
    Ok(())
}

/// One review by id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Review>> {
    let row = conn
        .prepare_cached(
            "SELECT id, deal_id, reviewer, created_at, updated_at, status, outcome, notes, revision
               FROM reviews WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })
        .optional()?;
    let Some((id, deal, reviewer, created, updated, status, outcome, notes, revision)) = row else {
        return Ok(None);
    };
    let status = ReviewStatus::parse(&status).ok_or(StoreError::Invalid {
        what: "review status",
        value: status,
    })?;
    let outcome = match outcome {
        None => None,
        Some(o) => Some(ReviewOutcome::parse(&o).ok_or(StoreError::Invalid {
            what: "review outcome",
            value: o,
        })?),
    };
    let reasons = conn
        .prepare_cached(
            "SELECT code, detail, is_primary FROM review_reasons WHERE review_id = ?1 ORDER BY seq",
        )?
        .query_map([&id], |r| {
            Ok(ReasonEntry {
                code: r.get(0)?,
                detail: r.get(1)?,
                primary: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let lesson_candidates = conn
        .prepare_cached(
            "SELECT text, pattern_key FROM review_lesson_candidates WHERE review_id = ?1
              ORDER BY seq",
        )?
        .query_map([&id], |r| {
            Ok(LessonCandidate {
                text: r.get(0)?,
                pattern_key: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(Review {
        id,
        deal_id: DealId(deal),
        reviewer,
        created_at: from_unix(created),
        updated_at: from_unix(updated),
        status,
        outcome,
        reasons,
        notes,
        lesson_candidates,
        revision,
    }))
}

/// Every review, oldest first.
pub fn all(conn: &Connection) -> Result<Vec<Review>> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM reviews ORDER BY created_at, id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter()
        .filter_map(|id| get(conn, id).transpose())
        .collect()
}

/// The ids of a deal's reviews, oldest first.
pub fn ids_for_deal(conn: &Connection, deal: &DealId) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT id FROM reviews WHERE deal_id = ?1 ORDER BY created_at, id")?
        .query_map([deal.as_str()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::deals::tests::seeded;

    pub(crate) fn sample() -> Review {
        Review {
            id: "0192f0c4-0000-7000-8000-000000000001".into(),
            deal_id: "d0".into(),
            reviewer: "Maya (manager)".into(),
            created_at: from_unix(10 * DAY),
            updated_at: from_unix(11 * DAY),
            status: ReviewStatus::Draft,
            outcome: Some(ReviewOutcome::Lost),
            reasons: vec![
                ReasonEntry {
                    code: "lost_to_competitor".into(),
                    detail: Some("Quantivo".into()),
                    primary: true,
                },
                ReasonEntry {
                    code: "price".into(),
                    detail: None,
                    primary: false,
                },
            ],
            notes: "Never met the CFO.".into(),
            lesson_candidates: vec![LessonCandidate {
                text: "Anchor the business case before Proposal".into(),
                pattern_key: Some("slipped/demo/single_threaded".into()),
            }],
            revision: 0,
        }
    }

    #[test]
    fn reviews_round_trip_and_replace_children() {
        let store = seeded(1);
        let mut review = sample();
        upsert(store.conn(), &review).unwrap();
        assert_eq!(get(store.conn(), &review.id).unwrap(), Some(review.clone()));
        review.reasons.truncate(1);
        review.status = ReviewStatus::Final;
        review.revision = 1;
        upsert(store.conn(), &review).unwrap();
        assert_eq!(get(store.conn(), &review.id).unwrap(), Some(review.clone()));
        assert_eq!(
            ids_for_deal(store.conn(), &"d0".into()).unwrap(),
            vec![review.id]
        );
        assert_eq!(get(store.conn(), "missing").unwrap(), None);
    }

    #[test]
    fn a_reviewed_deal_cannot_be_deleted_out_from_under_its_review() {
        let store = seeded(1);
        upsert(store.conn(), &sample()).unwrap();
        let deleted = store
            .conn()
            .execute("DELETE FROM deals WHERE id = 'd0'", []);
        assert!(deleted.is_err(), "reviews must survive their deal");
    }
}
