//! The win/loss reason taxonomy (`assets/taxonomy.toml`) and the rules a review's reasons obey.
//!
//! Codes are stable identifiers stored in reviews and exports; labels are what people read. A
//! code that has been used is never renamed or removed, only retired: old reviews keep meaning
//! what they meant, and new ones can no longer pick it.

use super::review::{ReasonEntry, ReviewOutcome};
use serde::Deserialize;
use std::collections::HashSet;

/// The taxonomy shipped with dealtrace.
pub const BUILTIN: &str = include_str!("../../assets/taxonomy.toml");

/// One reason a deal was won or lost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Stable snake_case code (`lost_to_competitor`).
    pub code: String,
    /// What people see ("Lost to a competitor").
    pub label: String,
    /// The outcomes it can explain.
    pub outcomes: Vec<ReviewOutcome>,
    /// The question the free-text field asks ("Which competitor?"), if the reason wants detail.
    #[serde(default)]
    pub detail: Option<String>,
    /// Kept for old reviews, no longer offered.
    #[serde(default)]
    pub retired: bool,
}

/// Every reason, in the file's order (which is the order they are offered in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    /// The reasons.
    pub reasons: Vec<Reason>,
}

/// Why a taxonomy file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaxonomyError {
    /// Not TOML of the expected shape.
    #[error("the reason taxonomy is not valid: {0}")]
    Syntax(String),
    /// A code is not snake_case ASCII.
    #[error("reason code {0:?} must be lower-case letters, digits and underscores")]
    BadCode(String),
    /// A code appears twice.
    #[error("reason code {0:?} appears twice")]
    Duplicate(String),
    /// A reason has no label or no outcome.
    #[error("reason {0:?} needs a label and at least one outcome")]
    Incomplete(String),
}

/// Why a review's reasons do not pass.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReasonProblem {
    /// No reason is marked primary.
    #[error("choose the primary reason")]
    NoPrimary,
    /// More than one reason is marked primary.
    #[error("only one reason can be the primary one")]
    SeveralPrimaries,
    /// A code the taxonomy does not have.
    #[error("{0:?} is not a reason in the taxonomy")]
    Unknown(String),
    /// A reason that does not explain this outcome ("strong champion" for a loss).
    #[error("{code:?} does not explain a {outcome} deal")]
    WrongOutcome {
        /// The code.
        code: String,
        /// The outcome recorded.
        outcome: &'static str,
    },
    /// A retired reason picked for a new review.
    #[error("{0:?} is retired; pick a current reason")]
    Retired(String),
    /// The same reason twice.
    #[error("{0:?} is listed twice")]
    Repeated(String),
}

impl Taxonomy {
    /// The taxonomy shipped with dealtrace.
    ///
    /// # Panics
    /// Never in a released build: a test checks that the shipped file parses.
    pub fn builtin() -> Taxonomy {
        Taxonomy::parse(BUILTIN).unwrap_or_else(|e| panic!("assets/taxonomy.toml: {e}"))
    }

    /// Parses and checks a taxonomy file's text.
    pub fn parse(text: &str) -> Result<Taxonomy, TaxonomyError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            reason: Vec<Reason>,
        }
        let file: File = toml::from_str(text).map_err(|e| TaxonomyError::Syntax(e.to_string()))?;
        let mut seen = HashSet::new();
        for r in &file.reason {
            let snake = !r.code.is_empty()
                && r.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !snake {
                return Err(TaxonomyError::BadCode(r.code.clone()));
            }
            if !seen.insert(r.code.as_str()) {
                return Err(TaxonomyError::Duplicate(r.code.clone()));
            }
            if r.label.trim().is_empty() || r.outcomes.is_empty() {
                return Err(TaxonomyError::Incomplete(r.code.clone()));
            }
        }
        Ok(Taxonomy {
            reasons: file.reason,
        })
    }

    /// The reason with this code, retired or not.
    pub fn get(&self, code: &str) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// What people read for a code: its label, or the code itself when the taxonomy does not
    /// know it (a code from an older or another team's taxonomy).
    pub fn label_of<'a>(&'a self, code: &'a str) -> &'a str {
        self.get(code).map_or(code, |r| r.label.as_str())
    }

    /// The reasons offered for an outcome, in order (retired ones left out).
    pub fn offered(&self, outcome: ReviewOutcome) -> impl Iterator<Item = &Reason> {
        self.reasons
            .iter()
            .filter(move |r| !r.retired && r.outcomes.contains(&outcome))
    }

    /// Checks a review's reasons for `outcome`: exactly one primary, each known, each able to
    /// explain the outcome, none twice; retired reasons only where `allow_retired` (amending
    /// an old review that already used one).
    pub fn check(
        &self,
        outcome: ReviewOutcome,
        reasons: &[ReasonEntry],
        allow_retired: bool,
    ) -> Result<(), ReasonProblem> {
        let mut seen = HashSet::new();
        for entry in reasons {
            let reason = self
                .get(&entry.code)
                .ok_or_else(|| ReasonProblem::Unknown(entry.code.clone()))?;
            if !reason.outcomes.contains(&outcome) {
                return Err(ReasonProblem::WrongOutcome {
                    code: entry.code.clone(),
                    outcome: outcome.as_str(),
                });
            }
            if reason.retired && !allow_retired {
                return Err(ReasonProblem::Retired(entry.code.clone()));
            }
            if !seen.insert(entry.code.as_str()) {
                return Err(ReasonProblem::Repeated(entry.code.clone()));
            }
        }
        match reasons.iter().filter(|r| r.primary).count() {
            0 => Err(ReasonProblem::NoPrimary),
            1 => Ok(()),
            _ => Err(ReasonProblem::SeveralPrimaries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, primary: bool) -> ReasonEntry {
        ReasonEntry {
            code: code.into(),
            detail: None,
            primary,
        }
    }

    #[test]
    fn the_shipped_taxonomy_parses_and_covers_both_outcomes() {
        let t = Taxonomy::builtin();
        let lost: Vec<&str> = t
            .offered(ReviewOutcome::Lost)
            .map(|r| r.code.as_str())
            .collect();
        for code in [
            "no_decision",
            "lost_to_competitor",
            "no_economic_buyer",
            "weak_business_case",
            "timing",
            "price",
            "product_gap",
            "champion_left",
        ] {
            assert!(lost.contains(&code), "{code} is offered for losses");
        }
        assert!(t.offered(ReviewOutcome::Won).count() >= 4);
        assert_eq!(
            t.get("lost_to_competitor")
                .and_then(|r| r.detail.as_deref()),
            Some("Which competitor?")
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let one = |code: &str, label: &str, outcomes: &str| {
            format!("[[reason]]\ncode = {code:?}\nlabel = {label:?}\noutcomes = {outcomes}\n")
        };
        assert_eq!(
            Taxonomy::parse(&one("Lost Deal", "x", r#"["lost"]"#)),
            Err(TaxonomyError::BadCode("Lost Deal".into()))
        );
        assert_eq!(
            Taxonomy::parse(&(one("a", "x", r#"["lost"]"#) + &one("a", "y", r#"["won"]"#))),
            Err(TaxonomyError::Duplicate("a".into()))
        );
        assert_eq!(
            Taxonomy::parse(&one("a", " ", r#"["lost"]"#)),
            Err(TaxonomyError::Incomplete("a".into()))
        );
        assert_eq!(
            Taxonomy::parse(&one("a", "x", "[]")),
            Err(TaxonomyError::Incomplete("a".into()))
        );
        assert!(matches!(
            Taxonomy::parse(&one("a", "x", r#"["maybe"]"#)),
            Err(TaxonomyError::Syntax(_))
        ));
        assert!(matches!(
            Taxonomy::parse(
                "[[reason]]\ncode = \"a\"\nlabel = \"x\"\noutcomes = [\"won\"]\ncolour = 1\n"
            ),
            Err(TaxonomyError::Syntax(_))
        ));
    }

    #[test]
    fn a_reviews_reasons_need_one_primary_that_fits_the_outcome() {
        let mut t = Taxonomy::builtin();
        let lost = ReviewOutcome::Lost;
        let ok = [entry("no_economic_buyer", true), entry("price", false)];
        assert_eq!(t.check(lost, &ok, false), Ok(()));
        assert_eq!(
            t.check(lost, &[entry("price", false)], false),
            Err(ReasonProblem::NoPrimary)
        );
        assert_eq!(
            t.check(lost, &[entry("price", true), entry("timing", true)], false),
            Err(ReasonProblem::SeveralPrimaries)
        );
        assert_eq!(
            t.check(lost, &[entry("vibes", true)], false),
            Err(ReasonProblem::Unknown("vibes".into()))
        );
        assert_eq!(
            t.check(lost, &[entry("strong_champion", true)], false),
            Err(ReasonProblem::WrongOutcome {
                code: "strong_champion".into(),
                outcome: "lost"
            })
        );
        assert_eq!(
            t.check(lost, &[entry("price", true), entry("price", false)], false),
            Err(ReasonProblem::Repeated("price".into()))
        );
        assert_eq!(t.check(lost, &[], false), Err(ReasonProblem::NoPrimary));

        // A retired reason is no longer offered, and only an amendment may keep it.
        if let Some(r) = t.reasons.iter_mut().find(|r| r.code == "price") {
            r.retired = true;
        }
        assert!(!t.offered(lost).any(|r| r.code == "price"));
        let old = [entry("price", true)];
        assert_eq!(
            t.check(lost, &old, false),
            Err(ReasonProblem::Retired("price".into()))
        );
        assert_eq!(t.check(lost, &old, true), Ok(()));
    }
}
