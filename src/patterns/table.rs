//! One 2×2 table of exposure against outcome, and its statistics (spec §5.3).
//!
//! ```text
//!               outcome=1   outcome=0
//! exposed X        a           b        n1 = a+b
//! not X            c           d        n0 = c+d
//!                  K=a+c                N  = n1+n0
//! ```

use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::ln_binomial;

/// Counts of one exposure against one binary outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table2x2 {
    /// Exposed, with the outcome.
    pub a: u64,
    /// Exposed, without it.
    pub b: u64,
    /// Not exposed, with the outcome.
    pub c: u64,
    /// Not exposed, without it.
    pub d: u64,
}

/// A proportion's 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// Whether the interval contains `x`.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// A relative risk with its Katz interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelativeRisk {
    /// The point estimate (p1 / p0, Haldane–Anscombe corrected when `corrected`).
    pub rr: f64,
    /// Standard error of ln RR.
    pub se: f64,
    /// 95% interval.
    pub ci: Interval,
    /// A cell was 0, so 0.5 was added to every cell for the estimate and its interval ("†").
    pub corrected: bool,
}

/// A risk difference with its Newcombe interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskDifference {
    /// p1 − p0, from the raw counts.
    pub rd: f64,
    /// 95% interval (Newcombe's hybrid score method).
    pub ci: Interval,
}

impl Table2x2 {
    /// A table from its four cells.
    pub fn new(a: u64, b: u64, c: u64, d: u64) -> Table2x2 {
        Table2x2 { a, b, c, d }
    }

    /// Exposed units.
    pub fn n1(&self) -> u64 {
        self.a + self.b
    }

    /// Unexposed units.
    pub fn n0(&self) -> u64 {
        self.c + self.d
    }

    /// Units with the outcome.
    pub fn k(&self) -> u64 {
        self.a + self.c
    }

    /// All units.
    pub fn n(&self) -> u64 {
        self.n1() + self.n0()
    }

    /// The outcome rate among the exposed (0 when there are none).
    pub fn p1(&self) -> f64 {
        ratio(self.a, self.n1())
    }

    /// The outcome rate among the unexposed (0 when there are none).
    pub fn p0(&self) -> f64 {
        ratio(self.c, self.n0())
    }

    /// Wilson 95% interval of the exposed rate.
    pub fn wilson_p1(&self, z: f64) -> Interval {
        wilson(self.a, self.n1(), z)
    }

    /// Wilson 95% interval of the unexposed rate.
    pub fn wilson_p0(&self, z: f64) -> Interval {
        wilson(self.c, self.n0(), z)
    }

    /// The relative risk with the Katz log interval; with a zero cell, 0.5 is added to every
    /// cell first (Haldane–Anscombe). `None` when a group is empty.
    pub fn relative_risk(&self, z: f64) -> Option<RelativeRisk> {
        if self.n1() == 0 || self.n0() == 0 {
            return None;
        }
        let corrected = [self.a, self.b, self.c, self.d].contains(&0);
        let add = if corrected { 0.5 } else { 0.0 };
        let (a, b, c, d) = (
            self.a as f64 + add,
            self.b as f64 + add,
            self.c as f64 + add,
            self.d as f64 + add,
        );
        let (n1, n0) = (a + b, c + d);
        let rr = (a / n1) / (c / n0);
        let se = (1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n0).sqrt();
        Some(RelativeRisk {
            rr,
            se,
            ci: Interval {
                low: rr * (-z * se).exp(),
                high: rr * (z * se).exp(),
            },
            corrected,
        })
    }

    /// The risk difference p1 − p0 with Newcombe's hybrid score interval (method 10), built
    /// from the two Wilson intervals. `None` when a group is empty.
    pub fn risk_difference(&self, z: f64) -> Option<RiskDifference> {
        if self.n1() == 0 || self.n0() == 0 {
            return None;
        }
        let (p1, p0) = (self.p1(), self.p0());
        let (w1, w0) = (self.wilson_p1(z), self.wilson_p0(z));
        let rd = p1 - p0;
        Some(RiskDifference {
            rd,
            ci: Interval {
                low: rd - ((p1 - w1.low).powi(2) + (w0.high - p0).powi(2)).sqrt(),
                high: rd + ((w1.high - p1).powi(2) + (p0 - w0.low).powi(2)).sqrt(),
            },
        })
    }

    /// Fisher's exact test, two-sided: the probability of every table with the same margins
    /// no more likely than this one (R's relative tolerance 1e-7 for ties). 1 when a margin is 0.
    pub fn fisher_p(&self) -> f64 {
        let (n, k, n1) = (self.n(), self.k(), self.n1());
        if n1 == 0 || self.n0() == 0 || k == 0 || k == n {
            return 1.0;
        }
        // The support can hold thousands of terms on a big population and the miner runs this
        // for every candidate, so rather than a log-gamma per term, walk outward from the mode
        // with the pmf's ratio recurrence, relative to the mode's exact value. Terms fall
        // monotonically away from the mode, so each side stops once the terms are too small to
        // change the sum. The threshold term P(a) is computed exactly, not by recurrence.
        let low = n1.saturating_sub(n - k);
        let high = n1.min(k);
        let ln_pmf = |x: u64| ln_binomial(k, x) + ln_binomial(n - k, n1 - x) - ln_binomial(n, n1);
        let mode =
            (((n1 + 1) as f64 * (k + 1) as f64 / (n + 2) as f64).floor() as u64).clamp(low, high);
        let ln_mode = ln_pmf(mode);
        let threshold = (ln_pmf(self.a) - ln_mode).exp() * (1.0 + 1e-7);
        let (nf, kf, n1f) = (n as f64, k as f64, n1 as f64);
        // pmf(x + 1) / pmf(x)
        let up = |x: f64| (n1f - x) * (kf - x) / ((x + 1.0) * (nf - kf - n1f + x + 1.0));
        let mut sum = if 1.0 <= threshold { 1.0 } else { 0.0 };
        let negligible = |term: f64, sum: f64| term <= threshold && term < sum * 1e-17;
        let mut term = 1.0;
        for x in mode..high {
            term *= up(x as f64);
            if term <= threshold {
                sum += term;
            }
            if negligible(term, sum) || term == 0.0 {
                break;
            }
        }
        term = 1.0;
        for x in (low..mode).rev() {
            term /= up(x as f64);
            if term <= threshold {
                sum += term;
            }
            if negligible(term, sum) || term == 0.0 {
                break;
            }
        }
        (sum * ln_mode.exp()).min(1.0)
    }

    /// Fisher's exact test, one-sided in the direction of a risk (RR > 1): the probability of
    /// `a` or more exposed events given the margins. 1 when a margin is 0.
    pub fn fisher_greater(&self) -> f64 {
        self.fisher_tail(true)
    }

    /// Fisher's exact test, one-sided in the direction of a protection (RR < 1): the
    /// probability of `a` or fewer exposed events given the margins.
    pub fn fisher_less(&self) -> f64 {
        self.fisher_tail(false)
    }

    fn fisher_tail(&self, upper: bool) -> f64 {
        let (n, k, n1) = (self.n(), self.k(), self.n1());
        if n1 == 0 || self.n0() == 0 || k == 0 || k == n {
            return 1.0;
        }
        // Log-binomials per term: statrs' pmf loses precision on populations of thousands.
        let pmf =
            |x: u64| (ln_binomial(k, x) + ln_binomial(n - k, n1 - x) - ln_binomial(n, n1)).exp();
        let low = n1.saturating_sub(n - k);
        let high = n1.min(k);
        let p: f64 = if upper {
            (self.a..=high).map(pmf).sum()
        } else {
            (low..=self.a).map(pmf).sum()
        };
        p.min(1.0)
    }

    /// Pearson's χ² without continuity correction and its p-value (for display and
    /// cross-checking; Fisher's p is the one tested). `None` when a margin is 0.
    pub fn chi_square(&self) -> Option<(f64, f64)> {
        let (n1, n0, k, n) = (
            self.n1() as f64,
            self.n0() as f64,
            self.k() as f64,
            self.n() as f64,
        );
        let denominator = n1 * n0 * k * (n - k);
        if denominator == 0.0 {
            return None;
        }
        let cross = self.a as f64 * self.d as f64 - self.b as f64 * self.c as f64;
        let chi2 = n * cross * cross / denominator;
        let p = ChiSquared::new(1.0).ok()?.sf(chi2);
        Some((chi2, p))
    }

    /// Lift: how much likelier the outcome is among the exposed than overall.
    pub fn lift(&self) -> f64 {
        let denominator = self.n1() as f64 * self.k() as f64;
        if denominator == 0.0 {
            return 0.0;
        }
        self.a as f64 * self.n() as f64 / denominator
    }

    /// Weighted relative accuracy: coverage times the gain in rate over the base rate.
    pub fn wracc(&self) -> f64 {
        let n = self.n() as f64;
        if n == 0.0 {
            return 0.0;
        }
        (self.n1() as f64 / n) * (self.p1() - self.k() as f64 / n)
    }
}

fn ratio(x: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { x as f64 / n as f64 }
}

/// Wilson's score interval for `x` successes out of `n`; exactly 0 below when `x = 0` and
/// exactly 1 above when `x = n`. `[0, 1]` when `n = 0`.
pub fn wilson(x: u64, n: u64, z: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let (nf, p) = (n as f64, x as f64 / n as f64);
    let z2 = z * z;
    let denominator = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Interval {
        low: if x == 0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        high: if x == n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::close::assert_close;
    use crate::patterns::z95;
    use statrs::distribution::{Discrete, Hypergeometric};

    /// One row of the spec's 2×2 test vectors.
    struct Vector {
        table: [u64; 4],
        fisher: f64,
        chi2: f64,
        chi2_p: f64,
        rr: [f64; 3],
        corrected: bool,
        wilson_p1: [f64; 2],
        wilson_p0: [f64; 2],
        rd: [f64; 3],
    }

    const VECTORS: [Vector; 4] = [
        Vector {
            table: [24, 16, 30, 90],
            fisher: 9.076041292887651e-05,
            chi2: 16.436058700209642,
            chi2_p: 5.03188750619863e-05,
            rr: [2.4, 1.6086458921409499, 3.5806512969327295],
            corrected: false,
            wilson_p1: [0.44595893660346186, 0.7365167431570808],
            wilson_p0: [0.18109821656809566, 0.33441136664125615],
            rd: [0.35, 0.17434713771025293, 0.5029191842847502],
        },
        Vector {
            table: [5, 15, 0, 20],
            fisher: 0.04712404712404713,
            chi2: 5.714285714285714,
            chi2_p: 0.01682740948275682,
            rr: [11.0, 0.6483837234960623, 186.617886315178],
            corrected: true,
            wilson_p1: [0.11186170140766563, 0.4687008776187441],
            wilson_p0: [0.0, 0.1611251580528194],
            rd: [0.25, 0.03776544556663031, 0.4687008776187441],
        },
        Vector {
            table: [3, 1, 1, 3],
            fisher: 0.48571428571428565,
            chi2: 2.0,
            chi2_p: 0.15729920705028105,
            rr: [3.0, 0.5012843093869408, 17.953883318244678],
            corrected: false,
            wilson_p1: [0.30064184258240184, 0.9544127391902995],
            wilson_p0: [0.0455872608097006, 0.6993581574175982],
            rd: [0.5, -0.13548840058295153, 0.7890832680847557],
        },
        Vector {
            table: [7, 13, 9, 71],
            fisher: 0.016511215649760765,
            chi2: 6.715029761904761,
            chi2_p: 0.009560369541968265,
            rr: [3.1111111111111107, 1.3196371527254909, 7.334601277092435],
            corrected: false,
            wilson_p1: [0.18119182410108203, 0.5671457233147638],
            wilson_p0: [0.060326869466304736, 0.2001821809237288],
            rd: [0.2375, 0.047278116133128545, 0.4608255487031834],
        },
    ];

    #[test]
    fn the_spec_vectors_hold_to_1e_9() {
        let z = z95();
        for v in &VECTORS {
            let [a, b, c, d] = v.table;
            let t = Table2x2::new(a, b, c, d);
            let name = format!("{:?}", v.table);
            assert_close(t.fisher_p(), v.fisher, &format!("{name} Fisher p"));
            let (chi2, p) = t.chi_square().unwrap();
            assert_close(chi2, v.chi2, &format!("{name} χ²"));
            assert_close(p, v.chi2_p, &format!("{name} χ² p"));
            let rr = t.relative_risk(z).unwrap();
            assert_close(rr.rr, v.rr[0], &format!("{name} RR"));
            assert_close(rr.ci.low, v.rr[1], &format!("{name} RR low"));
            assert_close(rr.ci.high, v.rr[2], &format!("{name} RR high"));
            assert_eq!(rr.corrected, v.corrected, "{name} Haldane–Anscombe");
            let (w1, w0) = (t.wilson_p1(z), t.wilson_p0(z));
            assert_close(w1.low, v.wilson_p1[0], &format!("{name} Wilson p1 low"));
            assert_close(w1.high, v.wilson_p1[1], &format!("{name} Wilson p1 high"));
            assert_close(w0.low, v.wilson_p0[0], &format!("{name} Wilson p0 low"));
            assert_close(w0.high, v.wilson_p0[1], &format!("{name} Wilson p0 high"));
            let rd = t.risk_difference(z).unwrap();
            assert_close(rd.rd, v.rd[0], &format!("{name} RD"));
            assert_close(rd.ci.low, v.rd[1], &format!("{name} RD low"));
            assert_close(rd.ci.high, v.rd[2], &format!("{name} RD high"));
        }
    }

    #[test]
    fn the_first_vector_has_its_secondary_columns_and_its_se() {
        let t = Table2x2::new(24, 16, 30, 90);
        assert_close(t.lift(), 1.7777777777777777, "lift");
        assert_close(t.wracc(), 0.065625, "WRAcc");
        assert_close(t.relative_risk(z95()).unwrap().se, 0.2041241452319315, "SE");
        let zero = Table2x2::new(5, 15, 0, 20);
        assert_close(
            zero.relative_risk(z95()).unwrap().se,
            1.444499943433743,
            "SE†",
        );
    }

    #[test]
    fn both_gates_are_needed_fisher_alone_would_surface_the_zero_cell_table() {
        // Fisher p < 0.05, yet the corrected interval includes 1: not a pattern.
        let t = Table2x2::new(5, 15, 0, 20);
        assert!(t.fisher_p() < 0.05);
        assert!(t.relative_risk(z95()).unwrap().ci.contains(1.0));
    }

    #[test]
    fn one_sided_fisher_tails_add_up_with_the_point() {
        let t = Table2x2::new(24, 16, 30, 90);
        let h = Hypergeometric::new(t.n(), t.k(), t.n1()).unwrap();
        let both = t.fisher_greater() + t.fisher_less() - h.pmf(t.a);
        assert_close(both, 1.0, "the tails overlap only at a");
        assert!(
            t.fisher_greater() < t.fisher_p(),
            "the one-sided p of a risk is smaller"
        );
        assert!(t.fisher_less() > 0.99);
        assert_eq!(Table2x2::new(0, 0, 1, 1).fisher_greater(), 1.0);
    }

    #[test]
    fn empty_groups_and_margins_are_safe() {
        let z = z95();
        let no_exposed = Table2x2::new(0, 0, 3, 5);
        assert_eq!(no_exposed.relative_risk(z), None);
        assert_eq!(no_exposed.risk_difference(z), None);
        assert_eq!(no_exposed.fisher_p(), 1.0);
        let no_events = Table2x2::new(0, 7, 0, 9);
        assert_eq!(no_events.fisher_p(), 1.0);
        assert_eq!(no_events.chi_square(), None);
        assert_eq!(
            wilson(0, 0, z),
            Interval {
                low: 0.0,
                high: 1.0
            }
        );
        let all = wilson(5, 5, z);
        assert_eq!(all.high, 1.0);
    }

    proptest::proptest! {
        /// Every p is a probability and every interval holds its estimate.
        #[test]
        fn statistics_stay_in_range(a in 0u64..60, b in 0u64..60, c in 0u64..60, d in 0u64..60) {
            let t = Table2x2::new(a, b, c, d);
            let z = z95();
            let p = t.fisher_p();
            proptest::prop_assert!((0.0..=1.0).contains(&p));
            if let Some(rr) = t.relative_risk(z) {
                proptest::prop_assert!(rr.ci.low <= rr.rr && rr.rr <= rr.ci.high);
            }
            if let Some(rd) = t.risk_difference(z) {
                proptest::prop_assert!(rd.ci.low <= rd.rd + 1e-12 && rd.rd <= rd.ci.high + 1e-12);
            }
            let w = t.wilson_p1(z);
            proptest::prop_assert!(0.0 <= w.low && w.low <= w.high && w.high <= 1.0);
        }
    }

    /// Fisher's two-sided p summed term by term, each hypergeometric term from log-binomials
    /// (statrs' `Hypergeometric::pmf` loses all precision on populations of thousands): the
    /// definition the fast walk must reproduce.
    fn fisher_by_definition(t: &Table2x2) -> f64 {
        let (n, k, n1) = (t.n(), t.k(), t.n1());
        if n1 == 0 || t.n0() == 0 || k == 0 || k == n {
            return 1.0;
        }
        let pmf =
            |x: u64| (ln_binomial(k, x) + ln_binomial(n - k, n1 - x) - ln_binomial(n, n1)).exp();
        let observed = pmf(t.a) * (1.0 + 1e-7);
        let p: f64 = (n1.saturating_sub(n - k)..=n1.min(k))
            .map(pmf)
            .filter(|&px| px <= observed)
            .sum();
        p.min(1.0)
    }

    #[test]
    fn fisher_walk_matches_scipy_on_big_tables() {
        // scipy.stats.fisher_exact(...).pvalue
        for (t, want) in [
            ((0, 500, 40, 9000), 0.27116760380853555),
            ((7, 382, 327, 382), 1.419916125567212e-66),
        ] {
            let t = Table2x2::new(t.0, t.1, t.2, t.3);
            assert!(
                ((t.fisher_p() - want) / want).abs() < 1e-9,
                "{t:?}: {}",
                t.fisher_p()
            );
        }
    }

    #[test]
    fn fisher_walk_matches_the_definition_on_big_tables() {
        for (a, b, c, d) in [
            (2400, 1600, 3000, 9000),
            (24, 16, 30, 90),
            (0, 500, 40, 9000),
            (500, 0, 40, 9000),
            (1, 1, 1, 1),
            (10, 10, 10, 10),
            (300, 2000, 280, 2100),
            (1200, 800, 900, 1100),
        ] {
            let t = Table2x2::new(a, b, c, d);
            assert_close(t.fisher_p(), fisher_by_definition(&t), &format!("{t:?}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn fisher_walk_matches_the_definition(a in 0u64..400, b in 0u64..400, c in 0u64..400, d in 0u64..400) {
            let t = Table2x2::new(a, b, c, d);
            let want = fisher_by_definition(&t);
            let got = t.fisher_p();
            if want > 1e-250 {
                proptest::prop_assert!(((got - want) / want).abs() <= 1e-9, "{:?}: {} vs {}", t, got, want);
            } else {
                proptest::prop_assert!(got <= 1e-280);
            }
        }
    }
}
