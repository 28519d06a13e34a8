//! `dealtrace patterns --json` on the demo history finds the four planted patterns with
//! intervals covering the planted magnitudes, over several seeds, and keeps the demo's null
//! attributes within what the false discovery rate allows.
//!
//! The planted magnitudes (see `dealtrace::demo::planted`):
//! 1. single-threaded deals slip 0.60 vs 0.25 after Demo (RR 2.4);
//! 2. the CTO engaged by Demo in engineering-led accounts: won 0.55 vs 0.25 eventually, which
//!    the 90-day `won` outcome shows at about 0.41 vs 0.19 (RR ≈ 2.2);
//! 3. a live economic buyer at Proposal: stalls 0.15 vs 0.55 (RR ≈ 0.27);
//! 4. a competitor named in the first 14 days of Proposal: discount pressure 0.55 vs 0.25
//!    (RR 2.2) unless a business case was anchored earlier (0.25 vs 0.25).
//!
//! 6,000 deals a seed: at the 2,000 of a default demo the segment pattern (2) and the exception
//! (4) are real but too weak to pass a family of ~45,000 tests in some seeds.

use assert_cmd::Command;
use dealtrace::demo::planted;
use serde_json::Value;

const DEALS: &str = "6000";
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];
/// Demo stage ids.
const DEMO: &str = "reached:presentationscheduled";
const PROPOSAL: &str = "reached:decisionmakerboughtin";
const PROPOSAL_14: &str = "reached:decisionmakerboughtin+14d";

/// Attributes with no effect on any outcome: the demo's null properties, plus industry and
/// size band (which set only the amount).
fn null_attribute(name: &str) -> bool {
    planted::NULL_DEAL_PROPERTIES.contains(&name)
        || planted::NULL_COMPANY_PROPERTIES.contains(&name)
        || ["industry", "size_band"].contains(&name)
}

fn mine(seed: u64) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.sqlite");
    Command::cargo_bin("dealtrace")
        .expect("binary")
        .args(["--db"])
        .arg(&db)
        .args(["demo", "--deals", DEALS, "--seed", &seed.to_string()])
        .assert()
        .success();
    let out = Command::cargo_bin("dealtrace")
        .expect("binary")
        .args(["--db"])
        .arg(&db)
        .args(["patterns", "--json"])
        .output()
        .expect("run patterns");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The surfaced pattern of this kind, population, segment, outcome and condition.
fn find<'a>(
    run: &'a Value,
    kind: &str,
    population: &str,
    segment: Option<&str>,
    outcome: &str,
    condition: &[&str],
) -> Option<&'a Value> {
    run["patterns"].as_array()?.iter().find(|p| {
        p["kind"] == kind
            && p["population"]["key"] == population
            && p["population"]["segment"].as_str() == segment
            && p["outcome"] == outcome
            && p["condition"].as_array().is_some_and(|c| {
                c.iter()
                    .map(|x| x.as_str())
                    .eq(condition.iter().map(|s| Some(*s)))
            })
    })
}

fn covers(p: &Value, x: f64) -> bool {
    p["ci_low"].as_f64().is_some_and(|l| l <= x) && p["ci_high"].as_f64().is_some_and(|h| x <= h)
}

fn names_null(p: &Value) -> bool {
    let mut names: Vec<&str> = p["condition"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(s) = p["population"]["segment"].as_str() {
        names.push(s);
    }
    names
        .iter()
        .any(|n| null_attribute(n.split('=').next().unwrap_or("")))
}

#[test]
fn the_planted_patterns_surface_with_intervals_covering_them_over_seeds() {
    // Found in every seed; each 95% interval may miss its planted value now and then (four
    // patterns × five seeds is twenty intervals), so coverage needs 4 of 5 per pattern.
    let mut covered = [0usize; 4];
    let (mut null_total, mut surfaced_total, mut null_seen) = (0usize, 0usize, Vec::new());
    for seed in SEEDS {
        let run = mine(seed);
        let tested = run["tested"].as_u64().unwrap_or(0);
        assert!(tested > 1_000, "seed {seed}: only {tested} tests");
        let list = |run: &Value| {
            run["patterns"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| p["key"].as_str().unwrap_or("").to_owned())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };

        let p1 = find(&run, "risk", DEMO, None, "slipped", &["single_threaded"])
            .unwrap_or_else(|| panic!("seed {seed}: pattern 1 missing from {:#?}", list(&run)));
        covered[0] += usize::from(covers(p1, 2.4));
        assert_eq!(p1["tier"], "strong", "seed {seed}");

        let p2 = find(
            &run,
            "segment",
            DEMO,
            Some("buying_center=engineering"),
            "won",
            &["engaged:cto"],
        )
        .unwrap_or_else(|| panic!("seed {seed}: pattern 2 missing from {:#?}", list(&run)));
        covered[1] += usize::from(covers(p2, 2.2));
        // Not elsewhere: the CTO does not matter in finance- or operations-led accounts.
        for other in ["buying_center=finance", "buying_center=operations"] {
            assert!(
                find(&run, "segment", DEMO, Some(other), "won", &["engaged:cto"]).is_none(),
                "seed {seed}: the CTO surfaced in {other}"
            );
        }

        let p3 = find(
            &run,
            "risk",
            PROPOSAL,
            None,
            "stalled",
            &["live:economic_buyer"],
        )
        .unwrap_or_else(|| panic!("seed {seed}: pattern 3 missing from {:#?}", list(&run)));
        covered[2] += usize::from(covers(p3, 0.15 / 0.55));

        let p4 = find(
            &run,
            "exception",
            PROPOSAL_14,
            None,
            "discount_pressure",
            &["stage_mentioned:competitor"],
        )
        .unwrap_or_else(|| panic!("seed {seed}: pattern 4 missing from {:#?}", list(&run)));
        covered[3] += usize::from(covers(p4, 2.2));
        let exception = &p4["exception"];
        assert_eq!(exception["moderator"], "mentioned:business_case");
        assert!(
            exception["ci_low"].as_f64().unwrap_or(2.0) <= 1.0
                && 1.0 <= exception["ci_high"].as_f64().unwrap_or(0.0),
            "seed {seed}: with a business case the effect should vanish: {exception}"
        );

        // Null attributes: a pattern naming one is a false discovery, and the run promises a
        // false discovery rate of 10%, not none (seed 5 surfaces "industry Healthcare were won
        // 0.71x as often after Proposal" at q = 0.064): no more than 10% of what surfaces,
        // over all seeds (false discoveries come in clusters of overlapping tests, so one seed
        // alone can exceed it — seed 5 holds 9 of 75, mostly one campaign finding and its
        // restatements).
        let patterns = run["patterns"].as_array().cloned().unwrap_or_default();
        let nulls: Vec<&Value> = patterns.iter().filter(|p| names_null(p)).collect();
        null_total += nulls.len();
        surfaced_total += patterns.len();
        null_seen.extend(
            nulls
                .iter()
                .map(|p| format!("seed {seed}: {}", p["sentence"])),
        );
        // Every pattern carries the figures the issue names.
        for p in &patterns {
            for field in [
                "kind",
                "outcome",
                "population",
                "condition",
                "sentence",
                "n_exposed",
                "n_unexposed",
                "events_exposed",
                "events_unexposed",
                "effect",
                "ci_low",
                "ci_high",
                "p",
                "q",
                "tier",
                "flags",
                "deal_ids",
            ] {
                assert!(!p[field].is_null(), "seed {seed}: {field} missing in {p}");
            }
            assert!(p["q"].as_f64().unwrap_or(1.0) <= 0.10);
        }
    }
    eprintln!(
        "planted intervals covering, per pattern: {covered:?} of {}; null-attribute patterns: \
         {null_total} of {surfaced_total}",
        SEEDS.len()
    );
    assert!(
        null_total as f64 <= 0.10 * surfaced_total as f64,
        "{null_total} of {surfaced_total} surfaced patterns name a null attribute: {null_seen:#?}"
    );
    assert!(
        covered.iter().all(|&c| c + 1 >= SEEDS.len()),
        "intervals covering the planted magnitudes per pattern, of {} seeds: {covered:?}",
        SEEDS.len()
    );
}
