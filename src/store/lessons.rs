//! The lesson library: lessons with their change history, their re-measured evidence, and the
//! recommendations the advisor showed.

use super::{Result, StoreError, in_savepoint, opt_secs, opt_ts, secs};
use crate::domain::time::from_unix;
use crate::domain::{
    DealId, Evidence, FollowedSource, Lesson, LessonId, LessonStatus, PatternRef,
    RecommendationRecord, Trigger, Verdict,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

fn invalid(what: &'static str, value: impl ToString) -> StoreError {
    StoreError::Invalid {
        what,
        value: value.to_string(),
    }
}

/// Inserts or updates a lesson, replacing its pattern references. No history row: see [`save`].
pub fn upsert(conn: &Connection, l: &Lesson) -> Result<()> {
    let tags = serde_json::to_string(&l.tags).map_err(|e| invalid("lesson tags", e))?;
    let trigger = serde_json::to_string(&l.trigger).map_err(|e| invalid("lesson trigger", e))?;
    conn.prepare_cached(
        "INSERT INTO lessons (id, statement, recommendation, condition, status, status_changed_by,
             status_changed_at, owner, tags_json, version, created_at, updated_at, trigger_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET statement = excluded.statement,
             recommendation = excluded.recommendation, condition = excluded.condition,
             status = excluded.status, status_changed_by = excluded.status_changed_by,
             status_changed_at = excluded.status_changed_at, owner = excluded.owner,
             tags_json = excluded.tags_json, version = excluded.version,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             trigger_json = excluded.trigger_json",
    )?
    .execute(params![
        l.id.as_str(),
        l.statement,
        l.recommendation,
        // Readable in a plain SQLite shell; the trigger itself is the JSON.
        l.trigger.condition.join(" & "),
        l.status.as_str(),
        l.status_changed_by,
        opt_secs(l.status_changed_at),
        l.owner,
        tags,
        l.version,
        secs(l.created_at),
        secs(l.updated_at),
        trigger,
    ])?;
    conn.prepare_cached("DELETE FROM lesson_patterns WHERE lesson_id = ?1")?
        .execute([l.id.as_str()])?;
    let mut pattern = conn.prepare_cached(
        "INSERT INTO lesson_patterns (lesson_id, seq, key, outcome, population, condition, kind,
             segment, unless_selector, effect, context)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (seq, p) in l.patterns.iter().enumerate() {
        let condition =
            serde_json::to_string(&p.condition).map_err(|e| invalid("pattern condition", e))?;
        pattern.execute(params![
            l.id.as_str(),
            seq as i64,
            p.key,
            p.outcome,
            p.population,
            condition,
            p.kind,
            p.segment,
            p.unless,
            p.effect,
            p.context,
        ])?;
    }
    Ok(())
}

/// Writes a lesson and its change-history row for `l.version` together (a savepoint, so it
/// nests in a caller's transaction): what
/// changed, by whom, when. A version already in the history is refused, so two edits can
/// never share a version number.
pub fn save(conn: &Connection, l: &Lesson, by: Option<&str>, what: &str) -> Result<()> {
    in_savepoint(conn, || save_in(conn, l, by, what))
}

fn save_in(tx: &Connection, l: &Lesson, by: Option<&str>, what: &str) -> Result<()> {
    let taken: Option<i64> = tx
        .prepare_cached("SELECT version FROM lesson_changes WHERE lesson_id = ?1 AND version = ?2")?
        .query_row(params![l.id.as_str(), l.version], |r| r.get(0))
        .optional()?;
    if taken.is_some() {
        return Err(invalid(
            "lesson version (already in its history)",
            format!("{} v{}", l.id, l.version),
        ));
    }
    upsert(tx, l)?;
    tx.prepare_cached(
        "INSERT INTO lesson_changes (lesson_id, version, at, by, what) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        l.id.as_str(),
        l.version,
        secs(l.updated_at),
        by,
        what
    ])?;
    Ok(())
}

/// Writes a lesson that came from a library file and records the file's text as its base,
/// together (a savepoint, so an import of many lessons can be one transaction). Its history gets the version's row unless it already has one (a lesson
/// that went out and came back unchanged keeps the row it had).
pub fn import(conn: &Connection, l: &Lesson, what: &str, base: &str) -> Result<()> {
    in_savepoint(conn, || import_in(conn, l, what, base))
}

fn import_in(tx: &Connection, l: &Lesson, what: &str, base: &str) -> Result<()> {
    upsert(tx, l)?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO lesson_changes (lesson_id, version, at, by, what)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        l.id.as_str(),
        l.version,
        secs(l.updated_at),
        l.status_changed_by,
        what
    ])?;
    set_library_base(tx, &l.id, base)?;
    Ok(())
}

/// One row of a lesson's change history.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The version this change made.
    pub version: i64,
    /// When.
    pub at: Timestamp,
    /// Who, when known.
    pub by: Option<String>,
    /// What changed, in words.
    pub what: String,
}

/// A lesson's change history, oldest first.
pub fn changes(conn: &Connection, id: &LessonId) -> Result<Vec<Change>> {
    Ok(conn
        .prepare_cached(
            "SELECT version, at, by, what FROM lesson_changes WHERE lesson_id = ?1
              ORDER BY version",
        )?
        .query_map([id.as_str()], |r| {
            Ok(Change {
                version: r.get(0)?,
                at: from_unix(r.get(1)?),
                by: r.get(2)?,
                what: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

type LessonRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    String,
);

const LESSON_COLUMNS: &str = "id, statement, recommendation, status, status_changed_by,
    status_changed_at, owner, tags_json, version, created_at, updated_at, trigger_json";

fn lesson_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LessonRow> {
    LessonRow::try_from(r)
}

fn patterns_of(conn: &Connection, id: &str) -> Result<Vec<PatternRef>> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        f64,
        String,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT key, outcome, population, condition, kind, segment, unless_selector, effect,
                    context
               FROM lesson_patterns WHERE lesson_id = ?1 ORDER BY seq",
        )?
        .query_map([id], |r| Row::try_from(r))?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(
            |(key, outcome, population, condition, kind, segment, unless, effect, context)| {
                let condition = serde_json::from_str(&condition)
                    .map_err(|_| invalid("pattern condition", &condition))?;
                Ok(PatternRef {
                    key,
                    kind,
                    outcome,
                    population,
                    context,
                    segment,
                    condition,
                    unless,
                    effect,
                })
            },
        )
        .collect()
}

fn to_lesson(conn: &Connection, row: LessonRow) -> Result<Lesson> {
    let (
        id,
        statement,
        recommendation,
        status,
        by,
        at,
        owner,
        tags,
        version,
        created,
        updated,
        trigger,
    ) = row;
    let status = LessonStatus::parse(&status).ok_or_else(|| invalid("lesson status", &status))?;
    let tags = serde_json::from_str(&tags).map_err(|_| invalid("lesson tags", &tags))?;
    let trigger: Trigger =
        serde_json::from_str(&trigger).map_err(|_| invalid("lesson trigger", &trigger))?;
    let patterns = patterns_of(conn, &id)?;
    Ok(Lesson {
        id: LessonId(id),
        statement,
        recommendation,
        trigger,
        patterns,
        status,
        status_changed_by: by,
        status_changed_at: opt_ts(at),
        owner,
        tags,
        version,
        created_at: from_unix(created),
        updated_at: from_unix(updated),
    })
}

/// Every lesson, oldest first.
pub fn all(conn: &Connection) -> Result<Vec<Lesson>> {
    let rows: Vec<LessonRow> = conn
        .prepare_cached(&format!(
            "SELECT {LESSON_COLUMNS} FROM lessons ORDER BY created_at, id"
        ))?
        .query_map([], lesson_row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|r| to_lesson(conn, r)).collect()
}

/// One lesson.
pub fn get(conn: &Connection, id: &LessonId) -> Result<Option<Lesson>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {LESSON_COLUMNS} FROM lessons WHERE id = ?1"
        ))?
        .query_row([id.as_str()], lesson_row)
        .optional()?;
    row.map(|r| to_lesson(conn, r)).transpose()
}

/// The lesson as it last left or entered a library file (JSON), if it ever did.
pub fn library_base(conn: &Connection, id: &LessonId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT library_base FROM lessons WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Records what the library file now holds for a lesson.
pub fn set_library_base(conn: &Connection, id: &LessonId, base: &str) -> Result<()> {
    conn.prepare_cached("UPDATE lessons SET library_base = ?2 WHERE id = ?1")?
        .execute(params![id.as_str(), base])?;
    Ok(())
}

/// Records one re-measurement.
pub fn record_evidence(conn: &Connection, e: &Evidence) -> Result<()> {
    // SQLite has no NaN: an effect that could not be measured is NULL.
    let finite = |x: f64| x.is_finite().then_some(x);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO lesson_evidence (lesson_id, measured_at, lesson_version, cutoff,
             effect, ci_low, ci_high, p, q, n_exposed, n_unexposed, events_exposed,
             events_unexposed, verdict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        e.lesson_id.as_str(),
        secs(e.measured_at),
        e.lesson_version,
        secs(e.cutoff),
        finite(e.effect),
        finite(e.ci_low),
        finite(e.ci_high),
        finite(e.p),
        finite(e.q),
        e.n_exposed as i64,
        e.n_unexposed as i64,
        e.events_exposed as i64,
        e.events_unexposed as i64,
        e.verdict.as_str(),
    ])?;
    Ok(())
}

/// A lesson's re-measurements, oldest first: its trend.
pub fn evidence(conn: &Connection, id: &LessonId) -> Result<Vec<Evidence>> {
    type Row = (
        i64,
        i64,
        i64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        i64,
        i64,
        i64,
        i64,
        String,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT measured_at, lesson_version, cutoff, effect, ci_low, ci_high, p, q,
                    n_exposed, n_unexposed, events_exposed, events_unexposed, verdict
               FROM lesson_evidence WHERE lesson_id = ?1 ORDER BY measured_at",
        )?
        .query_map([id.as_str()], |r| Row::try_from(r))?
        .collect::<rusqlite::Result<_>>()?;
    let nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let count = |x: i64| u64::try_from(x).unwrap_or(0);
    rows.into_iter()
        .map(
            |(at, version, cutoff, effect, lo, hi, p, q, n1, n0, a, c, verdict)| {
                Ok(Evidence {
                    lesson_id: id.clone(),
                    lesson_version: version,
                    measured_at: from_unix(at),
                    cutoff: from_unix(cutoff),
                    effect: nan(effect),
                    ci_low: nan(lo),
                    ci_high: nan(hi),
                    p: nan(p),
                    q: nan(q),
                    n_exposed: count(n1),
                    n_unexposed: count(n0),
                    events_exposed: count(a),
                    events_unexposed: count(c),
                    verdict: Verdict::parse(&verdict)
                        .ok_or_else(|| invalid("verdict", &verdict))?,
                })
            },
        )
        .collect()
}

/// Records that a recommendation was shown, once per deal and lesson version: returns false
/// (and changes nothing) when it already was.
pub fn record_shown(conn: &Connection, r: &RecommendationRecord) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO recommendations (deal_id, lesson_id, lesson_version, text,
                 shown_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            r.deal_id.as_str(),
            r.lesson_id.as_str(),
            r.lesson_version,
            r.text,
            secs(r.shown_at)
        ])?;
    Ok(n == 1)
}

/// Records whether a recommendation was followed. An inference never overrides what a person
/// marked; a mark overrides an inference.
pub fn set_followed(
    conn: &Connection,
    deal: &DealId,
    lesson: &LessonId,
    version: i64,
    followed: bool,
    source: FollowedSource,
    at: Timestamp,
) -> Result<bool> {
    let guard = match source {
        FollowedSource::Marked => "",
        FollowedSource::Inferred => {
            " AND (followed_source IS NULL OR followed_source = 'inferred')"
        }
    };
    let n = conn
        .prepare_cached(&format!(
            "UPDATE recommendations SET followed = ?4, followed_source = ?5, followed_at = ?6
              WHERE deal_id = ?1 AND lesson_id = ?2 AND lesson_version = ?3{guard}"
        ))?
        .execute(params![
            deal.as_str(),
            lesson.as_str(),
            version,
            followed,
            source.as_str(),
            secs(at)
        ])?;
    Ok(n == 1)
}

/// The recommendations shown for one deal, oldest first.
pub fn recommendations_for_deal(
    conn: &Connection,
    deal: &DealId,
) -> Result<Vec<RecommendationRecord>> {
    // The primary key leads with the deal: opening a deal reads only its own rows.
    read_recommendations(
        conn,
        "WHERE deal_id = ?1 ORDER BY shown_at, lesson_id, lesson_version",
        [deal.as_str()],
    )
}

/// Records what a review's decision traces say of the recommendations they carry: each trace
/// with a recommendation and a followed mark marks every recommendation of that lesson shown
/// for the deal up to the decision.
pub fn mark_from_traces(conn: &Connection, traces: &[crate::domain::DecisionTrace]) -> Result<()> {
    for t in traces {
        let (Some(rec), Some(followed)) = (&t.recommendation, t.followed) else {
            continue;
        };
        conn.prepare_cached(
            "UPDATE recommendations SET followed = ?3, followed_source = 'marked', followed_at = ?4
              WHERE deal_id = ?1 AND lesson_id = ?2 AND shown_at <= ?4",
        )?
        .execute(params![
            t.deal_id.as_str(),
            rec.lesson_id.as_str(),
            followed,
            secs(t.at)
        ])?;
    }
    Ok(())
}

/// Every recommendation recorded, by lesson then deal.
pub fn recommendations(conn: &Connection) -> Result<Vec<RecommendationRecord>> {
    read_recommendations(conn, "ORDER BY lesson_id, deal_id, lesson_version", [])
}

/// The recommendations `tail` (a `WHERE` and/or `ORDER BY`) selects.
fn read_recommendations(
    conn: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RecommendationRecord>> {
    type Row = (
        String,
        String,
        i64,
        String,
        i64,
        Option<bool>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(&format!(
            "SELECT deal_id, lesson_id, lesson_version, text, shown_at, followed,
                    followed_source, followed_at
               FROM recommendations {tail}"
        ))?
        .query_map(params, |r| Row::try_from(r))?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(
            |(deal, lesson, version, text, shown, followed, source, at)| {
                let followed_source = source
                    .map(|s| {
                        FollowedSource::parse(&s).ok_or_else(|| invalid("followed source", &s))
                    })
                    .transpose()?;
                Ok(RecommendationRecord {
                    deal_id: DealId(deal),
                    lesson_id: LessonId(lesson),
                    lesson_version: version,
                    text,
                    shown_at: from_unix(shown),
                    followed,
                    followed_source,
                    followed_at: opt_ts(at),
                })
            },
        )
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::store::Store;

    /// A lesson as a promotion writes it.
    pub(crate) fn lesson() -> Lesson {
        Lesson {
            id: "lesson-1".into(),
            statement: "Single-threaded deals slip more after Demo".into(),
            recommendation: "Get a second stakeholder into a call before Proposal".into(),
            trigger: Trigger {
                population: "reached:presentationscheduled".into(),
                segment: None,
                condition: vec!["single_threaded".into()],
                when_present: true,
                unless: None,
            },
            patterns: vec![PatternRef {
                key: "risk:reached:presentationscheduled:slipped:single_threaded".into(),
                kind: "risk".into(),
                outcome: "slipped".into(),
                population: "reached:presentationscheduled".into(),
                context: "after Demo".into(),
                segment: None,
                condition: vec!["single_threaded".into()],
                unless: None,
                effect: 2.4,
            }],
            status: LessonStatus::Active,
            status_changed_by: Some("revops".into()),
            status_changed_at: Some(from_unix(3 * DAY)),
            owner: Some("revops".into()),
            tags: vec!["threading".into(), "demo".into()],
            version: 2,
            created_at: from_unix(DAY),
            updated_at: from_unix(3 * DAY),
        }
    }

    #[test]
    fn lessons_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let mut lesson = lesson();
        upsert(store.conn(), &lesson).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![lesson.clone()]);
        assert_eq!(get(store.conn(), &lesson.id).unwrap(), Some(lesson.clone()));
        lesson.patterns.clear();
        lesson.status = LessonStatus::Retired;
        upsert(store.conn(), &lesson).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![lesson]);
        assert_eq!(get(store.conn(), &"nope".into()).unwrap(), None);
    }

    #[test]
    fn saves_keep_a_history_and_refuse_a_reused_version() {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        let mut l = lesson();
        l.version = 1;
        save(c, &l, Some("revops"), "promoted from a pattern").unwrap();
        l.version = 2;
        l.status = LessonStatus::Active;
        save(c, &l, Some("maya"), "status proposed → active").unwrap();
        let history = changes(c, &l.id).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].what, "status proposed → active");
        assert_eq!(history[1].by.as_deref(), Some("maya"));
        l.statement = "changed".into();
        assert!(save(c, &l, None, "reuses v2").is_err());
        assert_eq!(
            get(c, &l.id).unwrap().unwrap().statement,
            lesson().statement
        );
    }

    #[test]
    fn evidence_keeps_its_trend_and_unmeasurable_effects() {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        let l = lesson();
        upsert(c, &l).unwrap();
        let first = Evidence {
            lesson_id: l.id.clone(),
            lesson_version: 2,
            measured_at: from_unix(10 * DAY),
            cutoff: from_unix(9 * DAY),
            effect: 2.4,
            ci_low: 1.6,
            ci_high: 3.6,
            p: 0.001,
            q: 0.004,
            n_exposed: 40,
            n_unexposed: 120,
            events_exposed: 24,
            events_unexposed: 30,
            verdict: Verdict::Holds,
        };
        let later = Evidence {
            measured_at: from_unix(20 * DAY),
            effect: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            p: f64::NAN,
            q: f64::NAN,
            verdict: Verdict::Insufficient,
            ..first.clone()
        };
        record_evidence(c, &later).unwrap();
        record_evidence(c, &first).unwrap();
        let trend = evidence(c, &l.id).unwrap();
        assert_eq!(trend.len(), 2);
        assert_eq!(trend[0], first);
        assert!(trend[1].effect.is_nan());
        assert_eq!(trend[1].verdict, Verdict::Insufficient);
    }

    #[test]
    fn a_recommendation_is_recorded_once_and_a_mark_beats_an_inference() {
        let store = crate::store::deals::tests::seeded(2);
        let c = store.conn();
        let l = lesson();
        upsert(c, &l).unwrap();
        let r = RecommendationRecord {
            deal_id: "d1".into(),
            lesson_id: l.id.clone(),
            lesson_version: 2,
            text: l.recommendation.clone(),
            shown_at: from_unix(5 * DAY),
            followed: None,
            followed_source: None,
            followed_at: None,
        };
        assert!(record_shown(c, &r).unwrap());
        assert!(!record_shown(c, &r).unwrap(), "once per deal and version");
        let v3 = RecommendationRecord {
            lesson_version: 3,
            ..r.clone()
        };
        assert!(
            record_shown(c, &v3).unwrap(),
            "a new version is recorded again"
        );
        let (deal, id) = (&r.deal_id, &r.lesson_id);
        assert!(
            set_followed(
                c,
                deal,
                id,
                2,
                true,
                FollowedSource::Marked,
                from_unix(6 * DAY)
            )
            .unwrap()
        );
        assert!(
            !set_followed(
                c,
                deal,
                id,
                2,
                false,
                FollowedSource::Inferred,
                from_unix(7 * DAY)
            )
            .unwrap(),
            "an inference never overrides a mark"
        );
        // A review's trace that says the recommendation was not followed is the rep's mark.
        let mut trace = crate::domain::DecisionTrace::blank(
            "t1".into(),
            deal.clone(),
            from_unix(8 * DAY),
            "Sam".into(),
            from_unix(8 * DAY),
        );
        trace.recommendation = Some(crate::domain::Recommendation {
            lesson_id: id.clone(),
            text: l.recommendation.clone(),
        });
        trace.followed = Some(false);
        mark_from_traces(c, &[trace]).unwrap();
        let marked = recommendations_for_deal(c, deal).unwrap();
        assert!(marked.iter().all(
            |r| r.followed == Some(false) && r.followed_source == Some(FollowedSource::Marked)
        ));
        set_followed(
            c,
            deal,
            id,
            2,
            true,
            FollowedSource::Marked,
            from_unix(6 * DAY),
        )
        .unwrap();
        let all = recommendations(c).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].followed, Some(true));
        assert_eq!(all[0].followed_source, Some(FollowedSource::Marked));
        assert_eq!(
            all[1].followed,
            Some(false),
            "the trace marked every version shown before the decision"
        );
    }
}
