//! The fake's records. The domain truth is kept (normalised to what HubSpot can convey) and
//! rendered into HubSpot's shapes on demand, so a 100,000-deal world costs no more memory than
//! its bundles, and a mutation changes one place that every endpoint then agrees on.

use super::wire::{iso_ms, plain_number};
use dealtrace::demo::DealBundle;
use dealtrace::domain::{
    Activity, ActivityKind, CloseDateChange, Company, Contact, DealId, DealRole, Direction, Owner,
    Pipeline, StageChange, StageId, Team,
};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The CRM object types the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Obj {
    /// `deals`, objectTypeId `0-3`.
    Deal,
    /// `contacts`, `0-1`.
    Contact,
    /// `companies`, `0-2`.
    Company,
    /// `calls`, `0-48`.
    Call,
    /// `meetings`, `0-47`.
    Meeting,
    /// `emails`, `0-49`.
    Email,
    /// `notes`, `0-46`.
    Note,
}

impl Obj {
    /// Every type, in a stable order.
    pub const ALL: [Obj; 7] = [
        Obj::Deal,
        Obj::Contact,
        Obj::Company,
        Obj::Call,
        Obj::Meeting,
        Obj::Email,
        Obj::Note,
    ];

    /// Parses a path segment: plural or singular name, or the objectTypeId (the current deals
    /// spec addresses deals as `0-3`, CRM-APIS 1.1).
    pub fn parse(s: &str) -> Option<Obj> {
        Some(match s.to_ascii_lowercase().as_str() {
            "deals" | "deal" | "0-3" => Obj::Deal,
            "contacts" | "contact" | "0-1" => Obj::Contact,
            "companies" | "company" | "0-2" => Obj::Company,
            "calls" | "call" | "0-48" => Obj::Call,
            "meetings" | "meeting" | "0-47" => Obj::Meeting,
            "emails" | "email" | "0-49" => Obj::Email,
            "notes" | "note" | "0-46" => Obj::Note,
            _ => return None,
        })
    }

    /// The plural API name (`deals`).
    pub fn plural(self) -> &'static str {
        match self {
            Obj::Deal => "deals",
            Obj::Contact => "contacts",
            Obj::Company => "companies",
            Obj::Call => "calls",
            Obj::Meeting => "meetings",
            Obj::Email => "emails",
            Obj::Note => "notes",
        }
    }

    /// The singular name (`deal`), as association messages and v3 association types use it.
    pub fn singular(self) -> &'static str {
        match self {
            Obj::Deal => "deal",
            Obj::Contact => "contact",
            Obj::Company => "company",
            Obj::Call => "call",
            Obj::Meeting => "meeting",
            Obj::Email => "email",
            Obj::Note => "note",
        }
    }

    /// The engagement kind this type holds, if it is an engagement.
    pub fn kind(self) -> Option<ActivityKind> {
        match self {
            Obj::Call => Some(ActivityKind::Call),
            Obj::Meeting => Some(ActivityKind::Meeting),
            Obj::Email => Some(ActivityKind::Email),
            Obj::Note => Some(ActivityKind::Note),
            _ => None,
        }
    }

    /// The engagement type of an activity kind.
    pub fn of_kind(kind: ActivityKind) -> Obj {
        match kind {
            ActivityKind::Call => Obj::Call,
            ActivityKind::Meeting => Obj::Meeting,
            ActivityKind::Email => Obj::Email,
            ActivityKind::Note => Obj::Note,
        }
    }

    /// The scopes a read of this type needs. Deals: [spec]. Owners are not objects. Engagement
    /// reads fall under the contacts scope, and emails also need `sales-email-read`
    /// ([2nd] community-reported 403s); companies' scope follows the same naming (UNVERIFIED).
    pub fn read_scopes(self) -> &'static [&'static str] {
        match self {
            Obj::Deal => &["crm.objects.deals.read"],
            Obj::Contact | Obj::Call | Obj::Meeting | Obj::Note => &["crm.objects.contacts.read"],
            Obj::Company => &["crm.objects.companies.read"],
            Obj::Email => &["crm.objects.contacts.read", "sales-email-read"],
        }
    }
}

/// One property value before it is written as a string: typed, so that search filters and sorts
/// compare instants and numbers as such, and so that no string is built for a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop<'a> {
    /// A known property with no value: rendered as `null`.
    Null,
    /// Text.
    Str(Cow<'a, str>),
    /// An instant (datetime property).
    Time(Timestamp),
    /// A number.
    Num(f64),
    /// A boolean (`"true"` / `"false"`).
    Bool(bool),
}

impl Prop<'_> {
    /// The JSON value: a string, or `null` (every property value is a string, CRM-APIS 1.2).
    pub fn to_json(&self) -> Value {
        match self.as_string() {
            Some(s) => Value::String(s),
            None => Value::Null,
        }
    }

    /// The value as HubSpot writes it, `None` for empty.
    pub fn as_string(&self) -> Option<String> {
        match self {
            Prop::Null => None,
            Prop::Str(s) => Some(s.to_string()),
            Prop::Time(t) => Some(iso_ms(*t)),
            Prop::Num(x) => Some(plain_number(*x)),
            Prop::Bool(b) => Some(b.to_string()),
        }
    }
}

/// One association type on an association, as v4 reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocType {
    /// `HUBSPOT_DEFINED` or `USER_DEFINED`.
    pub category: &'static str,
    /// The association type id.
    pub type_id: u32,
    /// The label (`Primary`, or a contact role), if any.
    pub label: Option<String>,
}

impl AssocType {
    fn hubspot(type_id: u32) -> AssocType {
        AssocType {
            category: "HUBSPOT_DEFINED",
            type_id,
            label: None,
        }
    }

    fn primary(type_id: u32) -> AssocType {
        AssocType {
            category: "HUBSPOT_DEFINED",
            type_id,
            label: Some("Primary".to_owned()),
        }
    }

    /// The JSON object `{category, typeId, label}`.
    pub fn to_json(&self) -> Value {
        json!({"category": self.category, "typeId": self.type_id, "label": self.label})
    }
}

/// The user-defined deal→contact association label of a role, with the type id the fake's
/// account assigns it. Labels are account-defined in HubSpot; these names are the fake's choice.
pub fn role_label(role: DealRole) -> (u32, &'static str) {
    match role {
        DealRole::Champion => (1001, "Champion"),
        DealRole::EconomicBuyer => (1002, "Economic Buyer"),
        DealRole::TechnicalBuyer => (1003, "Technical Buyer"),
        DealRole::User => (1004, "User"),
        DealRole::Procurement => (1005, "Procurement"),
        DealRole::Influencer => (1006, "Influencer"),
    }
}

/// The employee count the fake writes in `numberofemployees` for a size band: a number well
/// inside the band, so any sensible banding gives the band back. Other values pass through.
pub fn employees_for_band(band: &str) -> Prop<'_> {
    match band {
        "1-50" => Prop::Num(25.0),
        "51-200" => Prop::Num(120.0),
        "201-1000" => Prop::Num(500.0),
        "1001-5000" => Prop::Num(2500.0),
        "5000+" => Prop::Num(10000.0),
        other => Prop::Str(Cow::Borrowed(other)),
    }
}

/// A deal with the fake's bookkeeping.
#[derive(Debug, Clone)]
pub struct DealEntry {
    /// The truth, normalised (see [`normalise`]).
    pub bundle: DealBundle,
    /// The name before any `touch_deal`.
    pub base_name: String,
    /// How often the deal was touched.
    pub touches: u32,
    /// Search shows the deal's current state only from this instant (index lag), if set.
    pub visible_after: Option<Instant>,
}

/// Where an engagement lives.
#[derive(Debug, Clone, Copy)]
pub struct EngLoc {
    /// The deal whose activity it is (`None`: a created note with no deal).
    pub deal: Option<u64>,
    /// Index into the deal's activities, or into the standalone notes.
    pub idx: usize,
}

/// A note created through `POST /crm/v3/objects/notes`, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedNote {
    /// The id the fake gave it.
    pub id: String,
    /// The deal it was associated with (type 214), if any.
    pub deal_id: Option<DealId>,
    /// `hs_note_body`.
    pub body: String,
    /// `hs_timestamp`.
    pub timestamp: Timestamp,
    /// `hubspot_owner_id`.
    pub owner_id: Option<String>,
    /// The request body as sent.
    pub request: Value,
}

/// A record to render.
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    /// A deal.
    Deal(&'a DealEntry),
    /// A contact.
    Contact(&'a Contact),
    /// A company.
    Company(&'a Company),
    /// An engagement.
    Activity(&'a Activity),
}

/// Every record of the fake account.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// The deal pipeline (one, like the demo's).
    pub pipeline: Option<Pipeline>,
    /// Sales teams.
    pub teams: Vec<Team>,
    /// Owners, in insertion order (their position is their owner-list position).
    pub owners: Vec<Owner>,
    /// Companies by numeric id.
    pub companies: BTreeMap<u64, Company>,
    /// Contacts by numeric id.
    pub contacts: BTreeMap<u64, Contact>,
    /// Deals (live and archived) by numeric id.
    pub deals: BTreeMap<u64, DealEntry>,
    /// Engagements by numeric id.
    pub engagements: BTreeMap<u64, EngLoc>,
    /// Notes created with no deal association.
    pub standalone_notes: Vec<Activity>,
    /// Names of the deals' extra properties (known to the account: `null` where a deal lacks one).
    pub deal_props: BTreeSet<String>,
    /// Names of the companies' extra properties.
    pub company_props: BTreeSet<String>,
    /// Notes created through the API, in order.
    pub created_notes: Vec<CreatedNote>,
    /// The next id for a created note.
    pub next_note_id: u64,
    /// `createdAt` of records the domain gives no creation time (companies, owners, pipeline).
    pub epoch: Option<Timestamp>,
}

/// Parses a CRM id; the fake only holds numeric ids, as HubSpot does.
pub fn numeric_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

fn must_id(id: &str, what: &str) -> u64 {
    numeric_id(id).unwrap_or_else(|| panic!("the fake HubSpot needs numeric ids; {what} {id:?}"))
}

/// Splits a full name into HubSpot's first and last name.
fn split_name(name: &str) -> (&str, &str) {
    name.split_once(' ').unwrap_or((name, ""))
}

/// An instant truncated to milliseconds, the precision HubSpot stores and returns.
pub fn to_ms(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t)
}

/// Normalises a bundle to what HubSpot can convey, so that the truth the fake exposes is what a
/// faithful sync can reproduce:
/// - `source` becomes `hubspot`; every instant is truncated to milliseconds;
/// - meetings and notes carry no direction and notes no subject (HubSpot has no such properties);
/// - each activity's contacts are sorted and deduplicated (associations come back in id order);
/// - stakeholders are sorted by contact and lose `added_at` (v4 associations carry no time).
pub fn normalise(mut bundle: DealBundle) -> DealBundle {
    let d = &mut bundle.deal;
    d.source = "hubspot".to_owned();
    d.created_at = to_ms(d.created_at);
    d.last_modified = to_ms(d.last_modified);
    d.close_date = d.close_date.map(to_ms);
    d.archived_at = d.archived_at.map(to_ms);
    let h = &mut bundle.history;
    h.stages.iter_mut().for_each(|c| c.at = to_ms(c.at));
    h.amounts.iter_mut().for_each(|c| c.at = to_ms(c.at));
    for c in &mut h.close_dates {
        c.at = to_ms(c.at);
        c.close_date = c.close_date.map(to_ms);
    }
    for a in &mut bundle.activities {
        a.occurred_at = to_ms(a.occurred_at);
        if matches!(a.kind, ActivityKind::Meeting | ActivityKind::Note) {
            a.direction = None;
        }
        if a.kind == ActivityKind::Note {
            a.subject = None;
        }
        a.contact_ids.sort();
        a.contact_ids.dedup();
    }
    bundle
        .stakeholders
        .sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
    bundle
        .stakeholders
        .dedup_by(|a, b| a.contact_id == b.contact_id);
    for s in &mut bundle.stakeholders {
        s.added_at = None;
    }
    bundle
}

impl Store {
    /// The instant used as `createdAt` for records without one.
    pub fn epoch(&self) -> Timestamp {
        self.epoch.unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Adds (or replaces) a deal with its history, stakeholders and activities.
    pub fn add_deal(&mut self, bundle: DealBundle) {
        let bundle = normalise(bundle);
        let id = must_id(bundle.deal.id.as_str(), "deal");
        if let Some(old) = self.deals.remove(&id) {
            for a in &old.bundle.activities {
                if let Some(aid) = numeric_id(a.id.as_str())
                    && self
                        .engagements
                        .get(&aid)
                        .is_some_and(|l| l.deal == Some(id))
                {
                    self.engagements.remove(&aid);
                    // An engagement this deal shared with another stays findable there.
                    self.locate_engagement(aid);
                }
            }
        }
        for (idx, a) in bundle.activities.iter().enumerate() {
            let aid = must_id(a.id.as_str(), "activity");
            self.engagements.insert(
                aid,
                EngLoc {
                    deal: Some(id),
                    idx,
                },
            );
        }
        self.deal_props
            .extend(bundle.deal.properties.keys().cloned());
        let epoch = self.epoch.get_or_insert(bundle.deal.created_at);
        *epoch = (*epoch).min(bundle.deal.created_at);
        self.deals.insert(
            id,
            DealEntry {
                base_name: bundle.deal.name.clone(),
                bundle,
                touches: 0,
                visible_after: None,
            },
        );
    }

    /// Points the engagement index at a deal that holds engagement `aid`, if any does.
    fn locate_engagement(&mut self, aid: u64) {
        let found = self.deals.iter().find_map(|(did, e)| {
            e.bundle
                .activities
                .iter()
                .position(|a| numeric_id(a.id.as_str()) == Some(aid))
                .map(|idx| EngLoc {
                    deal: Some(*did),
                    idx,
                })
        });
        if let Some(loc) = found {
            self.engagements.insert(aid, loc);
        }
    }

    /// Adds (or replaces) a company.
    pub fn add_company(&mut self, company: Company) {
        self.company_props
            .extend(company.properties.keys().cloned());
        self.companies
            .insert(must_id(company.id.as_str(), "company"), company);
    }

    /// Adds (or replaces) a contact.
    pub fn add_contact(&mut self, contact: Contact) {
        if let Some(t) = contact.created_at {
            let epoch = self.epoch.get_or_insert(t);
            *epoch = (*epoch).min(t);
        }
        self.contacts
            .insert(must_id(contact.id.as_str(), "contact"), contact);
    }

    /// Adds (or replaces) an owner.
    pub fn add_owner(&mut self, owner: Owner) {
        must_id(owner.id.as_str(), "owner");
        match self.owners.iter_mut().find(|o| o.id == owner.id) {
            Some(o) => *o = owner,
            None => self.owners.push(owner),
        }
    }

    /// The HubSpot user id of an owner (`userId`): derived from its position, stable for a world.
    pub fn user_id(&self, owner: &str) -> Option<u64> {
        self.owners
            .iter()
            .position(|o| o.id.as_str() == owner)
            .map(|i| 30_000_001 + i as u64)
    }

    /// An engagement by id.
    pub fn activity(&self, id: u64) -> Option<&Activity> {
        let loc = self.engagements.get(&id)?;
        match loc.deal {
            Some(d) => self.deals.get(&d)?.bundle.activities.get(loc.idx),
            None => self.standalone_notes.get(loc.idx),
        }
    }

    /// The record `id` of type `obj`, among archived (`archived`) or live records.
    pub fn view(&self, obj: Obj, id: u64, archived: bool) -> Option<View<'_>> {
        match obj {
            Obj::Deal => self
                .deals
                .get(&id)
                .filter(|e| e.bundle.deal.archived_at.is_some() == archived)
                .map(View::Deal),
            _ if archived => None,
            Obj::Contact => self.contacts.get(&id).map(View::Contact),
            Obj::Company => self.companies.get(&id).map(View::Company),
            _ => self
                .activity(id)
                .filter(|a| Some(a.kind) == obj.kind())
                .map(View::Activity),
        }
    }

    /// Ids of type `obj` from `start` on, in id order (live or archived).
    pub fn ids_from(
        &self,
        obj: Obj,
        start: u64,
        archived: bool,
    ) -> Box<dyn Iterator<Item = u64> + '_> {
        match obj {
            Obj::Deal => Box::new(
                self.deals
                    .range(start..)
                    .filter(move |(_, e)| e.bundle.deal.archived_at.is_some() == archived)
                    .map(|(id, _)| *id),
            ),
            _ if archived => Box::new(std::iter::empty()),
            Obj::Contact => Box::new(self.contacts.range(start..).map(|(id, _)| *id)),
            Obj::Company => Box::new(self.companies.range(start..).map(|(id, _)| *id)),
            _ => Box::new(
                self.engagements
                    .range(start..)
                    .map(|(id, _)| *id)
                    .filter(move |id| self.activity(*id).map(|a| a.kind) == obj.kind()),
            ),
        }
    }

    /// Properties returned when a request names none.
    pub fn default_props(obj: Obj) -> &'static [&'static str] {
        match obj {
            Obj::Deal => &["dealname", "amount", "closedate", "pipeline", "dealstage"],
            Obj::Contact => &["firstname", "lastname", "email"],
            Obj::Company => &["name", "domain"],
            _ => &["hs_timestamp"],
        }
    }

    /// Properties every response carries whatever was asked for.
    pub fn always_props(obj: Obj) -> &'static [&'static str] {
        match obj {
            Obj::Deal | Obj::Company => &["createdate", "hs_lastmodifieddate", "hs_object_id"],
            Obj::Contact => &["createdate", "lastmodifieddate", "hs_object_id"],
            _ => &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
        }
    }

    /// Properties search returns by default (CRM-APIS 1.4, 1.9, 1.10).
    pub fn search_default_props(obj: Obj) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Self::default_props(obj).to_vec();
        v.extend_from_slice(Self::always_props(obj));
        v
    }

    /// `createdAt` and `updatedAt` of a record.
    pub fn times(&self, view: View<'_>) -> (Timestamp, Timestamp) {
        match view {
            View::Deal(e) => (e.bundle.deal.created_at, e.bundle.deal.last_modified),
            View::Contact(c) => {
                let t = c.created_at.unwrap_or_else(|| self.epoch());
                (t, t)
            }
            View::Company(_) => (self.epoch(), self.epoch()),
            View::Activity(a) => (a.occurred_at, a.occurred_at),
        }
    }

    /// A property of a record: `None` when the account has no such property (requests for it
    /// are ignored), `Some(Prop::Null)` when it is known but empty.
    pub fn prop<'a>(&'a self, view: View<'a>, name: &str) -> Option<Prop<'a>> {
        match view {
            View::Deal(e) => self.deal_prop(e, name),
            View::Contact(c) => self.contact_prop(c, name),
            View::Company(c) => self.company_prop(c, name),
            View::Activity(a) => self.activity_prop(a, name),
        }
    }

    fn deal_prop<'a>(&'a self, e: &'a DealEntry, name: &str) -> Option<Prop<'a>> {
        let d = &e.bundle.deal;
        let text = |s: &'a str| Prop::Str(Cow::Borrowed(s));
        let opt_text = |s: Option<&'a str>| s.map_or(Prop::Null, text);
        Some(match name {
            "dealname" => text(&d.name),
            "amount" => d.amount.map_or(Prop::Null, Prop::Num),
            "closedate" => d.close_date.map_or(Prop::Null, Prop::Time),
            "dealstage" => text(d.stage_id.as_str()),
            "pipeline" => text(d.pipeline_id.as_str()),
            "hubspot_owner_id" => opt_text(d.owner_id.as_ref().map(|o| o.as_str())),
            "createdate" => Prop::Time(d.created_at),
            "hs_lastmodifieddate" => Prop::Time(d.last_modified),
            "hs_object_id" => text(d.id.as_str()),
            "hs_is_closed" => Prop::Bool(d.is_closed),
            "hs_is_closed_won" => Prop::Bool(d.is_closed && d.is_won),
            "hs_is_closed_lost" => Prop::Bool(d.is_closed && !d.is_won),
            "closed_won_reason" if d.is_closed && d.is_won => opt_text(d.closed_reason.as_deref()),
            "closed_lost_reason" if d.is_closed && !d.is_won => {
                opt_text(d.closed_reason.as_deref())
            }
            "closed_won_reason" | "closed_lost_reason" => Prop::Null,
            "deal_currency_code" => text(&d.currency),
            other => {
                if let Some(v) = d.properties.get(other) {
                    text(v)
                } else if self.deal_props.contains(other) {
                    Prop::Null
                } else {
                    return stage_date(e, other, self.pipeline.as_ref());
                }
            }
        })
    }

    fn contact_prop<'a>(&'a self, c: &'a Contact, name: &str) -> Option<Prop<'a>> {
        let (first, last) = split_name(&c.name);
        let text = |s: &'a str| Prop::Str(Cow::Borrowed(s));
        let company = c
            .company_id
            .as_ref()
            .and_then(|id| numeric_id(id.as_str()))
            .and_then(|id| self.companies.get(&id));
        let created = c.created_at.unwrap_or_else(|| self.epoch());
        Some(match name {
            "firstname" => text(first),
            "lastname" if last.is_empty() => Prop::Null,
            "lastname" => text(last),
            "email" => c.email.as_deref().map_or(Prop::Null, text),
            "jobtitle" => c.title.as_deref().map_or(Prop::Null, text),
            "company" => company.map_or(Prop::Null, |co| text(&co.name)),
            "associatedcompanyid" => c
                .company_id
                .as_ref()
                .map_or(Prop::Null, |id| text(id.as_str())),
            "createdate" | "lastmodifieddate" => Prop::Time(created),
            "hs_object_id" => text(c.id.as_str()),
            _ => return None,
        })
    }

    fn company_prop<'a>(&'a self, c: &'a Company, name: &str) -> Option<Prop<'a>> {
        let text = |s: &'a str| Prop::Str(Cow::Borrowed(s));
        Some(match name {
            "name" => text(&c.name),
            "domain" => c.domain.as_deref().map_or(Prop::Null, text),
            "industry" => c.industry.as_deref().map_or(Prop::Null, text),
            "numberofemployees" => c
                .size_band
                .as_deref()
                .map_or(Prop::Null, employees_for_band),
            "buying_center" => c.buying_center.as_deref().map_or(Prop::Null, text),
            "createdate" | "hs_lastmodifieddate" => Prop::Time(self.epoch()),
            "hs_object_id" => text(c.id.as_str()),
            other => match c.properties.get(other) {
                Some(v) => text(v),
                None if self.company_props.contains(other) => Prop::Null,
                None => return None,
            },
        })
    }

    fn activity_prop<'a>(&'a self, a: &'a Activity, name: &str) -> Option<Prop<'a>> {
        let text = |s: &'a str| Prop::Str(Cow::Borrowed(s));
        let subject = || a.subject.as_deref().map_or(Prop::Null, text);
        let common = match name {
            "hs_timestamp" | "hs_createdate" | "hs_lastmodifieddate" => {
                Some(Prop::Time(a.occurred_at))
            }
            "hs_object_id" => Some(text(a.id.as_str())),
            "hubspot_owner_id" => {
                Some(a.owner_id.as_ref().map_or(Prop::Null, |o| text(o.as_str())))
            }
            // Search's association pseudo-property (CRM-APIS 1.4).
            "associations.deal" if !a.deal_id.as_str().is_empty() => Some(text(a.deal_id.as_str())),
            _ => None,
        };
        if common.is_some() {
            return common;
        }
        Some(match (a.kind, name) {
            (ActivityKind::Call, "hs_call_title") => subject(),
            (ActivityKind::Call, "hs_call_body") => text(&a.body),
            (ActivityKind::Call, "hs_call_direction") => match a.direction {
                Some(Direction::Inbound) => text("INBOUND"),
                Some(Direction::Outbound) => text("OUTBOUND"),
                None => Prop::Null,
            },
            (ActivityKind::Call, "hs_call_status") => text("COMPLETED"),
            (ActivityKind::Meeting, "hs_meeting_title") => subject(),
            (ActivityKind::Meeting, "hs_meeting_body") => text(&a.body),
            (ActivityKind::Meeting, "hs_meeting_start_time") => Prop::Time(a.occurred_at),
            (ActivityKind::Email, "hs_email_subject") => subject(),
            (ActivityKind::Email, "hs_email_text") => text(&a.body),
            // EMAIL: sent from or logged to the CRM; INCOMING_EMAIL: a reply from the contact
            // ([2nd] HubSpot's emails guide as quoted in Myddleware's HubSpot metadata).
            (ActivityKind::Email, "hs_email_direction") => match a.direction {
                Some(Direction::Inbound) => text("INCOMING_EMAIL"),
                Some(Direction::Outbound) => text("EMAIL"),
                None => Prop::Null,
            },
            (ActivityKind::Email, "hs_email_status") => text("SENT"),
            (ActivityKind::Note, "hs_note_body") => text(&a.body),
            _ => return None,
        })
    }

    /// Every property name of a type the account knows (for tests and for `properties=*`-style
    /// checks).
    pub fn known_props(&self, obj: Obj) -> Vec<String> {
        let fixed: &[&str] = match obj {
            Obj::Deal => &[
                "dealname",
                "amount",
                "closedate",
                "dealstage",
                "pipeline",
                "hubspot_owner_id",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_is_closed",
                "hs_is_closed_won",
                "hs_is_closed_lost",
                "closed_won_reason",
                "closed_lost_reason",
                "deal_currency_code",
            ],
            Obj::Contact => &[
                "firstname",
                "lastname",
                "email",
                "jobtitle",
                "company",
                "associatedcompanyid",
                "createdate",
                "lastmodifieddate",
                "hs_object_id",
            ],
            Obj::Company => &[
                "name",
                "domain",
                "industry",
                "numberofemployees",
                "buying_center",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            ],
            Obj::Call => &[
                "hs_timestamp",
                "hs_call_title",
                "hs_call_body",
                "hs_call_direction",
                "hs_call_status",
                "hubspot_owner_id",
            ],
            Obj::Meeting => &[
                "hs_timestamp",
                "hs_meeting_title",
                "hs_meeting_body",
                "hs_meeting_start_time",
                "hubspot_owner_id",
            ],
            Obj::Email => &[
                "hs_timestamp",
                "hs_email_subject",
                "hs_email_text",
                "hs_email_direction",
                "hs_email_status",
                "hubspot_owner_id",
            ],
            Obj::Note => &["hs_timestamp", "hs_note_body", "hubspot_owner_id"],
        };
        let mut out: Vec<String> = fixed.iter().map(|s| (*s).to_owned()).collect();
        match obj {
            Obj::Deal => {
                out.extend(self.deal_props.iter().cloned());
                if let Some(p) = &self.pipeline {
                    for s in &p.stages {
                        out.push(format!("hs_v2_date_entered_{}", s.id));
                        out.push(format!("hs_v2_date_exited_{}", s.id));
                    }
                }
            }
            Obj::Company => out.extend(self.company_props.iter().cloned()),
            Obj::Contact => {}
            _ => out.extend(
                ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]
                    .iter()
                    .map(|s| (*s).to_owned()),
            ),
        }
        out
    }

    /// `propertiesWithHistory` entries of one property, **newest first** (the order HubSpot
    /// returns; the array is exactly the domain's oldest-first list reversed, ties included).
    /// Stage, amount and close date carry their full history; any other property one entry with
    /// its current value at `updatedAt` (none when empty).
    pub fn history(&self, view: View<'_>, name: &str) -> Option<Vec<Value>> {
        let owner_user = match view {
            View::Deal(e) => e
                .bundle
                .deal
                .owner_id
                .as_ref()
                .and_then(|o| self.user_id(o.as_str())),
            _ => None,
        };
        let entry = |value: String, at: Timestamp| {
            let mut m = Map::new();
            m.insert("value".into(), Value::String(value));
            m.insert("timestamp".into(), Value::String(iso_ms(at)));
            m.insert("sourceType".into(), Value::String("CRM_UI".into()));
            if let Some(u) = owner_user {
                m.insert("sourceId".into(), Value::String(format!("userId:{u}")));
                m.insert("sourceLabel".into(), Value::Null);
                m.insert("updatedByUserId".into(), json!(u));
            }
            Value::Object(m)
        };
        if let View::Deal(e) = view {
            let h = &e.bundle.history;
            match name {
                "dealstage" => {
                    return Some(
                        h.stages
                            .iter()
                            .rev()
                            .map(|c| entry(c.stage_id.to_string(), c.at))
                            .collect(),
                    );
                }
                "amount" => {
                    return Some(
                        h.amounts
                            .iter()
                            .rev()
                            .map(|c| entry(c.amount.map(plain_number).unwrap_or_default(), c.at))
                            .collect(),
                    );
                }
                "closedate" => {
                    return Some(
                        h.close_dates
                            .iter()
                            .rev()
                            .map(|c| entry(c.close_date.map(iso_ms).unwrap_or_default(), c.at))
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        let value = self.prop(view, name)?;
        let (_, updated) = self.times(view);
        Some(
            value
                .as_string()
                .map(|v| entry(v, updated))
                .into_iter()
                .collect(),
        )
    }

    /// The associations of record `id` of type `from` to records of type `to`, in ascending
    /// target id, or `Err` when the fake does not model that pair. Type ids: CRM-APIS 1.8 for
    /// deal→contact/company/engagement and call/meeting/email/note→deal; the others ([2nd]
    /// HubSpot's association-type table as copied in public code): contact→deal 4,
    /// contact→company 279 (1 primary), company→deal 342 (6 primary), company→contact 280
    /// (2 primary), call/meeting/email/note→contact 194/200/198/202.
    pub fn associations(
        &self,
        from: Obj,
        id: u64,
        to: Obj,
    ) -> Result<Vec<(u64, Vec<AssocType>)>, String> {
        let mut out: BTreeMap<u64, Vec<AssocType>> = BTreeMap::new();
        let live_deal = |id: u64| {
            self.deals
                .get(&id)
                .filter(|e| e.bundle.deal.archived_at.is_none())
        };
        match (from, to) {
            (Obj::Deal, Obj::Contact) => {
                if let Some(e) = live_deal(id) {
                    for s in &e.bundle.stakeholders {
                        let Some(cid) = numeric_id(s.contact_id.as_str()) else {
                            continue;
                        };
                        let types = out.entry(cid).or_default();
                        types.push(AssocType::hubspot(3));
                        if let Some(role) = s.role {
                            let (type_id, label) = role_label(role);
                            types.push(AssocType {
                                category: "USER_DEFINED",
                                type_id,
                                label: Some(label.to_owned()),
                            });
                        }
                    }
                }
            }
            (Obj::Deal, Obj::Company) => {
                if let Some(cid) = live_deal(id)
                    .and_then(|e| e.bundle.deal.company_id.as_ref())
                    .and_then(|c| numeric_id(c.as_str()))
                {
                    out.insert(cid, vec![AssocType::primary(5), AssocType::hubspot(341)]);
                }
            }
            (Obj::Deal, eng) if eng.kind().is_some() => {
                let type_id = match eng {
                    Obj::Call => 205,
                    Obj::Email => 209,
                    Obj::Meeting => 211,
                    _ => 213,
                };
                if let Some(e) = live_deal(id) {
                    for a in &e.bundle.activities {
                        if Some(a.kind) == eng.kind()
                            && let Some(aid) = numeric_id(a.id.as_str())
                        {
                            out.insert(aid, vec![AssocType::hubspot(type_id)]);
                        }
                    }
                }
            }
            (eng, Obj::Contact | Obj::Deal) if eng.kind().is_some() => {
                if let Some(a) = self.activity(id).filter(|a| Some(a.kind) == eng.kind()) {
                    if to == Obj::Contact {
                        let type_id = match eng {
                            Obj::Call => 194,
                            Obj::Email => 198,
                            Obj::Meeting => 200,
                            _ => 202,
                        };
                        for c in &a.contact_ids {
                            if let Some(cid) = numeric_id(c.as_str()) {
                                out.insert(cid, vec![AssocType::hubspot(type_id)]);
                            }
                        }
                    } else if let Some(did) = numeric_id(a.deal_id.as_str())
                        && live_deal(did).is_some()
                    {
                        let type_id = match eng {
                            Obj::Call => 206,
                            Obj::Email => 210,
                            Obj::Meeting => 212,
                            _ => 214,
                        };
                        out.insert(did, vec![AssocType::hubspot(type_id)]);
                    }
                }
            }
            (Obj::Contact, Obj::Company) => {
                if let Some(cid) = self
                    .contacts
                    .get(&id)
                    .and_then(|c| c.company_id.as_ref())
                    .and_then(|c| numeric_id(c.as_str()))
                {
                    out.insert(cid, vec![AssocType::primary(1), AssocType::hubspot(279)]);
                }
            }
            (Obj::Company, Obj::Contact) => {
                let company = self.companies.get(&id).map(|c| &c.id);
                for (cid, c) in &self.contacts {
                    if company.is_some() && c.company_id.as_ref() == company {
                        out.insert(*cid, vec![AssocType::primary(2), AssocType::hubspot(280)]);
                    }
                }
            }
            (Obj::Contact, Obj::Deal) => {
                if let Some(c) = self.contacts.get(&id) {
                    for (did, e) in &self.deals {
                        if e.bundle.deal.archived_at.is_none()
                            && e.bundle.stakeholders.iter().any(|s| s.contact_id == c.id)
                        {
                            out.insert(*did, vec![AssocType::hubspot(4)]);
                        }
                    }
                }
            }
            (Obj::Company, Obj::Deal) => {
                if let Some(c) = self.companies.get(&id) {
                    for (did, e) in &self.deals {
                        if e.bundle.deal.archived_at.is_none()
                            && e.bundle.deal.company_id.as_ref() == Some(&c.id)
                        {
                            out.insert(*did, vec![AssocType::primary(6), AssocType::hubspot(342)]);
                        }
                    }
                }
            }
            _ => {
                return Err(format!(
                    "the fake does not model {} to {} associations",
                    from.singular(),
                    to.singular()
                ));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The live deal `id`, for a mutation.
    pub fn live_deal_mut(&mut self, id: &DealId) -> &mut DealEntry {
        let key = must_id(id.as_str(), "deal");
        self.deals
            .get_mut(&key)
            .filter(|e| e.bundle.deal.archived_at.is_none())
            .unwrap_or_else(|| panic!("the fake HubSpot has no live deal {id}"))
    }

    /// Changes the deal's name (a plain property edit) and bumps `hs_lastmodifieddate`.
    pub fn touch(entry: &mut DealEntry, at: Timestamp) {
        let at = to_ms(at);
        entry.touches += 1;
        entry.bundle.deal.name = format!("{} (edit {})", entry.base_name, entry.touches);
        entry.bundle.deal.last_modified = at;
    }

    /// Moves the deal to `stage` at `at`, appending to its stage history. Entering a closed stage
    /// from an open one sets the close date to `at` (with a close-date history entry), as
    /// HubSpot does (CRM-APIS 1.5).
    pub fn change_stage(
        entry: &mut DealEntry,
        pipeline: Option<&Pipeline>,
        stage: &StageId,
        at: Timestamp,
    ) {
        let at = to_ms(at);
        let s = pipeline
            .and_then(|p| p.stage(stage))
            .unwrap_or_else(|| panic!("the fake HubSpot's pipeline has no stage {stage}"));
        let (is_closed, is_won) = (s.is_closed, s.is_won);
        let b = &mut entry.bundle;
        let was_closed = b.deal.is_closed;
        b.history.stages.push(StageChange {
            at,
            stage_id: stage.clone(),
        });
        b.deal.stage_id = stage.clone();
        b.deal.is_closed = is_closed;
        b.deal.is_won = is_won;
        if is_closed && !was_closed {
            b.deal.close_date = Some(at);
            b.history.close_dates.push(CloseDateChange {
                at,
                close_date: Some(at),
            });
        }
        b.deal.last_modified = at;
    }
}

/// `hs_v2_date_entered_<stage>` (the last entry into the stage) and `hs_v2_date_exited_<stage>`
/// (the change that followed it), for stages of the pipeline. Property names: [2nd]
/// (CRM-APIS 1.5); which entry counts on re-entry is the fake's choice.
fn stage_date<'a>(e: &DealEntry, name: &str, pipeline: Option<&Pipeline>) -> Option<Prop<'a>> {
    let (stage, entered) = if let Some(s) = name.strip_prefix("hs_v2_date_entered_") {
        (s, true)
    } else {
        (name.strip_prefix("hs_v2_date_exited_")?, false)
    };
    pipeline?.stage(&StageId::from(stage))?;
    let stages = &e.bundle.history.stages;
    let Some(last) = stages.iter().rposition(|c| c.stage_id.as_str() == stage) else {
        return Some(Prop::Null);
    };
    Some(if entered {
        Prop::Time(stages[last].at)
    } else {
        stages
            .get(last + 1)
            .map_or(Prop::Null, |c| Prop::Time(c.at))
    })
}

/// The JSON owner (`PublicOwner`, CRM-APIS 1.7).
pub fn owner_json(store: &Store, owner: &Owner) -> Value {
    let (first, last) = split_name(&owner.name);
    let user_id = store.user_id(owner.id.as_str());
    let teams: Vec<Value> = owner
        .team_id
        .iter()
        .map(|t| {
            let name = store
                .teams
                .iter()
                .find(|x| &x.id == t)
                .map_or(t.as_str(), |x| x.name.as_str());
            json!({"id": t.as_str(), "name": name, "primary": true})
        })
        .collect();
    let at = iso_ms(store.epoch());
    json!({
        "id": owner.id.as_str(),
        "email": owner.email,
        "firstName": first,
        "lastName": last,
        "userId": if owner.active { user_id } else { None },
        "userIdIncludingInactive": user_id,
        "type": "PERSON",
        "archived": !owner.active,
        "createdAt": at,
        "updatedAt": at,
        "teams": teams,
    })
}

/// The JSON pipeline (CRM-APIS 1.6): stage metadata `probability` as a decimal string and the
/// undocumented-but-observed `isClosed`.
pub fn pipeline_json(p: &Pipeline) -> Value {
    // Default pipelines carry createdAt = 0 (CRM-APIS 1.6).
    let at = iso_ms(Timestamp::UNIX_EPOCH);
    let stages: Vec<Value> = p
        .stages
        .iter()
        .map(|s| {
            let mut metadata = Map::new();
            if let Some(prob) = s.probability {
                metadata.insert("probability".into(), Value::String(format!("{prob:?}")));
            }
            metadata.insert("isClosed".into(), Value::String(s.is_closed.to_string()));
            json!({
                "id": s.id.as_str(),
                "label": s.label,
                "displayOrder": s.display_order,
                "archived": false,
                "createdAt": at,
                "updatedAt": at,
                "metadata": metadata,
            })
        })
        .collect();
    json!({
        "id": p.id.as_str(),
        "label": p.label,
        "displayOrder": p.display_order,
        "archived": false,
        "createdAt": at,
        "updatedAt": at,
        "stages": stages,
    })
}
