//! Review marks: when each deal was last looked at in a review.
//!
//! The review queue shows only what happened to a deal since its mark, so a finished review
//! takes the deal off the queue until something new happens to it.

use super::{Result, secs};
use crate::domain::DealId;
use crate::domain::time::from_unix;
use jiff::Timestamp;
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Records that `reviewer` reviewed `deal` at `at`, replacing any earlier mark: the latest
/// review is the one the queue measures from, even if it is dated earlier (a deliberate re-mark).
pub fn mark_reviewed(
    conn: &Connection,
    deal: &DealId,
    at: Timestamp,
    reviewer: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO deal_review_marks (deal_id, reviewed_at, reviewer) VALUES (?1, ?2, ?3)
         ON CONFLICT(deal_id) DO UPDATE SET reviewed_at = excluded.reviewed_at,
             reviewer = excluded.reviewer",
    )?
    .execute(params![deal.as_str(), secs(at), reviewer])?;
    Ok(())
}

/// Forgets a deal's mark, putting it back under the queue's lookback rule. Returns whether the
/// deal had a mark.
pub fn unmark(conn: &Connection, deal: &DealId) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM deal_review_marks WHERE deal_id = ?1")?
        .execute([deal.as_str()])?;
    Ok(n > 0)
}

/// Every deal's mark.
pub fn marks(conn: &Connection) -> Result<HashMap<DealId, Timestamp>> {
    Ok(conn
        .prepare_cached("SELECT deal_id, reviewed_at FROM deal_review_marks")?
        .query_map([], |r| {
            Ok((DealId(r.get(0)?), from_unix(r.get::<_, i64>(1)?)))
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::deals::tests::seeded;

    #[test]
    fn marks_are_set_replaced_and_removed() {
        let store = seeded(2);
        let c = store.conn();
        assert!(marks(c).unwrap().is_empty());
        mark_reviewed(c, &"d0".into(), from_unix(5 * DAY), "Maya").unwrap();
        mark_reviewed(c, &"d1".into(), from_unix(6 * DAY), "Maya").unwrap();
        mark_reviewed(c, &"d0".into(), from_unix(9 * DAY), "Ravi").unwrap();
        let m = marks(c).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[&DealId::from("d0")], from_unix(9 * DAY));
        let who: String = c
            .query_row(
                "SELECT reviewer FROM deal_review_marks WHERE deal_id = 'd0'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(who, "Ravi");
        assert!(unmark(c, &"d0".into()).unwrap());
        assert!(!unmark(c, &"d0".into()).unwrap());
        assert_eq!(
            marks(c).unwrap().keys().collect::<Vec<_>>(),
            [&DealId::from("d1")]
        );
    }

    #[test]
    fn a_mark_needs_a_cached_deal() {
        let store = seeded(1);
        assert!(mark_reviewed(store.conn(), &"missing".into(), from_unix(0), "Maya").is_err());
    }
}
