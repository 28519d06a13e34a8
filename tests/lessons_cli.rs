//! `dealtrace lessons …` end to end: a lesson's life from promotion to retirement with its
//! history, re-measurement and advice, and the library's round trip through TOML — where an
//! import takes what changed only in the file, keeps what changed only here, and reports what
//! changed on both sides without overwriting either.

mod common;

use common::{Sandbox, succeed};
use serde_json::Value;

const PLANTED: &str = "risk:reached:presentationscheduled:slipped:single_threaded";

fn text(sb: &Sandbox, args: &[&str]) -> String {
    String::from_utf8(succeed(sb.cli().args(args)).stdout).expect("utf-8")
}

/// Runs a command that must fail with exit status 1, and returns its stderr.
fn fails(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.cli().args(args).assert().code(1).get_output().clone();
    String::from_utf8(out.stderr).expect("utf-8")
}

/// A demo cache with the planted pattern promoted; returns the lesson's id.
fn promoted(sb: &Sandbox) -> String {
    sb.demo(600, 42);
    let lesson = sb.json(&["lessons", "promote", PLANTED, "--by", "revops", "--json"]);
    assert_eq!(lesson["status"], "proposed");
    assert_eq!(lesson["version"], 1);
    assert_eq!(lesson["trigger"]["condition"][0], "single_threaded");
    lesson["id"].as_str().expect("an id").to_owned()
}

fn lesson(sb: &Sandbox, id: &str) -> Value {
    sb.json(&["lessons", "show", id, "--json"])
}

#[test]
fn a_lesson_lives_from_promotion_to_retirement_with_its_history() {
    let sb = Sandbox::new();
    let id = promoted(&sb);
    // The same pattern cannot become a second lesson while the first is not retired.
    assert!(fails(&sb, &["lessons", "promote", PLANTED]).contains("already lesson"));
    // Proposed lessons advise nobody.
    let advice = sb.json(&["lessons", "advise", "--json"]);
    assert_eq!(advice["recommendations"].as_array().map(Vec::len), Some(0));
    // Activated (by a prefix of the id, as git takes), it advises open deals, each recorded
    // once per deal and lesson version.
    text(
        &sb,
        &["lessons", "status", &id[..8], "active", "--by", "maya"],
    );
    let advice = sb.json(&["lessons", "advise", "--json"]);
    let recs = advice["recommendations"].as_array().unwrap().clone();
    assert!(!recs.is_empty());
    assert!(
        recs.iter()
            .all(|r| r["first_shown"] == true && r["lesson_version"] == 2)
    );
    let again = sb.json(&["lessons", "advise", "--json"]);
    assert!(
        again["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["first_shown"] == false),
        "shown again, not recorded again"
    );
    // Re-measured on the same cache, the lesson holds.
    let measured = sb.json(&["lessons", "measure", "--json"]);
    assert_eq!(measured["evidence"][0]["verdict"], "holds");
    // Edited, then retired: every change is a version, with who and when.
    text(
        &sb,
        &[
            "lessons",
            "edit",
            &id,
            "--recommendation",
            "Book a second stakeholder before Proposal",
            "--tag",
            "threading",
            "--by",
            "revops",
        ],
    );
    text(&sb, &["lessons", "status", &id, "retired", "--by", "maya"]);
    let shown = lesson(&sb, &id);
    assert_eq!(shown["lesson"]["status"], "retired");
    assert_eq!(shown["lesson"]["status_changed_by"], "maya");
    assert_eq!(shown["lesson"]["version"], 4);
    let history: Vec<&str> = shown["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            &format!("promoted from pattern {PLANTED}")[..],
            "status proposed → active",
            "edited recommendation, tags",
            "status active → retired",
        ]
    );
    assert_eq!(shown["evidence"].as_array().map(Vec::len), Some(1));
    assert!(shown["followed"]["replay"]["total"].as_u64().unwrap() > 0);
    // Retired, it advises nobody again, and the pattern may be promoted anew.
    let advice = sb.json(&["lessons", "advise", "--json"]);
    assert_eq!(advice["recommendations"].as_array().map(Vec::len), Some(0));
    text(&sb, &["lessons", "promote", PLANTED]);
}

/// Replaces the first `from` in a library file's text.
fn edit_file(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {text}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_library_round_trips_and_an_import_never_loses_a_local_edit() {
    let sb = Sandbox::new();
    let id = promoted(&sb);
    let file = sb.path().join("lessons.toml");
    let file_arg = file.to_str().unwrap();
    text(&sb, &["lessons", "export", file_arg]);
    // Unchanged both sides: nothing to do.
    let report = sb.json(&["lessons", "import", file_arg, "--json"]);
    assert_eq!(report["lessons"][0]["result"], "unchanged");

    // Changed only in the file (a teammate's commit): taken, with a history row.
    edit_file(&file, "status = \"proposed\"", "status = \"active\"");
    edit_file(&file, "version = 1", "version = 2");
    let report = sb.json(&["lessons", "import", file_arg, "--json"]);
    assert_eq!(report["lessons"][0]["result"], "updated");
    assert_eq!(lesson(&sb, &id)["lesson"]["status"], "active");

    // Changed only here: kept.
    text(
        &sb,
        &["lessons", "edit", &id, "--statement", "Mine, not theirs"],
    );
    let report = sb.json(&["lessons", "import", file_arg, "--json"]);
    assert_eq!(report["lessons"][0]["result"], "kept_local");
    assert_eq!(lesson(&sb, &id)["lesson"]["statement"], "Mine, not theirs");

    // Changed on both sides: reported, and neither side overwritten.
    edit_file(
        &file,
        "recommendation = \"Bring a second stakeholder into a two-way conversation\"",
        "recommendation = \"Theirs\"",
    );
    let out = text(&sb, &["lessons", "import", file_arg]);
    assert!(out.contains("1 conflicts"), "{out}");
    assert!(out.contains("recommendation"), "{out}");
    let here = lesson(&sb, &id);
    assert_eq!(here["lesson"]["statement"], "Mine, not theirs");
    assert_ne!(here["lesson"]["recommendation"], "Theirs");
    let file_text = std::fs::read_to_string(&file).unwrap();
    assert!(
        file_text.contains("Theirs"),
        "the file is not touched by an import"
    );

    // A folder of files imports too; a new lesson in it is added.
    let dir = sb.path().join("library");
    std::fs::create_dir(&dir).unwrap();
    let other = file_text
        .replace(&id, "0192f0c4-0000-7000-8000-0000000000aa")
        .replace("Theirs", "From the folder");
    std::fs::write(dir.join("other.toml"), other).unwrap();
    let report = sb.json(&["lessons", "import", dir.to_str().unwrap(), "--json"]);
    assert_eq!(report["lessons"][0]["result"], "added");
    // A broken file is refused with its name and what to do.
    std::fs::write(dir.join("broken.toml"), "[[lessons]]\nid = 3\n").unwrap();
    assert!(fails(&sb, &["lessons", "import", dir.to_str().unwrap()]).contains("broken.toml"));
}
