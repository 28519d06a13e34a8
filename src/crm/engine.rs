//! The sync engine: drives any [`Connector`] and commits what it reads with its checkpoints.
//!
//! Every batch of deals is written in one transaction together with the checkpoint that covers
//! it, so a sync killed at any moment leaves a consistent cache, and the next run resumes after
//! the last committed batch without fetching it again. Listing (sequential: each page's cursor
//! comes from the previous one) overlaps with enrichment of earlier pages, up to `concurrency`
//! pages in flight, and commits happen strictly in page order so a checkpoint never runs ahead
//! of the data. A full scan into a cache file commits on a writer thread of its own
//! ([`writer`]), so fetching goes on while SQLite writes.

use super::connector::{Connector, CrmError, Enrichment, RemoteDeal};
use crate::domain::{CompanyId, DealId};
use crate::store::sync::{self as syncstore, RunCounts, RunKind};
use crate::store::{self, Store, StoreError};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

mod writer;

/// Checkpoint keys in `sync_state`.
pub mod keys {
    /// The run id of a full scan in progress.
    pub const FULL_RUN: &str = "full.run";
    /// The list cursor after the last committed page of a full scan in progress.
    pub const FULL_AFTER: &str = "full.after";
    /// When the full scan in progress started (Unix seconds).
    pub const FULL_STARTED: &str = "full.started";
    /// Changes at or after this instant (Unix seconds) are not yet in the cache.
    pub const SINCE: &str = "incremental.since";
}

/// How a sync runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// Scan every deal instead of only what changed.
    pub full: bool,
    /// How far before the checkpoint an incremental query starts: search results lag behind
    /// writes, and a change at the boundary must not be missed.
    pub overlap: SignedDuration,
    /// Pages or batches in flight at once.
    pub concurrency: usize,
    /// Deals per incremental batch.
    pub batch: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            overlap: SignedDuration::from_mins(5),
            // Enough pages in flight that a budget-bound sync keeps its budget busy while each
            // page's chain of dependent reads waits on the network (see BENCHMARKS.md).
            concurrency: 8,
            batch: 50,
        }
    }
}

/// Progress, for a progress bar or a status line.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// A phase started ("pipelines", "owners", "deals", "removals").
    Phase(&'static str),
    /// Deals committed so far, and how many there are in all when known.
    Deals {
        /// Committed.
        done: u64,
        /// Expected in all, when known.
        total: Option<u64>,
    },
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SyncSummary {
    /// Full or incremental.
    pub kind: RunKind,
    /// Whether it resumed an interrupted full scan.
    pub resumed: bool,
    /// New, changed and removed deals; requests and retries.
    pub counts: RunCounts,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Of that, seconds spent writing deal batches into the cache (the rest is fetching and
    /// waiting on the CRM's rate limits), to show where the time goes.
    pub write_seconds: f64,
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The CRM refused or failed.
    #[error(transparent)]
    Crm(#[from] CrmError),
    /// The cache could not be written.
    #[error("cannot write the sync into the cache: {0}")]
    Store(#[from] StoreError),
    /// The thread writing pages into the cache died without saying why (a bug: its panic is
    /// in the log).
    #[error(
        "the sync's cache writer stopped unexpectedly; run sync again, it resumes from the last \
         committed page"
    )]
    WriterLost,
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        SyncError::Store(StoreError::Sqlite(e))
    }
}

/// Runs one sync. `now` is the clock (a parameter, so tests control it).
pub async fn run<C: Connector>(
    store: &mut Store,
    crm: &C,
    options: &SyncOptions,
    now: impl Fn() -> Timestamp,
    mut progress: impl FnMut(SyncEvent),
) -> Result<SyncSummary, SyncError> {
    let started = Instant::now();
    let source = crm.source();
    let since = syncstore::state(store.conn(), source, keys::SINCE)?;
    let resuming = syncstore::state(store.conn(), source, keys::FULL_RUN)?;
    let full = options.full || since.is_none() || resuming.is_some();
    let (requests_before, retries_before) = crm.request_counts();

    progress(SyncEvent::Phase("pipelines"));
    let pipelines = crm.pipelines().await?;
    progress(SyncEvent::Phase("owners"));
    let (teams, owners) = crm.owners().await?;
    store.transaction(|tx| {
        for p in &pipelines {
            store::pipelines::upsert(tx, p)?;
        }
        for t in &teams {
            store::people::upsert_team(tx, t)?;
        }
        for o in &owners {
            store::people::upsert_owner(tx, o)?;
        }
        Ok::<_, StoreError>(())
    })?;

    progress(SyncEvent::Phase("deals"));
    let (kind, run, resumed, writing) = if full {
        let (run, resumed) = match resuming.as_deref().and_then(|r| r.parse::<i64>().ok()) {
            Some(run) => (run, true),
            None => {
                let at = now();
                let run = store.transaction(|tx| {
                    let run = syncstore::start_run(tx, source, RunKind::Full, at)?;
                    syncstore::set_state(tx, source, keys::FULL_RUN, &run.to_string(), at)?;
                    syncstore::set_state(
                        tx,
                        source,
                        keys::FULL_STARTED,
                        &at.as_second().to_string(),
                        at,
                    )?;
                    syncstore::clear_state(tx, source, keys::FULL_AFTER)?;
                    Ok::<_, StoreError>(run)
                })?;
                (run, false)
            }
        };
        let writing = full_scan(store, crm, options, run, &now, &mut progress).await?;
        (RunKind::Full, run, resumed, writing)
    } else {
        let run = syncstore::start_run(store.conn(), source, RunKind::Incremental, now())?;
        let since = since
            .and_then(|s| s.parse::<i64>().ok())
            .map(crate::domain::time::from_unix)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let writing = incremental(store, crm, options, run, since, &now, &mut progress).await?;
        (RunKind::Incremental, run, false, writing)
    };

    let (requests, retries) = crm.request_counts();
    let tail = RunCounts {
        requests: (requests - requests_before) as i64,
        retries: (retries - retries_before) as i64,
        ..Default::default()
    };
    let at = now();
    store.transaction(|tx| {
        syncstore::add_to_run(tx, run, &tail)?;
        syncstore::finish_run(tx, run, true, at)?;
        store::meta::set(
            tx,
            store::meta::keys::LAST_SYNC,
            &at.as_second().to_string(),
        )?;
        Ok::<_, StoreError>(())
    })?;
    let counts = syncstore::run_counts(store.conn(), run)?.unwrap_or_default();
    Ok(SyncSummary {
        kind,
        resumed,
        counts,
        seconds: started.elapsed().as_secs_f64(),
        write_seconds: writing.as_secs_f64(),
    })
}

/// Pages through every live deal from the checkpoint, then archives the deals it did not see.
async fn full_scan<C: Connector>(
    store: &mut Store,
    crm: &C,
    options: &SyncOptions,
    run: i64,
    now: &impl Fn() -> Timestamp,
    progress: &mut impl FnMut(SyncEvent),
) -> Result<Duration, SyncError> {
    let source = crm.source();
    let mut writing = Duration::ZERO;
    let start_after = syncstore::state(store.conn(), source, keys::FULL_AFTER)?;
    // A resumed scan has already committed some deals: count them, so the bar and its ETA
    // start where the last run stopped.
    let mut done = syncstore::seen_by_run(store.conn(), source, run)?;
    let total = crm.deal_count().await;
    progress(SyncEvent::Deals { done, total });

    // Each item: a page's deals and their enrichment, plus the cursor after the page.
    let pages = futures_util::stream::unfold(Some(start_after), |cursor| async move {
        let after = cursor?;
        match crm.deals_page(after).await {
            Err(e) => Some((Err(e), None)),
            Ok(page) => {
                let next = page.next.clone();
                let more = next.clone().map(Some);
                Some((Ok((page.items, next)), more))
            }
        }
    })
    .map(|page| async move {
        let (deals, next) = page?;
        let ids: Vec<DealId> = deals.iter().map(|d| d.deal.id.clone()).collect();
        let enrichment = crm.enrich(&ids).await?;
        Ok::<_, CrmError>((deals, enrichment, next))
    })
    .buffered(options.concurrency.max(1));
    futures_util::pin_mut!(pages);

    // A cache file gets a writer thread so fetching goes on while SQLite writes; an in-memory
    // cache (tests) cannot be opened twice and commits inline.
    let mut writer = if store.path() == Path::new(":memory:") {
        None
    } else {
        Some(writer::PageWriter::spawn(store.path(), source, run)?)
    };
    let mut report = |ack: writer::Ack, writing: &mut Duration, done: &mut u64| {
        *writing += ack.took;
        *done += ack.deals;
        progress(SyncEvent::Deals {
            done: *done,
            total: total.map(|t| t.max(*done)),
        });
    };
    let mut failed: Option<SyncError> = None;
    while let Some(item) = pages.next().await {
        let (deals, enrichment, next) = match item {
            Ok(page) => page,
            Err(e) => {
                failed = Some(e.into());
                break;
            }
        };
        let page = PageBatch {
            deals,
            enrichment,
            next,
            at: now(),
        };
        match &mut writer {
            Some(w) => {
                if !w.send(page).await {
                    break; // The writer stopped; its error comes from `finish`.
                }
                for ack in w.committed() {
                    report(ack, &mut writing, &mut done);
                }
            }
            None => {
                let started = Instant::now();
                if let Err(e) = store.transaction(|tx| commit_page(tx, source, run, &page)) {
                    failed = Some(e);
                    break;
                }
                let ack = writer::Ack {
                    deals: page.deals.len() as u64,
                    took: started.elapsed(),
                };
                report(ack, &mut writing, &mut done);
            }
        }
    }
    // Whatever was fetched before a failure is still committed (with its checkpoint), so the
    // next run resumes after it.
    if let Some(w) = writer {
        let written = w.finish(|ack| report(ack, &mut writing, &mut done)).await;
        if let Err(e) = written {
            failed.get_or_insert(e);
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(writing)
}

/// One page of a full scan, ready to commit.
struct PageBatch {
    /// The page's deals with their history.
    deals: Vec<RemoteDeal>,
    /// Their companies, contacts, stakeholders and activities.
    enrichment: Enrichment,
    /// The list cursor after this page; `None` on the last page.
    next: Option<String>,
    /// When the page was fetched.
    at: Timestamp,
}

/// Commits one page of a full scan with the checkpoint after it; the last page also completes
/// the scan (archiving what it did not see) in the same transaction.
fn commit_page(
    tx: &rusqlite::Connection,
    source: &str,
    run: i64,
    page: &PageBatch,
) -> Result<(), SyncError> {
    let at = page.at;
    let counts = commit(tx, source, &page.deals, &page.enrichment, Some(run))?;
    syncstore::add_to_run(tx, run, &counts)?;
    match &page.next {
        Some(after) => syncstore::set_state(tx, source, keys::FULL_AFTER, after, at)?,
        // The last page: the scan is complete, so what it did not see is gone.
        None => {
            let removed = syncstore::archive_unseen(tx, source, run, at)?;
            add_removed(tx, run, removed)?;
            let started = syncstore::state(tx, source, keys::FULL_STARTED)?
                .unwrap_or_else(|| at.as_second().to_string());
            syncstore::set_state(tx, source, keys::SINCE, &started, at)?;
            for key in [keys::FULL_RUN, keys::FULL_AFTER, keys::FULL_STARTED] {
                syncstore::clear_state(tx, source, key)?;
            }
        }
    }
    Ok(())
}

/// Fetches what changed since the checkpoint (minus the overlap), then the removals.
async fn incremental<C: Connector>(
    store: &mut Store,
    crm: &C,
    options: &SyncOptions,
    run: i64,
    since: Timestamp,
    now: &impl Fn() -> Timestamp,
    progress: &mut impl FnMut(SyncEvent),
) -> Result<Duration, SyncError> {
    let source = crm.source();
    let mut writing = Duration::ZERO;
    let query_from = since.checked_sub(options.overlap).unwrap_or(since);
    let query_started = now();
    let changes = crm.changed_since(query_from).await?;
    let total = changes.len() as u64;
    progress(SyncEvent::Deals {
        done: 0,
        total: Some(total),
    });

    let batches = futures_util::stream::iter(changes.chunks(options.batch.max(1)).map(|chunk| {
        let ids: Vec<DealId> = chunk.iter().map(|c| c.id.clone()).collect();
        let newest = chunk.iter().map(|c| c.modified_at).max();
        async move {
            let deals = crm.deals_by_id(&ids).await?;
            let enrichment = crm.enrich(&ids).await?;
            Ok::<_, CrmError>((deals, enrichment, newest))
        }
    }))
    .buffered(options.concurrency.max(1));
    futures_util::pin_mut!(batches);

    let mut done = 0u64;
    while let Some(item) = batches.next().await {
        let (deals, enrichment, newest) = item?;
        let at = now();
        let write_started = Instant::now();
        store.transaction(|tx| {
            let counts = commit(tx, source, &deals, &enrichment, None)?;
            syncstore::add_to_run(tx, run, &counts)?;
            // Changes come oldest first, so everything before `newest` is now in the cache.
            if let Some(t) = newest {
                syncstore::set_state(tx, source, keys::SINCE, &t.as_second().to_string(), at)?;
            }
            Ok::<_, SyncError>(())
        })?;
        writing += write_started.elapsed();
        done += deals.len() as u64;
        progress(SyncEvent::Deals {
            done,
            total: Some(total),
        });
    }

    progress(SyncEvent::Phase("removals"));
    let removals = crm.removed().await?;
    let at = now();
    store.transaction(|tx| {
        let mut removed = 0;
        for r in &removals {
            if syncstore::archive_deal(tx, source, r.id.as_str(), r.archived_at.unwrap_or(at))? {
                removed += 1;
            }
        }
        add_removed(tx, run, removed)?;
        // Every change made before the search ran is now in the cache; the next run starts its
        // query from here, minus the overlap that covers search-index lag and clock skew.
        let current = syncstore::state(tx, source, keys::SINCE)?
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        let next = current.max(query_started.as_second());
        syncstore::set_state(tx, source, keys::SINCE, &next.to_string(), at)?;
        Ok::<_, SyncError>(())
    })?;
    Ok(writing)
}

/// Adds `removed` archived deals to the run's counts.
fn add_removed(tx: &rusqlite::Connection, run: i64, removed: i64) -> Result<(), StoreError> {
    syncstore::add_to_run(
        tx,
        run,
        &RunCounts {
            deals_removed: removed,
            ..Default::default()
        },
    )
}

/// Writes one batch: companies and contacts first (deals and links point at them), then deals
/// with their history, stakeholders and activities. Returns new/changed counts.
fn commit(
    tx: &rusqlite::Connection,
    source: &str,
    deals: &[RemoteDeal],
    enrichment: &Enrichment,
    seen_by_run: Option<i64>,
) -> Result<RunCounts, StoreError> {
    for c in &enrichment.companies {
        store::companies::upsert_company(tx, c)?;
    }
    for c in &enrichment.contacts {
        store::companies::upsert_contact(tx, c)?;
    }
    let companies: BTreeSet<&str> = enrichment.companies.iter().map(|c| c.id.as_str()).collect();
    let contacts: BTreeSet<&str> = enrichment.contacts.iter().map(|c| c.id.as_str()).collect();
    let company_of: BTreeMap<&str, &CompanyId> = enrichment
        .deal_companies
        .iter()
        .filter(|(_, c)| companies.contains(c.as_str()))
        .map(|(d, c)| (d.as_str(), c))
        .collect();

    let mut counts = RunCounts::default();
    let mut ids: Vec<&str> = Vec::with_capacity(deals.len());
    for remote in deals {
        let mut deal = remote.deal.clone();
        deal.source = source.to_owned();
        deal.company_id = company_of.get(deal.id.as_str()).map(|c| (*c).clone());
        if let Some(owner) = &deal.owner_id {
            store::people::ensure_owner(tx, owner)?;
        }
        match store::deals::last_modified(tx, &deal.id)? {
            None => counts.deals_new += 1,
            Some(before) if before != deal.last_modified => counts.deals_changed += 1,
            Some(_) => {}
        }
        store::deals::upsert(tx, &deal, &remote.history)?;
        // The CRM's associations are the whole truth for the deal: replace, never merge.
        store::deals::clear_links(tx, &deal.id)?;
        ids.push(remote.deal.id.as_str());
    }
    let in_batch: BTreeSet<&str> = ids.iter().copied().collect();
    for s in &enrichment.stakeholders {
        // Links to contacts the CRM no longer has are dropped rather than left dangling.
        if in_batch.contains(s.deal_id.as_str()) && contacts.contains(s.contact_id.as_str()) {
            store::deals::upsert_stakeholder(tx, s)?;
        }
    }
    for a in &enrichment.activities {
        if !in_batch.contains(a.deal_id.as_str()) {
            continue;
        }
        let mut a = a.clone();
        a.contact_ids.retain(|c| contacts.contains(c.as_str()));
        if let Some(owner) = &a.owner_id {
            store::people::ensure_owner(tx, owner)?;
        }
        store::activities::upsert(tx, &a)?;
    }
    if let Some(run) = seen_by_run {
        syncstore::mark_seen(tx, run, &ids)?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::connector::{Change, Page, Removal};
    use crate::domain::time::{DAY, from_unix};
    use crate::domain::{
        Activity, ActivityKind, Company, Contact, Deal, DealHistory, Owner, Pipeline, Stage,
        StageChange, Stakeholder, Team,
    };
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A CRM in memory: deals with a company, a contact and a call each; pages of `page` deals;
    /// an optional failure on the n-th page request.
    struct MemoryCrm {
        deals: Mutex<Vec<RemoteDeal>>,
        removed: Mutex<Vec<Removal>>,
        page: usize,
        fail_on_page_call: Mutex<Option<usize>>,
        /// Deals whose contact and call were unlinked in the CRM.
        unlinked: Mutex<BTreeSet<DealId>>,
        page_calls: AtomicU64,
        requests: AtomicU64,
    }

    fn remote(i: usize, modified: i64) -> RemoteDeal {
        let created = from_unix(i as i64 * DAY);
        RemoteDeal {
            deal: Deal {
                id: format!("{}", 1000 + i).into(),
                source: "hubspot".into(),
                name: format!("Deal {i}"),
                company_id: None,
                owner_id: Some("o1".into()),
                pipeline_id: "default".into(),
                stage_id: "demo".into(),
                amount: Some(1000.0 + i as f64),
                currency: "USD".into(),
                created_at: created,
                close_date: Some(from_unix((i as i64 + 60) * DAY)),
                is_closed: false,
                is_won: false,
                closed_reason: None,
                last_modified: from_unix(modified),
                archived_at: None,
                properties: Default::default(),
            },
            history: DealHistory {
                stages: vec![StageChange {
                    at: created,
                    stage_id: "demo".into(),
                }],
                ..Default::default()
            },
        }
    }

    impl MemoryCrm {
        fn new(n: usize, page: usize) -> MemoryCrm {
            MemoryCrm {
                deals: Mutex::new((0..n).map(|i| remote(i, 100 * DAY)).collect()),
                removed: Mutex::new(Vec::new()),
                page,
                fail_on_page_call: Mutex::new(None),
                unlinked: Mutex::new(BTreeSet::new()),
                page_calls: AtomicU64::new(0),
                requests: AtomicU64::new(0),
            }
        }
    }

    impl Connector for MemoryCrm {
        fn source(&self) -> &'static str {
            "hubspot"
        }

        async fn pipelines(&self) -> Result<Vec<Pipeline>, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            Ok(vec![Pipeline {
                id: "default".into(),
                label: "Sales".into(),
                display_order: 0,
                stages: vec![Stage {
                    id: "demo".into(),
                    label: "Demo".into(),
                    display_order: 0,
                    probability: Some(0.4),
                    is_closed: false,
                    is_won: false,
                }],
            }])
        }

        async fn owners(&self) -> Result<(Vec<Team>, Vec<Owner>), CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            Ok((
                vec![],
                vec![Owner {
                    id: "o1".into(),
                    name: "Ada".into(),
                    email: None,
                    team_id: None,
                    active: true,
                }],
            ))
        }

        async fn deals_page(&self, after: Option<String>) -> Result<Page<RemoteDeal>, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let call = self.page_calls.fetch_add(1, Ordering::Relaxed) as usize;
            if *self.fail_on_page_call.lock().unwrap() == Some(call) {
                return Err(CrmError::Http {
                    status: 503,
                    what: "page".into(),
                    attempts: 6,
                    message: "down".into(),
                });
            }
            let start: usize = after.map(|a| a.parse().unwrap()).unwrap_or(0);
            let deals = self.deals.lock().unwrap();
            let end = (start + self.page).min(deals.len());
            Ok(Page {
                items: deals[start..end].to_vec(),
                next: (end < deals.len()).then(|| end.to_string()),
            })
        }

        async fn changed_since(&self, since: Timestamp) -> Result<Vec<Change>, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut out: Vec<Change> = self
                .deals
                .lock()
                .unwrap()
                .iter()
                .filter(|d| d.deal.last_modified >= since)
                .map(|d| Change {
                    id: d.deal.id.clone(),
                    modified_at: d.deal.last_modified,
                })
                .collect();
            out.sort_by_key(|c| c.modified_at);
            Ok(out)
        }

        async fn deals_by_id(&self, ids: &[DealId]) -> Result<Vec<RemoteDeal>, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let deals = self.deals.lock().unwrap();
            Ok(deals
                .iter()
                .filter(|d| ids.contains(&d.deal.id))
                .cloned()
                .collect())
        }

        async fn enrich(&self, ids: &[DealId]) -> Result<Enrichment, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut e = Enrichment::default();
            for id in ids {
                let company = format!("c{id}");
                let contact = format!("p{id}");
                e.companies.push(Company {
                    id: company.as_str().into(),
                    name: format!("Company {id}"),
                    domain: None,
                    industry: None,
                    size_band: None,
                    buying_center: None,
                    properties: Default::default(),
                });
                e.contacts.push(Contact {
                    id: contact.as_str().into(),
                    company_id: Some(company.as_str().into()),
                    name: "Grace".into(),
                    email: None,
                    title: Some("CTO".into()),
                    created_at: None,
                });
                e.deal_companies.push((id.clone(), company.as_str().into()));
                if self.unlinked.lock().unwrap().contains(id) {
                    continue;
                }
                e.stakeholders.push(Stakeholder {
                    deal_id: id.clone(),
                    contact_id: contact.as_str().into(),
                    role: None,
                    added_at: None,
                });
                e.activities.push(Activity {
                    id: format!("call-{id}").into(),
                    deal_id: id.clone(),
                    kind: ActivityKind::Call,
                    occurred_at: from_unix(DAY),
                    direction: None,
                    subject: None,
                    body: "call".into(),
                    owner_id: Some("gone-owner".into()),
                    contact_ids: vec![contact.as_str().into(), "unknown-contact".into()],
                });
            }
            Ok(e)
        }

        async fn deal_count(&self) -> Option<u64> {
            Some(self.deals.lock().unwrap().len() as u64)
        }

        async fn removed(&self) -> Result<Vec<Removal>, CrmError> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            Ok(self.removed.lock().unwrap().clone())
        }

        fn request_counts(&self) -> (u64, u64) {
            (self.requests.load(Ordering::Relaxed), 0)
        }
    }

    fn clock() -> impl Fn() -> Timestamp {
        || from_unix(200 * DAY)
    }

    fn count(store: &Store, sql: &str) -> i64 {
        store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    async fn sync(
        store: &mut Store,
        crm: &MemoryCrm,
        full: bool,
    ) -> Result<SyncSummary, SyncError> {
        let options = SyncOptions {
            full,
            concurrency: 3,
            batch: 7,
            ..SyncOptions::default()
        };
        run(store, crm, &options, clock(), |_| {}).await
    }

    #[tokio::test]
    async fn a_first_sync_is_full_and_copies_everything() {
        let mut store = Store::open_in_memory().unwrap();
        let crm = MemoryCrm::new(23, 5);
        let s = sync(&mut store, &crm, false).await.unwrap();
        assert_eq!(s.kind, RunKind::Full);
        assert_eq!((s.counts.deals_new, s.counts.deals_changed), (23, 0));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM deals"), 23);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM deals WHERE company_id IS NOT NULL"
            ),
            23
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM activity_contacts"),
            23,
            "unknown contacts dropped"
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM owners WHERE id = 'gone-owner' AND active = 0"
            ),
            1
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM sync_state WHERE key LIKE 'full.%'"
            ),
            0
        );
        assert!(
            store::meta::get(store.conn(), store::meta::keys::LAST_SYNC)
                .unwrap()
                .is_some()
        );
        // A second run is incremental and finds nothing new.
        let s = sync(&mut store, &crm, false).await.unwrap();
        assert_eq!(s.kind, RunKind::Incremental);
        assert_eq!((s.counts.deals_new, s.counts.deals_changed), (0, 0));
    }

    #[tokio::test]
    async fn a_failed_full_sync_resumes_without_refetching_committed_pages() {
        let mut store = Store::open_in_memory().unwrap();
        let crm = MemoryCrm::new(23, 5);
        *crm.fail_on_page_call.lock().unwrap() = Some(3);
        assert!(sync(&mut store, &crm, false).await.is_err());
        let committed = count(&store, "SELECT COUNT(*) FROM deals");
        assert_eq!(
            committed, 15,
            "pages before the failure are committed with their checkpoint"
        );
        let after: String = store::sync::state(store.conn(), "hubspot", keys::FULL_AFTER)
            .unwrap()
            .unwrap();
        assert_eq!(after, "15");

        *crm.fail_on_page_call.lock().unwrap() = None;
        let calls_before = crm.page_calls.load(Ordering::Relaxed);
        let mut events = Vec::new();
        let options = SyncOptions {
            concurrency: 3,
            ..SyncOptions::default()
        };
        let s = run(&mut store, &crm, &options, clock(), |e| events.push(e))
            .await
            .unwrap();
        assert!(s.resumed);
        let deals: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Deals { done, total } => Some((*done, *total)),
                SyncEvent::Phase(_) => None,
            })
            .collect();
        assert_eq!(
            deals,
            vec![(15, Some(23)), (20, Some(23)), (23, Some(23))],
            "progress resumes where the last run stopped, against the CRM's total"
        );
        assert_eq!(
            crm.page_calls.load(Ordering::Relaxed) - calls_before,
            2,
            "pages 4 and 5 only"
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM deals"), 23);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM deals WHERE archived_at IS NOT NULL"
            ),
            0
        );
    }

    #[tokio::test]
    async fn incremental_picks_up_changes_and_removals() {
        let mut store = Store::open_in_memory().unwrap();
        let crm = MemoryCrm::new(10, 4);
        sync(&mut store, &crm, false).await.unwrap();
        {
            let mut deals = crm.deals.lock().unwrap();
            deals[2].deal.name = "Renamed".into();
            deals[2].deal.last_modified = from_unix(300 * DAY);
            deals.push(remote(50, 300 * DAY));
            let gone = deals.remove(0);
            crm.removed.lock().unwrap().push(Removal {
                id: gone.deal.id,
                archived_at: Some(from_unix(250 * DAY)),
            });
        }
        let s = sync(&mut store, &crm, false).await.unwrap();
        assert_eq!(s.kind, RunKind::Incremental);
        assert_eq!(
            (
                s.counts.deals_new,
                s.counts.deals_changed,
                s.counts.deals_removed
            ),
            (1, 1, 1)
        );
        let name: String = store
            .conn()
            .query_row("SELECT name FROM deals WHERE id = '1002'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "Renamed");
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM deals WHERE archived_at IS NOT NULL"
            ),
            1
        );
    }

    #[tokio::test]
    async fn a_full_scan_archives_what_it_no_longer_sees() {
        let mut store = Store::open_in_memory().unwrap();
        let crm = MemoryCrm::new(10, 4);
        sync(&mut store, &crm, false).await.unwrap();
        crm.deals.lock().unwrap().truncate(7);
        let s = sync(&mut store, &crm, true).await.unwrap();
        assert_eq!(s.counts.deals_removed, 3);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM deals WHERE archived_at IS NULL"
            ),
            7
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM deals"),
            10,
            "archived, never deleted"
        );
    }

    #[tokio::test]
    async fn links_removed_in_the_crm_leave_the_cache_on_the_next_sync() {
        let mut store = Store::open_in_memory().unwrap();
        let crm = MemoryCrm::new(6, 4);
        sync(&mut store, &crm, false).await.unwrap();
        let links = |store: &Store| {
            count(
                store,
                "SELECT (SELECT COUNT(*) FROM deal_contacts WHERE deal_id = '1003')
                      + (SELECT COUNT(*) FROM activities WHERE deal_id = '1003')",
            )
        };
        assert_eq!(links(&store), 2);
        crm.unlinked.lock().unwrap().insert("1003".into());
        crm.deals.lock().unwrap()[3].deal.last_modified = from_unix(300 * DAY);
        let s = sync(&mut store, &crm, false).await.unwrap();
        assert_eq!(s.counts.deals_changed, 1);
        assert_eq!(links(&store), 0, "the unlinked contact and call are gone");
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM deal_contacts"),
            5,
            "other deals keep theirs"
        );
    }

    #[tokio::test]
    async fn a_full_sync_into_a_file_commits_on_the_writer_and_resumes_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        let mut store = Store::open(&path).unwrap();
        let crm = MemoryCrm::new(23, 5);
        *crm.fail_on_page_call.lock().unwrap() = Some(3);
        let err = sync(&mut store, &crm, false).await.unwrap_err();
        assert!(matches!(err, SyncError::Crm(_)), "the fetch error: {err}");
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM deals"),
            15,
            "every page fetched before the failure was committed by the writer"
        );
        assert_eq!(
            store::sync::state(store.conn(), "hubspot", keys::FULL_AFTER)
                .unwrap()
                .as_deref(),
            Some("15")
        );

        *crm.fail_on_page_call.lock().unwrap() = None;
        let mut events = Vec::new();
        let s = run(&mut store, &crm, &SyncOptions::default(), clock(), |e| {
            events.push(e)
        })
        .await
        .unwrap();
        assert!(s.resumed);
        assert_eq!(
            s.counts.deals_new, 23,
            "the run's counts span both attempts"
        );
        assert!(s.write_seconds > 0.0);
        assert!(events.contains(&SyncEvent::Deals {
            done: 23,
            total: Some(23)
        }));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM deals"), 23);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM activities"), 23);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM sync_state WHERE key LIKE 'full.%'"
            ),
            0,
            "the scan completed"
        );
    }
}
