//! From deals' facts to the miner's [`Dataset`]: population contexts (created, and each open
//! stage at entry and 14 days in), units with their index times and exclusions, selectors from
//! the as-of signals, fixed-horizon outcomes, the decay follow-up and confounder strata.
//! Pure: facts and the skills in, plain data out.

use super::cover::Cover;
use super::dataset::{Confounder, Dataset, Follow, Outcome, Phrase, Population, Selector};
use super::outcomes::{self, ClosingStages, Exclusions};
use super::survival::SurvivalIndex;
use crate::domain::time::{DAY, from_unix};
use crate::domain::{Pipeline, StageId};
use crate::signals::Skills;
use crate::signals::asof::{SignalParams, SignalsAt, signals_at};
use crate::signals::facts::DealFacts;
use crate::signals::skills::{NUMERIC_BANDS, Segment, phrase_list_ids};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

/// Landmark of the "during the stage" exposures, in days (§5.1).
pub const STAGE_LANDMARK_DAYS: i64 = 14;

/// How to build the dataset.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The data cutoff (Unix seconds).
    pub cutoff: i64,
    /// Window W in days.
    pub window_days: i64,
    /// Slip threshold in days.
    pub slip_min_days: i64,
    /// A price cut of at least this share is discount pressure.
    pub discount_cut: f64,
}

impl BuildOptions {
    /// The spec's defaults at `cutoff`.
    pub fn at(cutoff: i64) -> Self {
        BuildOptions {
            cutoff,
            window_days: 90,
            slip_min_days: 7,
            discount_cut: 0.10,
        }
    }
}

/// The newest fact of any deal: the cutoff of a cache whose facts are complete up to it.
pub fn newest_fact(deals: &[DealFacts]) -> i64 {
    let mut newest = i64::MIN;
    for d in deals {
        newest = newest.max(d.created_at);
        let h = &d.history;
        let stamps = h
            .stages
            .iter()
            .map(|c| c.at)
            .chain(h.amounts.iter().map(|c| c.at))
            .chain(h.close_dates.iter().map(|c| c.at));
        for at in stamps {
            newest = newest.max(at.as_second());
        }
        if let Some(a) = d.activities.last() {
            newest = newest.max(a.at);
        }
    }
    newest
}

/// How [`Frame::assemble`] makes a population.
#[derive(Debug, Clone, Copy)]
struct Assembly {
    /// Drop the selectors true for no unit or for every unit (the miner's candidates).
    drop_constant: bool,
    /// Compute the outcomes and the decay follow-up.
    with_outcomes: bool,
}

/// One context before its units are known.
struct Context {
    key: String,
    stage: Option<StageId>,
    context: String,
    landmark: i64,
}

/// What every population is built from, prepared once: the closing stages, the population
/// contexts, the signal parameters and each deal's two-way instants. [`build`] makes the
/// miner's populations with it; the advisor makes populations of its own units (open deals as
/// of now, recommendations as of when they were shown) with [`Frame::population_at`], so that
/// both read the same signals, selectors and outcomes.
pub struct Frame<'a> {
    deals: &'a [DealFacts],
    skills: &'a Skills,
    options: BuildOptions,
    closing: ClosingStages,
    contexts: Vec<Context>,
    params: SignalParams,
    /// Each deal's two-way instants, for the outcomes; made on first use (the advisor's
    /// populations of open deals need no outcomes, so it never pays for them).
    two_way: OnceLock<Option<Vec<Vec<Timestamp>>>>,
}

impl<'a> Frame<'a> {
    /// Prepares the frame for `deals`.
    pub fn new(
        deals: &'a [DealFacts],
        pipelines: &[Pipeline],
        skills: &'a Skills,
        options: &BuildOptions,
    ) -> Frame<'a> {
        let mut closing = ClosingStages::default();
        let mut open: Vec<(StageId, String)> = Vec::new();
        for p in pipelines {
            for s in &p.stages {
                if s.is_closed {
                    if s.is_won {
                        closing.won.insert(s.id.clone());
                    } else {
                        closing.lost.insert(s.id.clone());
                    }
                } else if !open.iter().any(|(id, _)| id == &s.id) {
                    open.push((s.id.clone(), s.label.clone()));
                }
            }
        }
        let mut contexts = vec![Context {
            key: "created".into(),
            stage: None,
            context: "from creation".into(),
            landmark: 0,
        }];
        for (id, label) in &open {
            contexts.push(Context {
                key: format!("reached:{id}"),
                stage: Some(id.clone()),
                context: format!("after {label}"),
                landmark: 0,
            });
            contexts.push(Context {
                key: format!("reached:{id}+{STAGE_LANDMARK_DAYS}d"),
                stage: Some(id.clone()),
                context: format!("{STAGE_LANDMARK_DAYS} days into {label}"),
                landmark: STAGE_LANDMARK_DAYS,
            });
        }
        let params = SignalParams {
            live: skills
                .personas()
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.live_days().map(|d| (i as u32, i64::from(d))))
                .collect(),
            slip_min_days: options.slip_min_days,
        };
        Frame {
            deals,
            skills,
            options: options.clone(),
            closing,
            contexts,
            params,
            two_way: OnceLock::new(),
        }
    }

    /// Each deal's two-way instants, once for every population; `None` when the source records
    /// no activities at all, so that silence says nothing (decay is then closed-lost only).
    fn two_way(&self) -> Option<&[Vec<Timestamp>]> {
        self.two_way
            .get_or_init(|| {
                let deals = self.deals;
                deals.iter().any(|d| !d.activities.is_empty()).then(|| {
                    deals
                        .iter()
                        .map(|d| d.two_way_times().into_iter().map(from_unix).collect())
                        .collect()
                })
            })
            .as_deref()
    }

    /// The deals the frame was prepared for.
    pub fn deals(&self) -> &'a [DealFacts] {
        self.deals
    }

    /// The stages that close a deal won or lost.
    pub fn closing(&self) -> &ClosingStages {
        &self.closing
    }

    /// The stage a population is about (`None` for `created`) and its landmark in days.
    pub fn context_of(&self, key: &str) -> Option<(Option<&StageId>, i64)> {
        self.contexts
            .iter()
            .find(|c| c.key == key)
            .map(|c| (c.stage.as_ref(), c.landmark))
    }

    /// When deal `d` entered the context's stage (or was created), in Unix seconds.
    fn entered(ctx: &Context, d: &DealFacts) -> Option<i64> {
        match &ctx.stage {
            None => Some(d.created_at),
            Some(s) => d.history.first_entered(s).map(|t| t.as_second()),
        }
    }

    /// The population `key` over the units the caller chooses: `(deal index, T)`, each deal
    /// that entered the population's stage. Every selector is kept (one true for every unit
    /// still says something about each of them), and outcomes are eligible where their window
    /// has passed by the frame's cutoff. `None` when the frame has no such population.
    pub fn population_at(&self, key: &str, units: &[(usize, i64)]) -> Option<Population> {
        self.population_of(key, units, true)
    }

    /// [`Frame::population_at`] without outcomes or follow-up: the selectors of the units
    /// as of their times, for deciding where a lesson fires (open deals have no outcome yet).
    pub fn selectors_at(&self, key: &str, units: &[(usize, i64)]) -> Option<Population> {
        self.population_of(key, units, false)
    }

    fn population_of(
        &self,
        key: &str,
        units: &[(usize, i64)],
        with_outcomes: bool,
    ) -> Option<Population> {
        let ctx = self.contexts.iter().find(|c| c.key == key)?;
        let members: Vec<(usize, i64, i64)> = units
            .iter()
            .filter_map(|&(di, t)| {
                let entered = Self::entered(ctx, self.deals.get(di)?)?;
                Some((di, t, entered))
            })
            .collect();
        Some(self.assemble(
            ctx,
            &members,
            Exclusions::default(),
            &mut HashMap::new(),
            &mut HashMap::new(),
            Assembly {
                drop_constant: false,
                with_outcomes,
            },
        ))
    }

    /// One population from its members `(deal index, T, stage entry)`.
    fn assemble(
        &self,
        ctx: &Context,
        members: &[(usize, i64, i64)],
        mut exclusions: Exclusions,
        owners: &mut HashMap<String, u32>,
        accounts: &mut HashMap<String, u32>,
        how: Assembly,
    ) -> Population {
        let Assembly {
            drop_constant,
            with_outcomes,
        } = how;
        let (deals, skills, options, closing, params) = (
            self.deals,
            self.skills,
            &self.options,
            &self.closing,
            &self.params,
        );
        let id_of = |map: &mut HashMap<String, u32>, key: &Option<String>| match key {
            Some(k) => {
                let next = map.len() as u32;
                *map.entry(k.clone()).or_insert(next)
            }
            None => u32::MAX,
        };
        let n = members.len();
        let mut eligible = Cover::with_capacity(n);
        for (u, m) in members.iter().enumerate() {
            if m.1 + options.window_days * DAY <= options.cutoff {
                eligible.insert(u);
            } else {
                exclusions.window_open += 1;
            }
        }
        let signals: Vec<SignalsAt> = members
            .iter()
            .map(|&(di, t, entered)| signals_at(&deals[di], t, entered, params))
            .collect();
        let (mut selectors, segments, mut confounders) =
            selectors_for(ctx, deals, members, &signals, skills, !drop_constant);
        let moderators = moderators_for(&signals, skills, &selectors);
        let two_way = if with_outcomes { self.two_way() } else { None };
        let outcomes = if with_outcomes {
            outcomes_for(deals, two_way, members, closing, skills, options)
        } else {
            Vec::new()
        };
        let follow = with_outcomes
            .then(|| {
                let mut durations = Vec::with_capacity(n);
                let mut events = Vec::with_capacity(n);
                for &(di, t, _) in members {
                    let decay = outcomes::decay_with(
                        &deals[di].history,
                        closing,
                        two_way.map(|times| times[di].as_slice()),
                        from_unix(t),
                        from_unix(options.cutoff),
                    );
                    durations.push(decay.days);
                    events.push(decay.event);
                }
                SurvivalIndex::new(durations, events)
                    .ok()
                    .map(|index| Follow { index })
            })
            .flatten();
        // Quarter of T as a confounder: drift in the team's process shows up by quarter.
        confounders.push(Confounder {
            name: "quarter".into(),
            strata: members
                .iter()
                // Quarter-year periods of equal length (365.25 / 4 days) since the epoch.
                .map(|m| (m.1.max(0) * 4 / (36_525 * DAY / 100)) as u32)
                .collect(),
        });
        confounders.push(Confounder {
            name: "owner".into(),
            strata: members
                .iter()
                .map(|m| id_of(owners, &deals[m.0].owner))
                .collect(),
        });
        let unit_owners = confounders
            .last()
            .map(|c| c.strata.clone())
            .unwrap_or_default();
        let unit_accounts = members
            .iter()
            .map(|m| id_of(accounts, &deals[m.0].company))
            .collect();
        // A selector true for no unit or for every unit says nothing; kept, its conjunctions
        // would copy other candidates' tests and inflate m.
        if drop_constant {
            selectors.retain(|s| {
                let k = s.cover.count_ones(..);
                k > 0 && k < n
            });
        }
        let segments = segments
            .into_iter()
            .filter_map(|name| selectors.iter().position(|s| s.name == name))
            .collect();
        Population {
            key: ctx.key.clone(),
            stage: ctx
                .stage
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            context: ctx.context.clone(),
            landmark_days: ctx.landmark,
            deal_ids: members.iter().map(|m| deals[m.0].id.clone()).collect(),
            index_times: members.iter().map(|m| m.1).collect(),
            eligible,
            exclusions,
            selectors,
            moderators,
            segments,
            outcomes,
            follow,
            confounders,
            owners: unit_owners,
            accounts: unit_accounts,
        }
    }
}

/// Builds the dataset.
pub fn build(
    deals: &[DealFacts],
    pipelines: &[Pipeline],
    skills: &Skills,
    options: &BuildOptions,
) -> Dataset {
    let frame = Frame::new(deals, pipelines, skills, options);
    let mut owners: HashMap<String, u32> = HashMap::new();
    let mut accounts: HashMap<String, u32> = HashMap::new();
    let mut populations: Vec<Population> = Vec::new();
    let mut seen: Vec<(Vec<usize>, Vec<i64>)> = Vec::new();
    for ctx in &frame.contexts {
        let mut members: Vec<(usize, i64, i64)> = Vec::new();
        let mut exclusions = Exclusions::default();
        for (di, d) in deals.iter().enumerate() {
            let Some(entered) = Frame::entered(ctx, d) else {
                continue;
            };
            let t = entered + ctx.landmark * DAY;
            if t > options.cutoff {
                continue;
            }
            if frame
                .closing
                .closed_at(&d.history)
                .is_some_and(|c| c.as_second() < t)
            {
                exclusions.closed_before_landmark += 1;
                continue;
            }
            members.push((di, t, entered));
        }
        if members.is_empty() {
            continue;
        }
        let signature = (
            members.iter().map(|m| m.0).collect::<Vec<_>>(),
            members.iter().map(|m| m.1).collect::<Vec<_>>(),
        );
        if ctx.landmark == 0 && seen.contains(&signature) {
            // The same units at the same times as an earlier context (a first stage entered
            // at creation): testing it again would only inflate m.
            continue;
        }
        seen.push(signature);
        populations.push(frame.assemble(
            ctx,
            &members,
            exclusions,
            &mut owners,
            &mut accounts,
            Assembly {
                drop_constant: true,
                with_outcomes: true,
            },
        ));
    }
    Dataset {
        populations,
        cutoff: options.cutoff,
        window_days: options.window_days,
    }
}

fn cover_of(n: usize, on: impl Fn(usize) -> bool) -> Cover {
    let mut c = Cover::with_capacity(n);
    for i in 0..n {
        if on(i) {
            c.insert(i);
        }
    }
    c
}

fn bit(mask: u64, i: usize) -> bool {
    i < 64 && mask & (1 << i) != 0
}

/// Candidate selectors, the names of segment selectors defining type-B populations, and the
/// segment confounders. With `every_value`, each value of a segment has its selector, even
/// where the miner keeps only the rarer of two (the advisor names values the miner chose on
/// other units).
fn selectors_for(
    ctx: &Context,
    deals: &[DealFacts],
    members: &[(usize, i64, i64)],
    signals: &[SignalsAt],
    skills: &Skills,
    every_value: bool,
) -> (Vec<Selector>, Vec<String>, Vec<Confounder>) {
    let n = members.len();
    let mut out = Vec::new();
    let mut segments = Vec::new();
    let mut confounders = Vec::new();
    let persona_label = |i: usize| skills.personas()[i].label().to_owned();
    if ctx.landmark > 0 {
        for (i, list) in skills.phrase_lists().iter().enumerate() {
            out.push(Selector {
                name: format!("stage_mentioned:{}", list.id()),
                attribute: format!("stage_mentioned:{}", list.id()),
                phrase: Phrase::Clause(format!(
                    "with {} in the stage's first {} days",
                    list.label().to_lowercase(),
                    ctx.landmark
                )),
                cover: cover_of(n, |u| bit(signals[u].stage_mentioned, i)),
            });
        }
        for (i, p) in skills.personas().iter().enumerate() {
            out.push(Selector {
                name: format!("stage_engaged:{}", p.id()),
                attribute: format!("stage_engaged:{}", p.id()),
                phrase: Phrase::Clause(format!(
                    "with the {} engaged in the stage's first {} days",
                    persona_label(i),
                    ctx.landmark
                )),
                cover: cover_of(n, |u| bit(signals[u].stage_engaged, i)),
            });
        }
        return (out, segments, confounders);
    }
    out.push(Selector {
        name: "single_threaded".into(),
        attribute: "single_threaded".into(),
        phrase: Phrase::Adjective("single-threaded".into()),
        cover: cover_of(n, |u| signals[u].single_threaded),
    });
    out.push(Selector {
        name: "slipped_before".into(),
        attribute: "slipped_before".into(),
        phrase: Phrase::Clause("whose close date had already slipped".into()),
        cover: cover_of(n, |u| signals[u].slipped_before),
    });
    for (i, p) in skills.personas().iter().enumerate() {
        out.push(Selector {
            name: format!("engaged:{}", p.id()),
            attribute: format!("engaged:{}", p.id()),
            phrase: Phrase::Clause(format!("with the {} engaged", persona_label(i))),
            cover: cover_of(n, |u| bit(signals[u].engaged, i)),
        });
        if let Some(days) = p.live_days() {
            out.push(Selector {
                name: format!("live:{}", p.id()),
                attribute: format!("live:{}", p.id()),
                phrase: Phrase::Clause(format!(
                    "with the {} engaged in the last {days} days",
                    persona_label(i)
                )),
                cover: cover_of(n, |u| bit(signals[u].live, i)),
            });
        }
    }
    for (i, list) in skills.phrase_lists().iter().enumerate() {
        out.push(Selector {
            name: format!("mentioned:{}", list.id()),
            attribute: format!("mentioned:{}", list.id()),
            phrase: Phrase::Clause(format!("with {} on record", list.label().to_lowercase())),
            cover: cover_of(n, |u| bit(signals[u].mentioned, i)),
        });
    }
    // Amount tertiles at T, cut on this population's amounts (outcome-blind).
    let amounts: Vec<f64> = signals.iter().filter_map(|s| s.amount).collect();
    if amounts.len() >= 3 {
        let cuts = tertile_cuts(&amounts);
        let band = |x: f64| tertile_band(cuts, x);
        for (b, word) in NUMERIC_BANDS.iter().enumerate() {
            out.push(Selector {
                name: format!("amount={word}"),
                attribute: "amount".into(),
                phrase: Phrase::Clause(format!("with an amount in the {word} third")),
                cover: cover_of(n, |u| signals[u].amount.is_some_and(|a| band(a) == b)),
            });
        }
        confounders.push(Confounder {
            name: "size".into(),
            strata: signals
                .iter()
                .map(|s| s.amount.map_or(u32::MAX, |a| band(a) as u32))
                .collect(),
        });
    }
    for (si, segment) in skills.segments().iter().enumerate() {
        let values: Vec<Option<&str>> = members
            .iter()
            .map(|m| deals[m.0].segments.get(si).and_then(|v| v.as_deref()))
            .collect();
        if segment.numeric() {
            let (selectors, confounder) = numeric_segment(segment, &values);
            out.extend(selectors);
            confounders.extend(confounder);
            continue;
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for v in values.iter().flatten() {
            *counts.entry(v).or_default() += 1;
        }
        if segment.confounder() {
            let order: Vec<&str> = counts.keys().copied().collect();
            confounders.push(Confounder {
                name: segment.id().to_owned(),
                strata: values
                    .iter()
                    .map(|v| {
                        v.and_then(|v| order.iter().position(|o| *o == v))
                            .map_or(u32::MAX, |p| p as u32)
                    })
                    .collect(),
            });
        }
        if counts.len() < 2 && !every_value {
            continue;
        }
        let kept: BTreeSet<&str> = if counts.len() == 2 && !every_value {
            // Two values are complements: one selector says it all (the rarer one).
            let mut v: Vec<(&&str, &usize)> = counts.iter().collect();
            v.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
            std::iter::once(*v[0].0).collect()
        } else {
            counts.keys().copied().collect()
        };
        let label = segment.label().to_lowercase();
        for value in kept {
            let name = format!("{}={value}", segment.id());
            if segment.population() {
                segments.push(name.clone());
            }
            out.push(Selector {
                name,
                attribute: segment.id().to_owned(),
                phrase: Phrase::Clause(format!("with {label} {value}")),
                cover: cover_of(n, |u| values[u] == Some(value)),
            });
        }
    }
    (out, segments, confounders)
}

/// The selectors of a numeric segment — its thirds, `<id>=low|mid|high`, cut on this
/// population's units with a value exactly as the amount tertiles are — and its strata when it
/// is a confounder (the third; `u32::MAX` without a value).
///
/// A value that does not read as a finite number is missing, like an empty one: the segment
/// then says nothing about that unit. It is not reported: the build is pure and has no channel
/// for warnings, and one odd cell must not stop a run.
fn numeric_segment(
    segment: &Segment,
    values: &[Option<&str>],
) -> (Vec<Selector>, Option<Confounder>) {
    let n = values.len();
    let numbers: Vec<Option<f64>> = values.iter().map(|v| v.and_then(number)).collect();
    let present: Vec<f64> = numbers.iter().flatten().copied().collect();
    // Thirds of fewer than three values are not thirds (the amounts' rule); with no cuts every
    // unit is missing, so the segment gives no selector and an uninformative stratification.
    let cuts = (present.len() >= 3).then(|| tertile_cuts(&present));
    let bands: Vec<Option<usize>> = numbers
        .iter()
        .map(|x| cuts.zip(*x).map(|(c, x)| tertile_band(c, x)))
        .collect();
    let confounder = segment.confounder().then(|| Confounder {
        name: segment.id().to_owned(),
        strata: bands
            .iter()
            .map(|b| b.map_or(u32::MAX, |b| b as u32))
            .collect(),
    });
    let mut selectors = Vec::new();
    if cuts.is_some() {
        let label = segment.label().to_lowercase();
        for (b, word) in NUMERIC_BANDS.iter().enumerate() {
            selectors.push(Selector {
                name: format!("{}={word}", segment.id()),
                attribute: segment.id().to_owned(),
                phrase: Phrase::Clause(format!("with {label} in the {word} third")),
                cover: cover_of(n, |u| bands[u] == Some(b)),
            });
        }
    }
    (selectors, confounder)
}

/// A property's text as a finite number (surrounding spaces allowed), or `None`: "NaN" and
/// "inf" parse but would fall outside every third or sort above every number.
fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The third (0 low, 1 mid, 2 high) of `x` given [`tertile_cuts`]: `x <= c1` is low, `x <= c2`
/// mid, so tied values always share a third.
fn tertile_band((c1, c2): (f64, f64), x: f64) -> usize {
    if x <= c1 {
        0
    } else if x <= c2 {
        1
    } else {
        2
    }
}

/// Tertile cut points with numpy's default (linear) quantile.
pub fn tertile_cuts(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (v.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    (q(1.0 / 3.0), q(2.0 / 3.0))
}

/// Covers of moderator signals that are not candidates in this context.
fn moderators_for(signals: &[SignalsAt], skills: &Skills, selectors: &[Selector]) -> Vec<Selector> {
    let n = signals.len();
    let mut out = Vec::new();
    for m in skills.moderators() {
        let name = m.signal();
        if selectors.iter().any(|s| s.name == name) {
            continue;
        }
        let cover = if let Some(list) = name.strip_prefix("mentioned:") {
            skills
                .phrase_list(list)
                .map(|i| cover_of(n, |u| bit(signals[u].mentioned, i)))
        } else if let Some(p) = name.strip_prefix("engaged:") {
            skills
                .personas()
                .iter()
                .position(|x| x.id() == p)
                .map(|i| cover_of(n, |u| bit(signals[u].engaged, i)))
        } else if let Some(p) = name.strip_prefix("live:") {
            skills
                .personas()
                .iter()
                .position(|x| x.id() == p)
                .map(|i| cover_of(n, |u| bit(signals[u].live, i)))
        } else if name == "single_threaded" {
            Some(cover_of(n, |u| signals[u].single_threaded))
        } else if name == "slipped_before" {
            Some(cover_of(n, |u| signals[u].slipped_before))
        } else {
            None
        };
        if let Some(cover) = cover {
            out.push(Selector {
                name: name.to_owned(),
                attribute: name.to_owned(),
                phrase: Phrase::Clause(m.label().to_owned()),
                cover,
            });
        }
    }
    out
}

/// Whether a deal's outcome happened in the window after T.
type OutcomeFn<'a> = dyn Fn(&DealFacts, &[Timestamp], i64) -> bool + 'a;

fn outcomes_for(
    deals: &[DealFacts],
    two_way: Option<&[Vec<Timestamp>]>,
    members: &[(usize, i64, i64)],
    closing: &ClosingStages,
    skills: &Skills,
    options: &BuildOptions,
) -> Vec<Outcome> {
    let n = members.len();
    let w = options.window_days;
    let discount = skills.phrase_list(phrase_list_ids::DISCOUNT);
    let in_window = |at: i64, t: i64| at > t && at <= t + w * DAY;
    let pressure = |d: &DealFacts, _: &[Timestamp], t: i64| {
        let asked = discount.is_some_and(|i| {
            d.activities
                .iter()
                .any(|a| in_window(a.at, t) && bit(a.phrases, i))
        });
        let cut = d
            .history
            .amounts
            .windows(2)
            .any(|p| match (p[0].amount, p[1].amount) {
                (Some(from), Some(to)) if from > 0.0 => {
                    in_window(p[1].at.as_second(), t) && to <= from * (1.0 - options.discount_cut)
                }
                _ => false,
            });
        asked || cut
    };
    // Without activity data silence is unknown, never "stalled".
    let stalled = |d: &DealFacts, times: &[Timestamp], t: i64| {
        two_way.is_some() && outcomes::stalled(&d.history, closing, times, from_unix(t), w)
    };
    let named: [(&str, Box<OutcomeFn<'_>>); 5] = [
        (
            "slipped",
            Box::new(|d: &DealFacts, _: &[Timestamp], t| {
                outcomes::slipped(&d.history, from_unix(t), w, options.slip_min_days)
            }),
        ),
        (
            "won",
            Box::new(|d: &DealFacts, _: &[Timestamp], t| {
                outcomes::won(&d.history, closing, from_unix(t), w)
            }),
        ),
        (
            "lost",
            Box::new(|d: &DealFacts, _: &[Timestamp], t| {
                outcomes::lost(&d.history, closing, from_unix(t), w)
            }),
        ),
        ("discount_pressure", Box::new(pressure)),
        ("stalled", Box::new(stalled)),
    ];
    named
        .iter()
        .map(|(name, f)| Outcome {
            name: (*name).to_owned(),
            cover: cover_of(n, |u| {
                let di = members[u].0;
                let times = two_way.map_or(&[][..], |all| all[di].as_slice());
                f(&deals[di], times, members[u].1)
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segment `revenue` of a one-segment skills file; `flags` end its table.
    fn segment(flags: &str) -> Segment {
        let text = format!(
            "version = 1\n[[segments]]\nid = \"revenue\"\nlabel = \"Annual Revenue\"\n\
             source = \"company\"\nproperty = \"revenue\"\nnumeric = true\n{flags}"
        );
        match Skills::parse(&text, "test.toml") {
            Ok(skills) => skills.segments()[0].clone(),
            Err(e) => panic!("{e}"),
        }
    }

    fn units(s: &Selector) -> Vec<usize> {
        s.cover.ones().collect()
    }

    #[test]
    fn numeric_segments_split_into_thirds_of_the_units_with_a_number() {
        let values = [
            Some("10"),
            Some(" 20 "),
            Some("30"),
            Some("40"),
            Some("5e1"),
            Some("60"),
            None,
            Some("n/a"),
            Some("NaN"),
            Some("-inf"),
            Some(""),
            Some("1,000"),
        ];
        let (selectors, confounder) = numeric_segment(&segment("confounder = true\n"), &values);
        // Cut on the six numbers only: 26.67 and 43.33.
        let names: Vec<&str> = selectors.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["revenue=low", "revenue=mid", "revenue=high"]);
        let covers: Vec<Vec<usize>> = selectors.iter().map(units).collect();
        assert_eq!(covers, [vec![0, 1], vec![2, 3], vec![4, 5]]);
        assert!(selectors.iter().all(|s| s.attribute == "revenue"));
        assert_eq!(
            selectors[0].phrase,
            Phrase::Clause("with annual revenue in the low third".into())
        );
        let Some(confounder) = confounder else {
            panic!("a confounder segment has strata")
        };
        assert_eq!(confounder.name, "revenue");
        let m = u32::MAX;
        assert_eq!(confounder.strata, [0, 0, 1, 1, 2, 2, m, m, m, m, m, m]);
    }

    #[test]
    fn tied_numbers_share_a_third_and_a_third_may_be_empty() {
        let values = ["1", "1", "1", "1", "2", "3"].map(Some);
        let (selectors, confounder) = numeric_segment(&segment(""), &values);
        assert!(confounder.is_none());
        let covers: Vec<Vec<usize>> = selectors.iter().map(units).collect();
        // Both cuts fall among the ones (1 and 1.33): the middle third is empty, and the build
        // later drops it with every selector that holds for no unit.
        assert_eq!(covers, [vec![0, 1, 2, 3], vec![], vec![4, 5]]);
    }

    #[test]
    fn fewer_than_three_numbers_give_no_thirds() {
        let values = [Some("1"), Some("x"), Some("2"), None];
        let (selectors, confounder) = numeric_segment(&segment("confounder = true\n"), &values);
        assert!(selectors.is_empty());
        assert_eq!(confounder.map(|c| c.strata), Some(vec![u32::MAX; 4]));
    }

    #[test]
    fn tertile_cuts_are_numpy_linear_quantiles() {
        // numpy 1.26 `quantile([10, 20, 30, 40, 50, 60], [1/3, 2/3])`, and of [1, 2, 3, 4].
        let (c1, c2) = tertile_cuts(&[60.0, 10.0, 40.0, 20.0, 50.0, 30.0]);
        assert!((c1 - 26.666666666666664).abs() < 1e-12, "{c1}");
        assert!((c2 - 43.33333333333333).abs() < 1e-12, "{c2}");
        assert_eq!(tertile_cuts(&[4.0, 1.0, 3.0, 2.0]), (2.0, 3.0));
        assert_eq!(tertile_band((2.0, 3.0), 2.0), 0);
        assert_eq!(tertile_band((2.0, 3.0), 2.5), 1);
        assert_eq!(tertile_band((2.0, 3.0), 3.0), 1);
        assert_eq!(tertile_band((2.0, 3.0), 3.5), 2);
    }
}
