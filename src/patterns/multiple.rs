//! Multiple testing over a whole family of tests (spec §5.4): every pattern tested counts in
//! `m`, whether or not it is shown.

/// How q-values are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FdrMethod {
    /// Benjamini–Hochberg: valid under independence and positive dependence (overlapping
    /// patterns are positively dependent), the default.
    #[default]
    BenjaminiHochberg,
    /// Benjamini–Yekutieli: valid under any dependence, at the price of c(m) = Σ 1/i.
    BenjaminiYekutieli,
}

/// The q-value of each p-value, in the input's order:
/// `q₍ᵢ₎ = min over j ≥ i of min(1, c·m·p₍ⱼ₎ / j)` over the p-values sorted ascending, with
/// c = 1 for BH and c = Σ_{i=1..m} 1/i for BY. Ties need no special handling. A NaN p-value
/// (a test that could not be computed) gets q = 1 and still counts in `m`.
pub fn q_values(p: &[f64], method: FdrMethod) -> Vec<f64> {
    let m = p.len();
    if m == 0 {
        return Vec::new();
    }
    let c = match method {
        FdrMethod::BenjaminiHochberg => 1.0,
        FdrMethod::BenjaminiYekutieli => (1..=m).map(|i| 1.0 / i as f64).sum(),
    };
    let clean = |x: f64| if x.is_nan() { 1.0 } else { x };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| clean(p[i]).total_cmp(&clean(p[j])));
    let mut q = vec![1.0; m];
    let mut running = 1.0_f64;
    // From the largest p down, so each q is the minimum over the ranks at or above it.
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = (c * m as f64 * clean(p[i]) / (rank + 1) as f64).min(1.0);
        running = running.min(adjusted);
        q[i] = running;
    }
    q
}

/// How many q-values are at or below `fdr`.
pub fn discoveries(q: &[f64], fdr: f64) -> usize {
    q.iter().filter(|&&x| x <= fdr).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::close::assert_close;

    const P: [f64; 20] = [
        0.0001, 0.0008, 0.0039, 0.0041, 0.0042, 0.006, 0.0074, 0.0205, 0.0212, 0.0216, 0.0222,
        0.0251, 0.0269, 0.0345, 0.0482, 0.0493, 0.0791, 0.1039, 0.2095, 0.9541,
    ];

    #[test]
    fn the_spec_vector_holds() {
        let q = q_values(&P, FdrMethod::BenjaminiHochberg);
        // The spec prints these rounded to 12 digits.
        let want = [
            0.002,
            0.008,
            0.0168,
            0.0168,
            0.0168,
            0.02,
            0.021142857142857,
            0.040363636364,
            0.040363636364,
            0.040363636364,
            0.040363636364,
            0.041384615385,
            0.041384615385,
            0.049285714286,
            0.061625,
            0.061625,
            0.093058823529,
            0.115444444444,
            0.220526315789,
            0.9541,
        ];
        for (i, (got, want)) in q.iter().zip(want).enumerate() {
            assert!(
                (got - want).abs() <= 1e-11,
                "q[{i}]: got {got}, want {want}"
            );
        }
        assert_close(q[6], 0.0074 * 20.0 / 7.0, "q₇ exactly");
        assert_eq!(discoveries(&q, 0.10), 17);
        assert_eq!(discoveries(&q, 0.05), 14);
    }

    #[test]
    fn order_does_not_matter_and_by_is_more_cautious() {
        let mut shuffled = P;
        shuffled.reverse();
        let q = q_values(&shuffled, FdrMethod::BenjaminiHochberg);
        let mut q_back = q.clone();
        q_back.reverse();
        assert_eq!(q_back, q_values(&P, FdrMethod::BenjaminiHochberg));
        let by = q_values(&P, FdrMethod::BenjaminiYekutieli);
        let bh = q_values(&P, FdrMethod::BenjaminiHochberg);
        assert!(by.iter().zip(&bh).all(|(y, h)| y >= h));
        let c: f64 = (1..=20).map(|i| 1.0 / i as f64).sum();
        assert_close(
            by[0],
            (bh[0] * c).min(1.0),
            "BY = BH × c(m) at the smallest p",
        );
    }

    #[test]
    fn empty_and_nan_families_are_safe() {
        assert!(q_values(&[], FdrMethod::default()).is_empty());
        let q = q_values(&[f64::NAN, 0.01], FdrMethod::default());
        assert_eq!(q[0], 1.0);
        assert_close(q[1], 0.02, "the NaN still counts in m");
    }

    proptest::proptest! {
        /// q is never below p, never above 1, and keeps the order of p.
        #[test]
        fn q_is_monotone_and_bounded(p in proptest::collection::vec(0.0f64..=1.0, 1..60)) {
            let q = q_values(&p, FdrMethod::BenjaminiHochberg);
            for i in 0..p.len() {
                proptest::prop_assert!(q[i] >= p[i] - 1e-15 && q[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] < p[j] {
                        proptest::prop_assert!(q[i] <= q[j] + 1e-15);
                    }
                }
            }
        }
    }
}
