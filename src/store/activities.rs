//! Activities and the contacts they involve.

use super::{Result, StoreError, secs};
use crate::domain::time::from_unix;
use crate::domain::{Activity, ActivityKind, DealId, Direction};
use rusqlite::{Connection, params};

/// Inserts or updates an activity and replaces its participants. An activity already cached
/// on another deal keeps that deal and gains `a.deal_id` as a further one (see migration 3).
pub fn upsert(conn: &Connection, a: &Activity) -> Result<()> {
    let first_deal: String = conn
        .prepare_cached(
            "INSERT INTO activities (id, deal_id, kind, occurred_at, direction, subject, body, owner_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind,
                 occurred_at = excluded.occurred_at, direction = excluded.direction,
                 subject = excluded.subject, body = excluded.body, owner_id = excluded.owner_id
             RETURNING deal_id",
        )?
        .query_row(
            params![
                a.id.as_str(),
                a.deal_id.as_str(),
                a.kind.as_str(),
                secs(a.occurred_at),
                a.direction.map(Direction::as_str),
                a.subject,
                a.body,
                a.owner_id.as_ref().map(|o| o.as_str()),
            ],
            |r| r.get(0),
        )?;
    if first_deal != a.deal_id.as_str() {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO activity_deals (activity_id, deal_id) VALUES (?1, ?2)",
        )?
        .execute(params![a.id.as_str(), a.deal_id.as_str()])?;
    }
    conn.prepare_cached("DELETE FROM activity_contacts WHERE activity_id = ?1")?
        .execute([a.id.as_str()])?;
    let mut link = conn.prepare_cached(
        "INSERT OR IGNORE INTO activity_contacts (activity_id, contact_id) VALUES (?1, ?2)",
    )?;
    for c in &a.contact_ids {
        link.execute(params![a.id.as_str(), c.as_str()])?;
    }
    super::facts::forget_activity(conn, a.id.as_str(), &first_deal)
}

/// Unlinks every activity from `deal`, before a sync writes the CRM's current set. An activity
/// still on other deals stays (one of them becomes its first deal); one on no deal is deleted.
pub fn unlink_deal(conn: &Connection, deal: &DealId) -> Result<()> {
    let id = deal.as_str();
    // The other deals of a moved activity keep it; only this deal's activities change.
    super::facts::forget(conn, id)?;
    conn.prepare_cached("DELETE FROM activity_deals WHERE deal_id = ?1")?
        .execute([id])?;
    // Activities first seen on this deal but also on others move to one of the others...
    let moved = conn
        .prepare_cached(
            "UPDATE activities
                SET deal_id = (SELECT MIN(ad.deal_id) FROM activity_deals ad
                                WHERE ad.activity_id = activities.id)
              WHERE deal_id = ?1
                AND EXISTS (SELECT 1 FROM activity_deals ad WHERE ad.activity_id = activities.id)",
        )?
        .execute([id])?;
    if moved > 0 {
        // ...whose extra link it now is no longer.
        conn.prepare_cached(
            "DELETE FROM activity_deals
              WHERE EXISTS (SELECT 1 FROM activities a
                             WHERE a.id = activity_deals.activity_id
                               AND a.deal_id = activity_deals.deal_id)",
        )?
        .execute([])?;
    }
    conn.prepare_cached("DELETE FROM activities WHERE deal_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A deal's activities, oldest first, with their participants.
pub fn for_deal(conn: &Connection, deal: &DealId) -> Result<Vec<Activity>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, kind, occurred_at, direction, subject, body, owner_id FROM activities
              WHERE deal_id = ?1
                 OR id IN (SELECT activity_id FROM activity_deals WHERE deal_id = ?1)
              ORDER BY occurred_at, id",
        )?
        .query_map([deal.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut people = conn.prepare_cached(
        "SELECT contact_id FROM activity_contacts WHERE activity_id = ?1 ORDER BY contact_id",
    )?;
    rows.into_iter()
        .map(|(id, kind, at, direction, subject, body, owner)| {
            let kind = ActivityKind::parse(&kind).ok_or(StoreError::Invalid {
                what: "activity kind",
                value: kind,
            })?;
            let direction = match direction {
                None => None,
                Some(d) => Some(Direction::parse(&d).ok_or(StoreError::Invalid {
                    what: "activity direction",
                    value: d,
                })?),
            };
            let contact_ids = people
                .query_map([id.as_str()], |r| Ok(r.get::<_, String>(0)?.into()))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Activity {
                id: id.into(),
                deal_id: deal.clone(),
                kind,
                occurred_at: from_unix(at),
                direction,
                subject,
                body,
                owner_id: owner.map(Into::into),
                contact_ids,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::deals::tests::seeded;

    #[test]
    fn activities_round_trip_in_time_order() {
        let store = seeded(1);
        let later = Activity {
            id: "a2".into(),
            deal_id: "d0".into(),
            kind: ActivityKind::Email,
            occurred_at: from_unix(3 * DAY),
            direction: Some(Direction::Inbound),
            subject: Some("Re: pricing".into()),
            body: "Can you do 15% off?".into(),
            owner_id: Some("o1".into()),
            contact_ids: vec!["p1".into(), "p2".into()],
        };
        let earlier = Activity {
            id: "a1".into(),
            kind: ActivityKind::Note,
            occurred_at: from_unix(DAY),
            direction: None,
            subject: None,
            body: "Internal note".into(),
            owner_id: None,
            contact_ids: vec![],
            ..later.clone()
        };
        upsert(store.conn(), &later).unwrap();
        upsert(store.conn(), &earlier).unwrap();
        upsert(store.conn(), &later).unwrap();
        assert_eq!(
            for_deal(store.conn(), &"d0".into()).unwrap(),
            vec![earlier, later]
        );
    }

    #[test]
    fn an_activity_on_three_deals_leaves_them_one_at_a_time() {
        let store = seeded(3);
        let c = store.conn();
        let on = |deal: &str| Activity {
            id: "email-1".into(),
            deal_id: deal.into(),
            kind: ActivityKind::Email,
            occurred_at: from_unix(DAY),
            direction: Some(Direction::Outbound),
            subject: None,
            body: "Proposal for both teams".into(),
            owner_id: None,
            contact_ids: vec!["p1".into()],
        };
        for deal in ["d0", "d1", "d2"] {
            upsert(c, &on(deal)).unwrap();
        }
        let has = |deal: &str| for_deal(c, &deal.into()).unwrap() == vec![on(deal)];
        assert!(has("d0") && has("d1") && has("d2"), "one row, three deals");
        let rows = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(rows("SELECT COUNT(*) FROM activities"), 1);
        assert_eq!(rows("SELECT COUNT(*) FROM activity_deals"), 2);

        // Its first deal lets go: it moves to another and stays on both others.
        unlink_deal(c, &"d0".into()).unwrap();
        assert!(!has("d0") && has("d1") && has("d2"));
        assert_eq!(rows("SELECT COUNT(*) FROM activity_deals"), 1);
        // A further deal lets go.
        unlink_deal(c, &"d2".into()).unwrap();
        assert!(!has("d2") && has("d1"));
        assert_eq!(rows("SELECT COUNT(*) FROM activity_contacts"), 1);
        // The last one: gone, participants with it.
        unlink_deal(c, &"d1".into()).unwrap();
        assert!(!has("d1"));
        assert_eq!(
            rows("SELECT COUNT(*) FROM activities")
                + rows("SELECT COUNT(*) FROM activity_contacts"),
            0
        );
    }

    #[test]
    fn an_activity_on_an_unknown_deal_is_refused() {
        let store = seeded(0);
        let a = Activity {
            id: "a".into(),
            deal_id: "nope".into(),
            kind: ActivityKind::Call,
            occurred_at: from_unix(0),
            direction: None,
            subject: None,
            body: String::new(),
            owner_id: None,
            contact_ids: vec![],
        };
        assert!(upsert(store.conn(), &a).is_err(), "foreign keys are on");
    }
}
