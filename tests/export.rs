//! `dealtrace export traces|reviews`: every field with stable keys, as JSON Lines and CSV.

mod common;

use common::{Sandbox, succeed};
use dealtrace::domain::time::{DAY, from_unix};
use dealtrace::domain::{
    DecisionTrace, LessonCandidate, ReasonEntry, Recommendation, Review, ReviewOutcome,
    ReviewStatus,
};
use dealtrace::store::{self, Store};
use serde_json::{Value, json};

/// A demo cache with one final review of its first deal and two traces, one of them carrying
/// text a terminal would act on.
fn reviewed() -> (Sandbox, String) {
    let sb = Sandbox::new();
    sb.demo(20, 3);
    let store = Store::open(&sb.db()).unwrap();
    let c = store.conn();
    let deal: String = c
        .query_row("SELECT id FROM deals ORDER BY id LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let review = Review {
        id: "0192f0c4-0000-7000-8000-000000000001".into(),
        deal_id: deal.as_str().into(),
        reviewer: "Maya Chen".into(),
        created_at: from_unix(100 * DAY),
        updated_at: from_unix(101 * DAY),
        status: ReviewStatus::Final,
        outcome: Some(ReviewOutcome::Lost),
        reasons: vec![
            ReasonEntry {
                code: "no_economic_buyer".into(),
                detail: None,
                primary: true,
            },
            ReasonEntry {
                code: "lost_to_competitor".into(),
                detail: Some("Quantivo, on price".into()),
                primary: false,
            },
        ],
        notes: "Single-threaded through the champion, \"as usual\"".into(),
        lesson_candidates: vec![LessonCandidate {
            text: "Meet the CFO before Proposal".into(),
            pattern_key: Some("single_threaded:slip:demo".into()),
        }],
        revision: 2,
    };
    store::reviews::upsert(c, &review).unwrap();
    let first = DecisionTrace {
        id: "0192f0c4-0000-7000-8000-00000000000a".into(),
        review_id: Some(review.id.clone()),
        deal_id: deal.as_str().into(),
        at: from_unix(40 * DAY),
        stage_id: Some("presentationscheduled".into()),
        state: [
            ("single_threaded".to_owned(), json!(true)),
            ("amount".to_owned(), json!(42000.0)),
        ]
        .into(),
        actor: "Sam Ortiz".into(),
        action: "Sent the proposal\u{1b}]52;c;ZXZpbA==\u{7} before meeting the CFO\u{1b}[2J".into(),
        recommendation: Some(Recommendation {
            lesson_id: "lesson-1".into(),
            text: "Get the CFO on a call before Proposal".into(),
        }),
        rationale: "The champion said the CFO would sign, line one\nline two".into(),
        expected_outcome: "Signed by quarter end".into(),
        expected_by: Some(from_unix(70 * DAY)),
        actual_outcome: Some("Slipped, then lost".into()),
        followed: Some(false),
        created_at: from_unix(101 * DAY),
        updated_at: from_unix(101 * DAY),
    };
    let second = DecisionTrace {
        id: "0192f0c4-0000-7000-8000-00000000000b".into(),
        at: from_unix(20 * DAY),
        recommendation: None,
        followed: None,
        expected_by: None,
        actual_outcome: None,
        state: Default::default(),
        action: "Ran the demo with the champion only".into(),
        ..first.clone()
    };
    store::traces::upsert(c, &first).unwrap();
    store::traces::upsert(c, &second).unwrap();
    (sb, deal)
}

fn export(sb: &Sandbox, what: &str, format: &str) -> String {
    let out = succeed(sb.cli().args(["export", what, "--format", format]));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn traces_export_as_json_lines_with_every_field() {
    let (sb, deal) = reviewed();
    let text = export(&sb, "traces", "jsonl");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // In the order of the decisions.
    assert_eq!(lines[0]["id"], "0192f0c4-0000-7000-8000-00000000000b");
    let t = &lines[1];
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = [
        "id",
        "review_id",
        "deal_id",
        "at",
        "stage_id",
        "state",
        "actor",
        "action",
        "recommendation",
        "rationale",
        "expected_outcome",
        "expected_by",
        "actual_outcome",
        "followed",
        "created_at",
        "updated_at",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(t["deal_id"], deal.as_str());
    assert_eq!(t["at"], "1970-02-10T00:00:00Z");
    assert_eq!(
        t["state"],
        json!({"amount": 42000.0, "single_threaded": true})
    );
    assert_eq!(t["recommendation"]["lesson_id"], "lesson-1");
    assert_eq!(t["followed"], false);
    assert_eq!(lines[0]["recommendation"], Value::Null);
    assert!(
        !text.contains('\u{1b}'),
        "escape characters are JSON-escaped, never raw"
    );
    assert!(t["action"].as_str().unwrap().contains('\u{1b}'), "but kept");
}

#[test]
fn traces_export_as_csv_with_a_stable_header() {
    let (sb, _) = reviewed();
    let text = export(&sb, "traces", "csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "review_id",
            "deal_id",
            "at",
            "stage_id",
            "state",
            "actor",
            "action",
            "recommendation_lesson_id",
            "recommendation_text",
            "rationale",
            "expected_outcome",
            "expected_by",
            "actual_outcome",
            "followed",
            "created_at",
            "updated_at",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let t = &rows[1];
    assert_eq!(&t[5], r#"{"amount":42000.0,"single_threaded":true}"#);
    assert_eq!(&t[8], "lesson-1");
    assert_eq!(
        &t[10],
        "The champion said the CFO would sign, line one\nline two"
    );
    assert_eq!(&t[12], "1970-03-12T00:00:00Z");
    assert_eq!(&t[14], "false");
    assert_eq!((&rows[0][8], &rows[0][14]), ("", ""), "absent is empty");
}

#[test]
fn reviews_export_in_both_formats() {
    let (sb, deal) = reviewed();
    let line: Value = serde_json::from_str(export(&sb, "reviews", "jsonl").trim()).unwrap();
    assert_eq!(line["deal_id"], deal.as_str());
    assert_eq!(line["status"], "final");
    assert_eq!(line["outcome"], "lost");
    assert_eq!(line["revision"], 2);
    assert_eq!(line["reasons"][1]["detail"], "Quantivo, on price");
    assert_eq!(
        line["lesson_candidates"][0]["pattern_key"],
        "single_threaded:slip:demo"
    );

    let text = export(&sb, "reviews", "csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "deal_id",
            "reviewer",
            "created_at",
            "updated_at",
            "status",
            "outcome",
            "primary_reason",
            "reasons",
            "notes",
            "lesson_candidates",
            "revision",
        ]
    );
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[7], "no_economic_buyer");
    assert_eq!(
        &row[9],
        "Single-threaded through the champion, \"as usual\""
    );
    let reasons: Value = serde_json::from_str(&row[8]).unwrap();
    assert_eq!(reasons[0]["primary"], true);
}

#[test]
fn an_empty_cache_exports_nothing_but_the_csv_header() {
    let sb = Sandbox::new();
    sb.demo(5, 1);
    assert_eq!(export(&sb, "traces", "jsonl"), "");
    assert_eq!(
        export(&sb, "reviews", "csv").lines().count(),
        1,
        "just the header"
    );
}

#[test]
fn export_without_a_cache_says_what_to_do() {
    let sb = Sandbox::new();
    let out = sb.command().args(["export", "traces"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dealtrace demo"));
}
