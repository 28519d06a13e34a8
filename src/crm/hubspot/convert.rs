//! HubSpot records to domain values: pure functions, tested with documented shapes.

use super::model::{AssociationType, Object, OwnerJson, PipelineJson};
use crate::crm::connector::RemoteDeal;
use crate::domain::time::from_unix;
use crate::domain::{
    Activity, ActivityKind, AmountChange, CloseDateChange, Company, Contact, Deal, DealHistory,
    DealRole, Direction, HistoryEvent, Owner, Pipeline, Stage, StageChange, Team, TeamId,
};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// The source name of HubSpot deals.
pub const SOURCE: &str = "hubspot";

/// Deal properties every sync requests.
pub const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "amount",
    "closedate",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
    "hs_is_closed",
    "hs_is_closed_won",
    "closed_lost_reason",
    "closed_won_reason",
    "deal_currency_code",
];

/// Deal properties whose history a sync requests.
pub const DEAL_HISTORY: &[&str] = &["dealstage", "amount", "closedate"];

/// The prefix of the stage-entry properties HubSpot keeps per stage ([2nd] CRM-APIS §1 note 3:
/// `hs_v2_date_entered_<stageId>`, the last time the deal entered that stage).
pub const STAGE_ENTERED_PREFIX: &str = "hs_v2_date_entered_";

/// The stage-entry property of every stage in `flags`, sorted.
pub fn stage_entered_properties(flags: &StageFlags) -> Vec<String> {
    let stages: std::collections::BTreeSet<&str> =
        flags.keys().map(|(_, stage)| stage.as_str()).collect();
    stages
        .into_iter()
        .map(|s| format!("{STAGE_ENTERED_PREFIX}{s}"))
        .collect()
}

/// Company properties every sync requests.
pub const COMPANY_PROPERTIES: &[&str] = &["name", "domain", "industry", "numberofemployees"];

/// Contact properties every sync requests.
pub const CONTACT_PROPERTIES: &[&str] = &[
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "associatedcompanyid",
    "createdate",
];

/// Which account-specific properties map where: the rest of a deal's or company's requested
/// properties land in its `properties` map.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMap {
    /// Extra deal properties to copy (lead source, deal type, …).
    pub deal_extra: Vec<String>,
    /// Extra company properties to copy (region, …).
    pub company_extra: Vec<String>,
    /// The company property holding the size band (if it holds a number of employees, it is
    /// turned into a band).
    pub size_band: String,
    /// The company property naming the function that leads the purchase.
    pub buying_center: String,
    /// The account's currency, for deals without `deal_currency_code`.
    pub currency: String,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            deal_extra: Vec::new(),
            company_extra: Vec::new(),
            size_band: "numberofemployees".into(),
            buying_center: "buying_center".into(),
            currency: "USD".into(),
        }
    }
}

/// An instant as HubSpot writes it: ISO 8601 with offset, a bare date (midnight UTC), or epoch
/// milliseconds.
pub fn parse_instant(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .map(|ms| from_unix(ms.div_euclid(1000)));
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        // Second precision, like every instant in the cache.
        return Some(from_unix(t.as_second()));
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

fn parse_bool(s: Option<&str>) -> Option<bool> {
    match s?.trim() {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn parse_amount(s: Option<&str>) -> Option<f64> {
    s.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// A pipeline: closed and won flags from `metadata.isClosed` where present, else from the
/// probability (1.0 won, 0.0 lost), as CRM-APIS.md §1.6 recommends.
pub fn pipeline(p: &PipelineJson) -> Pipeline {
    let mut stages: Vec<Stage> = p
        .stages
        .iter()
        .map(|s| {
            let probability = s
                .metadata
                .get("probability")
                .and_then(|v| v.trim().parse::<f64>().ok());
            let is_closed = parse_bool(s.metadata.get("isClosed").map(String::as_str))
                .unwrap_or(matches!(probability, Some(p) if p >= 1.0 || p <= 0.0));
            Stage {
                id: s.id.as_str().into(),
                label: s.label.clone(),
                display_order: s.display_order,
                probability,
                is_closed,
                is_won: is_closed && probability.is_some_and(|p| p >= 1.0),
            }
        })
        .collect();
    stages.sort_by(|a, b| a.display_order.cmp(&b.display_order).then(a.id.cmp(&b.id)));
    Pipeline {
        id: p.id.as_str().into(),
        label: p.label.clone(),
        display_order: p.display_order,
        stages,
    }
}

/// Owners and the teams they name (each owner's primary team, else its first).
pub fn owners(list: &[OwnerJson]) -> (Vec<Team>, Vec<Owner>) {
    let mut teams: BTreeMap<String, Team> = BTreeMap::new();
    let owners = list
        .iter()
        .map(|o| {
            let team = o.teams.iter().find(|t| t.primary).or(o.teams.first());
            for t in &o.teams {
                teams.entry(t.id.clone()).or_insert_with(|| Team {
                    id: t.id.as_str().into(),
                    name: t.name.clone(),
                });
            }
            let name = [o.first_name.as_deref(), o.last_name.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Owner {
                id: o.id.as_str().into(),
                name: if name.is_empty() {
                    o.email.clone().unwrap_or_else(|| format!("owner {}", o.id))
                } else {
                    name
                },
                email: o.email.clone(),
                team_id: team.map(|t| TeamId(t.id.clone())),
                active: !o.archived,
            }
        })
        .collect();
    (teams.into_values().collect(), owners)
}

/// The closed/won flags of each (pipeline, stage).
pub type StageFlags = HashMap<(String, String), (bool, bool)>;

/// Flags of every stage of the given pipelines.
pub fn stage_flags(pipelines: &[Pipeline]) -> StageFlags {
    pipelines
        .iter()
        .flat_map(|p| {
            p.stages
                .iter()
                .map(|s| ((p.id.0.clone(), s.id.0.clone()), (s.is_closed, s.is_won)))
        })
        .collect()
}

/// A deal with its history. Fails (with the reason) only when the record lacks what every deal
/// has: an id, a stage and a creation date.
pub fn deal(o: &Object, flags: &StageFlags, fields: &FieldMap) -> Result<RemoteDeal, String> {
    let stage = o
        .prop("dealstage")
        .ok_or_else(|| format!("deal {} has no dealstage", o.id))?;
    let pipeline = o.prop("pipeline").unwrap_or("default");
    let created_at = o
        .prop("createdate")
        .and_then(parse_instant)
        .ok_or_else(|| format!("deal {} has no createdate", o.id))?;
    let (stage_closed, stage_won) = flags
        .get(&(pipeline.to_owned(), stage.to_owned()))
        .copied()
        .unwrap_or((false, false));
    let is_closed = parse_bool(o.prop("hs_is_closed")).unwrap_or(stage_closed);
    let is_won = is_closed && parse_bool(o.prop("hs_is_closed_won")).unwrap_or(stage_won);
    let closed_reason = if !is_closed {
        None
    } else if is_won {
        o.prop("closed_won_reason")
    } else {
        o.prop("closed_lost_reason")
    };
    let last_modified = o
        .prop("hs_lastmodifieddate")
        .and_then(parse_instant)
        .unwrap_or(created_at);
    let properties = fields
        .deal_extra
        .iter()
        .filter_map(|name| o.prop(name).map(|v| (name.clone(), v.to_owned())))
        .collect();
    let deal = Deal {
        id: o.id.as_str().into(),
        source: SOURCE.into(),
        name: o.prop("dealname").unwrap_or("(no name)").to_owned(),
        company_id: None,
        owner_id: o.prop("hubspot_owner_id").map(Into::into),
        pipeline_id: pipeline.into(),
        stage_id: stage.into(),
        amount: parse_amount(o.prop("amount")),
        currency: o
            .prop("deal_currency_code")
            .map(str::to_owned)
            .unwrap_or_else(|| fields.currency.clone()),
        created_at,
        close_date: o.prop("closedate").and_then(parse_instant),
        is_closed,
        is_won,
        closed_reason: closed_reason.map(str::to_owned),
        last_modified,
        archived_at: None,
        properties,
    };
    Ok(RemoteDeal {
        history: with_stage_entries(history(o), o),
        deal,
    })
}

/// Fills in stages the returned history lacks from the stage-entry properties. The history is
/// the authority (it has every entry, in order); the properties only add a stage it does not
/// show at all: HubSpot can return a shortened history (a deal imported mid-pipeline, a long
/// record), while `hs_v2_date_entered_<stage>` still says when the deal entered it.
fn with_stage_entries(mut history: DealHistory, o: &Object) -> DealHistory {
    let shown: std::collections::HashSet<String> = history
        .stages
        .iter()
        .map(|c| c.stage_id.as_str().to_owned())
        .collect();
    let mut added = false;
    for (name, value) in &o.properties {
        let Some(stage) = name.strip_prefix(STAGE_ENTERED_PREFIX) else {
            continue;
        };
        if shown.contains(stage) {
            continue;
        }
        if let Some(at) = value.as_deref().and_then(parse_instant) {
            history.stages.push(StageChange {
                at,
                stage_id: stage.into(),
            });
            added = true;
        }
    }
    if added {
        history.stages.sort_by_key(|c| c.at);
    }
    history
}

/// The field history of a deal. HubSpot lists a property's values newest first; the cache keeps
/// them oldest first, so the list is reversed (which keeps same-second changes in their true
/// order) and then stably sorted by time.
pub fn history(o: &Object) -> DealHistory {
    let values = |name: &str| {
        let mut v: Vec<(Timestamp, Option<String>)> = o
            .properties_with_history
            .get(name)
            .map(|list| {
                list.iter()
                    .rev()
                    .filter_map(|h| {
                        let at = parse_instant(&h.timestamp)?;
                        let value = h.value.as_deref().map(str::trim).filter(|s| !s.is_empty());
                        Some((at, value.map(str::to_owned)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|(at, _)| *at);
        v
    };
    DealHistory {
        stages: values("dealstage")
            .into_iter()
            .filter_map(|(at, v)| {
                v.map(|s| StageChange {
                    at,
                    stage_id: s.into(),
                })
            })
            .collect(),
        amounts: values("amount")
            .into_iter()
            .map(|(at, v)| AmountChange {
                at,
                amount: parse_amount(v.as_deref()),
            })
            .collect(),
        close_dates: values("closedate")
            .into_iter()
            .map(|(at, v)| CloseDateChange {
                at,
                close_date: v.as_deref().and_then(parse_instant),
            })
            .collect(),
    }
}

/// A size band from a number of employees (or the value itself if it is already a band).
pub fn size_band(value: &str) -> String {
    let Ok(n) = value.trim().replace(',', "").parse::<f64>() else {
        return value.trim().to_owned();
    };
    match n as i64 {
        ..=50 => "1-50",
        51..=200 => "51-200",
        201..=1000 => "201-1000",
        1001..=5000 => "1001-5000",
        _ => "5000+",
    }
    .to_owned()
}

/// A company.
pub fn company(o: &Object, fields: &FieldMap) -> Company {
    Company {
        id: o.id.as_str().into(),
        name: o.prop("name").unwrap_or("(no name)").to_owned(),
        domain: o.prop("domain").map(str::to_owned),
        industry: o.prop("industry").map(str::to_owned),
        size_band: o.prop(&fields.size_band).map(size_band),
        buying_center: o.prop(&fields.buying_center).map(str::to_owned),
        properties: fields
            .company_extra
            .iter()
            .filter_map(|n| o.prop(n).map(|v| (n.clone(), v.to_owned())))
            .collect(),
    }
}

/// A contact.
pub fn contact(o: &Object) -> Contact {
    let name = [o.prop("firstname"), o.prop("lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Contact {
        id: o.id.as_str().into(),
        company_id: o.prop("associatedcompanyid").map(Into::into),
        name: if name.is_empty() {
            o.prop("email").unwrap_or("(no name)").to_owned()
        } else {
            name
        },
        email: o.prop("email").map(str::to_owned),
        title: o.prop("jobtitle").map(str::to_owned),
        created_at: o.prop("createdate").and_then(parse_instant),
    }
}

/// The engagement objects and the properties each needs.
pub const ENGAGEMENTS: &[(&str, ActivityKind, &[&str])] = &[
    (
        "calls",
        ActivityKind::Call,
        &[
            "hs_timestamp",
            "hs_call_title",
            "hs_call_body",
            "hs_call_direction",
            "hubspot_owner_id",
        ],
    ),
    (
        "meetings",
        ActivityKind::Meeting,
        &[
            "hs_timestamp",
            "hs_meeting_title",
            "hs_meeting_body",
            "hubspot_owner_id",
        ],
    ),
    (
        "emails",
        ActivityKind::Email,
        &[
            "hs_timestamp",
            "hs_email_subject",
            "hs_email_text",
            "hs_email_direction",
            "hubspot_owner_id",
        ],
    ),
    (
        "notes",
        ActivityKind::Note,
        &["hs_timestamp", "hs_note_body", "hubspot_owner_id"],
    ),
];

/// An activity from an engagement object; `None` without a timestamp (HubSpot requires one).
pub fn activity(o: &Object, kind: ActivityKind, deal: &str) -> Option<Activity> {
    let occurred_at = o.prop("hs_timestamp").and_then(parse_instant)?;
    let (subject, body, direction) = match kind {
        ActivityKind::Call => (
            o.prop("hs_call_title"),
            o.prop("hs_call_body"),
            o.prop("hs_call_direction").and_then(direction),
        ),
        ActivityKind::Meeting => (o.prop("hs_meeting_title"), o.prop("hs_meeting_body"), None),
        ActivityKind::Email => (
            o.prop("hs_email_subject"),
            o.prop("hs_email_text"),
            o.prop("hs_email_direction").and_then(direction),
        ),
        ActivityKind::Note => (None, o.prop("hs_note_body"), None),
    };
    Some(Activity {
        // Engagement ids are unique per object type, not across them.
        id: format!("{}-{}", kind.as_str(), o.id).into(),
        deal_id: deal.into(),
        kind,
        occurred_at,
        direction,
        subject: subject.map(str::to_owned),
        body: body.unwrap_or("").to_owned(),
        owner_id: o.prop("hubspot_owner_id").map(Into::into),
        contact_ids: Vec::new(),
    })
}

/// INBOUND/OUTBOUND (calls) and INCOMING_EMAIL/EMAIL/FORWARDED_EMAIL (emails).
fn direction(v: &str) -> Option<Direction> {
    match v.trim().to_ascii_uppercase().as_str() {
        "INBOUND" | "INCOMING_EMAIL" => Some(Direction::Inbound),
        "OUTBOUND" | "EMAIL" | "FORWARDED_EMAIL" => Some(Direction::Outbound),
        _ => None,
    }
}

/// A stakeholder role from a deal–contact association label, where the label names one.
pub fn role(types: &[AssociationType]) -> Option<DealRole> {
    types
        .iter()
        .filter_map(|t| t.label.as_deref())
        .find_map(|label| {
            let l = label.to_ascii_lowercase().replace(['-', '_'], " ");
            Some(if l.contains("champion") {
                DealRole::Champion
            } else if l.contains("economic") || l.contains("budget") || l.contains("signer") {
                DealRole::EconomicBuyer
            } else if l.contains("technical") || l.contains("evaluator") {
                DealRole::TechnicalBuyer
            } else if l.contains("procurement") || l.contains("purchasing") {
                DealRole::Procurement
            } else if l.contains("user") {
                DealRole::User
            } else if l.contains("influencer") || l.contains("decision") {
                DealRole::Influencer
            } else {
                return None;
            })
        })
}

/// The latest change in a history (for tests and diagnostics).
pub fn latest_change(h: &DealHistory) -> Option<Timestamp> {
    h.timeline().last().map(HistoryEvent::at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::hubspot::model::{Collection, StageJson};

    #[test]
    fn instants_in_every_documented_form() {
        let t = parse_instant("2019-12-07T16:50:06.678Z").unwrap();
        assert_eq!(t.as_second(), 1_575_737_406);
        assert_eq!(parse_instant("1575737406678"), Some(t));
        assert_eq!(
            parse_instant("2019-12-07").unwrap().as_second(),
            1_575_676_800
        );
        assert_eq!(
            parse_instant("2019-12-07T17:50:06+01:00"),
            Some(from_unix(1_575_737_406))
        );
        assert_eq!(parse_instant(""), None);
        assert_eq!(parse_instant("soon"), None);
    }

    #[test]
    fn stage_flags_from_metadata_or_probability() {
        let stage = |id: &str, meta: &[(&str, &str)]| StageJson {
            id: id.into(),
            label: id.into(),
            display_order: 0,
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let p = pipeline(&PipelineJson {
            id: "default".into(),
            label: "Sales".into(),
            display_order: 0,
            stages: vec![
                stage("won", &[("probability", "1.0")]),
                stage("lost", &[("probability", "0.0"), ("isClosed", "true")]),
                stage("demo", &[("probability", "0.4"), ("isClosed", "false")]),
            ],
        });
        let f = |id: &str| {
            let s = p.stage(&id.into()).unwrap();
            (s.is_closed, s.is_won)
        };
        assert_eq!(f("won"), (true, true));
        assert_eq!(f("lost"), (true, false));
        assert_eq!(f("demo"), (false, false));
    }

    #[test]
    fn a_deal_with_history_newest_first() {
        let json = r#"{"results": [{"id": "512",
          "properties": {"dealname": "Acme", "amount": "1500.00", "dealstage": "closedwon",
             "pipeline": "default", "createdate": "2026-01-01T00:00:00Z",
             "hs_lastmodifieddate": "2026-03-01T00:00:00.500Z", "closedate": "2026-02-27T10:00:00Z",
             "hs_is_closed": "true", "hs_is_closed_won": "true", "closed_won_reason": "Champion",
             "lead_source": "Inbound", "hubspot_owner_id": "77"},
          "propertiesWithHistory": {
            "dealstage": [
              {"value": "closedwon", "timestamp": "2026-02-27T10:00:00Z", "sourceType": "CRM_UI"},
              {"value": "presentationscheduled", "timestamp": "2026-01-10T00:00:00Z", "sourceType": "CRM_UI"},
              {"value": "appointmentscheduled", "timestamp": "2026-01-01T00:00:00Z", "sourceType": "CRM_UI"}],
            "amount": [
              {"value": "1500.00", "timestamp": "2026-02-20T00:00:00Z", "sourceType": "CRM_UI"},
              {"value": "", "timestamp": "2026-01-05T00:00:00Z", "sourceType": "CRM_UI"},
              {"value": "2000", "timestamp": "2026-01-01T00:00:00Z", "sourceType": "CRM_UI"}],
            "closedate": [
              {"value": "2026-02-27T10:00:00Z", "timestamp": "2026-02-27T10:00:00Z", "sourceType": "CRM_UI"},
              {"value": "1772323200000", "timestamp": "2026-01-01T00:00:00Z", "sourceType": "CRM_UI"}]
          }}]}"#;
        let page: Collection<Object> = serde_json::from_str(json).unwrap();
        let fields = FieldMap {
            deal_extra: vec!["lead_source".into(), "missing".into()],
            ..FieldMap::default()
        };
        let RemoteDeal { deal, history } =
            super::deal(&page.results[0], &StageFlags::new(), &fields).unwrap();
        assert_eq!(deal.name, "Acme");
        assert_eq!(deal.amount, Some(1500.0));
        assert!(deal.is_closed && deal.is_won);
        assert_eq!(deal.closed_reason.as_deref(), Some("Champion"));
        assert_eq!(deal.owner_id.as_ref().map(|o| o.as_str()), Some("77"));
        assert_eq!(deal.last_modified.as_second(), 1_772_323_200);
        assert_eq!(deal.properties.len(), 1);
        let stages: Vec<_> = history.stages.iter().map(|s| s.stage_id.as_str()).collect();
        assert_eq!(
            stages,
            vec!["appointmentscheduled", "presentationscheduled", "closedwon"]
        );
        let amounts: Vec<_> = history.amounts.iter().map(|a| a.amount).collect();
        assert_eq!(amounts, vec![Some(2000.0), None, Some(1500.0)]);
        assert_eq!(
            history.close_dates[0].close_date.unwrap().as_second(),
            1_772_323_200
        );
        assert_eq!(history.slip_count(7), 0, "moved earlier");
    }

    #[test]
    fn a_deal_without_a_stage_is_an_error_not_a_guess() {
        let o: Object = serde_json::from_str(r#"{"id": "1", "properties": {}}"#).unwrap();
        assert!(deal(&o, &StageFlags::new(), &FieldMap::default()).is_err());
    }

    #[test]
    fn engagements_companies_contacts_and_roles() {
        let call: Object = serde_json::from_str(
            r#"{"id": "9", "properties": {"hs_timestamp": "2026-01-02T03:04:05Z",
               "hs_call_title": "Intro", "hs_call_body": "Talked ROI", "hs_call_direction": "INBOUND"}}"#,
        )
        .unwrap();
        let a = activity(&call, ActivityKind::Call, "512").unwrap();
        assert_eq!(a.id.as_str(), "call-9");
        assert_eq!(a.direction, Some(Direction::Inbound));
        assert!(a.is_two_way());
        let email: Object = serde_json::from_str(
            r#"{"id": "9", "properties": {"hs_timestamp": "1767323045000", "hs_email_direction": "EMAIL"}}"#,
        )
        .unwrap();
        let e = activity(&email, ActivityKind::Email, "512").unwrap();
        assert_eq!(
            (e.id.as_str(), e.direction),
            ("email-9", Some(Direction::Outbound))
        );
        let undated: Object = serde_json::from_str(r#"{"id": "1", "properties": {}}"#).unwrap();
        assert!(activity(&undated, ActivityKind::Note, "512").is_none());

        let c: Object = serde_json::from_str(
            r#"{"id": "5", "properties": {"name": "Acme", "numberofemployees": "350", "buying_center": "engineering"}}"#,
        )
        .unwrap();
        let c = company(&c, &FieldMap::default());
        assert_eq!(c.size_band.as_deref(), Some("201-1000"));
        assert_eq!(c.buying_center.as_deref(), Some("engineering"));
        assert_eq!(size_band("51-200"), "51-200");

        let p: Object = serde_json::from_str(
            r#"{"id": "7", "properties": {"firstname": "Grace", "lastname": "Hopper", "jobtitle": "CTO", "associatedcompanyid": "5"}}"#,
        )
        .unwrap();
        let p = contact(&p);
        assert_eq!(
            (p.name.as_str(), p.title.as_deref()),
            ("Grace Hopper", Some("CTO"))
        );

        let t = |label: Option<&str>| AssociationType {
            category: "USER_DEFINED".into(),
            type_id: 1,
            label: label.map(str::to_owned),
        };
        assert_eq!(
            role(&[t(None), t(Some("Champion"))]),
            Some(DealRole::Champion)
        );
        assert_eq!(
            role(&[t(Some("Economic Buyer"))]),
            Some(DealRole::EconomicBuyer)
        );
        assert_eq!(role(&[t(Some("Legal"))]), None);
    }

    #[test]
    fn stage_entry_dates_fill_in_only_stages_the_history_lacks() {
        let o: Object = serde_json::from_value(serde_json::json!({
            "id": "1",
            "properties": {
                "hs_v2_date_entered_appointmentscheduled": "2026-01-05T10:00:00Z",
                "hs_v2_date_entered_presentationscheduled": "2026-02-01T09:00:00.000Z",
                "hs_v2_date_entered_decisionmakerboughtin": null,
                "hs_v2_date_entered_closedwon": "2026-03-01T12:00:00Z"
            },
            "propertiesWithHistory": {
                "dealstage": [
                    {"value": "closedwon", "timestamp": "2026-03-01T12:00:00Z"}
                ]
            }
        }))
        .unwrap();
        let stages: Vec<(String, i64)> = with_stage_entries(history(&o), &o)
            .stages
            .iter()
            .map(|c| (c.stage_id.as_str().to_owned(), c.at.as_second()))
            .collect();
        let at = |s: &str| s.parse::<Timestamp>().unwrap().as_second();
        assert_eq!(
            stages,
            vec![
                ("appointmentscheduled".into(), at("2026-01-05T10:00:00Z")),
                ("presentationscheduled".into(), at("2026-02-01T09:00:00Z")),
                ("closedwon".into(), at("2026-03-01T12:00:00Z")),
            ],
            "filled in, in time order; a null entry date and the stage the history shows add nothing"
        );
        let flags = StageFlags::from([
            (("default".into(), "b".into()), (false, false)),
            (("default".into(), "a".into()), (false, false)),
            (("other".into(), "a".into()), (true, true)),
        ]);
        assert_eq!(
            stage_entered_properties(&flags),
            vec!["hs_v2_date_entered_a", "hs_v2_date_entered_b"]
        );
    }
}
