//! Counting over deals with bitsets: which units a selector covers, and the 2×2 table of any
//! cover against an outcome within a population, by intersection counts rather than a query
//! per candidate. On top of them, the filters of §5.6 (productive, cover redundancy) and the
//! replication badge of §5.11.

use super::table::Table2x2;
use fixedbitset::FixedBitSet;

/// The units (bits) a selector, an outcome or a population covers.
pub type Cover = FixedBitSet;

/// The table of `exposed` against `outcome` among `population`:
/// a = |X∩Y∩P|, n1 = |X∩P|, c = |Y∩P| − a, n0 = |P| − n1.
pub fn table(exposed: &Cover, outcome: &Cover, population: &Cover) -> Table2x2 {
    let mut xp = exposed.clone();
    xp.intersect_with(population);
    let n1 = xp.count_ones(..) as u64;
    let a = xp.intersection_count(outcome) as u64;
    let yp = outcome.intersection_count(population) as u64;
    let n = population.count_ones(..) as u64;
    Table2x2::new(a, n1 - a, yp - a, (n - n1) - (yp - a))
}

/// The units both covers hold.
pub fn both(x: &Cover, y: &Cover) -> Cover {
    let mut out = x.clone();
    out.intersect_with(y);
    out
}

/// Webb's productivity test for the depth-2 pattern A∧B in population P (§5.6): within A's
/// cover, B must still matter, and within B's cover, A must — each by Fisher two-sided
/// p < 0.05 with its relative risk on the same side of 1 as the pattern's. Otherwise one parent
/// explains the pattern and it is dropped.
pub fn productive(a: &Cover, b: &Cover, outcome: &Cover, population: &Cover) -> bool {
    let pattern = table(&both(a, b), outcome, population);
    let risk = pattern.p1() > pattern.p0();
    let holds = |within: &Cover, exposure: &Cover| {
        let t = table(exposure, outcome, &both(within, population));
        t.n1() > 0 && t.n0() > 0 && t.fisher_p() < 0.05 && (t.p1() > t.p0()) == risk
    };
    holds(a, b) && holds(b, a)
}

/// Jaccard similarity of two covers (1 for two empty covers: they are the same).
pub fn jaccard(x: &Cover, y: &Cover) -> f64 {
    let union = x.union_count(y);
    if union == 0 {
        return 1.0;
    }
    x.intersection_count(y) as f64 / union as f64
}

/// Similarity from which a lower-ranked pattern is redundant with a better one (§5.6).
pub const REDUNDANT_JACCARD: f64 = 0.8;

/// The smallest exposed and unexposed groups the later part needs for replication to be judged.
pub const REPLICATION_MIN_GROUP: u64 = 15;

/// The replication badge of §5.11: `late` holds the latest 30% of the population by index
/// time. Replicated when the relative risk is on the same side of 1 in the earlier and the
/// later part, and the one-sided Fisher p (in the pattern's direction) on the later part is
/// below 0.05. `None` when the later part has fewer than 15 exposed or unexposed units.
pub fn replicated(
    exposed: &Cover,
    outcome: &Cover,
    population: &Cover,
    late: &Cover,
) -> Option<bool> {
    let late_population = both(population, late);
    let mut early_population = population.clone();
    early_population.difference_with(late);
    let later = table(exposed, outcome, &late_population);
    if later.n1() < REPLICATION_MIN_GROUP || later.n0() < REPLICATION_MIN_GROUP {
        return None;
    }
    let earlier = table(exposed, outcome, &early_population);
    let risk = earlier.p1() > earlier.p0();
    let same_side = (later.p1() > later.p0()) == risk && later.p1() != later.p0();
    let p = if risk {
        later.fisher_greater()
    } else {
        later.fisher_less()
    };
    Some(same_side && p < 0.05)
}

/// The latest `share` (0–1) of `population` by index time: `index_times[i]` is unit i's index
/// time; ties are split by unit order so the cut is exact.
pub fn latest_share(population: &Cover, index_times: &[i64], share: f64) -> Cover {
    let mut units: Vec<usize> = population.ones().collect();
    units.sort_by_key(|&i| (index_times.get(i).copied().unwrap_or(i64::MIN), i));
    let keep = ((units.len() as f64) * share.clamp(0.0, 1.0)).round() as usize;
    let mut late = Cover::with_capacity(population.len());
    for &i in &units[units.len() - keep..] {
        late.insert(i);
    }
    late
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cover of `len` units holding `ones`.
    fn cover(len: usize, ones: impl IntoIterator<Item = usize>) -> Cover {
        let mut c = Cover::with_capacity(len);
        for i in ones {
            c.insert(i);
        }
        c
    }

    /// Units laid out to give the spec's first table, 24 16 30 90, in a population of 160,
    /// with 40 more units outside the population.
    fn spec_row_one() -> (Cover, Cover, Cover) {
        let len = 200;
        let population = cover(len, 0..160);
        let exposed = cover(len, (0..40).chain(160..170));
        let outcome = cover(len, (0..24).chain(40..70).chain(170..190));
        (exposed, outcome, population)
    }

    #[test]
    fn tables_come_from_intersection_counts() {
        let (x, y, p) = spec_row_one();
        assert_eq!(table(&x, &y, &p), Table2x2::new(24, 16, 30, 90));
        let everyone = cover(200, 0..200);
        assert_eq!(table(&x, &y, &everyone).n(), 200);
    }

    #[test]
    fn a_pattern_one_parent_explains_is_not_productive() {
        let len = 400;
        let population = cover(len, 0..len);
        // A drives the outcome; B is noise spread evenly over A and not-A.
        let a = cover(len, 0..200);
        let b = cover(len, (0..len).filter(|i| i % 2 == 0));
        let outcome = cover(
            len,
            (0..200)
                .filter(|i| i % 5 != 0)
                .chain((200..400).filter(|i| i % 5 == 0)),
        );
        assert!(!productive(&a, &b, &outcome, &population));
        // Both matter: the outcome needs A and B together.
        let outcome_both = cover(len, (0..200).filter(|i| i % 2 == 0));
        assert!(productive(&a, &b, &outcome_both, &population));
    }

    #[test]
    fn jaccard_and_redundancy() {
        let x = cover(10, 0..8);
        let y = cover(10, 1..9);
        assert!((jaccard(&x, &y) - 7.0 / 9.0).abs() < 1e-15);
        assert!(jaccard(&x, &y) < REDUNDANT_JACCARD);
        assert_eq!(jaccard(&x, &x), 1.0);
        assert_eq!(jaccard(&cover(5, []), &cover(5, [])), 1.0);
    }

    #[test]
    fn replication_needs_the_later_part_to_agree_and_to_be_large_enough() {
        let len = 300;
        let population = cover(len, 0..len);
        let times: Vec<i64> = (0..len as i64).collect();
        let late = latest_share(&population, &times, 0.3);
        assert_eq!(late.count_ones(..), 90);
        assert!(late.contains(299) && !late.contains(209));
        let exposed = cover(len, (0..len).filter(|i| i % 2 == 0));
        // Exposed units have the outcome 4 times in 5, the others 1 in 5, throughout.
        let strong = cover(
            len,
            (0..len).filter(|i| if i % 2 == 0 { i % 10 != 0 } else { i % 10 == 1 }),
        );
        assert_eq!(
            replicated(&exposed, &strong, &population, &late),
            Some(true)
        );
        // The effect vanishes in the later part.
        let fading = cover(
            len,
            (0..len).filter(|&i| {
                if i >= 210 {
                    i % 3 == 0
                } else if i % 2 == 0 {
                    i % 10 != 0
                } else {
                    i % 10 == 1
                }
            }),
        );
        assert_eq!(
            replicated(&exposed, &fading, &population, &late),
            Some(false)
        );
        // Too few later units to judge.
        let small_late = latest_share(&population, &times, 0.05);
        assert_eq!(
            replicated(&exposed, &strong, &population, &small_late),
            None
        );
    }
}
