//! The pattern engine (issue 5): honest statistics over the team's history.
//!
//! Everything here is pure: plain numbers in, plain numbers out, checked against the test
//! vectors of `../shared/STATS-AND-CRATES.md` section 5.12.
//!
//! - [`cover`]: bitset covers, tables by intersection counts, the productive and redundancy
//!   filters and the replication badge;
//! - [`table`]: one 2×2 table — rates with Wilson intervals, the Katz relative risk, the
//!   Newcombe risk difference, Fisher's exact and Pearson's χ² tests;
//! - [`multiple`]: Benjamini–Hochberg (and –Yekutieli) q-values over a family of tests;
//! - [`outcomes`]: analysis units (index time, landmark, eligibility) and fixed-horizon outcomes;
//! - [`surface`]: the surfacing rule, ranking score, evidence tier and the plain sentence;
//! - [`strata`]: Mantel–Haenszel across strata, and the interaction test behind exceptions;
//! - [`survival`]: Kaplan–Meier, the log-rank test and the Peto hazard ratio.

pub mod build;
pub mod cover;
pub mod dataset;
pub mod mine;
pub mod multiple;
pub mod outcomes;
pub mod strata;
pub mod surface;
pub mod survival;
pub mod table;

use statrs::distribution::{ContinuousCDF, Normal};

/// The two-sided 95% normal quantile, Φ⁻¹(0.975), as statrs computes it.
pub fn z95() -> f64 {
    // A standard normal always exists; the fallback is the constant the spec prints.
    Normal::new(0.0, 1.0)
        .map(|n| n.inverse_cdf(0.975))
        .unwrap_or(1.959_963_984_540_054)
}

#[cfg(test)]
pub(crate) mod close {
    /// Relative closeness at the spec's tolerance (1e-9 relative, 1e-12 absolute near 0).
    pub(crate) fn assert_close(got: f64, want: f64, what: &str) {
        let ok = if want.abs() < 1e-12 {
            got.abs() <= 1e-12
        } else {
            ((got - want) / want).abs() <= 1e-9
        };
        assert!(ok, "{what}: got {got:e}, want {want:e}");
    }
}
