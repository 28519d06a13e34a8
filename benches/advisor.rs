//! The advisor on a 100,000-deal cache (issue 6): re-measuring 50 lessons and advising the
//! open deals (about 30,000 in the demo) as of now. Advising is timed from the cache — reading
//! every deal's facts, as the queue's at-risk marks and `dealtrace lessons advise` do — and
//! re-measuring on the dataset a mining run has just built (it runs at the end of one). The
//! first read of a cache computes every deal's facts and keeps them; it is timed apart.
//!
//! `cargo bench --bench advisor` (env: `BENCH_DEALS`, default 100000; `BENCH_RUNS`, default 5;
//! `BENCH_LESSONS`, default 50; `BENCH_DB` to reuse or keep a cache, else a fresh temp dir).

mod common;
use common::{env_usize, median};
use dealtrace::advisor::advise::advise;
use dealtrace::advisor::measure::remeasure;
use dealtrace::advisor::promote::lesson_from_pattern;
use dealtrace::cmd::patterns::{self, Request};
use dealtrace::domain::LessonStatus;
use dealtrace::domain::time::from_unix;
use dealtrace::patterns::build::{BuildOptions, Frame};
use dealtrace::patterns::mine::{self, Support};
use dealtrace::signals::Skills;
use dealtrace::store::Store;
use std::time::Instant;

fn main() {
    let deals = env_usize("BENCH_DEALS", 100_000);
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let wanted = env_usize("BENCH_LESSONS", 50);
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = common::demo_cache(deals, &dir.path().join("advisor.sqlite"));
    let store = Store::open(&db).expect("open the cache");
    let skills = Skills::builtin();

    let t = Instant::now();
    let source = patterns::source(&store, &skills).expect("read the cache");
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let data = patterns::build_dataset(&source, &skills);
    let build = t.elapsed().as_secs_f64();
    let run = mine::mine(&data, &patterns::options(&Request::default(), &skills));
    let now = source.cutoff;
    let lessons: Vec<_> = run
        .patterns
        .iter()
        .take(wanted)
        .enumerate()
        .map(|(i, p)| {
            let mut l = lesson_from_pattern(
                p,
                format!("bench-{i}").into(),
                None,
                &skills,
                None,
                from_unix(now),
            );
            l.status = LessonStatus::Active;
            l
        })
        .collect();
    let open = source
        .deals
        .iter()
        .filter(|d| {
            let closed = d.history.stages.iter().any(|c| {
                source
                    .pipelines
                    .iter()
                    .flat_map(|p| p.stages.iter())
                    .any(|s| s.is_closed && s.id == c.stage_id)
            });
            !closed
        })
        .count();
    println!(
        "{} deals ({open} open), {} lessons from the {} surfaced patterns, {runs} runs",
        source.deals.len(),
        lessons.len(),
        run.patterns.len()
    );
    let (mut read_s, mut measure_s, mut advise_s, mut total_s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut fired = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let evidence = remeasure(&data, &lessons, &Support::default(), from_unix(now));
        let t1 = Instant::now();
        let read = patterns::source(&store, &skills).expect("read the cache");
        let t2 = Instant::now();
        let frame = Frame::new(
            &read.deals,
            &read.pipelines,
            &skills,
            &BuildOptions::at(now),
        );
        let advice = advise(&frame, &lessons, now);
        let t3 = Instant::now();
        assert_eq!(evidence.len(), lessons.len());
        assert_eq!(read.deals.len(), source.deals.len());
        fired = advice.len();
        measure_s.push((t1 - t0).as_secs_f64());
        read_s.push((t2 - t1).as_secs_f64());
        advise_s.push((t3 - t2).as_secs_f64());
        total_s.push((t3 - t0).as_secs_f64());
    }
    println!(
        "re-measure {} lessons: {:.4} s median {measure_s:.4?}",
        lessons.len(),
        median(measure_s.clone())
    );
    println!(
        "read every deal's facts: {:.3} s median {read_s:.3?}",
        median(read_s.clone())
    );
    println!(
        "advise {open} open deals ({fired} recommendations): {:.3} s median {advise_s:.3?}",
        median(advise_s.clone())
    );
    let total = median(total_s.clone());
    println!(
        "re-measure + read + advise: {total:.3} s median {total_s:.3?}; goal < 1 s: {}",
        if total < 1.0 { "met" } else { "NOT met" }
    );
    println!(
        "(not in the figure: the first read of the cache, which computes and keeps every \
         deal's facts, {first:.2} s; the mining run's build of the dataset, {build:.2} s)"
    );
}
