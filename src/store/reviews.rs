//! Post-mortem reviews with their reasons, lesson candidates, decision traces and the history of
//! their final revisions.
//!
//! The review wizard autosaves through [`save_draft`] on every keystroke and signs off through
//! [`finalize`], which keeps a JSON snapshot of each final revision in `review_revisions` so that
//! amending a review never loses what was signed off.

use super::{Result, StoreError, in_savepoint, marks, secs, traces};
use crate::domain::time::from_unix;
use crate::domain::{
    DealId, DecisionTrace, LessonCandidate, ReasonEntry, Review, ReviewOutcome, ReviewStatus,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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

/// One signed-off revision of a review, as it was saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionRecord {
    /// The revision number (0 for the first final save).
    pub revision: i64,
    /// When it was saved.
    pub saved_at: Timestamp,
    /// Who saved it.
    pub saved_by: String,
    /// The review as saved.
    pub review: Review,
    /// Its decision traces as saved.
    pub traces: Vec<DecisionTrace>,
}

/// The JSON shape of a revision snapshot: `{ "review": …, "traces": [...] }`.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    review: &'a Review,
    traces: &'a [DecisionTrace],
}

/// A snapshot read back.
#[derive(Deserialize)]
struct Snapshot {
    review: Review,
    traces: Vec<DecisionTrace>,
}

/// Runs `f` inside a savepoint: released if `f` succeeds, rolled back otherwise.
///
/// Writes the review (with `status`) and makes `traces` exactly the review's traces.
fn write(
    conn: &Connection,
    review: &Review,
    status: ReviewStatus,
    traces: &[DecisionTrace],
) -> Result<()> {
    for t in traces {
        // A trace of another review or deal would be silently moved here by the upsert; that is
        // a caller bug, so it is refused before anything is written.
        if t.review_id.as_deref() != Some(review.id.as_str()) || t.deal_id != review.deal_id {
            return Err(StoreError::Invalid {
                what: "trace for this review (its review or deal differs)",
                value: t.id.clone(),
            });
        }
    }
    if review.status == status {
        upsert(conn, review)?;
    } else {
        upsert(
            conn,
            &Review {
                status,
                ..review.clone()
            },
        )?;
    }
    let keep: HashSet<&str> = traces.iter().map(|t| t.id.as_str()).collect();
    let stored: Vec<String> = conn
        .prepare_cached("SELECT id FROM decision_traces WHERE review_id = ?1")?
        .query_map([&review.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut delete = conn.prepare_cached("DELETE FROM decision_traces WHERE id = ?1")?;
    for id in stored.iter().filter(|id| !keep.contains(id.as_str())) {
        delete.execute([id])?;
    }
    for t in traces {
        traces::upsert(conn, t)?;
    }
    Ok(())
}

/// Autosaves a review being written: stores it as a draft (whatever `review.status` says: a draft
/// save never signs anything off) and makes `traces` exactly its traces, deleting the review's
/// stored traces that are not in the list. One transaction (a savepoint inside the caller's, if
/// any), so a crash leaves the previous save or this one, never a mix.
///
/// Every trace must name this review and its deal; anything else is refused as
/// [`StoreError::Invalid`] before anything is written.
pub fn save_draft(conn: &Connection, review: &Review, traces: &[DecisionTrace]) -> Result<()> {
    in_savepoint(conn, || {
        // A draft of a revision already signed off would turn the final review back into a
        // draft that can never be signed off again (its revision is taken): amendments go
        // through `save_amendment` with the next revision.
        refuse_signed_revision(conn, review)?;
        write(conn, review, ReviewStatus::Draft, traces)
    })
}

fn refuse_signed_revision(conn: &Connection, review: &Review) -> Result<()> {
    let signed = conn
        .prepare_cached("SELECT 1 FROM review_revisions WHERE review_id = ?1 AND revision = ?2")?
        .exists(params![review.id, review.revision])?;
    if signed {
        return Err(StoreError::Invalid {
            what: "draft of a revision already signed off (amend with the next revision)",
            value: format!("{} revision {}", review.id, review.revision),
        });
    }
    Ok(())
}

/// Autosaves an amendment of a final review: the review with its next revision and its traces,
/// as one JSON document beside the review, which itself stays exactly as signed off until the
/// amendment is finalised (`finalize` then replaces it and drops the amendment).
pub fn save_amendment(
    conn: &Connection,
    review: &Review,
    traces: &[DecisionTrace],
    now: Timestamp,
) -> Result<()> {
    refuse_signed_revision(conn, review)?;
    let json = serde_json::to_string(&SnapshotRef { review, traces }).map_err(|e| {
        StoreError::Invalid {
            what: "review amendment",
            value: e.to_string(),
        }
    })?;
    conn.prepare_cached(
        "INSERT INTO review_amendments (review_id, revision, updated_at, draft_json)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (review_id) DO UPDATE SET revision = excluded.revision,
             updated_at = excluded.updated_at, draft_json = excluded.draft_json",
    )?
    .execute(params![review.id, review.revision, secs(now), json])?;
    Ok(())
}

/// The amendment in progress of one of the deal's reviews (the most recently changed), if any.
pub fn amendment_for_deal(
    conn: &Connection,
    deal: &DealId,
) -> Result<Option<(Review, Vec<DecisionTrace>)>> {
    let json: Option<String> = conn
        .prepare_cached(
            "SELECT a.draft_json FROM review_amendments a JOIN reviews r ON r.id = a.review_id
              WHERE r.deal_id = ?1 ORDER BY a.updated_at DESC, a.review_id DESC LIMIT 1",
        )?
        .query_row([deal.as_str()], |r| r.get(0))
        .optional()?;
    json.map(|json| {
        let snap: Snapshot = serde_json::from_str(&json).map_err(|_| StoreError::Invalid {
            what: "review amendment",
            value: json.clone(),
        })?;
        Ok((snap.review, snap.traces))
    })
    .transpose()
}

/// Signs a review off: saves it as final with `traces` (as [`save_draft`] does), records the
/// revision `review.revision` with a JSON snapshot of the review and its traces, and marks the
/// deal reviewed at `now` by `saved_by`. All in one transaction.
///
/// A revision that is already recorded is never overwritten: finalizing it again is refused as
/// [`StoreError::Invalid`] and nothing is written. Amending a final review means saving it with
/// the next revision number.
pub fn finalize(
    conn: &Connection,
    review: &Review,
    traces: &[DecisionTrace],
    saved_by: &str,
    now: Timestamp,
) -> Result<()> {
    in_savepoint(conn, || {
        write(conn, review, ReviewStatus::Final, traces)?;
        let exists = conn
            .prepare_cached(
                "SELECT 1 FROM review_revisions WHERE review_id = ?1 AND revision = ?2",
            )?
            .exists(params![review.id, review.revision])?;
        if exists {
            return Err(StoreError::Invalid {
                what: "revision to finalize, already final (amend with the next revision)",
                value: format!("{} revision {}", review.id, review.revision),
            });
        }
        let signed = Review {
            status: ReviewStatus::Final,
            ..review.clone()
        };
        let snapshot = serde_json::to_string(&SnapshotRef {
            review: &signed,
            traces,
        })
        .map_err(|e| StoreError::Invalid {
            what: "review snapshot",
            value: e.to_string(),
        })?;
        conn.prepare_cached(
            "INSERT INTO review_revisions (review_id, revision, saved_at, saved_by, snapshot_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            review.id,
            review.revision,
            secs(now),
            saved_by,
            snapshot
        ])?;
        // The amendment, if this was one, is now the review itself.
        conn.prepare_cached("DELETE FROM review_amendments WHERE review_id = ?1")?
            .execute([&review.id])?;
        marks::mark_reviewed(conn, &review.deal_id, now, saved_by)
    })
}

/// A review's traces in the order of the decisions.
pub fn traces_for_review(conn: &Connection, review_id: &str) -> Result<Vec<DecisionTrace>> {
    let deal: Option<String> = conn
        .prepare_cached("SELECT deal_id FROM reviews WHERE id = ?1")?
        .query_row([review_id], |r| r.get(0))
        .optional()?;
    match deal {
        None => Ok(Vec::new()),
        Some(deal) => traces_of(conn, &DealId(deal), review_id),
    }
}

/// The traces of `review_id` among its deal's, which the store already reads in decision order.
fn traces_of(conn: &Connection, deal: &DealId, review_id: &str) -> Result<Vec<DecisionTrace>> {
    let mut all = traces::for_deal(conn, deal)?;
    all.retain(|t| t.review_id.as_deref() == Some(review_id));
    Ok(all)
}

/// A stored review with its traces.
fn with_traces(conn: &Connection, id: &str) -> Result<Option<(Review, Vec<DecisionTrace>)>> {
    let Some(review) = get(conn, id)? else {
        return Ok(None);
    };
    let traces = traces_of(conn, &review.deal_id, id)?;
    Ok(Some((review, traces)))
}

/// The deal's most recently changed draft review with its traces, if it has a draft.
pub fn draft_for_deal(
    conn: &Connection,
    deal: &DealId,
) -> Result<Option<(Review, Vec<DecisionTrace>)>> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM reviews WHERE deal_id = ?1 AND status = 'draft'
              ORDER BY updated_at DESC, id DESC LIMIT 1",
        )?
        .query_row([deal.as_str()], |r| r.get(0))
        .optional()?;
    match id {
        None => Ok(None),
        Some(id) => with_traces(conn, &id),
    }
}

/// The deal's most recently signed-off review with its traces, read live so that outcomes
/// filled in on later syncs show. A review being amended stays final in its row while the
/// amendment is written beside it (`save_amendment`), so the final rows are all there is to read.
pub fn latest_final_for_deal(
    conn: &Connection,
    deal: &DealId,
) -> Result<Option<(Review, Vec<DecisionTrace>)>> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM reviews WHERE deal_id = ?1 AND status = 'final'
              ORDER BY updated_at DESC, revision DESC, id DESC LIMIT 1",
        )?
        .query_row([deal.as_str()], |r| r.get(0))
        .optional()?;
    match id {
        None => Ok(None),
        Some(id) => with_traces(conn, &id),
    }
}

/// Every signed-off revision of a review, oldest first.
pub fn revisions(conn: &Connection, review_id: &str) -> Result<Vec<RevisionRecord>> {
    let rows: Vec<(i64, i64, String, String)> = conn
        .prepare_cached(
            "SELECT revision, saved_at, saved_by, snapshot_json FROM review_revisions
              WHERE review_id = ?1 ORDER BY revision",
        )?
        .query_map([review_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(revision, saved_at, saved_by, json)| {
            let snap: Snapshot = serde_json::from_str(&json).map_err(|_| StoreError::Invalid {
                what: "review snapshot",
                value: json.clone(),
            })?;
            Ok(RevisionRecord {
                revision,
                saved_at: from_unix(saved_at),
                saved_by,
                review: snap.review,
                traces: snap.traces,
            })
        })
        .collect()
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

    fn trace(id: &str, day: i64) -> DecisionTrace {
        DecisionTrace {
            review_id: Some(sample().id),
            stage_id: Some("demo".into()),
            state: [("single_threaded".to_string(), serde_json::json!(true))].into(),
            action: format!("decision {id}"),
            ..DecisionTrace::blank(
                id.into(),
                "d0".into(),
                from_unix(day * DAY),
                "Ada Byron".into(),
                from_unix(50 * DAY),
            )
        }
    }

    fn trace_ids(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT id FROM decision_traces ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn save_draft_replaces_the_reviews_traces() {
        let store = seeded(1);
        let c = store.conn();
        // A trace recorded outside any review must survive the review's saves.
        let loose = DecisionTrace {
            review_id: None,
            ..trace("loose", 1)
        };
        traces::upsert(c, &loose).unwrap();
        let mut review = sample();
        review.status = ReviewStatus::Final; // saved as a draft whatever it says
        let first = vec![trace("t1", 3), trace("t2", 4), trace("t3", 5)];
        save_draft(c, &review, &first).unwrap();
        let stored = get(c, &review.id).unwrap().unwrap();
        assert_eq!(stored.status, ReviewStatus::Draft);
        assert_eq!(traces_for_review(c, &review.id).unwrap(), first);

        let mut t2 = trace("t2", 4);
        t2.action = "Called the CFO".into();
        let second = vec![trace("t1", 3), t2, trace("t4", 6)];
        save_draft(c, &review, &second).unwrap();
        assert_eq!(traces_for_review(c, &review.id).unwrap(), second);
        assert_eq!(trace_ids(c), ["loose", "t1", "t2", "t4"], "t3 is deleted");

        save_draft(c, &review, &[]).unwrap();
        assert!(traces_for_review(c, &review.id).unwrap().is_empty());
        assert_eq!(trace_ids(c), ["loose"]);
        assert!(traces_for_review(c, "missing").unwrap().is_empty());
    }

    #[test]
    fn a_trace_of_another_review_is_refused_and_nothing_is_written() {
        let store = seeded(2);
        let c = store.conn();
        let review = sample();
        save_draft(c, &review, &[trace("t1", 3)]).unwrap();
        let mut changed = review.clone();
        changed.notes = "changed".into();
        let foreign = DecisionTrace {
            review_id: Some("other".into()),
            ..trace("t2", 4)
        };
        assert!(save_draft(c, &changed, &[foreign]).is_err());
        let wrong_deal = DecisionTrace {
            deal_id: "d1".into(),
            ..trace("t2", 4)
        };
        assert!(save_draft(c, &changed, &[wrong_deal]).is_err());
        assert_eq!(get(c, &review.id).unwrap().unwrap().notes, review.notes);
        assert_eq!(trace_ids(c), ["t1"]);
    }

    #[test]
    fn save_draft_joins_the_callers_transaction() {
        let mut store = seeded(1);
        let review = sample();
        let failed: std::result::Result<(), StoreError> = store.transaction(|tx| {
            save_draft(tx, &review, &[trace("t1", 3)])?;
            Err(StoreError::Invalid {
                what: "test",
                value: String::new(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(get(store.conn(), &review.id).unwrap(), None, "rolled back");
        store
            .transaction(|tx| save_draft(tx, &review, &[trace("t1", 3)]))
            .unwrap();
        assert!(get(store.conn(), &review.id).unwrap().is_some());
    }

    #[test]
    fn finalize_records_the_revision_and_marks_the_deal() {
        let store = seeded(1);
        let c = store.conn();
        let review = sample();
        let traces = vec![trace("t1", 3), trace("t2", 4)];
        save_draft(c, &review, &traces).unwrap();
        let now = from_unix(20 * DAY);
        finalize(c, &review, &traces, "Maya", now).unwrap();

        let stored = get(c, &review.id).unwrap().unwrap();
        assert_eq!(stored.status, ReviewStatus::Final);
        let revs = revisions(c, &review.id).unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(
            (
                revs[0].revision,
                revs[0].saved_at,
                revs[0].saved_by.as_str()
            ),
            (0, now, "Maya")
        );
        assert_eq!(revs[0].review, stored);
        assert_eq!(revs[0].traces, traces);
        assert_eq!(marks::marks(c).unwrap()[&DealId::from("d0")], now);
        assert_eq!(draft_for_deal(c, &"d0".into()).unwrap(), None);
        assert_eq!(
            latest_final_for_deal(c, &"d0".into()).unwrap(),
            Some((stored.clone(), traces.clone()))
        );

        // The same revision again is refused, and nothing of the attempt is kept.
        let mut again = review.clone();
        again.notes = "rewritten history".into();
        let later = from_unix(30 * DAY);
        assert!(finalize(c, &again, &[], "Ravi", later).is_err());
        assert_eq!(get(c, &review.id).unwrap().unwrap(), stored);
        assert_eq!(traces_for_review(c, &review.id).unwrap(), traces);
        assert_eq!(revisions(c, &review.id).unwrap(), revs);
        assert_eq!(marks::marks(c).unwrap()[&DealId::from("d0")], now);
    }

    #[test]
    fn amending_keeps_every_revision_readable() {
        let store = seeded(1);
        let c = store.conn();
        let deal: DealId = "d0".into();
        let mut review = sample();
        let v0 = vec![trace("t1", 3)];
        finalize(c, &review, &v0, "Maya", from_unix(20 * DAY)).unwrap();

        // A draft of the signed-off revision is refused: it would undo the sign-off.
        assert!(save_draft(c, &review, &v0).is_err());
        // Amend: the next revision, autosaved beside the review.
        review.revision = 1;
        review.notes = "The CFO was never invited.".into();
        review.updated_at = from_unix(21 * DAY);
        let v1 = vec![trace("t1", 3), trace("t2", 4)];
        save_amendment(c, &review, &v1, from_unix(21 * DAY)).unwrap();
        let (draft, draft_traces) = amendment_for_deal(c, &deal).unwrap().unwrap();
        assert_eq!(
            (draft.revision, draft.notes.as_str()),
            (1, review.notes.as_str())
        );
        assert_eq!(draft_traces, v1);
        // While the amendment is being written, the review is exactly as signed off: its row,
        // its traces (what exports and the deal view read) and its latest final.
        let live = get(c, &review.id).unwrap().unwrap();
        assert_eq!((live.revision, live.status), (0, ReviewStatus::Final));
        assert_eq!(live.notes, sample().notes);
        assert_eq!(traces_for_review(c, &review.id).unwrap(), v0);
        let (signed, signed_traces) = latest_final_for_deal(c, &deal).unwrap().unwrap();
        assert_eq!((signed.revision, signed.status), (0, ReviewStatus::Final));
        assert_eq!(signed_traces, v0);
        assert_eq!(draft_for_deal(c, &deal).unwrap(), None, "no live draft row");

        finalize(c, &review, &v1, "Ravi", from_unix(22 * DAY)).unwrap();
        let revs = revisions(c, &review.id).unwrap();
        assert_eq!(
            revs.iter()
                .map(|r| (r.revision, r.saved_by.as_str(), r.traces.len()))
                .collect::<Vec<_>>(),
            [(0, "Maya", 1), (1, "Ravi", 2)]
        );
        assert_eq!(revs[0].review.notes, sample().notes);
        assert_eq!(revs[1].review.notes, review.notes);
        assert!(revs.iter().all(|r| r.review.status == ReviewStatus::Final));
        let (latest, latest_traces) = latest_final_for_deal(c, &deal).unwrap().unwrap();
        assert_eq!((latest.revision, latest_traces), (1, v1));
        assert_eq!(draft_for_deal(c, &deal).unwrap(), None);
        assert_eq!(
            amendment_for_deal(c, &deal).unwrap(),
            None,
            "the amendment became the review"
        );
        assert_eq!(
            marks::marks(c).unwrap()[&deal],
            from_unix(22 * DAY),
            "the mark moves to the amendment"
        );
    }

    #[test]
    fn draft_for_deal_picks_the_newest_draft() {
        let store = seeded(2);
        let c = store.conn();
        let older = sample();
        let newer = Review {
            id: "0192f0c4-0000-7000-8000-000000000002".into(),
            updated_at: from_unix(15 * DAY),
            notes: "newer".into(),
            ..sample()
        };
        let newer_trace = DecisionTrace {
            review_id: Some(newer.id.clone()),
            ..trace("n1", 2)
        };
        save_draft(c, &newer, std::slice::from_ref(&newer_trace)).unwrap();
        save_draft(c, &older, &[trace("o1", 1)]).unwrap();
        let (found, traces) = draft_for_deal(c, &"d0".into()).unwrap().unwrap();
        assert_eq!(found.notes, "newer");
        assert_eq!(traces, [newer_trace], "only that review's traces");
        assert_eq!(draft_for_deal(c, &"d1".into()).unwrap(), None);
        assert_eq!(latest_final_for_deal(c, &"d0".into()).unwrap(), None);
    }

    /// `cargo test --release --lib store::reviews::tests::time_save_draft -- --ignored
    /// --nocapture`: an autosave of a review with five traces on a file cache.
    #[test]
    #[ignore = "timing; run by hand"]
    fn time_save_draft() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("cache.sqlite")).unwrap();
        let c = store.conn();
        let (mut deal, history) = crate::store::deals::tests::sample_deal(0);
        // The bare cache has no companies or owners for the sample's links to point at.
        (deal.company_id, deal.owner_id) = (None, None);
        crate::store::deals::upsert(c, &deal, &history).unwrap();
        let mut review = sample();
        let traces: Vec<_> = (0..5).map(|i| trace(&format!("t{i}"), i)).collect();
        save_draft(c, &review, &traces).unwrap();
        let n = 500;
        let start = std::time::Instant::now();
        for i in 0..n {
            review.notes = format!("keystroke {i}");
            save_draft(c, &review, &traces).unwrap();
        }
        eprintln!("save_draft: {:?} per call", start.elapsed() / n);
    }
}
