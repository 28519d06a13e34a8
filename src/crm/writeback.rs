//! Write-back: a finished review, summarised as a note on the CRM deal (`[crm] write_back`).
//!
//! Finalising a review queues its summary ([`enqueue_review`], no network); posting happens
//! later, after a sync or on a background thread ([`post_pending`], [`post_now`]), so a review
//! saved on a plane is posted when the laptop is back online.
//!
//! Each note is posted once per review revision, even across crashes and lost answers:
//! - the queue holds one row per review revision (a second enqueue does nothing);
//! - every note carries a marker line unique to its review revision ([`marker`]);
//! - the attempt count is committed *before* each post, so a row with attempts is one that may
//!   already be on the CRM; such a row is looked up by its marker ([`Connector::find_note`])
//!   before it is posted again, and the post itself is never retried blindly;
//! - one poster at a time per cache: a lease in the cache keeps the UI's background post and a
//!   `dealtrace sync` in another terminal from posting the same row at once.

use crate::config::{Config, CrmKind};
use crate::crm::connector::{Connector, CrmError};
use crate::crm::hubspot::connector::HubSpot;
use crate::domain::time::ymd;
use crate::domain::{DecisionTrace, Review, ReviewOutcome, ReviewStatus, Taxonomy};
use crate::store::writeback::{self as queue, NewNote, QueuedNote};
use crate::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use std::fmt::Write as _;
use std::path::Path;

/// HubSpot's limit on `hs_note_body` (CRM-APIS 1.10), in characters.
pub const NOTE_BODY_LIMIT: usize = 65_536;

/// What the note may use before the marker and the closing lines; the margin leaves room for
/// them and for markup HubSpot may add around what it stores.
const BODY_BUDGET: usize = 60_000;

/// The longest any one piece of user text is shown in a note; the full text stays in dealtrace.
const FIELD_LIMIT: usize = 2_000;

/// How long a poster's claim on the queue lasts without renewal: long enough for one note's
/// requests with all their rate-limit waits, short enough that a crashed poster does not hold
/// the queue for long.
const LEASE: SignedDuration = SignedDuration::from_mins(15);

/// What one posting run did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct WritebackSummary {
    /// Notes now on the CRM because of this run (including those in `found`).
    pub posted: usize,
    /// Of `posted`, notes an earlier attempt had created without hearing back, found by their
    /// marker rather than posted again.
    pub found: usize,
    /// Notes given up on in this run (the reason is in `errors` and on the queue row).
    pub failed: usize,
    /// Notes still waiting after this run.
    pub pending: u64,
    /// Another poster (the UI or a `dealtrace sync` elsewhere) held the queue; nothing was done.
    pub busy: bool,
    /// One sentence per note that was not posted, for the user.
    pub errors: Vec<String>,
}

/// Why [`post_now`] could not run.
#[derive(Debug, thiserror::Error)]
pub enum WritebackError {
    /// The config names no CRM that can take notes.
    #[error(
        "write-back needs a CRM: set `[crm] kind = \"hubspot\"` in the config file (or turn \
         `write_back` off)"
    )]
    NoCrm,
    /// The connector could not be built (no token, say).
    #[error(transparent)]
    Crm(#[from] CrmError),
    /// The cache could not be read or written.
    #[error("cannot update the write-back queue: {0}")]
    Store(#[from] StoreError),
    /// No async runtime could be started.
    #[error("cannot start the write-back's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The line that identifies one review revision's note on the CRM: `dealtrace review <id> rev
/// <n>`. Review ids are UUIDs, so it is unique per review and revision.
pub fn marker(review_id: &str, revision: i64) -> String {
    format!("dealtrace review {review_id} rev {revision}")
}

/// The note for a review: an HTML summary (HubSpot stores note bodies as HTML) of the outcome,
/// the primary and other reasons with their taxonomy labels and details, the reviewer's notes,
/// one line per decision trace (date, actor, action, expected → actual), the lesson candidates,
/// who reviewed it and which revision it is, ending with the [`marker`]. Every piece of user or
/// CRM text is stripped of control characters and HTML-escaped, so nothing typed can become
/// markup; long texts are shortened and, past HubSpot's body limit, later decisions are left
/// out with a count.
pub fn compose_note(
    review: &Review,
    traces: &[DecisionTrace],
    deal_name: &str,
    taxonomy: &Taxonomy,
) -> String {
    let mut html = String::new();
    let outcome = match review.outcome {
        Some(ReviewOutcome::Won) => "Won",
        Some(ReviewOutcome::Lost) => "Lost",
        Some(ReviewOutcome::Open) => "Still open",
        None => "Not recorded",
    };
    let _ = write!(
        html,
        "<p><strong>Deal review: {}</strong></p><p><strong>Outcome:</strong> {outcome}</p>",
        line(deal_name)
    );

    let reason = |entry: &crate::domain::ReasonEntry| {
        let label = taxonomy.label_of(&entry.code);
        match entry
            .detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(detail) => format!("{} — {}", line(label), line(detail)),
            None => line(label),
        }
    };
    if let Some(primary) = review.reasons.iter().find(|r| r.primary) {
        let _ = write!(
            html,
            "<p><strong>Primary reason:</strong> {}</p>",
            reason(primary)
        );
    }
    let others: Vec<String> = review
        .reasons
        .iter()
        .filter(|r| !r.primary)
        .map(reason)
        .collect();
    if !others.is_empty() {
        let _ = write!(
            html,
            "<p><strong>Other reasons:</strong></p><ul>{}</ul>",
            items(&others)
        );
    }
    if !review.notes.trim().is_empty() {
        let _ = write!(
            html,
            "<p><strong>Notes:</strong><br>{}</p>",
            block(&review.notes)
        );
    }

    let mut ordered: Vec<&DecisionTrace> = traces.iter().collect();
    ordered.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    if !ordered.is_empty() {
        html.push_str("<p><strong>Decisions:</strong></p><ul>");
        let mut left_out = 0;
        for t in &ordered {
            let item = format!("<li>{}</li>", trace_line(t));
            if left_out > 0 || html.len() + item.len() > BODY_BUDGET {
                left_out += 1;
            } else {
                html.push_str(&item);
            }
        }
        if left_out > 0 {
            let _ = write!(
                html,
                "<li>… and {left_out} more decision{} (see dealtrace)</li>",
                if left_out == 1 { "" } else { "s" }
            );
        }
        html.push_str("</ul>");
    }

    let lessons: Vec<String> = review
        .lesson_candidates
        .iter()
        .filter(|c| !c.text.trim().is_empty())
        .map(|c| line(&c.text))
        .collect();
    if !lessons.is_empty() {
        let mut list = items(&lessons);
        if html.len() + list.len() > BODY_BUDGET {
            list = format!(
                "<li>{} lesson candidates (see dealtrace)</li>",
                lessons.len()
            );
        }
        let _ = write!(
            html,
            "<p><strong>Lesson candidates:</strong></p><ul>{list}</ul>"
        );
    }

    let _ = write!(
        html,
        "<p>Reviewed by {} on {}, revision {}.</p><p>{}</p>",
        line(&review.reviewer),
        ymd(review.updated_at),
        review.revision,
        escape(&marker(&review.id, review.revision))
    );
    html
}

/// One decision as one line: `2026-01-12 · Ada: Sent the proposal — expected: signed by Q1 →
/// actual: slipped`.
fn trace_line(t: &DecisionTrace) -> String {
    let mut out = format!("{} · ", ymd(t.at));
    if !t.actor.trim().is_empty() {
        let _ = write!(out, "{}: ", line(&t.actor));
    }
    out.push_str(&line(&t.action));
    let expected = if t.expected_outcome.trim().is_empty() {
        "not stated".to_owned()
    } else {
        line(&t.expected_outcome)
    };
    let actual = match t.actual_outcome.as_deref().map(str::trim) {
        Some(a) if !a.is_empty() => line(a),
        _ => "not known yet".to_owned(),
    };
    let _ = write!(out, " — expected: {expected} → actual: {actual}");
    out
}

/// `<li>` items of already escaped texts.
fn items(escaped: &[String]) -> String {
    escaped.iter().map(|e| format!("<li>{e}</li>")).collect()
}

/// User text for one line: control characters and line breaks gone, shortened, escaped.
fn line(text: &str) -> String {
    escape(&crate::format::fit(
        crate::text::sanitize_line(text).trim(),
        FIELD_LIMIT,
    ))
}

/// User text as a block: line breaks kept as `<br>`.
fn block(text: &str) -> String {
    let clean = crate::format::fit(crate::text::sanitize_block(text).trim(), FIELD_LIMIT);
    clean.lines().map(escape).collect::<Vec<_>>().join("<br>")
}

/// HTML-escapes text for element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Queues the note of a final review for the CRM deal it reviews: composes it and stores it
/// once per review revision (no network). Returns whether a note was queued: `false` for a
/// draft (only finished reviews are written back) and for a revision already queued.
/// `source` is the CRM the deal came from (`Deal::source`), so a note is only ever posted to it.
pub fn enqueue_review(
    conn: &Connection,
    review: &Review,
    traces: &[DecisionTrace],
    deal_name: &str,
    taxonomy: &Taxonomy,
    source: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if review.status != ReviewStatus::Final {
        return Ok(false);
    }
    let body = compose_note(review, traces, deal_name, taxonomy);
    let marker = marker(&review.id, review.revision);
    queue::enqueue(
        conn,
        &NewNote {
            review_id: &review.id,
            revision: review.revision,
            deal_id: &review.deal_id,
            source,
            body: &body,
            marker: &marker,
        },
        now,
    )
}

/// What to do after a CRM error.
enum Next {
    /// Try the next note.
    Continue,
    /// Stop this run: the CRM is unreachable, the token is refused or the budget is spent, so
    /// every other note would fail the same way (after the same waits).
    Stop,
}

/// Posts every pending note of `connector`'s CRM, oldest first, once each (see the module
/// documentation for how). A note whose last attempt may have reached the CRM is looked for
/// by its marker first. A refusal another try cannot fix (a missing scope, a deal the CRM does
/// not have, a CRM that takes no notes) marks the note failed with the reason; anything else
/// (no network, server errors, rate limits) leaves it pending and ends the run, for the next
/// sync to retry. Fails only when the cache cannot be read or written.
pub async fn post_pending<C: Connector>(
    store: &Store,
    connector: &C,
    now: Timestamp,
) -> Result<WritebackSummary, StoreError> {
    let conn = store.conn();
    let mut summary = WritebackSummary::default();
    let holder = uuid::Uuid::new_v4().to_string();
    if !queue::acquire_lease(conn, &holder, now, LEASE)? {
        summary.busy = true;
        summary.pending = queue::counts(conn)?.pending;
        return Ok(summary);
    }
    let result = post_all(conn, connector, now, &holder, &mut summary).await;
    // Released whatever happened, so the next run need not wait for the lease to expire.
    let released = queue::release_lease(conn, &holder);
    result?;
    released?;
    summary.pending = queue::counts(conn)?.pending;
    Ok(summary)
}

async fn post_all<C: Connector>(
    conn: &Connection,
    connector: &C,
    now: Timestamp,
    holder: &str,
    summary: &mut WritebackSummary,
) -> Result<(), StoreError> {
    for note in queue::pending(conn)? {
        // Renewed per note, so a long run keeps its claim; losing it means the lease expired
        // and another poster took over.
        if !queue::acquire_lease(conn, holder, Timestamp::now().max(now), LEASE)? {
            summary.busy = true;
            return Ok(());
        }
        // Re-read: another poster may have handled it before this run took the lease.
        let Some(note) = queue::get(conn, &note.review_id, note.revision)?
            .filter(|n| n.status == queue::NoteStatus::Pending)
        else {
            continue;
        };
        if note.source != connector.source() {
            let error = format!(
                "the review note for deal {} was not posted: the deal came from {}, and the \
                 configured CRM is {}",
                note.deal_id,
                note.source,
                connector.source()
            );
            queue::mark_attempt_failed(conn, &note.review_id, note.revision, &error, true)?;
            summary.failed += 1;
            summary.errors.push(error);
            continue;
        }
        match post_one(conn, connector, &note, now).await? {
            Ok(found) => {
                summary.posted += 1;
                summary.found += usize::from(found);
            }
            Err(e) => {
                let permanent = e.is_permanent();
                let error = crate::text::sanitize_line(&format!(
                    "the review note for deal {} was not posted: {e}",
                    note.deal_id
                ));
                queue::mark_attempt_failed(
                    conn,
                    &note.review_id,
                    note.revision,
                    &error,
                    permanent,
                )?;
                summary.errors.push(error);
                if permanent {
                    summary.failed += 1;
                }
                if let Next::Stop = next_after(&e) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Posts one note, or finds it already posted. The outer result is the cache's; the inner one
/// the CRM's: `Ok(true)` found, `Ok(false)` posted now.
async fn post_one<C: Connector>(
    conn: &Connection,
    connector: &C,
    note: &QueuedNote,
    now: Timestamp,
) -> Result<Result<bool, CrmError>, StoreError> {
    if note.attempts > 0 {
        // An earlier post may have reached the CRM with its answer lost (or this process died
        // before recording it): look before posting again.
        match connector.find_note(&note.deal_id, &note.marker).await {
            Ok(Some(id)) => {
                queue::mark_posted(conn, &note.review_id, note.revision, &id, now)?;
                tracing::info!(review = %note.review_id, revision = note.revision, note = %id,
                    "review note was already on the CRM");
                return Ok(Ok(true));
            }
            Ok(None) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    // Committed before the request goes out (autocommit: no transaction is open here).
    queue::begin_attempt(conn, &note.review_id, note.revision)?;
    match connector
        .post_note(&note.deal_id, &note.body, note.created_at)
        .await
    {
        Ok(id) => {
            queue::mark_posted(conn, &note.review_id, note.revision, &id, now)?;
            tracing::info!(review = %note.review_id, revision = note.revision, note = %id,
                "review note posted");
            Ok(Ok(false))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Whether the rest of the queue is worth trying after `e`.
fn next_after(e: &CrmError) -> Next {
    if e.is_permanent() {
        // About this note (its deal, its request) or about every note alike (a missing
        // scope): either way each note gets its own answer, and a few cheap refusals are
        // clearer than notes left pending for no reason shown.
        Next::Continue
    } else {
        Next::Stop
    }
}

/// Posts the pending notes of the cache at `db_path` to the CRM `config` names, from any
/// thread: it opens its own cache connection and runs its own single-threaded runtime, so the
/// UI can call it on a background thread right after a review is finalised. Does nothing when
/// `[crm] write_back` is off.
pub fn post_now(db_path: &Path, config: &Config) -> Result<WritebackSummary, WritebackError> {
    if !config.crm.write_back {
        return Ok(WritebackSummary::default());
    }
    if config.crm.kind != CrmKind::Hubspot {
        return Err(WritebackError::NoCrm);
    }
    let connector = HubSpot::from_config(&config.crm)?;
    let store = Store::open(db_path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(post_pending(&store, &connector, Timestamp::now()))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::domain::{LessonCandidate, ReasonEntry};

    fn review() -> Review {
        Review {
            id: "0192f0c4-0000-7000-8000-000000000001".into(),
            deal_id: "d0".into(),
            reviewer: "Maya <manager>".into(),
            created_at: from_unix(10 * DAY),
            updated_at: from_unix(11 * DAY),
            status: ReviewStatus::Final,
            outcome: Some(ReviewOutcome::Lost),
            reasons: vec![
                ReasonEntry {
                    code: "lost_to_competitor".into(),
                    detail: Some("Quantivo <script>alert(1)</script> & co".into()),
                    primary: true,
                },
                ReasonEntry {
                    code: "price".into(),
                    detail: None,
                    primary: false,
                },
            ],
            notes: "Never met the CFO.\nChampion \"left\" in May.".into(),
            lesson_candidates: vec![LessonCandidate {
                text: "Anchor the <b>business case</b> early".into(),
                pattern_key: None,
            }],
            revision: 2,
        }
    }

    fn trace(id: &str, day: i64, action: &str, actual: Option<&str>) -> DecisionTrace {
        let at = from_unix(day * DAY);
        DecisionTrace {
            review_id: Some(review().id),
            action: action.into(),
            expected_outcome: "Signed by Q1".into(),
            actual_outcome: actual.map(Into::into),
            ..DecisionTrace::blank(id.into(), "d0".into(), at, "Ada".into(), at)
        }
    }

    #[test]
    fn the_note_escapes_every_text_and_ends_with_its_marker() {
        let traces = [
            trace("t2", 9, "Sent proposal \u{1b}[31mred", Some("Slipped")),
            trace("t1", 3, "Demo <to> IT", None),
        ];
        let html = compose_note(&review(), &traces, "Acme & Sons <EU>", &Taxonomy::builtin());
        assert!(
            html.contains("Deal review: Acme &amp; Sons &lt;EU&gt;"),
            "{html}"
        );
        assert!(html.contains("<strong>Outcome:</strong> Lost"), "{html}");
        assert!(
            html.contains(
                "Lost to a competitor — Quantivo &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
            ),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<li>Price</li>"), "{html}");
        assert!(
            html.contains("Never met the CFO.<br>Champion &quot;left&quot; in May."),
            "{html}"
        );
        // Decisions in time order, one line each, terminal escapes gone.
        let first = html.find("Demo &lt;to&gt; IT").expect("first decision");
        let second = html.find("Sent proposal").expect("second decision");
        assert!(first < second, "{html}");
        assert!(
            html.contains(
                "<li>1970-01-04 · Ada: Demo &lt;to&gt; IT — expected: Signed by Q1 → actual: \
                 not known yet</li>"
            ),
            "{html}"
        );
        assert!(!html.contains('\u{1b}'), "{html}");
        assert!(html.contains("Anchor the &lt;b&gt;business case&lt;/b&gt; early"));
        assert!(html.contains("Reviewed by Maya &lt;manager&gt; on 1970-01-12, revision 2."));
        let marker = marker(&review().id, 2);
        assert_eq!(
            marker,
            "dealtrace review 0192f0c4-0000-7000-8000-000000000001 rev 2"
        );
        assert!(html.ends_with(&format!("<p>{marker}</p>")), "{html}");
        assert!(crate::crm::hubspot::connector::contains_marker(
            &html, &marker
        ));
    }

    #[test]
    fn a_huge_review_stays_under_hubspots_limit_and_keeps_its_marker() {
        let long = "x".repeat(5_000);
        let traces: Vec<DecisionTrace> = (0..200)
            .map(|i| trace(&format!("t{i:03}"), i, &long, Some(&long)))
            .collect();
        let mut r = review();
        r.notes = "<".repeat(10_000);
        let html = compose_note(&r, &traces, "Acme", &Taxonomy::builtin());
        assert!(html.chars().count() < NOTE_BODY_LIMIT, "{}", html.len());
        assert!(html.contains("more decisions (see dealtrace)"));
        assert!(html.ends_with(&format!("<p>{}</p>", marker(&r.id, 2))));
    }

    #[test]
    fn unknown_codes_and_missing_outcomes_still_read() {
        let mut r = review();
        r.outcome = None;
        r.reasons = vec![ReasonEntry {
            code: "retired_code".into(),
            detail: Some("  ".into()),
            primary: true,
        }];
        r.notes.clear();
        r.lesson_candidates.clear();
        let html = compose_note(&r, &[], "Acme", &Taxonomy::builtin());
        assert!(html.contains("<strong>Outcome:</strong> Not recorded"));
        assert!(html.contains("<strong>Primary reason:</strong> retired_code</p>"));
        assert!(!html.contains("Decisions"));
        assert!(!html.contains("Notes:"));
        assert!(!html.contains("Lesson candidates"));
    }

    #[test]
    fn which_errors_end_a_note_and_which_wait() {
        let http = |status| CrmError::Http {
            status,
            what: "x".into(),
            attempts: 1,
            message: String::new(),
        };
        assert!(http(400).is_permanent());
        assert!(http(404).is_permanent());
        assert!(!http(429).is_permanent());
        assert!(!http(423).is_permanent());
        assert!(!http(502).is_permanent());
        assert!(CrmError::MissingScope { scope: "s".into() }.is_permanent());
        assert!(!CrmError::DailyLimit.is_permanent());
        assert!(
            !CrmError::Transport {
                url: "u".into(),
                message: "refused".into()
            }
            .is_permanent()
        );
        assert!(matches!(next_after(&CrmError::DailyLimit), Next::Stop));
        assert!(matches!(next_after(&http(400)), Next::Continue));
    }
}
