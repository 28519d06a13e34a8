//! Stratified 2×2 analysis: the confounding guard of spec §5.7 and the interaction test of §5.8.
//!
//! Every function takes plain counts, one [`Stratum`] per level of the confounder or moderator,
//! in the spec's `a b c d` order (exposed events, exposed non-events, unexposed events, unexposed
//! non-events). Nothing here looks at deals; the caller builds the strata.
//!
//! - [`mantel_haenszel_rr`]: RR_MH with the Greenland–Robins variance and its 95% CI;
//! - [`cmh_test`]: the Cochran–Mantel–Haenszel χ² (no continuity correction, as the spec's
//!   vector requires), [`mh_odds_ratio`] and [`breslow_day`] (with Tarone's correction);
//! - [`crude_table`], [`katz_rr`] and [`ConfoundingFlags`]: the Simpson reversal and the other
//!   §5.7 flags;
//! - [`interaction_test`] (two strata, ln RR scale) and [`cochran_q`] (K strata).

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::z95;

/// One stratum's 2×2 table in the spec's notation (§5): rows exposed / not exposed, columns
/// outcome / no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stratum {
    /// Exposed units with the outcome.
    pub a: u64,
    /// Exposed units without the outcome.
    pub b: u64,
    /// Unexposed units with the outcome.
    pub c: u64,
    /// Unexposed units without the outcome.
    pub d: u64,
}

impl Stratum {
    /// A stratum from its four cells, in `a b c d` order.
    pub const fn new(a: u64, b: u64, c: u64, d: u64) -> Self {
        Self { a, b, c, d }
    }

    /// Exposed units, n1 = a + b.
    pub const fn n1(&self) -> u64 {
        self.a + self.b
    }

    /// Unexposed units, n0 = c + d.
    pub const fn n0(&self) -> u64 {
        self.c + self.d
    }

    /// Units with the outcome, K = a + c.
    pub const fn events(&self) -> u64 {
        self.a + self.c
    }

    /// All units, N = n1 + n0.
    pub const fn total(&self) -> u64 {
        self.n1() + self.n0()
    }

    /// The cells and margins as floats, so the formulas below read like the spec.
    fn floats(&self) -> Cells {
        Cells {
            a: self.a as f64,
            b: self.b as f64,
            c: self.c as f64,
            d: self.d as f64,
        }
    }

    /// True when a margin is zero: then `a` is fixed by the margins, and the stratum carries no
    /// information about association (its CMH variance and Breslow–Day variance are 0).
    fn has_zero_margin(&self) -> bool {
        self.n1() == 0 || self.n0() == 0 || self.events() == 0 || self.events() == self.total()
    }
}

impl From<[u64; 4]> for Stratum {
    fn from([a, b, c, d]: [u64; 4]) -> Self {
        Self::new(a, b, c, d)
    }
}

/// A stratum's cells as floats (possibly Haldane–Anscombe corrected), with the margins.
#[derive(Debug, Clone, Copy)]
struct Cells {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
}

impl Cells {
    fn n1(&self) -> f64 {
        self.a + self.b
    }
    fn n0(&self) -> f64 {
        self.c + self.d
    }
    fn k(&self) -> f64 {
        self.a + self.c
    }
    fn n(&self) -> f64 {
        self.n1() + self.n0()
    }
}

/// Why a stratified statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StrataError {
    /// A stratum has no exposed or no unexposed units, so its risk ratio does not exist.
    #[error("a stratum has no {group} units, so its risk ratio is undefined")]
    EmptyGroup {
        /// `"exposed"` or `"unexposed"`.
        group: &'static str,
    },
    /// The strata carry no information for this statistic (e.g. no events in one arm across all
    /// strata, so RR_MH would be 0 or ∞).
    #[error("{statistic} is undefined: the strata carry no information for it")]
    Undefined {
        /// Which statistic.
        statistic: &'static str,
    },
    /// A heterogeneity test needs at least two informative strata.
    #[error("{statistic} needs at least 2 informative strata, got {got}")]
    TooFewStrata {
        /// Which statistic.
        statistic: &'static str,
        /// How many informative strata there were.
        got: usize,
    },
    /// statrs rejected a distribution parameter (cannot happen for df ≥ 1; kept so that a
    /// future change surfaces as an error instead of a panic).
    #[error("statrs rejected a distribution parameter: {0}")]
    Distribution(String),
}

/// A χ² test result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareTest {
    /// The χ² statistic.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value, χ²_df.sf(statistic).
    pub p: f64,
}

impl ChiSquareTest {
    fn new(statistic: f64, df: usize) -> Result<Self, StrataError> {
        let p = chi2_sf(statistic, df)?;
        Ok(Self { statistic, df, p })
    }
}

/// The upper tail of χ²_df, via statrs as the spec requires.
fn chi2_sf(x: f64, df: usize) -> Result<f64, StrataError> {
    let dist = ChiSquared::new(df as f64).map_err(|e| StrataError::Distribution(e.to_string()))?;
    Ok(dist.sf(x))
}

/// Two-sided normal p-value, 2·(1 − Φ(|z|)); computed as 2·sf so small p keep their precision.
fn normal_two_sided_p(z: f64) -> Result<f64, StrataError> {
    let dist = Normal::new(0.0, 1.0).map_err(|e| StrataError::Distribution(e.to_string()))?;
    Ok(2.0 * dist.sf(z.abs()))
}

/// Spec §5.7: strata with N_k ≤ 1 are skipped (their CMH variance divides by N_k − 1 = 0).
fn usable(strata: &[Stratum]) -> impl Iterator<Item = &Stratum> {
    strata.iter().filter(|s| s.total() > 1)
}

/// The Mantel–Haenszel risk ratio across strata (spec §5.7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MhRiskRatio {
    /// RR_MH = R/S.
    pub rr: f64,
    /// Greenland–Robins (1985) variance of ln RR_MH.
    pub var_ln_rr: f64,
    /// Lower 95% bound, RR_MH·exp(−z·√Var).
    pub lower: f64,
    /// Upper 95% bound, RR_MH·exp(+z·√Var).
    pub upper: f64,
    /// How many strata entered the sums (those with N_k > 1).
    pub strata_used: usize,
}

impl MhRiskRatio {
    /// True when the 95% CI lies entirely on one side of 1.
    pub fn ci_excludes_one(&self) -> bool {
        self.lower > 1.0 || self.upper < 1.0
    }
}

/// RR_MH with the Greenland–Robins variance and 95% CI (spec §5.7).
///
/// Strata with N_k ≤ 1 are skipped; strata with n1_k = 0 or n0_k = 0 contribute 0 to every sum by
/// construction. Errors with [`StrataError::Undefined`] when R or S is 0 (no exposed or no
/// unexposed events in any stratum), because RR_MH is then 0 or ∞ and ln RR_MH has no variance.
pub fn mantel_haenszel_rr(strata: &[Stratum]) -> Result<MhRiskRatio, StrataError> {
    let (mut r, mut s, mut var_num, mut used) = (0.0, 0.0, 0.0, 0);
    for t in usable(strata) {
        let x = t.floats();
        let n = x.n();
        r += x.a * x.n0() / n;
        s += x.c * x.n1() / n;
        var_num += (x.n1() * x.n0() * x.k() - x.a * x.c * n) / (n * n);
        used += 1;
    }
    if !(r > 0.0 && s > 0.0) {
        return Err(StrataError::Undefined {
            statistic: "the Mantel–Haenszel risk ratio",
        });
    }
    let rr = r / s;
    let var_ln_rr = var_num / (r * s);
    let half = z95() * var_ln_rr.sqrt();
    Ok(MhRiskRatio {
        rr,
        var_ln_rr,
        lower: rr * (-half).exp(),
        upper: rr * half.exp(),
        strata_used: used,
    })
}

/// The Cochran–Mantel–Haenszel χ² test, 1 df, exactly as spec §5.7 writes it — without a
/// continuity correction (the spec's Simpson vector, 5.7325…, is the uncorrected value).
///
/// Errors with [`StrataError::Undefined`] when every stratum has a zero margin (the variance
/// sum is 0).
pub fn cmh_test(strata: &[Stratum]) -> Result<ChiSquareTest, StrataError> {
    let (mut diff, mut var) = (0.0, 0.0);
    for t in usable(strata) {
        let x = t.floats();
        let n = x.n();
        diff += x.a - x.n1() * x.k() / n;
        var += x.n1() * x.k() * x.n0() * (n - x.k()) / (n * n * (n - 1.0));
    }
    if var <= 0.0 {
        return Err(StrataError::Undefined {
            statistic: "the CMH χ² test",
        });
    }
    ChiSquareTest::new(diff.abs().powi(2) / var, 1)
}

/// The Mantel–Haenszel odds ratio, Σ(a_k·d_k/N_k) / Σ(b_k·c_k/N_k).
///
/// Errors with [`StrataError::Undefined`] when either sum is 0 (the OR would be 0 or ∞).
pub fn mh_odds_ratio(strata: &[Stratum]) -> Result<f64, StrataError> {
    let (mut num, mut den) = (0.0, 0.0);
    for t in usable(strata) {
        let x = t.floats();
        num += x.a * x.d / x.n();
        den += x.b * x.c / x.n();
    }
    if !(num > 0.0 && den > 0.0) {
        return Err(StrataError::Undefined {
            statistic: "the Mantel–Haenszel odds ratio",
        });
    }
    Ok(num / den)
}

/// Breslow–Day homogeneity of odds ratios, plain and with Tarone's correction (spec §5.8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreslowDay {
    /// ψ, the MH odds ratio the expected counts are fitted under.
    pub odds_ratio: f64,
    /// The Breslow–Day statistic, df = K − 1.
    pub statistic: ChiSquareTest,
    /// Breslow–Day with Tarone's correction, df = K − 1.
    pub tarone: ChiSquareTest,
}

/// Breslow–Day and Breslow–Day–Tarone tests of a common odds ratio (spec §5.8).
///
/// Only informative strata enter: a stratum with a zero margin has `a_k` fixed by its margins,
/// so E_k = a_k and V_k = 0 and its term would be 0/0; leaving it out is its limit and keeps the
/// df honest. Errors with [`StrataError::TooFewStrata`] below two informative strata and with
/// [`StrataError::Undefined`] when the MH odds ratio is 0 or ∞.
pub fn breslow_day(strata: &[Stratum]) -> Result<BreslowDay, StrataError> {
    let informative: Vec<Stratum> = usable(strata)
        .filter(|t| !t.has_zero_margin())
        .copied()
        .collect();
    if informative.len() < 2 {
        return Err(StrataError::TooFewStrata {
            statistic: "Breslow–Day",
            got: informative.len(),
        });
    }
    let psi = mh_odds_ratio(&informative)?;
    let (mut bd, mut sum_a, mut sum_e, mut sum_v) = (0.0, 0.0, 0.0, 0.0);
    for t in &informative {
        let x = t.floats();
        let (r, s, tt) = (x.n1(), x.k(), x.d - x.a);
        let e = expected_a(psi, r, s, tt, x.n());
        let v = 1.0 / (1.0 / e + 1.0 / (s - e) + 1.0 / (r - e) + 1.0 / (tt + e));
        bd += (x.a - e).powi(2) / v;
        sum_a += x.a;
        sum_e += e;
        sum_v += v;
    }
    // Tarone's term is ≤ BD by Cauchy–Schwarz, so a negative result can only be rounding.
    let tarone = (bd - (sum_a - sum_e).powi(2) / sum_v).max(0.0);
    let df = informative.len() - 1;
    Ok(BreslowDay {
        odds_ratio: psi,
        statistic: ChiSquareTest::new(bd, df)?,
        tarone: ChiSquareTest::new(tarone, df)?,
    })
}

/// E[a] under a common odds ratio ψ: the root of (1−ψ)E² + (t + ψ(r+s))E − ψrs = 0 inside
/// [max(0, r+s−N), min(r, s)] (spec §5.8), for an informative stratum (all margins > 0).
fn expected_a(psi: f64, r: f64, s: f64, t: f64, n: f64) -> f64 {
    let (lo, hi) = ((r + s - n).max(0.0), r.min(s));
    let qa = 1.0 - psi;
    if qa.abs() < 1e-12 {
        return r * s / n;
    }
    let qb = t + psi * (r + s);
    let qc = -psi * r * s;
    // The cancellation-free form of the quadratic formula: q shares b's sign, so neither root
    // subtracts nearly equal numbers.
    let disc = (qb * qb - 4.0 * qa * qc).max(0.0).sqrt();
    let q = -0.5 * (qb + qb.signum() * disc);
    let roots = [q / qa, qc / q];
    // f(lo) < 0 < f(hi) for an informative stratum, so exactly one root lies inside; taking the
    // closest root absorbs rounding at the ends. The r·s/N fallback (the ψ = 1 value, itself
    // inside) only guards against both roots being non-finite, which a finite ψ > 0 rules out.
    roots
        .into_iter()
        .filter(|e| e.is_finite())
        .min_by(|x, y| distance_outside(*x, lo, hi).total_cmp(&distance_outside(*y, lo, hi)))
        .map_or(r * s / n, |e| e.clamp(lo, hi))
}

/// How far `x` lies outside `[lo, hi]` (0 inside).
fn distance_outside(x: f64, lo: f64, hi: f64) -> f64 {
    (lo - x).max(x - hi).max(0.0)
}

/// The pooled (crude) table: the cell-wise sum of all strata, including any skipped ones,
/// because the crude table is the pattern's own table before stratification.
pub fn crude_table(strata: &[Stratum]) -> Stratum {
    strata.iter().fold(Stratum::default(), |acc, t| {
        Stratum::new(acc.a + t.a, acc.b + t.b, acc.c + t.c, acc.d + t.d)
    })
}

/// A Katz relative risk (spec §5.3), as used per stratum in §5.8 and for RR_crude in §5.7.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KatzRr {
    /// RR = (a/n1)/(c/n0), on the corrected cells when `haldane_anscombe`.
    pub rr: f64,
    /// ln RR.
    pub ln_rr: f64,
    /// SE of ln RR, √(1/a − 1/n1 + 1/c − 1/n0).
    pub se_ln_rr: f64,
    /// Lower 95% bound, RR·exp(−z·SE).
    pub lower: f64,
    /// Upper 95% bound, RR·exp(+z·SE).
    pub upper: f64,
    /// True when a zero cell forced +0.5 on all four cells (the spec's "†").
    pub haldane_anscombe: bool,
}

/// The Katz RR and 95% CI of one table, with the Haldane–Anscombe +0.5 when any cell is 0.
///
/// Errors with [`StrataError::EmptyGroup`] when n1 or n0 is 0: +0.5 would invent a risk for a
/// group that has no units.
pub fn katz_rr(t: Stratum) -> Result<KatzRr, StrataError> {
    if t.n1() == 0 {
        return Err(StrataError::EmptyGroup { group: "exposed" });
    }
    if t.n0() == 0 {
        return Err(StrataError::EmptyGroup { group: "unexposed" });
    }
    // One Katz estimator for the whole engine: the 2×2 table's.
    let table = super::table::Table2x2::new(t.a, t.b, t.c, t.d);
    let rr = table
        .relative_risk(z95())
        .ok_or(StrataError::EmptyGroup { group: "exposed" })?;
    Ok(KatzRr {
        rr: rr.rr,
        ln_rr: rr.rr.ln(),
        se_ln_rr: rr.se,
        lower: rr.ci.low,
        upper: rr.ci.high,
        haldane_anscombe: rr.corrected,
    })
}

/// The §5.7 flags for one confounder. The "concentrated" flag needs owner/account identities and
/// so is not computed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConfoundingFlags {
    /// Simpson reversal: ln RR_crude · ln RR_MH < 0 and the MH CI excludes 1. The pattern leaves
    /// the main list.
    pub reversal: bool,
    /// Not robust to Z: the MH CI includes 1. The evidence tier drops one level.
    pub not_robust: bool,
    /// Partly explained by Z: |ln RR_MH − ln RR_crude| / |ln RR_crude| > 0.20.
    pub partly_explained: bool,
}

impl ConfoundingFlags {
    /// The flags from the crude RR (the pattern's own Katz RR) and the MH estimate.
    ///
    /// The attenuation test is evaluated as |Δ| > 0.20·|ln RR_crude| so that a crude RR of exactly
    /// 1 does not divide by zero: any move away from 1 then counts as explained by Z.
    pub fn assess(crude_rr: f64, mh: &MhRiskRatio) -> Self {
        let (ln_crude, ln_mh) = (crude_rr.ln(), mh.rr.ln());
        let excludes_one = mh.ci_excludes_one();
        Self {
            reversal: ln_crude * ln_mh < 0.0 && excludes_one,
            not_robust: !excludes_one,
            partly_explained: (ln_mh - ln_crude).abs() > 0.20 * ln_crude.abs(),
        }
    }
}

/// The two-stratum interaction test on the ln RR scale (spec §5.8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// ρ = RR_0 / RR_1.
    pub rho: f64,
    /// ln ρ = ln RR_0 − ln RR_1.
    pub ln_rho: f64,
    /// SE of ln ρ, √(SE_0² + SE_1²).
    pub se: f64,
    /// z = ln ρ / SE.
    pub z: f64,
    /// Two-sided p = 2·(1 − Φ(|z|)).
    pub p: f64,
    /// Lower 95% bound of ρ (used for ranking type C, spec §5.11).
    pub lower: f64,
    /// Upper 95% bound of ρ.
    pub upper: f64,
}

/// Compare the exposure's RR between stratum 0 (M = 0) and stratum 1 (M = 1), each a Katz RR
/// with Haldane–Anscombe where needed (spec §5.8). ρ > 1 means the effect is stronger at M = 0.
pub fn interaction_test(stratum0: Stratum, stratum1: Stratum) -> Result<Interaction, StrataError> {
    let (k0, k1) = (katz_rr(stratum0)?, katz_rr(stratum1)?);
    let ln_rho = k0.ln_rr - k1.ln_rr;
    let se = k0.se_ln_rr.hypot(k1.se_ln_rr);
    let z = ln_rho / se;
    let half = z95() * se;
    Ok(Interaction {
        rho: ln_rho.exp(),
        ln_rho,
        se,
        z,
        p: normal_two_sided_p(z)?,
        lower: (ln_rho - half).exp(),
        upper: (ln_rho + half).exp(),
    })
}

/// Cochran's Q for heterogeneity of ln RR across K strata (spec §5.8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CochranQ {
    /// The inverse-variance pooled ln RR, θ = Σw_k ln RR_k / Σw_k.
    pub pooled_ln_rr: f64,
    /// Q = Σ w_k (ln RR_k − θ)², χ² with K − 1 df; equals z² of [`interaction_test`] for K = 2.
    pub test: ChiSquareTest,
}

/// Cochran's Q over K ≥ 2 strata, with w_k = 1/SE_k² from each stratum's Katz RR.
///
/// Every stratum must have exposed and unexposed units ([`StrataError::EmptyGroup`]); the type C
/// support rule (≥ 15 units per E×M cell) guarantees that before the test is run.
pub fn cochran_q(strata: &[Stratum]) -> Result<CochranQ, StrataError> {
    if strata.len() < 2 {
        return Err(StrataError::TooFewStrata {
            statistic: "Cochran's Q",
            got: strata.len(),
        });
    }
    let rrs = strata
        .iter()
        .map(|t| katz_rr(*t))
        .collect::<Result<Vec<_>, _>>()?;
    // SE_k > 0 always: after Haldane–Anscombe every cell is > 0, so 1/a − 1/n1 = b/(a·n1) > 0.
    let weights: Vec<f64> = rrs.iter().map(|k| k.se_ln_rr.powi(-2)).collect();
    let w_sum: f64 = weights.iter().sum();
    let theta = rrs
        .iter()
        .zip(&weights)
        .map(|(k, w)| w * k.ln_rr)
        .sum::<f64>()
        / w_sum;
    let q = rrs
        .iter()
        .zip(&weights)
        .map(|(k, w)| w * (k.ln_rr - theta).powi(2))
        .sum::<f64>();
    Ok(CochranQ {
        pooled_ln_rr: theta,
        test: ChiSquareTest::new(q, strata.len() - 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::close::assert_close;

    /// Spec §5.12 "Simpson / MH": CTO engaged → won, strata = segments.
    fn simpson() -> [Stratum; 2] {
        [Stratum::new(40, 10, 100, 50), Stratum::new(30, 120, 5, 45)]
    }

    /// Spec §5.12 "Interaction": not anchored (M = 0), anchored (M = 1).
    fn interaction() -> [Stratum; 2] {
        [Stratum::new(45, 15, 30, 60), Stratum::new(12, 38, 14, 46)]
    }

    #[test]
    fn simpson_vector_stratum_and_crude_rrs() {
        let [s0, s1] = simpson();
        assert_close(katz_rr(s0).unwrap().rr, 1.2, "RR stratum 0");
        assert_close(katz_rr(s1).unwrap().rr, 2.0, "RR stratum 1");
        let crude = crude_table(&simpson());
        assert_eq!(crude, Stratum::new(70, 130, 105, 95));
        assert_close(katz_rr(crude).unwrap().rr, 0.6666666666666666, "crude RR");
    }

    #[test]
    fn simpson_vector_mantel_haenszel_rr() {
        let mh = mantel_haenszel_rr(&simpson()).unwrap();
        assert_close(mh.rr, 1.3043478260869565, "RR_MH");
        assert_close(mh.var_ln_rr, 0.01118840579710145, "Var ln RR_MH");
        assert_close(mh.lower, 1.0601256767965903, "MH lower");
        assert_close(mh.upper, 1.6048316616183687, "MH upper");
        assert_eq!(mh.strata_used, 2);
    }

    #[test]
    fn simpson_vector_is_flagged_reversal() {
        let mh = mantel_haenszel_rr(&simpson()).unwrap();
        let crude = katz_rr(crude_table(&simpson())).unwrap();
        let flags = ConfoundingFlags::assess(crude.rr, &mh);
        assert!(flags.reversal);
        assert!(!flags.not_robust);
        assert!(flags.partly_explained);
    }

    #[test]
    fn simpson_vector_cmh_has_no_continuity_correction() {
        let t = cmh_test(&simpson()).unwrap();
        assert_close(t.statistic, 5.7325102880658445, "CMH χ²");
        assert_close(t.p, 0.016653660387156655, "CMH p");
        assert_eq!(t.df, 1);
    }

    #[test]
    fn simpson_vector_mh_odds_ratio_and_breslow_day() {
        assert_close(mh_odds_ratio(&simpson()).unwrap(), 2.09375, "MH OR");
        let bd = breslow_day(&simpson()).unwrap();
        assert_close(bd.odds_ratio, 2.09375, "BD ψ");
        assert_close(bd.statistic.statistic, 0.033177612823914945, "BD");
        assert_close(bd.statistic.p, 0.8554671856968206, "BD p");
        assert_close(bd.tarone.statistic, 0.033156289934578774, "BD+Tarone");
        assert_close(bd.tarone.p, 0.8555131267805173, "BD+Tarone p");
        assert_eq!(bd.tarone.df, 1);
    }

    #[test]
    fn interaction_vector_stratum_rrs_and_cis() {
        let [m0, m1] = interaction();
        let k0 = katz_rr(m0).unwrap();
        assert_close(k0.rr, 2.25, "RR not anchored");
        assert_close(k0.lower, 1.622989066849669, "lower not anchored");
        assert_close(k0.upper, 3.119244672317265, "upper not anchored");
        let k1 = katz_rr(m1).unwrap();
        assert_close(k1.rr, 1.0285714285714285, "RR anchored");
        assert_close(k1.lower, 0.5244681876906779, "lower anchored");
        assert_close(k1.upper, 2.017203728469866, "upper anchored");
        assert!(!k0.haldane_anscombe && !k1.haldane_anscombe);
    }

    #[test]
    fn interaction_vector_z_test() {
        let [m0, m1] = interaction();
        let i = interaction_test(m0, m1).unwrap();
        assert_close(i.rho, 2.1875, "ρ");
        assert_close(i.z, 2.0494662788994367, "z");
        assert_close(i.p, 0.04041654197159279, "p");
        assert!(i.lower > 1.0 && i.lower < i.rho && i.rho < i.upper);
    }

    #[test]
    fn interaction_vector_cochran_q_equals_z_squared() {
        let q = cochran_q(&interaction()).unwrap();
        assert_close(q.test.statistic, 4.200312028345895, "Cochran Q");
        assert_close(q.test.p, 0.04041654197159279, "Cochran Q p");
        assert_eq!(q.test.df, 1);
        let [m0, m1] = interaction();
        let z = interaction_test(m0, m1).unwrap().z;
        assert_close(q.test.statistic, z * z, "Q = z²");
    }

    #[test]
    fn interaction_vector_breslow_day_tarone_or_scale() {
        let bd = breslow_day(&interaction()).unwrap();
        assert_close(bd.tarone.statistic, 9.265643058245926, "BD+Tarone");
        assert_close(bd.tarone.p, 0.0023349248346793416, "BD+Tarone p");
    }

    #[test]
    fn cochran_q_three_strata_has_two_df() {
        let strata = [
            Stratum::new(45, 15, 30, 60),
            Stratum::new(12, 38, 14, 46),
            Stratum::new(20, 20, 10, 30),
        ];
        let q = cochran_q(&strata).unwrap();
        assert_eq!(q.test.df, 2);
        assert!(q.test.statistic > 0.0 && (0.0..=1.0).contains(&q.test.p));
    }

    #[test]
    fn identical_strata_show_no_heterogeneity() {
        let t = Stratum::new(20, 30, 10, 40);
        let q = cochran_q(&[t, t]).unwrap();
        assert_close(q.test.statistic, 0.0, "Q");
        assert_close(q.test.p, 1.0, "Q p");
        let bd = breslow_day(&[t, t]).unwrap();
        assert_close(bd.statistic.statistic, 0.0, "BD");
        assert_close(bd.tarone.statistic, 0.0, "Tarone");
    }

    #[test]
    fn zero_cell_stratum_uses_haldane_anscombe_and_stays_finite() {
        // Spec §5.12 row 2: 5 15 0 20 → RR 11†.
        let k = katz_rr(Stratum::new(5, 15, 0, 20)).unwrap();
        assert!(k.haldane_anscombe);
        assert_close(k.rr, 11.0, "HA RR");
        assert_close(k.lower, 0.6483837234960623, "HA lower");
        assert_close(k.upper, 186.617886315178, "HA upper");
        assert_close(k.se_ln_rr, 1.444499943433743, "HA SE");

        let strata = [Stratum::new(5, 15, 0, 20), Stratum::new(10, 10, 5, 15)];
        let mh = mantel_haenszel_rr(&strata).unwrap();
        assert!(mh.rr.is_finite() && mh.var_ln_rr.is_finite() && mh.lower > 0.0);
        assert!(cmh_test(&strata).unwrap().p.is_finite());
        assert!(
            interaction_test(strata[0], strata[1])
                .unwrap()
                .p
                .is_finite()
        );
        assert!(cochran_q(&strata).unwrap().test.p.is_finite());
        let bd = breslow_day(&strata).unwrap();
        assert!(bd.statistic.statistic.is_finite() && bd.tarone.statistic.is_finite());
    }

    #[test]
    fn one_arm_empty_stratum_contributes_nothing() {
        // A stratum with no unexposed units adds 0 to R, S and the variance (spec §5.7), and
        // strata with N ≤ 1 are skipped, so neither moves any estimate.
        let base = simpson();
        let with_extra = [
            base[0],
            base[1],
            Stratum::new(7, 3, 0, 0),
            Stratum::new(1, 0, 0, 0),
        ];
        let (a, b) = (
            mantel_haenszel_rr(&base).unwrap(),
            mantel_haenszel_rr(&with_extra).unwrap(),
        );
        assert_close(b.rr, a.rr, "RR_MH");
        assert_close(b.var_ln_rr, a.var_ln_rr, "Var");
        assert_eq!(b.strata_used, 3);
        assert_close(
            cmh_test(&with_extra).unwrap().statistic,
            cmh_test(&base).unwrap().statistic,
            "CMH",
        );
        let (bd_a, bd_b) = (
            breslow_day(&base).unwrap(),
            breslow_day(&with_extra).unwrap(),
        );
        assert_close(bd_b.statistic.statistic, bd_a.statistic.statistic, "BD");
        assert_eq!(bd_b.statistic.df, 1);
    }

    #[test]
    fn empty_group_is_an_error_not_a_panic() {
        let empty_exposed = Stratum::new(0, 0, 5, 10);
        assert_eq!(
            katz_rr(empty_exposed),
            Err(StrataError::EmptyGroup { group: "exposed" })
        );
        assert_eq!(
            katz_rr(Stratum::new(3, 4, 0, 0)),
            Err(StrataError::EmptyGroup { group: "unexposed" })
        );
        let ok = Stratum::new(10, 10, 5, 15);
        assert!(interaction_test(ok, empty_exposed).is_err());
        assert!(cochran_q(&[ok, empty_exposed]).is_err());
        assert!(matches!(
            mantel_haenszel_rr(&[empty_exposed]),
            Err(StrataError::Undefined { .. })
        ));
    }

    #[test]
    fn degenerate_inputs_are_errors() {
        assert!(matches!(
            mantel_haenszel_rr(&[]),
            Err(StrataError::Undefined { .. })
        ));
        // No unexposed events anywhere: S = 0, RR_MH = ∞.
        assert!(mantel_haenszel_rr(&[Stratum::new(5, 5, 0, 10)]).is_err());
        // No events at all: every stratum has a zero margin.
        assert!(cmh_test(&[Stratum::new(0, 5, 0, 10)]).is_err());
        assert!(mh_odds_ratio(&[Stratum::new(5, 0, 5, 0)]).is_err());
        assert!(matches!(
            breslow_day(&[Stratum::new(10, 10, 5, 15)]),
            Err(StrataError::TooFewStrata { got: 1, .. })
        ));
        assert!(matches!(
            cochran_q(&[Stratum::new(10, 10, 5, 15)]),
            Err(StrataError::TooFewStrata { got: 1, .. })
        ));
    }

    #[test]
    fn attenuation_without_reversal_flags_partly_explained() {
        let mh = MhRiskRatio {
            rr: 1.5,
            var_ln_rr: 0.01,
            lower: 1.2,
            upper: 1.8,
            strata_used: 2,
        };
        let flags = ConfoundingFlags::assess(2.5, &mh);
        assert_eq!(
            flags,
            ConfoundingFlags {
                reversal: false,
                not_robust: false,
                partly_explained: true,
            }
        );
        let wide = MhRiskRatio { lower: 0.9, ..mh };
        let flags = ConfoundingFlags::assess(0.6, &wide);
        // Opposite sides of 1 but the MH CI includes 1: not robust, not a reversal.
        assert!(!flags.reversal && flags.not_robust && flags.partly_explained);
        let unchanged = ConfoundingFlags::assess(1.55, &mh);
        assert!(!unchanged.partly_explained && !unchanged.reversal);
    }

    #[test]
    fn expected_cell_reproduces_the_common_odds_ratio() {
        // E(t + E) / ((r − E)(s − E)) = ψ, inside the support, on both sides of ψ = 1.
        for &(psi, r, s, t, n) in &[
            (2.09375, 50.0, 140.0, 10.0, 200.0),
            (0.2, 30.0, 12.0, 40.0, 82.0),
            (7.5, 60.0, 90.0, -50.0, 100.0),
            (1.0, 20.0, 10.0, 20.0, 50.0),
        ] {
            let e = expected_a(psi, r, s, t, n);
            assert!(
                e > (r + s - n).max(0.0) && e < r.min(s),
                "E = {e} outside support"
            );
            assert_close(e * (t + e) / ((r - e) * (s - e)), psi, "ψ from E");
        }
    }

    #[test]
    fn from_array_matches_new() {
        assert_eq!(Stratum::from([1, 2, 3, 4]), Stratum::new(1, 2, 3, 4));
        let t = Stratum::new(1, 2, 3, 4);
        assert_eq!((t.n1(), t.n0(), t.events(), t.total()), (3, 7, 4, 10));
    }
}
