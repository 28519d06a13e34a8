//! Owners, teams, companies, contacts and the stakeholders of a deal.

use super::ids::{CompanyId, ContactId, DealId, OwnerId, TeamId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A sales team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    /// The team's id.
    pub id: TeamId,
    /// The team's name.
    pub name: String,
}

/// A deal owner (a rep or manager).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// The CRM's owner id.
    pub id: OwnerId,
    /// Full name.
    pub name: String,
    /// Work email, if known.
    pub email: Option<String>,
    /// The team the owner belongs to.
    pub team_id: Option<TeamId>,
    /// False for owners whose user was removed in the CRM; their deals still resolve.
    pub active: bool,
}

/// A customer account, with the attributes that define segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// The CRM's company id.
    pub id: CompanyId,
    /// The company's name.
    pub name: String,
    /// Web domain, if known.
    pub domain: Option<String>,
    /// Industry ("Software", "Healthcare", …).
    pub industry: Option<String>,
    /// Employee-count band ("201-1000", …).
    pub size_band: Option<String>,
    /// The function that leads the buying decision ("engineering", "finance", "operations").
    pub buying_center: Option<String>,
    /// Further CRM properties by internal name (region, ownership, …).
    pub properties: BTreeMap<String, String>,
}

/// A person at a customer account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// The CRM's contact id.
    pub id: ContactId,
    /// The company the contact works for.
    pub company_id: Option<CompanyId>,
    /// Full name.
    pub name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// Job title as the CRM has it ("VP Engineering").
    pub title: Option<String>,
    /// When the contact was created in the CRM.
    pub created_at: Option<Timestamp>,
}

/// The role a contact plays on a deal, where the CRM or a reviewer has said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealRole {
    /// Sells internally for us.
    Champion,
    /// Signs off the spend.
    EconomicBuyer,
    /// Judges technical fit.
    TechnicalBuyer,
    /// Uses the product day to day.
    User,
    /// Runs the purchasing process.
    Procurement,
    /// Anyone else who influences the decision.
    Influencer,
}

impl DealRole {
    /// Every role, in a stable order.
    pub const ALL: [DealRole; 6] = [
        DealRole::Champion,
        DealRole::EconomicBuyer,
        DealRole::TechnicalBuyer,
        DealRole::User,
        DealRole::Procurement,
        DealRole::Influencer,
    ];

    /// The snake_case name used on disk and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DealRole::Champion => "champion",
            DealRole::EconomicBuyer => "economic_buyer",
            DealRole::TechnicalBuyer => "technical_buyer",
            DealRole::User => "user",
            DealRole::Procurement => "procurement",
            DealRole::Influencer => "influencer",
        }
    }

    /// Parses the on-disk name.
    pub fn parse(s: &str) -> Option<DealRole> {
        DealRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A contact linked to a deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stakeholder {
    /// The deal.
    pub deal_id: DealId,
    /// The contact.
    pub contact_id: ContactId,
    /// The contact's role on the deal, if known.
    pub role: Option<DealRole>,
    /// When the contact was associated with the deal, if the CRM records it.
    pub added_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in DealRole::ALL {
            assert_eq!(DealRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(DealRole::parse("cfo"), None);
    }
}
