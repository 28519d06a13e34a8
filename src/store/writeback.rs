//! The write-back queue: review summaries waiting to be posted to the CRM as notes.
//!
//! A row is one revision of one review (`writeback_queue`, schema 4). It starts `pending`, and
//! ends `posted` (with the CRM's note id) or `failed` (with the reason, when retrying cannot
//! help). `attempts` counts posts *begun*: it is raised and committed before each request goes
//! out, so after a crash or a lost answer a non-zero count says "this may already be on the
//! CRM; look for its marker before posting again".

use super::{Result, StoreError, opt_ts, secs};
use crate::domain::DealId;
use crate::domain::time::from_unix;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Where a queued note stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteStatus {
    /// Not on the CRM yet (or not known to be).
    Pending,
    /// On the CRM.
    Posted,
    /// Refused for a reason retrying does not fix (a missing scope, a deal the CRM does not
    /// have); see `last_error`.
    Failed,
}

impl NoteStatus {
    /// The name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteStatus::Pending => "pending",
            NoteStatus::Posted => "posted",
            NoteStatus::Failed => "failed",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<NoteStatus> {
        match s {
            "pending" => Some(NoteStatus::Pending),
            "posted" => Some(NoteStatus::Posted),
            "failed" => Some(NoteStatus::Failed),
            _ => None,
        }
    }
}

/// A note to queue: what [`enqueue`] stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewNote<'a> {
    /// The review summarised.
    pub review_id: &'a str,
    /// Its revision.
    pub revision: i64,
    /// The CRM deal the note goes on.
    pub deal_id: &'a DealId,
    /// The CRM the deal came from (`hubspot`).
    pub source: &'a str,
    /// The note's body (HTML).
    pub body: &'a str,
    /// Text in the body unique to this review revision, to find the note again.
    pub marker: &'a str,
}

/// A queued note as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedNote {
    /// The review summarised.
    pub review_id: String,
    /// Its revision.
    pub revision: i64,
    /// The CRM deal the note goes on.
    pub deal_id: DealId,
    /// The CRM the deal came from.
    pub source: String,
    /// The note's body (HTML).
    pub body: String,
    /// Text in the body unique to this review revision.
    pub marker: String,
    /// Where it stands.
    pub status: NoteStatus,
    /// The CRM's id of the note, once posted.
    pub crm_note_id: Option<String>,
    /// Posts begun (see the module documentation).
    pub attempts: i64,
    /// Why the last attempt did not post it.
    pub last_error: Option<String>,
    /// When it was queued (the moment the review was finalised).
    pub created_at: Timestamp,
    /// When it was posted.
    pub posted_at: Option<Timestamp>,
}

/// How many notes are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct QueueCounts {
    /// Waiting to be posted.
    pub pending: u64,
    /// On the CRM.
    pub posted: u64,
    /// Given up on.
    pub failed: u64,
}

/// Queues a note for one review revision. Idempotent: if that revision (or that marker) is
/// already queued, in whatever state, nothing changes and `false` comes back, so saving the
/// same final review twice never posts it twice.
pub fn enqueue(conn: &Connection, note: &NewNote<'_>, now: Timestamp) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO writeback_queue (review_id, revision, deal_id, source, body, marker,
                 status, attempts, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            note.review_id,
            note.revision,
            note.deal_id.as_str(),
            note.source,
            note.body,
            note.marker,
            secs(now),
        ])?;
    Ok(inserted > 0)
}

const COLUMNS: &str = "review_id, revision, deal_id, source, body, marker, status, crm_note_id,
    attempts, last_error, created_at, posted_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(QueuedNote, String)> {
    Ok((
        QueuedNote {
            review_id: r.get(0)?,
            revision: r.get(1)?,
            deal_id: DealId(r.get(2)?),
            source: r.get(3)?,
            body: r.get(4)?,
            marker: r.get(5)?,
            status: NoteStatus::Pending,
            crm_note_id: r.get(7)?,
            attempts: r.get(8)?,
            last_error: r.get(9)?,
            created_at: from_unix(r.get(10)?),
            posted_at: opt_ts(r.get(11)?),
        },
        r.get(6)?,
    ))
}

fn with_status((mut note, status): (QueuedNote, String)) -> Result<QueuedNote> {
    note.status = NoteStatus::parse(&status).ok_or(StoreError::Invalid {
        what: "write-back status",
        value: status,
    })?;
    Ok(note)
}

fn select(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<QueuedNote>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM writeback_queue WHERE {filter}
              ORDER BY created_at, review_id, revision"
        ))?
        .query_map(args, from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_status).collect()
}

/// The notes still to post, oldest first.
pub fn pending(conn: &Connection) -> Result<Vec<QueuedNote>> {
    select(conn, "status = 'pending'", [])
}

/// Every queued note of one review (each revision), oldest first: what the UI shows as the
/// review's write-back state.
pub fn for_review(conn: &Connection, review_id: &str) -> Result<Vec<QueuedNote>> {
    select(conn, "review_id = ?1", [review_id])
}

/// One review revision's note, if queued.
pub fn get(conn: &Connection, review_id: &str, revision: i64) -> Result<Option<QueuedNote>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM writeback_queue WHERE review_id = ?1 AND revision = ?2"
        ))?
        .query_row(params![review_id, revision], from_row)
        .optional()?;
    row.map(with_status).transpose()
}

/// Records that a post of this note is about to be sent. Call it, outside any open
/// transaction, *before* the request: once it returns the count is on disk, so that if the
/// process dies after the CRM stored the note but before [`mark_posted`], the next run knows to
/// look for the note instead of posting it again.
pub fn begin_attempt(conn: &Connection, review_id: &str, revision: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE writeback_queue SET attempts = attempts + 1
          WHERE review_id = ?1 AND revision = ?2 AND status = 'pending'",
    )?
    .execute(params![review_id, revision])?;
    Ok(())
}

/// Records the note as posted with the CRM's id. A note already marked posted keeps its first
/// id and time; a failed one found on the CRM after all becomes posted.
pub fn mark_posted(
    conn: &Connection,
    review_id: &str,
    revision: i64,
    note_id: &str,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE writeback_queue
            SET status = 'posted', crm_note_id = ?3, posted_at = ?4, last_error = NULL
          WHERE review_id = ?1 AND revision = ?2 AND status <> 'posted'",
    )?
    .execute(params![review_id, revision, note_id, secs(now)])?;
    Ok(())
}

/// Records why an attempt did not post the note. `permanent` (the CRM refused it for a reason
/// another try cannot fix, such as a missing scope) marks it failed; otherwise it stays pending
/// for the next run, with `error` kept for the user. The attempt itself was already counted by
/// [`begin_attempt`] (a check that failed before any post leaves the count alone).
pub fn mark_attempt_failed(
    conn: &Connection,
    review_id: &str,
    revision: i64,
    error: &str,
    permanent: bool,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE writeback_queue
            SET last_error = ?3, status = CASE WHEN ?4 THEN 'failed' ELSE status END
          WHERE review_id = ?1 AND revision = ?2 AND status = 'pending'",
    )?
    .execute(params![review_id, revision, error, permanent])?;
    Ok(())
}

/// Puts every failed note back in the queue (after the user granted the missing scope, say);
/// returns how many. Their attempt counts are kept, so each is looked for before it is posted.
pub fn retry_failed(conn: &Connection) -> Result<usize> {
    Ok(conn
        .prepare_cached("UPDATE writeback_queue SET status = 'pending' WHERE status = 'failed'")?
        .execute([])?)
}

/// The `meta` key of the posting lease (see [`acquire_lease`]).
pub const LEASE_KEY: &str = "writeback_lease";

/// Claims (or renews) the right to post from this cache until `now + ttl`, for `holder` (any
/// string unique to one posting run). Returns `false` while another holder's claim is current.
/// Without it, the UI's background post and a `dealtrace sync` in another terminal could both
/// read a note with no attempts and post it twice. A crashed holder's claim simply expires.
pub fn acquire_lease(
    conn: &Connection,
    holder: &str,
    now: Timestamp,
    ttl: jiff::SignedDuration,
) -> Result<bool> {
    let until = now.as_second().saturating_add(ttl.as_secs());
    // The value is "<expiry in Unix seconds> <holder>"; one statement, so two posters racing
    // for an expired lease cannot both win.
    let changed = conn
        .prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value
              WHERE CAST(substr(meta.value, 1, instr(meta.value, ' ') - 1) AS INTEGER) <= ?3
                 OR substr(meta.value, instr(meta.value, ' ') + 1) = ?4",
        )?
        .execute(params![
            LEASE_KEY,
            format!("{until} {holder}"),
            now.as_second(),
            holder
        ])?;
    Ok(changed > 0)
}

/// Gives up `holder`'s claim, if it still has it.
pub fn release_lease(conn: &Connection, holder: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM meta WHERE key = ?1 AND substr(value, instr(value, ' ') + 1) = ?2",
    )?
    .execute(params![LEASE_KEY, holder])?;
    Ok(())
}

/// How many notes are pending, posted and failed.
pub fn counts(conn: &Connection) -> Result<QueueCounts> {
    let mut out = QueueCounts::default();
    let mut stmt =
        conn.prepare_cached("SELECT status, COUNT(*) FROM writeback_queue GROUP BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (status, n) = row?;
        let n = u64::try_from(n).unwrap_or(0);
        match NoteStatus::parse(&status) {
            Some(NoteStatus::Pending) => out.pending = n,
            Some(NoteStatus::Posted) => out.posted = n,
            Some(NoteStatus::Failed) => out.failed = n,
            None => {
                return Err(StoreError::Invalid {
                    what: "write-back status",
                    value: status,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deals::tests::seeded;
    use crate::store::reviews;

    fn note<'a>(deal: &'a DealId, revision: i64, marker: &'a str) -> NewNote<'a> {
        NewNote {
            review_id: "0192f0c4-0000-7000-8000-000000000001",
            revision,
            deal_id: deal,
            source: "hubspot",
            body: "<p>Lost.</p>",
            marker,
        }
    }

    #[test]
    fn enqueueing_the_same_revision_twice_keeps_one_row() {
        let store = seeded(1);
        reviews::upsert(store.conn(), &reviews::tests::sample()).unwrap();
        let deal: DealId = "d0".into();
        let t = from_unix(1_000);
        assert!(enqueue(store.conn(), &note(&deal, 1, "m rev 1"), t).unwrap());
        assert!(!enqueue(store.conn(), &note(&deal, 1, "m rev 1"), from_unix(2_000)).unwrap());
        // The same marker under another revision is the same note too.
        assert!(!enqueue(store.conn(), &note(&deal, 2, "m rev 1"), t).unwrap());
        assert!(enqueue(store.conn(), &note(&deal, 2, "m rev 2"), t).unwrap());
        let queued = pending(store.conn()).unwrap();
        assert_eq!(queued.len(), 2);
        assert_eq!(queued[0].created_at, t, "the first enqueue wins");
        assert_eq!(queued[0].status, NoteStatus::Pending);
        assert_eq!(queued[0].attempts, 0);
        assert_eq!(
            counts(store.conn()).unwrap(),
            QueueCounts {
                pending: 2,
                posted: 0,
                failed: 0
            }
        );
    }

    #[test]
    fn attempts_errors_posting_and_failing_move_a_note_through_its_states() {
        let store = seeded(1);
        let c = store.conn();
        let review = reviews::tests::sample();
        reviews::upsert(c, &review).unwrap();
        let deal: DealId = "d0".into();
        enqueue(c, &note(&deal, 1, "m1"), from_unix(10)).unwrap();
        enqueue(c, &note(&deal, 2, "m2"), from_unix(20)).unwrap();

        begin_attempt(c, &review.id, 1).unwrap();
        mark_attempt_failed(c, &review.id, 1, "cannot reach the CRM", false).unwrap();
        let n = get(c, &review.id, 1).unwrap().unwrap();
        assert_eq!(
            (n.status, n.attempts, n.last_error.as_deref()),
            (NoteStatus::Pending, 1, Some("cannot reach the CRM"))
        );
        begin_attempt(c, &review.id, 1).unwrap();
        mark_posted(c, &review.id, 1, "901", from_unix(30)).unwrap();
        // A late duplicate report does not overwrite the first.
        mark_posted(c, &review.id, 1, "902", from_unix(40)).unwrap();
        let n = get(c, &review.id, 1).unwrap().unwrap();
        assert_eq!(
            (n.status, n.attempts, n.crm_note_id.as_deref(), n.last_error),
            (NoteStatus::Posted, 2, Some("901"), None)
        );
        assert_eq!(n.posted_at, Some(from_unix(30)));
        // Attempts are not counted on a posted note.
        begin_attempt(c, &review.id, 1).unwrap();
        assert_eq!(get(c, &review.id, 1).unwrap().unwrap().attempts, 2);

        begin_attempt(c, &review.id, 2).unwrap();
        mark_attempt_failed(c, &review.id, 2, "missing scope", true).unwrap();
        assert_eq!(
            get(c, &review.id, 2).unwrap().unwrap().status,
            NoteStatus::Failed
        );
        assert!(pending(c).unwrap().is_empty());
        assert_eq!(
            counts(c).unwrap(),
            QueueCounts {
                pending: 0,
                posted: 1,
                failed: 1
            }
        );
        assert_eq!(for_review(c, &review.id).unwrap().len(), 2);
        assert_eq!(retry_failed(c).unwrap(), 1);
        let again = pending(c).unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 1));
        assert_eq!(get(c, &review.id, 7).unwrap(), None);
    }

    #[test]
    fn one_poster_holds_the_lease_until_it_releases_or_it_expires() {
        let store = seeded(0);
        let c = store.conn();
        let ttl = jiff::SignedDuration::from_mins(15);
        let t = from_unix(1_000_000);
        assert!(acquire_lease(c, "a", t, ttl).unwrap());
        assert!(
            acquire_lease(c, "a", from_unix(1_000_100), ttl).unwrap(),
            "renewal"
        );
        assert!(!acquire_lease(c, "b", from_unix(1_000_200), ttl).unwrap());
        // "a" renewed at +100 s: its claim runs to +1000 s.
        assert!(!acquire_lease(c, "b", from_unix(1_000_999), ttl).unwrap());
        assert!(
            acquire_lease(c, "b", from_unix(1_001_000), ttl).unwrap(),
            "expired"
        );
        release_lease(c, "a").unwrap();
        assert!(
            !acquire_lease(c, "a", from_unix(1_001_001), ttl).unwrap(),
            "b holds it"
        );
        release_lease(c, "b").unwrap();
        assert!(acquire_lease(c, "a", from_unix(1_001_002), ttl).unwrap());
        release_lease(c, "a").unwrap();
        assert_eq!(crate::store::meta::get(c, LEASE_KEY).unwrap(), None);
    }
}
