//! Bulk cache writes: rows per second when a sync or the demo writes deals with their history,
//! properties, activities and participants in one transaction with prepared statements — through
//! the aggregate upserts (what an incremental sync uses) and through the bulk loader (what the
//! demo and a first full load use).
//!
//! Run: `cargo bench --bench cache_writes` (figures in BENCHMARKS.md).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dealtrace::domain::time::{DAY, from_unix};
use dealtrace::domain::{
    Activity, ActivityKind, AmountChange, CloseDateChange, Company, Contact, Deal, DealHistory,
    Direction, Owner, Pipeline, Stage, StageChange,
};
use dealtrace::store::{self, Store};
use std::collections::BTreeMap;

const DEALS: usize = 5_000;
const STAGES: [&str; 4] = ["discovery", "qualified", "demo", "proposal"];

struct Bundle {
    deal: Deal,
    history: DealHistory,
    activities: Vec<Activity>,
}

fn bundles() -> Vec<Bundle> {
    (0..DEALS)
        .map(|i| {
            let t0 = 1_700_000_000 + i as i64 * 3_600;
            let deal = Deal {
                id: format!("{}", 100_000 + i).into(),
                source: "bench".into(),
                name: format!("Company {} – Platform new business", i % 997),
                company_id: Some(format!("c{}", i % 1_000).into()),
                owner_id: Some(format!("o{}", i % 12).into()),
                pipeline_id: "default".into(),
                stage_id: STAGES[i % STAGES.len()].into(),
                amount: Some(10_000.0 + (i % 50) as f64 * 1_000.0),
                currency: "USD".into(),
                created_at: from_unix(t0),
                close_date: Some(from_unix(t0 + 90 * DAY)),
                is_closed: false,
                is_won: false,
                closed_reason: None,
                last_modified: from_unix(t0 + 30 * DAY),
                archived_at: None,
                properties: BTreeMap::from([
                    ("lead_source".to_string(), "Inbound".to_string()),
                    ("deal_type".to_string(), "New Business".to_string()),
                    ("product_line".to_string(), "Platform".to_string()),
                ]),
            };
            let history = DealHistory {
                stages: STAGES
                    .iter()
                    .enumerate()
                    .map(|(k, s)| StageChange {
                        at: from_unix(t0 + k as i64 * 10 * DAY),
                        stage_id: (*s).into(),
                    })
                    .collect(),
                amounts: (0..2)
                    .map(|k| AmountChange {
                        at: from_unix(t0 + k * 20 * DAY),
                        amount: Some(10_000.0 - k as f64 * 1_500.0),
                    })
                    .collect(),
                close_dates: (0..2)
                    .map(|k| CloseDateChange {
                        at: from_unix(t0 + k * 25 * DAY),
                        close_date: Some(from_unix(t0 + (60 + k * 30) * DAY)),
                    })
                    .collect(),
            };
            let activities = (0..6)
                .map(|k| Activity {
                    id: format!("a{i}-{k}").into(),
                    deal_id: deal.id.clone(),
                    kind: ActivityKind::ALL[k % 4],
                    occurred_at: from_unix(t0 + k as i64 * 5 * DAY),
                    direction: (k % 4 == 2).then_some(Direction::Inbound),
                    subject: None,
                    body: "Walked through the security review questionnaire with IT.".into(),
                    owner_id: deal.owner_id.clone(),
                    contact_ids: vec![format!("p{}", i % 1_000).into()],
                })
                .collect();
            Bundle {
                deal,
                history,
                activities,
            }
        })
        .collect()
}

/// Rows one bundle writes: the deal, its properties, history, activities and participants.
fn rows(b: &Bundle) -> usize {
    1 + b.deal.properties.len()
        + b.history.stages.len()
        + b.history.amounts.len()
        + b.history.close_dates.len()
        + b.activities.len()
        + b.activities
            .iter()
            .map(|a| a.contact_ids.len())
            .sum::<usize>()
}

/// A fresh cache file with the reference data the bundles point at.
fn fresh_store(dir: &tempfile::TempDir, n: usize) -> Store {
    let store = Store::open(&dir.path().join(format!("bench-{n}.sqlite"))).expect("open");
    let c = store.conn();
    store::pipelines::upsert(
        c,
        &Pipeline {
            id: "default".into(),
            label: "Sales".into(),
            display_order: 0,
            stages: STAGES
                .iter()
                .enumerate()
                .map(|(k, s)| Stage {
                    id: (*s).into(),
                    label: s.to_string(),
                    display_order: k as i64,
                    probability: None,
                    is_closed: false,
                    is_won: false,
                })
                .collect(),
        },
    )
    .expect("pipeline");
    for o in 0..12 {
        store::people::upsert_owner(
            c,
            &Owner {
                id: format!("o{o}").into(),
                name: format!("Owner {o}"),
                email: None,
                team_id: None,
                active: true,
            },
        )
        .expect("owner");
    }
    for k in 0..1_000 {
        store::companies::upsert_company(
            c,
            &Company {
                id: format!("c{k}").into(),
                name: format!("Company {k}"),
                domain: None,
                industry: None,
                size_band: None,
                buying_center: None,
                properties: BTreeMap::new(),
            },
        )
        .expect("company");
        store::companies::upsert_contact(
            c,
            &Contact {
                id: format!("p{k}").into(),
                company_id: Some(format!("c{k}").into()),
                name: format!("Person {k}"),
                email: None,
                title: Some("CTO".into()),
                created_at: None,
            },
        )
        .expect("contact");
    }
    store
}

fn bench(c: &mut Criterion) {
    let data = bundles();
    let total_rows: usize = data.iter().map(rows).sum();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("cache_writes");
    group.throughput(Throughput::Elements(total_rows as u64));
    group.sample_size(10);
    let mut n = 0;
    group.bench_function(format!("{DEALS}_deals_{total_rows}_rows"), |b| {
        b.iter_batched(
            || {
                n += 1;
                fresh_store(&dir, n)
            },
            |mut store| {
                store
                    .transaction(|tx| {
                        for bundle in &data {
                            store::deals::upsert(tx, &bundle.deal, &bundle.history)?;
                            for a in &bundle.activities {
                                store::activities::upsert(tx, a)?;
                            }
                        }
                        Ok::<_, store::StoreError>(())
                    })
                    .expect("bulk write");
                store
            },
            BatchSize::PerIteration,
        )
    });
    let mut m = 0;
    group.bench_function(
        format!("bulk_loader_{DEALS}_deals_{total_rows}_rows"),
        |b| {
            b.iter_batched(
                || {
                    m += 1;
                    fresh_store(&dir, 1_000_000 + m)
                },
                |mut store| {
                    let settings =
                        store::bulk::BulkSettings::apply(store.conn()).expect("settings");
                    store
                        .transaction(|tx| {
                            let indexes = store::bulk::drop_secondary_indexes(tx)?;
                            let mut tables = store::bulk::DealTables::new(tx)?;
                            let records: Vec<store::bulk::DealRecord<'_>> = data
                                .iter()
                                .map(|b| store::bulk::DealRecord {
                                    deal: &b.deal,
                                    history: &b.history,
                                    stakeholders: &[],
                                    activities: &b.activities,
                                })
                                .collect();
                            tables.insert(&records)?;
                            drop(tables);
                            store::bulk::rebuild_indexes(tx, &indexes)
                        })
                        .expect("bulk load");
                    settings.restore(store.conn()).expect("restore");
                    store
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
