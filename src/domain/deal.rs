//! Deals, pipelines and stages.

use super::ids::{CompanyId, DealId, OwnerId, PipelineId, StageId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A sales pipeline with its ordered stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// The CRM's pipeline id.
    pub id: PipelineId,
    /// The name people see.
    pub label: String,
    /// Position among the account's pipelines.
    pub display_order: i64,
    /// Stages in display order.
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// The stage with this id, if the pipeline has it.
    pub fn stage(&self, id: &StageId) -> Option<&Stage> {
        self.stages.iter().find(|s| &s.id == id)
    }
}

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The CRM's internal stage id.
    pub id: StageId,
    /// The name people see ("Demo").
    pub label: String,
    /// Position in the pipeline.
    pub display_order: i64,
    /// Win probability the CRM assigns to the stage (0.0–1.0), if it has one.
    pub probability: Option<f64>,
    /// Whether a deal in this stage is closed.
    pub is_closed: bool,
    /// Whether a deal in this stage is closed won.
    pub is_won: bool,
}

/// Where a deal stands: open, or closed one way or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// Not closed yet.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

/// A deal as the CRM currently describes it. History lives in [`super::DealHistory`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    /// The CRM's id.
    pub id: DealId,
    /// The CRM the deal came from (`hubspot`, `csv`, `demo`, …).
    pub source: String,
    /// The deal's name.
    pub name: String,
    /// The account the deal is with.
    pub company_id: Option<CompanyId>,
    /// The rep who owns the deal.
    pub owner_id: Option<OwnerId>,
    /// The pipeline the deal is in.
    pub pipeline_id: PipelineId,
    /// The deal's current stage.
    pub stage_id: StageId,
    /// Current amount, in `currency`.
    pub amount: Option<f64>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// When the deal was created in the CRM.
    pub created_at: Timestamp,
    /// The current expected (or actual, once closed) close date.
    pub close_date: Option<Timestamp>,
    /// Whether the deal is closed.
    pub is_closed: bool,
    /// Whether the deal is closed won.
    pub is_won: bool,
    /// The CRM's free-text win or loss reason, if any.
    pub closed_reason: Option<String>,
    /// When the CRM last changed the deal.
    pub last_modified: Timestamp,
    /// When the deal was archived or deleted in the CRM; archived deals keep their reviews.
    pub archived_at: Option<Timestamp>,
    /// Further CRM properties (lead source, deal type, …) by internal name.
    pub properties: BTreeMap<String, String>,
}

impl Deal {
    /// Open, won or lost.
    pub fn status(&self) -> DealStatus {
        match (self.is_closed, self.is_won) {
            (false, _) => DealStatus::Open,
            (true, true) => DealStatus::Won,
            (true, false) => DealStatus::Lost,
        }
    }

    /// An open deal whose expected close date has passed: a slip the CRM has not recorded yet.
    pub fn is_past_close_date(&self, now: Timestamp) -> bool {
        !self.is_closed && self.close_date.is_some_and(|c| c < now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};

    fn deal(is_closed: bool, is_won: bool, close: Option<i64>) -> Deal {
        Deal {
            id: "1".into(),
            source: "test".into(),
            name: "Acme renewal".into(),
            company_id: None,
            owner_id: None,
            pipeline_id: "default".into(),
            stage_id: "presentationscheduled".into(),
            amount: Some(10_000.0),
            currency: "USD".into(),
            created_at: from_unix(0),
            close_date: close.map(from_unix),
            is_closed,
            is_won,
            closed_reason: None,
            last_modified: from_unix(0),
            archived_at: None,
            properties: BTreeMap::new(),
        }
    }

    #[test]
    fn status_follows_flags() {
        assert_eq!(deal(false, false, None).status(), DealStatus::Open);
        assert_eq!(deal(true, true, None).status(), DealStatus::Won);
        assert_eq!(deal(true, false, None).status(), DealStatus::Lost);
    }

    #[test]
    fn past_close_date_only_for_open_deals() {
        let now = from_unix(10 * DAY);
        assert!(deal(false, false, Some(9 * DAY)).is_past_close_date(now));
        assert!(!deal(false, false, Some(11 * DAY)).is_past_close_date(now));
        assert!(!deal(true, false, Some(9 * DAY)).is_past_close_date(now));
        assert!(!deal(false, false, None).is_past_close_date(now));
    }
}
