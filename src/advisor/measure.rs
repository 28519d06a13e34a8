//! Re-measuring a lesson's pattern on the current dataset, with the pattern engine's own
//! statistics: the same population, segment, selectors and outcome give the same counts, RR
//! (or HR), interval and p as the run that surfaced it.

use crate::domain::{Evidence, Lesson, PatternRef, Verdict};
use crate::patterns::cover::{self, Cover};
use crate::patterns::dataset::{Dataset, Population};
use crate::patterns::mine::{DECAY, Support};
use crate::patterns::multiple::{FdrMethod, q_values};
use crate::patterns::table::Table2x2;
use jiff::Timestamp;

/// What a re-measurement found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// RR (HR for survival).
    pub effect: f64,
    /// 95% interval.
    pub ci_low: f64,
    /// 95% interval.
    pub ci_high: f64,
    /// p-value (Fisher's exact test; log-rank for survival).
    pub p: f64,
    /// The counts behind it.
    pub table: Table2x2,
}

/// The verdict on a claim of effect `claimed` (which side of 1 the lesson says it is on).
pub fn verdict(claimed: f64, now: Option<&Measure>) -> Verdict {
    let Some(m) = now else {
        return Verdict::Insufficient;
    };
    let (toward, away) = if claimed >= 1.0 {
        (m.ci_low > 1.0, m.ci_high < 1.0)
    } else {
        (m.ci_high < 1.0, m.ci_low > 1.0)
    };
    match (toward, away) {
        (true, _) => Verdict::Holds,
        (false, true) => Verdict::Reversed,
        (false, false) => Verdict::Weakened,
    }
}

/// The exposed units of `names` in `pop` (all of them must hold), or `None` when the
/// population has no such selector any more (a segment value that vanished, say).
fn cover_of(pop: &Population, names: &[String]) -> Option<Cover> {
    let mut out: Option<Cover> = None;
    for name in names {
        let c = &pop.selector(name)?.cover;
        out = Some(match out {
            None => c.clone(),
            Some(acc) => cover::both(&acc, c),
        });
    }
    out
}

/// Re-measures one pattern; `None` when it cannot be measured with the engine's support gates
/// (the population, a selector or the outcome is gone, or a group is too small).
pub fn measure(data: &Dataset, p: &PatternRef, support: &Support) -> Option<Measure> {
    let pop = data.populations.iter().find(|q| q.key == p.population)?;
    let exposed = cover_of(pop, &p.condition)?;
    if p.outcome == DECAY {
        return survival(pop, &exposed, support);
    }
    let mut within = pop.eligible.clone();
    if let Some(segment) = &p.segment {
        within.intersect_with(&pop.selector(segment)?.cover);
    }
    if let Some(moderator) = &p.unless {
        // An exception claims the effect among deals without the moderator.
        within.difference_with(&pop.selector(moderator)?.cover);
    }
    let outcome = &pop.outcomes.iter().find(|o| o.name == p.outcome)?.cover;
    let table = cover::table(&exposed, outcome, &within);
    let enough = table.n() >= support.population
        && table.n1() >= support.group
        && table.n0() >= support.group
        && table.k() >= support.margin
        && table.n() - table.k() >= support.margin;
    if !enough {
        return None;
    }
    let rr = table.relative_risk(crate::patterns::z95())?;
    Some(Measure {
        effect: rr.rr,
        ci_low: rr.ci.low,
        ci_high: rr.ci.high,
        p: table.fisher_p(),
        table,
    })
}

fn survival(pop: &Population, exposed: &Cover, support: &Support) -> Option<Measure> {
    let follow = pop.follow.as_ref()?;
    let is_exposed = |i: usize| exposed.contains(i);
    let c = follow.index.counts(|_| true, is_exposed);
    let enough = c.exposed >= support.survival_group
        && c.units - c.exposed >= support.survival_group
        && c.events >= support.survival_events;
    if !enough {
        return None;
    }
    let lr = follow.index.log_rank(|_| true, is_exposed).ok()?;
    Some(Measure {
        effect: lr.peto.hr,
        ci_low: lr.peto.lower,
        ci_high: lr.peto.upper,
        p: lr.p,
        table: Table2x2::new(
            c.exposed_events,
            c.exposed - c.exposed_events,
            c.events - c.exposed_events,
            (c.units - c.exposed) - (c.events - c.exposed_events),
        ),
    })
}

/// Re-measures every lesson's first pattern at the dataset's cutoff. The q-values are
/// Benjamini–Hochberg over the lessons measured together: the library is the family of claims
/// being checked, declared before this data was looked at again.
pub fn remeasure(
    data: &Dataset,
    lessons: &[Lesson],
    support: &Support,
    measured_at: Timestamp,
) -> Vec<Evidence> {
    let found: Vec<Option<(f64, Measure)>> = lessons
        .iter()
        .map(|l| {
            let p = l.patterns.first()?;
            Some((p.effect, measure(data, p, support)?))
        })
        .collect();
    let ps: Vec<f64> = found.iter().flatten().map(|(_, m)| m.p).collect();
    let mut qs = q_values(&ps, FdrMethod::BenjaminiHochberg).into_iter();
    let cutoff = crate::domain::time::from_unix(data.cutoff);
    lessons
        .iter()
        .zip(found)
        .map(|(l, f)| {
            let base = |verdict| Evidence {
                lesson_id: l.id.clone(),
                lesson_version: l.version,
                measured_at,
                cutoff,
                effect: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
                p: f64::NAN,
                q: f64::NAN,
                n_exposed: 0,
                n_unexposed: 0,
                events_exposed: 0,
                events_unexposed: 0,
                verdict,
            };
            match f {
                None => base(Verdict::Insufficient),
                Some((claimed, m)) => Evidence {
                    effect: m.effect,
                    ci_low: m.ci_low,
                    ci_high: m.ci_high,
                    p: m.p,
                    q: qs.next().unwrap_or(f64::NAN),
                    n_exposed: m.table.n1(),
                    n_unexposed: m.table.n0(),
                    events_exposed: m.table.a,
                    events_unexposed: m.table.c,
                    ..base(verdict(claimed, Some(&m)))
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(effect: f64, lo: f64, hi: f64) -> Measure {
        Measure {
            effect,
            ci_low: lo,
            ci_high: hi,
            p: 0.01,
            table: Table2x2::new(1, 1, 1, 1),
        }
    }

    #[test]
    fn verdicts_read_the_interval_on_the_claimed_side() {
        assert_eq!(verdict(2.4, Some(&m(2.2, 1.5, 3.1))), Verdict::Holds);
        assert_eq!(verdict(2.4, Some(&m(1.3, 0.9, 1.8))), Verdict::Weakened);
        assert_eq!(verdict(2.4, Some(&m(0.6, 0.4, 0.8))), Verdict::Reversed);
        assert_eq!(verdict(0.3, Some(&m(0.4, 0.2, 0.7))), Verdict::Holds);
        assert_eq!(verdict(0.3, Some(&m(0.9, 0.6, 1.3))), Verdict::Weakened);
        assert_eq!(verdict(0.3, Some(&m(1.6, 1.2, 2.0))), Verdict::Reversed);
        assert_eq!(verdict(2.4, None), Verdict::Insufficient);
    }
}
