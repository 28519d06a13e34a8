//! The cache keeps each deal's facts (`store::facts`, migration 7). A kept row is read only
//! while everything it was computed from is unchanged: each kind of change a sync, an import or
//! an archive makes is applied to a demo cache, and the facts read afterwards must equal the
//! facts computed afresh from the history tables.

use dealtrace::demo::{DemoSpec, write_demo};
use dealtrace::domain::{Activity, ActivityKind, ContactId, Deal, DealHistory, DealId};
use dealtrace::signals::Skills;
use dealtrace::signals::facts::DealFacts;
use dealtrace::store::{self, Store, facts};
use rusqlite::Connection;

fn demo(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::open(&dir.path().join("facts.sqlite")).unwrap();
    let spec = DemoSpec {
        deals: 150,
        seed: 7,
        as_of: DemoSpec::default_as_of(),
    };
    write_demo(&mut store, &spec).unwrap();
    store
}

/// The facts computed from the history tables alone: every kept row dropped first.
fn afresh(store: &Store, skills: &Skills) -> Vec<DealFacts> {
    store.conn().execute("DELETE FROM deal_facts", []).unwrap();
    facts::load(store.conn(), skills).unwrap()
}

/// The one number a `SELECT count(*) …` gives.
fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn kept_rows(store: &Store) -> i64 {
    count(store, "SELECT count(*) FROM deal_facts")
}

fn live_deals(store: &Store) -> i64 {
    count(
        store,
        "SELECT count(*) FROM deals WHERE archived_at IS NULL",
    )
}

fn facts_triggers(store: &Store) -> i64 {
    count(
        store,
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'deal_facts_*'",
    )
}

#[test]
fn facts_are_kept_on_first_read_and_the_kept_rows_are_what_later_reads_return() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(&dir);
    let skills = Skills::builtin();
    assert_eq!(kept_rows(&store), 0, "a new cache keeps no facts yet");
    let first = facts::load(store.conn(), &skills).unwrap();
    assert_eq!(kept_rows(&store), live_deals(&store));
    assert!(first.iter().any(|d| !d.activities.is_empty()));
    assert!(
        first
            .iter()
            .any(|d| d.activities.iter().any(|a| a.phrases != 0))
    );
    let again = facts::load(store.conn(), &skills).unwrap();
    assert_eq!(again, first, "the kept rows read back as computed");

    // Nothing but the triggers keeps a row current, and a row that is there is read: one deal's
    // row overwritten with another's is returned under the first deal's id.
    let (a, b) = (&first[0], &first[1]);
    assert_ne!(a.activities, b.activities);
    store
        .conn()
        .execute(
            "UPDATE deal_facts SET facts = (SELECT facts FROM deal_facts WHERE deal_id = ?2)
             WHERE deal_id = ?1",
            [&a.id, &b.id],
        )
        .unwrap();
    let read = facts::load(store.conn(), &skills).unwrap();
    assert_eq!(read[0].id, a.id);
    assert_eq!(read[0].activities, b.activities);

    // A row that does not decode is computed again.
    store
        .conn()
        .execute(
            "UPDATE deal_facts SET facts = x'ff' WHERE deal_id = ?1",
            [&a.id],
        )
        .unwrap();
    assert_eq!(facts::load(store.conn(), &skills).unwrap(), first);
}

/// One change to what facts are computed from, and whether it must change some deal's facts
/// (so that the test cannot pass by the change doing nothing).
struct Change {
    what: &'static str,
    apply: fn(&Connection),
    changes_facts: bool,
}

fn sql(conn: &Connection, sql: &str) {
    let n = conn.execute(sql, []).unwrap();
    assert!(n > 0, "the change touched no row: {sql}");
}

/// The `i`-th live deal, read back through the store.
fn nth_deal(conn: &Connection, i: i64) -> (Deal, DealHistory) {
    let id: String = conn
        .query_row(
            "SELECT id FROM deals WHERE archived_at IS NULL ORDER BY id LIMIT 1 OFFSET ?1",
            [i],
            |r| r.get(0),
        )
        .unwrap();
    let id = DealId(id);
    let deal = store::deals::get(conn, &id).unwrap().unwrap();
    (deal, store::deals::history(conn, &id).unwrap())
}

/// The first activity (in id order) that `condition` (SQL on `activities`) holds for, skipping
/// `skip`, read back through the store.
fn activity(conn: &Connection, condition: &str, skip: i64) -> Activity {
    let (id, deal): (String, String) = conn
        .query_row(
            &format!(
                "SELECT id, deal_id FROM activities WHERE {condition}
                  ORDER BY id LIMIT 1 OFFSET ?1"
            ),
            [skip],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    store::activities::for_deal(conn, &DealId(deal))
        .unwrap()
        .into_iter()
        .find(|a| a.id.as_str() == id)
        .unwrap()
}

const CHANGES: &[Change] = &[
    // The writers of the history and activity tables, as a sync and an import use them.
    Change {
        what: "a deal re-synced with a stage entered",
        apply: |conn| {
            let (deal, mut history) = nth_deal(conn, 0);
            let mut entry = history.stages[0].clone();
            entry.at += jiff::SignedDuration::from_hours(24);
            history.stages.push(entry);
            store::deals::upsert(conn, &deal, &history).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "a deal re-synced with an amount changed",
        apply: |conn| {
            let (deal, mut history) = nth_deal(conn, 1);
            let first = &mut history.amounts[0];
            first.amount = Some(first.amount.unwrap_or(1.0) * 2.0);
            store::deals::upsert(conn, &deal, &history).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "a deal re-synced with a close-date change gone",
        apply: |conn| {
            let (deal, mut history) = nth_deal(conn, 2);
            history.close_dates.pop().unwrap();
            store::deals::upsert(conn, &deal, &history).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "a deal re-synced with a new lead source",
        apply: |conn| {
            let (mut deal, history) = nth_deal(conn, 3);
            deal.properties
                .insert("lead_source".into(), "Carrier pigeon".into());
            store::deals::upsert(conn, &deal, &history).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "a deal re-synced as it was",
        apply: |conn| {
            let (deal, history) = nth_deal(conn, 4);
            store::deals::upsert(conn, &deal, &history).unwrap();
        },
        changes_facts: false,
    },
    Change {
        what: "a call re-synced as a note",
        apply: |conn| {
            let mut a = activity(conn, "kind = 'call'", 0);
            a.kind = ActivityKind::Note;
            store::activities::upsert(conn, &a).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "an activity re-synced with a discount asked",
        apply: |conn| {
            let mut a = activity(conn, "body NOT LIKE '%discount%'", 10);
            a.body = "They asked for a discount".into();
            store::activities::upsert(conn, &a).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "an activity re-synced with a participant more",
        apply: |conn| {
            let mut a = activity(conn, "1", 20);
            let other: String = conn
                .query_row(
                    "SELECT id FROM contacts WHERE title = 'CFO' ORDER BY id LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            a.contact_ids.push(ContactId(other));
            store::activities::upsert(conn, &a).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "an activity re-synced onto a second deal",
        apply: |conn| {
            let mut a = activity(conn, "1", 30);
            a.deal_id = nth_deal(conn, 5).0.id;
            store::activities::upsert(conn, &a).unwrap();
        },
        changes_facts: true,
    },
    Change {
        what: "a deal's activities unlinked before a sync writes them",
        apply: |conn| {
            let deal = activity(conn, "1", 40).deal_id;
            store::activities::unlink_deal(conn, &deal).unwrap();
        },
        changes_facts: true,
    },
    // The rows the triggers watch.
    Change {
        what: "a participant's title changed to a persona's",
        apply: |conn| {
            sql(
                conn,
                "UPDATE contacts SET title = 'Chief Technology Officer'
                  WHERE id = (SELECT ac.contact_id FROM activity_contacts ac
                              JOIN contacts c ON c.id = ac.contact_id
                              WHERE c.title = 'Operations Manager'
                              ORDER BY ac.activity_id LIMIT 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "a participant's title rewritten as it was",
        apply: |conn| {
            sql(
                conn,
                "UPDATE contacts SET title = title WHERE title IS NOT NULL",
            )
        },
        changes_facts: false,
    },
    Change {
        what: "a participant deleted",
        apply: |conn| {
            sql(
                conn,
                "DELETE FROM contacts WHERE id = (SELECT contact_id FROM activity_contacts
                                                  ORDER BY activity_id LIMIT 1 OFFSET 60)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "an account's industry changed",
        apply: |conn| {
            sql(
                conn,
                "UPDATE companies SET industry = 'Aerospace test'
                  WHERE id = (SELECT company_id FROM deals WHERE company_id IS NOT NULL
                              AND archived_at IS NULL ORDER BY id LIMIT 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "an account's region changed",
        apply: |conn| {
            sql(
                conn,
                "UPDATE company_properties SET value = 'Antarctica'
                  WHERE name = 'region' AND company_id = (SELECT company_id FROM deals
                      WHERE company_id IS NOT NULL AND archived_at IS NULL
                      ORDER BY id LIMIT 1 OFFSET 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "an account's region removed",
        apply: |conn| {
            sql(
                conn,
                "DELETE FROM company_properties
                  WHERE name = 'region' AND company_id = (SELECT company_id FROM deals
                      WHERE company_id IS NOT NULL AND archived_at IS NULL
                      ORDER BY id LIMIT 1 OFFSET 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "an account's region set",
        apply: |conn| {
            sql(
                conn,
                "INSERT INTO company_properties (company_id, name, value)
                 SELECT company_id, 'region', 'Atlantis' FROM deals
                  WHERE company_id IS NOT NULL AND archived_at IS NULL
                  ORDER BY id LIMIT 1 OFFSET 1",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "an account deleted",
        apply: |conn| {
            sql(
                conn,
                "DELETE FROM companies WHERE id = (SELECT company_id FROM deals
                    WHERE company_id IS NOT NULL AND archived_at IS NULL
                    ORDER BY id LIMIT 1 OFFSET 6)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "a deal reassigned",
        apply: |conn| {
            sql(
                conn,
                "UPDATE deals SET owner_id = (SELECT max(id) FROM owners)
                  WHERE id = (SELECT id FROM deals WHERE archived_at IS NULL
                      AND owner_id IS NOT (SELECT max(id) FROM owners) ORDER BY id LIMIT 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "a deal's current amount changed (not a fact)",
        apply: |conn| {
            sql(
                conn,
                "UPDATE deals SET amount = coalesce(amount, 0) + 1,
                     last_modified = last_modified + 1
                  WHERE id = (SELECT min(id) FROM deals)",
            )
        },
        changes_facts: false,
    },
    Change {
        what: "a deal archived",
        apply: |conn| {
            sql(
                conn,
                "UPDATE deals SET archived_at = 1
                  WHERE id = (SELECT id FROM deals WHERE archived_at IS NULL ORDER BY id LIMIT 1)",
            )
        },
        changes_facts: true,
    },
    Change {
        what: "the deal restored",
        apply: |conn| {
            sql(
                conn,
                "UPDATE deals SET archived_at = NULL WHERE archived_at = 1",
            )
        },
        changes_facts: true,
    },
];

#[test]
fn every_change_to_what_facts_are_computed_from_recomputes_the_deals_it_touches() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(&dir);
    let skills = Skills::builtin();
    let mut before = facts::load(store.conn(), &skills).unwrap();
    for change in CHANGES {
        (change.apply)(store.conn());
        let read = facts::load(store.conn(), &skills).unwrap();
        let expected = afresh(&store, &skills);
        assert_eq!(read, expected, "{}: a stale row was read", change.what);
        assert_eq!(
            before != expected,
            change.changes_facts,
            "{}: the facts should {}change",
            change.what,
            if change.changes_facts { "" } else { "not " }
        );
        before = expected;
    }
}

#[test]
fn facts_kept_under_other_skills_are_computed_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(&dir);
    let builtin = Skills::builtin();
    let narrower = dealtrace::signals::skills::BUILTIN.replace(
        r#"patterns = ["CTO", "Chief Technology Officer", "Chief Technical Officer"]"#,
        r#"patterns = ["Chief Technical Officer"]"#,
    );
    assert_ne!(narrower, dealtrace::signals::skills::BUILTIN);
    let narrower = Skills::parse(&narrower, "narrower.toml").unwrap();
    assert_ne!(narrower.facts_key(), builtin.facts_key());

    let under_builtin = facts::load(store.conn(), &builtin).unwrap();
    let under_narrower = facts::load(store.conn(), &narrower).unwrap();
    assert_ne!(under_narrower, under_builtin, "fewer titles are CTOs");
    assert_eq!(under_narrower, afresh(&store, &narrower));
    // And back: the rows now hold the narrower file's facts, which the built-in one refuses.
    facts::load(store.conn(), &narrower).unwrap();
    assert_eq!(facts::load(store.conn(), &builtin).unwrap(), under_builtin);
}

/// The bulk loader sets the triggers aside while it writes into emptied tables: what it loads
/// must not be read through facts kept from before it, and the triggers must be back after it.
#[test]
fn a_bulk_load_over_kept_facts_leaves_none_of_them_and_its_triggers_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo(&dir);
    let skills = Skills::builtin();
    let triggers = facts_triggers(&store);
    assert!(triggers >= 8, "migration 7's triggers: {triggers}");
    let before = facts::load(store.conn(), &skills).unwrap();
    assert!(kept_rows(&store) > 0);
    let spec = DemoSpec {
        deals: 150,
        seed: 8,
        as_of: DemoSpec::default_as_of(),
    };
    write_demo(&mut store, &spec).unwrap();
    assert_eq!(facts_triggers(&store), triggers);
    assert_eq!(kept_rows(&store), 0, "the load dropped what was kept");
    let read = facts::load(store.conn(), &skills).unwrap();
    assert_ne!(read, before, "another seed, another history");
    assert_eq!(read, afresh(&store, &skills));
}
