//! The UI on a 100,000-deal cache: time to the first frame, time to the first full frame (the
//! queue drawn from the loaded cache), update + draw per keystroke over a scripted session, and
//! peak resident memory.
//!
//! `cargo bench --bench tui` (env: `BENCH_DEALS`, default 100000; `BENCH_RUNS`, default 5;
//! `BENCH_DB` to reuse a cache). The cache is a demo history written once per cache path.

mod common;
use common::{env_usize, median};
use dealtrace::config::Config;
use dealtrace::demo::DemoSpec;
use dealtrace::store::Store;
use dealtrace::tui::action::Action;
use dealtrace::tui::app::App;
use dealtrace::tui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

fn cache(deals: usize) -> PathBuf {
    common::demo_cache(
        deals,
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-tui-{deals}.sqlite")),
    )
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal
        .draw(|f| views::draw(f, app))
        .expect("draw to the test backend");
}

/// Times from start: the first frame (open and check the cache, build the state, draw), the
/// queue on screen (the load's first step, drawn), every deal loaded (the second step, drawn).
struct Start {
    first: Duration,
    queue: Duration,
    pipeline: Duration,
}

/// What the binary does, step by step, as the event loop runs it.
fn start(db: &Path, config: &Config) -> (Start, App, Terminal<TestBackend>) {
    let t0 = Instant::now();
    drop(Store::open(db).expect("open"));
    let (mut app, _) = App::new("bench.sqlite".into(), WIDTH, HEIGHT, true);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    draw(&mut terminal, &app);
    let first = t0.elapsed();
    let queue = dealtrace::tui::load::queue(db, config, 0).expect("load the queue");
    app.update(Action::DealsLoaded(Ok(queue.list.clone())));
    draw(&mut terminal, &app);
    let queue_at = t0.elapsed();
    let all = dealtrace::tui::load::everything(db, queue).expect("load every deal");
    app.update(Action::DealsLoaded(Ok(all)));
    draw(&mut terminal, &app);
    let times = Start {
        first,
        queue: queue_at,
        pipeline: t0.elapsed(),
    };
    (times, app, terminal)
}

/// A review session's keys: moving, paging, searching, filtering, sorting, both lists.
fn script() -> Vec<Action> {
    let mut keys = Vec::new();
    keys.extend(std::iter::repeat_n(Action::Down, 60));
    keys.extend([Action::Bottom, Action::Top, Action::ShowPipeline]);
    keys.extend(std::iter::repeat_n(Action::PageDown, 40));
    keys.extend(std::iter::repeat_n(Action::Down, 60));
    keys.push(Action::StartSearch);
    for c in "harbor labs".chars() {
        keys.push(Action::SearchInput(c));
    }
    keys.extend(std::iter::repeat_n(Action::SearchBackspace, 11));
    for c in "acme".chars() {
        keys.push(Action::SearchInput(c));
    }
    keys.push(Action::SearchCancel);
    for _ in 0..7 {
        keys.push(Action::CycleSort);
        keys.extend(std::iter::repeat_n(Action::Down, 5));
    }
    keys.extend([Action::ReverseSort, Action::CycleOwner, Action::CycleOwner]);
    keys.extend([Action::CycleTeam, Action::CycleBadge, Action::ClearFilters]);
    keys.extend([Action::ShowQueue, Action::Help, Action::CloseHelp]);
    keys.extend(std::iter::repeat_n(Action::Down, 40));
    keys.extend(std::iter::repeat_n(Action::PageUp, 10));
    keys
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Where loading spends its time, once (for finding the next lever, not a figure to report).
fn phases(db: &Path) {
    use dealtrace::store;
    let store = Store::open(db).expect("open");
    let conn = store.conn();
    let t = Instant::now();
    let deals = store::deals::list(conn, &Default::default()).expect("list");
    let list = t.elapsed();
    let t = Instant::now();
    let facts = store::queue::facts(conn, 7).expect("facts");
    let facts_time = t.elapsed();
    let t = Instant::now();
    let _norms = store::queue::stage_stays(conn, 0.75).expect("norms");
    let norms = t.elapsed();
    let t = Instant::now();
    let n = deals.len();
    let rows = dealtrace::tui::rows::Rows::build(deals, Vec::new(), jiff::Timestamp::UNIX_EPOCH);
    let build = t.elapsed();
    println!(
        "phases: list {:.0} ms, queue facts {:.0} ms ({} deals), stage norms {:.0} ms, rows {:.0} ms ({n})",
        ms(list),
        ms(facts_time),
        facts.len(),
        ms(norms),
        ms(build)
    );
    drop(rows);
    // The queue step's parts.
    let t = Instant::now();
    let norms = store::queue::stage_stays(conn, 0.75).expect("norms");
    let as_of = DemoSpec::default_as_of();
    let ids: Vec<&dealtrace::domain::DealId> = facts
        .iter()
        .filter(|f| !dealtrace::domain::queue::badges(f, &norms, as_of, 7).is_empty())
        .map(|f| &f.deal)
        .collect();
    let badges_time = t.elapsed();
    let t = Instant::now();
    let queued = store::deals::summaries(conn, &ids).expect("summaries");
    let summaries = t.elapsed();
    let t = Instant::now();
    let n = queued.len();
    let rows = dealtrace::tui::rows::Rows::build(queued, Vec::new(), as_of);
    let build = t.elapsed();
    drop(rows);
    println!(
        "queue step: norms + badges {:.0} ms, summaries of {n} {:.0} ms, rows {:.0} ms",
        ms(badges_time),
        ms(summaries),
        ms(build)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let deals = env_usize("BENCH_DEALS", 100_000);
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let db = cache(deals);
    let config = Config::default();
    phases(&db);
    let (mut firsts, mut queues, mut fulls, mut p50s, mut p99s, mut maxes) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut queue_len = 0;
    let mut keys = 0;
    for run in 0..runs {
        let (start_times, mut app, mut terminal) = start(&db, &config);
        queue_len = app.queue.rows.len();
        let mut times = Vec::new();
        for action in script() {
            let t = Instant::now();
            let _ = app.update(action);
            draw(&mut terminal, &app);
            times.push(t.elapsed());
        }
        keys = times.len();
        times.sort_unstable();
        let (p50, p99, max) = (
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1],
        );
        println!(
            "run {run}: first frame {:.1} ms, queue on screen {:.1} ms, every deal {:.1} ms, keystroke p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
            ms(start_times.first),
            ms(start_times.queue),
            ms(start_times.pipeline),
            ms(p50),
            ms(p99),
            ms(max)
        );
        firsts.push(ms(start_times.first));
        queues.push(ms(start_times.queue));
        fulls.push(ms(start_times.pipeline));
        p50s.push(ms(p50));
        p99s.push(ms(p99));
        maxes.push(ms(max));
    }
    println!(
        "{deals} deals ({queue_len} in the queue), {runs} runs, {keys} keys per run, {WIDTH}x{HEIGHT}"
    );
    println!(
        "median: first frame {:.1} ms (goal < 150), queue on screen {:.1} ms, every deal {:.1} ms, keystroke p50 {:.2} ms, p99 {:.2} ms (goal < 16), max {:.2} ms",
        median(firsts),
        median(queues),
        median(fulls),
        median(p50s),
        median(p99s),
        median(maxes)
    );
    println!("peak resident memory {:.0} MB (goal < 200)", peak_rss_mb());
}
