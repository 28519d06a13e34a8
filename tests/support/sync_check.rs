//! Building a connector on the fake HubSpot and checking a cache against the fake's truth.

use super::hubspot_fake::{FakeHubSpot, Options};
use dealtrace::crm::hubspot::client::Client;
use dealtrace::crm::hubspot::connector::HubSpot;
use dealtrace::crm::hubspot::convert::FieldMap;
use dealtrace::demo::{DemoSpec, DemoWorld};
use dealtrace::domain::Activity;
use dealtrace::store::{self, Store};
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::time::Duration;

/// The company properties the demo world's companies carry beyond the standard ones.
pub const COMPANY_EXTRA: [&str; 2] = ["region", "ownership"];

/// Writes a config into `dir` that points `dealtrace sync` at the fake, copying every property
/// the fake's deals and companies carry, with `write_back` as given; returns its path.
pub fn write_sync_config(
    dir: &std::path::Path,
    fake: &FakeHubSpot,
    write_back: bool,
) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let companies: Vec<String> = COMPANY_EXTRA.iter().map(|s| (*s).to_owned()).collect();
    std::fs::write(
        &config,
        format!(
            "[crm]\nkind = \"hubspot\"\nbase_url = {:?}\nrequests_per_10s = 190\n\
             write_back = {write_back}\ndeal_properties = [{}]\ncompany_properties = [{}]\n",
            fake.uri(),
            quoted(&deal_properties(fake)),
            quoted(&companies),
        ),
    )
    .expect("write config");
    config
}

/// Every deal property the fake's deals carry, so a connector copies them all.
pub fn deal_properties(fake: &FakeHubSpot) -> Vec<String> {
    let extra: BTreeSet<String> = fake
        .expected_deals()
        .iter()
        .flat_map(|b| b.deal.properties.keys().cloned())
        .collect();
    extra.into_iter().collect()
}

/// A connector on the fake that asks for every property the fake's deals have, with quick
/// retries so fault tests do not sleep.
pub fn connector(fake: &FakeHubSpot, requests_per_10s: u32) -> HubSpot {
    let client = Client::new(
        &fake.uri(),
        SecretString::from(fake.token()),
        "HUBSPOT_TOKEN",
        requests_per_10s,
    )
    .expect("client")
    .with_backoff(Duration::from_millis(1), Duration::from_millis(10));
    HubSpot::new(
        client,
        FieldMap {
            deal_extra: deal_properties(fake),
            company_extra: COMPANY_EXTRA.iter().map(|s| (*s).to_owned()).collect(),
            ..FieldMap::default()
        },
    )
}

/// A fake serving a seeded demo world of `deals` deals.
pub async fn fake_world(deals: usize, seed: u64, options: Options) -> FakeHubSpot {
    let world = DemoWorld::new(&DemoSpec {
        deals,
        seed,
        as_of: DemoSpec::default_as_of(),
    });
    FakeHubSpot::from_world(&world, options).await
}

fn count(store: &Store, sql: &str) -> usize {
    store
        .conn()
        .query_row(sql, [], |r| r.get::<_, i64>(0))
        .expect("count") as usize
}

/// Every live deal of the fake is in the cache exactly — record, history, stakeholders (with
/// roles) and activities (with participants) — every archived one is marked archived, and no
/// table holds a row more than the fake's truth accounts for (no duplicates, nothing stale).
pub fn assert_matches_server(store: &Store, fake: &FakeHubSpot) {
    let expected = fake.expected_deals();
    let c = store.conn();
    let live = count(
        store,
        "SELECT COUNT(*) FROM deals WHERE archived_at IS NULL",
    );
    assert_eq!(live, expected.len(), "live deals");
    for gone in fake.expected_archived_deals() {
        if let Some(d) = store::deals::get(c, &gone.id).expect("read deal") {
            assert!(d.archived_at.is_some(), "deal {} is archived", gone.id);
        }
    }
    let mut stakeholders = 0;
    let mut activities = 0;
    let mut participants = 0;
    for b in &expected {
        let id = &b.deal.id;
        let mut got = store::deals::get(c, id)
            .expect("read deal")
            .unwrap_or_else(|| panic!("deal {id} is cached"));
        got.source = b.deal.source.clone();
        assert_eq!(got, b.deal, "deal {id}");
        assert_eq!(
            store::deals::history(c, id).expect("history"),
            b.history,
            "history of {id}"
        );
        let mut links: Vec<(String, Option<&str>)> = store::deals::stakeholders(c, id)
            .expect("stakeholders")
            .into_iter()
            .map(|s| (s.link.contact_id.0, s.link.role.map(|r| r.as_str())))
            .collect();
        let mut want: Vec<(String, Option<&str>)> = b
            .stakeholders
            .iter()
            .map(|s| (s.contact_id.0.clone(), s.role.map(|r| r.as_str())))
            .collect();
        links.sort();
        want.sort();
        assert_eq!(links, want, "stakeholders of {id}");
        stakeholders += want.len();

        let key = |a: &Activity| {
            (
                a.kind,
                a.occurred_at,
                a.body.clone(),
                a.direction.map(|d| d.as_str()),
                a.contact_ids.iter().cloned().collect::<BTreeSet<_>>(),
            )
        };
        let mut got: Vec<_> = store::activities::for_deal(c, id)
            .expect("activities")
            .iter()
            .map(key)
            .collect();
        let mut want: Vec<_> = b.activities.iter().map(key).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "activities of {id}");
        activities += want.len();
        participants += want.iter().map(|k| k.4.len()).sum::<usize>();
    }
    // The per-deal reads above cannot see rows hanging off archived deals or orphans.
    let live_rows = |table: &str| {
        count(
            store,
            &format!(
                "SELECT COUNT(*) FROM {table} t JOIN deals d ON d.id = t.deal_id
                 WHERE d.archived_at IS NULL"
            ),
        )
    };
    assert_eq!(live_rows("deal_contacts"), stakeholders, "stakeholder rows");
    assert_eq!(
        live_rows("deal_activity_links"),
        activities,
        "activity links (an activity on two deals counts on each)"
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM activity_contacts ac
             JOIN deal_activity_links l ON l.activity_id = ac.activity_id
             JOIN deals d ON d.id = l.deal_id WHERE d.archived_at IS NULL"
        ),
        participants,
        "activity participant rows"
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM activities a WHERE NOT EXISTS
               (SELECT 1 FROM deal_activity_links l WHERE l.activity_id = a.id)"
        ),
        0,
        "no activity is left on no deal"
    );
    let violations = count(store, "SELECT COUNT(*) FROM pragma_foreign_key_check");
    assert_eq!(violations, 0, "foreign keys hold");
}
