//! [`HubSpot`]: the [`Connector`] for HubSpot's CRM API.

use super::client::Client;
use super::convert::{self, FieldMap, StageFlags};
use super::limits::Budget;
use super::model::{AssociationResult, Batch, Collection, Object, OwnerJson, PipelineJson};
use crate::config::CrmConfig;
use crate::crm::connector::{Change, Connector, CrmError, Enrichment, Page, RemoteDeal, Removal};
use crate::domain::{ActivityKind, DealId, Owner, Pipeline, Stakeholder, Team};
use futures_util::future::try_join_all;
use jiff::Timestamp;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

/// Deals per list page when history is requested (HubSpot allows 50 with history).
pub const LIST_PAGE: usize = 50;
/// Inputs per batch read (documented 100; 50 when history is requested, to be safe).
pub const BATCH_READ: usize = 100;
/// Deals per batch read with history.
pub const BATCH_READ_WITH_HISTORY: usize = 50;
/// Inputs per v4 association batch read.
pub const ASSOCIATION_BATCH: usize = 1_000;
/// Results per search page.
pub const SEARCH_PAGE: usize = 200;
/// Results one search query can page through before HubSpot answers 400.
pub const SEARCH_CAP: usize = 10_000;
/// The association type of a note to a deal (HUBSPOT_DEFINED, CRM-APIS 1.8 and 1.11).
pub const NOTE_TO_DEAL: u32 = 214;

/// The HubSpot connector.
pub struct HubSpot {
    client: Client,
    fields: FieldMap,
    flags: RwLock<StageFlags>,
    search_cap: usize,
}

impl HubSpot {
    /// A connector over `client`, mapping account-specific properties with `fields`.
    pub fn new(client: Client, fields: FieldMap) -> HubSpot {
        HubSpot {
            client,
            fields,
            flags: RwLock::new(StageFlags::new()),
            search_cap: SEARCH_CAP,
        }
    }

    /// The connector `[crm]` describes (whatever its `kind`: the caller checks that it is
    /// HubSpot), with its token from the environment or the OS keyring.
    pub fn from_config(crm: &CrmConfig) -> Result<HubSpot, CrmError> {
        let token = crate::crm::token::lookup(&crm.token_env)?;
        let client = Client::new(&crm.base_url, token, &crm.token_env, crm.requests_per_10s)?;
        Ok(HubSpot::new(
            client,
            FieldMap {
                deal_extra: crm.deal_properties.clone(),
                company_extra: crm.company_properties.clone(),
                size_band: crm.size_band_property.clone(),
                buying_center: crm.buying_center_property.clone(),
                currency: crm.currency.clone(),
            },
        ))
    }

    /// Lowers the search cap (for tests that exercise re-anchoring without 10,000 records).
    pub fn with_search_cap(mut self, cap: usize) -> HubSpot {
        self.search_cap = cap.max(SEARCH_PAGE);
        self
    }

    /// Pages through one search query, sorted ascending by `sort`, recording every deal's
    /// modification time into `changes`, until the results run out (`None`) or the next page
    /// would pass the search cap (`Some`: the last result seen, to re-anchor on).
    async fn search_to_cap(
        &self,
        filters: Vec<serde_json::Value>,
        sort: &str,
        fallback: Timestamp,
        changes: &mut BTreeMap<String, Timestamp>,
    ) -> Result<Option<Change>, CrmError> {
        let mut offset = 0usize;
        let mut last: Option<Change> = None;
        loop {
            let body = json!({
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": ["hs_lastmodifieddate"],
                "limit": SEARCH_PAGE,
                "after": offset.to_string(),
            });
            let page: Collection<Object> = self
                .client
                .post("/crm/v3/objects/deals/search", &body, Budget::Search)
                .await?;
            for o in &page.results {
                let at = o
                    .prop("hs_lastmodifieddate")
                    .and_then(convert::parse_instant)
                    .unwrap_or(fallback);
                let entry = changes.entry(o.id.clone()).or_insert(at);
                *entry = (*entry).max(at);
                last = Some(Change {
                    id: o.id.as_str().into(),
                    modified_at: last.as_ref().map_or(at, |l| l.modified_at.max(at)),
                });
            }
            offset += page.results.len();
            if page.next_after().is_none() || page.results.is_empty() {
                return Ok(None);
            }
            if offset + SEARCH_PAGE > self.search_cap {
                // The next page would pass the cap (HubSpot answers 400).
                return Ok(last);
            }
        }
    }

    /// Every deal modified exactly at `at`, walked in id order with `hs_object_id > last`
    /// re-anchoring, so that no number of deals sharing one instant defeats the cap.
    async fn drain_instant(
        &self,
        at: Timestamp,
        changes: &mut BTreeMap<String, Timestamp>,
    ) -> Result<(), CrmError> {
        let mut after_id: Option<String> = None;
        loop {
            let mut filters = vec![search_filter(
                "hs_lastmodifieddate",
                "EQ",
                at.as_millisecond().to_string(),
            )];
            if let Some(id) = &after_id {
                filters.push(search_filter("hs_object_id", "GT", id.clone()));
            }
            match self
                .search_to_cap(filters, "hs_object_id", at, changes)
                .await?
            {
                None => return Ok(()),
                Some(last) => after_id = Some(last.id.0),
            }
        }
    }

    fn deal_properties(&self) -> Vec<String> {
        let entered = self
            .flags
            .read()
            .map(|f| convert::stage_entered_properties(&f))
            .unwrap_or_default();
        convert::DEAL_PROPERTIES
            .iter()
            .map(|s| (*s).to_owned())
            .chain(self.fields.deal_extra.iter().cloned())
            .chain(entered)
            .collect()
    }

    fn convert_deals(&self, objects: &[Object]) -> Vec<RemoteDeal> {
        let flags = self.flags.read().map(|f| f.clone()).unwrap_or_default();
        objects
            .iter()
            .filter_map(|o| match convert::deal(o, &flags, &self.fields) {
                Ok(d) => Some(d),
                Err(reason) => {
                    // One malformed record must not stop a sync; it is logged and skipped.
                    tracing::warn!("skipping a HubSpot deal: {reason}");
                    None
                }
            })
            .collect()
    }

    /// Batch-reads objects of one type, 100 ids a request, requests in parallel.
    async fn batch_read(
        &self,
        object: &str,
        ids: &[String],
        properties: &[String],
    ) -> Result<Vec<Object>, CrmError> {
        let path = format!("/crm/v3/objects/{object}/batch/read");
        let requests = ids.chunks(BATCH_READ).map(|chunk| {
            let body = json!({
                "inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
                "properties": properties,
                "propertiesWithHistory": [],
            });
            let path = path.clone();
            async move {
                self.client
                    .post::<Batch<Object>>(&path, &body, Budget::App)
                    .await
                    .map(|b| b.results)
            }
        });
        Ok(try_join_all(requests)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// v4 associations from `from` records to `to` records, following per-record paging.
    async fn associations(
        &self,
        from: &str,
        to: &str,
        ids: &[String],
    ) -> Result<Vec<AssociationResult>, CrmError> {
        let path = format!("/crm/v4/associations/{from}/{to}/batch/read");
        let mut out: Vec<AssociationResult> = Vec::new();
        for chunk in ids.chunks(ASSOCIATION_BATCH) {
            let mut inputs: Vec<serde_json::Value> =
                chunk.iter().map(|id| json!({"id": id})).collect();
            // Records with more associations than one page come back with a cursor of their own.
            while !inputs.is_empty() {
                let body = json!({ "inputs": inputs });
                let batch: Batch<AssociationResult> =
                    self.client.post(&path, &body, Budget::Exempt).await?;
                inputs = batch
                    .results
                    .iter()
                    .filter_map(|r| {
                        let after = r.paging.as_ref()?.next.as_ref()?.after.clone();
                        Some(json!({"id": r.from.id, "after": after}))
                    })
                    .collect();
                out.extend(batch.results);
            }
        }
        Ok(out)
    }
}

impl Connector for HubSpot {
    fn source(&self) -> &'static str {
        convert::SOURCE
    }

    async fn pipelines(&self) -> Result<Vec<Pipeline>, CrmError> {
        let list: Collection<PipelineJson> = self
            .client
            .get("/crm/v3/pipelines/deals", &[], Budget::App)
            .await?;
        let pipelines: Vec<Pipeline> = list.results.iter().map(convert::pipeline).collect();
        if let Ok(mut flags) = self.flags.write() {
            *flags = convert::stage_flags(&pipelines);
        }
        Ok(pipelines)
    }

    async fn owners(&self) -> Result<(Vec<Team>, Vec<Owner>), CrmError> {
        let mut all: Vec<OwnerJson> = Vec::new();
        // Owners of removed users are listed only with archived=true; old deals still name them.
        for archived in [false, true] {
            let mut after: Option<String> = None;
            loop {
                let mut query = vec![
                    ("limit", "100".to_owned()),
                    ("archived", archived.to_string()),
                ];
                if let Some(a) = &after {
                    query.push(("after", a.clone()));
                }
                let page: Collection<OwnerJson> = self
                    .client
                    .get("/crm/v3/owners", &query, Budget::App)
                    .await?;
                after = page.next_after();
                all.extend(page.results);
                if after.is_none() {
                    break;
                }
            }
        }
        Ok(convert::owners(&all))
    }

    async fn deals_page(&self, after: Option<String>) -> Result<Page<RemoteDeal>, CrmError> {
        let mut query = vec![
            ("limit", LIST_PAGE.to_string()),
            ("properties", self.deal_properties().join(",")),
            ("propertiesWithHistory", convert::DEAL_HISTORY.join(",")),
        ];
        if let Some(a) = after {
            query.push(("after", a));
        }
        let page: Collection<Object> = self
            .client
            .get("/crm/v3/objects/deals", &query, Budget::App)
            .await?;
        Ok(Page {
            items: self.convert_deals(&page.results),
            next: page.next_after(),
        })
    }

    async fn changed_since(&self, since: Timestamp) -> Result<Vec<Change>, CrmError> {
        let mut changes: BTreeMap<String, Timestamp> = BTreeMap::new();
        let mut anchor = since;
        loop {
            let filters = vec![search_filter(
                "hs_lastmodifieddate",
                "GTE",
                anchor.as_millisecond().to_string(),
            )];
            let Some(stop) = self
                .search_to_cap(filters, "hs_lastmodifieddate", anchor, &mut changes)
                .await?
            else {
                break;
            };
            // The query stopped at the cap. Deals sharing the last instant seen may straddle
            // the cut, and a crowd of them (a bulk import touches thousands at once) could fill
            // a whole capped query, so that instant is walked by id; the next query starts
            // just after it.
            self.drain_instant(stop.modified_at, &mut changes).await?;
            anchor = stop
                .modified_at
                .checked_add(jiff::SignedDuration::from_millis(1))
                .unwrap_or(stop.modified_at);
        }
        let mut out: Vec<Change> = changes
            .into_iter()
            .map(|(id, modified_at)| Change {
                id: id.into(),
                modified_at,
            })
            .collect();
        out.sort_by(|a, b| a.modified_at.cmp(&b.modified_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn deals_by_id(&self, ids: &[DealId]) -> Result<Vec<RemoteDeal>, CrmError> {
        let properties = self.deal_properties();
        let requests = ids.chunks(BATCH_READ_WITH_HISTORY).map(|chunk| {
            let body = json!({
                "inputs": chunk.iter().map(|id| json!({"id": id.as_str()})).collect::<Vec<_>>(),
                "properties": properties,
                "propertiesWithHistory": convert::DEAL_HISTORY,
            });
            async move {
                self.client
                    .post::<Batch<Object>>("/crm/v3/objects/deals/batch/read", &body, Budget::App)
                    .await
                    .map(|b| b.results)
            }
        });
        let objects: Vec<Object> = try_join_all(requests)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(self.convert_deals(&objects))
    }

    async fn enrich(&self, ids: &[DealId]) -> Result<Enrichment, CrmError> {
        let deal_ids: Vec<String> = ids.iter().map(|d| d.0.clone()).collect();
        let (companies, contacts, engagements) = futures_util::try_join!(
            self.associations("deals", "companies", &deal_ids),
            self.associations("deals", "contacts", &deal_ids),
            try_join_all(
                convert::ENGAGEMENTS
                    .iter()
                    .map(|(object, _, _)| self.associations("deals", object, &deal_ids))
            ),
        )?;

        let mut out = Enrichment::default();
        // Primary company (type 5) first, else the first associated company.
        for r in &companies {
            let primary =
                r.to.iter()
                    .find(|t| t.association_types.iter().any(|a| a.type_id == 5))
                    .or(r.to.first());
            if let Some(c) = primary {
                out.deal_companies
                    .push((r.from.id.as_str().into(), c.to_object_id.as_str().into()));
            }
        }
        let mut contact_ids: BTreeSet<String> = BTreeSet::new();
        for r in &contacts {
            for t in &r.to {
                contact_ids.insert(t.to_object_id.clone());
                out.stakeholders.push(Stakeholder {
                    deal_id: r.from.id.as_str().into(),
                    contact_id: t.to_object_id.as_str().into(),
                    role: convert::role(&t.association_types),
                    added_at: None,
                });
            }
        }

        // Engagement records, their contacts, and which deal each belongs to.
        for ((object, kind, properties), links) in convert::ENGAGEMENTS.iter().zip(&engagements) {
            // An engagement can be on several deals of the batch; it is kept on each.
            let mut deal_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for r in links {
                for t in &r.to {
                    deal_of
                        .entry(t.to_object_id.clone())
                        .or_default()
                        .insert(r.from.id.clone());
                }
            }
            let engagement_ids: Vec<String> = deal_of.keys().cloned().collect();
            if engagement_ids.is_empty() {
                continue;
            }
            let props: Vec<String> = properties.iter().map(|s| (*s).to_owned()).collect();
            let (records, people) =
                futures_util::try_join!(self.batch_read(object, &engagement_ids, &props), async {
                    if *kind == ActivityKind::Note {
                        Ok(Vec::new())
                    } else {
                        self.associations(object, "contacts", &engagement_ids).await
                    }
                },)?;
            let people: BTreeMap<&str, Vec<String>> = people
                .iter()
                .map(|r| {
                    let ids = r.to.iter().map(|t| t.to_object_id.clone()).collect();
                    (r.from.id.as_str(), ids)
                })
                .collect();
            for o in &records {
                let Some(deals) = deal_of.get(&o.id) else {
                    continue;
                };
                let mut who = people.get(o.id.as_str()).cloned().unwrap_or_default();
                who.sort();
                who.dedup();
                contact_ids.extend(who.iter().cloned());
                for deal in deals {
                    if let Some(mut a) = convert::activity(o, *kind, deal) {
                        a.contact_ids = who.iter().cloned().map(Into::into).collect();
                        out.activities.push(a);
                    }
                }
            }
        }

        let company_ids: Vec<String> = out
            .deal_companies
            .iter()
            .map(|(_, c)| c.0.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let company_props: Vec<String> = convert::COMPANY_PROPERTIES
            .iter()
            .map(|s| (*s).to_owned())
            .chain([
                self.fields.size_band.clone(),
                self.fields.buying_center.clone(),
            ])
            .chain(self.fields.company_extra.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let contact_props: Vec<String> = convert::CONTACT_PROPERTIES
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let contact_ids: Vec<String> = contact_ids.into_iter().collect();
        let (company_objects, contact_objects) = futures_util::try_join!(
            self.batch_read("companies", &company_ids, &company_props),
            self.batch_read("contacts", &contact_ids, &contact_props),
        )?;
        out.companies = company_objects
            .iter()
            .map(|o| convert::company(o, &self.fields))
            .collect();
        out.contacts = contact_objects.iter().map(convert::contact).collect();
        Ok(out)
    }

    async fn deal_count(&self) -> Option<u64> {
        // Search reports `total` with any page; one result is the cheapest page there is.
        let body = json!({"limit": 1, "properties": ["hs_object_id"]});
        match self
            .client
            .post::<Collection<Object>>("/crm/v3/objects/deals/search", &body, Budget::Search)
            .await
        {
            Ok(page) => page.total,
            Err(e) => {
                tracing::info!(error = %e, "cannot count deals; progress shows no total");
                None
            }
        }
    }

    async fn removed(&self) -> Result<Vec<Removal>, CrmError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("limit", "100".to_owned()),
                ("archived", "true".to_owned()),
                ("properties", "hs_lastmodifieddate".to_owned()),
            ];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let page: Collection<Object> = self
                .client
                .get("/crm/v3/objects/deals", &query, Budget::App)
                .await?;
            out.extend(page.results.iter().map(|o| Removal {
                id: o.id.as_str().into(),
                archived_at: o.archived_at.as_deref().and_then(convert::parse_instant),
            }));
            after = page.next_after();
            if after.is_none() {
                break;
            }
        }
        Ok(out)
    }

    fn request_counts(&self) -> (u64, u64) {
        self.client.counts()
    }

    async fn post_note(
        &self,
        deal_id: &DealId,
        body: &str,
        at: Timestamp,
    ) -> Result<String, CrmError> {
        // CRM-APIS 1.11: one request creates the note and its association to the deal, so a
        // note can never exist on HubSpot without the deal link `find_note` looks for.
        let request = json!({
            "properties": {
                "hs_timestamp": crate::domain::time::rfc3339(at),
                "hs_note_body": body,
            },
            "associations": [{
                "to": {"id": deal_id.as_str()},
                "types": [{
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": NOTE_TO_DEAL,
                }],
            }],
        });
        // Once: a 5xx or a timeout may follow a stored note (see `Client::post_once`).
        let created: Object = self
            .client
            .post_once("/crm/v3/objects/notes", &request, Budget::App)
            .await?;
        if created.id.trim().is_empty() {
            return Err(CrmError::Decode {
                what: "POST /crm/v3/objects/notes".to_owned(),
                message: "the created note has no id".to_owned(),
            });
        }
        Ok(created.id)
    }

    async fn find_note(&self, deal_id: &DealId, marker: &str) -> Result<Option<String>, CrmError> {
        // The deal's notes by association, then their bodies by batch read. Search (notes with
        // `hs_note_body CONTAINS_TOKEN`) would be one request, but CRM-APIS 1.4 warns that
        // newly created objects take "a few moments" to appear in search: the very note this
        // looks for was typically created seconds ago by a post whose answer was lost, so a
        // search could miss it and the note would be posted twice. Associations and batch
        // reads read the records themselves. (How search tokenises a marker with hyphens and
        // HTML around it is also undocumented.)
        let links = self
            .associations("deals", "notes", std::slice::from_ref(&deal_id.0))
            .await?;
        let note_ids: Vec<String> = links
            .iter()
            .flat_map(|r| r.to.iter().map(|t| t.to_object_id.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if note_ids.is_empty() {
            return Ok(None);
        }
        let notes = self
            .batch_read("notes", &note_ids, &["hs_note_body".to_owned()])
            .await?;
        Ok(notes
            .iter()
            .filter(|n| {
                n.prop("hs_note_body")
                    .is_some_and(|b| contains_marker(b, marker))
            })
            .map(|n| n.id.clone())
            .min_by(|a, b| note_order(a, b)))
    }
}

/// Whether a note body holds `marker`, allowing for what HubSpot's rich-text editor may do to
/// the HTML it stores: spaces turned into `&nbsp;` (or U+00A0), runs of white space, and
/// markup around the words.
pub fn contains_marker(body: &str, marker: &str) -> bool {
    fn words(text: &str) -> String {
        let mut plain = String::with_capacity(text.len());
        let mut in_tag = false;
        for c in text.replace("&nbsp;", " ").replace("&#160;", " ").chars() {
            match c {
                '<' => {
                    in_tag = true;
                    plain.push(' ');
                }
                '>' if in_tag => in_tag = false,
                _ if in_tag => {}
                _ => plain.push(c),
            }
        }
        plain.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    let marker = words(marker);
    let body = words(body);
    // Whole words only: "… rev 1" must not be found inside "… rev 12".
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
    !marker.is_empty()
        && body.match_indices(&marker).any(|(at, m)| {
            !word_char(body[..at].chars().next_back())
                && !word_char(body[at + m.len()..].chars().next())
        })
}

/// Oldest note first: HubSpot ids are numbers that grow over time, so when two notes carry the
/// marker (one posted by hand, say) the first one is the one reported.
/// Ids that are not numbers (never seen; kept total so sorting cannot misbehave) come last.
fn note_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |id: &str| match id.parse::<u64>() {
        Ok(n) => (false, n, String::new()),
        Err(_) => (true, 0, id.to_owned()),
    };
    key(a).cmp(&key(b))
}

/// One search filter.
fn search_filter(property: &str, operator: &str, value: String) -> serde_json::Value {
    json!({"propertyName": property, "operator": operator, "value": value})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_found_through_html_and_nbsp_but_only_as_whole_words() {
        let marker = "dealtrace review 0192-ab rev 1";
        assert!(contains_marker(
            "<p>Lost.</p><p>dealtrace review 0192-ab rev 1</p>",
            marker
        ));
        assert!(contains_marker(
            "<div>dealtrace&nbsp;review <span>0192-ab</span>\n rev 1</div>",
            marker
        ));
        assert!(!contains_marker(
            "<p>dealtrace review 0192-ab rev 12</p>",
            marker
        ));
        assert!(!contains_marker(
            "<p>dealtrace review x0192-ab rev 1</p>",
            marker
        ));
        assert!(!contains_marker("<p>something else</p>", marker));
        assert!(!contains_marker("anything", " "));
    }

    #[test]
    fn the_oldest_matching_note_wins() {
        let mut ids = ["90000000010", "9000000002", "x"];
        ids.sort_by(|a, b| note_order(a, b));
        assert_eq!(ids, ["9000000002", "90000000010", "x"]);
    }
}
