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
use crate::signals::skills::phrase_list_ids;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// One context before its units are known.
struct Context {
    key: String,
    stage: Option<StageId>,
    context: String,
    landmark: i64,
}

/// Builds the dataset.
pub fn build(
    deals: &[DealFacts],
    pipelines: &[Pipeline],
    skills: &Skills,
    options: &BuildOptions,
) -> Dataset {
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
    // Each deal's two-way instants, once for every population; `None` when the source records
    // no activities at all, so that silence says nothing (decay is then closed-lost only).
    let two_way: Option<Vec<Vec<Timestamp>>> =
        deals.iter().any(|d| !d.activities.is_empty()).then(|| {
            deals
                .iter()
                .map(|d| d.two_way_times().into_iter().map(from_unix).collect())
                .collect()
        });
    let mut owners: HashMap<String, u32> = HashMap::new();
    let mut accounts: HashMap<String, u32> = HashMap::new();
    let id_of = |map: &mut HashMap<String, u32>, key: &Option<String>| match key {
        Some(k) => {
            let next = map.len() as u32;
            *map.entry(k.clone()).or_insert(next)
        }
        None => u32::MAX,
    };
    let mut populations: Vec<Population> = Vec::new();
    let mut seen: Vec<(Vec<usize>, Vec<i64>)> = Vec::new();
    for ctx in &contexts {
        let mut members: Vec<(usize, i64, i64)> = Vec::new();
        let mut exclusions = Exclusions::default();
        for (di, d) in deals.iter().enumerate() {
            let entered = match &ctx.stage {
                None => Some(d.created_at),
                Some(s) => d.history.first_entered(s).map(|t| t.as_second()),
            };
            let Some(entered) = entered else { continue };
            let t = entered + ctx.landmark * DAY;
            if t > options.cutoff {
                continue;
            }
            if closing
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
            .map(|&(di, t, entered)| signals_at(&deals[di], t, entered, &params))
            .collect();
        let (mut selectors, segments, mut confounders) =
            selectors_for(ctx, deals, &members, &signals, skills);
        let moderators = moderators_for(&signals, skills, &selectors);
        let outcomes = outcomes_for(
            deals,
            two_way.as_deref(),
            &members,
            &closing,
            skills,
            options,
        );
        let follow = {
            let mut durations = Vec::with_capacity(n);
            let mut events = Vec::with_capacity(n);
            for &(di, t, _) in &members {
                let decay = outcomes::decay_with(
                    &deals[di].history,
                    &closing,
                    two_way.as_ref().map(|times| times[di].as_slice()),
                    from_unix(t),
                    from_unix(options.cutoff),
                );
                durations.push(decay.days);
                events.push(decay.event);
            }
            SurvivalIndex::new(durations, events)
                .ok()
                .map(|index| Follow { index })
        };
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
                .map(|m| id_of(&mut owners, &deals[m.0].owner))
                .collect(),
        });
        let unit_owners = confounders
            .last()
            .map(|c| c.strata.clone())
            .unwrap_or_default();
        let unit_accounts = members
            .iter()
            .map(|m| id_of(&mut accounts, &deals[m.0].company))
            .collect();
        // A selector true for no unit or for every unit says nothing; kept, its conjunctions
        // would copy other candidates' tests and inflate m.
        selectors.retain(|s| {
            let k = s.cover.count_ones(..);
            k > 0 && k < n
        });
        let segments = segments
            .into_iter()
            .filter_map(|name| selectors.iter().position(|s| s.name == name))
            .collect();
        populations.push(Population {
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
        });
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
/// segment confounders.
fn selectors_for(
    ctx: &Context,
    deals: &[DealFacts],
    members: &[(usize, i64, i64)],
    signals: &[SignalsAt],
    skills: &Skills,
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
        let (c1, c2) = tertile_cuts(&amounts);
        let band = |x: f64| {
            if x <= c1 {
                0
            } else if x <= c2 {
                1
            } else {
                2
            }
        };
        for (b, word) in ["low", "mid", "high"].iter().enumerate() {
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
        if counts.len() < 2 {
            continue;
        }
        let kept: BTreeSet<&str> = if counts.len() == 2 {
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
