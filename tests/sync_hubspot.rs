//! The HubSpot connector and the sync engine against the stateful fake HubSpot on 127.0.0.1.

mod support;

use dealtrace::crm::engine::{self, SyncOptions};
use dealtrace::crm::hubspot::client::Client;
use dealtrace::crm::hubspot::connector::HubSpot;
use dealtrace::crm::hubspot::convert::FieldMap;
use dealtrace::demo::{DemoSpec, DemoWorld};
use dealtrace::store::{self, Store};
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::time::Duration;
use support::hubspot_fake::{FakeHubSpot, Options};

fn connector(fake: &FakeHubSpot, deal_extra: Vec<String>) -> HubSpot {
    let client = Client::new(
        &fake.uri(),
        SecretString::from(fake.token()),
        "HUBSPOT_TOKEN",
        190,
    )
    .unwrap()
    .with_backoff(Duration::from_millis(1), Duration::from_millis(10));
    HubSpot::new(
        client,
        FieldMap {
            deal_extra,
            company_extra: vec!["region".into(), "ownership".into()],
            ..FieldMap::default()
        },
    )
}

/// A demo world served by the fake, a connector that asks for every deal property the world
/// has, and an empty cache.
async fn world_on_fake(deals: usize, seed: u64, options: Options) -> (FakeHubSpot, HubSpot, Store) {
    let world = DemoWorld::new(&DemoSpec {
        deals,
        seed,
        as_of: DemoSpec::default_as_of(),
    });
    let fake = FakeHubSpot::from_world(&world, options).await;
    let extra: BTreeSet<String> = fake
        .expected_deals()
        .iter()
        .flat_map(|b| b.deal.properties.keys().cloned())
        .collect();
    let hs = connector(&fake, extra.into_iter().collect());
    (fake, hs, Store::open_in_memory().unwrap())
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

/// Every live deal of the fake is in the cache exactly: record, history, stakeholders (with
/// roles) and activities (with participants).
fn assert_matches_server(store: &Store, fake: &FakeHubSpot) {
    let expected = fake.expected_deals();
    let c = store.conn();
    let live: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM deals WHERE archived_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(live as usize, expected.len(), "live deals");
    for b in &expected {
        let id = &b.deal.id;
        let mut got = store::deals::get(c, id)
            .unwrap()
            .expect("every deal is cached");
        got.source = b.deal.source.clone();
        assert_eq!(got, b.deal, "deal {id}");
        assert_eq!(
            store::deals::history(c, id).unwrap(),
            b.history,
            "history of {id}"
        );
        let links: BTreeSet<(String, Option<&str>)> = store::deals::stakeholders(c, id)
            .unwrap()
            .into_iter()
            .map(|s| (s.link.contact_id.0, s.link.role.map(|r| r.as_str())))
            .collect();
        let want: BTreeSet<(String, Option<&str>)> = b
            .stakeholders
            .iter()
            .map(|s| (s.contact_id.0.clone(), s.role.map(|r| r.as_str())))
            .collect();
        assert_eq!(links, want, "stakeholders of {id}");
        let acts = store::activities::for_deal(c, id).unwrap();
        let key = |a: &dealtrace::domain::Activity| {
            (
                a.kind,
                a.occurred_at,
                a.body.clone(),
                a.direction.map(|d| d.as_str()),
                a.contact_ids.clone(),
            )
        };
        let got: Vec<_> = acts
            .iter()
            .map(key)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let want: Vec<_> = b
            .activities
            .iter()
            .map(key)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(got, want, "activities of {id}");
    }
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
