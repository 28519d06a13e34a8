//! Time to event with right censoring (spec §5.9, pattern type D).
//!
//! - [`KaplanMeier`]: S(t) at each distinct event time, with Greenwood's variance and the
//!   exponential-Greenwood (log(−log)) 95% interval that lifelines reports; the median and S(h)
//!   lookups;
//! - [`log_rank`]: the log-rank test of exposed vs unexposed, with the Peto hazard ratio.
//!
//! Durations are whole days from the index time T (spec §5.1); `true` marks an event, `false`
//! a censored unit. A unit censored at t is still at risk at t.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::z95;

/// Why survival statistics could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SurvivalError {
    /// The duration and event slices have different lengths.
    #[error("{durations} durations but {events} event flags")]
    LengthMismatch {
        /// Number of durations.
        durations: usize,
        /// Number of event flags.
        events: usize,
    },
    /// A group has no units at all.
    #[error("a survival group has no units")]
    EmptyGroup,
    /// The log-rank variance is 0 (no events, or none while both groups were at risk), so the
    /// test and the Peto hazard ratio are undefined.
    #[error("the log-rank test is undefined: no events while both groups were at risk")]
    NoInformation,
    /// statrs rejected a distribution parameter (cannot happen for 1 df; kept so that a future
    /// change surfaces as an error instead of a panic).
    #[error("statrs rejected a distribution parameter: {0}")]
    Distribution(String),
}

/// One group's follow-up: a duration in days and an event flag per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'a> {
    durations: &'a [u32],
    events: &'a [bool],
}

impl<'a> Group<'a> {
    /// A group from parallel slices. Errors if their lengths differ or the group is empty, so
    /// every later computation can assume a well-formed, non-empty sample.
    pub fn new(durations: &'a [u32], events: &'a [bool]) -> Result<Self, SurvivalError> {
        if durations.len() != events.len() {
            return Err(SurvivalError::LengthMismatch {
                durations: durations.len(),
                events: events.len(),
            });
        }
        if durations.is_empty() {
            return Err(SurvivalError::EmptyGroup);
        }
        Ok(Self { durations, events })
    }

    /// Number of units.
    pub fn units(&self) -> usize {
        self.durations.len()
    }

    /// Number of events (uncensored units).
    pub fn event_count(&self) -> u64 {
        self.events.iter().filter(|e| **e).count() as u64
    }

    /// (duration, event) pairs sorted by duration, for the sweeps below.
    fn sorted(&self) -> Vec<(u32, bool)> {
        let mut v: Vec<(u32, bool)> = self
            .durations
            .iter()
            .copied()
            .zip(self.events.iter().copied())
            .collect();
        v.sort_unstable_by_key(|(t, _)| *t);
        v
    }
}

/// A two-sided 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// The Kaplan–Meier estimate just after one distinct event time t_j.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmStep {
    /// The event time t_j, in days.
    pub time: u32,
    /// n_j: units with duration ≥ t_j (censored at t_j still count).
    pub at_risk: u64,
    /// d_j: events at t_j.
    pub events: u64,
    /// S(t_j) = Π_{t_i ≤ t_j} (1 − d_i/n_i).
    pub survival: f64,
    /// Greenwood's sum G(t_j) = Σ d_i/(n_i(n_i − d_i)), terms with n_i = d_i skipped.
    pub greenwood: f64,
    /// Exponential-Greenwood 95% interval; `None` when S = 0, where log(−log S) is undefined.
    pub ci: Option<Interval>,
}

/// A fitted Kaplan–Meier curve (spec §5.9).
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    steps: Vec<KmStep>,
}

impl KaplanMeier {
    /// Fit the curve. Infallible: a [`Group`] is already non-empty and well formed, and a group
    /// with no events simply has no steps (S = 1 throughout).
    pub fn fit(group: &Group<'_>) -> Self {
        let z = z95();
        let (mut s, mut g) = (1.0_f64, 0.0_f64);
        let steps = event_times(&group.sorted())
            .into_iter()
            .map(|(time, at_risk, events)| {
                let (n, d) = (at_risk as f64, events as f64);
                s *= 1.0 - d / n;
                if at_risk > events {
                    g += d / (n * (n - d));
                }
                KmStep {
                    time,
                    at_risk,
                    events,
                    survival: s,
                    greenwood: g,
                    ci: log_log_interval(s, g, z),
                }
            })
            .collect();
        Self { steps }
    }

    /// The steps, one per distinct event time, in time order.
    pub fn steps(&self) -> &[KmStep] {
        &self.steps
    }

    /// S(t): the value at the last event time ≤ t, or 1 before the first event (spec §5.9's
    /// horizon values S(30), S(60), S(90)).
    pub fn survival_at(&self, t: u32) -> f64 {
        self.step_at(t).map_or(1.0, |s| s.survival)
    }

    /// The step in force at t (the last event time ≤ t), if any event has happened by then.
    pub fn step_at(&self, t: u32) -> Option<&KmStep> {
        let after = self.steps.partition_point(|s| s.time <= t);
        after.checked_sub(1).map(|i| &self.steps[i])
    }

    /// Median survival: the smallest t_j with S(t_j) ≤ 0.5, or `None` ("not reached").
    pub fn median(&self) -> Option<u32> {
        self.steps
            .iter()
            .find(|s| s.survival <= 0.5)
            .map(|s| s.time)
    }
}

/// The exponential-Greenwood interval for 0 < S < 1 (spec §5.9):
/// lower = S^{exp(+z√G/|ln S|)}, upper = S^{exp(−z√G/|ln S|)}.
///
/// At a step S < 1 always holds (d_j ≥ 1), and S > 0 implies some term with n_j > d_j, so G > 0;
/// only S = 0 (everyone still at risk had the event) has no interval.
fn log_log_interval(s: f64, g: f64, z: f64) -> Option<Interval> {
    if !(s > 0.0 && s < 1.0) {
        return None;
    }
    let c = z * g.sqrt() / s.ln().abs();
    Some(Interval {
        lower: s.powf(c.exp()),
        upper: s.powf((-c).exp()),
    })
}

/// Sweep sorted (duration, event) pairs into (t_j, n_j, d_j) for each distinct event time.
fn event_times(sorted: &[(u32, bool)]) -> Vec<(u32, u64, u64)> {
    let mut out = Vec::new();
    let mut at_risk = sorted.len() as u64;
    for tied in sorted.chunk_by(|x, y| x.0 == y.0) {
        let d = tied.iter().filter(|(_, e)| *e).count() as u64;
        if d > 0 {
            out.push((tied[0].0, at_risk, d));
        }
        // Everyone with this duration (events and censored alike) leaves the risk set only after
        // t_j, which is what makes "censored at t_j" still at risk at t_j.
        at_risk -= tied.len() as u64;
    }
    out
}

/// The Peto one-step hazard ratio, exp((O₁ − E₁)/V), with its 95% CI. Approximate: biased when
/// the HR is beyond about 3, so label it "approx." (spec §5.9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PetoHazardRatio {
    /// exp((O₁ − E₁)/V).
    pub hr: f64,
    /// exp((O₁ − E₁)/V − z/√V).
    pub lower: f64,
    /// exp((O₁ − E₁)/V + z/√V).
    pub upper: f64,
}

/// The log-rank test of the exposed group (group 1) against the unexposed group (spec §5.9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// O₁: events observed in the exposed group.
    pub observed: u64,
    /// E₁ = Σ d_j·n1_j/n_j over the pooled distinct event times.
    pub expected: f64,
    /// V = Σ d_j·(n1_j/n_j)(1 − n1_j/n_j)(n_j − d_j)/(n_j − 1), over n_j > 1.
    pub variance: f64,
    /// χ² = (O₁ − E₁)²/V, 1 df.
    pub chi2: f64,
    /// p = χ²₁.sf(χ²).
    pub p: f64,
    /// The Peto hazard ratio of exposed vs unexposed.
    pub peto: PetoHazardRatio,
}

/// The log-rank test and Peto HR of `exposed` vs `unexposed`.
///
/// Errors with [`SurvivalError::NoInformation`] when V = 0 — no events at all (e.g. everyone
/// censored), or events only while a single unit was at risk — since χ² and the HR divide by V.
pub fn log_rank(exposed: &Group<'_>, unexposed: &Group<'_>) -> Result<LogRank, SurvivalError> {
    // Pool both groups, exposed first, and run the one sweep the miner uses.
    let n1 = exposed.units();
    let durations = [exposed.durations, unexposed.durations].concat();
    let events = [exposed.events, unexposed.events].concat();
    SurvivalIndex::new(durations, events)?.log_rank(|_| true, |i| i < n1)
}

impl LogRank {
    /// χ², p and the Peto HR from O₁, E₁ and V (V > 0).
    fn from_sums(observed: u64, expected: f64, variance: f64) -> Result<LogRank, SurvivalError> {
        let diff = observed as f64 - expected;
        let chi2 = diff * diff / variance;
        let dist = ChiSquared::new(1.0).map_err(|e| SurvivalError::Distribution(e.to_string()))?;
        let ln_hr = diff / variance;
        let half = z95() / variance.sqrt();
        Ok(LogRank {
            observed,
            expected,
            variance,
            chi2,
            p: dist.sf(chi2),
            peto: PetoHazardRatio {
                hr: ln_hr.exp(),
                lower: (ln_hr - half).exp(),
                upper: (ln_hr + half).exp(),
            },
        })
    }
}

/// One population's follow-up sorted once, so that the log-rank test of any exposure cover
/// against the rest costs one pass over the units instead of a sort per candidate.
#[derive(Debug, Clone)]
pub struct SurvivalIndex {
    /// Unit indices in ascending duration.
    order: Vec<u32>,
    durations: Vec<u32>,
    events: Vec<bool>,
}

impl SurvivalIndex {
    /// Indexes `durations[i]`/`events[i]` of unit i.
    pub fn new(durations: Vec<u32>, events: Vec<bool>) -> Result<Self, SurvivalError> {
        if durations.len() != events.len() {
            return Err(SurvivalError::LengthMismatch {
                durations: durations.len(),
                events: events.len(),
            });
        }
        let mut order: Vec<u32> = (0..durations.len() as u32).collect();
        order.sort_by_key(|&i| durations[i as usize]);
        Ok(Self {
            order,
            durations,
            events,
        })
    }

    /// Durations by unit.
    pub fn durations(&self) -> &[u32] {
        &self.durations
    }

    /// Event flags by unit.
    pub fn events(&self) -> &[bool] {
        &self.events
    }

    /// Units, exposed units, events and exposed events within the units `member` accepts.
    pub fn counts(
        &self,
        member: impl Fn(usize) -> bool,
        exposed: impl Fn(usize) -> bool,
    ) -> Counts {
        let mut c = Counts::default();
        for (i, &event) in self.events.iter().enumerate() {
            if !member(i) {
                continue;
            }
            let x = exposed(i);
            c.units += 1;
            c.exposed += u64::from(x);
            c.events += u64::from(event);
            c.exposed_events += u64::from(event && x);
        }
        c
    }

    /// The log-rank test of the units `exposed` accepts against the other units `member`
    /// accepts; the same figures as [`log_rank`] on the two groups.
    pub fn log_rank(
        &self,
        member: impl Fn(usize) -> bool,
        exposed: impl Fn(usize) -> bool,
    ) -> Result<LogRank, SurvivalError> {
        let totals = self.counts(&member, &exposed);
        if totals.exposed == 0 || totals.exposed == totals.units {
            return Err(SurvivalError::EmptyGroup);
        }
        let (mut n, mut n1) = (totals.units, totals.exposed);
        let (mut expected, mut variance) = (0.0, 0.0);
        let mut k = 0;
        while k < self.order.len() {
            let t = self.durations[self.order[k] as usize];
            let (mut d, mut leaving, mut leaving1) = (0u64, 0u64, 0u64);
            while k < self.order.len() && self.durations[self.order[k] as usize] == t {
                let i = self.order[k] as usize;
                k += 1;
                if !member(i) {
                    continue;
                }
                leaving += 1;
                leaving1 += u64::from(exposed(i));
                d += u64::from(self.events[i]);
            }
            if d > 0 {
                let (nf, n1f, df) = (n as f64, n1 as f64, d as f64);
                let share = n1f / nf;
                expected += df * share;
                if n > 1 {
                    variance += df * share * (1.0 - share) * (nf - df) / (nf - 1.0);
                }
            }
            n -= leaving;
            n1 -= leaving1;
        }
        if variance <= 0.0 {
            return Err(SurvivalError::NoInformation);
        }
        LogRank::from_sums(totals.exposed_events, expected, variance)
    }

    /// The Kaplan–Meier fit of the units `member` accepts (`None` when there are none).
    pub fn kaplan_meier(&self, member: impl Fn(usize) -> bool) -> Option<KaplanMeier> {
        let (durations, events): (Vec<u32>, Vec<bool>) = (0..self.durations.len())
            .filter(|&i| member(i))
            .map(|i| (self.durations[i], self.events[i]))
            .unzip();
        Group::new(&durations, &events)
            .ok()
            .map(|g| KaplanMeier::fit(&g))
    }
}

/// Unit and event counts of a survival comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Units in the population.
    pub units: u64,
    /// Exposed units.
    pub exposed: u64,
    /// Events in the population.
    pub events: u64,
    /// Events among the exposed.
    pub exposed_events: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::close::assert_close;

    /// Spec §5.12 "Survival": no live economic buyer (exposed).
    const NO_EB_T: [u32; 12] = [5, 8, 8, 12, 15, 21, 21, 30, 34, 40, 45, 60];
    const NO_EB_E: [u8; 12] = [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0];
    /// Spec §5.12 "Survival": live economic buyer (unexposed).
    const EB_T: [u32; 12] = [7, 14, 20, 28, 35, 42, 50, 55, 63, 70, 90, 90];
    const EB_E: [u8; 12] = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0];

    fn flags(e: &[u8]) -> Vec<bool> {
        e.iter().map(|x| *x == 1).collect()
    }

    #[test]
    fn km_vector_no_live_eb() {
        let events = flags(&NO_EB_E);
        let km = KaplanMeier::fit(&Group::new(&NO_EB_T, &events).unwrap());
        let want = [
            (
                5,
                0.9166666666666667,
                0.5389771805707405,
                0.9878255654004581,
            ),
            (
                8,
                0.8333333333333335,
                0.48171494219537864,
                0.955509365728065,
            ),
            (
                12,
                0.7407407407407406,
                0.39067612760778186,
                0.9086238694040616,
            ),
            (
                15,
                0.6481481481481481,
                0.3096622270171607,
                0.8517975123354391,
            ),
            (
                21,
                0.5555555555555556,
                0.23690020773318007,
                0.7867014663875918,
            ),
            (
                30,
                0.4444444444444444,
                0.151409822296475,
                0.7058499692798322,
            ),
            (
                34,
                0.33333333333333337,
                0.08486087400580412,
                0.6130623337263245,
            ),
            (
                45,
                0.16666666666666669,
                0.01121193606531346,
                0.4892469181441243,
            ),
        ];
        assert_eq!(km.steps().len(), want.len());
        for (step, (t, s, lo, hi)) in km.steps().iter().zip(want) {
            assert_eq!(step.time, t);
            assert_close(step.survival, s, &format!("S({t})"));
            let ci = step.ci.unwrap();
            assert_close(ci.lower, lo, &format!("lower({t})"));
            assert_close(ci.upper, hi, &format!("upper({t})"));
        }
        assert_eq!(km.median(), Some(30));
    }

    #[test]
    fn km_censored_at_event_time_stays_at_risk() {
        let events = flags(&NO_EB_E);
        let km = KaplanMeier::fit(&Group::new(&NO_EB_T, &events).unwrap());
        // t = 8: one event and one censored unit; both are among the 11 at risk.
        let step = km.step_at(8).unwrap();
        assert_eq!((step.at_risk, step.events), (11, 1));
    }

    #[test]
    fn km_vector_live_eb_median_and_s30() {
        let events = flags(&EB_E);
        let km = KaplanMeier::fit(&Group::new(&EB_T, &events).unwrap());
        assert_eq!(km.median(), Some(63));
        assert_close(km.survival_at(30), 0.8080808080808078, "S(30)");
        assert_close(km.survival_at(0), 1.0, "S(0)");
        assert_close(km.survival_at(13), 1.0, "S before the first event");
    }

    #[test]
    fn log_rank_vector() {
        let (e1, e0) = (flags(&NO_EB_E), flags(&EB_E));
        let exposed = Group::new(&NO_EB_T, &e1).unwrap();
        let unexposed = Group::new(&EB_T, &e0).unwrap();
        let lr = log_rank(&exposed, &unexposed).unwrap();
        assert_eq!(lr.observed, 8);
        assert_close(lr.expected, 4.443168016194332, "E₁");
        assert_close(lr.variance, 2.6555635785204412, "V");
        assert_close(lr.chi2, 4.763980747194747, "χ²");
        assert_close(lr.p, 0.029061261657011207, "p");
        assert_close(lr.peto.hr, 3.8167098309502987, "Peto HR");
        assert_close(lr.peto.lower, 1.1464317956955528, "HR lower");
        assert_close(lr.peto.upper, 12.70662065407435, "HR upper");
    }

    #[test]
    fn log_rank_is_antisymmetric_in_the_groups() {
        let (e1, e0) = (flags(&NO_EB_E), flags(&EB_E));
        let a = Group::new(&NO_EB_T, &e1).unwrap();
        let b = Group::new(&EB_T, &e0).unwrap();
        let (ab, ba) = (log_rank(&a, &b).unwrap(), log_rank(&b, &a).unwrap());
        assert_close(ba.chi2, ab.chi2, "χ² symmetric");
        assert_close(ba.variance, ab.variance, "V symmetric");
        assert_close(ba.peto.hr, 1.0 / ab.peto.hr, "HR inverts");
    }

    #[test]
    fn all_censored_has_flat_curve_and_no_log_rank() {
        let t = [10, 20, 30];
        let e = [false; 3];
        let g = Group::new(&t, &e).unwrap();
        let km = KaplanMeier::fit(&g);
        assert!(km.steps().is_empty());
        assert_eq!(km.median(), None);
        assert_close(km.survival_at(100), 1.0, "S all censored");
        assert_eq!(log_rank(&g, &g), Err(SurvivalError::NoInformation));
    }

    #[test]
    fn curve_reaching_zero_has_no_interval() {
        let t = [3, 5, 5];
        let e = [true, true, true];
        let km = KaplanMeier::fit(&Group::new(&t, &e).unwrap());
        let last = km.steps().last().unwrap();
        assert_eq!(last.survival, 0.0);
        assert!(last.ci.is_none());
        assert!(last.greenwood.is_finite());
        assert!(km.steps()[0].ci.is_some());
        assert_eq!(km.median(), Some(5));
    }

    #[test]
    fn median_not_reached() {
        let t = [1, 2, 3, 4];
        let e = [true, false, false, false];
        let km = KaplanMeier::fit(&Group::new(&t, &e).unwrap());
        assert_eq!(km.median(), None);
    }

    #[test]
    fn empty_or_mismatched_group_is_an_error() {
        assert_eq!(Group::new(&[], &[]), Err(SurvivalError::EmptyGroup));
        assert_eq!(
            Group::new(&[1, 2], &[true]),
            Err(SurvivalError::LengthMismatch {
                durations: 2,
                events: 1,
            })
        );
    }

    #[test]
    fn zero_duration_units_are_handled() {
        // Duration 0 (the event on the index day) is a valid integer day.
        let (t1, e1) = ([0, 0, 4, 9], [true, false, true, false]);
        let (t0, e0) = ([0, 6, 8], [false, true, false]);
        let (a, b) = (Group::new(&t1, &e1).unwrap(), Group::new(&t0, &e0).unwrap());
        let km = KaplanMeier::fit(&a);
        assert_eq!(km.steps()[0].time, 0);
        assert_eq!(km.steps()[0].at_risk, 4);
        let lr = log_rank(&a, &b).unwrap();
        assert!(lr.p.is_finite() && lr.peto.hr.is_finite());
    }

    #[test]
    fn the_index_gives_the_same_log_rank_as_two_groups() {
        let durations: Vec<u32> = NO_EB_T.iter().chain(EB_T.iter()).copied().collect();
        let events: Vec<bool> = flags(&NO_EB_E).into_iter().chain(flags(&EB_E)).collect();
        let index = SurvivalIndex::new(durations, events).expect("index");
        let got = index.log_rank(|_| true, |i| i < 12).expect("log-rank");
        let (e1, e0) = (flags(&NO_EB_E), flags(&EB_E));
        let want = log_rank(
            &Group::new(&NO_EB_T, &e1).expect("group"),
            &Group::new(&EB_T, &e0).expect("group"),
        )
        .expect("log-rank");
        assert_eq!(got.observed, want.observed);
        assert_close(got.expected, want.expected, "E1");
        assert_close(got.variance, want.variance, "V");
        assert_close(got.p, want.p, "p");
        assert_close(got.peto.hr, want.peto.hr, "HR");
        // A member filter drops units from both groups.
        let some = index
            .log_rank(|i| i % 5 != 0, |i| i < 12)
            .expect("log-rank");
        assert!(some.observed < want.observed || some.expected != want.expected);
    }
}
