//! The command-line contract: JSON shapes, filters and exit codes (DESIGN section 6).

mod common;

use assert_cmd::Command;
use common::Sandbox;
use serde_json::Value;

fn dealtrace(sandbox: &Sandbox) -> Command {
    sandbox.cli()
}

fn json(sandbox: &Sandbox, args: &[&str]) -> Value {
    sandbox.json(args)
}

fn stderr_line(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(text.lines().count(), 1, "errors are one line: {text:?}");
    text.trim_end().to_owned()
}

fn is_rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok() && s.ends_with('Z'))
}

#[test]
fn deals_list_json_has_the_documented_keys() {
    let sb = Sandbox::new();
    sb.demo(150, 7);
    let deals = json(&sb, &["deals", "list", "--json"]);
    let deals = deals.as_array().expect("an array");
    assert_eq!(deals.len(), 150);
    for d in deals {
        for key in [
            "id",
            "name",
            "company",
            "owner",
            "pipeline",
            "stage",
            "amount",
            "currency",
            "created_at",
            "close_date",
            "is_closed",
            "is_won",
        ] {
            assert!(d.get(key).is_some(), "missing {key} in {d}");
        }
        assert!(is_rfc3339(&d["created_at"]), "{d}");
        assert!(
            d["close_date"].is_null() || is_rfc3339(&d["close_date"]),
            "{d}"
        );
        assert!(d["is_closed"].is_boolean() && d["is_won"].is_boolean());
        if d["is_won"] == Value::Bool(true) {
            assert_eq!(d["is_closed"], Value::Bool(true));
        }
    }
    let created: Vec<&str> = deals
        .iter()
        .map(|d| d["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted, "newest first");
}

#[test]
fn deals_list_filters() {
    let sb = Sandbox::new();
    sb.demo(200, 3);
    let all = json(&sb, &["deals", "list", "--json"]);
    let all = all.as_array().unwrap();
    let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|d| f(d)).count();

    let won = json(&sb, &["deals", "list", "--json", "--status", "won"]);
    assert_eq!(
        won.as_array().unwrap().len(),
        count(&|d| d["is_won"] == true)
    );
    assert!(!won.as_array().unwrap().is_empty());
    let open = json(&sb, &["deals", "list", "--json", "--status", "open"]);
    assert_eq!(
        open.as_array().unwrap().len(),
        count(&|d| d["is_closed"] == false)
    );
    let lost = json(&sb, &["deals", "list", "--json", "--status", "lost"]);
    assert_eq!(
        lost.as_array().unwrap().len(),
        count(&|d| d["is_closed"] == true && d["is_won"] == false)
    );

    let demo = json(&sb, &["deals", "list", "--json", "--stage", "demo"]);
    assert_eq!(
        demo.as_array().unwrap().len(),
        count(&|d| d["stage"] == "Demo")
    );
    let by_id = json(
        &sb,
        &[
            "deals",
            "list",
            "--json",
            "--stage",
            "presentationscheduled",
        ],
    );
    assert_eq!(by_id, demo, "a stage matches by id or label");

    let owner = all[0]["owner"].as_str().unwrap().to_owned();
    let first_name = owner.split(' ').next().unwrap().to_lowercase();
    let mine = json(&sb, &["deals", "list", "--json", "--owner", &first_name]);
    let mine = mine.as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|d| {
        d["owner"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&first_name)
    }));
}

#[test]
fn deals_list_text_is_a_table() {
    let sb = Sandbox::new();
    sb.demo(20, 1);
    let out = dealtrace(&sb)
        .args(["deals", "list"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    for col in [
        "ID", "DEAL", "COMPANY", "OWNER", "STAGE", "AMOUNT", "CLOSE", "STATUS",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert_eq!(lines.count(), 20);
    assert!(!text.contains('\u{1b}'), "plain text for pipes");
}

#[test]
fn deals_show_json_carries_history_stakeholders_and_activities() {
    let sb = Sandbox::new();
    sb.demo(80, 11);
    let deals = json(&sb, &["deals", "list", "--json", "--status", "won"]);
    let id = deals[0]["id"].as_str().unwrap().to_owned();
    let d = json(&sb, &["deals", "show", &id, "--json"]);
    assert_eq!(d["id"], Value::String(id.clone()));
    for key in [
        "name",
        "company",
        "owner",
        "stage",
        "amount",
        "created_at",
        "is_won",
    ] {
        assert!(d.get(key).is_some(), "missing {key}");
    }
    let history = d["history"].as_array().expect("history array");
    assert!(history.len() >= 3, "a won deal has stage history");
    for h in history {
        assert!(
            ["stage", "amount", "close_date"].contains(&h["field"].as_str().unwrap()),
            "{h}"
        );
        assert!(is_rfc3339(&h["at"]), "{h}");
    }
    let stages: Vec<&str> = history
        .iter()
        .filter(|h| h["field"] == "stage")
        .map(|h| h["stage_id"].as_str().unwrap())
        .collect();
    assert_eq!(stages.last(), Some(&"closedwon"));
    let stakeholders = d["stakeholders"].as_array().expect("stakeholders array");
    assert!(!stakeholders.is_empty());
    for s in stakeholders {
        for key in ["contact_id", "name", "title", "role", "last_engaged"] {
            assert!(s.get(key).is_some(), "missing {key} in {s}");
        }
    }
    let activities = d["activities"].as_array().expect("activities array");
    assert!(!activities.is_empty());
    for a in activities {
        for key in ["id", "kind", "occurred_at", "body", "contact_ids"] {
            assert!(a.get(key).is_some(), "missing {key} in {a}");
        }
    }

    let out = dealtrace(&sb)
        .args(["deals", "show", &id])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    for section in ["History", "Stakeholders", "Activities"] {
        assert!(text.contains(section), "{text}");
    }
}

#[test]
fn stats_json_counts_what_the_cache_holds() {
    let sb = Sandbox::new();
    sb.demo(120, 5);
    let s = json(&sb, &["stats", "--json"]);
    assert_eq!(s["counts"]["deals"], 120);
    assert!(s["counts"]["activities"].as_i64().unwrap() > 120);
    assert_eq!(s["counts"]["reviews"], 0);
    assert_eq!(s["deals_by_source"]["demo"], 120);
    assert!(is_rfc3339(&s["date_range"]["first"]));
    assert!(is_rfc3339(&s["date_range"]["last"]));
    assert!(s["last_sync"].is_null());
    assert!(s["schema_version"].as_i64().unwrap() >= 1);
    let out = dealtrace(&sb)
        .arg("stats")
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8(out.stdout).unwrap().contains("deals"));
}

#[test]
fn an_unknown_deal_is_a_one_line_error_with_exit_1() {
    let sb = Sandbox::new();
    sb.demo(10, 1);
    let out = dealtrace(&sb)
        .args(["deals", "show", "no-such-deal"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = stderr_line(&out);
    assert!(
        line.starts_with("error: no deal with id no-such-deal"),
        "{line}"
    );
    assert!(line.contains("deals list"), "says what to do: {line}");
}

#[test]
fn reading_a_missing_cache_says_what_to_do() {
    let sb = Sandbox::new();
    let out = dealtrace(&sb)
        .args(["deals", "list"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = stderr_line(&out);
    assert!(line.contains("no cache at"), "{line}");
    assert!(line.contains("dealtrace demo"), "{line}");
    assert!(!sb.db().exists(), "a read must not create an empty cache");
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    dealtrace(&sb)
        .args(["deals", "list", "--status", "maybe"])
        .assert()
        .code(2);
    dealtrace(&sb)
        .args(["deals", "frobnicate"])
        .assert()
        .code(2);
    dealtrace(&sb)
        .args(["demo", "--deals", "zero"])
        .assert()
        .code(2);
    dealtrace(&sb).args(["--demo", "stats"]).assert().code(2);
    dealtrace(&sb).arg("--help").assert().code(0);
}

#[test]
fn a_newer_cache_is_refused_with_one_clear_sentence() {
    let sb = Sandbox::new();
    sb.demo(5, 1);
    {
        let conn = rusqlite::Connection::open(sb.db()).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let out = dealtrace(&sb)
        .args(["stats"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = stderr_line(&out);
    assert!(line.contains("newer than"), "{line}");
    assert!(line.contains("upgrade dealtrace"), "{line}");
}

#[test]
fn a_malformed_config_names_file_line_and_problem() {
    let sb = Sandbox::new();
    sb.demo(5, 1);
    let config = sb.path().join("bad.toml");
    std::fs::write(&config, "[ui]\ncolor = \"sometimes\"\n").unwrap();
    let out = dealtrace(&sb)
        .args(["--config", config.to_str().unwrap(), "stats"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = stderr_line(&out);
    assert!(line.contains("bad.toml:2:9"), "{line}");
    assert!(line.contains("sometimes"), "{line}");

    let missing = sb.path().join("missing.toml");
    let out = dealtrace(&sb)
        .args(["--config", missing.to_str().unwrap(), "stats"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(stderr_line(&out).contains("does not exist"));
}

#[test]
fn the_db_can_come_from_the_environment() {
    let sb = Sandbox::new();
    sb.demo(12, 2);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dealtrace"));
    sb.isolate(&mut cmd);
    cmd.env("DEALTRACE_DB", sb.db()).args(["stats", "--json"]);
    let out = Command::from_std(cmd)
        .assert()
        .success()
        .get_output()
        .clone();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["counts"]["deals"], 12);
}

#[test]
fn demo_refuses_a_cache_that_holds_crm_data() {
    let sb = Sandbox::new();
    sb.demo(5, 1);
    {
        let conn = rusqlite::Connection::open(sb.db()).unwrap();
        conn.execute("UPDATE deals SET source = 'hubspot'", [])
            .unwrap();
    }
    let out = dealtrace(&sb)
        .args(["demo", "--deals", "5"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = stderr_line(&out);
    assert!(line.contains("hubspot"), "{line}");
    let conn = rusqlite::Connection::open(sb.db()).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM deals WHERE source = 'hubspot'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 5, "nothing was replaced");
}
