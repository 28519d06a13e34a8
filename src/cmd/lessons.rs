//! `dealtrace lessons …`: the lesson library from the command line.

use crate::advisor::follow::{FollowTable, follow_table};
use crate::advisor::library::{self, Merge};
use crate::advisor::{measure, promote};
use crate::cli::LessonsCommand;
use crate::config::Config;
use crate::domain::time::{rfc3339, ymd};
use crate::domain::{Evidence, Lesson, LessonId, LessonStatus, Trigger};
use crate::patterns::mine::{self, Support};
use crate::signals::Skills;
use crate::store::{self, Store};
use color_eyre::eyre::{Result, WrapErr, eyre};
use jiff::Timestamp;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs one `lessons` subcommand on the cache.
pub(super) fn run(store: &Store, config: &Config, command: LessonsCommand) -> Result<()> {
    let skills = || super::skills(config);
    let who = |by: Option<String>| by.unwrap_or_else(|| config.reviewer_name());
    match command {
        LessonsCommand::List { json, status } => list(store, status.map(Into::into), json),
        LessonsCommand::Show { id, json } => show(store, &skills()?, &id, json),
        LessonsCommand::Promote {
            pattern,
            recommendation,
            by,
            json,
        } => promote_pattern(store, &skills()?, &pattern, recommendation, &who(by), json),
        LessonsCommand::Status { id, status, by } => {
            set_status(store, &id, status.into(), &who(by))
        }
        LessonsCommand::Edit {
            id,
            statement,
            recommendation,
            owner,
            tags,
            by,
        } => edit(
            store,
            &id,
            Edits {
                statement,
                recommendation,
                owner,
                tags,
            },
            &who(by),
        ),
        LessonsCommand::FromReviews { json } => from_reviews(store, &skills()?, json),
        LessonsCommand::Advise { json } => advise_now(store, &skills()?, json),
        LessonsCommand::Measure { json } => measure_now(store, &skills()?, json),
        LessonsCommand::Export { path } => export(store, path.as_deref()),
        LessonsCommand::Import { path, json } => import(store, &path, json),
    }
}

/// A lesson by id, or by a prefix of its id that only it has (ids are long UUIDs).
fn find(store: &Store, id: &str) -> Result<Lesson> {
    if let Some(l) = store::lessons::get(store.conn(), &LessonId::from(id))? {
        return Ok(l);
    }
    let mut matches: Vec<Lesson> = store::lessons::all(store.conn())?
        .into_iter()
        .filter(|l| l.id.as_str().starts_with(id))
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(eyre!(
            "no lesson {id}; `dealtrace lessons list` shows the ids"
        )),
        n => Err(eyre!("{n} lessons start with {id}; give more of the id")),
    }
}

/// "open deals after Demo with single_threaded", for people.
pub fn trigger_text(l: &Lesson) -> String {
    let t = &l.trigger;
    if t.condition.is_empty() {
        return "never (no trigger yet: set one in the library file and import it)".into();
    }
    let context = l
        .patterns
        .first()
        .map(|p| p.context.clone())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("in {}", t.population));
    let with = if t.when_present { "with" } else { "without" };
    let mut s = format!("open deals {context} {with} {}", t.condition.join(" and "));
    if let Some(seg) = &t.segment {
        s.push_str(&format!(", in segment {seg}"));
    }
    if let Some(u) = &t.unless {
        s.push_str(&format!(", unless {u}"));
    }
    s
}

fn effect_text(e: &Evidence) -> String {
    if e.effect.is_finite() {
        format!("{:.2} ({:.2}–{:.2})", e.effect, e.ci_low, e.ci_high)
    } else {
        "—".into()
    }
}

#[derive(Serialize)]
struct ListedLesson<'a> {
    #[serde(flatten)]
    lesson: &'a Lesson,
    latest: Option<&'a Evidence>,
    needs_attention: bool,
}

fn list(store: &Store, status: Option<LessonStatus>, json: bool) -> Result<()> {
    let lessons: Vec<Lesson> = store::lessons::all(store.conn())?
        .into_iter()
        .filter(|l| status.is_none_or(|s| l.status == s))
        .collect();
    let mut latest = Vec::with_capacity(lessons.len());
    for l in &lessons {
        latest.push(store::lessons::evidence(store.conn(), &l.id)?.pop());
    }
    let mut out = std::io::stdout().lock();
    if json {
        let rows: Vec<ListedLesson<'_>> = lessons
            .iter()
            .zip(&latest)
            .map(|(lesson, e)| ListedLesson {
                lesson,
                latest: e.as_ref(),
                needs_attention: e.as_ref().is_some_and(|e| e.verdict.needs_attention()),
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "lessons": rows }))?;
        writeln!(out)?;
        return Ok(());
    }
    if lessons.is_empty() {
        writeln!(
            out,
            "No lessons yet: promote a pattern with `dealtrace lessons promote RANK` (ranks as \
             `dealtrace patterns` prints them)."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<13} {:<9} {:<12} {:<20} statement",
        "id", "status", "verdict", "effect (95% CI)"
    )?;
    for (l, e) in lessons.iter().zip(&latest) {
        let verdict = e.as_ref().map_or("unmeasured", |e| e.verdict.as_str());
        let flag = if e.as_ref().is_some_and(|e| e.verdict.needs_attention()) {
            "!"
        } else {
            " "
        };
        writeln!(
            out,
            "{:<13} {:<9} {flag}{:<11} {:<20} {}",
            crate::format::fit(l.id.as_str(), 13),
            l.status.as_str(),
            verdict,
            e.as_ref().map_or("—".into(), effect_text),
            l.statement
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct ShownLesson<'a> {
    lesson: &'a Lesson,
    evidence: &'a [Evidence],
    changes: Vec<ChangeJson>,
    followed: FollowTables,
}

/// Outcomes when the recommendation was followed against when not: from the recommendations
/// the advisor recorded, and from the lesson replayed on the history before it existed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowTables {
    /// The outcome compared (the lesson's pattern outcome; `lost` for decay).
    pub outcome: String,
    /// Recorded recommendations.
    pub live: FollowTable,
    /// The replay on history (observational; see `advisor::advise::replay`).
    pub replay: FollowTable,
}

/// Both follow-up tables of a lesson, on the cache as of now.
pub fn follow_tables(store: &Store, skills: &Skills, lesson: &Lesson) -> Result<FollowTables> {
    let source = super::patterns::source(store, skills)?;
    let now = super::reference_now(store)?.as_second();
    let frame = crate::patterns::build::Frame::new(
        &source.deals,
        &source.pipelines,
        skills,
        &crate::patterns::build::BuildOptions::at(now),
    );
    let data = super::patterns::build_dataset(&source, skills);
    let records = store::lessons::recommendations(store.conn())?;
    Ok(follow_tables_in(&frame, &data, &records, lesson))
}

/// Both follow-up tables of a lesson, from a frame as of now, the miner's dataset and every
/// recorded recommendation.
pub fn follow_tables_in(
    frame: &crate::patterns::build::Frame<'_>,
    data: &crate::patterns::dataset::Dataset,
    records: &[crate::domain::RecommendationRecord],
    lesson: &Lesson,
) -> FollowTables {
    let index = crate::advisor::advise::deal_index(frame.deals());
    let refs: Vec<(usize, &crate::domain::RecommendationRecord)> = records
        .iter()
        .filter(|r| r.lesson_id == lesson.id)
        .filter_map(|r| Some((*index.get(r.deal_id.as_str())?, r)))
        .collect();
    let live = follow_table(crate::advisor::advise::live_followups(frame, lesson, &refs));
    let replay = data
        .populations
        .iter()
        .find(|p| p.key == lesson.trigger.population)
        .map(|pop| follow_table(crate::advisor::advise::replay(frame, lesson, pop)))
        .unwrap_or_else(|| follow_table([]));
    FollowTables {
        outcome: crate::advisor::advise::follow_outcome(lesson).to_owned(),
        live,
        replay,
    }
}

/// A follow-up table in one line.
pub fn follow_line(t: &FollowTable) -> String {
    let share = crate::format::percent;
    let effect = match (t.rr, t.ci_low, t.ci_high, t.p) {
        (Some(rr), Some(lo), Some(hi), Some(p)) => {
            format!(
                "; RR {rr:.2} (95% CI {lo:.2}–{hi:.2}){} p = {p:.3}",
                if t.corrected { " †" } else { "" }
            )
        }
        _ => String::new(),
    };
    format!(
        "followed {}/{} = {} vs not {}/{} = {}{effect}; {} pending",
        t.events_followed,
        t.n_followed,
        share(t.events_followed, t.n_followed),
        t.events_not_followed,
        t.n_not_followed,
        share(t.events_not_followed, t.n_not_followed),
        t.pending
    )
}

#[derive(Serialize)]
struct ChangeJson {
    version: i64,
    at: Timestamp,
    by: Option<String>,
    what: String,
}

fn show(store: &Store, skills: &Skills, id: &str, json: bool) -> Result<()> {
    let l = find(store, id)?;
    let followed = follow_tables(store, skills, &l)?;
    let evidence = store::lessons::evidence(store.conn(), &l.id)?;
    let changes = store::lessons::changes(store.conn(), &l.id)?;
    let mut out = std::io::stdout().lock();
    if json {
        let body = ShownLesson {
            lesson: &l,
            evidence: &evidence,
            changes: changes
                .into_iter()
                .map(|c| ChangeJson {
                    version: c.version,
                    at: c.at,
                    by: c.by,
                    what: c.what,
                })
                .collect(),
            followed,
        };
        serde_json::to_writer_pretty(&mut out, &body)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}  (v{}, {})",
        l.statement,
        l.version,
        l.status.as_str()
    )?;
    writeln!(out, "id:             {}", l.id)?;
    writeln!(out, "recommendation: {}", l.recommendation)?;
    writeln!(out, "fires on:       {}", trigger_text(&l))?;
    if let Some(o) = &l.owner {
        writeln!(out, "owner:          {o}")?;
    }
    if !l.tags.is_empty() {
        writeln!(out, "tags:           {}", l.tags.join(", "))?;
    }
    for p in &l.patterns {
        writeln!(
            out,
            "pattern:        {} (effect {:.2} when promoted)",
            p.key, p.effect
        )?;
    }
    writeln!(out)?;
    if evidence.is_empty() {
        writeln!(
            out,
            "Evidence: not measured yet (`dealtrace lessons measure`, or any mining run)."
        )?;
    } else {
        writeln!(out, "Evidence over time:")?;
        for e in &evidence {
            writeln!(
                out,
                "  {}  {:<12} {:<20} q {:<7} {}/{} vs {}/{}",
                ymd(e.cutoff),
                e.verdict.as_str(),
                effect_text(e),
                if e.q.is_finite() {
                    format!("{:.4}", e.q)
                } else {
                    "—".into()
                },
                e.events_exposed,
                e.n_exposed,
                e.events_unexposed,
                e.n_unexposed
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "When the recommendation was followed ({}):",
        followed.outcome
    )?;
    writeln!(out, "  recorded:         {}", follow_line(&followed.live))?;
    writeln!(
        out,
        "  replayed history: {} (observational)",
        follow_line(&followed.replay)
    )?;
    writeln!(out)?;
    writeln!(out, "History:")?;
    for c in &changes {
        writeln!(
            out,
            "  v{} {} {}: {}",
            c.version,
            rfc3339(c.at),
            c.by.as_deref().unwrap_or("—"),
            c.what
        )?;
    }
    Ok(())
}

/// Mines the cache as `dealtrace patterns` does with no flags.
fn mine_cache(
    store: &Store,
    skills: &Skills,
) -> Result<(crate::patterns::dataset::Dataset, mine::Run)> {
    let data = super::patterns::dataset(store, skills)?;
    let options = super::patterns::options(&super::patterns::Request::default(), skills);
    let run = mine::mine(&data, &options);
    Ok((data, run))
}

fn promote_pattern(
    store: &Store,
    skills: &Skills,
    which: &str,
    recommendation: Option<String>,
    by: &str,
    json: bool,
) -> Result<()> {
    let (_, run) = mine_cache(store, skills)?;
    let pattern = match which.trim_start_matches('#').parse::<usize>() {
        Ok(rank) if rank >= 1 => run.patterns.get(rank - 1),
        _ => run.patterns.iter().find(|p| p.key == which),
    }
    .ok_or_else(|| {
        eyre!(
            "no surfaced pattern {which}; `dealtrace patterns` lists them with their ranks \
             (and `--json` with their keys)"
        )
    })?;
    let lesson = promote(store, skills, pattern, recommendation, by)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &lesson)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "proposed lesson {}: {}\nrecommendation: {}\nactivate it with `dealtrace lessons status {} active`",
            lesson.id, lesson.statement, lesson.recommendation, lesson.id
        )?;
    }
    Ok(())
}

/// Saves a surfaced pattern as a proposed lesson, unless a lesson not retired already rests on
/// it.
pub fn promote(
    store: &Store,
    skills: &Skills,
    pattern: &crate::patterns::mine::Pattern,
    recommendation: Option<String>,
    by: &str,
) -> Result<Lesson> {
    let existing = store::lessons::all(store.conn())?.into_iter().find(|l| {
        l.status != LessonStatus::Retired && l.patterns.iter().any(|p| p.key == pattern.key)
    });
    if let Some(l) = existing {
        return Err(eyre!(
            "pattern {} is already lesson {} ({}); `dealtrace lessons show {}`",
            pattern.key,
            l.id,
            l.status.as_str(),
            l.id
        ));
    }
    let now = super::reference_now(store)?;
    let lesson = promote::lesson_from_pattern(
        pattern,
        LessonId(crate::domain::ids::new_local_id()),
        recommendation,
        skills,
        Some(by),
        now,
    );
    store::lessons::save(
        store.conn(),
        &lesson,
        Some(by),
        &format!("promoted from pattern {}", pattern.key),
    )?;
    Ok(lesson)
}

/// Moves a lesson to `status` as its next version; `None` when it already has it.
pub fn change_status(
    store: &Store,
    id: &LessonId,
    status: LessonStatus,
    by: &str,
) -> Result<Option<Lesson>> {
    let before = store::lessons::get(store.conn(), id)?
        .ok_or_else(|| eyre!("no lesson {id}; `dealtrace lessons list` shows the ids"))?;
    if before.status == status {
        return Ok(None);
    }
    let now = super::reference_now(store)?;
    let changed = Lesson {
        status,
        status_changed_by: Some(by.to_owned()),
        status_changed_at: Some(now),
        ..before.clone()
    };
    let what = format!("status {} → {}", before.status.as_str(), status.as_str());
    save_version(store, &before, changed, by, &what).map(Some)
}

/// Saves `changed` as the next version of `before`, with a history row saying `what`.
fn save_version(
    store: &Store,
    before: &Lesson,
    mut changed: Lesson,
    by: &str,
    what: &str,
) -> Result<Lesson> {
    let now = super::reference_now(store)?;
    changed.version = before.version + 1;
    changed.updated_at = now.max(before.updated_at);
    store::lessons::save(store.conn(), &changed, Some(by), what)?;
    Ok(changed)
}

fn set_status(store: &Store, id: &str, status: LessonStatus, by: &str) -> Result<()> {
    let lesson = find(store, id)?;
    match change_status(store, &lesson.id, status, by)? {
        None => println!("lesson {} is already {}", lesson.id, status.as_str()),
        Some(saved) => println!(
            "lesson {} is {} (v{})",
            saved.id,
            status.as_str(),
            saved.version
        ),
    }
    Ok(())
}

/// What `lessons edit` changes.
struct Edits {
    statement: Option<String>,
    recommendation: Option<String>,
    owner: Option<String>,
    tags: Vec<String>,
}

fn edit(store: &Store, id: &str, edits: Edits, by: &str) -> Result<()> {
    let before = find(store, id)?;
    let mut changed = before.clone();
    let mut what = Vec::new();
    if let Some(s) = edits.statement.filter(|s| *s != before.statement) {
        changed.statement = s;
        what.push("statement");
    }
    if let Some(r) = edits.recommendation.filter(|r| *r != before.recommendation) {
        changed.recommendation = r;
        what.push("recommendation");
    }
    if let Some(o) = edits.owner.filter(|o| Some(o) != before.owner.as_ref()) {
        changed.owner = Some(o);
        what.push("owner");
    }
    if !edits.tags.is_empty() && edits.tags != before.tags {
        changed.tags = edits.tags;
        what.push("tags");
    }
    if what.is_empty() {
        println!("lesson {} unchanged", before.id);
        return Ok(());
    }
    let saved = save_version(
        store,
        &before,
        changed,
        by,
        &format!("edited {}", what.join(", ")),
    )?;
    println!(
        "lesson {} edited (v{}): {}",
        saved.id,
        saved.version,
        what.join(", ")
    );
    Ok(())
}

fn from_reviews(store: &Store, skills: &Skills, json: bool) -> Result<()> {
    let reviews: Vec<_> = store::reviews::all(store.conn())?
        .into_iter()
        .filter(|r| r.status == crate::domain::ReviewStatus::Final)
        .collect();
    let wanted: Vec<(
        String,
        &crate::domain::LessonCandidate,
        &crate::domain::Review,
    )> = reviews
        .iter()
        .flat_map(|r| {
            r.lesson_candidates
                .iter()
                .enumerate()
                .map(move |(i, c)| (format!("review-{}-{i}", r.id), c, r))
        })
        .collect();
    let mut proposed = Vec::new();
    // Mining only when a candidate names a pattern: its trigger comes from the pattern.
    let needs_patterns = wanted.iter().any(|(_, c, _)| c.pattern_key.is_some());
    let run = if needs_patterns {
        Some(mine_cache(store, skills)?.1)
    } else {
        None
    };
    for (id, candidate, review) in wanted {
        let id = LessonId(id);
        if store::lessons::get(store.conn(), &id)?.is_some() {
            continue;
        }
        let pattern = candidate
            .pattern_key
            .as_ref()
            .and_then(|k| run.as_ref()?.patterns.iter().find(|p| &p.key == k));
        let lesson = match pattern {
            Some(p) => Lesson {
                statement: candidate.text.clone(),
                ..promote::lesson_from_pattern(
                    p,
                    id,
                    Some(candidate.text.clone()),
                    skills,
                    Some(&review.reviewer),
                    review.updated_at,
                )
            },
            None => Lesson {
                id,
                statement: candidate.text.clone(),
                recommendation: candidate.text.clone(),
                trigger: Trigger {
                    population: String::new(),
                    segment: None,
                    condition: Vec::new(),
                    when_present: true,
                    unless: None,
                },
                patterns: Vec::new(),
                status: LessonStatus::Proposed,
                status_changed_by: Some(review.reviewer.clone()),
                status_changed_at: Some(review.updated_at),
                owner: None,
                tags: Vec::new(),
                version: 1,
                created_at: review.updated_at,
                updated_at: review.updated_at,
            },
        };
        store::lessons::save(
            store.conn(),
            &lesson,
            Some(&review.reviewer),
            &format!("proposed from the review of deal {}", review.deal_id),
        )?;
        proposed.push(lesson);
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "proposed": proposed }))?;
        writeln!(out)?;
    } else if proposed.is_empty() {
        writeln!(out, "No new lesson candidates in final reviews.")?;
    } else {
        for l in &proposed {
            writeln!(out, "proposed {}: {}", l.id, l.statement)?;
        }
    }
    Ok(())
}

/// Re-measures every lesson on `data` and records the evidence; what a mining run calls.
pub fn remeasure_and_record(
    store: &Store,
    data: &crate::patterns::dataset::Dataset,
    measured_at: Timestamp,
) -> Result<Vec<(Lesson, Evidence)>> {
    let lessons: Vec<Lesson> = store::lessons::all(store.conn())?
        .into_iter()
        .filter(|l| !l.patterns.is_empty())
        .collect();
    let evidence = measure::remeasure(data, &lessons, &Support::default(), measured_at);
    let tx = store.conn().unchecked_transaction()?;
    for e in &evidence {
        store::lessons::record_evidence(&tx, e)?;
    }
    tx.commit()?;
    Ok(lessons.into_iter().zip(evidence).collect())
}

#[derive(Serialize)]
struct AdviceJson<'a> {
    deal_id: &'a str,
    deal: Option<&'a str>,
    lesson_id: &'a str,
    lesson_version: i64,
    statement: &'a str,
    recommendation: &'a str,
    first_shown: bool,
}

/// Infers, from the history up to `now`, whether each recorded recommendation not yet settled
/// was followed, and records what it finds. Returns how many were settled.
pub fn settle_followed(
    store: &Store,
    frame: &crate::patterns::build::Frame<'_>,
    lessons: &[Lesson],
    now: i64,
) -> Result<usize> {
    let index = crate::advisor::advise::deal_index(frame.deals());
    let records = store::lessons::recommendations(store.conn())?;
    let tx = store.conn().unchecked_transaction()?;
    let mut settled = 0;
    for lesson in lessons {
        let open: Vec<(usize, &crate::domain::RecommendationRecord)> = records
            .iter()
            .filter(|r| r.lesson_id == lesson.id && r.followed.is_none())
            .filter_map(|r| Some((*index.get(r.deal_id.as_str())?, r)))
            .collect();
        if open.is_empty() {
            continue;
        }
        let inferred = crate::advisor::advise::infer_followed(frame, lesson, &open, now);
        for ((_, r), found) in open.iter().zip(inferred) {
            if let Some((followed, at)) = found {
                settled += usize::from(store::lessons::set_followed(
                    &tx,
                    &r.deal_id,
                    &r.lesson_id,
                    r.lesson_version,
                    followed,
                    crate::domain::FollowedSource::Inferred,
                    crate::domain::time::from_unix(at),
                )?);
            }
        }
    }
    tx.commit()?;
    Ok(settled)
}

fn advise_now(store: &Store, skills: &Skills, json: bool) -> Result<()> {
    let source = super::patterns::source(store, skills)?;
    let now = super::reference_now(store)?;
    let frame = crate::patterns::build::Frame::new(
        &source.deals,
        &source.pipelines,
        skills,
        &crate::patterns::build::BuildOptions::at(now.as_second()),
    );
    let lessons = store::lessons::all(store.conn())?;
    settle_followed(store, &frame, &lessons, now.as_second())?;
    let fired = crate::advisor::advise::advise(&frame, &lessons, now.as_second());
    // The names of the advised deals only (`fired` is sorted by deal).
    let mut advised: Vec<&crate::domain::DealId> = fired.iter().map(|f| &f.deal_id).collect();
    advised.dedup();
    let names: std::collections::HashMap<String, String> =
        store::deals::summaries(store.conn(), &advised)?
            .into_iter()
            .map(|d| (d.id.to_string(), crate::text::sanitize_line(&d.name)))
            .collect();
    let tx = store.conn().unchecked_transaction()?;
    let mut first_shown = Vec::with_capacity(fired.len());
    for f in &fired {
        let l = &lessons[f.lesson];
        first_shown.push(store::lessons::record_shown(
            &tx,
            &crate::domain::RecommendationRecord {
                deal_id: f.deal_id.clone(),
                lesson_id: l.id.clone(),
                lesson_version: l.version,
                text: l.recommendation.clone(),
                shown_at: now,
                followed: None,
                followed_source: None,
                followed_at: None,
            },
        )?);
    }
    tx.commit()?;
    // Buffered: there can be a recommendation for every open deal and lesson, and a locked
    // stdout writes each line on its own.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_advice(&mut out, &lessons, &fired, &first_shown, &names, now, json)?;
    out.flush()?;
    Ok(())
}

fn write_advice(
    out: &mut impl Write,
    lessons: &[Lesson],
    fired: &[crate::advisor::advise::Fired],
    first_shown: &[bool],
    names: &std::collections::HashMap<String, String>,
    now: Timestamp,
    json: bool,
) -> Result<()> {
    if json {
        let rows: Vec<AdviceJson<'_>> = fired
            .iter()
            .zip(first_shown)
            .map(|(f, &first)| {
                let l = &lessons[f.lesson];
                AdviceJson {
                    deal_id: f.deal_id.as_str(),
                    deal: names.get(f.deal_id.as_str()).map(String::as_str),
                    lesson_id: l.id.as_str(),
                    lesson_version: l.version,
                    statement: &l.statement,
                    recommendation: &l.recommendation,
                    first_shown: first,
                }
            })
            .collect();
        // A struct, not `json!`: that would first copy every row into a tree of values.
        #[derive(Serialize)]
        struct Advice<'a> {
            as_of: Timestamp,
            recommendations: Vec<AdviceJson<'a>>,
        }
        serde_json::to_writer_pretty(
            &mut *out,
            &Advice {
                as_of: now,
                recommendations: rows,
            },
        )?;
        writeln!(out)?;
        return Ok(());
    }
    if fired.is_empty() {
        let active = lessons
            .iter()
            .filter(|l| l.status == LessonStatus::Active)
            .count();
        writeln!(
            out,
            "No recommendation as of {}: {active} active lesson(s) fire on no open deal.",
            ymd(now)
        )?;
        return Ok(());
    }
    for (li, l) in lessons.iter().enumerate() {
        let deals: Vec<&crate::advisor::advise::Fired> =
            fired.iter().filter(|f| f.lesson == li).collect();
        if deals.is_empty() {
            continue;
        }
        writeln!(
            out,
            "{} — {} open deal(s) as of {}",
            l.recommendation,
            deals.len(),
            ymd(now)
        )?;
        writeln!(out, "  because: {}", l.statement)?;
        for f in deals {
            writeln!(
                out,
                "  {:<14} {}",
                f.deal_id,
                names.get(f.deal_id.as_str()).map_or("", String::as_str)
            )?;
        }
    }
    Ok(())
}

fn measure_now(store: &Store, skills: &Skills, json: bool) -> Result<()> {
    let data = super::patterns::dataset(store, skills)?;
    let measured = remeasure_and_record(store, &data, Timestamp::now())?;
    let mut out = std::io::stdout().lock();
    if json {
        let rows: Vec<&Evidence> = measured.iter().map(|(_, e)| e).collect();
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "evidence": rows }))?;
        writeln!(out)?;
        return Ok(());
    }
    if measured.is_empty() {
        writeln!(out, "No lesson rests on a pattern yet: nothing to measure.")?;
    }
    for (l, e) in &measured {
        writeln!(
            out,
            "{:<12} {:<20} {}",
            e.verdict.as_str(),
            effect_text(e),
            l.statement
        )?;
    }
    Ok(())
}

fn export(store: &Store, path: Option<&Path>) -> Result<()> {
    let lessons = store::lessons::all(store.conn())?;
    match path {
        None => {
            let text = library::write(&lessons)?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
        Some(dir) if dir.is_dir() => {
            for l in &lessons {
                let file = dir.join(format!("{}.toml", l.id));
                let text = library::write(std::slice::from_ref(l))?;
                std::fs::write(&file, text)
                    .wrap_err_with(|| format!("cannot write {}", file.display()))?;
            }
            eprintln!("wrote {} lesson(s) into {}", lessons.len(), dir.display());
        }
        Some(file) => {
            let text = library::write(&lessons)?;
            std::fs::write(file, text)
                .wrap_err_with(|| format!("cannot write {}", file.display()))?;
            eprintln!("wrote {} lesson(s) to {}", lessons.len(), file.display());
        }
    }
    // The library now holds these versions: the next import compares against them.
    let tx = store.conn().unchecked_transaction()?;
    for l in &lessons {
        store::lessons::set_library_base(&tx, &l.id, &library::content(l))?;
    }
    tx.commit()?;
    Ok(())
}

/// One lesson's line in an import report.
#[derive(Debug, Serialize)]
struct Imported {
    id: String,
    result: Merge,
    /// For a conflict: the fields that differ between the file and the cache.
    differs: Vec<&'static str>,
    file: PathBuf,
}

/// The `.toml` files to import: the file itself, or every one in the folder (sorted).
fn library_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .wrap_err_with(|| format!("cannot read the folder {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn import(store: &Store, path: &Path, json: bool) -> Result<()> {
    let mut incoming = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for file in library_files(path)? {
        let text = std::fs::read_to_string(&file)
            .wrap_err_with(|| format!("cannot read {}", file.display()))?;
        let parsed = library::parse(&text).map_err(|e| {
            eyre!(
                "{}: {e}; fix the file (it is TOML with [[lessons]] tables)",
                file.display()
            )
        })?;
        for l in parsed.lessons {
            if let Some(other) = seen.insert(l.id.to_string(), file.clone()) {
                return Err(eyre!(
                    "lesson {} is in both {} and {}; keep one",
                    l.id,
                    other.display(),
                    file.display()
                ));
            }
            incoming.push((file.clone(), l));
        }
    }
    let conn = store.conn();
    let tx = conn.unchecked_transaction()?;
    let mut report = Vec::new();
    for (file, l) in incoming {
        let local = store::lessons::get(&tx, &l.id)?;
        let base = store::lessons::library_base(&tx, &l.id)?;
        let result = library::merge(local.as_ref().map(|x| (x, base.as_deref())), &l);
        let content = library::content(&l);
        match result {
            Merge::Added | Merge::Updated => store::lessons::import(
                &tx,
                &l,
                &format!("imported from {}", file.display()),
                &content,
            )?,
            Merge::Unchanged => store::lessons::set_library_base(&tx, &l.id, &content)?,
            Merge::KeptLocal | Merge::Conflict => {}
        }
        let differs = match (&local, result) {
            (Some(local), Merge::Conflict) => library::differences(local, &l),
            _ => Vec::new(),
        };
        report.push(Imported {
            id: l.id.to_string(),
            result,
            differs,
            file,
        });
    }
    tx.commit()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "lessons": report }))?;
        writeln!(out)?;
        return Ok(());
    }
    let count = |m: Merge| report.iter().filter(|r| r.result == m).count();
    writeln!(
        out,
        "{} added, {} updated, {} unchanged, {} local edits kept, {} conflicts",
        count(Merge::Added),
        count(Merge::Updated),
        count(Merge::Unchanged),
        count(Merge::KeptLocal),
        count(Merge::Conflict)
    )?;
    for r in report.iter().filter(|r| r.result == Merge::Conflict) {
        writeln!(
            out,
            "conflict: lesson {} changed both in {} and here ({}); kept as it is here — \
             export it, reconcile the two, and import again",
            r.id,
            r.file.display(),
            r.differs.join(", ")
        )?;
    }
    Ok(())
}
