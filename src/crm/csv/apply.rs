//! Parsed records into the cache, inside the caller's transaction: names resolved to the records
//! the cache already has (pipelines and stages by id or label, owners and companies by id or
//! name), unknown ones created, then everything written through the store's upserts.
//!
//! What is never changed: deals of another source (the import refuses before writing), and
//! owners, companies, pipelines and stages that already exist (they are linked to, not
//! rewritten), except that a stage the file uses and a pipeline lacks is appended to it.

use super::rows::{ActivityRow, ContactRow, DealRow, HistoryRow, RowIssue, quote};
use super::values::{Outcome, slug, stage_outcome};
use crate::domain::{
    Activity, Company, CompanyId, Contact, ContactId, Deal, DealHistory, DealId, Owner, OwnerId,
    Pipeline, Stage, StageChange, StageId, Stakeholder,
};
use crate::store::{self, StoreError};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Records the import created because the cache did not know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Created {
    /// New pipelines.
    pub pipelines: usize,
    /// Stages appended to pipelines (new or existing).
    pub stages: usize,
    /// New owners.
    pub owners: usize,
    /// New companies.
    pub companies: usize,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Written {
    /// Deals the cache did not hold.
    pub deals_new: usize,
    /// Deals it held that changed.
    pub deals_updated: usize,
    /// Deals it held exactly as the file has them.
    pub deals_unchanged: usize,
    /// Stage-history entries of the imported deals, after the import.
    pub stage_entries: usize,
    /// Contacts written.
    pub contacts: usize,
    /// Deal–contact links written.
    pub stakeholders: usize,
    /// Activities written.
    pub activities: usize,
    /// Records created along the way.
    pub created: Created,
    /// Caveats on kept rows (an activity's unknown contact, …).
    pub notes: Vec<RowIssue>,
}

/// Why the write stopped.
#[derive(Debug)]
pub enum ApplyError {
    /// A deal in the file is in the cache under another source.
    Clash {
        /// The deal.
        id: String,
        /// The line of the deals file.
        line: u64,
        /// The source it has in the cache.
        theirs: String,
    },
    /// The cache failed.
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        ApplyError::Store(e)
    }
}

/// Everything to write.
pub struct Input<'a> {
    /// The source name.
    pub source: &'a str,
    /// The pipeline of deals without one.
    pub default_pipeline: &'a str,
    /// Good deal rows.
    pub deals: &'a [DealRow],
    /// Good history rows (`None`: no history file).
    pub history: Option<&'a [HistoryRow]>,
    /// Good contact rows.
    pub contacts: &'a [ContactRow],
    /// Good activity rows.
    pub activities: &'a [ActivityRow],
    /// The files' names, for notes.
    pub activities_file: &'a str,
}

/// Pipelines and stages as the cache has them, plus what the import adds.
struct Pipelines {
    list: Vec<Pipeline>,
    /// Pipelines that are new or gained stages, by index into `list`.
    dirty: BTreeSet<usize>,
    /// Stages added per pipeline, in first-seen order, before they are placed.
    pending: BTreeMap<usize, Vec<Stage>>,
    created: Created,
}

impl Pipelines {
    /// The pipeline whose id is `value`, else whose label is (ignoring case), else whose id is
    /// the value's slug or compact form.
    fn find(&self, value: &str) -> Option<usize> {
        let v = value.trim();
        let lower = v.to_lowercase();
        self.list
            .iter()
            .position(|p| p.id.as_str() == v)
            .or_else(|| {
                self.list
                    .iter()
                    .position(|p| p.label.to_lowercase() == lower)
            })
            .or_else(|| self.list.iter().position(|p| id_matches(p.id.as_str(), v)))
    }

    /// The pipeline named by `value` (id or label), created if unknown.
    fn resolve(&mut self, value: &str) -> usize {
        if let Some(i) = self.find(value) {
            return i;
        }
        let label = value.trim().to_owned();
        let id = nonempty_slug(&label);
        let display_order = self
            .list
            .iter()
            .map(|p| p.display_order + 1)
            .max()
            .unwrap_or(0);
        self.list.push(Pipeline {
            id: id.into(),
            label,
            display_order,
            stages: Vec::new(),
        });
        self.created.pipelines += 1;
        let i = self.list.len() - 1;
        self.dirty.insert(i);
        i
    }

    /// The stage named by `value` (id or label) in pipeline `p`, registered if unknown; with
    /// its closed/won flags.
    fn stage(&mut self, p: usize, value: &str) -> (StageId, bool, bool) {
        let v = value.trim();
        let lower = v.to_lowercase();
        let pending = self.pending.entry(p).or_default();
        let known = || self.list[p].stages.iter().chain(pending.iter());
        let found = known()
            .find(|s| s.id.as_str() == v)
            .or_else(|| known().find(|s| s.label.to_lowercase() == lower))
            .or_else(|| known().find(|s| id_matches(s.id.as_str(), v)));
        if let Some(s) = found {
            return (s.id.clone(), s.is_closed, s.is_won);
        }
        let (is_closed, is_won) = stage_outcome(v).map_or((false, false), Outcome::flags);
        let stage = Stage {
            id: nonempty_slug(v).into(),
            label: v.to_owned(),
            display_order: 0, // placed in `finish`
            probability: None,
            is_closed,
            is_won,
        };
        let id = stage.id.clone();
        pending.push(stage);
        (id, is_closed, is_won)
    }

    /// Appends the pending stages to their pipelines: open stages first, then closed ones, each
    /// group in first-seen order, after the stages the pipeline already has.
    fn finish(&mut self) {
        for (p, mut stages) in std::mem::take(&mut self.pending) {
            if stages.is_empty() {
                continue;
            }
            stages.sort_by_key(|s| s.is_closed); // stable: first-seen order within each group
            let pipeline = &mut self.list[p];
            let first = pipeline
                .stages
                .iter()
                .map(|s| s.display_order + 1)
                .max()
                .unwrap_or(0);
            self.created.stages += stages.len();
            for (order, mut s) in (first..).zip(stages) {
                s.display_order = order;
                pipeline.stages.push(s);
            }
            self.dirty.insert(p);
        }
    }
}

/// Whether a stored id is what a label would be as an id: the same ignoring case, its slug
/// (`closed-won`, what imports create) or its compact form (`closedwon`, HubSpot's style).
fn id_matches(id: &str, value: &str) -> bool {
    let lower = value.to_lowercase();
    let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    id.to_lowercase() == lower || id == slug(value) || (!compact.is_empty() && id == compact)
}

/// A slug, or the text itself when it has no letters or digits (a stage called `—`).
fn nonempty_slug(s: &str) -> String {
    let slugged = slug(s);
    if slugged.is_empty() {
        s.trim().to_owned()
    } else {
        slugged
    }
}

/// Owners as the cache has them, plus the ones the import creates.
struct Owners {
    ids: BTreeSet<String>,
    by_name: HashMap<String, OwnerId>,
    by_email: HashMap<String, OwnerId>,
    new: Vec<Owner>,
}

impl Owners {
    fn load(conn: &Connection) -> Result<Owners, StoreError> {
        let all = store::people::owners(conn)?;
        let mut o = Owners {
            ids: BTreeSet::new(),
            by_name: HashMap::new(),
            by_email: HashMap::new(),
            new: Vec::new(),
        };
        for owner in all {
            o.ids.insert(owner.id.0.clone());
            o.by_name
                .entry(owner.name.trim().to_lowercase())
                .or_insert(owner.id.clone());
            if let Some(e) = &owner.email {
                o.by_email
                    .entry(e.trim().to_lowercase())
                    .or_insert(owner.id.clone());
            }
        }
        Ok(o)
    }

    /// The owner an id and/or a name (or email) refer to, created if unknown. Owners known only
    /// by name get the id `name:<slug>`, so the same name maps to the same owner every time.
    fn resolve(&mut self, id: Option<&str>, name: Option<&str>) -> Option<OwnerId> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let is_email = name.is_some_and(|n| n.contains('@') && !n.contains(' '));
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                let n = name?;
                let key = n.to_lowercase();
                let found = if is_email {
                    self.by_email.get(&key)
                } else {
                    self.by_name.get(&key)
                };
                if let Some(found) = found {
                    return Some(found.clone());
                }
                format!("name:{}", nonempty_slug(n))
            }
        };
        if !self.ids.contains(&id) {
            let owner = Owner {
                id: id.clone().into(),
                name: name.map_or_else(|| format!("owner {id}"), str::to_owned),
                email: is_email.then(|| name.map(str::to_owned)).flatten(),
                team_id: None,
                active: true,
            };
            self.ids.insert(id.clone());
            if let Some(n) = name {
                let map = if is_email {
                    &mut self.by_email
                } else {
                    &mut self.by_name
                };
                map.insert(n.to_lowercase(), owner.id.clone());
            }
            self.new.push(owner);
        }
        Some(id.into())
    }
}

/// Companies found in the cache or created, by lookup key.
#[derive(Default)]
struct Companies {
    by_id: HashMap<String, bool>,
    by_name: HashMap<String, CompanyId>,
    new: Vec<Company>,
}

impl Companies {
    /// The company an id and/or a name refer to, created if unknown. Companies known only by
    /// name get the id `name:<slug>`.
    fn resolve(
        &mut self,
        conn: &Connection,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<CompanyId>, StoreError> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                let Some(n) = name else { return Ok(None) };
                let key = n.to_lowercase();
                if let Some(found) = self.by_name.get(&key) {
                    return Ok(Some(found.clone()));
                }
                let found = store::companies::id_by_name(conn, n)?;
                let id = found.map_or_else(|| format!("name:{}", nonempty_slug(n)), |c| c.0);
                self.by_name.insert(key, id.clone().into());
                id
            }
        };
        let exists = match self.by_id.get(&id) {
            Some(e) => *e,
            None => store::companies::company(conn, &id.clone().into())?.is_some(),
        };
        if !exists {
            self.new.push(Company {
                id: id.clone().into(),
                name: name.map_or_else(|| id.clone(), str::to_owned),
                domain: None,
                industry: None,
                size_band: None,
                buying_center: None,
                properties: BTreeMap::new(),
            });
        }
        self.by_id.insert(id.clone(), true);
        Ok(Some(id.into()))
    }
}

/// Adds `extra` stage entries after `base` where they are news: not earlier than the last entry
/// and not the stage the deal is already in. This keeps a re-import from duplicating entries and
/// never rewrites what is already recorded.
pub fn merge_stages(mut base: Vec<StageChange>, extra: Vec<StageChange>) -> Vec<StageChange> {
    for e in extra {
        match base.last() {
            Some(last) if e.at < last.at || e.stage_id == last.stage_id => {}
            _ => base.push(e),
        }
    }
    base
}

/// The stage history the file cannot give, limited to what the row proves: a closed deal
/// entered its closing stage on its close date (CRMs set the close date when a deal closes). An
/// open deal gets no entry: when it entered its current stage is unknown, and an entry at its
/// creation would claim it sat there all along (and make it look stalled). Amount and
/// close-date histories are never synthesised, so no slip or discount is invented.
pub fn synthesised_stages(deal: &Deal) -> Vec<StageChange> {
    match deal.close_date {
        Some(at) if deal.is_closed && at >= deal.created_at => vec![StageChange {
            at,
            stage_id: deal.stage_id.clone(),
        }],
        _ => Vec::new(),
    }
}

/// A deal's closed and won flags: a status cell says it all; yes/no cells say what they say and
/// the stage fills in the rest (won implies closed, not closed implies not won, and closed
/// without a won cell is won only if the stage says so).
pub fn outcome(row: &DealRow, stage_closed: bool, stage_won: bool) -> (bool, bool) {
    if let Some(status) = row.status {
        return status.flags();
    }
    let won = match (row.closed, row.won) {
        (_, Some(won)) => won,
        (Some(false), None) => false,
        (_, None) => stage_won,
    };
    let closed = row.closed.unwrap_or(stage_closed) || won;
    (closed, won && closed)
}

/// Writes everything. Returns what was written, or why nothing should be.
pub fn apply(conn: &Connection, input: &Input<'_>) -> Result<Written, ApplyError> {
    // Refuse before resolving anything: a clash means the file is not what the user thinks.
    let mut existing: HashMap<&str, (Deal, DealHistory)> = HashMap::new();
    for d in input.deals {
        let id = DealId::from(d.id.as_str());
        if let Some(cached) = store::deals::get(conn, &id)? {
            if cached.source != input.source {
                return Err(ApplyError::Clash {
                    id: d.id.clone(),
                    line: d.line,
                    theirs: cached.source,
                });
            }
            let history = store::deals::history(conn, &id)?;
            existing.insert(d.id.as_str(), (cached, history));
        }
    }

    let mut pipelines = Pipelines {
        list: store::pipelines::all(conn)?,
        dirty: BTreeSet::new(),
        pending: BTreeMap::new(),
        created: Created::default(),
    };
    let deal_pipeline: Vec<usize> = input
        .deals
        .iter()
        .map(|d| pipelines.resolve(d.pipeline.as_deref().unwrap_or(input.default_pipeline)))
        .collect();
    let pipeline_of: HashMap<&str, usize> = input
        .deals
        .iter()
        .zip(&deal_pipeline)
        .map(|(d, p)| (d.id.as_str(), *p))
        .collect();

    // History first, in time order, so that stages new to a pipeline are appended in the order
    // deals moved through them rather than the order the deals file happens to list them.
    let mut stage_rows: HashMap<&str, Vec<StageChange>> = HashMap::new();
    if let Some(rows) = input.history {
        let mut sorted: Vec<&HistoryRow> = rows.iter().collect();
        sorted.sort_by_key(|r| r.at);
        for r in sorted {
            let Some(&p) = pipeline_of.get(r.deal_id.as_str()) else {
                continue;
            };
            let (stage_id, _, _) = pipelines.stage(p, &r.stage);
            stage_rows
                .entry(r.deal_id.as_str())
                .or_default()
                .push(StageChange { at: r.at, stage_id });
        }
    }
    let deal_stages: Vec<(StageId, bool, bool)> = input
        .deals
        .iter()
        .zip(&deal_pipeline)
        .map(|(d, &p)| pipelines.stage(p, &d.stage))
        .collect();
    pipelines.finish();

    let mut owners = Owners::load(conn)?;
    let mut companies = Companies::default();
    let mut deals = Vec::with_capacity(input.deals.len());
    for ((row, &p), (stage_id, stage_closed, stage_won)) in
        input.deals.iter().zip(&deal_pipeline).zip(deal_stages)
    {
        let (is_closed, is_won) = outcome(row, stage_closed, stage_won);
        let owner_id = owners.resolve(row.owner_id.as_deref(), row.owner.as_deref());
        let company_id =
            companies.resolve(conn, row.company_id.as_deref(), row.company.as_deref())?;
        let mut deal = Deal {
            id: row.id.as_str().into(),
            source: input.source.to_owned(),
            name: row.name.clone(),
            company_id,
            owner_id,
            pipeline_id: pipelines.list[p].id.clone(),
            stage_id,
            amount: row.amount,
            currency: row.currency.clone(),
            created_at: row.created_at,
            close_date: row.close_date,
            is_closed,
            is_won,
            closed_reason: row.closed_reason.clone(),
            last_modified: row.created_at,
            archived_at: None,
            properties: row.properties.clone(),
        };
        let cached = existing.get(row.id.as_str());
        let base = match (stage_rows.remove(row.id.as_str()), cached) {
            (Some(mut from_file), _) => {
                // Same-instant entries keep file order (the sort is stable).
                from_file.sort_by_key(|c| c.at);
                from_file
            }
            (None, Some((_, h))) => h.stages.clone(),
            (None, None) => Vec::new(),
        };
        let history = DealHistory {
            stages: merge_stages(base, synthesised_stages(&deal)),
            // The file has no amount or close-date history; what the cache has is kept.
            amounts: cached.map(|(_, h)| h.amounts.clone()).unwrap_or_default(),
            close_dates: cached
                .map(|(_, h)| h.close_dates.clone())
                .unwrap_or_default(),
        };
        // Without a modified column, the latest instant the row proves: creation or the last
        // stage entry. Never the import's clock, so that importing twice changes nothing.
        deal.last_modified = row.modified.unwrap_or_else(|| {
            history
                .stages
                .iter()
                .map(|s| s.at)
                .chain([deal.created_at])
                .max()
                .unwrap_or(deal.created_at)
        });
        deals.push((deal, history));
    }

    // Contacts: the first row of a contact gives its fields, later rows fill gaps and add links.
    let mut contacts: BTreeMap<&str, Contact> = BTreeMap::new();
    let mut links: BTreeMap<(&str, &str), Stakeholder> = BTreeMap::new();
    for row in input.contacts {
        let company_id =
            companies.resolve(conn, row.company_id.as_deref(), row.company.as_deref())?;
        let c = contacts.entry(row.id.as_str()).or_insert_with(|| Contact {
            id: row.id.as_str().into(),
            company_id: None,
            name: row.name.clone(),
            email: None,
            title: None,
            created_at: None,
        });
        c.company_id = c.company_id.take().or(company_id);
        c.email = c.email.take().or_else(|| row.email.clone());
        c.title = c.title.take().or_else(|| row.title.clone());
        c.created_at = c.created_at.or(row.created_at);
        if let Some(deal) = &row.deal_id {
            links.insert(
                (deal.as_str(), row.id.as_str()),
                Stakeholder {
                    deal_id: deal.as_str().into(),
                    contact_id: row.id.as_str().into(),
                    role: row.role,
                    added_at: None,
                },
            );
        }
    }

    let mut notes = Vec::new();
    let mut known_contacts: HashMap<String, bool> =
        contacts.keys().map(|k| ((*k).to_owned(), true)).collect();
    let mut activities = Vec::with_capacity(input.activities.len());
    for row in input.activities {
        let mut contact_ids: Vec<ContactId> = Vec::new();
        for c in &row.contacts {
            let known = match known_contacts.get(c) {
                Some(k) => *k,
                None => {
                    let k = store::companies::contact(conn, &c.as_str().into())?.is_some();
                    known_contacts.insert(c.clone(), k);
                    k
                }
            };
            if known {
                contact_ids.push(c.as_str().into());
            } else {
                notes.push(RowIssue {
                    file: input.activities_file.to_owned(),
                    line: row.line,
                    reason: format!(
                        "contact {} is neither in the contacts file nor in the cache; the \
                         activity was kept without it",
                        quote(c)
                    ),
                });
            }
        }
        activities.push(Activity {
            id: row.id.as_str().into(),
            deal_id: row.deal_id.as_str().into(),
            kind: row.kind,
            occurred_at: row.at,
            direction: row.direction,
            subject: row.subject.clone(),
            body: row.body.clone(),
            owner_id: owners.resolve(row.owner_id.as_deref(), row.owner.as_deref()),
            contact_ids,
        });
    }

    // Writes, referenced records first.
    for &p in &pipelines.dirty {
        store::pipelines::upsert(conn, &pipelines.list[p])?;
    }
    for o in &owners.new {
        store::people::upsert_owner(conn, o)?;
    }
    for c in &companies.new {
        store::companies::upsert_company(conn, c)?;
    }
    for c in contacts.values() {
        store::companies::upsert_contact(conn, c)?;
    }
    let mut written = Written {
        notes,
        ..Written::default()
    };
    for (deal, history) in &deals {
        written.stage_entries += history.stages.len();
        match existing.get(deal.id.as_str()) {
            None => written.deals_new += 1,
            Some((d, h)) if d == deal && h == history => {
                // Nothing to write: re-importing a big export stays cheap.
                written.deals_unchanged += 1;
                continue;
            }
            Some(_) => written.deals_updated += 1,
        }
        store::deals::upsert(conn, deal, history)?;
    }
    for s in links.values() {
        store::deals::upsert_stakeholder(conn, s)?;
    }
    for a in &activities {
        store::activities::upsert(conn, a)?;
    }
    written.contacts = contacts.len();
    written.stakeholders = links.len();
    written.activities = activities.len();
    written.created = Created {
        owners: owners.new.len(),
        companies: companies.new.len(),
        ..pipelines.created
    };
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};

    fn change(day: i64, stage: &str) -> StageChange {
        StageChange {
            at: from_unix(day * DAY),
            stage_id: stage.into(),
        }
    }

    #[test]
    fn status_then_flags_then_stage_decide_the_outcome() {
        let text = "id,stage,created,status,closed,won\n\
                    1,x,2026-01-01,lost,,yes\n\
                    2,x,2026-01-01,,yes,\n\
                    3,x,2026-01-01,,,yes\n\
                    4,x,2026-01-01,,no,\n\
                    5,x,2026-01-01,,,\n";
        let table = super::super::text::read_table(text, None).unwrap();
        let format = super::super::mapping::Mapping::default().format().unwrap();
        let plan =
            super::super::mapping::plan(&table.headers, super::super::mapping::DEALS, None, None)
                .unwrap();
        let rows = super::super::rows::deals(&table, &plan, &format, "f").records;
        let got = |i: usize, stage: (bool, bool)| outcome(&rows[i], stage.0, stage.1);
        let (open, won, lost) = ((false, false), (true, true), (true, false));
        assert_eq!(got(0, won), lost, "the status wins");
        assert_eq!(got(1, open), lost, "closed, not said to be won");
        assert_eq!(got(1, won), won, "closed in a won stage");
        assert_eq!(got(2, open), won, "won implies closed");
        assert_eq!(got(3, won), open, "not closed");
        assert_eq!(got(4, lost), lost, "nothing said: the stage");
    }

    #[test]
    fn merging_adds_only_news() {
        let base = vec![change(1, "demo"), change(5, "proposal")];
        assert_eq!(
            merge_stages(base.clone(), vec![change(5, "proposal")]),
            base,
            "already recorded"
        );
        assert_eq!(
            merge_stages(base.clone(), vec![change(3, "won")]),
            base,
            "earlier than the record"
        );
        let mut longer = base.clone();
        longer.push(change(9, "won"));
        assert_eq!(merge_stages(base, vec![change(9, "won")]), longer);
        assert_eq!(
            merge_stages(vec![], vec![change(1, "x")]),
            vec![change(1, "x")]
        );
    }

    #[test]
    fn only_closed_deals_get_a_synthesised_entry() {
        let mut deal = crate::store::deals::tests::sample_deal(0).0;
        deal.is_closed = false;
        assert!(synthesised_stages(&deal).is_empty(), "open: unknown");
        deal.is_closed = true;
        deal.stage_id = "closedlost".into();
        let close = deal.close_date.unwrap();
        assert_eq!(
            synthesised_stages(&deal),
            vec![StageChange {
                at: close,
                stage_id: "closedlost".into()
            }]
        );
        deal.close_date = Some(from_unix(deal.created_at.as_second() - DAY));
        assert!(
            synthesised_stages(&deal).is_empty(),
            "a close date before creation proves nothing"
        );
    }

    #[test]
    fn new_stages_are_appended_open_first_in_first_seen_order() {
        let mut p = Pipelines {
            list: vec![Pipeline {
                id: "default".into(),
                label: "Sales Pipeline".into(),
                display_order: 0,
                stages: vec![Stage {
                    id: "appointmentscheduled".into(),
                    label: "Discovery".into(),
                    display_order: 0,
                    probability: Some(0.2),
                    is_closed: false,
                    is_won: false,
                }],
            }],
            dirty: BTreeSet::new(),
            pending: BTreeMap::new(),
            created: Created::default(),
        };
        assert_eq!(p.resolve("sales pipeline"), 0, "by label");
        assert_eq!(p.resolve("default"), 0, "by id");
        assert_eq!(p.stage(0, "discovery").0.as_str(), "appointmentscheduled");
        assert_eq!(
            p.stage(0, "Appointment Scheduled").0.as_str(),
            "appointmentscheduled",
            "HubSpot-style id from a label"
        );
        assert_eq!(
            p.stage(0, "Closed Won"),
            (StageId::from("closed-won"), true, true)
        );
        assert_eq!(p.stage(0, "Demo"), (StageId::from("demo"), false, false));
        assert_eq!(p.stage(0, "closed-won").0.as_str(), "closed-won", "pending");
        assert_eq!(p.stage(0, "Lost"), (StageId::from("lost"), true, false));
        let other = p.resolve("Renewals");
        assert_eq!(p.list[other].id.as_str(), "renewals");
        p.finish();
        let order: Vec<(&str, i64)> = p.list[0]
            .stages
            .iter()
            .map(|s| (s.id.as_str(), s.display_order))
            .collect();
        assert_eq!(
            order,
            vec![
                ("appointmentscheduled", 0),
                ("demo", 1),
                ("closed-won", 2),
                ("lost", 3)
            ]
        );
        assert_eq!(p.created.stages, 3);
        assert_eq!(p.created.pipelines, 1);
        assert_eq!(p.dirty.len(), 2);
    }

    #[test]
    fn owners_by_id_name_or_email_get_stable_ids() {
        let store = crate::store::deals::tests::seeded(0); // owner o1 "Ada Byron"
        let mut o = Owners::load(store.conn()).unwrap();
        assert_eq!(o.resolve(None, Some("ada byron")), Some("o1".into()));
        assert_eq!(o.resolve(None, Some("ADA@example.com")), Some("o1".into()));
        assert_eq!(
            o.resolve(None, Some("Grace Hopper")),
            Some("name:grace-hopper".into())
        );
        assert_eq!(
            o.resolve(None, Some("grace hopper")),
            Some("name:grace-hopper".into())
        );
        assert_eq!(o.resolve(Some("o1"), Some("Someone")), Some("o1".into()));
        assert_eq!(o.resolve(Some("77"), None), Some("77".into()));
        assert_eq!(o.resolve(None, None), None);
        let names: Vec<&str> = o.new.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, vec!["Grace Hopper", "owner 77"]);
    }
}
