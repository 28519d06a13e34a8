//! Which risk and segment patterns are shown, in which order, how sure they are, and how they
//! read (spec §5.5 and §5.11).

use super::table::{RelativeRisk, Table2x2};

/// The false discovery rate patterns are surfaced at unless configured otherwise.
pub const DEFAULT_FDR: f64 = 0.10;

/// The effect rules of §5.5 for types A/B: the Katz interval excludes 1, the relative risk is
/// at least 1.25 (or at most 0.80), and the risk difference is at least 5 points either way.
pub fn effect_is_material(rr: &RelativeRisk, rd: f64) -> bool {
    let excludes_one = !rr.ci.contains(1.0);
    let large = rr.rr >= 1.25 || rr.rr <= 0.80;
    excludes_one && large && rd.abs() >= 0.05
}

/// The surfacing rule of §5.5 for a pattern already found productive, not redundant and not
/// Simpson-reversed (those filters need other patterns and strata, so they run elsewhere):
/// q at or below `fdr`, and a material effect.
pub fn surfaces(q: f64, fdr: f64, rr: &RelativeRisk, rd: f64) -> bool {
    q <= fdr && effect_is_material(rr, rd)
}

/// The ranking score: the conservative end of the interval on the log scale — ln of the lower
/// bound for a risk, −ln of the upper bound for a protection — so "at least 1.6x" outranks a
/// bigger but vaguer effect.
pub fn score(rr: &RelativeRisk) -> f64 {
    if rr.rr >= 1.0 {
        rr.ci.low.ln()
    } else {
        -rr.ci.high.ln()
    }
}

/// How strong the evidence for a surfaced pattern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Surfaced but not robust to a confounder.
    Weak,
    /// The surfacing rule holds.
    Moderate,
    /// q ≤ 0.05, at least 30 exposed units, and replicated on the latest 30%.
    Strong,
}

impl Tier {
    /// The lower-case name used in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Weak => "weak",
            Tier::Moderate => "moderate",
            Tier::Strong => "strong",
        }
    }
}

/// The evidence tier of a surfaced pattern; "not robust to Z" lowers it one level.
pub fn tier(q: f64, n1: u64, replicated: bool, robust: bool) -> Tier {
    let base = if q <= 0.05 && n1 >= 30 && replicated {
        Tier::Strong
    } else {
        Tier::Moderate
    };
    match (base, robust) {
        (t, true) => t,
        (Tier::Strong, false) => Tier::Moderate,
        (_, false) => Tier::Weak,
    }
}

/// The words a pattern's sentence is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording<'a> {
    /// Who: "Single-threaded deals".
    pub subject: &'a str,
    /// What happened, in the past tense: "slipped".
    pub outcome: &'a str,
    /// The population: "after Demo".
    pub context: &'a str,
}

/// The plain sentence of §5.11: "Single-threaded deals slipped 2.4x as often after Demo
/// (24/40 = 60% vs 30/120 = 25%; 95% CI 1.6–3.6x; q = 0.002; 812 patterns tested)." It says
/// "as often", never "because": the figures are associations. A Haldane–Anscombe corrected
/// estimate carries its "†".
pub fn sentence(
    words: &Wording<'_>,
    table: &Table2x2,
    rr: &RelativeRisk,
    q: f64,
    tested: usize,
) -> String {
    let dagger = if rr.corrected { "†" } else { "" };
    format!(
        "{} {} {}x{dagger} as often {} ({}/{} = {} vs {}/{} = {}; 95% CI {}–{}x; {}; {} patterns tested).",
        words.subject,
        words.outcome,
        ratio(rr.rr),
        words.context,
        table.a,
        table.n1(),
        percent(table.p1()),
        table.c,
        table.n0(),
        percent(table.p0()),
        ratio(rr.ci.low),
        ratio(rr.ci.high),
        q_text(q),
        crate::format::grouped(tested as i64),
    )
}

/// A ratio as people read it: one decimal from 1 up, two below.
fn ratio(x: f64) -> String {
    if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

fn q_text(q: f64) -> String {
    if q < 0.001 {
        "q < 0.001".to_owned()
    } else {
        format!("q = {q:.3}")
    }
}

/// The sentence without its closing parenthesis of figures: "Single-threaded deals slipped
/// 2.4x as often after Demo". Parentheses inside the claim ("stalled (21 days without …)")
/// are kept, because only the last balanced group is cut.
pub fn headline(sentence: &str) -> &str {
    let body = sentence.trim_end().trim_end_matches('.');
    if !body.ends_with(')') {
        return body;
    }
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return body[..i].trim_end();
                }
            }
            _ => {}
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::z95;

    fn row1() -> (Table2x2, RelativeRisk, f64) {
        let t = Table2x2::new(24, 16, 30, 90);
        let rr = t.relative_risk(z95()).unwrap();
        let rd = t.risk_difference(z95()).unwrap().rd;
        (t, rr, rd)
    }

    #[test]
    fn the_spec_sentence_reads_as_written() {
        let (t, rr, _) = row1();
        let words = Wording {
            subject: "Single-threaded deals",
            outcome: "slipped",
            context: "after Demo",
        };
        assert_eq!(
            sentence(&words, &t, &rr, 0.002, 812),
            "Single-threaded deals slipped 2.4x as often after Demo (24/40 = 60% vs 30/120 = 25%; \
             95% CI 1.6–3.6x; q = 0.002; 812 patterns tested)."
        );
        let corrected = Table2x2::new(5, 15, 0, 20);
        let rr = corrected.relative_risk(z95()).unwrap();
        assert!(sentence(&words, &corrected, &rr, 0.0004, 1200).contains("11.0x† as often"));
        assert!(sentence(&words, &corrected, &rr, 0.0004, 1200).contains("q < 0.001; 1,200"));
    }

    #[test]
    fn both_gates_hold_for_row_one_and_the_zero_cell_table_fails_the_effect_gate() {
        let (_, rr, rd) = row1();
        assert!(surfaces(0.002, DEFAULT_FDR, &rr, rd));
        assert!(!surfaces(0.2, DEFAULT_FDR, &rr, rd), "q above the FDR");
        let t = Table2x2::new(5, 15, 0, 20);
        let rr = t.relative_risk(z95()).unwrap();
        let rd = t.risk_difference(z95()).unwrap().rd;
        assert!(!surfaces(0.01, DEFAULT_FDR, &rr, rd), "its CI includes 1");
    }

    #[test]
    fn small_effects_are_not_material_even_when_certain() {
        // 55% vs 50% on big groups: a tight CI above 1, but RR 1.1 < 1.25.
        let t = Table2x2::new(5_500, 4_500, 5_000, 5_000);
        let rr = t.relative_risk(z95()).unwrap();
        let rd = t.risk_difference(z95()).unwrap().rd;
        assert!(!rr.ci.contains(1.0));
        assert!(!effect_is_material(&rr, rd));
    }

    #[test]
    fn the_score_is_the_conservative_end_either_way() {
        let (_, rr, _) = row1();
        assert!((score(&rr) - rr.ci.low.ln()).abs() < 1e-15);
        let protective = Table2x2::new(10, 90, 30, 70).relative_risk(z95()).unwrap();
        assert!(protective.rr < 1.0);
        assert!((score(&protective) + protective.ci.high.ln()).abs() < 1e-15);
        assert!(
            score(&protective) > 0.0,
            "a clear protection scores above zero"
        );
    }

    #[test]
    fn tiers() {
        assert_eq!(tier(0.01, 40, true, true), Tier::Strong);
        assert_eq!(tier(0.01, 40, false, true), Tier::Moderate);
        assert_eq!(tier(0.08, 400, true, true), Tier::Moderate);
        assert_eq!(
            tier(0.01, 20, true, true),
            Tier::Moderate,
            "too few exposed"
        );
        assert_eq!(
            tier(0.01, 40, true, false),
            Tier::Moderate,
            "not robust: one down"
        );
        assert_eq!(tier(0.08, 40, true, false), Tier::Weak);
        assert_eq!(Tier::Strong.as_str(), "strong");
    }

    #[test]
    fn headline_cuts_only_the_closing_figures() {
        assert_eq!(
            headline(
                "Single-threaded deals slipped 2.4x as often after Demo (24/40 = 60% vs 30/120 = 25%; 95% CI 1.6–3.6x; q = 0.002; 812 patterns tested)."
            ),
            "Single-threaded deals slipped 2.4x as often after Demo"
        );
        assert_eq!(
            headline(
                "Deals with the Finance (economic buyer) engaged stalled (21 days without a two-way conversation) 0.21x as often after Proposal (12/101 = 12% vs 52/94 = 55%)."
            ),
            "Deals with the Finance (economic buyer) engaged stalled (21 days without a two-way conversation) 0.21x as often after Proposal"
        );
        assert_eq!(headline("No figures here."), "No figures here");
        assert_eq!(headline("Unbalanced)."), "Unbalanced)");
    }
}
