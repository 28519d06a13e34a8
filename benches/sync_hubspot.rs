//! Sync throughput and budget use against the fake HubSpot on 127.0.0.1 (the one the tests
//! use, compiled in release here). Three measurements, each printed as one line:
//!
//! - `full`: a first sync of `BENCH_DEALS` deals (default 100,000) with history, companies,
//!   contacts and activities from a fake with no rate limit: deals/s, requests, and where the
//!   time goes (fetching vs committing, measured by running the connector alone first);
//! - `incremental`: 1% of those deals changed on the server, then an incremental sync:
//!   requests made vs the full sync;
//! - `budget`: a full sync of `BENCH_BUDGET_DEALS` deals (default 3,000) through HubSpot's
//!   default budget (100 requests per rolling 10 s, search 5/s) with `BENCH_LATENCY_MS` (default
//!   50) of network latency per request: share of the theoretical ceiling used, and failed
//!   requests (429 and 5xx; the goal is none).
//!
//! Run: `cargo bench --bench sync_hubspot` (figures in BENCHMARKS.md). Not criterion: each
//! measurement is a whole sync of minutes; repeat the command for several runs.

#[path = "../tests/support/mod.rs"]
mod support;

use dealtrace::crm::connector::Connector;
use dealtrace::crm::engine::{self, SyncOptions};
use dealtrace::store::Store;
use std::time::{Duration, Instant};
use support::hubspot_fake::{Class, FakeHubSpot, Options};
use support::sync_check::{connector, fake_world};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fresh_cache(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(name)).expect("open cache")
}

async fn sync(store: &mut Store, hs: &impl Connector) -> engine::SyncSummary {
    let defaults = SyncOptions::default();
    let options = SyncOptions {
        concurrency: env_usize("BENCH_CONCURRENCY", defaults.concurrency),
        ..defaults
    };
    engine::run(store, hs, &options, jiff::Timestamp::now, |_| {})
        .await
        .expect("sync")
}

/// Lists and enriches every page the way a full sync does, without writing: the fetch side.
async fn fetch_only(hs: &impl Connector) -> (usize, Duration) {
    use futures_util::StreamExt;
    let started = Instant::now();
    let pages = futures_util::stream::unfold(Some(None), |cursor| async move {
        let after = cursor?;
        let page = hs.deals_page(after).await.expect("page");
        let next = page.next.clone().map(Some);
        Some((page.items, next))
    })
    .map(|deals| async move {
        let ids: Vec<_> = deals.iter().map(|d| d.deal.id.clone()).collect();
        hs.enrich(&ids).await.expect("enrich");
        deals.len()
    })
    .buffered(SyncOptions::default().concurrency);
    let deals: usize = pages.collect::<Vec<_>>().await.into_iter().sum();
    (deals, started.elapsed())
}

async fn full_and_incremental(dir: &tempfile::TempDir) {
    let n = env_usize("BENCH_DEALS", 100_000);
    let t = Instant::now();
    let fake = fake_world(
        n,
        42,
        Options {
            log_bodies: false,
            ..Options::default()
        },
    )
    .await;
    eprintln!(
        "fake with {n} deals ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // No rate limit on either side: the fake has none, and the client's budget is set far
    // above anything a local server can serve.
    let hs = connector(&fake, 1_000_000);
    let (fetched, fetch_time) = fetch_only(&hs).await;
    let fetch_requests = fake.request_count();
    fake.clear_log();

    let mut store = fresh_cache(dir, "full.sqlite");
    let started = Instant::now();
    let full = sync(&mut store, &hs).await;
    let wall = started.elapsed().as_secs_f64();
    let deals = fake.expected_deals().len();
    assert_eq!(full.counts.deals_new as usize, deals);
    assert_eq!(fetched, deals);
    let rows: i64 = store
        .conn()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM activities) + (SELECT COUNT(*) FROM stage_history)
                  + (SELECT COUNT(*) FROM deal_contacts) + (SELECT COUNT(*) FROM contacts)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    println!(
        "full: {deals} deals in {wall:.1} s = {:.0} deals/s; {} requests ({:.1} per 50 deals); \
         writing the cache {:.1} s; fetching alone (the connector without the engine) {:.1} s \
         ({fetch_requests} requests); {rows} activity/history/stakeholder/contact rows",
        deals as f64 / wall,
        full.counts.requests,
        full.counts.requests as f64 / (deals as f64 / 50.0),
        full.write_seconds,
        fetch_time.as_secs_f64(),
    );

    let changed = deals / 100;
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).expect("now");
    for (i, id) in fake
        .deal_ids()
        .iter()
        .step_by(100)
        .take(changed)
        .enumerate()
    {
        fake.touch_deal(id, now + jiff::SignedDuration::from_millis(i as i64 * 7));
    }
    fake.clear_log();
    let started = Instant::now();
    let inc = sync(&mut store, &hs).await;
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(inc.counts.deals_changed as usize, changed);
    println!(
        "incremental: {changed} changed deals (1%) in {wall:.2} s; {} requests = {:.2}% of the \
         full sync's {}",
        inc.counts.requests,
        100.0 * inc.counts.requests as f64 / full.counts.requests as f64,
        full.counts.requests
    );
}

async fn budget(dir: &tempfile::TempDir) {
    let n = env_usize("BENCH_BUDGET_DEALS", 4_000);
    let latency = env_usize("BENCH_LATENCY_MS", 50);
    let fake: FakeHubSpot = fake_world(
        n,
        7,
        Options {
            latency: Duration::from_millis(latency as u64),
            log_bodies: false,
            ..Options::hubspot(100)
        },
    )
    .await;
    let hs = connector(&fake, 100);
    let mut store = fresh_cache(dir, "budget.sqlite");
    let started = Instant::now();
    let summary = sync(&mut store, &hs).await;
    let wall = started.elapsed().as_secs_f64();
    let log = fake.requests();
    let times: Vec<Duration> = log
        .iter()
        .filter(|r| r.class == Class::App)
        .map(|r| r.at)
        .collect();
    let app = times.len();
    // The steady state: budgeted requests per whole 10-second window from the first request,
    // leaving out the first and the last window (start-up, and the tail where the last pages'
    // dependent reads wait on the network with nothing left to list).
    let first = times.iter().min().copied().unwrap_or_default();
    let mut per_window: Vec<usize> = Vec::new();
    for t in &times {
        let k = ((*t - first).as_secs_f64() / 10.0) as usize;
        if per_window.len() <= k {
            per_window.resize(k + 1, 0);
        }
        per_window[k] += 1;
    }
    let mut middle: Vec<usize> = per_window
        .get(1..per_window.len().saturating_sub(1))
        .unwrap_or_default()
        .to_vec();
    middle.sort_unstable();
    let steady = middle.get(middle.len() / 2).copied().unwrap_or(0);
    // Two ceilings: the sustained rate (100 per 10 s, times the run's length), and the strict
    // maximum a rolling window allows in `wall` seconds (100 per started window).
    let sustained = 100.0 / 10.0 * wall;
    let ceiling = 100.0 * (wall / 10.0).ceil();
    let failed = fake.count_status(429)
        + [500, 502, 503, 504]
            .iter()
            .map(|s| fake.count_status(*s))
            .sum::<usize>();
    println!(
        "budget: {} deals in {wall:.1} s with {latency} ms latency; {app} budgeted requests of a \
         ceiling of {ceiling:.0} (100 per started 10 s) = {:.1}%; busiest 10 s window {}; \
         {failed} failed requests; {} retries; {:.1}% of the sustained rate (10/s over the run); \
         steady state (median whole 10 s window, first and last left out) {steady} = {steady}%",
        fake.expected_deals().len(),
        100.0 * app as f64 / ceiling,
        fake.requests_in_any_window(Duration::from_secs(10), Some(Class::App)),
        summary.counts.retries,
        100.0 * app as f64 / sustained,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks one measurement.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    runtime.block_on(async {
        if filter
            .as_deref()
            .is_none_or(|f| "full".contains(f) || "incremental".contains(f))
        {
            full_and_incremental(&dir).await;
        }
        if filter.as_deref().is_none_or(|f| "budget".contains(f)) {
            budget(&dir).await;
        }
    });
}
