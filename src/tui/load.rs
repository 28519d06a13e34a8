//! Reading what the screens show from the cache. These run on blocking threads, never on the
//! draw loop, and hand back plain values the pure `update` takes in.
//!
//! The deal lists load in two steps so that the home screen is quick on a big cache: first the
//! review queue (queue facts and stage norms read side by side on two connections, then the
//! summaries of only the deals with a badge), then every deal for the pipeline, reusing the
//! badges already computed.

use super::action::{Advice, AdviceLine, DealList, ReviewSource};
use super::lessons_view::{LessonRow, LessonsData};
use super::patterns_view::{MinePhase, Mined};
use super::rows::{QueueMark, Rows};
use crate::config::Config;
use crate::domain::queue::badges;
use crate::domain::{DealId, Lesson};
use crate::store::{self, Store};
use color_eyre::eyre::{Result, eyre};
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The first step's result: the queue, and what the second step reuses.
#[derive(Debug, Clone)]
pub struct QueueLoad {
    /// The review queue, ready to draw (its rows hold only deals with a badge).
    pub list: DealList,
    /// Every deal's badges and review state, by deal id (deals without either are absent).
    marks: HashMap<DealId, QueueMark>,
}

/// The review queue: every deal's queue facts and the stage norms, then the summaries of the
/// deals with at least one badge.
pub fn queue(db: &Path, config: &Config, generation: u64) -> Result<QueueLoad> {
    let store = Store::open(db)?;
    let conn = store.conn();
    let review = &config.review;
    let demo_as_of = store::meta::get_instant(conn, store::meta::keys::DEMO_AS_OF)?;
    let as_of = demo_as_of.unwrap_or_else(Timestamp::now);
    // The stage history (norms and each deal's stage entry) on a second connection while this
    // one reads the rest: together they take about as long as the longer of the two.
    let (mut facts, stages) = beside(
        db,
        || store::queue::facts_but_stages(conn, review.slip_min_days),
        |other| store::queue::stage_scan(other, review.stall_quantile),
    )?;
    store::queue::with_stage_since(&mut facts, &stages.since);
    let norms = stages.norms;
    let marks: HashMap<DealId, QueueMark> = facts
        .into_iter()
        .filter_map(|f| {
            let mark = QueueMark {
                at_risk: false,
                badges: badges(&f, &norms, as_of, review.lookback_days),
                review: f.review_status,
            };
            (mark != QueueMark::default()).then_some((f.deal, mark))
        })
        .collect();
    let queued: Vec<&DealId> = marks
        .iter()
        .filter(|(_, m)| !m.badges.is_empty())
        .map(|(id, _)| id)
        .collect();
    let deals = summaries_in_halves(db, conn, &queued)?;
    let list = DealList {
        rows: Arc::new(rows(deals, &marks, as_of)),
        as_of,
        last_sync: store::meta::get_instant(conn, store::meta::keys::LAST_SYNC)?,
        is_demo: demo_as_of.is_some(),
        complete: false,
        generation,
    };
    Ok(QueueLoad { list, marks })
}

/// The summaries of `ids`, read half on this connection and half on a second one at the same
/// time (a queue can hold tens of thousands of deals), in the order `deals::list` gives.
fn summaries_in_halves(
    db: &Path,
    conn: &rusqlite::Connection,
    ids: &[&DealId],
) -> Result<Vec<crate::store::deals::DealSummary>> {
    // Below this, a second connection costs more than it saves.
    const SPLIT_FROM: usize = 2_000;
    if ids.len() < SPLIT_FROM {
        return Ok(store::deals::summaries(conn, ids)?);
    }
    let (first, second) = ids.split_at(ids.len() / 2);
    let (mut deals, rest) = beside(
        db,
        || store::deals::summaries(conn, first),
        |other| store::deals::summaries(other, second),
    )?;
    deals.extend(rest);
    deals.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(deals)
}

/// Runs `here` on this thread and `there` on a second connection to the same cache at the
/// same time (WAL lets readers share the file), so two independent reads take about as long
/// as the longer of them.
fn beside<A, B>(
    db: &Path,
    here: impl FnOnce() -> store::Result<A>,
    there: impl FnOnce(&rusqlite::Connection) -> store::Result<B> + Send,
) -> Result<(A, B)>
where
    B: Send,
{
    std::thread::scope(|scope| {
        let other = scope.spawn(|| -> Result<B> {
            let store = Store::open(db)?;
            Ok(there(store.conn())?)
        });
        let mine = here();
        let theirs = other
            .join()
            .map_err(|_| eyre!("reading the cache failed unexpectedly; try again"))?;
        Ok((mine?, theirs?))
    })
}

/// Every deal not archived, with the badges the queue step computed.
pub fn everything(db: &Path, queue: QueueLoad) -> Result<DealList> {
    let store = Store::open(db)?;
    let deals = store::deals::list(store.conn(), &store::deals::DealFilter::default())?;
    let QueueLoad { list, marks } = queue;
    Ok(DealList {
        rows: Arc::new(rows(deals, &marks, list.as_of)),
        complete: true,
        ..list
    })
}

/// Both steps one after the other: the complete list (for tests and benchmarks).
pub fn all(db: &Path, config: &Config) -> Result<DealList> {
    everything(db, queue(db, config, 0)?)
}

fn rows(
    deals: Vec<crate::store::deals::DealSummary>,
    marks: &HashMap<DealId, QueueMark>,
    as_of: Timestamp,
) -> Rows {
    let deal_marks = deals
        .iter()
        .map(|d| marks.get(&d.id).cloned().unwrap_or_default())
        .collect();
    Rows::build(deals, deal_marks, as_of)
}

/// One deal in full for the deal view.
pub fn detail(db: &Path, id: &DealId) -> Result<store::detail::DealDetail> {
    let store = Store::open(db)?;
    store::detail::load(store.conn(), id)?.ok_or_else(|| no_such_deal(id))
}

/// A deal with its newest draft and final review, for the wizard.
pub fn review_source(db: &Path, id: &DealId) -> Result<ReviewSource> {
    let store = Store::open(db)?;
    let conn = store.conn();
    let detail = store::detail::load(conn, id)?.ok_or_else(|| no_such_deal(id))?;
    Ok(ReviewSource {
        detail,
        // An amendment in progress is the draft to resume; else a draft never signed off.
        draft: match store::reviews::amendment_for_deal(conn, id)? {
            Some(amendment) => Some(amendment),
            None => store::reviews::draft_for_deal(conn, id)?,
        },
        last_final: store::reviews::latest_final_for_deal(conn, id)?,
        new_review_id: crate::domain::ids::new_local_id(),
    })
}

/// Mines the cache for patterns with the configured skills and the default options (what
/// `dealtrace patterns` does with no flags), telling `progress` as each phase starts.
pub fn mine(db: &Path, config: &Config, progress: impl Fn(MinePhase)) -> Result<Mined> {
    use crate::cmd::patterns as cmd;
    let skills = crate::cmd::skills(config)?;
    let store = Store::open(db)?;
    progress(MinePhase::Reading);
    let source = cmd::source(&store, &skills)?;
    progress(MinePhase::Building);
    let data = cmd::build_dataset(&source, &skills);
    progress(MinePhase::Testing);
    let options = cmd::options(&cmd::Request::default(), &skills);
    let run = crate::patterns::mine::mine(&data, &options);
    // Every mining run re-measures the lesson library, so its evidence stays current.
    crate::cmd::lessons::remeasure_and_record(&store, &data, Timestamp::now())?;
    Ok(Mined::new(run, &data, source.deals.len(), options.fdr))
}

/// The lessons with their evidence over time, the open deals each fires on as of the cache's
/// "now", and their follow-up tables; settles, on the way, whether recorded recommendations
/// were followed.
pub fn lessons(db: &Path, config: &Config) -> Result<LessonsData> {
    use crate::cmd::lessons as cmd;
    let skills = crate::cmd::skills(config)?;
    let store = Store::open(db)?;
    let conn = store.conn();
    let lessons = store::lessons::all(conn)?;
    let as_of = crate::cmd::reference_now(&store)?;
    if lessons.is_empty() {
        return Ok(LessonsData {
            as_of,
            rows: Vec::new(),
            advice: Arc::new(Advice::new()),
        });
    }
    let source = crate::cmd::patterns::source(&store, &skills)?;
    let now = as_of.as_second();
    let frame = crate::patterns::build::Frame::new(
        &source.deals,
        &source.pipelines,
        &skills,
        &crate::patterns::build::BuildOptions::at(now),
    );
    cmd::settle_followed(&store, &frame, &lessons, now)?;
    let records = store::lessons::recommendations(conn)?;
    let data = crate::cmd::patterns::build_dataset(&source, &skills);
    let fired = crate::advisor::advise::advise(&frame, &lessons, now);
    let mut rows = Vec::with_capacity(lessons.len());
    for (i, l) in lessons.iter().enumerate() {
        let trend = store::lessons::evidence(conn, &l.id)?;
        let follow = cmd::follow_tables_in(&frame, &data, &records, l);
        let firing = fired.iter().filter(|f| f.lesson == i).count();
        rows.push(LessonRow::new(l.clone(), trend, follow, firing));
    }
    Ok(LessonsData {
        as_of,
        rows,
        advice: Arc::new(advice_lines(&lessons, fired)),
    })
}

/// The advisor's firings as lines to show, by deal id.
fn advice_lines(lessons: &[Lesson], fired: Vec<crate::advisor::advise::Fired>) -> Advice {
    let mut out = Advice::new();
    for f in fired {
        let l = &lessons[f.lesson];
        out.entry(f.deal_id.to_string())
            .or_default()
            .push(AdviceLine {
                lesson_id: l.id.clone(),
                version: l.version,
                recommendation: crate::text::sanitize_line(&l.recommendation),
                statement: crate::text::sanitize_line(&l.statement),
            });
    }
    out
}

/// The active lessons' recommendations on the open deals as of the cache's "now", by deal id.
pub fn advice(db: &Path, config: &Config) -> Result<Advice> {
    let skills = crate::cmd::skills(config)?;
    let store = Store::open(db)?;
    let lessons = store::lessons::all(store.conn())?;
    if !lessons
        .iter()
        .any(|l| l.status == crate::domain::LessonStatus::Active)
    {
        return Ok(Advice::new());
    }
    let source = crate::cmd::patterns::source(&store, &skills)?;
    let now = crate::cmd::reference_now(&store)?.as_second();
    let frame = crate::patterns::build::Frame::new(
        &source.deals,
        &source.pipelines,
        &skills,
        &crate::patterns::build::BuildOptions::at(now),
    );
    let fired = crate::advisor::advise::advise(&frame, &lessons, now);
    Ok(advice_lines(&lessons, fired))
}

fn no_such_deal(id: &DealId) -> color_eyre::Report {
    eyre!("the cache holds no deal {id}; check the id with `dealtrace deals list`")
}
