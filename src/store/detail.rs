//! Everything the deal view and the review wizard show about one deal, read in one go.

use super::{Result, activities, deals, pipelines, reviews, traces};
use crate::domain::{Activity, DealHistory, DealId, DecisionTrace, Review};
use crate::store::deals::{DealSummary, StakeholderView};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// One deal with its history, people, activity and what dealtrace recorded about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DealDetail {
    /// The deal with its names resolved.
    pub summary: DealSummary,
    /// Stage, amount and close-date history, oldest first.
    pub history: DealHistory,
    /// Contacts on the deal, most recently engaged first.
    pub stakeholders: Vec<StakeholderView>,
    /// Calls, meetings, emails and notes, oldest first.
    pub activities: Vec<Activity>,
    /// Stage labels by stage id: the deal's pipeline's, and other pipelines' for stages its
    /// history went through before it moved.
    pub stage_labels: BTreeMap<String, String>,
    /// The deal's reviews, oldest first (drafts included).
    pub reviews: Vec<Review>,
    /// The deal's decision traces, in the order of the decisions.
    pub traces: Vec<DecisionTrace>,
    /// The advisor's recommendations shown for the deal, oldest first.
    pub recommendations: Vec<crate::domain::RecommendationRecord>,
}

impl DealDetail {
    /// The recommendation last shown at or before `at`, as a decision trace carries it.
    pub fn recommended_at(&self, at: jiff::Timestamp) -> Option<crate::domain::Recommendation> {
        self.recommendations
            .iter()
            .filter(|r| r.shown_at <= at)
            .max_by_key(|r| r.shown_at)
            .map(|r| crate::domain::Recommendation {
                lesson_id: r.lesson_id.clone(),
                text: r.text.clone(),
            })
    }
}

impl DealDetail {
    /// The label of a stage id, or the id itself when the pipeline does not name it.
    pub fn stage_label<'a>(&'a self, stage_id: &'a str) -> &'a str {
        self.stage_labels
            .get(stage_id)
            .map(String::as_str)
            .unwrap_or(stage_id)
    }
}

/// Reads one deal in full, or `None` when the cache does not hold it.
pub fn load(conn: &Connection, id: &DealId) -> Result<Option<DealDetail>> {
    let Some(summary) = deals::summary(conn, id)? else {
        return Ok(None);
    };
    let pipeline_id: String = conn
        .prepare_cached("SELECT pipeline_id FROM deals WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))?;
    // Every pipeline's labels, the deal's own winning where ids clash: a deal moved between
    // pipelines has history in stages of the other one.
    let mut stage_labels = BTreeMap::new();
    let (own, others): (Vec<_>, Vec<_>) = pipelines::all(conn)?
        .into_iter()
        .partition(|p| p.id.as_str() == pipeline_id);
    for stage in others.into_iter().flat_map(|p| p.stages) {
        stage_labels
            .entry(stage.id.as_str().to_owned())
            .or_insert(stage.label);
    }
    for stage in own.into_iter().flat_map(|p| p.stages) {
        stage_labels.insert(stage.id.as_str().to_owned(), stage.label);
    }
    let reviews = reviews::ids_for_deal(conn, id)?
        .iter()
        .filter_map(|rid| reviews::get(conn, rid).transpose())
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(DealDetail {
        history: deals::history(conn, id)?,
        stakeholders: deals::stakeholders(conn, id)?,
        activities: activities::for_deal(conn, id)?,
        stage_labels,
        reviews,
        traces: traces::for_deal(conn, id)?,
        recommendations: super::lessons::recommendations_for_deal(conn, id)?,
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deals::tests::seeded;

    #[test]
    fn loads_a_deal_in_full_and_nothing_for_an_unknown_id() {
        let store = seeded(2);
        let detail = load(store.conn(), &"d1".into()).unwrap().unwrap();
        assert_eq!(detail.summary.id.as_str(), "d1");
        assert!(!detail.stage_labels.is_empty());
        assert_eq!(
            detail.stage_label(&detail.summary.stage_id),
            detail.summary.stage
        );
        assert!(load(store.conn(), &"nope".into()).unwrap().is_none());
    }
}
