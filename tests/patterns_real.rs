//! The pattern engine against an independent reference on real data: the Maven Analytics
//! "CRM + Sales + Opportunities" dataset (`tests/fixtures/real/maven_crm`, see `SOURCE.md`).
//!
//! `tools/reference.py` computes, from the raw CSV files and with scipy / statsmodels /
//! lifelines, every candidate the engine should test and its figures, and commits them as
//! `reference.json`. This test imports the joined CSV through the binary, builds the dataset
//! with the fixture's skills file (the Maven attributes as deal segments: the categorical ones
//! one-hot, the numeric ones — revenue, employees, year established — in thirds), mines it with
//! the default options and compares:
//!
//! - the populations (units, eligible, exclusions, events per outcome) and the selectors, with
//!   the units each holds (so every third's cut is checked, tested or not);
//! - the set of tested candidates, both ways, and m (and the insufficient count);
//! - for every candidate: the counts exactly; Fisher p, q (BH after the productive rule), the
//!   productive sub-tests, RR with its Katz interval, Wilson, Newcombe, χ², lift and WRAcc;
//!   for survival the log-rank O₁/E₁/V, χ² and p, the Peto HR and its interval, and the
//!   Kaplan–Meier medians and S(30/60/90) — to 1e-9 relative (1e-12 absolute near 0).
//!
//! Every mismatch is collected and reported with its candidate, so one run shows them all.

mod common;

use common::{Sandbox, succeed};
use dealtrace::patterns::mine::{DECAY, Kind, Options, Test, mine};
use dealtrace::patterns::z95;
use dealtrace::signals::Skills;
use dealtrace::store::Store;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Relative tolerance of every real-valued figure.
const REL: f64 = 1e-9;
/// Absolute tolerance near 0.
const ABS: f64 = 1e-12;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real/maven_crm")
        .join(name)
}

/// Mismatches, each naming its candidate.
#[derive(Default)]
struct Report {
    errors: Vec<String>,
    /// Figures compared, and the largest relative difference seen, with what it was.
    compared: usize,
    worst: (f64, String),
}

impl Report {
    fn fail(&mut self, what: String) {
        self.errors.push(what);
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, who: &str, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{who}: {what}: engine {got:?}, reference {want:?}"));
        }
    }

    fn close(&mut self, who: &str, what: &str, got: f64, want: f64) {
        let diff = (got - want).abs();
        self.compared += 1;
        let rel = if diff == 0.0 {
            0.0
        } else {
            diff / got.abs().max(want.abs())
        };
        if rel > self.worst.0 {
            self.worst = (rel, format!("{who}: {what}"));
        }
        let ok = got == want || diff <= ABS || diff <= REL * got.abs().max(want.abs());
        if !ok {
            self.fail(format!(
                "{who}: {what}: engine {got:e}, reference {want:e} (rel. diff {:.2e})",
                diff / got.abs().max(want.abs())
            ));
        }
    }

    fn finish(self, context: &str) {
        if self.errors.is_empty() {
            return;
        }
        let shown: Vec<&str> = self.errors.iter().take(60).map(String::as_str).collect();
        panic!(
            "{} mismatch(es) between the engine and tools/reference.py ({context}):\n  {}{}",
            self.errors.len(),
            shown.join("\n  "),
            if self.errors.len() > shown.len() {
                format!("\n  … and {} more", self.errors.len() - shown.len())
            } else {
                String::new()
            }
        );
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("reference.json: {v} is not a count"))
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("reference.json: {v} is not a number"))
}

fn pair(v: &Value) -> (f64, f64) {
    (f(&v[0]), f(&v[1]))
}

/// (population key, outcome, selector names sorted and joined with " & ").
type Key = (String, String, String);

#[test]
fn the_engine_matches_the_python_reference_on_the_maven_crm_dataset() {
    let started = Instant::now();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("reference.json")).expect("read reference.json"),
    )
    .expect("reference.json is JSON");

    // Import through the binary, as a user would.
    let sb = Sandbox::new();
    succeed(
        sb.cli()
            .args(["import", "csv"])
            .arg(fixture("deals_joined.csv"))
            .arg("--mapping")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mappings/maven-crm.toml")),
    );
    let imported = started.elapsed();
    let store = Store::open(&sb.db()).expect("open the imported cache");
    let skills = Skills::load(&fixture("skills.toml")).expect("the fixture's skills file");
    let data = dealtrace::cmd::patterns::dataset(&store, &skills).expect("build the dataset");
    let options = Options {
        threads: 2,
        ..Options::default()
    };
    assert!(options.moderators.is_empty());
    let run = mine(&data, &options);
    let mined = started.elapsed();

    let mut report = Report::default();
    report.eq(
        "dataset",
        "cutoff",
        data.cutoff,
        reference["cutoff"].as_i64().unwrap(),
    );

    // --- populations and selectors ---------------------------------------------------------
    let want_pops = reference["populations"].as_object().expect("populations");
    let got_pops: BTreeSet<&str> = data.populations.iter().map(|p| p.key.as_str()).collect();
    report.eq(
        "dataset",
        "population keys",
        got_pops.clone(),
        want_pops.keys().map(String::as_str).collect(),
    );
    let want_selectors: BTreeSet<String> = reference["selectors"]
        .as_object()
        .expect("selectors")
        .values()
        .flat_map(|v| v.as_array().expect("selector list").iter())
        .map(|v| v.as_str().expect("selector name").to_owned())
        .collect();
    for pop in &data.populations {
        let Some(want) = want_pops.get(&pop.key) else {
            continue;
        };
        let who = format!("population {}", pop.key);
        report.eq(&who, "units", pop.len() as u64, u(&want["units"]));
        report.eq(
            &who,
            "eligible",
            pop.eligible.count_ones(..) as u64,
            u(&want["eligible"]),
        );
        report.eq(
            &who,
            "window_open",
            pop.exclusions.window_open as u64,
            u(&want["window_open"]),
        );
        report.eq(
            &who,
            "closed_before_landmark",
            pop.exclusions.closed_before_landmark as u64,
            u(&want["closed_before_landmark"]),
        );
        for o in &pop.outcomes {
            let events = o.cover.intersection_count(&pop.eligible) as u64;
            match want["events"].get(&o.name) {
                Some(w) => report.eq(&who, &format!("{} events", o.name), events, u(w)),
                None => report.fail(format!("{who}: outcome {} not in the reference", o.name)),
            }
        }
        if let Some(follow) = &pop.follow {
            let events = follow.index.events().iter().filter(|e| **e).count() as u64;
            report.eq(&who, "decay events", events, u(&want["events"][DECAY]));
        } else {
            report.fail(format!("{who}: no decay follow-up"));
        }
        let got: BTreeSet<String> = pop.selectors.iter().map(|s| s.name.clone()).collect();
        for s in &pop.selectors {
            if let Some(w) = want["selector_units"].get(&s.name) {
                report.eq(
                    &who,
                    &format!("units of {}", s.name),
                    s.cover.count_ones(..) as u64,
                    u(w),
                );
            }
        }
        for s in pop
            .selectors
            .iter()
            .filter(|s| !want_selectors.contains(&s.name))
        {
            report.fail(format!(
                "{who}: selector {} (attribute {}, {} of {} units) is not a reference selector{}",
                s.name,
                s.attribute,
                s.cover.count_ones(..),
                pop.len(),
                if s.cover.count_ones(..) == pop.len() {
                    " — it holds for every unit, so it carries no information"
                } else {
                    ""
                }
            ));
        }
        for s in want_selectors.difference(&got) {
            report.fail(format!("{who}: reference selector {s} is missing"));
        }
    }

    // --- the family: m, the tested set both ways, the insufficient count ---------------------
    report.eq(
        "run",
        "m (tested)",
        run.tested as u64,
        u(&reference["tested"]),
    );
    report.eq("run", "exception tests", run.tested_exceptions as u64, 0);
    report.eq(
        "run",
        "insufficient",
        run.insufficient_count as u64,
        u(&reference["insufficient"]),
    );
    let mut tests: BTreeMap<Key, &Test> = BTreeMap::new();
    for t in &run.tests {
        let pop = &data.populations[t.population];
        let outcome = match t.outcome {
            Some(o) => pop.outcomes[o].name.clone(),
            None => DECAY.to_owned(),
        };
        let mut names: Vec<&str> = t
            .condition
            .iter()
            .map(|&s| pop.selectors[s].name.as_str())
            .collect();
        names.sort_unstable();
        let key = (pop.key.clone(), outcome, names.join(" & "));
        let expected_kind = if t.outcome.is_some() {
            Kind::Risk
        } else {
            Kind::Survival
        };
        if t.kind != expected_kind || t.segment.is_some() {
            report.fail(format!("{key:?}: unexpected kind {:?}", t.kind));
        }
        if tests.insert(key.clone(), t).is_some() {
            report.fail(format!("{key:?}: tested twice"));
        }
    }
    let candidates = reference["candidates"].as_array().expect("candidates");
    let mut want_keys: BTreeSet<Key> = BTreeSet::new();
    for r in candidates {
        let key = (
            r["population"].as_str().unwrap().to_owned(),
            r["outcome"].as_str().unwrap().to_owned(),
            r["condition"].as_str().unwrap().to_owned(),
        );
        if !want_keys.insert(key.clone()) {
            report.fail(format!("reference.json: {key:?} listed twice"));
        }
    }
    let extra: Vec<&Key> = tests.keys().filter(|k| !want_keys.contains(*k)).collect();
    let missing: Vec<&Key> = want_keys
        .iter()
        .filter(|k| !tests.contains_key(*k))
        .collect();
    for (what, keys) in [
        ("tested by the engine, not by the reference", &extra),
        ("tested by the reference, not by the engine", &missing),
    ] {
        if !keys.is_empty() {
            let shown: Vec<String> = keys
                .iter()
                .take(8)
                .map(|(p, o, c)| format!("{p} / {o} / {c}"))
                .collect();
            report.fail(format!(
                "{} candidate(s) {what}, e.g. {}",
                keys.len(),
                shown.join("; ")
            ));
        }
    }

    // --- every candidate --------------------------------------------------------------------
    let z = z95();
    for r in candidates {
        let key: Key = (
            r["population"].as_str().unwrap().to_owned(),
            r["outcome"].as_str().unwrap().to_owned(),
            r["condition"].as_str().unwrap().to_owned(),
        );
        let Some(test) = tests.get(&key) else {
            continue;
        };
        let who = format!("{} / {} / {}", key.0, key.1, key.2);
        let who = who.as_str();
        let t = test.table;
        report.eq(
            who,
            "a b c d",
            [t.a, t.b, t.c, t.d],
            [u(&r["a"]), u(&r["b"]), u(&r["c"]), u(&r["d"])],
        );
        report.eq(who, "n_exposed", t.n1(), u(&r["n_exposed"]));
        report.eq(who, "n_unexposed", t.n0(), u(&r["n_unexposed"]));
        report.close(who, "p", test.p, f(&r["p"]));
        report.close(who, "q", test.q, f(&r["q"]));
        if key.1 == DECAY {
            let pop = &data.populations[test.population];
            survival(&mut report, who, pop, test, r);
            continue;
        }
        // The productive rule.
        let depth = test.condition.len() as u64;
        report.eq(who, "depth", depth, u(&r["depth"]));
        if depth == 2 {
            report.eq(
                who,
                "productive",
                test.productive,
                r["productive"].as_bool().unwrap(),
            );
            let pop = &data.populations[test.population];
            match test.within {
                Some(within) => {
                    for (&parent, (p, same_side)) in test.condition.iter().zip(within) {
                        let name = &pop.selectors[parent].name;
                        let Some(w) = r["within"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|w| w["parent"].as_str() == Some(name))
                        else {
                            report.fail(format!("{who}: no reference sub-test within {name}"));
                            continue;
                        };
                        report.close(who, &format!("p within {name}"), p, f(&w["p"]));
                        report.eq(
                            who,
                            &format!("same side within {name}"),
                            same_side,
                            w["same_side"].as_bool().unwrap(),
                        );
                    }
                }
                None => report.fail(format!("{who}: depth 2 without the productive sub-tests")),
            }
        } else if !test.productive {
            report.fail(format!("{who}: a depth-1 test marked unproductive"));
        }
        match t.relative_risk(z) {
            Some(rr) => {
                report.close(who, "RR", rr.rr, f(&r["rr"]));
                report.close(who, "RR CI low", rr.ci.low, f(&r["ci_low"]));
                report.close(who, "RR CI high", rr.ci.high, f(&r["ci_high"]));
                report.eq(
                    who,
                    "Haldane",
                    rr.corrected,
                    r["haldane"].as_bool().unwrap(),
                );
            }
            None => report.fail(format!("{who}: no relative risk")),
        }
        let (w1, w0) = (t.wilson_p1(z), t.wilson_p0(z));
        let (l1, h1) = pair(&r["wilson_exposed"]);
        let (l0, h0) = pair(&r["wilson_unexposed"]);
        report.close(who, "Wilson exposed low", w1.low, l1);
        report.close(who, "Wilson exposed high", w1.high, h1);
        report.close(who, "Wilson unexposed low", w0.low, l0);
        report.close(who, "Wilson unexposed high", w0.high, h0);
        report.close(who, "p1", t.p1(), f(&r["p1"]));
        report.close(who, "p0", t.p0(), f(&r["p0"]));
        match t.risk_difference(z) {
            Some(rd) => {
                let (lo, hi) = pair(&r["rd_ci"]);
                report.close(who, "RD", rd.rd, f(&r["rd"]));
                report.close(who, "Newcombe low", rd.ci.low, lo);
                report.close(who, "Newcombe high", rd.ci.high, hi);
            }
            None => report.fail(format!("{who}: no risk difference")),
        }
        match t.chi_square() {
            Some((chi2, p)) => {
                report.close(who, "chi2", chi2, f(&r["chi2"]));
                report.close(who, "chi2 p", p, f(&r["chi2_p"]));
            }
            None => report.fail(format!("{who}: no chi-square")),
        }
        report.close(who, "lift", t.lift(), f(&r["lift"]));
        report.close(who, "WRAcc", t.wracc(), f(&r["wracc"]));
    }

    let elapsed = started.elapsed();
    eprintln!(
        "patterns_real: m = {}, {} candidates, {} figures compared (largest rel. diff {:.1e}, \
         {}); import {:.1?}, import + build + mine {:.1?}, total {:.1?}",
        run.tested,
        candidates.len(),
        report.compared,
        report.worst.0,
        report.worst.1,
        imported,
        mined,
        elapsed
    );
    report.finish(&format!(
        "m engine {} / reference {}",
        run.tested, reference["tested"]
    ));
}

/// The survival figures of a depth-1 `decay` test.
fn survival(
    report: &mut Report,
    who: &str,
    pop: &dealtrace::patterns::dataset::Population,
    test: &Test,
    r: &Value,
) {
    report.eq(
        who,
        "events exposed / unexposed",
        [test.table.a, test.table.c],
        [u(&r["events_exposed"]), u(&r["events_unexposed"])],
    );
    let Some(lr) = &test.log_rank else {
        report.fail(format!("{who}: no log-rank test"));
        return;
    };
    report.close(who, "log-rank O1", lr.observed as f64, f(&r["logrank_o1"]));
    report.close(who, "log-rank E1", lr.expected, f(&r["logrank_e1"]));
    report.close(who, "log-rank V", lr.variance, f(&r["logrank_v"]));
    report.close(who, "log-rank chi2", lr.chi2, f(&r["logrank_chi2"]));
    report.close(who, "log-rank p", lr.p, f(&r["logrank_p"]));
    report.close(who, "Peto HR", lr.peto.hr, f(&r["hr"]));
    let (lo, hi) = pair(&r["hr_ci"]);
    report.close(who, "Peto HR CI low", lr.peto.lower, lo);
    report.close(who, "Peto HR CI high", lr.peto.upper, hi);
    let Some(follow) = &pop.follow else {
        report.fail(format!("{who}: no follow-up"));
        return;
    };
    let exposed = &pop.selectors[test.condition[0]].cover;
    for (side, km, want) in [
        (
            "exposed",
            follow.index.kaplan_meier(|i| exposed.contains(i)),
            &r["km_exposed"],
        ),
        (
            "unexposed",
            follow.index.kaplan_meier(|i| !exposed.contains(i)),
            &r["km_unexposed"],
        ),
    ] {
        let Some(km) = km else {
            report.fail(format!("{who}: no Kaplan–Meier fit of the {side} group"));
            continue;
        };
        let median = km.median().map(f64::from);
        let want_median = want["median"].as_f64();
        match (median, want_median) {
            (Some(g), Some(w)) => report.close(who, &format!("KM median {side}"), g, w),
            (g, w) => report.eq(who, &format!("KM median {side}"), g, w),
        }
        for day in [30, 60, 90] {
            report.close(
                who,
                &format!("KM S({day}) {side}"),
                km.survival_at(day),
                f(&want[format!("s{day}")]),
            );
        }
    }
}
