//! The review queue's facts and the stage norms behind its stall badge.
//!
//! Both read the whole cache, so both are set-based: a handful of statements that each scan a
//! table once in primary-key order (deal id, then CRM order), merged in memory by deal id. No
//! statement runs per deal. The slip scan is what `LAG(close_date) OVER (PARTITION BY deal_id
//! ORDER BY seq)` would compute, done while stepping the rows instead: on a 100,000-deal cache the
//! window function alone took over 100 ms, the whole budget, against about 20 ms for the scan.

use super::{Result, StoreError, opt_ts};
use crate::domain::queue::{DealFacts, QueueReviewStatus};
use crate::domain::time::{days_between, from_unix};
use crate::domain::{DealId, StageId, StageNorms};
use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use std::collections::{HashMap, HashSet};

/// A text column read without copying it.
fn text<'r>(value: ValueRef<'r>, what: &'static str) -> Result<&'r str> {
    value.as_str().map_err(|_| StoreError::Invalid {
        what,
        value: format!("{value:?}"),
    })
}

/// Steps through rows sorted by deal id (column 0) alongside `facts`, which are sorted the same
/// way, calling `each` with the facts of the row's deal, the row, and whether it is the deal's
/// first row, if the facts hold the deal (an archived deal's rows are skipped). Both sides are in SQLite's BINARY order, which is byte order like `str`'s
/// `Ord`, so the cursor only moves forward and the deal id is compared only when it changes.
fn merge(
    conn: &Connection,
    sql: &str,
    facts: &mut [DealFacts],
    mut each: impl FnMut(&mut DealFacts, &Row<'_>, bool) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    let mut cursor = 0;
    let mut current: Option<String> = None;
    let mut found: Option<usize> = None;
    while let Some(row) = rows.next()? {
        let deal = text(row.get_ref(0)?, "deal id")?;
        let first = current.as_deref() != Some(deal);
        if first {
            remember(&mut current, deal);
            while cursor < facts.len() && facts[cursor].deal.as_str() < deal {
                cursor += 1;
            }
            found = facts
                .get(cursor)
                .is_some_and(|f| f.deal.as_str() == deal)
                .then_some(cursor);
        }
        if let Some(i) = found {
            each(&mut facts[i], row, first)?;
        }
    }
    Ok(())
}

/// Makes `current` hold `deal`, reusing its allocation.
fn remember(current: &mut Option<String>, deal: &str) {
    match current {
        Some(c) => {
            c.clear();
            c.push_str(deal);
        }
        None => *current = Some(deal.to_owned()),
    }
}

/// The queue facts of every deal not archived, by deal id.
///
/// Slips are close-date changes at least `slip_min_days` later than the date before them, in CRM
/// order, exactly as `DealHistory::slips`; `stage_since` is the newest stage entry; the review
/// status is `Draft` when any of the deal's reviews is a draft.
pub fn facts(conn: &Connection, slip_min_days: i64) -> Result<Vec<DealFacts>> {
    let mut facts = facts_but_stages(conn, slip_min_days)?;
    let scan = stage_scan(conn, 0.5)?;
    with_stage_since(&mut facts, &scan.since);
    Ok(facts)
}

/// What one pass over the stage history gives: the stage norms, and each deal's newest stage
/// entry (deal id order).
#[derive(Debug, Clone, PartialEq)]
pub struct StageScan {
    /// The norms at the quantile asked for.
    pub norms: StageNorms,
    /// Per deal not archived, the newest stage entry, by deal id.
    pub since: Vec<(String, Timestamp)>,
}

/// Fills in each deal's `stage_since` from a [`StageScan`] (both sorted by deal id).
pub fn with_stage_since(facts: &mut [DealFacts], since: &[(String, Timestamp)]) {
    let mut cursor = 0;
    for (deal, at) in since {
        while cursor < facts.len() && facts[cursor].deal.as_str() < deal.as_str() {
            cursor += 1;
        }
        if let Some(f) = facts.get_mut(cursor).filter(|f| f.deal.as_str() == deal) {
            f.stage_since = Some(*at);
        }
    }
}

/// The queue facts without `stage_since`, which [`stage_scan`] reads with the norms: the two
/// can run side by side on two connections, and together take about as long as the longer.
pub fn facts_but_stages(conn: &Connection, slip_min_days: i64) -> Result<Vec<DealFacts>> {
    let mut facts: Vec<DealFacts> = conn
        .prepare_cached(
            "SELECT id, stage_id, is_closed, is_won, close_date FROM deals
              WHERE archived_at IS NULL ORDER BY id",
        )?
        .query_map([], |r| {
            Ok(DealFacts {
                deal: DealId(r.get(0)?),
                stage_id: StageId(r.get(1)?),
                is_closed: r.get(2)?,
                is_won: r.get(3)?,
                close_date: opt_ts(r.get(4)?),
                stage_since: None,
                last_slip_at: None,
                last_slip_days: None,
                slip_count: 0,
                reviewed_at: None,
                review_status: QueueReviewStatus::None,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    // Marks and reviews are merged rather than joined: a join probes them once per deal, while
    // these scans cost only as many rows as there are marks and reviews.
    merge(
        conn,
        "SELECT deal_id, reviewed_at FROM deal_review_marks ORDER BY deal_id",
        &mut facts,
        |f, row, _| {
            f.reviewed_at = Some(from_unix(row.get(1)?));
            Ok(())
        },
    )?;
    merge(
        conn,
        "SELECT deal_id, MAX(status = 'draft') FROM reviews GROUP BY deal_id ORDER BY deal_id",
        &mut facts,
        |f, row, _| {
            f.review_status = if row.get(1)? {
                QueueReviewStatus::Draft
            } else {
                QueueReviewStatus::Final
            };
            Ok(())
        },
    )?;

    let min_days = slip_min_days.max(0);
    let mut prev: Option<Timestamp> = None;
    merge(
        conn,
        "SELECT deal_id, close_date, changed_at FROM close_date_history ORDER BY deal_id, seq",
        &mut facts,
        |f, row, first| {
            if first {
                prev = None;
            }
            let date = opt_ts(row.get(1)?);
            // As `DealHistory::slips`: both dates known, the new one later by at least the
            // minimum.
            if let (Some(from), Some(to)) = (prev, date) {
                let days = days_between(from, to);
                if to > from && days >= min_days {
                    f.last_slip_at = Some(from_unix(row.get(2)?));
                    f.last_slip_days = Some(days);
                    f.slip_count += 1;
                }
            }
            prev = date;
            Ok(())
        },
    )?;
    Ok(facts)
}

/// The team's stage norms: for each stage, the `quantile` (0–1) of the completed stays in it over
/// every deal not archived, exactly as `StageNorms::learn` computes them from each deal's history
/// (nearest rank, stays in CRM order, at least `StageNorms::MIN_STAYS` stays).
///
/// One pass over the stage history in primary-key order, so that no history is built per deal.
/// Archived deals are left out: they were deleted in the CRM, often as duplicates or tests, and
/// would skew what "normal" means.
pub fn stage_stays(conn: &Connection, quantile: f64) -> Result<StageNorms> {
    Ok(stage_scan(conn, quantile)?.norms)
}

/// The stage norms (as [`stage_stays`]) and every deal's newest stage entry, in one pass over the
/// stage history.
pub fn stage_scan(conn: &Connection, quantile: f64) -> Result<StageScan> {
    let archived: HashSet<String> = conn
        .prepare_cached("SELECT id FROM deals WHERE archived_at IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;

    // Stays per stage, indexed through `index` so that each row costs one lookup and no copy.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut stays: Vec<(String, Vec<i64>)> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT deal_id, entered_at, stage_id FROM stage_history ORDER BY deal_id, seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut current: Option<String> = None;
    let mut skip = false;
    // The previous entry of the current deal: (entered at, index of its stage).
    let mut prev: Option<(Timestamp, usize)> = None;
    let mut since: Vec<(String, Timestamp)> = Vec::new();
    while let Some(row) = rows.next()? {
        let deal = text(row.get_ref(0)?, "stage history deal id")?;
        let first = current.as_deref() != Some(deal);
        if first {
            remember(&mut current, deal);
            skip = archived.contains(deal);
            prev = None;
        }
        if skip {
            continue;
        }
        let at = from_unix(row.get(1)?);
        match since.last_mut() {
            // The newest entry, whatever the CRM order of the rows.
            Some(latest) if !first => latest.1 = latest.1.max(at),
            _ => since.push((deal.to_owned(), at)),
        }
        let stage = text(row.get_ref(2)?, "stage history stage id")?;
        let i = match index.get(stage) {
            Some(&i) => i,
            None => {
                index.insert(stage.to_owned(), stays.len());
                stays.push((stage.to_owned(), Vec::new()));
                stays.len() - 1
            }
        };
        if let Some((entered, left)) = prev {
            stays[left].1.push(days_between(entered, at));
        }
        prev = Some((at, i));
    }

    let q = quantile.clamp(0.0, 1.0);
    let norms = StageNorms::from_days(
        stays
            .into_iter()
            .filter(|(_, v)| v.len() >= StageNorms::MIN_STAYS)
            .map(|(stage, mut v)| {
                v.sort_unstable();
                // Nearest rank, as `StageNorms::learn`: the smallest stay with at least `q` of
                // the stays at or below it.
                let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
                (StageId(stage), v[rank - 1])
            }),
    );
    Ok(StageScan { norms, since })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{DemoSpec, write_demo};
    use crate::domain::queue::{Badge, badges};
    use crate::domain::time::DAY;
    use crate::domain::{CloseDateChange, Deal, DealHistory, StageChange};
    use crate::store::deals::tests::{sample_deal, seeded};
    use crate::store::{Store, deals, marks, reviews};
    use std::collections::BTreeSet;

    fn t(day: i64) -> jiff::Timestamp {
        from_unix(day * DAY)
    }

    /// The facts of one deal computed the slow way, from its deal record and its history.
    fn oracle(deal: &Deal, h: &DealHistory, min: i64, conn: &Connection) -> DealFacts {
        let slips = h.slips(min);
        let statuses: Vec<String> = conn
            .prepare("SELECT status FROM reviews WHERE deal_id = ?1")
            .unwrap()
            .query_map([deal.id.as_str()], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        DealFacts {
            deal: deal.id.clone(),
            stage_id: deal.stage_id.clone(),
            is_closed: deal.is_closed,
            is_won: deal.is_won,
            close_date: deal.close_date,
            stage_since: h.stages.iter().map(|c| c.at).max(),
            last_slip_at: slips.last().map(|s| s.at),
            last_slip_days: slips.last().map(|s| s.days),
            slip_count: slips.len(),
            reviewed_at: marks::marks(conn).unwrap().get(&deal.id).copied(),
            review_status: if statuses.iter().any(|s| s == "draft") {
                QueueReviewStatus::Draft
            } else if statuses.is_empty() {
                QueueReviewStatus::None
            } else {
                QueueReviewStatus::Final
            },
        }
    }

    #[test]
    fn facts_read_slips_stage_entry_marks_and_review_status() {
        let store = seeded(4);
        let c = store.conn();
        // d2: close date 22 → 32 (+10, a slip at day 7), then 32 → 35 (+3), then cleared, then
        // set again (not slips), then 50 → 40 (earlier).
        let (mut deal, mut h) = sample_deal(2);
        h.close_dates.extend([
            CloseDateChange {
                at: t(9),
                close_date: Some(t(35)),
            },
            CloseDateChange {
                at: t(10),
                close_date: None,
            },
            CloseDateChange {
                at: t(11),
                close_date: Some(t(50)),
            },
            CloseDateChange {
                at: t(12),
                close_date: Some(t(40)),
            },
        ]);
        h.stages.push(StageChange {
            at: t(8),
            stage_id: "demo".into(),
        });
        deal.close_date = Some(t(40));
        deals::upsert(c, &deal, &h).unwrap();
        // d3 is archived: not in the queue.
        let (mut archived, h3) = sample_deal(3);
        archived.archived_at = Some(t(50));
        deals::upsert(c, &archived, &h3).unwrap();
        marks::mark_reviewed(c, &"d1".into(), t(60), "Maya").unwrap();
        let mut draft = reviews::tests::sample();
        reviews::upsert(c, &draft).unwrap();
        draft.id = "final-one".into();
        draft.deal_id = "d1".into();
        draft.status = crate::domain::ReviewStatus::Final;
        reviews::upsert(c, &draft).unwrap();

        let f = facts(c, 7).unwrap();
        let ids: Vec<_> = f.iter().map(|f| f.deal.as_str()).collect();
        assert_eq!(ids, ["d0", "d1", "d2"]);
        assert_eq!(f[0].review_status, QueueReviewStatus::Draft);
        assert_eq!(f[1].review_status, QueueReviewStatus::Final);
        assert_eq!(f[2].review_status, QueueReviewStatus::None);
        assert_eq!(f[1].reviewed_at, Some(t(60)));
        assert_eq!(f[0].reviewed_at, None);
        assert!(f[1].is_closed && f[1].is_won);
        assert_eq!(f[2].stage_since, Some(t(8)));
        assert_eq!(f[2].last_slip_at, Some(t(7)));
        assert_eq!(f[2].last_slip_days, Some(10));
        assert_eq!(f[2].slip_count, 1);
        assert_eq!(facts(c, 3).unwrap()[2].slip_count, 2);
        assert_eq!(facts(c, 3).unwrap()[2].last_slip_at, Some(t(9)));
        assert_eq!(facts(c, 11).unwrap()[2].slip_count, 0);
        for fact in &f {
            let deal = deals::get(c, &fact.deal).unwrap().unwrap();
            let h = deals::history(c, &fact.deal).unwrap();
            assert_eq!(fact, &oracle(&deal, &h, 7, c));
        }
    }

    #[test]
    fn stage_stays_need_enough_completed_stays() {
        let store = seeded(12);
        let c = store.conn();
        // Twelve deals in demo for 1..=12 days, then won; one more archived one of 100 days.
        for i in 0..12 {
            let (deal, mut h) = sample_deal(i);
            h.stages.push(StageChange {
                at: from_unix(deal.created_at.as_second() + (i as i64 + 1) * DAY),
                stage_id: "closedwon".into(),
            });
            deals::upsert(c, &deal, &h).unwrap();
        }
        let norms = stage_stays(c, 0.75).unwrap();
        assert_eq!(norms.norm_days(&"demo".into()), Some(9));
        assert_eq!(norms.norm_days(&"closedwon".into()), None);
        let (mut deal, mut h) = sample_deal(0);
        h.stages.push(StageChange {
            at: t(100),
            stage_id: "closedwon".into(),
        });
        deal.archived_at = Some(t(101));
        deals::upsert(c, &deal, &h).unwrap();
        assert_eq!(
            stage_stays(c, 1.0).unwrap().norm_days(&"demo".into()),
            Some(12),
            "the archived deal's 100 days are left out"
        );
    }

    fn demo(deals: usize) -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let spec = DemoSpec {
            deals,
            seed: DemoSpec::DEFAULT_SEED,
            as_of: DemoSpec::default_as_of(),
        };
        write_demo(&mut store, &spec).unwrap();
        store
    }

    /// The set-based facts and norms agree with a slow per-deal computation on every deal of a
    /// demo cache, and the demo's queue shows every kind of badge.
    #[test]
    fn facts_and_norms_match_the_per_deal_oracle_on_a_demo() {
        let store = demo(2_000);
        let c = store.conn();
        // A review and a mark so that those columns are exercised too.
        let all = deals::list(c, &deals::DealFilter::default()).unwrap();
        let mut review = reviews::tests::sample();
        review.deal_id = all[0].id.clone();
        reviews::upsert(c, &review).unwrap();
        marks::mark_reviewed(c, &all[1].id, DemoSpec::default_as_of(), "Maya").unwrap();

        for min in [7, 0, 30] {
            let f = facts(c, min).unwrap();
            assert_eq!(f.len(), all.len());
            for fact in &f {
                let deal = deals::get(c, &fact.deal).unwrap().unwrap();
                let h = deals::history(c, &fact.deal).unwrap();
                assert_eq!(fact, &oracle(&deal, &h, min, c), "slip_min_days {min}");
            }
        }

        let histories: Vec<DealHistory> = all
            .iter()
            .map(|d| deals::history(c, &d.id).unwrap())
            .collect();
        for q in [0.5, 0.75, 0.9] {
            assert_eq!(
                stage_stays(c, q).unwrap(),
                StageNorms::learn(&histories, q),
                "quantile {q}"
            );
        }

        let norms = stage_stays(c, 0.75).unwrap();
        let f = facts(c, 7).unwrap();
        let as_of = DemoSpec::default_as_of();
        let queue = crate::domain::queue::queue(&f, &norms, as_of, 7);
        assert!(!queue.is_empty());
        let kinds: BTreeSet<Badge> = queue.iter().flat_map(|e| e.badges.clone()).collect();
        assert_eq!(kinds, Badge::ALL.into_iter().collect(), "every badge kind");
        // Stalled agrees with `DealHistory::is_stalled` for every open deal it flags.
        for e in queue.iter().filter(|e| e.badges.contains(&Badge::Stalled)) {
            let h = deals::history(c, &e.facts.deal).unwrap();
            assert!(h.is_stalled(as_of, &norms), "{}", e.facts.deal);
        }
        // The marked deal has no badges.
        let marked = f.iter().find(|x| x.deal == all[1].id).unwrap();
        assert!(badges(marked, &norms, as_of, 7).is_empty());
    }

    /// CPU time this thread has run, from Linux's schedstat, so that a figure taken on a busy
    /// machine is not inflated by waiting for a core.
    fn thread_cpu() -> Option<std::time::Duration> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let ns = stat.split_whitespace().next()?.parse().ok()?;
        Some(std::time::Duration::from_nanos(ns))
    }

    /// `cargo test --release --lib store::queue::tests::time_on_a_large_cache -- --ignored
    /// --nocapture` with `DEALTRACE_QUEUE_DB` pointing at a cache written by
    /// `dealtrace demo --deals 100000 --db …`.
    #[test]
    #[ignore = "timing on a large cache; run by hand"]
    fn time_on_a_large_cache() {
        let Ok(path) = std::env::var("DEALTRACE_QUEUE_DB") else {
            return;
        };
        let store = Store::open(std::path::Path::new(&path)).unwrap();
        let c = store.conn();
        let timed = |f: &mut dyn FnMut()| {
            let (wall, cpu) = (std::time::Instant::now(), thread_cpu());
            f();
            let cpu = cpu.zip(thread_cpu()).map(|(a, b)| b - a);
            format!(
                "{:?} wall / {:?} cpu",
                wall.elapsed(),
                cpu.unwrap_or_default()
            )
        };
        // `DEALTRACE_QUEUE_MMAP=1`: how much of the time is reading pages through SQLite's small
        // default page cache rather than the scans themselves.
        if std::env::var_os("DEALTRACE_QUEUE_MMAP").is_some() {
            c.pragma_update(None, "mmap_size", 1i64 << 30).unwrap();
        }
        for _ in 0..5 {
            let mut f = Vec::new();
            let mut norms = StageNorms::default();
            let facts_took = timed(&mut || f = facts(c, 7).unwrap());
            let norms_took = timed(&mut || norms = stage_stays(c, 0.75).unwrap());
            let mut q = 0;
            let queue_took = timed(&mut || {
                q = crate::domain::queue::queue(&f, &norms, DemoSpec::default_as_of(), 7).len()
            });
            eprintln!(
                "{} deals, queue {q}: facts {facts_took}; stage_stays {norms_took}; \
                 badges {queue_took}",
                f.len()
            );
        }
    }
}
