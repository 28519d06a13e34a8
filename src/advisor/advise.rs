//! Active lessons on open deals as of now, and what became of each recommendation: whether it
//! was followed (inferred where the lesson stops firing) and the outcome that followed.
//!
//! Everything is evaluated through [`Frame::population_at`] (or [`Frame::selectors_at`] where
//! only the firing is asked), so a lesson reads exactly the signals, selectors and outcomes the
//! miner measured it with — as of the instant asked, and never later (the signals' leakage
//! guard covers this too).

use super::follow::FollowUp;
use crate::domain::time::DAY;
use crate::domain::{DealId, Lesson, RecommendationRecord, Trigger};
use crate::patterns::build::Frame;
use crate::patterns::cover::Cover;
use crate::patterns::dataset::Population;
use crate::patterns::mine::DECAY;
use crate::signals::facts::DealFacts;
use rayon::prelude::*;
use std::collections::HashMap;

/// How long after a recommendation the replay looks for it to have been followed, in days: a
/// landmark, so that only deals still open then are compared and "followed" is known before
/// the outcome is counted.
pub const FOLLOW_LANDMARK_DAYS: i64 = 14;

/// A lesson firing on an open deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// The deal.
    pub deal_id: DealId,
    /// Index of the lesson in the slice given.
    pub lesson: usize,
}

/// The units of `pop` where `trigger` fires: in the segment, the condition present (or, for a
/// protective practice, not all present), and the moderator absent. A selector the population
/// does not have holds for nobody.
pub fn fires(pop: &Population, trigger: &Trigger) -> Cover {
    let n = pop.len();
    if trigger.condition.is_empty() {
        // A lesson without a trigger never fires.
        return Cover::with_capacity(n);
    }
    let cover = |name: &str| {
        pop.selector(name)
            .map(|s| s.cover.clone())
            .unwrap_or_else(|| Cover::with_capacity(n))
    };
    let mut all = Cover::with_capacity(n);
    all.insert_range(..);
    let mut held = all.clone();
    for name in &trigger.condition {
        held.intersect_with(&cover(name));
    }
    let mut out = if trigger.when_present {
        held
    } else {
        let mut missing = all.clone();
        missing.difference_with(&held);
        missing
    };
    if let Some(segment) = &trigger.segment {
        out.intersect_with(&cover(segment));
    }
    if let Some(unless) = &trigger.unless {
        out.difference_with(&cover(unless));
    }
    out
}

/// Whether deal `d` is open at `t` (created, and not closed at or before it).
fn open_at(frame: &Frame<'_>, d: &DealFacts, t: i64) -> bool {
    d.created_at <= t
        && frame
            .closing()
            .closed_at(&d.history)
            .is_none_or(|c| c.as_second() > t)
}

/// The index time of a deal in a lesson's population as of `now`: `now` itself after the
/// stage is reached, or the landmark once it has passed (a "first 14 days" signal is fixed
/// then). `None` before.
fn index_time(frame: &Frame<'_>, key: &str, d: &DealFacts, now: i64) -> Option<i64> {
    let (stage, landmark) = frame.context_of(key)?;
    let entered = match stage {
        None => d.created_at,
        Some(s) => d.history.first_entered(s)?.as_second(),
    };
    let t = entered + landmark * DAY;
    if t > now {
        return None;
    }
    Some(if landmark == 0 { now } else { t })
}

/// The active lessons' recommendations on the deals open at `now`, by deal then lesson.
pub fn advise(frame: &Frame<'_>, lessons: &[Lesson], now: i64) -> Vec<Fired> {
    let deals = frame.deals();
    let mut by_population: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in lessons.iter().enumerate() {
        if l.status == crate::domain::LessonStatus::Active && !l.trigger.condition.is_empty() {
            by_population
                .entry(l.trigger.population.as_str())
                .or_default()
                .push(i);
        }
    }
    let mut keys: Vec<&str> = by_population.keys().copied().collect();
    keys.sort_unstable();
    // The open deals once, for every population.
    let open: Vec<(usize, &DealFacts)> = deals
        .iter()
        .enumerate()
        .filter(|(_, d)| open_at(frame, d, now))
        .collect();
    // Each population's units and selectors on a core of its own: they are independent.
    let mut out: Vec<Fired> = keys
        .par_iter()
        .flat_map_iter(|&key| {
            let units: Vec<(usize, i64)> = open
                .iter()
                .filter_map(|&(di, d)| Some((di, index_time(frame, key, d, now)?)))
                .collect();
            let mut fired = Vec::new();
            if let Some(pop) = frame.selectors_at(key, &units) {
                for &li in &by_population[key] {
                    for u in fires(&pop, &lessons[li].trigger).ones() {
                        fired.push(Fired {
                            deal_id: DealId(pop.deal_ids[u].clone()),
                            lesson: li,
                        });
                    }
                }
            }
            fired
        })
        .collect();
    out.sort_by(|a, b| a.deal_id.cmp(&b.deal_id).then(a.lesson.cmp(&b.lesson)));
    out
}

/// Each unit of `pop` by its deal id and index time (a deal can be a unit at several times).
fn unit_positions(pop: &Population) -> HashMap<(&str, i64), usize> {
    pop.deal_ids
        .iter()
        .zip(&pop.index_times)
        .enumerate()
        .map(|(u, (id, &t))| ((id.as_str(), t), u))
        .collect()
}

/// Each deal's index in `deals` by its id.
pub fn deal_index(deals: &[DealFacts]) -> HashMap<&str, usize> {
    deals
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect()
}

/// Whether the lesson fires on each `(deal index, t)`, evaluated at `t`.
fn fires_at(frame: &Frame<'_>, lesson: &Lesson, units: &[(usize, i64)]) -> Vec<bool> {
    let Some(pop) = frame.selectors_at(&lesson.trigger.population, units) else {
        return vec![false; units.len()];
    };
    let on = fires(&pop, &lesson.trigger);
    let position = unit_positions(&pop);
    let deals = frame.deals();
    units
        .iter()
        .map(|&(di, t)| {
            deals
                .get(di)
                .and_then(|d| position.get(&(d.id.as_str(), t)))
                .is_some_and(|&u| on.contains(u))
        })
        .collect()
}

/// What a recorded recommendation became, inferred from the deal's history up to `now`:
/// `Some((followed, at))` once known. Open and no longer firing: followed, now. Closed: not
/// followed if the lesson still fired when it closed, else followed. Still firing on an open
/// deal: not known yet.
pub fn infer_followed(
    frame: &Frame<'_>,
    lesson: &Lesson,
    records: &[(usize, &RecommendationRecord)],
    now: i64,
) -> Vec<Option<(bool, i64)>> {
    let deals = frame.deals();
    let when: Vec<i64> = records
        .iter()
        .map(|&(di, _)| {
            let closed = frame
                .closing()
                .closed_at(&deals[di].history)
                .map(|c| c.as_second())
                .filter(|&c| c <= now);
            closed.unwrap_or(now)
        })
        .collect();
    let units: Vec<(usize, i64)> = records
        .iter()
        .zip(&when)
        .map(|(&(di, _), &t)| (di, t))
        .collect();
    let firing = fires_at(frame, lesson, &units);
    records
        .iter()
        .zip(when)
        .zip(firing)
        .map(|((&(di, _), t), firing)| {
            let closed = !open_at(frame, &deals[di], t) || t < now;
            match (closed, firing) {
                (true, true) => Some((false, t)),
                (_, false) => Some((true, t)),
                (false, true) => None,
            }
        })
        .collect()
}

/// The outcome a lesson watches, as the binary outcome measured after a recommendation (the
/// survival outcome `decay` is followed up as `lost`).
pub fn follow_outcome(lesson: &Lesson) -> &str {
    match lesson.patterns.first().map(|p| p.outcome.as_str()) {
        Some(DECAY) | None => "lost",
        Some(o) => o,
    }
}

/// Whether `outcome` happened in the window after each `(deal index, t)`; `None` where the
/// window is still open at the frame's cutoff.
fn outcomes_after(
    frame: &Frame<'_>,
    key: &str,
    outcome: &str,
    units: &[(usize, i64)],
) -> Vec<Option<bool>> {
    let Some(pop) = frame.population_at(key, units) else {
        return vec![None; units.len()];
    };
    let cover = pop
        .outcomes
        .iter()
        .find(|o| o.name == outcome)
        .map(|o| &o.cover);
    let deals = frame.deals();
    let position = unit_positions(&pop);
    units
        .iter()
        .map(|&(di, t)| {
            let u = *position.get(&(deals.get(di)?.id.as_str(), t))?;
            pop.eligible
                .contains(u)
                .then(|| cover.is_some_and(|c| c.contains(u)))
        })
        .collect()
}

/// The follow-ups of a lesson's recorded recommendations: followed as recorded (marked or
/// inferred), and the outcome in the window after each was shown.
pub fn live_followups(
    frame: &Frame<'_>,
    lesson: &Lesson,
    records: &[(usize, &RecommendationRecord)],
) -> Vec<FollowUp> {
    let units: Vec<(usize, i64)> = records
        .iter()
        .map(|&(di, r)| (di, r.shown_at.as_second()))
        .collect();
    let outcomes = outcomes_after(
        frame,
        &lesson.trigger.population,
        follow_outcome(lesson),
        &units,
    );
    records
        .iter()
        .zip(outcomes)
        .map(|(&(_, r), outcome)| FollowUp {
            followed: r.followed,
            outcome,
        })
        .collect()
}

/// The lesson replayed on the history before it existed: every deal of its population where it
/// would have fired at the index time T, still open [`FOLLOW_LANDMARK_DAYS`] later; followed
/// when it no longer fired then, and the outcome counted in the window after that landmark.
/// An observational comparison (the deals that changed course may differ in other ways), shown
/// beside the live recommendations, never mixed with them.
pub fn replay(frame: &Frame<'_>, lesson: &Lesson, population: &Population) -> Vec<FollowUp> {
    let deals = frame.deals();
    let index = deal_index(deals);
    let fired = fires(population, &lesson.trigger);
    let later: Vec<(usize, i64)> = fired
        .ones()
        .filter_map(|u| {
            let di = *index.get(population.deal_ids[u].as_str())?;
            let t = population.index_times[u] + FOLLOW_LANDMARK_DAYS * DAY;
            open_at(frame, &deals[di], t).then_some((di, t))
        })
        .collect();
    let still = fires_at(frame, lesson, &later);
    let outcomes = outcomes_after(
        frame,
        &lesson.trigger.population,
        follow_outcome(lesson),
        &later,
    );
    still
        .into_iter()
        .zip(outcomes)
        .map(|(still, outcome)| FollowUp {
            followed: Some(!still),
            outcome,
        })
        .collect()
}
