//! The mining run (spec §5.2–5.11): every candidate that passes the outcome-independent
//! support gates is tested and counted in m, q-values are computed over the whole family, and
//! only then are the surfacing rule, the productive and redundancy filters, the confounding
//! check and replication applied to what passed. Counting is by bitset intersection, in
//! parallel over candidates; no query per candidate.

use super::cover::{self, Cover};
use super::dataset::{Dataset, Phrase, Population, Selector};
use super::multiple::{FdrMethod, q_values};
use super::strata::{
    ConfoundingFlags, Interaction, Stratum, interaction_test, katz_rr, mantel_haenszel_rr,
};
use super::survival::{KaplanMeier, LogRank};
use super::table::Table2x2;
use super::{surface, z95};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The outcome name of the survival analysis.
pub const DECAY: &str = "decay";

/// Outcome-independent support gates (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    /// Units in the population.
    pub population: u64,
    /// Exposed units (n1) and unexposed units (n0).
    pub group: u64,
    /// Events and non-events in the population (a family-level margin).
    pub margin: u64,
    /// Units in each of the four exposure × moderator cells (type C).
    pub cell: u64,
    /// Units per group (type D).
    pub survival_group: u64,
    /// Events in total (type D).
    pub survival_events: u64,
}

impl Default for Support {
    fn default() -> Self {
        Support {
            population: 60,
            group: 20,
            margin: 10,
            cell: 15,
            survival_group: 20,
            survival_events: 10,
        }
    }
}

/// An a-priori exception hypothesis (type C, §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratorSpec {
    /// The moderating selector's name.
    pub signal: String,
    /// How the exception reads after "unless".
    pub label: String,
    /// Exposures it is tested against (empty: every selector).
    pub exposures: Vec<String>,
}

/// What to mine and how strictly.
#[derive(Debug, Clone)]
pub struct Options {
    /// The FDR patterns are surfaced at.
    pub fdr: f64,
    /// BH (default) or BY.
    pub method: FdrMethod,
    /// Support gates.
    pub support: Support,
    /// 1 or 2: the longest conjunction tested.
    pub depth: u8,
    /// Only this outcome, if set.
    pub outcome: Option<String>,
    /// Only populations about this stage (id or label, any case), if set.
    pub stage: Option<String>,
    /// Exception hypotheses.
    pub moderators: Vec<ModeratorSpec>,
    /// Worker threads.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fdr: surface::DEFAULT_FDR,
            method: FdrMethod::BenjaminiHochberg,
            support: Support::default(),
            depth: 2,
            outcome: None,
            stage: None,
            moderators: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The pattern types of §5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A: X vs ¬X within a stage population.
    Risk,
    /// B: X vs ¬X within a stage population restricted to a segment.
    Segment,
    /// C: an exposure whose effect vanishes under a moderator.
    Exception,
    /// D: time to decay, X vs ¬X.
    Survival,
}

impl Kind {
    /// The name used in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Risk => "risk",
            Kind::Segment => "segment",
            Kind::Exception => "exception",
            Kind::Survival => "survival",
        }
    }
}

/// One test of the run: a candidate that passed support.
#[derive(Debug, Clone)]
pub struct Test {
    /// Its type.
    pub kind: Kind,
    /// Population index.
    pub population: usize,
    /// For type B, the segment selector restricting the population.
    pub segment: Option<usize>,
    /// Binary outcome index; `None` for `decay`.
    pub outcome: Option<usize>,
    /// Selector indices (one or two).
    pub condition: Vec<usize>,
    /// For type C: index into the options' moderators.
    pub moderator: Option<usize>,
    /// The table (type D: a = exposed events, b = exposed censored, c, d likewise; type C: the
    /// main stratum, without the moderator).
    pub table: Table2x2,
    /// The test's p-value.
    pub p: f64,
    /// Its q-value within its family.
    pub q: f64,
    /// Type D: the log-rank test.
    pub log_rank: Option<LogRank>,
    /// Type C: the stratum with the moderator and the interaction test.
    pub interaction: Option<(Table2x2, Interaction)>,
    /// Depth 2: within each parent (condition order), the Fisher p of the other selector
    /// against its absence and whether its effect is on the pattern's side of 1.
    pub within: Option<[(f64, bool); 2]>,
    /// Depth 2: passed the productive test (always true at depth 1).
    pub productive: bool,
}

/// A candidate that failed support and so was neither tested nor counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Insufficient {
    /// Population key.
    pub population: String,
    /// Outcome.
    pub outcome: String,
    /// Selector name.
    pub condition: String,
    /// Which gate failed.
    pub reason: String,
}

/// A population as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PopulationRef {
    /// Stable key.
    pub key: String,
    /// Stage id.
    pub stage: String,
    /// How the context reads.
    pub context: String,
    /// Landmark in days.
    pub landmark_days: i64,
    /// The segment restriction (type B).
    pub segment: Option<String>,
}

/// A Mantel–Haenszel check against one confounder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfounderCheck {
    /// The confounder.
    pub confounder: String,
    /// RR_MH.
    pub rr: f64,
    /// Its 95% interval.
    pub ci_low: f64,
    /// Its 95% interval.
    pub ci_high: f64,
    /// Strata used.
    pub strata: usize,
}

/// A survival curve as steps (day, S).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// Units.
    pub units: u64,
    /// Events.
    pub events: u64,
    /// Median days to decay, if reached.
    pub median: Option<u32>,
    /// (day, survival) after each event time, starting at (0, 1).
    pub steps: Vec<(u32, f64)>,
}

/// The type-C detail: the stratum with the moderator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionDetail {
    /// The moderator selector.
    pub moderator: String,
    /// How it reads.
    pub label: String,
    /// RR with the moderator.
    pub effect: f64,
    /// Its interval.
    pub ci_low: f64,
    /// Its interval.
    pub ci_high: f64,
    /// Counts with the moderator.
    pub n_exposed: u64,
    /// Counts with the moderator.
    pub n_unexposed: u64,
    /// Counts with the moderator.
    pub events_exposed: u64,
    /// Counts with the moderator.
    pub events_unexposed: u64,
    /// ρ = RR without / RR with, and its interval.
    pub ratio: f64,
    /// ρ's interval.
    pub ratio_low: f64,
    /// ρ's interval.
    pub ratio_high: f64,
}

/// A surfaced (or set-aside) pattern, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    /// A stable key: kind, population, outcome and condition.
    pub key: String,
    /// risk | segment | exception | survival.
    pub kind: Kind,
    /// The outcome.
    pub outcome: String,
    /// The population.
    pub population: PopulationRef,
    /// Selector names.
    pub condition: Vec<String>,
    /// The plain sentence.
    pub sentence: String,
    /// Exposed units.
    pub n_exposed: u64,
    /// Unexposed units.
    pub n_unexposed: u64,
    /// Events among the exposed.
    pub events_exposed: u64,
    /// Events among the unexposed.
    pub events_unexposed: u64,
    /// RR (HR for survival).
    pub effect: f64,
    /// 95% interval.
    pub ci_low: f64,
    /// 95% interval.
    pub ci_high: f64,
    /// Haldane–Anscombe corrected ("†").
    pub corrected: bool,
    /// Risk difference and its Newcombe interval (types A–C).
    pub rd: Option<[f64; 3]>,
    /// p-value.
    pub p: f64,
    /// q-value within its family.
    pub q: f64,
    /// strong | moderate | weak.
    pub tier: String,
    /// simpson_reversal, not_robust:Z, partly_explained:Z, concentrated:owner|account,
    /// redundant, replicated, not_replicated, approx (Peto).
    pub flags: Vec<String>,
    /// Ranking score (the conservative end of the interval, log scale).
    pub score: f64,
    /// The deals behind the figure: the exposed units.
    pub deal_ids: Vec<String>,
    /// Those of `deal_ids` that had the outcome (for survival: that decayed), so a reader can
    /// go from the count to the deals it counts.
    pub event_deal_ids: Vec<String>,
    /// Confounder checks.
    pub confounders: Vec<ConfounderCheck>,
    /// Type C.
    pub exception: Option<ExceptionDetail>,
    /// Type D: exposed and unexposed curves.
    pub survival: Option<[Curve; 2]>,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// m1: tests in family 1 (types A, B, D).
    pub tested: usize,
    /// m2: tests in family 2 (type C).
    pub tested_exceptions: usize,
    /// Every test, families 1 and 2.
    pub tests: Vec<Test>,
    /// Surfaced patterns, ranked.
    pub patterns: Vec<Pattern>,
    /// Patterns that passed the surfacing rule but were set aside (Simpson reversal,
    /// redundant), with the flag saying why.
    pub set_aside: Vec<Pattern>,
    /// Depth-1 candidates that failed support.
    pub insufficient: Vec<Insufficient>,
    /// All candidates that failed support, at any depth.
    pub insufficient_count: usize,
}

/// Units of `a ∧ b ∧ c`.
fn count3(a: &Cover, b: &Cover, c: &Cover) -> u64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .zip(c.as_slice())
        .map(|((x, y), z)| u64::from((x & y & z).count_ones()))
        .sum()
}

/// Units of `a ∧ b`.
fn count2(a: &Cover, b: &Cover) -> u64 {
    a.intersection_count(b) as u64
}

/// A unit of parallel work: one population's candidates from one first selector.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// Depth 1 and 2 (type A) from selector `first`.
    Risk { population: usize, first: usize },
    /// Type B within segment selector `segment`.
    Segment { population: usize, segment: usize },
    /// Type D for every selector.
    Survival { population: usize },
    /// Type C for one moderator.
    Exception { population: usize, moderator: usize },
}

/// What a job returns.
#[derive(Default)]
struct Found {
    tests: Vec<Test>,
    insufficient: Vec<Insufficient>,
    insufficient_count: usize,
}

/// One outcome within a population: P ∧ Y, its event count K and the margin gate.
struct PreparedOutcome {
    /// Index into the population's outcomes.
    index: usize,
    /// Eligible units with the event.
    cover: Cover,
    /// K.
    events: u64,
    /// Which family-level gate fails, if one does.
    gate: Option<&'static str>,
}

/// Per population: the eligible cover, and per outcome P ∧ Y with its margin check.
struct Prepared {
    keep: bool,
    outcomes: Vec<PreparedOutcome>,
    n: u64,
    /// Per selector: units in the eligible population, and per prepared outcome its events
    /// there — the margins of the productive test's sub-tables.
    single: Vec<(u64, Vec<u64>)>,
}

fn prepare(pop: &Population, options: &Options) -> Prepared {
    let keep = options.stage.as_deref().is_none_or(|s| {
        pop.stage.eq_ignore_ascii_case(s) || pop.context.to_lowercase().contains(&s.to_lowercase())
    });
    let n = pop.eligible.count_ones(..) as u64;
    let s = options.support;
    let outcomes: Vec<PreparedOutcome> = pop
        .outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| options.outcome.as_deref().is_none_or(|want| want == o.name))
        .map(|(i, o)| {
            let cover = cover::both(&o.cover, &pop.eligible);
            let events = cover.count_ones(..) as u64;
            let gate = if n < s.population {
                Some("population")
            } else if events < s.margin || n - events < s.margin {
                Some("outcome margin")
            } else {
                None
            };
            PreparedOutcome {
                index: i,
                cover,
                events,
                gate,
            }
        })
        .collect();
    let single = pop
        .selectors
        .iter()
        .map(|sel| {
            let units = count2(&sel.cover, &pop.eligible);
            let events = outcomes
                .iter()
                .map(|o| count2(&sel.cover, &o.cover))
                .collect();
            (units, events)
        })
        .collect();
    Prepared {
        keep,
        outcomes,
        n,
        single,
    }
}

/// Mines `data` (spec §5). Deterministic: the same data and options give the same run,
/// whatever the thread count.
pub fn mine(data: &Dataset, options: &Options) -> Run {
    let prepared: Vec<Prepared> = data
        .populations
        .iter()
        .map(|p| prepare(p, options))
        .collect();
    let mut jobs = Vec::new();
    for (pi, pop) in data.populations.iter().enumerate() {
        if !prepared[pi].keep {
            continue;
        }
        for first in 0..pop.selectors.len() {
            jobs.push(Job::Risk {
                population: pi,
                first,
            });
        }
        for &segment in &pop.segments {
            jobs.push(Job::Segment {
                population: pi,
                segment,
            });
        }
        if pop.follow.is_some() && options.outcome.as_deref().is_none_or(|o| o == DECAY) {
            jobs.push(Job::Survival { population: pi });
        }
        for moderator in 0..options.moderators.len() {
            jobs.push(Job::Exception {
                population: pi,
                moderator,
            });
        }
    }
    let results = run_jobs(&jobs, options.threads.max(1), |job| match *job {
        Job::Risk { population, first } => risk_job(
            &data.populations[population],
            population,
            &prepared[population],
            first,
            options,
        ),
        Job::Segment {
            population,
            segment,
        } => segment_job(
            &data.populations[population],
            population,
            &prepared[population],
            segment,
            options,
        ),
        Job::Survival { population } => {
            survival_job(&data.populations[population], population, options)
        }
        Job::Exception {
            population,
            moderator,
        } => exception_job(
            &data.populations[population],
            population,
            &prepared[population],
            moderator,
            options,
        ),
    });

    let mut run = Run::default();
    for found in results {
        run.tests.extend(found.tests);
        run.insufficient.extend(found.insufficient);
        run.insufficient_count += found.insufficient_count;
    }
    judge_productive(&mut run.tests);
    let family = |t: &Test| t.kind == Kind::Exception;
    for exceptions in [false, true] {
        let members: Vec<usize> = (0..run.tests.len())
            .filter(|&i| family(&run.tests[i]) == exceptions)
            .collect();
        // An unproductive refinement still counts in m but enters the correction with p = 1:
        // raising p-values can only remove rejections, so the FDR guarantee holds, and its
        // inherited significance no longer lowers the bar for every other test.
        let p: Vec<f64> = members
            .iter()
            .map(|&i| {
                if run.tests[i].productive {
                    run.tests[i].p
                } else {
                    1.0
                }
            })
            .collect();
        for (&i, q) in members.iter().zip(q_values(&p, options.method)) {
            run.tests[i].q = q;
        }
        if exceptions {
            run.tested_exceptions = members.len();
        } else {
            run.tested = members.len();
        }
    }
    surface_run(data, options, &mut run);
    run
}

/// Webb's productive filter (§5.6), applied before the correction. Each sub-test must be
/// significant at 0.05 / k, where k is how many tested refinements share that parent in the
/// same population and outcome: with twenty null refinements of one real parent, an
/// uncorrected 0.05 lets one through every other run (measured: 26 null refinements surfaced
/// over 50 planted runs; with this rule, 3).
fn judge_productive(tests: &mut [Test]) {
    let mut refinements: HashMap<(usize, Option<usize>, usize), usize> = HashMap::new();
    for t in tests.iter().filter(|t| t.within.is_some()) {
        for &s in &t.condition {
            *refinements.entry((t.population, t.outcome, s)).or_default() += 1;
        }
    }
    for t in tests.iter_mut() {
        let Some(within) = t.within else { continue };
        t.productive = t.condition.iter().zip(within).all(|(&s, (p, same_side))| {
            let k = refinements
                .get(&(t.population, t.outcome, s))
                .copied()
                .unwrap_or(1)
                .max(1);
            same_side && p < 0.05 / k as f64
        });
    }
}

/// Runs `work` over `jobs` on `threads` threads, results in job order.
fn run_jobs<J: Sync, F>(jobs: &[J], threads: usize, work: F) -> Vec<Found>
where
    F: Fn(&J) -> Found + Sync,
{
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Found>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let found = work(job);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(found);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().ok().flatten().unwrap_or_default())
        .collect()
}

fn binary_test(
    kind: Kind,
    population: usize,
    outcome: usize,
    condition: Vec<usize>,
    table: Table2x2,
) -> Test {
    Test {
        kind,
        population,
        segment: None,
        outcome: Some(outcome),
        condition,
        moderator: None,
        p: table.fisher_p(),
        table,
        q: 1.0,
        log_rank: None,
        interaction: None,
        within: None,
        productive: true,
    }
}

fn risk_job(
    pop: &Population,
    pi: usize,
    prep: &Prepared,
    first: usize,
    options: &Options,
) -> Found {
    let mut found = Found::default();
    let s = options.support;
    let eligible = &pop.eligible;
    let a_sel = &pop.selectors[first];
    let n = prep.n;
    let group_ok = |n1: u64| n1 >= s.group && n.saturating_sub(n1) >= s.group;
    // Depth 1: the counts were taken once per selector in `prepare`.
    let n1 = prep.single[first].0;
    for (slot, o) in prep.outcomes.iter().enumerate() {
        let name = &pop.outcomes[o.index].name;
        let reason = o
            .gate
            .or((!group_ok(n1)).then_some("exposed or unexposed group"));
        if let Some(reason) = reason {
            found.insufficient_count += 1;
            found.insufficient.push(Insufficient {
                population: pop.key.clone(),
                outcome: name.clone(),
                condition: a_sel.name.clone(),
                reason: reason.to_owned(),
            });
            continue;
        }
        let (a, k) = (prep.single[first].1[slot], o.events);
        let table = Table2x2::new(a, n1 - a, k - a, (n - n1) - (k - a));
        found
            .tests
            .push(binary_test(Kind::Risk, pi, o.index, vec![first], table));
    }
    if options.depth < 2 {
        return found;
    }
    for second in first + 1..pop.selectors.len() {
        let b_sel = &pop.selectors[second];
        if b_sel.attribute == a_sel.attribute {
            continue;
        }
        let n1 = count3(&a_sel.cover, &b_sel.cover, eligible);
        for (slot, o) in prep.outcomes.iter().enumerate() {
            if o.gate.is_some() || !group_ok(n1) {
                found.insufficient_count += 1;
                continue;
            }
            let (a, k) = (count3(&a_sel.cover, &b_sel.cover, &o.cover), o.events);
            let table = Table2x2::new(a, n1 - a, k - a, (n - n1) - (k - a));
            // Webb's productive test, from counts already at hand: within each parent, the
            // other selector against its absence.
            let risk = table.p1() > table.p0();
            let within = |parent: usize| {
                let (units, events) = (prep.single[parent].0, prep.single[parent].1[slot]);
                let t = Table2x2::new(a, n1 - a, events - a, (units - n1) - (events - a));
                let same_side = t.n0() > 0 && (t.p1() > t.p0()) == risk && t.p1() != t.p0();
                (t.fisher_p(), same_side)
            };
            let mut test = binary_test(Kind::Risk, pi, o.index, vec![first, second], table);
            test.within = Some([within(first), within(second)]);
            found.tests.push(test);
        }
    }
    found
}

fn segment_job(
    pop: &Population,
    pi: usize,
    prep: &Prepared,
    segment: usize,
    options: &Options,
) -> Found {
    let mut found = Found::default();
    let s = options.support;
    let g = &pop.selectors[segment];
    let within = cover::both(&g.cover, &pop.eligible);
    let n = within.count_ones(..) as u64;
    for o in &prep.outcomes {
        let pyg = cover::both(&o.cover, &g.cover);
        let k = pyg.count_ones(..) as u64;
        let margin_ok = n >= s.population && k >= s.margin && n - k >= s.margin;
        for (si, sel) in pop.selectors.iter().enumerate() {
            if sel.attribute == g.attribute {
                continue;
            }
            let n1 = count2(&sel.cover, &within);
            if !margin_ok || n1 < s.group || n - n1 < s.group {
                found.insufficient_count += 1;
                continue;
            }
            let a = count2(&sel.cover, &pyg);
            let table = Table2x2::new(a, n1 - a, k - a, (n - n1) - (k - a));
            let mut test = binary_test(Kind::Segment, pi, o.index, vec![si], table);
            test.segment = Some(segment);
            found.tests.push(test);
        }
    }
    found
}

fn survival_job(pop: &Population, pi: usize, options: &Options) -> Found {
    let mut found = Found::default();
    let Some(follow) = &pop.follow else {
        return found;
    };
    let s = options.support;
    for (si, sel) in pop.selectors.iter().enumerate() {
        let exposed = |i: usize| sel.cover.contains(i);
        let c = follow.index.counts(|_| true, exposed);
        let ok = c.exposed >= s.survival_group
            && c.units - c.exposed >= s.survival_group
            && c.events >= s.survival_events;
        if !ok {
            found.insufficient_count += 1;
            found.insufficient.push(Insufficient {
                population: pop.key.clone(),
                outcome: DECAY.to_owned(),
                condition: sel.name.clone(),
                reason: "survival groups or events".to_owned(),
            });
            continue;
        }
        let Ok(lr) = follow.index.log_rank(|_| true, exposed) else {
            found.insufficient_count += 1;
            continue;
        };
        let table = Table2x2::new(
            c.exposed_events,
            c.exposed - c.exposed_events,
            c.events - c.exposed_events,
            (c.units - c.exposed) - (c.events - c.exposed_events),
        );
        found.tests.push(Test {
            kind: Kind::Survival,
            population: pi,
            segment: None,
            outcome: None,
            condition: vec![si],
            moderator: None,
            table,
            p: lr.p,
            q: 1.0,
            log_rank: Some(lr),
            interaction: None,
            within: None,
            productive: true,
        });
    }
    found
}

fn exception_job(
    pop: &Population,
    pi: usize,
    prep: &Prepared,
    mi: usize,
    options: &Options,
) -> Found {
    let mut found = Found::default();
    let spec = &options.moderators[mi];
    let Some(m) = pop.selector(&spec.signal) else {
        return found;
    };
    let s = options.support;
    let with_m = cover::both(&m.cover, &pop.eligible);
    let mut without_m = pop.eligible.clone();
    without_m.difference_with(&m.cover);
    let (with_m_units, without_m_units) = (
        with_m.count_ones(..) as u64,
        without_m.count_ones(..) as u64,
    );
    for (si, e) in pop.selectors.iter().enumerate() {
        if e.attribute == m.attribute
            || (!spec.exposures.is_empty() && !spec.exposures.contains(&e.name))
        {
            continue;
        }
        let (exposed_with, exposed_without) =
            (count2(&e.cover, &with_m), count2(&e.cover, &without_m));
        let cells = [
            exposed_with,
            with_m_units - exposed_with,
            exposed_without,
            without_m_units - exposed_without,
        ];
        for o in &prep.outcomes {
            if o.gate.is_some() || cells.iter().any(|&c| c < s.cell) {
                found.insufficient_count += 1;
                continue;
            }
            let main = cover::table(&e.cover, &o.cover, &without_m);
            let other = cover::table(&e.cover, &o.cover, &with_m);
            let Ok(test) = interaction_test(stratum(&main), stratum(&other)) else {
                found.insufficient_count += 1;
                continue;
            };
            found.tests.push(Test {
                kind: Kind::Exception,
                population: pi,
                segment: None,
                outcome: Some(o.index),
                condition: vec![si],
                moderator: Some(mi),
                table: main,
                p: test.p,
                q: 1.0,
                log_rank: None,
                interaction: Some((other, test)),
                within: None,
                productive: true,
            });
        }
    }
    found
}

fn stratum(t: &Table2x2) -> Stratum {
    Stratum::new(t.a, t.b, t.c, t.d)
}

/// The population cover a test's table was computed within.
fn test_population(pop: &Population, test: &Test) -> Cover {
    match test.segment {
        Some(g) => cover::both(&pop.eligible, &pop.selectors[g].cover),
        None => pop.eligible.clone(),
    }
}

/// The exposed cover of a test.
fn exposed_cover(pop: &Population, test: &Test) -> Cover {
    let mut c = pop.selectors[test.condition[0]].cover.clone();
    for &s in &test.condition[1..] {
        c.intersect_with(&pop.selectors[s].cover);
    }
    c
}

/// How an outcome reads: (verb phrase, comparison).
fn outcome_words(name: &str) -> (&'static str, &'static str) {
    match name {
        "slipped" => ("slipped", "as often"),
        "won" => ("were won", "as often"),
        "lost" => ("were lost", "as often"),
        "discount_pressure" => ("met discount pressure", "as often"),
        "stalled" => (
            "stalled (21 days without a two-way conversation)",
            "as often",
        ),
        DECAY => ("went stale or were lost", "as fast"),
        _ => ("had the outcome", "as often"),
    }
}

/// "Single-threaded deals with the CTO engaged".
pub fn subject(selectors: &[&Selector]) -> String {
    let mut adjectives = Vec::new();
    let mut clauses = Vec::new();
    for s in selectors {
        match &s.phrase {
            Phrase::Adjective(a) => adjectives.push(a.as_str()),
            Phrase::Clause(c) => clauses.push(c.as_str()),
        }
    }
    let mut out = String::new();
    for a in adjectives {
        out.push_str(a);
        out.push(' ');
    }
    out.push_str("deals");
    if !clauses.is_empty() {
        out.push(' ');
        out.push_str(&clauses.join(" and "));
    }
    capitalise(&out)
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn ratio_text(x: f64) -> String {
    if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn q_text(q: f64) -> String {
    if q < 0.001 {
        "q < 0.001".to_owned()
    } else {
        format!("q = {q:.3}")
    }
}

fn percent(x: u64, n: u64) -> String {
    if n == 0 {
        "–".to_owned()
    } else {
        format!("{:.0}%", 100.0 * x as f64 / n as f64)
    }
}

/// Applies §5.5–5.11 to the tested candidates.
fn surface_run(data: &Dataset, options: &Options, run: &mut Run) {
    let z = z95();
    let mut late = LateCache::default();
    let mut candidates: Vec<(Pattern, Cover)> = Vec::new();
    let mut set_aside = Vec::new();
    for test in &run.tests {
        if test.q > options.fdr {
            continue;
        }
        let pop = &data.populations[test.population];
        let made = match test.kind {
            Kind::Risk | Kind::Segment => risk_pattern(pop, test, run.tested, options, &mut late),
            Kind::Survival => survival_pattern(pop, test, run.tested),
            Kind::Exception => exception_pattern(pop, test, run.tested_exceptions, options, z),
        };
        let Some((pattern, exposed)) = made else {
            continue;
        };
        if pattern.flags.iter().any(|f| f == "simpson_reversal") {
            set_aside.push(pattern);
        } else {
            candidates.push((pattern, exposed));
        }
    }
    candidates.sort_by(|a, b| rank_cmp(&a.0, &b.0));
    // Cover redundancy (§5.6): within the same population, segment and outcome, a pattern
    // whose exposed units overlap a better-ranked one's by Jaccard ≥ 0.8 is set aside.
    let mut kept: Vec<(Pattern, Cover)> = Vec::new();
    for (mut pattern, exposed) in candidates {
        let redundant = kept.iter().any(|(better, cover)| {
            better.population == pattern.population
                && better.outcome == pattern.outcome
                && better.kind == pattern.kind
                && cover::jaccard(&exposed, cover) >= cover::REDUNDANT_JACCARD
        });
        if redundant {
            pattern.flags.push("redundant".to_owned());
            set_aside.push(pattern);
        } else {
            kept.push((pattern, exposed));
        }
    }
    run.patterns = kept.into_iter().map(|(p, _)| p).collect();
    set_aside.sort_by(rank_cmp);
    run.set_aside = set_aside;
}

/// §5.11's order: score, then q, then n1 descending, then the description.
fn rank_cmp(a: &Pattern, b: &Pattern) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then(a.q.total_cmp(&b.q))
        .then(b.n_exposed.cmp(&a.n_exposed))
        .then(a.sentence.len().cmp(&b.sentence.len()))
        .then(a.sentence.cmp(&b.sentence))
}

fn population_ref(pop: &Population, segment: Option<&Selector>) -> PopulationRef {
    PopulationRef {
        key: pop.key.clone(),
        stage: pop.stage.clone(),
        context: pop.context.clone(),
        landmark_days: pop.landmark_days,
        segment: segment.map(|s| s.name.clone()),
    }
}

fn deal_ids(pop: &Population, exposed: &Cover, within: &Cover) -> Vec<String> {
    cover::both(exposed, within)
        .ones()
        .filter_map(|i| pop.deal_ids.get(i).cloned())
        .collect()
}

/// The units whose event flag is set.
fn cover_of_events(events: &[bool]) -> Cover {
    let mut c = Cover::with_capacity(events.len());
    c.extend(
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| **e)
            .map(|(i, _)| i),
    );
    c
}

fn pattern_key(kind: Kind, pop: &PopulationRef, outcome: &str, condition: &[String]) -> String {
    let segment = pop
        .segment
        .as_deref()
        .map(|s| format!("[{s}]"))
        .unwrap_or_default();
    format!(
        "{}:{}{segment}:{outcome}:{}",
        kind.as_str(),
        pop.key,
        condition.join("&")
    )
}

/// The latest 30% of each (population, segment) by index time, for the replication badge:
/// the same for every pattern there, so computed once, and only when a pattern needs it.
#[derive(Default)]
struct LateCache(HashMap<(usize, Option<usize>), Cover>);

impl LateCache {
    fn get(&mut self, pop: &Population, test: &Test, within: &Cover) -> &Cover {
        self.0
            .entry((test.population, test.segment))
            .or_insert_with(|| cover::latest_share(within, &pop.index_times, 0.3))
    }
}

fn risk_pattern(
    pop: &Population,
    test: &Test,
    tested: usize,
    options: &Options,
    late: &mut LateCache,
) -> Option<(Pattern, Cover)> {
    let z = z95();
    let table = test.table;
    let rr = table.relative_risk(z)?;
    let rd = table.risk_difference(z)?;
    if !surface::surfaces(test.q, options.fdr, &rr, rd.rd) {
        return None;
    }
    let within = test_population(pop, test);
    let outcome = &pop.outcomes[test.outcome?];
    if !test.productive {
        return None;
    }
    let exposed = exposed_cover(pop, test);
    let mut flags = Vec::new();
    let mut robust = true;
    let mut checks = Vec::new();
    let units: Vec<usize> = within.ones().collect();
    let own_attributes: Vec<&str> = test
        .condition
        .iter()
        .chain(test.segment.iter())
        .map(|&s| pop.selectors[s].attribute.as_str())
        .collect();
    for z_var in &pop.confounders {
        if own_attributes.contains(&z_var.name.as_str()) {
            continue;
        }
        let mut strata: BTreeMap<u32, [u64; 4]> = BTreeMap::new();
        for &i in &units {
            let cell = match (exposed.contains(i), outcome.cover.contains(i)) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            strata.entry(z_var.strata[i]).or_default()[cell] += 1;
        }
        let strata: Vec<Stratum> = strata
            .values()
            .map(|c| Stratum::new(c[0], c[1], c[2], c[3]))
            .collect();
        let Ok(mh) = mantel_haenszel_rr(&strata) else {
            continue;
        };
        let f = ConfoundingFlags::assess(rr.rr, &mh);
        if f.reversal {
            flags.push("simpson_reversal".to_owned());
            flags.push(format!("reversed_by:{}", z_var.name));
        }
        if f.not_robust {
            robust = false;
            flags.push(format!("not_robust:{}", z_var.name));
        }
        if f.partly_explained {
            flags.push(format!("partly_explained:{}", z_var.name));
        }
        checks.push(ConfounderCheck {
            confounder: z_var.name.clone(),
            rr: mh.rr,
            ci_low: mh.lower,
            ci_high: mh.upper,
            strata: mh.strata_used,
        });
    }
    if let Some(who) = concentrated(pop, &exposed, &outcome.cover, &within) {
        flags.push(format!("concentrated:{who}"));
    }
    let late = late.get(pop, test, &within);
    let replicated = cover::replicated(&exposed, &outcome.cover, &within, late);
    match replicated {
        Some(true) => flags.push("replicated".to_owned()),
        Some(false) => flags.push("not_replicated".to_owned()),
        None => {}
    }
    let tier = surface::tier(test.q, table.n1(), replicated == Some(true), robust);
    let selectors: Vec<&Selector> = test.condition.iter().map(|&s| &pop.selectors[s]).collect();
    let segment = test.segment.map(|g| &pop.selectors[g]);
    let context = match segment {
        Some(g) => format!("{}, among deals {}", pop.context, clause_of(g)),
        None => pop.context.clone(),
    };
    let (verb, _) = outcome_words(&outcome.name);
    let subject = subject(&selectors);
    let sentence = surface::sentence(
        &surface::Wording {
            subject: &subject,
            outcome: verb,
            context: &context,
        },
        &table,
        &rr,
        test.q,
        tested,
    );
    let population = population_ref(pop, segment);
    let condition: Vec<String> = selectors.iter().map(|s| s.name.clone()).collect();
    let pattern = Pattern {
        key: pattern_key(test.kind, &population, &outcome.name, &condition),
        kind: test.kind,
        outcome: outcome.name.clone(),
        population,
        condition,
        sentence,
        n_exposed: table.n1(),
        n_unexposed: table.n0(),
        events_exposed: table.a,
        events_unexposed: table.c,
        effect: rr.rr,
        ci_low: rr.ci.low,
        ci_high: rr.ci.high,
        corrected: rr.corrected,
        rd: Some([rd.rd, rd.ci.low, rd.ci.high]),
        p: test.p,
        q: test.q,
        tier: tier.as_str().to_owned(),
        flags,
        score: surface::score(&rr),
        deal_ids: deal_ids(pop, &exposed, &within),
        event_deal_ids: deal_ids(pop, &cover::both(&exposed, &outcome.cover), &within),
        confounders: checks,
        exception: None,
        survival: None,
    };
    Some((pattern, exposed))
}

fn clause_of(s: &Selector) -> String {
    match &s.phrase {
        Phrase::Adjective(a) => format!("that were {a}"),
        Phrase::Clause(c) => c.clone(),
    }
}

/// "owner" or "account" when one of them holds more than half of the exposed events.
fn concentrated(
    pop: &Population,
    exposed: &Cover,
    outcome: &Cover,
    within: &Cover,
) -> Option<&'static str> {
    let events: Vec<usize> = cover::both(&cover::both(exposed, outcome), within)
        .ones()
        .collect();
    if events.is_empty() {
        return None;
    }
    for (name, ids) in [("owner", &pop.owners), ("account", &pop.accounts)] {
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for &i in &events {
            if let Some(&id) = ids.get(i).filter(|&&id| id != u32::MAX) {
                *counts.entry(id).or_default() += 1;
            }
        }
        if counts.values().any(|&c| 2 * c > events.len()) {
            return Some(name);
        }
    }
    None
}

fn curve(km: Option<KaplanMeier>, units: u64, events: u64) -> Curve {
    let (median, steps) = match km {
        Some(km) => (
            km.median(),
            std::iter::once((0, 1.0))
                .chain(km.steps().iter().map(|s| (s.time, s.survival)))
                .collect(),
        ),
        None => (None, vec![(0, 1.0)]),
    };
    Curve {
        units,
        events,
        median,
        steps,
    }
}

fn survival_pattern(pop: &Population, test: &Test, tested: usize) -> Option<(Pattern, Cover)> {
    let lr = test.log_rank.as_ref()?;
    let hr = lr.peto;
    let excludes = hr.lower > 1.0 || hr.upper < 1.0;
    let large = hr.hr >= 1.25 || hr.hr <= 0.80;
    if !(excludes && large) {
        return None;
    }
    let follow = pop.follow.as_ref()?;
    let exposed = exposed_cover(pop, test);
    let t = test.table;
    let curves = [
        curve(
            follow.index.kaplan_meier(|i| exposed.contains(i)),
            t.n1(),
            t.a,
        ),
        curve(
            follow.index.kaplan_meier(|i| !exposed.contains(i)),
            t.n0(),
            t.c,
        ),
    ];
    let selectors: Vec<&Selector> = test.condition.iter().map(|&s| &pop.selectors[s]).collect();
    let (verb, compare) = outcome_words(DECAY);
    let median = |c: &Curve| {
        c.median
            .map_or("not reached".to_owned(), |m| format!("{m} days"))
    };
    let sentence = format!(
        "{} {verb} {}x {compare} {} ({} of {} vs {} of {} decayed within 180 days; median {} vs {}; HR {}, 95% CI {}–{}x, approx.; {}; {} patterns tested).",
        subject(&selectors),
        ratio_text(hr.hr),
        pop.context,
        t.a,
        t.n1(),
        t.c,
        t.n0(),
        median(&curves[0]),
        median(&curves[1]),
        ratio_text(hr.hr),
        ratio_text(hr.lower),
        ratio_text(hr.upper),
        q_text(test.q),
        crate::format::grouped(tested as i64),
    );
    let population = population_ref(pop, None);
    let condition: Vec<String> = selectors.iter().map(|s| s.name.clone()).collect();
    let score = if hr.hr >= 1.0 {
        hr.lower.ln()
    } else {
        -hr.upper.ln()
    };
    let tier = if test.q <= 0.05 && t.n1() >= 30 {
        surface::Tier::Strong
    } else {
        surface::Tier::Moderate
    };
    let all = {
        let mut c = Cover::with_capacity(pop.len());
        c.insert_range(..);
        c
    };
    let decayed = cover_of_events(follow.index.events());
    let pattern = Pattern {
        key: pattern_key(Kind::Survival, &population, DECAY, &condition),
        kind: Kind::Survival,
        outcome: DECAY.to_owned(),
        population,
        condition,
        sentence,
        n_exposed: t.n1(),
        n_unexposed: t.n0(),
        events_exposed: t.a,
        events_unexposed: t.c,
        effect: hr.hr,
        ci_low: hr.lower,
        ci_high: hr.upper,
        corrected: false,
        rd: None,
        p: test.p,
        q: test.q,
        tier: tier.as_str().to_owned(),
        flags: vec!["approx".to_owned()],
        score,
        deal_ids: deal_ids(pop, &exposed, &all),
        event_deal_ids: deal_ids(pop, &exposed, &decayed),
        confounders: Vec::new(),
        exception: None,
        survival: Some(curves),
    };
    Some((pattern, exposed))
}

fn exception_pattern(
    pop: &Population,
    test: &Test,
    tested: usize,
    options: &Options,
    z: f64,
) -> Option<(Pattern, Cover)> {
    let (other, interaction) = test.interaction.as_ref()?;
    let spec = options.moderators.get(test.moderator?)?;
    let main = test.table;
    let rr = main.relative_risk(z)?;
    let rd = main.risk_difference(z)?;
    if !surface::effect_is_material(&rr, rd.rd) {
        return None;
    }
    let k = katz_rr(stratum(other)).ok()?;
    let other_side = (k.rr - 1.0) * (rr.rr - 1.0) < 0.0;
    let covers_one = k.lower <= 1.0 && 1.0 <= k.upper;
    if !(covers_one || other_side) {
        return None;
    }
    let outcome = &pop.outcomes[test.outcome?];
    let e = &pop.selectors[test.condition[0]];
    let (verb, compare) = outcome_words(&outcome.name);
    let sentence = format!(
        "{} {verb} {}x {compare} {}, unless {} (without it: {}/{} = {} vs {}/{} = {}, 95% CI {}–{}x; with it: {}x, 95% CI {}–{}x; interaction {}; {} exception tests).",
        subject(&[e]),
        ratio_text(rr.rr),
        pop.context,
        spec.label,
        main.a,
        main.n1(),
        percent(main.a, main.n1()),
        main.c,
        main.n0(),
        percent(main.c, main.n0()),
        ratio_text(rr.ci.low),
        ratio_text(rr.ci.high),
        ratio_text(k.rr),
        ratio_text(k.lower),
        ratio_text(k.upper),
        q_text(test.q),
        crate::format::grouped(tested as i64),
    );
    let population = population_ref(pop, None);
    let condition = vec![e.name.clone()];
    let score = if interaction.rho >= 1.0 {
        interaction.lower.ln()
    } else {
        -interaction.upper.ln()
    };
    let moderator = pop.selector(&spec.signal)?;
    let mut without = pop.eligible.clone();
    without.difference_with(&moderator.cover);
    let tier = if test.q <= 0.05 && main.n1() >= 30 {
        surface::Tier::Strong
    } else {
        surface::Tier::Moderate
    };
    let pattern = Pattern {
        key: format!(
            "{}|unless:{}",
            pattern_key(Kind::Exception, &population, &outcome.name, &condition),
            spec.signal
        ),
        kind: Kind::Exception,
        outcome: outcome.name.clone(),
        population,
        condition,
        sentence,
        n_exposed: main.n1(),
        n_unexposed: main.n0(),
        events_exposed: main.a,
        events_unexposed: main.c,
        effect: rr.rr,
        ci_low: rr.ci.low,
        ci_high: rr.ci.high,
        corrected: rr.corrected,
        rd: Some([rd.rd, rd.ci.low, rd.ci.high]),
        p: test.p,
        q: test.q,
        tier: tier.as_str().to_owned(),
        flags: Vec::new(),
        score,
        deal_ids: deal_ids(pop, &e.cover, &without),
        event_deal_ids: deal_ids(pop, &cover::both(&e.cover, &outcome.cover), &without),
        confounders: Vec::new(),
        exception: Some(ExceptionDetail {
            moderator: spec.signal.clone(),
            label: spec.label.clone(),
            effect: k.rr,
            ci_low: k.lower,
            ci_high: k.upper,
            n_exposed: other.n1(),
            n_unexposed: other.n0(),
            events_exposed: other.a,
            events_unexposed: other.c,
            ratio: interaction.rho,
            ratio_low: interaction.lower,
            ratio_high: interaction.upper,
        }),
        survival: None,
    };
    Some((pattern, e.cover.clone()))
}
