//! `dealtrace import csv`: malformed rows, odd encodings, re-import, extra files, refusals.

mod common;

use assert_cmd::Command;
use common::{Sandbox, succeed};
use rusqlite::Connection;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn dealtrace(sb: &Sandbox) -> Command {
    sb.cli()
}

/// Runs an import that must succeed and returns its `--json` report.
fn import_json(sb: &Sandbox, file: &Path, extra: &[&str]) -> Value {
    let out = succeed(
        dealtrace(sb)
            .args(["import", "csv"])
            .arg(file)
            .args(extra)
            .arg("--json"),
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Runs an import that must succeed and returns its stderr.
fn import_text(sb: &Sandbox, file: &Path, extra: &[&str]) -> String {
    let out = succeed(dealtrace(sb).args(["import", "csv"]).arg(file).args(extra));
    assert!(out.stdout.is_empty(), "the text summary goes to stderr");
    String::from_utf8(out.stderr).expect("UTF-8 stderr")
}

fn json(sb: &Sandbox, args: &[&str]) -> Value {
    sb.json(args)
}

fn deals_by_id(sb: &Sandbox) -> std::collections::BTreeMap<String, Value> {
    json(sb, &["deals", "list", "--json"])
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d.clone()))
        .collect()
}

/// The shared content hash of the cache file at `db`.
fn content_hash(db: &Path) -> String {
    common::content_hash(&Connection::open(db).unwrap())
}

fn table_count(db: &Path, table: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

const HUBSPOT_BAD_ROWS: &[(u64, &str)] = &[
    (6, "close date \"someday\" is not a date"),
    (7, "amount \"12,3,4\" is not a number"),
    (8, "the deal id is empty"),
    (9, "has 5 fields, the header has 13"),
    (10, "deal id \"1002\" already appeared on line 3"),
];

#[test]
fn a_realistic_export_imports_the_good_rows_and_reports_the_bad_by_line() {
    let sb = Sandbox::new();
    let file = fixture("hubspot-deals.csv");
    let stderr = import_text(&sb, &file, &[]);
    for (line, reason) in HUBSPOT_BAD_ROWS {
        let expected = format!("skipped {} line {line}: {reason}", file.display());
        assert!(stderr.contains(&expected), "{expected:?} in\n{stderr}");
    }
    assert!(
        stderr.contains("deals: 7 new, 0 updated, 0 unchanged (12 rows read, 5 skipped"),
        "{stderr}"
    );

    let deals = deals_by_id(&sb);
    let ids: Vec<&str> = deals.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        vec!["1001", "1002", "1003", "1004", "1008", "1009", "1010"]
    );
    let d = &deals["1002"];
    assert_eq!(d["name"], "Brightline Labs, Inc. – Renewal");
    assert_eq!(d["company"], "Brightline Labs, Inc.");
    assert_eq!(d["owner"], "Tom Okafor");
    assert_eq!(d["pipeline"], "Sales Pipeline");
    assert_eq!(d["stage"], "Closed Won");
    assert_eq!(d["amount"], 48000.0);
    assert_eq!(d["currency"], "USD");
    assert_eq!(d["created_at"], "2025-11-20T14:00:00Z");
    assert_eq!(d["close_date"], "2026-03-15T00:00:00Z");
    assert_eq!(
        (d["is_closed"].clone(), d["is_won"].clone()),
        (true.into(), true.into())
    );
    let lost = &deals["1003"];
    assert_eq!(
        (lost["is_closed"].clone(), lost["is_won"].clone()),
        (true.into(), false.into())
    );
    assert_eq!(lost["amount"], 9500.5);
    let open = &deals["1004"];
    assert_eq!(open["is_closed"], false);
    assert_eq!(open["amount"], Value::Null, "an empty amount is no amount");
    let quoted = &deals["1008"];
    assert_eq!(quoted["name"], "Hotel \"Grand\" – Spa\nand Conference");
    assert_eq!(quoted["amount"], 7250.0);
    assert_eq!(quoted["close_date"], "2026-06-30T00:00:00Z", "MM/DD/YYYY");
    assert_eq!(deals["1009"]["pipeline"], "Renewals");
    assert_eq!(
        deals["1010"]["owner"], "Maya Chen",
        "owner names match case-insensitively"
    );
    assert_eq!(table_count(&sb.db(), "owners"), 3);

    let show = json(&sb, &["deals", "show", "1002", "--json"]);
    assert_eq!(show["source"], "csv");
    assert_eq!(show["closed_reason"], "Champion drove it");
    assert_eq!(show["properties"]["deal_type"], "Existing Business");
    assert_eq!(show["last_modified"], "2026-03-15T16:20:00Z");
    assert_eq!(
        show["history"],
        serde_json::json!([{"field": "stage", "at": "2026-03-15T00:00:00Z", "stage_id": "closed-won"}]),
        "a closed deal without a history file: its closing stage on its close date"
    );
    let open = json(&sb, &["deals", "show", "1001", "--json"]);
    assert_eq!(
        open["history"],
        serde_json::json!([]),
        "an open deal: no invented entry"
    );
}

#[test]
fn the_json_report_lists_every_bad_row() {
    let sb = Sandbox::new();
    let file = fixture("hubspot-deals.csv");
    let report = import_json(&sb, &file, &[]);
    assert_eq!(report["imported"], true);
    assert_eq!(report["source"], "csv");
    assert_eq!(report["rows_read"], 12);
    assert_eq!(report["skipped_rows"], 5);
    assert_eq!(
        report["deals"],
        serde_json::json!({"new": 7, "updated": 0, "unchanged": 0})
    );
    assert_eq!(report["files"][0]["encoding"], "UTF-8");
    assert_eq!(report["files"][0]["delimiter"], ",");
    assert_eq!(report["created"]["pipelines"], 2);
    assert!(report["seconds"].as_f64().is_some());
    let bad: Vec<(u64, String)> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["file"], file.display().to_string());
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = HUBSPOT_BAD_ROWS
        .iter()
        .map(|(l, r)| (*l, (*r).to_owned()))
        .collect();
    assert_eq!(bad, expected);
}

#[test]
fn the_shipped_hubspot_mapping_reads_the_export_like_the_defaults() {
    let detected = Sandbox::new();
    import_json(&detected, &fixture("hubspot-deals.csv"), &[]);
    let mapped = Sandbox::new();
    let mapping = asset("assets/mappings/hubspot-export.toml");
    let report = import_json(
        &mapped,
        &fixture("hubspot-deals.csv"),
        &["--mapping", mapping.to_str().unwrap()],
    );
    assert_eq!(report["skipped_rows"], 5);
    assert_eq!(deals_by_id(&mapped), deals_by_id(&detected));
    assert_eq!(content_hash(&mapped.db()), content_hash(&detected.db()));
}

#[test]
fn reimporting_changes_nothing_and_an_edited_file_updates() {
    let sb = Sandbox::new();
    let file = fixture("hubspot-deals.csv");
    import_json(&sb, &file, &[]);
    let first = content_hash(&sb.db());
    let again = import_json(&sb, &file, &[]);
    assert_eq!(
        again["deals"],
        serde_json::json!({"new": 0, "updated": 0, "unchanged": 7})
    );
    assert_eq!(content_hash(&sb.db()), first, "same file, same cache");

    let edited = import_json(&sb, &fixture("hubspot-deals-edited.csv"), &[]);
    assert_eq!(
        edited["deals"],
        serde_json::json!({"new": 1, "updated": 2, "unchanged": 5})
    );
    let deals = deals_by_id(&sb);
    assert_eq!(deals.len(), 8, "updated in place, never duplicated");
    assert_eq!(deals["1001"]["amount"], 15000.0);
    assert_eq!(deals["1001"]["stage"], "Presentation Scheduled");
    assert_eq!(deals["1004"]["stage"], "Closed Lost");
    assert_eq!(deals["1004"]["is_closed"], true);
    let show = json(&sb, &["deals", "show", "1004", "--json"]);
    assert_eq!(show["closed_reason"], "No budget");
    assert_eq!(show["history"].as_array().unwrap().len(), 1);
    assert_eq!(deals["1011"]["company"], "Kilo Robotics");
    // Deals missing from the edited file (none here were removed) and the owner/company records
    // are not duplicated either.
    assert_eq!(table_count(&sb.db(), "owners"), 3);
    assert_eq!(table_count(&sb.db(), "companies"), 8);

    let settled = content_hash(&sb.db());
    let again = import_json(&sb, &fixture("hubspot-deals-edited.csv"), &[]);
    assert_eq!(
        again["deals"],
        serde_json::json!({"new": 0, "updated": 0, "unchanged": 8})
    );
    assert_eq!(content_hash(&sb.db()), settled);
}

/// The HubSpot fixture re-encoded: every variant must import to the same cache.
#[test]
fn utf8_bom_and_utf16_with_bom_import_the_same_deals() {
    let text = std::fs::read_to_string(fixture("hubspot-deals.csv")).unwrap();
    let plain = Sandbox::new();
    import_json(&plain, &fixture("hubspot-deals.csv"), &[]);
    let expected = deals_by_id(&plain);

    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend_from_slice(text.as_bytes());
    let mut utf16le = vec![0xFF, 0xFE];
    utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    // Windows tools write CRLF; line numbers must not change.
    let crlf = text.replace('\n', "\r\n");
    let mut utf16be = vec![0xFE, 0xFF];
    utf16be.extend(crlf.encode_utf16().flat_map(u16::to_be_bytes));

    for (name, bytes, encoding) in [
        ("bom.csv", utf8_bom, "UTF-8"),
        ("utf16le.csv", utf16le, "UTF-16LE"),
        ("utf16be-crlf.csv", utf16be, "UTF-16BE"),
    ] {
        let sb = Sandbox::new();
        let path = sb.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let report = import_json(&sb, &path, &[]);
        assert_eq!(report["files"][0]["encoding"], encoding, "{name}");
        let lines: Vec<u64> = report["bad_rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, vec![6, 7, 8, 9, 10], "{name}");
        assert_eq!(deals_by_id(&sb), expected, "{name}");
    }
}

/// A European spreadsheet export: Windows-1252, `;`, decimal commas, dotted dates.
#[test]
fn windows_1252_with_semicolons_and_decimal_commas() {
    let text = "\
Deal ID;Name;Stage;Amount;Created;Close Date;Owner;Company
W-1;Müller Maschinenbau – Linie 3;Verhandlung;1.234,50;03.02.2026;30.04.2026;Jürgen Weiß;Müller GmbH
W-2;Société Générale – Pilote;Gewonnen;EUR 12.000,00;15.01.2026;28.02.2026;Françoise Dupré;Société Générale
W-3;Ærø Fisk;Closed Lost;2.500,75 €;10.01.2026;;Søren Ærø;Ærø Fisk A/S
";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");

    for mapping in [
        None,
        Some("encoding = \"windows-1252\"\ndelimiter = \";\"\ndecimal = \",\"\n"),
    ] {
        let sb = Sandbox::new();
        let path = sb.path().join("export.csv");
        std::fs::write(&path, &bytes).unwrap();
        let mut args = Vec::new();
        let mapping_path = sb.path().join("m.toml");
        if let Some(m) = mapping {
            std::fs::write(&mapping_path, m).unwrap();
            args = vec!["--mapping", mapping_path.to_str().unwrap()];
        }
        let report = import_json(&sb, &path, &args);
        assert_eq!(report["files"][0]["encoding"], "windows-1252");
        assert_eq!(report["files"][0]["delimiter"], ";");
        assert_eq!(report["skipped_rows"], 0, "{report}");
        let deals = deals_by_id(&sb);
        let w1 = &deals["W-1"];
        assert_eq!(w1["name"], "Müller Maschinenbau – Linie 3");
        assert_eq!(w1["owner"], "Jürgen Weiß");
        assert_eq!(w1["company"], "Müller GmbH");
        assert_eq!(w1["amount"], 1234.5);
        assert_eq!(w1["created_at"], "2026-02-03T00:00:00Z", "DD.MM.YYYY");
        assert_eq!(w1["is_closed"], false);
        let w2 = &deals["W-2"];
        assert_eq!(w2["name"], "Société Générale – Pilote");
        assert_eq!(w2["amount"], 12000.0);
        assert_eq!(w2["currency"], "EUR");
        assert_eq!(w2["is_won"], true, "\"Gewonnen\" is won");
        let w3 = &deals["W-3"];
        assert_eq!(w3["company"], "Ærø Fisk A/S");
        assert_eq!(w3["amount"], 2500.75);
        assert_eq!(w3["currency"], "EUR");
        assert_eq!(w3["close_date"], Value::Null);
        assert_eq!(w3["is_won"], false);
    }
}

#[test]
fn history_contacts_and_activities_files() {
    let sb = Sandbox::new();
    let mapping = fixture("extras.toml");
    let args = ["--mapping", mapping.to_str().unwrap()];
    let report = import_json(&sb, &fixture("extras-deals.csv"), &args);
    assert_eq!(
        report["deals"],
        serde_json::json!({"new": 3, "updated": 0, "unchanged": 0})
    );
    assert_eq!(report["stage_entries"], 9);
    assert_eq!(report["contacts"], 4);
    assert_eq!(report["stakeholders"], 5);
    assert_eq!(report["activities"], 4);
    let kinds: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["deals", "history", "contacts", "activities"]);
    let bad: Vec<(String, u64)> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let name = file.rsplit('/').next().unwrap().to_owned();
            (name, r["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        bad,
        vec![
            ("extras-history.csv".to_owned(), 11),
            ("extras-history.csv".to_owned(), 12),
            ("extras-contacts.csv".to_owned(), 7),
            ("extras-activities.csv".to_owned(), 6),
            ("extras-activities.csv".to_owned(), 7),
            ("extras-activities.csv".to_owned(), 8),
        ]
    );
    let reasons: Vec<&str> = report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("deal \"D-9\" is not among the imported deals"));
    assert_eq!(
        reasons[3],
        "kind \"Task\" is not a call, meeting, email or note"
    );
    assert_eq!(reasons[4], "time \"31/02/2026 10:00\" is not a date");
    assert_eq!(reasons[5], "activity id \"A-2\" already appeared on line 3");
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0]["reason"].as_str().unwrap().contains("\"Mascot\""));
    assert!(notes[1]["reason"].as_str().unwrap().contains("\"C-99\""));

    let d1 = json(&sb, &["deals", "show", "D-1", "--json"]);
    assert_eq!(d1["amount"], 24000.0);
    assert_eq!(d1["currency"], "EUR");
    assert_eq!(d1["created_at"], "2026-02-03T00:00:00Z", "date_order = dmy");
    assert_eq!(d1["close_date"], "2026-04-30T00:00:00Z");
    assert_eq!(d1["properties"]["lead_source"], "Webinar");
    let stages: Vec<(&str, &str)> = d1["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["at"].as_str().unwrap(), h["stage_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        stages,
        vec![
            ("2026-02-03T09:00:00Z", "discovery"),
            ("2026-02-17T10:30:00Z", "demo"),
            ("2026-03-02T15:00:00Z", "proposal"),
        ]
    );
    let people: Vec<(&str, &str, &str)> = d1["stakeholders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["title"].as_str().unwrap(),
                s["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        people,
        vec![
            ("Ana García", "CTO", "champion"),
            ("Ben Okoro", "CFO", "economic_buyer")
        ]
    );
    let activities = d1["activities"].as_array().unwrap();
    assert_eq!(activities.len(), 3);
    assert_eq!(activities[1]["kind"], "email");
    assert_eq!(activities[1]["direction"], "inbound");
    assert_eq!(
        activities[1]["contact_ids"],
        serde_json::json!(["C-1", "C-2"])
    );
    assert_eq!(
        activities[2]["contact_ids"],
        serde_json::json!(["C-1", "C-2"]),
        "the unknown contact is dropped"
    );
    assert_eq!(activities[0]["body"], "Talked about scale; the CTO is keen");

    let d2 = json(&sb, &["deals", "show", "D-2", "--json"]);
    assert_eq!(
        (d2["stage"].clone(), d2["is_won"].clone()),
        ("Negotiation".into(), true.into()),
        "the status column decides, not the stage"
    );
    let d3 = json(&sb, &["deals", "show", "D-3", "--json"]);
    assert_eq!(d3["closed_reason"], "Chose a competitor");
    assert_eq!(d3["is_closed"], true);
    assert_eq!(d3["stakeholders"][0]["role"], "influencer");

    // Stages new to the pipeline are ordered as deals moved through them.
    let conn = Connection::open(sb.db()).unwrap();
    let order: Vec<String> = conn
        .prepare(
            "SELECT id FROM stages WHERE pipeline_id = 'sales-pipeline' ORDER BY display_order",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(order, vec!["discovery", "demo", "proposal", "negotiation"]);

    let hash = content_hash(&sb.db());
    let again = import_json(&sb, &fixture("extras-deals.csv"), &args);
    assert_eq!(again["deals"]["unchanged"], 3);
    assert_eq!(
        content_hash(&sb.db()),
        hash,
        "extra files re-import idempotently"
    );

    // Without the history file, the history already in the cache is kept, and so are the
    // contacts and activities; `--history` names a file the mapping does not.
    let text = std::fs::read_to_string(&mapping).unwrap();
    let deals_only = sb.path().join("deals-only.toml");
    std::fs::write(&deals_only, text.split("[history]").next().unwrap()).unwrap();
    let args = ["--mapping", deals_only.to_str().unwrap()];
    let report = import_json(&sb, &fixture("extras-deals.csv"), &args);
    assert_eq!(report["deals"]["unchanged"], 3);
    assert_eq!(report["files"].as_array().unwrap().len(), 1);
    assert_eq!(content_hash(&sb.db()), hash);
    let history = fixture("extras-history.csv");
    let args = [
        "--mapping",
        deals_only.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
    ];
    let report = import_json(&sb, &fixture("extras-deals.csv"), &args);
    assert_eq!(report["files"][1]["kind"], "history");
    assert_eq!(report["deals"]["unchanged"], 3);
    assert_eq!(content_hash(&sb.db()), hash);
}

#[test]
fn a_deal_id_from_another_source_is_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    sb.demo(20, 1);
    let demo_id = deals_by_id(&sb).keys().next().unwrap().clone();
    let before = content_hash(&sb.db());
    let path = sb.path().join("clash.csv");
    std::fs::write(
        &path,
        format!(
            "id,name,stage,created\nnew-1,Fresh,Demo,2026-01-01\n{demo_id},Clash,Demo,2026-01-01\n"
        ),
    )
    .unwrap();
    let out = dealtrace(&sb)
        .args(["import", "csv"])
        .arg(&path)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&format!("deal {demo_id} (line 3 of"))
            && stderr.contains("already in the cache from source \"demo\"")
            && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert_eq!(content_hash(&sb.db()), before);
}

#[test]
fn other_sources_deals_are_left_untouched() {
    let sb = Sandbox::new();
    sb.demo(30, 2);
    let demo_before = deals_by_id(&sb);
    let demo_id = demo_before.keys().next().unwrap().clone();
    let shown_before = json(&sb, &["deals", "show", &demo_id, "--json"]);
    import_json(&sb, &fixture("hubspot-deals.csv"), &[]);
    let after = deals_by_id(&sb);
    assert_eq!(after.len(), 30 + 7);
    for (id, d) in &demo_before {
        assert_eq!(&after[id], d, "demo deal {id} changed");
    }
    assert_eq!(
        json(&sb, &["deals", "show", &demo_id, "--json"]),
        shown_before
    );
    let stats = json(&sb, &["stats", "--json"]);
    assert_eq!(
        stats["deals_by_source"],
        serde_json::json!({"csv": 7, "demo": 30})
    );
}

#[test]
fn more_than_half_bad_rows_imports_nothing() {
    let sb = Sandbox::new();
    let mapping = sb.path().join("wrong.toml");
    // "Deal Name" is not a date: every row is bad.
    std::fs::write(
        &mapping,
        "[deals]\nid = \"Record ID\"\nstage = \"Deal Stage\"\ncreated = \"Deal Name\"\n",
    )
    .unwrap();
    let out = dealtrace(&sb)
        .args(["import", "csv"])
        .arg(fixture("hubspot-deals.csv"))
        .arg("--mapping")
        .arg(&mapping)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: 12 of 12 rows in ")
            && last.contains("line 2: created date \"Acme Corp – Platform\" is not a date")
            && last.contains("nothing was imported; check the mapping"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad row:"),
        "the bad rows are listed: {stderr}"
    );
    assert!(!sb.db().exists(), "the cache is not even created");

    let out = dealtrace(&sb)
        .args(["import", "csv"])
        .arg(fixture("hubspot-deals.csv"))
        .arg("--mapping")
        .arg(&mapping)
        .arg("--json")
        .assert()
        .code(1)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imported"], false);
    assert_eq!(report["bad_rows"].as_array().unwrap().len(), 12);
}

#[test]
fn a_dry_run_reports_but_writes_nothing() {
    let sb = Sandbox::new();
    let report = import_json(&sb, &fixture("hubspot-deals.csv"), &["--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["imported"], false);
    assert_eq!(report["deals"]["new"], 7);
    assert_eq!(table_count(&sb.db(), "deals"), 0);
    assert_eq!(table_count(&sb.db(), "pipelines"), 0);
}

#[test]
fn unreadable_files_and_bad_mappings_are_one_line_errors() {
    let sb = Sandbox::new();
    let one_line = |args: &[&str], needles: &[&str]| {
        let out = dealtrace(&sb)
            .args(["import", "csv"])
            .args(args)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{n:?} in {stderr}");
        }
    };
    let missing = sb.path().join("nope.csv");
    one_line(
        &[missing.to_str().unwrap()],
        &["cannot read", "nope.csv", "check the path"],
    );

    let deals = fixture("hubspot-deals.csv");
    let typo = sb.path().join("typo.toml");
    std::fs::write(
        &typo,
        "[deals]\nid = \"Record ID\"\nclose_dat = \"Close Date\"\n",
    )
    .unwrap();
    one_line(
        &[deals.to_str().unwrap(), "--mapping", typo.to_str().unwrap()],
        &[
            "typo.toml is not valid (line 3, column 1:",
            "close_dat",
            "generic.toml",
        ],
    );

    let wrong_column = sb.path().join("column.toml");
    std::fs::write(
        &wrong_column,
        "[deals]\nid = \"Record ID\"\nstage = \"Stage Name\"\ncreated = \"Create Date\"\n",
    )
    .unwrap();
    one_line(
        &[
            deals.to_str().unwrap(),
            "--mapping",
            wrong_column.to_str().unwrap(),
        ],
        &["\"Stage Name\"", "does not have", "\"Deal Stage\""],
    );

    let headerless = sb.path().join("plain.csv");
    std::fs::write(&headerless, "a,b\n1,2\n").unwrap();
    one_line(
        &[headerless.to_str().unwrap()],
        &["no column looks like the deal id"],
    );
    assert!(!sb.db().exists());
}

#[test]
fn escape_sequences_in_bad_cells_never_reach_the_terminal() {
    let sb = Sandbox::new();
    let file = sb.path().join("evil.csv");
    std::fs::write(
        &file,
        "Record ID,Deal Name,Deal Stage,Amount,Create Date\n\
         1,Good,Closed Won,100,2026-01-01\n\
         2,Also good,Closed Lost,200,2026-01-02\n\
         3,Evil,Closed Won,\u{1b}]52;c;ZXZpbA==\u{7}12\u{1b}[2J,2026-01-03\n",
    )
    .unwrap();
    let stderr = import_text(&sb, &file, &[]);
    assert!(
        stderr.contains("line 4"),
        "the bad row is reported: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
}
