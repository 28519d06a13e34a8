//! HubSpot's JSON shapes, as documented (CRM-APIS.md §1.2–1.10). Only the fields dealtrace reads;
//! unknown fields are ignored so that additions on HubSpot's side never break a sync.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A CRM object (deal, company, contact, call, …).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    /// The record id.
    pub id: String,
    /// Property values; all strings, `null` when defined but empty.
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    /// Past values of the requested properties.
    #[serde(default)]
    pub properties_with_history: BTreeMap<String, Vec<HistoryValue>>,
    /// Whether the record is archived (deleted).
    #[serde(default)]
    pub archived: bool,
    /// When it was archived.
    #[serde(default)]
    pub archived_at: Option<String>,
    /// When it was last updated.
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Object {
    /// A property's value, if set and not empty.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.properties
            .get(name)
            .and_then(|v| v.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// One past value of a property.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HistoryValue {
    /// The value (a string, possibly empty).
    #[serde(default)]
    pub value: Option<String>,
    /// When it was set.
    pub timestamp: String,
}

/// `paging.next.after`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Paging {
    /// The next page, absent on the last.
    #[serde(default)]
    pub next: Option<NextPage>,
}

/// The cursor of the next page.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct NextPage {
    /// Opaque cursor.
    pub after: String,
}

/// A page of a list or search endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Collection<T> {
    /// The records.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// Paging, absent on the last page.
    #[serde(default)]
    pub paging: Option<Paging>,
    /// Total matches (search only).
    #[serde(default)]
    pub total: Option<u64>,
}

impl<T> Collection<T> {
    /// The next page's cursor.
    pub fn next_after(&self) -> Option<String> {
        self.paging
            .as_ref()
            .and_then(|p| p.next.as_ref())
            .map(|n| n.after.clone())
    }
}

/// A batch read's response (200 or 207).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Batch<T> {
    /// The records found.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// A pipeline with its stages.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineJson {
    /// Pipeline id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Position.
    #[serde(default)]
    pub display_order: i64,
    /// Stages.
    #[serde(default)]
    pub stages: Vec<StageJson>,
}

/// A pipeline stage.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageJson {
    /// Internal stage id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Position.
    #[serde(default)]
    pub display_order: i64,
    /// String-to-string metadata (`probability`, `isClosed`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// An owner.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OwnerJson {
    /// Owner id (what `hubspot_owner_id` holds).
    pub id: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Whether the user was removed.
    #[serde(default)]
    pub archived: bool,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<TeamJson>,
}

/// An owner's team.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TeamJson {
    /// Team id.
    pub id: String,
    /// Team name.
    pub name: String,
    /// Whether it is the owner's primary team.
    #[serde(default)]
    pub primary: bool,
}

/// One record's associations from a v4 batch read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AssociationResult {
    /// The record the associations are from.
    pub from: FromId,
    /// The associated records.
    #[serde(default)]
    pub to: Vec<AssociatedRecord>,
    /// More associations of this one record.
    #[serde(default)]
    pub paging: Option<Paging>,
}

/// `{ "id": "…" }`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FromId {
    /// The id.
    pub id: String,
}

/// An associated record with the association's types (and labels).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedRecord {
    /// The associated record's id: a string in the spec, a number in the docs' example.
    #[serde(deserialize_with = "string_or_number")]
    pub to_object_id: String,
    /// Association types.
    #[serde(default)]
    pub association_types: Vec<AssociationType>,
}

/// An association type.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssociationType {
    /// HUBSPOT_DEFINED or USER_DEFINED.
    #[serde(default)]
    pub category: String,
    /// The type id.
    #[serde(default)]
    pub type_id: i64,
    /// The label (user-defined labels carry contact roles).
    #[serde(default)]
    pub label: Option<String>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(u64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_list_response_parses() {
        // The example of CRM-APIS.md §1.2.
        let json = r#"{
          "results": [{
            "id": "512", "archived": false, "archivedAt": null,
            "createdAt": "2019-10-30T03:30:17.883Z", "updatedAt": "2019-12-07T16:50:06.678Z",
            "properties": {"dealname": "Acme", "amount": "1500.00", "dealstage": "contractsent", "hs_object_id": "512", "closedate": null},
            "propertiesWithHistory": {"dealstage": [
              {"value": "contractsent", "timestamp": "2019-12-07T16:50:06.678Z", "sourceType": "CRM_UI", "sourceId": "userId:28604240", "sourceLabel": null, "updatedByUserId": 28604240}
            ]}
          }],
          "paging": {"next": {"after": "NTI1Cg%3D%3D", "link": "?after=NTI1Cg%3D%3D"}}
        }"#;
        let page: Collection<Object> = serde_json::from_str(json).unwrap();
        assert_eq!(page.next_after().as_deref(), Some("NTI1Cg%3D%3D"));
        let deal = &page.results[0];
        assert_eq!(deal.prop("amount"), Some("1500.00"));
        assert_eq!(deal.prop("closedate"), None);
        assert_eq!(deal.properties_with_history["dealstage"].len(), 1);
        let last: Collection<Object> = serde_json::from_str(r#"{"results": []}"#).unwrap();
        assert_eq!(last.next_after(), None);
    }

    #[test]
    fn association_ids_may_be_numbers_or_strings() {
        let json = r#"{"results": [{"from": {"id": "1"}, "to": [
            {"toObjectId": 201, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}]},
            {"toObjectId": "202", "associationTypes": [{"category": "USER_DEFINED", "typeId": 17, "label": "Champion"}]}
        ]}]}"#;
        let batch: Batch<AssociationResult> = serde_json::from_str(json).unwrap();
        let ids: Vec<_> = batch.results[0]
            .to
            .iter()
            .map(|t| t.to_object_id.as_str())
            .collect();
        assert_eq!(ids, vec!["201", "202"]);
    }
}
