//! Write-back of finished reviews as HubSpot notes, against the stateful fake HubSpot on
//! 127.0.0.1: posted once per review revision, found again after a lost answer instead of
//! posted twice, queued while offline, failed with a sentence on a missing scope, and never
//! posted by `dealtrace sync` unless `[crm] write_back` is on.

mod common;
mod support;

use common::Sandbox;
use dealtrace::crm::engine::{self, SyncOptions};
use dealtrace::crm::hubspot::client::Client;
use dealtrace::crm::hubspot::connector::HubSpot;
use dealtrace::crm::writeback::{self, WritebackError, WritebackSummary};
use dealtrace::domain::time::from_unix;
use dealtrace::domain::{
    DealId, DecisionTrace, LessonCandidate, ReasonEntry, Review, ReviewOutcome, ReviewStatus,
    Taxonomy,
};
use dealtrace::store::writeback::{self as queue, NoteStatus};
use dealtrace::store::{self, Store};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::hubspot_fake::{FakeHubSpot, Options};
use support::sync_check::{connector, fake_world, write_sync_config};

/// A fake with a small world, a connector on it and a cache synced from it.
async fn synced(seed: u64) -> (FakeHubSpot, HubSpot, Store) {
    let fake = fake_world(12, seed, Options::default()).await;
    let hs = connector(&fake, 190);
    let mut store = Store::open_in_memory().unwrap();
    let options = SyncOptions {
        full: true,
        ..SyncOptions::default()
    };
    engine::run(&mut store, &hs, &options, Timestamp::now, |_| {})
        .await
        .unwrap();
    (fake, hs, store)
}

/// A final review of `deal` at `revision`, with two traces, saved in the cache.
fn final_review(conn: &rusqlite::Connection, deal: &DealId, revision: i64) -> Review {
    let review = Review {
        id: "0192f0c4-0000-7000-8000-00000000abcd".into(),
        deal_id: deal.clone(),
        reviewer: "Maya <manager>".into(),
        created_at: from_unix(1_700_000_000),
        updated_at: from_unix(1_700_086_400),
        status: ReviewStatus::Final,
        outcome: Some(ReviewOutcome::Lost),
        reasons: vec![
            ReasonEntry {
                code: "lost_to_competitor".into(),
                detail: Some("Quantivo & <b>friends</b>".into()),
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
            pattern_key: None,
        }],
        revision,
    };
    store::reviews::upsert(conn, &review).unwrap();
    review
}

fn traces(review: &Review) -> Vec<DecisionTrace> {
    let trace = |id: &str, at: i64, action: &str| DecisionTrace {
        id: id.into(),
        review_id: Some(review.id.clone()),
        deal_id: review.deal_id.clone(),
        at: from_unix(at),
        stage_id: None,
        state: Default::default(),
        actor: "Ada".into(),
        action: action.into(),
        recommendation: None,
        rationale: String::new(),
        expected_outcome: "Signed by Q1".into(),
        expected_by: None,
        actual_outcome: Some("Lost to Quantivo".into()),
        followed: None,
        created_at: from_unix(at),
        updated_at: from_unix(at),
    };
    vec![
        trace("t1", 1_690_000_000, "Demo to IT only"),
        trace("t2", 1_695_000_000, "Sent the proposal <without> the CFO"),
    ]
}

/// Queues the note of `review` as the UI does when it is finalised.
fn enqueue(conn: &rusqlite::Connection, review: &Review) -> bool {
    let deal = store::deals::get(conn, &review.deal_id).unwrap().unwrap();
    writeback::enqueue_review(
        conn,
        review,
        &traces(review),
        &deal.name,
        &Taxonomy::builtin(),
        &deal.source,
        Timestamp::now(),
    )
    .unwrap()
}

/// Requests that tried to create a note.
fn note_posts(fake: &FakeHubSpot) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/crm/v3/objects/notes")
        .count()
}

fn row(store: &Store, review: &Review) -> queue::QueuedNote {
    queue::get(store.conn(), &review.id, review.revision)
        .unwrap()
        .expect("queued")
}

#[tokio::test]
async fn each_review_revision_is_posted_exactly_once_across_runs() {
    let (fake, hs, store) = synced(21).await;
    let deal = fake.deal_ids()[3].clone();
    let review = final_review(store.conn(), &deal, 1);
    assert!(enqueue(store.conn(), &review));
    assert!(
        !enqueue(store.conn(), &review),
        "a second save queues nothing"
    );

    let first = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        first,
        WritebackSummary {
            posted: 1,
            ..WritebackSummary::default()
        }
    );
    let second = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(second, WritebackSummary::default());
    assert!(
        !enqueue(store.conn(), &review),
        "nor does a save after posting"
    );
    let third = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(third.posted, 0);

    let notes = fake.notes_on(&deal);
    assert_eq!(notes.len(), 1);
    assert_eq!(note_posts(&fake), 1);
    // The documented request shape (CRM-APIS 1.11), and a body that carries the marker.
    let request = &notes[0].request;
    let marker = writeback::marker(&review.id, 1);
    let body = request["properties"]["hs_note_body"].as_str().unwrap();
    assert!(body.ends_with(&format!("<p>{marker}</p>")), "{body}");
    assert!(
        body.contains("Quantivo &amp; &lt;b&gt;friends&lt;/b&gt;"),
        "{body}"
    );
    assert!(
        body.contains("Sent the proposal &lt;without&gt; the CFO"),
        "{body}"
    );
    assert!(request["properties"]["hs_timestamp"].is_string());
    assert_eq!(
        request["associations"],
        json!([{"to": {"id": deal.as_str()},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}])
    );
    let stored = row(&store, &review);
    assert_eq!(stored.status, NoteStatus::Posted);
    assert_eq!(stored.crm_note_id.as_deref(), Some(notes[0].id.as_str()));
    assert_eq!(stored.attempts, 1);
    assert!(stored.posted_at.is_some());

    // Amending the review makes a new revision, which gets a note of its own, once.
    let amended = final_review(store.conn(), &deal, 2);
    assert!(enqueue(store.conn(), &amended));
    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(run.posted, 1);
    assert_eq!(fake.notes_on(&deal).len(), 2);
    assert_eq!(
        queue::counts(store.conn()).unwrap(),
        queue::QueueCounts {
            pending: 0,
            posted: 2,
            failed: 0
        }
    );
}

#[tokio::test]
async fn a_lost_answer_is_found_by_its_marker_and_not_posted_again() {
    let (fake, hs, store) = synced(22).await;
    let deal = fake.deal_ids()[5].clone();
    let review = final_review(store.conn(), &deal, 1);
    enqueue(store.conn(), &review);
    fake.update_options(|o| o.lost_note_answers = 1);

    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.posted, run.failed, run.pending), (0, 0, 1));
    assert_eq!(fake.notes_on(&deal).len(), 1, "HubSpot stored it");
    assert_eq!(note_posts(&fake), 1, "a create is never retried blindly");
    let stored = row(&store, &review);
    assert_eq!((stored.status, stored.attempts), (NoteStatus::Pending, 1));
    assert!(
        stored.last_error.as_deref().unwrap_or("").contains("500"),
        "{:?}",
        stored.last_error
    );

    let rerun = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((rerun.posted, rerun.found, rerun.pending), (1, 1, 0));
    let notes = fake.notes_on(&deal);
    assert_eq!(notes.len(), 1, "no second note");
    assert_eq!(note_posts(&fake), 1);
    let stored = row(&store, &review);
    assert_eq!(stored.status, NoteStatus::Posted);
    assert_eq!(stored.crm_note_id.as_deref(), Some(notes[0].id.as_str()));
    // It was found by reading the deal's notes, not by search (which lags behind creates).
    assert!(fake.count("/crm/v4/associations/deals/notes/batch/read") >= 1);
    assert!(fake.count("/crm/v3/objects/notes/batch/read") >= 1);
    assert_eq!(fake.count("/crm/v3/objects/notes/search"), 0);
}

#[tokio::test]
async fn a_crash_between_the_post_and_its_record_is_recovered_on_the_next_run() {
    let (fake, hs, store) = synced(23).await;
    let deal = fake.deal_ids()[1].clone();
    let review = final_review(store.conn(), &deal, 1);
    enqueue(store.conn(), &review);
    // What a run that died right after the POST leaves behind: the attempt on disk, the note
    // on HubSpot, nothing recorded.
    let queued = row(&store, &review);
    queue::begin_attempt(store.conn(), &review.id, 1).unwrap();
    use dealtrace::crm::connector::Connector;
    hs.post_note(&deal, &queued.body, queued.created_at)
        .await
        .unwrap();

    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.posted, run.found), (1, 1));
    assert_eq!(fake.notes_on(&deal).len(), 1);
}

/// A connector on a port nothing listens on.
fn offline_connector() -> HubSpot {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(
        &format!("http://127.0.0.1:{port}"),
        SecretString::from("pat-offline"),
        "HUBSPOT_TOKEN",
        190,
    )
    .unwrap()
    .with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    HubSpot::new(client, Default::default())
}

#[tokio::test]
async fn offline_the_note_stays_queued_and_a_later_run_posts_it() {
    let (fake, hs, store) = synced(24).await;
    let deal = fake.deal_ids()[2].clone();
    let review = final_review(store.conn(), &deal, 3);
    enqueue(store.conn(), &review);

    let offline = offline_connector();
    for _ in 0..2 {
        let run = writeback::post_pending(&store, &offline, Timestamp::now())
            .await
            .unwrap();
        assert_eq!((run.posted, run.failed, run.pending), (0, 0, 1));
        assert_eq!(run.errors.len(), 1);
        assert!(
            run.errors[0].contains("cannot reach the CRM"),
            "{:?}",
            run.errors
        );
    }
    let stored = row(&store, &review);
    assert_eq!(stored.status, NoteStatus::Pending);
    assert_eq!(
        stored.attempts, 1,
        "a check that never reached the CRM is not a post"
    );
    assert!(
        stored
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("cannot reach the CRM")),
        "{:?}",
        stored.last_error
    );
    assert_eq!(fake.created_notes().len(), 0);

    let online = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((online.posted, online.found, online.pending), (1, 0, 0));
    assert_eq!(fake.notes_on(&deal).len(), 1);
    assert_eq!(row(&store, &review).last_error, None);
}

#[tokio::test]
async fn a_missing_write_scope_fails_the_note_with_a_sentence_naming_it() {
    let (fake, hs, store) = synced(25).await;
    let deal = fake.deal_ids()[0].clone();
    let review = final_review(store.conn(), &deal, 1);
    enqueue(store.conn(), &review);
    fake.update_options(|o| o.missing_scopes = vec!["crm.objects.contacts.write".into()]);

    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.posted, run.failed, run.pending), (0, 1, 0));
    let stored = row(&store, &review);
    assert_eq!(stored.status, NoteStatus::Failed);
    let error = stored.last_error.unwrap();
    assert!(error.contains("crm.objects.contacts.write"), "{error}");
    assert!(error.contains("403"), "{error}");
    assert!(
        !error.contains('\n') && error.matches(". ").count() == 0,
        "{error}"
    );
    assert_eq!(run.errors, vec![error]);
    // A failed note is not retried by itself...
    let again = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(again, WritebackSummary::default());
    assert_eq!(note_posts(&fake), 1);

    // ...until the scope is granted and the user puts it back in the queue.
    fake.update_options(|o| o.missing_scopes.clear());
    assert_eq!(queue::retry_failed(store.conn()).unwrap(), 1);
    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.posted, run.found), (1, 0));
    assert_eq!(fake.notes_on(&deal).len(), 1);
}

#[tokio::test]
async fn a_second_poster_leaves_the_queue_to_the_first() {
    let (fake, hs, store) = synced(26).await;
    let deal = fake.deal_ids()[4].clone();
    let review = final_review(store.conn(), &deal, 1);
    enqueue(store.conn(), &review);
    let now = Timestamp::now();
    assert!(
        queue::acquire_lease(
            store.conn(),
            "the-ui",
            now,
            jiff::SignedDuration::from_mins(15)
        )
        .unwrap()
    );
    let run = writeback::post_pending(&store, &hs, now).await.unwrap();
    assert!(run.busy);
    assert_eq!((run.posted, run.pending), (0, 1));
    assert_eq!(note_posts(&fake), 0);
    queue::release_lease(store.conn(), "the-ui").unwrap();
    let run = writeback::post_pending(&store, &hs, now).await.unwrap();
    assert_eq!((run.posted, run.busy), (1, false));
}

#[tokio::test]
async fn notes_for_another_crm_s_deals_fail_instead_of_going_to_hubspot() {
    let (fake, hs, store) = synced(27).await;
    let deal = fake.deal_ids()[6].clone();
    let review = final_review(store.conn(), &deal, 1);
    writeback::enqueue_review(
        store.conn(),
        &review,
        &[],
        "Imported deal",
        &Taxonomy::builtin(),
        "csv",
        Timestamp::now(),
    )
    .unwrap();
    let run = writeback::post_pending(&store, &hs, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((run.posted, run.failed), (0, 1));
    assert!(run.errors[0].contains("came from csv"), "{:?}", run.errors);
    assert_eq!(fake.created_notes().len(), 0);
}

#[test]
fn drafts_are_not_queued_and_post_now_does_nothing_when_write_back_is_off() {
    let sandbox = Sandbox::new();
    let store = Store::open(&sandbox.db()).unwrap();
    let mut config = dealtrace::config::Config::default();
    assert_eq!(
        writeback::post_now(&sandbox.db(), &config).unwrap(),
        WritebackSummary::default()
    );
    config.crm.write_back = true;
    assert!(matches!(
        writeback::post_now(&sandbox.db(), &config),
        Err(WritebackError::NoCrm)
    ));
    let review = Review {
        status: ReviewStatus::Draft,
        ..final_review_unsaved()
    };
    assert!(
        !writeback::enqueue_review(
            store.conn(),
            &review,
            &[],
            "Acme",
            &Taxonomy::builtin(),
            "hubspot",
            Timestamp::now()
        )
        .unwrap()
    );
    assert_eq!(queue::counts(store.conn()).unwrap().pending, 0);
}

fn final_review_unsaved() -> Review {
    Review {
        id: "r".into(),
        deal_id: "1".into(),
        reviewer: "Maya".into(),
        created_at: from_unix(0),
        updated_at: from_unix(0),
        status: ReviewStatus::Final,
        outcome: None,
        reasons: Vec::new(),
        notes: String::new(),
        lesson_candidates: Vec::new(),
        revision: 1,
    }
}

// --- `dealtrace sync` as a user runs it ---

/// A sandbox whose config points `dealtrace sync` at the fake, with `write_back` as given.
fn configured(fake: &FakeHubSpot, write_back: bool) -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let config = write_sync_config(sandbox.path(), fake, write_back);
    (sandbox, config)
}

/// Runs `dealtrace sync --json`, which must succeed; returns its JSON and its stderr.
fn sync_json(sandbox: &Sandbox, config: &Path, fake: &FakeHubSpot) -> (serde_json::Value, String) {
    let out = common::succeed(
        sandbox
            .cli()
            .arg("--config")
            .arg(config)
            .args(["sync", "--json"])
            .env("HUBSPOT_TOKEN", fake.token()),
    );
    (
        serde_json::from_slice(&out.stdout).expect("stdout is JSON"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Syncs once (so the deal is cached), then queues a final review of one deal in the cache.
fn sync_and_queue(sandbox: &Sandbox, config: &Path, fake: &FakeHubSpot) -> (DealId, Review) {
    let (first, _) = sync_json(sandbox, config, fake);
    assert_eq!(first["notes_posted"], 0);
    let deal = fake.deal_ids()[2].clone();
    let store = Store::open(&sandbox.db()).unwrap();
    let review = final_review(store.conn(), &deal, 1);
    assert!(enqueue(store.conn(), &review));
    (deal, review)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_posts_nothing_when_write_back_is_off() {
    let fake = fake_world(10, 31, Options::default()).await;
    let (sandbox, config) = configured(&fake, false);
    let (deal, review) = sync_and_queue(&sandbox, &config, &fake);
    let (summary, stderr) = sync_json(&sandbox, &config, &fake);
    assert_eq!(summary["notes_posted"], 0);
    // The existing fields are all still there.
    for field in ["kind", "resumed", "counts", "seconds", "write_seconds"] {
        assert!(summary.get(field).is_some(), "{field} in {summary}");
    }
    assert!(!stderr.contains("review note"), "{stderr}");
    assert_eq!(fake.created_notes().len(), 0);
    assert_eq!(note_posts(&fake), 0);
    assert!(fake.notes_on(&deal).is_empty());
    let store = Store::open(&sandbox.db()).unwrap();
    assert_eq!(row(&store, &review).status, NoteStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_with_write_back_on_posts_the_queue_once() {
    let fake = fake_world(10, 32, Options::default()).await;
    let (sandbox, config) = configured(&fake, true);
    let (deal, review) = sync_and_queue(&sandbox, &config, &fake);
    let out = common::succeed(
        sandbox
            .cli()
            .arg("--config")
            .arg(&config)
            .arg("sync")
            .env("HUBSPOT_TOKEN", fake.token()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("posted 1 review note\n"), "{stderr}");
    assert_eq!(fake.notes_on(&deal).len(), 1);

    let (summary, _) = sync_json(&sandbox, &config, &fake);
    assert_eq!(summary["notes_posted"], 0);
    assert_eq!(fake.notes_on(&deal).len(), 1);
    let store = Store::open(&sandbox.db()).unwrap();
    assert_eq!(row(&store, &review).status, NoteStatus::Posted);
}
