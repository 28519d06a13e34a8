//! The HubSpot connector and the sync engine against the stateful fake HubSpot on 127.0.0.1.

mod support;

use dealtrace::crm::engine::{self, SyncOptions};
use dealtrace::crm::hubspot::connector::HubSpot;
use dealtrace::store::{self, Store};
use std::time::Duration;
use support::hubspot_fake::{FakeHubSpot, Options, RetryAfter};
use support::sync_check::{assert_matches_server, connector, fake_world};

/// A demo world served by the fake, a connector on it and an empty cache.
async fn world_on_fake(deals: usize, seed: u64, options: Options) -> (FakeHubSpot, HubSpot, Store) {
    let fake = fake_world(deals, seed, options).await;
    // The client plans for the budget the fake enforces, as a configured one would.
    let budget = fake.options().ten_second_budget.unwrap_or(190);
    let hs = connector(&fake, budget);
    (fake, hs, Store::open_in_memory().unwrap())
}

/// One full sync (`--full`) on the real clock.
async fn full_sync(store: &mut Store, hs: &HubSpot) -> engine::SyncSummary {
    let options = SyncOptions {
        full: true,
        ..SyncOptions::default()
    };
    engine::run(store, hs, &options, jiff::Timestamp::now, |_| {})
        .await
        .unwrap()
}

/// One sync with default options on the real clock.
async fn sync_once(store: &mut Store, hs: &HubSpot) -> engine::SyncSummary {
    engine::run(
        store,
        hs,
        &SyncOptions::default(),
        jiff::Timestamp::now,
        |_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_copies_the_server_exactly() {
    let (fake, hs, mut store) = world_on_fake(150, 11, Options::default()).await;
    let expected = fake.expected_deals();
    let summary = sync_once(&mut store, &hs).await;
    assert_eq!(summary.counts.deals_new as usize, expected.len());
    assert_matches_server(&store, &fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_fetches_only_changes_and_stays_in_budget() {
    let (fake, hs, mut store) = world_on_fake(120, 5, Options::hubspot(100)).await;
    let full = sync_once(&mut store, &hs).await;
    let full_requests = full.counts.requests;

    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let ids = fake.deal_ids();
    fake.touch_deal(&ids[0], now);
    fake.change_stage(&ids[1], &"closedlost".into(), now);
    fake.archive_deal(&ids[2], now);
    fake.clear_log();

    let inc = sync_once(&mut store, &hs).await;
    assert_eq!(inc.kind, store::sync::RunKind::Incremental);
    assert_eq!((inc.counts.deals_new, inc.counts.deals_changed), (0, 2));
    assert_eq!(inc.counts.deals_removed, 1);
    assert!(inc.counts.requests < full_requests);
    // Only what changed was fetched: no full listing, one search, one batch read of 2 deals.
    let log = fake.requests();
    let listings = log
        .iter()
        .filter(|r| r.path == "/crm/v3/objects/deals" && r.param("archived") != Some("true"))
        .count();
    assert_eq!(listings, 0, "an incremental sync does not list every deal");
    assert!(fake.count("/crm/v3/objects/deals/search") >= 1);
    let read: Vec<_> = log
        .iter()
        .filter(|r| r.path == "/crm/v3/objects/deals/batch/read")
        .collect();
    assert_eq!(read.len(), 1);
    let inputs = read[0]
        .body
        .as_ref()
        .and_then(|b| b["inputs"].as_array().map(Vec::len));
    assert_eq!(
        inputs,
        Some(2),
        "the two changed deals (the archived one is not searchable)"
    );
    assert_matches_server(&store, &fake);
    let archived: Option<i64> = store
        .conn()
        .query_row(
            "SELECT archived_at FROM deals WHERE id = ?1",
            [ids[2].as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        archived.is_some(),
        "a deal deleted in HubSpot is archived, not dropped"
    );
    assert!(
        fake.requests_in_any_window(
            Duration::from_secs(10),
            Some(support::hubspot_fake::Class::App)
        ) <= 100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_server_errors_and_429s_change_nothing_but_the_request_count() {
    for seed in [1, 2, 3] {
        // The fake allows 8 requests per rolling second while the client plans for 190 per
        // 10 s: it runs into 429s (with Retry-After) as well as seeded random 5xx.
        let options = Options {
            ten_second_budget: Some(8),
            rate_window: Duration::from_secs(1),
            retry_after: RetryAfter::UntilFree,
            fault_rate: 0.1,
            fault_seed: seed,
            ..Options::hubspot(8)
        };
        let fake = fake_world(100, 40 + seed, options).await;
        let hs = connector(&fake, 190);
        let mut store = Store::open_in_memory().unwrap();
        let summary = sync_once(&mut store, &hs).await;
        let throttled = fake.count_status(429);
        let failed: usize = [500, 502, 503, 504]
            .iter()
            .map(|s| fake.count_status(*s))
            .sum();
        assert!(throttled > 0, "seed {seed}: the budget was hit");
        assert!(failed > 0, "seed {seed}: faults were injected");
        assert_eq!(
            summary.counts.retries as usize,
            throttled + failed,
            "seed {seed}: every refusal was retried, nothing else"
        );
        assert_eq!(
            summary.counts.requests as usize,
            fake.request_count(),
            "seed {seed}: the summary counts what the server saw"
        );
        assert_matches_server(&store, &fake);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_cap_is_re_anchored_and_a_crowded_instant_is_walked_by_id() {
    let cap = 400;
    let options = Options {
        search_cap: cap,
        ..Options::default()
    };
    let (fake, _, mut store) = world_on_fake(20, 3, options).await;
    let t0 = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    fake.add_bare_deals(1_500, t0);
    let hs = connector(&fake, 190).with_search_cap(cap);
    sync_once(&mut store, &hs).await;
    assert_matches_server(&store, &fake);

    // 900 deals at one instant (more than a capped query can page through), then 350 more one
    // second apart (so plain re-anchoring on the last instant has to work too).
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let crowded = fake.bulk_touch(900, now);
    let ids = fake.deal_ids();
    let spread: Vec<_> = ids.iter().rev().take(350).cloned().collect();
    for (i, id) in spread.iter().enumerate() {
        // Whole seconds: the cache keeps instants to the second.
        fake.touch_deal(id, now + jiff::SignedDuration::from_secs(1 + i as i64));
    }
    fake.clear_log();
    let inc = sync_once(&mut store, &hs).await;
    assert_eq!(inc.kind, store::sync::RunKind::Incremental);
    assert_eq!(
        inc.counts.deals_changed as usize,
        crowded.len() + spread.len()
    );
    assert_matches_server(&store, &fake);
    let searches: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/crm/v3/objects/deals/search")
        .collect();
    assert!(
        searches.iter().all(|r| r.status == 200),
        "no search passed the cap"
    );
    assert!(
        searches.iter().any(|r| r
            .body
            .as_ref()
            .is_some_and(|b| b.to_string().contains("hs_object_id"))),
        "the crowded instant was walked by id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_changes_at_one_instant_pass_the_real_search_cap() {
    let (fake, hs, mut store) = world_on_fake(10, 8, Options::default()).await;
    let t0 = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    fake.add_bare_deals(10_100, t0);
    sync_once(&mut store, &hs).await;
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let touched = fake.bulk_touch(10_050, now);
    fake.clear_log();
    let inc = sync_once(&mut store, &hs).await;
    assert_eq!(inc.counts.deals_changed as usize, touched.len());
    assert_eq!(fake.count_status(400), 0, "no search paged past 10,000");
    assert_matches_server(&store, &fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_drops_contacts_and_activities_unlinked_in_the_crm() {
    let (fake, hs, mut store) = world_on_fake(60, 9, Options::default()).await;
    sync_once(&mut store, &hs).await;
    let bundle = fake
        .expected_deals()
        .into_iter()
        .find(|b| !b.stakeholders.is_empty() && b.activities.len() >= 2)
        .expect("a deal with contacts and activities");
    let contact = bundle.stakeholders[0].contact_id.clone();
    let activity = bundle.activities[0].id.clone();
    assert!(fake.unlink(&bundle.deal.id, Some(&contact), &[activity]));
    let summary = full_sync(&mut store, &hs).await;
    assert_eq!(summary.kind, store::sync::RunKind::Full);
    assert_matches_server(&store, &fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_on_two_deals_is_kept_on_both_and_leaves_each_on_its_own() {
    let (fake, hs, mut store) = world_on_fake(40, 12, Options::default()).await;
    let deals = fake.expected_deals();
    let with_activity = deals
        .iter()
        .find(|b| !b.activities.is_empty())
        .expect("a deal with activities");
    let (first, activity) = (
        with_activity.deal.id.clone(),
        with_activity.activities[0].clone(),
    );
    let other = deals
        .iter()
        .map(|b| b.deal.id.clone())
        .find(|id| *id != first)
        .expect("a second deal");
    fake.share_activity(&activity.id, &other);
    full_sync(&mut store, &hs).await;
    assert_matches_server(&store, &fake);
    let on = |deal: &dealtrace::domain::DealId, store: &Store| {
        store::activities::for_deal(store.conn(), deal)
            .unwrap()
            .iter()
            // The cache keys engagements as "<kind>-<HubSpot id>".
            .any(|a| a.id.as_str().ends_with(&format!("-{}", activity.id)))
    };
    assert!(on(&first, &store) && on(&other, &store));
    let rows: i64 = store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM activities WHERE id LIKE '%-' || ?1",
            [activity.id.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1, "stored once, linked twice");

    // Taken off the deal it was first seen on: it stays on the other.
    assert!(fake.unlink(&first, None, std::slice::from_ref(&activity.id)));
    full_sync(&mut store, &hs).await;
    assert_matches_server(&store, &fake);
    assert!(!on(&first, &store) && on(&other, &store));

    // Taken off the last deal: it is gone.
    assert!(fake.unlink(&other, None, std::slice::from_ref(&activity.id)));
    full_sync(&mut store, &hs).await;
    assert_matches_server(&store, &fake);
    assert!(!on(&other, &store));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shortened_stage_history_is_completed_from_stage_entry_dates() {
    // HubSpot returns only the newest stage value here; hs_v2_date_entered_<stage> still knows
    // when every stage was (last) entered.
    let options = Options {
        history_retained: Some(1),
        ..Options::default()
    };
    let (fake, hs, mut store) = world_on_fake(80, 21, options).await;
    sync_once(&mut store, &hs).await;
    let mut completed = 0;
    for b in fake.expected_deals() {
        let stages: Vec<_> = b.history.stages.iter().map(|c| &c.stage_id).collect();
        let unique: std::collections::BTreeSet<_> = stages.iter().collect();
        if unique.len() != stages.len() {
            continue; // A re-entered stage keeps only its last entry date: not recoverable.
        }
        let got = store::deals::history(store.conn(), &b.deal.id).unwrap();
        assert_eq!(got.stages, b.history.stages, "stages of {}", b.deal.id);
        if stages.len() > 1 {
            completed += 1;
        }
    }
    assert!(completed > 20, "{completed} deals had stages filled in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_longer_than_the_window_never_exceeds_the_budget_in_any_window() {
    // Enough deals that the budgeted requests outnumber one window's budget, so the limiter
    // has to hold requests back (this takes a little over 10 s of real time).
    let (fake, hs, mut store) = world_on_fake(500, 31, Options::hubspot(100)).await;
    let summary = sync_once(&mut store, &hs).await;
    let budgeted = fake
        .requests()
        .iter()
        .filter(|r| r.class == support::hubspot_fake::Class::App)
        .count();
    assert!(
        budgeted > 100,
        "the run needed more than one window ({budgeted})"
    );
    assert!(
        fake.requests_in_any_window(
            Duration::from_secs(10),
            Some(support::hubspot_fake::Class::App)
        ) <= 100
    );
    assert!(
        fake.requests_in_any_window(
            Duration::from_secs(1),
            Some(support::hubspot_fake::Class::Search)
        ) <= 5
    );
    assert_eq!(fake.count_status(429), 0, "the server never had to refuse");
    assert_eq!(summary.counts.retries, 0);
    assert_matches_server(&store, &fake);
}
