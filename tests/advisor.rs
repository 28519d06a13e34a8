//! The advisor on a demo history: the planted single-threaded pattern promoted to a lesson
//! fires on exactly the open single-threaded deals past Demo as of now, never reads a fact
//! dated after now, infers whether its recommendations were followed, and re-measures.

use dealtrace::advisor::advise::{advise, fires, infer_followed, live_followups, replay};
use dealtrace::advisor::follow::follow_table;
use dealtrace::advisor::measure::remeasure;
use dealtrace::advisor::promote::lesson_from_pattern;
use dealtrace::cmd::patterns::{self as patterns_cmd, Request, Source};
use dealtrace::demo::{DemoSpec, write_demo};
use dealtrace::domain::time::{DAY, from_unix};
use dealtrace::domain::{Lesson, LessonStatus, RecommendationRecord, Verdict};
use dealtrace::patterns::build::{BuildOptions, Frame};
use dealtrace::patterns::mine::{self, Support};
use dealtrace::signals::Skills;
use dealtrace::signals::asof::{SignalParams, signals_at};
use dealtrace::signals::facts::{ActivityFact, ContactFact};
use dealtrace::store::Store;
use std::sync::OnceLock;

const PLANTED: &str = "risk:reached:presentationscheduled:slipped:single_threaded";
const DEMO_STAGE: &str = "presentationscheduled";

/// The demo history (600 deals, seed 42) read as the miner reads it.
fn source() -> &'static Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("demo.sqlite")).unwrap();
        let spec = DemoSpec {
            deals: 600,
            seed: 42,
            as_of: DemoSpec::default_as_of(),
        };
        write_demo(&mut store, &spec).unwrap();
        patterns_cmd::source(&store, &Skills::builtin()).unwrap()
    })
}

/// The planted pattern as an active lesson.
fn lesson() -> Lesson {
    let skills = Skills::builtin();
    let src = source();
    let data = patterns_cmd::build_dataset(src, &skills);
    let run = mine::mine(&data, &patterns_cmd::options(&Request::default(), &skills));
    let p = run
        .patterns
        .iter()
        .find(|p| p.key == PLANTED)
        .expect("the demo surfaces its planted pattern");
    let mut l = lesson_from_pattern(
        p,
        "l1".into(),
        None,
        &skills,
        Some("revops"),
        from_unix(src.cutoff),
    );
    l.status = LessonStatus::Active;
    l
}

fn frame<'a>(src: &'a Source, skills: &'a Skills) -> Frame<'a> {
    Frame::new(
        &src.deals,
        &src.pipelines,
        skills,
        &BuildOptions::at(src.cutoff),
    )
}

fn is_closed_by(src: &Source, i: usize, t: i64) -> bool {
    let closed: Vec<&str> = src
        .pipelines
        .iter()
        .flat_map(|p| p.stages.iter())
        .filter(|s| s.is_closed)
        .map(|s| s.id.as_str())
        .collect();
    src.deals[i]
        .history
        .stages
        .iter()
        .any(|c| closed.contains(&c.stage_id.as_str()) && c.at.as_second() <= t)
}

#[test]
fn the_lesson_fires_on_exactly_the_open_single_threaded_deals_past_demo() {
    let src = source();
    let skills = Skills::builtin();
    let l = lesson();
    assert!(
        l.trigger.when_present,
        "single-threading is a risk: fire when present"
    );
    let now = src.cutoff;
    let fired: Vec<String> = advise(&frame(src, &skills), std::slice::from_ref(&l), now)
        .into_iter()
        .map(|f| f.deal_id.to_string())
        .collect();
    // The same set computed directly from each deal's facts as of now.
    let params = SignalParams {
        live: Vec::new(),
        slip_min_days: 7,
    };
    let stage = DEMO_STAGE.into();
    let mut expected: Vec<String> = src
        .deals
        .iter()
        .enumerate()
        .filter(|(i, d)| d.created_at <= now && !is_closed_by(src, *i, now))
        .filter_map(|(_, d)| {
            let entered = d.history.first_entered(&stage)?.as_second();
            (entered <= now && signals_at(d, now, entered, &params).single_threaded)
                .then(|| d.id.clone())
        })
        .collect();
    expected.sort();
    assert!(
        !expected.is_empty(),
        "the demo has open single-threaded deals past Demo"
    );
    assert_eq!(fired, expected);
    // A proposed or retired lesson advises nobody.
    for status in [LessonStatus::Proposed, LessonStatus::Retired] {
        let quiet = Lesson {
            status,
            ..l.clone()
        };
        assert!(advise(&frame(src, &skills), &[quiet], now).is_empty());
    }
}

#[test]
fn the_advisor_never_reads_a_fact_dated_after_now() {
    let src = source();
    let skills = Skills::builtin();
    let l = lesson();
    let now = src.cutoff;
    let before = advise(&frame(src, &skills), std::slice::from_ref(&l), now);
    let target = before[0].deal_id.to_string();
    let i = src.deals.iter().position(|d| d.id == target).unwrap();
    let mut deals = src.deals.clone();
    let second_contact = deals[i].contacts.len() as u32;
    deals[i].contacts.push(ContactFact { personas: 0 });
    let call = |at: i64| ActivityFact {
        at,
        two_way: true,
        contacts: [second_contact, 0][..].into(),
        phrases: 0,
    };
    // A call with a second stakeholder tomorrow changes nothing today.
    deals[i].activities.push(call(now + DAY));
    let later = Source {
        deals: deals.clone(),
        pipelines: src.pipelines.clone(),
        cutoff: src.cutoff,
    };
    assert_eq!(
        advise(&frame(&later, &skills), std::slice::from_ref(&l), now),
        before
    );
    // The same call yesterday: the deal is no longer single-threaded, and the lesson is quiet
    // on it (the recommendation was followed).
    deals[i].activities.pop();
    deals[i].activities.push(call(now - DAY));
    deals[i].activities.sort_by_key(|a| a.at);
    let followed = Source {
        deals,
        pipelines: src.pipelines.clone(),
        cutoff: src.cutoff,
    };
    let after = advise(&frame(&followed, &skills), std::slice::from_ref(&l), now);
    assert!(!after.iter().any(|f| f.deal_id.as_str() == target));
    assert_eq!(after.len(), before.len() - 1);
    // Inferred from the history: shown a week ago, followed since.
    let record = RecommendationRecord {
        deal_id: target.as_str().into(),
        lesson_id: l.id.clone(),
        lesson_version: l.version,
        text: l.recommendation.clone(),
        shown_at: from_unix(now - 7 * DAY),
        followed: None,
        followed_source: None,
        followed_at: None,
    };
    let f = frame(&followed, &skills);
    assert_eq!(
        infer_followed(&f, &l, &[(i, &record)], now),
        vec![Some((true, now))]
    );
    let unchanged = frame(src, &skills);
    assert_eq!(
        infer_followed(&unchanged, &l, &[(i, &record)], now),
        vec![None],
        "still single-threaded and open: not known yet"
    );
}

#[test]
fn closed_deals_settle_whether_the_recommendation_was_followed() {
    let src = source();
    let skills = Skills::builtin();
    let l = lesson();
    let f = frame(src, &skills);
    // Deals of the population that closed: shown at their Demo entry.
    let stage = DEMO_STAGE.into();
    let closed: Vec<(usize, RecommendationRecord)> = src
        .deals
        .iter()
        .enumerate()
        .filter(|(i, _)| is_closed_by(src, *i, src.cutoff))
        .filter_map(|(i, d)| {
            let entered = d.history.first_entered(&stage)?;
            Some((
                i,
                RecommendationRecord {
                    deal_id: d.id.as_str().into(),
                    lesson_id: l.id.clone(),
                    lesson_version: 1,
                    text: String::new(),
                    shown_at: entered,
                    followed: None,
                    followed_source: None,
                    followed_at: None,
                },
            ))
        })
        .take(60)
        .collect();
    let refs: Vec<(usize, &RecommendationRecord)> = closed.iter().map(|(i, r)| (*i, r)).collect();
    let inferred = infer_followed(&f, &l, &refs, src.cutoff);
    assert!(
        inferred.iter().all(Option::is_some),
        "a closed deal always settles"
    );
    let params = SignalParams {
        live: Vec::new(),
        slip_min_days: 7,
    };
    for ((i, r), got) in closed.iter().zip(&inferred) {
        let d = &src.deals[*i];
        let (followed, at) = got.unwrap();
        let entered = d.history.first_entered(&stage).unwrap().as_second();
        let still = signals_at(d, at, entered, &params).single_threaded;
        assert_eq!(followed, !still, "deal {} at {}", d.id, r.shown_at);
        assert!(at <= src.cutoff);
    }
    // Their outcomes in the window after each was shown give the followed/not table.
    let mut records = closed.clone();
    for ((_, r), got) in records.iter_mut().zip(&inferred) {
        r.followed = got.map(|g| g.0);
    }
    let refs: Vec<(usize, &RecommendationRecord)> = records.iter().map(|(i, r)| (*i, r)).collect();
    let table = follow_table(live_followups(&f, &l, &refs));
    assert_eq!(table.total, refs.len() as u64);
    assert!(table.n_followed + table.n_not_followed > 0);
}

#[test]
fn the_replay_compares_deals_that_changed_course_with_those_that_did_not() {
    let src = source();
    let skills = Skills::builtin();
    let l = lesson();
    let data = patterns_cmd::build_dataset(src, &skills);
    let pop = data
        .populations
        .iter()
        .find(|p| p.key == l.trigger.population)
        .unwrap();
    let f = frame(src, &skills);
    let items = replay(&f, &l, pop);
    let fired = fires(pop, &l.trigger).count_ones(..);
    assert!(!items.is_empty() && items.len() <= fired);
    let table = follow_table(items);
    assert!(
        table.n_followed > 0 && table.n_not_followed > 0,
        "{table:?}"
    );
    assert_eq!(
        table.n_followed + table.n_not_followed + table.pending,
        table.total
    );
    // The demo plants the risk at Demo entry; threading a deal later is not planted to help,
    // and the replay must not invent that it does.
    let (lo, hi) = (table.ci_low.unwrap(), table.ci_high.unwrap());
    assert!(lo < 1.0 && 1.0 < hi, "{table:?}");
}

#[test]
fn re_measurement_on_the_same_data_gives_the_patterns_figures() {
    let src = source();
    let skills = Skills::builtin();
    let data = patterns_cmd::build_dataset(src, &skills);
    let run = mine::mine(&data, &patterns_cmd::options(&Request::default(), &skills));
    let p = run.patterns.iter().find(|p| p.key == PLANTED).unwrap();
    let l = lesson();
    let e = remeasure(
        &data,
        std::slice::from_ref(&l),
        &Support::default(),
        from_unix(0),
    );
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!(e.verdict, Verdict::Holds);
    assert_eq!(
        (
            e.n_exposed,
            e.events_exposed,
            e.n_unexposed,
            e.events_unexposed
        ),
        (
            p.n_exposed,
            p.events_exposed,
            p.n_unexposed,
            p.events_unexposed
        )
    );
    assert!((e.effect - p.effect).abs() < 1e-12);
    assert!((e.ci_low - p.ci_low).abs() < 1e-12);
    assert!((e.p - p.p).abs() <= 1e-12 * p.p.max(1e-300));
}

/// Units of one period: `n` exposed with `a` events, `n` unexposed with `c` events.
fn period(n: usize, a: usize, c: usize) -> Vec<(bool, bool)> {
    (0..n)
        .map(|i| (true, i < a))
        .chain((0..n).map(|i| (false, i < c)))
        .collect()
}

/// The population "reached:demo" over `units` (exposed, slipped), every one eligible.
fn population_of(units: &[(bool, bool)]) -> dealtrace::patterns::dataset::Population {
    use dealtrace::patterns::cover::Cover;
    use dealtrace::patterns::dataset::{Outcome, Phrase, Population, Selector};
    let n = units.len();
    let cover = |f: &dyn Fn(&(bool, bool)) -> bool| {
        let mut c = Cover::with_capacity(n);
        c.extend(
            units
                .iter()
                .enumerate()
                .filter(|(_, u)| f(u))
                .map(|(i, _)| i),
        );
        c
    };
    let mut eligible = Cover::with_capacity(n);
    eligible.insert_range(..);
    Population {
        key: "reached:demo".into(),
        stage: "demo".into(),
        context: "after Demo".into(),
        landmark_days: 0,
        deal_ids: (0..n).map(|i| format!("d{i}")).collect(),
        index_times: (0..n as i64).collect(),
        eligible,
        exclusions: Default::default(),
        selectors: vec![Selector {
            name: "single_threaded".into(),
            attribute: "single_threaded".into(),
            phrase: Phrase::Adjective("single-threaded".into()),
            cover: cover(&|u| u.0),
        }],
        moderators: vec![],
        segments: vec![],
        outcomes: vec![Outcome {
            name: "slipped".into(),
            cover: cover(&|u| u.1),
        }],
        follow: None,
        confounders: vec![],
        owners: vec![u32::MAX; n],
        accounts: vec![u32::MAX; n],
    }
}

#[test]
fn an_effect_that_fades_is_flagged_weakened_then_reversed_and_its_trend_is_kept() {
    use dealtrace::patterns::dataset::Dataset;
    let mut l = lesson();
    l.trigger.population = "reached:demo".into();
    l.patterns[0].population = "reached:demo".into();
    l.patterns[0].effect = 2.5;
    // Single-threaded deals slip 2.5x as often at first; then threading stops mattering and
    // later the other way round.
    let mut history = period(200, 100, 40);
    let mut verdicts = Vec::new();
    let store = Store::open_in_memory().unwrap();
    dealtrace::store::lessons::upsert(store.conn(), &l).unwrap();
    for (step, more) in [vec![], period(400, 60, 120), period(600, 60, 120)]
        .into_iter()
        .enumerate()
    {
        history.extend(more);
        let data = Dataset {
            populations: vec![population_of(&history)],
            cutoff: (step as i64 + 1) * 90 * DAY,
            window_days: 90,
        };
        let e = remeasure(
            &data,
            std::slice::from_ref(&l),
            &Support::default(),
            from_unix((step as i64 + 1) * 91 * DAY),
        );
        dealtrace::store::lessons::record_evidence(store.conn(), &e[0]).unwrap();
        verdicts.push(e[0].verdict);
    }
    assert_eq!(
        verdicts,
        [Verdict::Holds, Verdict::Weakened, Verdict::Reversed]
    );
    let trend = dealtrace::store::lessons::evidence(store.conn(), &l.id).unwrap();
    assert_eq!(
        trend.iter().map(|e| e.verdict).collect::<Vec<_>>(),
        verdicts,
        "every measurement is kept, oldest first"
    );
    assert!((trend[0].effect - 2.5).abs() < 1e-12);
    assert!(trend[2].ci_high < 1.0);
    // Too few deals: insufficient, never a verdict on noise.
    let tiny = Dataset {
        populations: vec![population_of(&period(10, 5, 2))],
        cutoff: 0,
        window_days: 90,
    };
    let e = remeasure(&tiny, &[l], &Support::default(), from_unix(0));
    assert_eq!(e[0].verdict, Verdict::Insufficient);
    assert!(e[0].effect.is_nan());
}
