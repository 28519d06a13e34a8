//! Turning a surfaced pattern into a proposed lesson: the claim in the pattern's own words,
//! what re-measuring it needs, when it fires on an open deal, and a first recommendation that
//! RevOps edits.

use crate::domain::{Lesson, LessonId, LessonStatus, PatternRef, Trigger};
use crate::patterns::mine::{DECAY, Kind, Pattern};
use crate::patterns::surface::headline;
use crate::signals::Skills;
use jiff::Timestamp;

/// Whether more of `outcome` is good for the deal.
fn good_outcome(outcome: &str) -> bool {
    outcome == "won"
}

/// Whether the pattern's condition is a risk (fire when it holds) rather than a protective
/// practice (fire while it is missing): more of a bad outcome, or less of a good one.
pub fn is_risk(outcome: &str, effect: f64) -> bool {
    (effect >= 1.0) != good_outcome(outcome)
}

/// What a pattern names, as a reference a lesson keeps.
pub fn pattern_ref(p: &Pattern) -> PatternRef {
    let (condition, unless) = match (&p.kind, &p.exception) {
        (Kind::Exception, Some(e)) => (p.condition.clone(), Some(e.moderator.clone())),
        _ => (p.condition.clone(), None),
    };
    PatternRef {
        key: p.key.clone(),
        kind: p.kind.as_str().to_owned(),
        outcome: p.outcome.clone(),
        population: p.population.key.clone(),
        context: p.population.context.clone(),
        segment: p.population.segment.clone(),
        condition,
        unless,
        effect: p.effect,
    }
}

/// A proposed lesson from a surfaced pattern. `recommendation` is RevOps' text; without one, a
/// first draft is written from the selectors (see [`suggested_recommendation`]).
pub fn lesson_from_pattern(
    p: &Pattern,
    id: LessonId,
    recommendation: Option<String>,
    skills: &Skills,
    by: Option<&str>,
    now: Timestamp,
) -> Lesson {
    let reference = pattern_ref(p);
    let trigger = Trigger {
        population: reference.population.clone(),
        segment: reference.segment.clone(),
        condition: reference.condition.clone(),
        when_present: is_risk(&p.outcome, p.effect),
        unless: reference.unless.clone(),
    };
    let recommendation =
        recommendation.unwrap_or_else(|| suggested_recommendation(&trigger, &p.outcome, skills));
    Lesson {
        id,
        statement: headline(&p.sentence).to_owned(),
        recommendation,
        trigger,
        patterns: vec![reference],
        status: LessonStatus::Proposed,
        status_changed_by: by.map(str::to_owned),
        status_changed_at: Some(now),
        owner: by.map(str::to_owned),
        tags: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// A first recommendation from what the lesson watches: for a risk, what undoes it; for a
/// missing practice, the practice. RevOps rewrites it in the team's words.
pub fn suggested_recommendation(trigger: &Trigger, outcome: &str, skills: &Skills) -> String {
    let persona = |id: &str| {
        skills
            .personas()
            .iter()
            .find(|p| p.id() == id)
            .map_or(id.to_owned(), |p| p.label().to_owned())
    };
    let phrase = |id: &str| {
        skills
            .phrase_lists()
            .iter()
            .find(|l| l.id() == id)
            .map_or(id.to_owned(), |l| l.label().to_lowercase())
    };
    // An exception's moderator is what protects: recommend it.
    if let Some(m) = &trigger.unless
        && let Some((_, id)) = m.split_once(':')
    {
        if m.contains("engaged") || m.starts_with("live:") {
            return format!("Get the {} engaged early", persona(id));
        }
        return format!("Get {} on record early", phrase(id));
    }
    let Some(first) = trigger.condition.first() else {
        return "Review the deal against this lesson".into();
    };
    let (kind, id) = first.split_once(':').unwrap_or((first.as_str(), ""));
    let stage = if outcome == DECAY {
        ""
    } else {
        " in this stage"
    };
    match (kind, trigger.when_present) {
        ("single_threaded", true) => {
            "Bring a second stakeholder into a two-way conversation".into()
        }
        ("slipped_before", true) => "Re-confirm the close date with the buyer".into(),
        ("engaged" | "live" | "stage_engaged", false) => {
            format!("Get the {} into a call{stage}", persona(id))
        }
        ("mentioned" | "stage_mentioned", false) => {
            format!("Get {} on record{stage}", phrase(id))
        }
        ("mentioned" | "stage_mentioned", true) => {
            format!("Plan a response: {} is on record", phrase(id))
        }
        _ => "Review the deal against this lesson".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(condition: &str, when_present: bool, unless: Option<&str>) -> Trigger {
        Trigger {
            population: "reached:x".into(),
            segment: None,
            condition: vec![condition.into()],
            when_present,
            unless: unless.map(str::to_owned),
        }
    }

    #[test]
    fn risks_fire_when_present_and_practices_while_missing() {
        assert!(is_risk("slipped", 2.4));
        assert!(!is_risk("stalled", 0.21), "a live economic buyer protects");
        assert!(!is_risk("won", 2.2), "the CTO engaged helps winning");
        assert!(is_risk("won", 0.6));
        assert!(is_risk(DECAY, 1.8));
    }

    #[test]
    fn suggestions_name_the_practice() {
        let skills = Skills::builtin();
        assert_eq!(
            suggested_recommendation(&trigger("single_threaded", true, None), "slipped", &skills),
            "Bring a second stakeholder into a two-way conversation"
        );
        let cto = skills.personas().iter().find(|p| p.id() == "cto").unwrap();
        assert_eq!(
            suggested_recommendation(&trigger("engaged:cto", false, None), "won", &skills),
            format!("Get the {} into a call in this stage", cto.label())
        );
        let exception = trigger(
            "stage_mentioned:competitor",
            true,
            Some("mentioned:business_case"),
        );
        assert!(
            suggested_recommendation(&exception, "discount_pressure", &skills)
                .starts_with("Get business case"),
            "{}",
            suggested_recommendation(&exception, "discount_pressure", &skills)
        );
    }
}
