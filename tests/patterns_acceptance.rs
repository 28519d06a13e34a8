//! Synthetic acceptance tests of the pattern engine (spec `STATS-AND-CRATES.md` §5.13).
//!
//! Every dataset is generated from a seeded `ChaCha8Rng` and built directly as a
//! [`Dataset`]: one population "after Demo" whose units are all eligible, so what is measured is
//! the engine (support, Fisher, BH, the surfacing rule, the productive and redundancy filters,
//! the Mantel–Haenszel guard and the interaction test), not the cache.
//!
//! The thresholds are the spec's, which leave binomial slack over the measured rates; every
//! assertion prints the counts it saw, so a failure says how far off the engine is. Run with
//! `--nocapture` to see the counts of passing tests too.
//!
//! The two tests of §5.13.1 about null refinements failed on the first engine (73 null-feature
//! patterns over 50 runs); they led to the productive test running before the correction with
//! a per-parent threshold (see their docs).

use dealtrace::patterns::cover::Cover;
use dealtrace::patterns::dataset::{Confounder, Dataset, Outcome, Phrase, Population, Selector};
use dealtrace::patterns::mine::{Kind, ModeratorSpec, Options, Run, mine};
use dealtrace::patterns::outcomes::Exclusions;
use dealtrace::patterns::survival::{Group, KaplanMeier, SurvivalIndex};
use dealtrace::patterns::table::{Table2x2, wilson};
use dealtrace::patterns::z95;
use proptest::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::sync::OnceLock;

const DAY: i64 = 86_400;

/// Index time of the first unit (2024-01-01 UTC); later units enter an hour apart, so the
/// replication split (latest 30% by T) is well defined.
const BASE: i64 = 1_704_067_200;

/// Seeds of the repeated-run tests (spec: 0..49).
const SEEDS: u64 = 50;

/// Null binary features next to the planted one.
const NULLS: usize = 20;

/// The planted relative risk, 0.60 / 0.25.
const PLANTED_RR: f64 = 2.4;

// ---------------------------------------------------------------------------------------------
// Building datasets
// ---------------------------------------------------------------------------------------------

fn cover(bits: &[bool]) -> Cover {
    let mut c = Cover::with_capacity(bits.len());
    for (i, &b) in bits.iter().enumerate() {
        if b {
            c.insert(i);
        }
    }
    c
}

fn selector(name: &str, attribute: &str, phrase: Phrase, bits: &[bool]) -> Selector {
    Selector {
        name: name.to_owned(),
        attribute: attribute.to_owned(),
        phrase,
        cover: cover(bits),
    }
}

fn outcome(name: &str, bits: &[bool]) -> Outcome {
    Outcome {
        name: name.to_owned(),
        cover: cover(bits),
    }
}

/// The population "reached:demo" of `n` units, every one eligible, with no segments, no
/// follow-up and no owners or accounts.
fn population(
    n: usize,
    selectors: Vec<Selector>,
    moderators: Vec<Selector>,
    outcomes: Vec<Outcome>,
    confounders: Vec<Confounder>,
) -> Population {
    let mut eligible = Cover::with_capacity(n);
    eligible.insert_range(..);
    Population {
        key: "reached:demo".to_owned(),
        stage: "demo".to_owned(),
        context: "after Demo".to_owned(),
        landmark_days: 0,
        deal_ids: (0..n).map(|i| format!("deal-{i:04}")).collect(),
        index_times: (0..n as i64).map(|i| BASE + i * 3_600).collect(),
        eligible,
        exclusions: Exclusions::default(),
        selectors,
        moderators,
        segments: vec![],
        outcomes,
        follow: None,
        confounders,
        owners: vec![u32::MAX; n],
        accounts: vec![u32::MAX; n],
    }
}

fn dataset(population: Population) -> Dataset {
    Dataset {
        populations: vec![population],
        cutoff: BASE + 400 * DAY,
        window_days: 90,
    }
}

fn options() -> Options {
    Options {
        threads: 2,
        ..Options::default()
    }
}

fn bools(rng: &mut ChaCha8Rng, n: usize, p: f64) -> Vec<bool> {
    (0..n).map(|_| rng.random_bool(p)).collect()
}

/// The §5.13 "after Demo" generator: 600 units, `single_threaded` with prevalence 0.30, 20 null
/// features `null_i=yes` (each its own attribute, prevalence uniform in 0.2–0.5) and `slipped`
/// with probability `slip_exposed` among single-threaded deals and `slip_unexposed` otherwise.
fn demo_dataset(seed: u64, slip_exposed: f64, slip_unexposed: f64) -> Dataset {
    let n = 600;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let single = bools(&mut rng, n, 0.30);
    let prevalences: Vec<f64> = (0..NULLS).map(|_| rng.random_range(0.2..0.5)).collect();
    let nulls: Vec<Vec<bool>> = prevalences.iter().map(|&p| bools(&mut rng, n, p)).collect();
    let slipped: Vec<bool> = single
        .iter()
        .map(|&s| rng.random_bool(if s { slip_exposed } else { slip_unexposed }))
        .collect();
    let mut selectors = vec![selector(
        "single_threaded",
        "single_threaded",
        Phrase::Adjective("single-threaded".to_owned()),
        &single,
    )];
    for (i, bits) in nulls.iter().enumerate() {
        selectors.push(selector(
            &format!("null_{i}=yes"),
            &format!("null_{i}"),
            Phrase::Clause(format!("with null feature {i}")),
            bits,
        ));
    }
    dataset(population(
        n,
        selectors,
        vec![],
        vec![outcome("slipped", &slipped)],
        vec![],
    ))
}

fn is_null_selector(name: &str) -> bool {
    name.starts_with("null_")
}

// ---------------------------------------------------------------------------------------------
// 1. Planted RR
// ---------------------------------------------------------------------------------------------

/// What 50 planted runs produced.
#[derive(Debug, Default)]
struct PlantedSummary {
    /// Patterns surfaced over all runs.
    patterns: usize,
    /// Runs where `single_threaded` alone surfaced.
    surfaced: usize,
    /// Of those, runs whose interval covers 2.4.
    covered: usize,
    /// Surfaced patterns whose condition holds a null feature, over all runs.
    with_null: usize,
    /// Of those, refinements `single_threaded & null_i`.
    refinements: usize,
    /// Of those, null features alone or two null features together.
    null_only: usize,
    /// Runs with at least one surfaced pattern naming a null feature.
    runs_with_null: usize,
    /// The null-feature patterns seen, as "seed: key (p, q)", for the report.
    seen: Vec<String>,
    /// Seeds where the planted pattern did not surface or missed 2.4.
    misses: Vec<String>,
}

fn planted_summary() -> &'static PlantedSummary {
    static SUMMARY: OnceLock<PlantedSummary> = OnceLock::new();
    SUMMARY.get_or_init(|| {
        let mut s = PlantedSummary::default();
        for seed in 0..SEEDS {
            let run = mine(&demo_dataset(seed, 0.60, 0.25), &options());
            let planted = run
                .patterns
                .iter()
                .find(|p| p.kind == Kind::Risk && p.condition == ["single_threaded"]);
            match planted {
                Some(p) => {
                    s.surfaced += 1;
                    if p.ci_low <= PLANTED_RR && PLANTED_RR <= p.ci_high {
                        s.covered += 1;
                    } else {
                        s.misses.push(format!(
                            "seed {seed}: RR {:.2} [{:.2}, {:.2}]",
                            p.effect, p.ci_low, p.ci_high
                        ));
                    }
                }
                None => s.misses.push(format!("seed {seed}: not surfaced")),
            }
            let mut any = false;
            s.patterns += run.patterns.len();
            for p in &run.patterns {
                if !p.condition.iter().any(|c| is_null_selector(c)) {
                    continue;
                }
                any = true;
                s.with_null += 1;
                if p.condition.iter().any(|c| c == "single_threaded") {
                    s.refinements += 1;
                } else {
                    s.null_only += 1;
                }
                s.seen.push(format!(
                    "seed {seed}: {} (RR {:.2}, p {:.2e}, q {:.3})",
                    p.key, p.effect, p.p, p.q
                ));
            }
            s.runs_with_null += usize::from(any);
        }
        eprintln!("planted RR over {SEEDS} seeds: {s:#?}");
        s
    })
}

#[test]
fn planted_pattern_surfaces_and_its_interval_covers_the_planted_rr() {
    let s = planted_summary();
    assert!(
        s.surfaced >= 45,
        "the planted single-threaded pattern surfaced in {}/{SEEDS} runs (want ≥ 45); misses: {:?}",
        s.surfaced,
        s.misses
    );
    assert!(
        s.covered >= 44,
        "its 95% CI covered RR {PLANTED_RR} in {}/{SEEDS} runs (want ≥ 44); misses: {:?}",
        s.covered,
        s.misses
    );
}

/// Spec §5.13.1: "refinements of it never surface unless planted, thanks to the productive
/// filter" — at most 3 `single_threaded & null_i` patterns over the 50 runs.
///
/// Measured: 26 over 50 runs. `cover::productive` tests each parent split at an unadjusted
/// Fisher p < 0.05, so each of the ~20 refinements that pass BH (they do: the refinement vs
/// everyone else really has RR ≈ 2.4) slips through with probability ≈ 0.025 (one direction),
/// ≈ 0.5 per run. See the report for the suggested fix.
#[test]
fn refinements_of_the_planted_pattern_by_null_features_do_not_surface() {
    let s = planted_summary();
    assert!(
        s.refinements <= 3,
        "{} refinements single_threaded & null_i surfaced over {SEEDS} runs (want ≤ 3); all \
         null-feature patterns: {:#?}",
        s.refinements,
        s.seen
    );
}

/// Null features surface next to the planted one no more often than the FDR allows: patterns
/// naming a null feature (refinements, null features alone, or two together) are false
/// discoveries, so over 50 runs they must stay within 10% of everything surfaced.
///
/// History: 73 of 123 surfaced patterns (59%) named a null feature before the productive test
/// moved ahead of the correction with a per-parent threshold (mine::judge_productive); the
/// unproductive refinements passed BH as true non-nulls, raised its cut-off for everything
/// else, and were only dropped afterwards. Now: 5, about 4% of what surfaces. A bound of 0 is
/// not what BH at q = 0.10 promises: one real discovery a run admits ≈ 0.1 false ones.
#[test]
fn null_features_do_not_surface_next_to_a_planted_pattern() {
    let s = planted_summary();
    assert!(
        s.with_null as f64 <= 0.10 * s.patterns as f64,
        "{} of {} surfaced patterns named a null feature over {SEEDS} runs (want ≤ 10%): {} refinements \
         single_threaded & null_i, {} null-only, in {} runs: {:#?}",
        s.with_null,
        s.patterns,
        s.refinements,
        s.null_only,
        s.runs_with_null,
        s.seen
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Complete null
// ---------------------------------------------------------------------------------------------

#[test]
fn complete_null_rarely_surfaces_anything() {
    let mut runs_with_discovery = 0;
    let mut total = 0;
    let mut seen = Vec::new();
    for seed in 0..SEEDS {
        // A different stream from the planted runs, so the two tests do not share draws.
        let run = mine(&demo_dataset(1_000 + seed, 0.30, 0.30), &options());
        assert!(run.tested > 200, "seed {seed}: only {} tests", run.tested);
        if !run.patterns.is_empty() {
            runs_with_discovery += 1;
            total += run.patterns.len();
            for p in &run.patterns {
                seen.push(format!(
                    "seed {}: {} (RR {:.2}, p {:.2e}, q {:.3})",
                    1_000 + seed,
                    p.key,
                    p.effect,
                    p.p,
                    p.q
                ));
            }
        }
    }
    eprintln!(
        "complete null: {runs_with_discovery}/{SEEDS} runs with a discovery, {total} patterns: {seen:#?}"
    );
    assert!(
        runs_with_discovery * 5 <= SEEDS as usize,
        "{runs_with_discovery}/{SEEDS} null runs surfaced ≥ 1 pattern (want ≤ 20%); {total} patterns: {seen:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Simpson's paradox
// ---------------------------------------------------------------------------------------------

#[test]
fn simpson_reversal_is_set_aside_not_surfaced() {
    // Two segments: "a" slips rarely, "b" often. Engaging the CTO is protective in each
    // (RR 0.6), but CTOs are engaged in 80% of segment-b deals and 10% of segment-a deals, so
    // crudely the engaged deals slip more.
    let n = 2_000;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut segment = Vec::with_capacity(n);
    let mut engaged = Vec::with_capacity(n);
    let mut slipped = Vec::with_capacity(n);
    for _ in 0..n {
        let high_risk = rng.random_bool(0.5);
        let base: f64 = if high_risk { 0.60 } else { 0.15 };
        let x = rng.random_bool(if high_risk { 0.8 } else { 0.1 });
        segment.push(u32::from(high_risk));
        engaged.push(x);
        slipped.push(rng.random_bool(if x { 0.6 * base } else { base }));
    }
    let data = dataset(population(
        n,
        vec![selector(
            "engaged:cto",
            "engaged:cto",
            Phrase::Clause("with the CTO engaged".to_owned()),
            &engaged,
        )],
        vec![],
        vec![outcome("slipped", &slipped)],
        vec![Confounder {
            name: "segment".to_owned(),
            strata: segment,
        }],
    ));
    let crude = dealtrace::patterns::cover::table(
        &cover(&engaged),
        &cover(&slipped),
        &data.populations[0].eligible,
    );
    let crude_rr = crude
        .relative_risk(z95())
        .expect("both groups are populated");
    assert!(
        crude_rr.rr > 1.25 && crude_rr.ci.low > 1.0 && crude.fisher_p() < 0.001,
        "the generator should give a significant crude risk > 1.25: {crude:?}, {crude_rr:?}"
    );

    let run = mine(&data, &options());
    let is_it = |p: &&dealtrace::patterns::mine::Pattern| {
        p.outcome == "slipped" && p.condition == ["engaged:cto"]
    };
    assert!(
        !run.patterns.iter().any(|p| is_it(&p)),
        "the confounded pattern is in the main list: {:#?}",
        run.patterns
    );
    let aside = run
        .set_aside
        .iter()
        .find(is_it)
        .unwrap_or_else(|| panic!("not set aside; set aside: {:#?}", run.set_aside));
    assert!(
        aside.flags.iter().any(|f| f == "simpson_reversal"),
        "set aside without the reversal flag: {:?}",
        aside.flags
    );
    assert!(
        aside.flags.iter().any(|f| f == "reversed_by:segment"),
        "the flag does not name the confounder: {:?}",
        aside.flags
    );
    let mh = aside
        .confounders
        .iter()
        .find(|c| c.confounder == "segment")
        .expect("a Mantel–Haenszel check against segment");
    assert!(
        aside.effect > 1.25 && mh.rr < 1.0 && mh.ci_high < 1.0 && mh.strata == 2,
        "crude RR {:.3} vs MH RR {:.3} [{:.3}, {:.3}] over {} strata",
        aside.effect,
        mh.rr,
        mh.ci_low,
        mh.ci_high,
        mh.strata
    );
    eprintln!(
        "simpson: crude {crude:?} RR {:.3}; MH RR {:.3} [{:.3}, {:.3}]; flags {:?}",
        aside.effect, mh.rr, mh.ci_low, mh.ci_high, aside.flags
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Immortal time
// ---------------------------------------------------------------------------------------------

/// Exponential with the given mean, by inversion (1 − u is in (0, 1]).
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -mean * (1.0 - u).ln()
}

const IMMORTAL_SEEDS: u64 = 200;
const IMMORTAL_N: usize = 600;
const LANDMARK_DAYS: f64 = 14.0;
const WINDOW_DAYS: f64 = 90.0;

/// Per unit: (loss time, exposure time) in days from T = 0; no effect of exposure on loss.
fn immortal_units(seed: u64) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..IMMORTAL_N)
        .map(|_| (exponential(&mut rng, 50.0), exponential(&mut rng, 30.0)))
        .collect()
}

fn table_of(units: impl Iterator<Item = (bool, bool)>) -> Table2x2 {
    let mut t = Table2x2::new(0, 0, 0, 0);
    for (x, y) in units {
        match (x, y) {
            (true, true) => t.a += 1,
            (true, false) => t.b += 1,
            (false, true) => t.c += 1,
            (false, false) => t.d += 1,
        }
    }
    t
}

/// The naive design: exposed = ever exposed before loss, outcome = lost within 90 days of T.
fn naive_units(units: &[(f64, f64)]) -> Vec<(bool, bool)> {
    units
        .iter()
        .map(|&(loss, exp)| (exp < loss, loss <= WINDOW_DAYS))
        .collect()
}

/// The landmark design: units still not lost at T + 14, exposed by T + 14, outcome = lost in
/// (T + 14, T + 14 + 90].
fn landmark_units(units: &[(f64, f64)]) -> Vec<(bool, bool)> {
    units
        .iter()
        .filter(|&&(loss, _)| loss > LANDMARK_DAYS)
        .map(|&(loss, exp)| (exp <= LANDMARK_DAYS, loss <= LANDMARK_DAYS + WINDOW_DAYS))
        .collect()
}

/// The units of a design as a dataset: `kept` holds (exposed, lost) per unit.
fn lost_dataset(kept: &[(bool, bool)], landmark: bool, excluded: usize) -> Dataset {
    let n = kept.len();
    let exposed: Vec<bool> = kept.iter().map(|u| u.0).collect();
    let lost: Vec<bool> = kept.iter().map(|u| u.1).collect();
    let mut pop = population(
        n,
        vec![selector(
            "competitor_mentioned",
            "competitor_mentioned",
            Phrase::Clause("with a competitor mentioned".to_owned()),
            &exposed,
        )],
        vec![],
        vec![outcome("lost", &lost)],
        vec![],
    );
    if landmark {
        pop.key = "reached:demo+14d".to_owned();
        pop.context = "14 days after Demo".to_owned();
        pop.landmark_days = 14;
        pop.exclusions.closed_before_landmark = excluded;
    }
    dataset(pop)
}

#[test]
fn immortal_time_bias_is_removed_by_the_landmark() {
    let z = z95();
    let (mut naive_excludes, mut landmark_covers) = (0, 0);
    let (mut mined_surfaced, mut naive_mined_surfaced) = (0, 0);
    let mut naive_rr = Vec::new();
    for seed in 0..IMMORTAL_SEEDS {
        let units = immortal_units(seed);
        let naive_kept = naive_units(&units);
        let naive = table_of(naive_kept.iter().copied())
            .relative_risk(z)
            .expect("both naive groups are populated");
        naive_rr.push(naive.rr);
        naive_excludes += usize::from(!naive.ci.contains(1.0));

        let kept = landmark_units(&units);
        let landmark = table_of(kept.iter().copied())
            .relative_risk(z)
            .expect("both landmark groups are populated");
        landmark_covers += usize::from(landmark.ci.contains(1.0));

        let run = mine(
            &lost_dataset(&kept, true, units.len() - kept.len()),
            &options(),
        );
        assert_eq!(run.tested, 1, "seed {seed}: one candidate, one outcome");
        mined_surfaced += usize::from(!run.patterns.is_empty());

        // For contrast, the engine fed the naive design (no landmark).
        let run = mine(&lost_dataset(&naive_kept, false, 0), &options());
        naive_mined_surfaced += usize::from(!run.patterns.is_empty());
    }
    let mean_naive = naive_rr.iter().sum::<f64>() / naive_rr.len() as f64;
    let seeds = IMMORTAL_SEEDS as usize;
    eprintln!(
        "immortal time over {seeds} seeds: naive CI excludes 1 in {naive_excludes} (mean RR \
         {mean_naive:.3}); landmark CI covers 1 in {landmark_covers}; mined landmark runs \
         surfaced a pattern in {mined_surfaced}; mined naive runs in {naive_mined_surfaced}"
    );
    assert!(
        naive_excludes * 10 >= seeds * 9,
        "the naive ever-exposed CI excluded 1 in {naive_excludes}/{seeds} seeds (want ≥ 90%; \
         mean RR {mean_naive:.3})"
    );
    assert!(
        landmark_covers * 10 >= seeds * 9,
        "the landmark CI covered 1 in {landmark_covers}/{seeds} seeds (want ≥ 90%)"
    );
    assert!(
        naive_mined_surfaced * 10 >= seeds * 9,
        "without the landmark the engine should be fooled: the naive design surfaced in \
         {naive_mined_surfaced}/{seeds} seeds (want ≥ 90%)"
    );
    assert!(
        mined_surfaced * 10 <= seeds,
        "mining the landmark units surfaced a pattern in {mined_surfaced}/{seeds} seeds (want ≤ 10%)"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Interaction (type C)
// ---------------------------------------------------------------------------------------------

const COMPETITOR: &str = "stage_mentioned:competitor";
const BUSINESS_CASE: &str = "mentioned:business_case";

fn interaction_dataset(seed: u64) -> Dataset {
    let n = 1_000;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let competitor = bools(&mut rng, n, 0.4);
    let anchored = bools(&mut rng, n, 0.4);
    let pressure: Vec<bool> = competitor
        .iter()
        .zip(&anchored)
        .map(|(&c, &a)| rng.random_bool(if c && !a { 0.25 * 2.25 } else { 0.25 }))
        .collect();
    dataset(population(
        n,
        vec![selector(
            COMPETITOR,
            COMPETITOR,
            Phrase::Clause("with a competitor mentioned".to_owned()),
            &competitor,
        )],
        vec![selector(
            BUSINESS_CASE,
            BUSINESS_CASE,
            Phrase::Clause("with a business case".to_owned()),
            &anchored,
        )],
        vec![outcome("discount_pressure", &pressure)],
        vec![],
    ))
}

#[test]
fn interaction_is_detected_and_surfaces_as_an_exception() {
    let seeds = 40u64;
    let options = Options {
        moderators: vec![ModeratorSpec {
            signal: BUSINESS_CASE.to_owned(),
            label: "a business case was anchored earlier".to_owned(),
            exposures: vec![COMPETITOR.into()],
        }],
        ..options()
    };
    let (mut significant, mut surfaced) = (0, 0);
    let mut misses = Vec::new();
    for seed in 0..seeds {
        let run: Run = mine(&interaction_dataset(2_000 + seed), &options);
        assert_eq!(run.tested_exceptions, 1, "seed {seed}: one type-C test");
        let test = run
            .tests
            .iter()
            .find(|t| t.kind == Kind::Exception)
            .expect("the type-C test");
        let (_, interaction) = test.interaction.as_ref().expect("its interaction");
        if interaction.p < 0.05 {
            significant += 1;
        } else {
            misses.push(format!(
                "seed {}: ρ {:.2}, p {:.3}",
                2_000 + seed,
                interaction.rho,
                interaction.p
            ));
        }
        let exception = run
            .patterns
            .iter()
            .find(|p| p.kind == Kind::Exception && p.condition == [COMPETITOR]);
        if let Some(p) = exception {
            surfaced += 1;
            let detail = p.exception.as_ref().expect("exception detail");
            assert_eq!(detail.moderator, BUSINESS_CASE);
            assert!(p.effect > 1.0 && detail.ratio > 1.0, "{p:#?}");
        }
    }
    eprintln!(
        "interaction over {seeds} seeds: p < 0.05 in {significant}, exception surfaced in \
         {surfaced}; misses {misses:?}"
    );
    assert!(
        significant * 10 >= seeds as usize * 8,
        "interaction p < 0.05 in {significant}/{seeds} seeds (want ≥ 80%); misses: {misses:?}"
    );
    // Not a spec threshold (measured 38/40): surfacing needs q ≤ 0.10 (m2 = 1, so q = p), a
    // material RR without the anchor, and the anchored stratum's CI including 1 (true RR 1.0,
    // so ≈ 95%); with power ≈ 0.975 at p < 0.05 that is ≈ 0.93, and 80% leaves binomial slack.
    assert!(
        surfaced * 10 >= seeds as usize * 8,
        "the exception surfaced in {surfaced}/{seeds} seeds (want ≥ 80%)"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn mining_is_identical_on_one_and_two_threads() {
    let data = demo_dataset(7, 0.60, 0.25);
    let one = mine(
        &data,
        &Options {
            threads: 1,
            ..Options::default()
        },
    );
    let two = mine(&data, &options());
    let summary = |run: &Run| -> Vec<(String, u64, u64)> {
        run.patterns
            .iter()
            .map(|p| (p.key.clone(), p.p.to_bits(), p.q.to_bits()))
            .collect()
    };
    assert!(
        !one.patterns.is_empty(),
        "the planted pattern should surface"
    );
    assert_eq!(
        summary(&one),
        summary(&two),
        "patterns differ by thread count"
    );
    let aside =
        |run: &Run| -> Vec<String> { run.set_aside.iter().map(|p| p.key.clone()).collect() };
    assert_eq!(aside(&one), aside(&two), "set-aside patterns differ");
    assert_eq!(
        (one.tested, one.tested_exceptions),
        (two.tested, two.tested_exceptions)
    );
    let tests = |run: &Run| -> Vec<(Vec<usize>, u64, u64)> {
        run.tests
            .iter()
            .map(|t| (t.condition.clone(), t.p.to_bits(), t.q.to_bits()))
            .collect()
    };
    assert_eq!(tests(&one), tests(&two), "tests differ in order or value");
    assert_eq!(
        one.patterns, two.patterns,
        "patterns differ in a field beyond key, p and q"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Properties not already covered by the unit tests in src/patterns
//
// Already covered there: Fisher p ∈ [0, 1], RR CI ∋ RR, RD CI ∋ RD and Wilson ⊆ [0, 1]
// (`table.rs`, `statistics_stay_in_range`); BH q ≥ p, q ≤ 1 and order preserved (`multiple.rs`,
// `q_is_monotone_and_bounded`); leakage invariance of `slipped` (`outcomes.rs`).
// ---------------------------------------------------------------------------------------------

fn close(x: f64, y: f64) -> bool {
    x == y || ((x - y) / y).abs() <= 1e-9
}

proptest! {
    // Integration tests have no lib.rs beside them, so name the regression file outright:
    // `tests/patterns_acceptance.proptest-regressions`.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    /// Fisher's p is strictly positive, at most 1, and the same when the rows, the columns or
    /// both are swapped, or the table is transposed.
    #[test]
    fn fisher_p_is_positive_and_invariant_to_swaps(
        a in 0u64..150, b in 0u64..150, c in 0u64..150, d in 0u64..150,
    ) {
        let t = Table2x2::new(a, b, c, d);
        let p = t.fisher_p();
        prop_assert!(p > 0.0 && p <= 1.0, "{t:?}: p = {p}");
        for (what, other) in [
            ("rows swapped", Table2x2::new(c, d, a, b)),
            ("columns swapped", Table2x2::new(b, a, d, c)),
            ("both swapped", Table2x2::new(d, c, b, a)),
            ("transposed", Table2x2::new(a, c, b, d)),
        ] {
            let q = other.fisher_p();
            prop_assert!(close(q, p), "{t:?} {what}: {q} vs {p}");
        }
    }

    /// The Wilson interval lies in [0, 1] and contains x/n.
    #[test]
    fn wilson_lies_in_the_unit_interval_and_contains_the_estimate(
        n in 1u64..5_000, share in 0.0f64..=1.0,
    ) {
        let x = ((n as f64) * share).round() as u64;
        let w = wilson(x, n, z95());
        let p = x as f64 / n as f64;
        prop_assert!(0.0 <= w.low && w.low <= w.high && w.high <= 1.0, "{x}/{n}: {w:?}");
        prop_assert!(w.low <= p && p <= w.high, "{x}/{n} = {p} outside {w:?}");
    }

    /// The Katz interval contains the RR on large tables too (the unit test stops at 60 a cell).
    #[test]
    fn rr_interval_contains_rr_on_large_tables(
        a in 0u64..5_000, b in 0u64..5_000, c in 0u64..5_000, d in 0u64..5_000,
    ) {
        let t = Table2x2::new(a, b, c, d);
        if let Some(rr) = t.relative_risk(z95()) {
            prop_assert!(rr.ci.low <= rr.rr && rr.rr <= rr.ci.high, "{t:?}: {rr:?}");
        }
    }

    /// Kaplan–Meier S is non-increasing and in [0, 1], its interval (when defined) contains it,
    /// and the index's fit of a subset equals the direct fit of that subset.
    #[test]
    fn kaplan_meier_is_non_increasing_in_the_unit_interval(
        units in proptest::collection::vec((0u32..200, any::<bool>(), any::<bool>()), 1..120),
    ) {
        let durations: Vec<u32> = units.iter().map(|u| u.0).collect();
        let events: Vec<bool> = units.iter().map(|u| u.1).collect();
        let km = KaplanMeier::fit(&Group::new(&durations, &events).expect("non-empty"));
        let mut last = 1.0_f64;
        for step in km.steps() {
            prop_assert!((0.0..=1.0).contains(&step.survival), "{step:?}");
            prop_assert!(step.survival <= last, "S rose to {} after {last}", step.survival);
            if let Some(ci) = step.ci {
                prop_assert!(
                    0.0 <= ci.lower && ci.lower <= step.survival && step.survival <= ci.upper
                        && ci.upper <= 1.0,
                    "{step:?}"
                );
            }
            last = step.survival;
        }
        let mut last = 1.0_f64;
        for t in 0..=200 {
            let s = km.survival_at(t);
            prop_assert!((0.0..=1.0).contains(&s) && s <= last, "S({t}) = {s} after {last}");
            last = s;
        }
        // A subset through the index, the same subset directly.
        let index = SurvivalIndex::new(durations.clone(), events.clone()).expect("same lengths");
        let member = |i: usize| units[i].2;
        let (sub_d, sub_e): (Vec<u32>, Vec<bool>) =
            (0..units.len()).filter(|&i| member(i)).map(|i| (durations[i], events[i])).unzip();
        let via_index = index.kaplan_meier(member);
        let direct = Group::new(&sub_d, &sub_e).ok().map(|g| KaplanMeier::fit(&g));
        prop_assert_eq!(via_index, direct);
    }
}
