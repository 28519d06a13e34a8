//! The only part of the UI that touches the terminal, the clock and the cache.

use super::action::{Action, Command, SaveKind};
use super::app::{App, Settings};
use super::keys::actions_for;
use super::load;
use super::views;
use crate::config::{Config, UiConfig};
use crate::domain::{DealId, DecisionTrace, Review};
use crate::store::{self, Store};
use color_eyre::eyre::{Result, WrapErr, eyre};
use futures_util::StreamExt;
use jiff::Timestamp;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use ratatui::crossterm::execute;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Set by the end-to-end test to prove the terminal is restored when the UI panics.
const PANIC_FOR_TEST: &str = "DEALTRACE_TEST_PANIC";

/// Takes over the terminal, runs the UI until the user quits, and restores the terminal — also
/// when the loop fails or panics (ratatui's panic hook restores before the report prints).
pub async fn run(db: PathBuf, config: Config, review: Option<DealId>) -> Result<()> {
    let ui = config.ui.clone();
    let mut terminal = ratatui::init();
    if ui.mouse {
        install_mouse_restore_hook();
        // Mouse support is a nicety: a terminal that refuses it still gets the UI.
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    let result = main_loop(&mut terminal, db, &config, review).await;
    if ui.mouse {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
    }
    ratatui::restore();
    result
}

/// Mouse capture is not part of what ratatui's own hook restores.
fn install_mouse_restore_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        previous(info);
    }));
}

async fn main_loop(
    terminal: &mut DefaultTerminal,
    db: PathBuf,
    config: &Config,
    review: Option<DealId>,
) -> Result<()> {
    let ui: &UiConfig = &config.ui;
    let size = terminal.size().wrap_err("cannot read the terminal size")?;
    let color = ui.use_color(std::env::var("NO_COLOR").ok().as_deref());
    let label = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| db.display().to_string());
    let (mut app, mut commands) = App::new(label, size.width, size.height, color);
    // The clock before the first tick: reviews and marks are stamped with it.
    app.update(Action::Tick(Timestamp::now()));
    app.settings = Settings {
        reviewer: config.reviewer_name(),
        slip_min_days: config.review.slip_min_days,
    };
    // The deal view names stakeholders' personas with the same skills mining uses.
    match crate::signals::Skills::from_config(config) {
        Ok(skills) => app.skills = skills,
        Err(e) => app.notice = Some(format!("{e}; the built-in skills are used")),
    }
    if let Some(id) = review {
        commands.extend(app.open_review(id));
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let saver = Saver::start(
        db.clone(),
        app.settings.reviewer.clone(),
        config.crm.write_back,
        tx.clone(),
    );
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(ui.tick_ms.max(50)));
    let panic_for_test = std::env::var_os(PANIC_FOR_TEST).is_some();

    let outcome = loop {
        let mut quit = false;
        for command in commands.drain(..) {
            match command {
                Command::Quit => quit = true,
                Command::LoadDeals {
                    generation,
                    queue_first,
                } => spawn_load(
                    db.clone(),
                    config.clone(),
                    generation,
                    queue_first,
                    tx.clone(),
                ),
                Command::LoadDeal(id) => spawn_detail(db.clone(), id, tx.clone()),
                Command::LoadReview(id) => spawn_review_source(db.clone(), id, tx.clone()),
                Command::SaveDraft(job) => saver.send(SaveJob::Draft(job)),
                Command::SaveFinal(job) => saver.send(SaveJob::Final(job)),
                Command::MarkReviewed(id) => saver.send(SaveJob::Mark(id, app.now())),
                Command::Sync => spawn_sync(db.clone(), config.clone(), tx.clone()),
                Command::Advise => spawn_advice(db.clone(), config.clone(), tx.clone()),
                Command::RecordShown(records) => {
                    spawn_record_shown(db.clone(), records, tx.clone())
                }
                Command::LoadLessons { generation } => {
                    spawn_lessons(db.clone(), config.clone(), generation, tx.clone())
                }
                Command::Promote(pattern) => spawn_lesson_write(
                    db.clone(),
                    config.clone(),
                    LessonWrite::Promote(pattern),
                    tx.clone(),
                ),
                Command::SetLessonStatus { id, status } => spawn_lesson_write(
                    db.clone(),
                    config.clone(),
                    LessonWrite::Status(id, status),
                    tx.clone(),
                ),
                Command::Mine { generation } => {
                    spawn_mine(db.clone(), config.clone(), generation, tx.clone())
                }
                Command::PostNotes if config.crm.write_back => {
                    spawn_post_notes(db.clone(), config.clone(), tx.clone())
                }
                Command::PostNotes => {}
            }
        }
        if quit {
            break Ok(());
        }
        if let Err(e) = terminal.draw(|frame| views::draw(frame, &app)) {
            break Err(e).wrap_err("cannot draw to the terminal");
        }
        if panic_for_test {
            panic!("panic requested by {PANIC_FOR_TEST}");
        }
        let mode = app.mode();
        let actions = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => actions_for(&event, mode),
                Some(Err(e)) => break Err(e).wrap_err("cannot read from the terminal"),
                None => vec![Action::Quit],
            },
            Some(action) = rx.recv() => vec![action],
            _ = tick.tick() => vec![Action::Tick(Timestamp::now())],
        };
        for action in actions {
            commands.extend(app.update(action));
        }
    };
    // Every save asked for reaches the cache before the UI exits.
    saver.finish();
    outcome
}

/// One write for the saver thread.
enum SaveJob {
    Draft(Box<(Review, Vec<DecisionTrace>)>),
    Final(Box<(Review, Vec<DecisionTrace>)>),
    Mark(DealId, Timestamp),
}

impl SaveJob {
    fn kind(&self) -> SaveKind {
        match self {
            SaveJob::Draft(_) | SaveJob::Mark(..) => SaveKind::Draft,
            SaveJob::Final(job) => SaveKind::Final(job.0.deal_id.clone()),
        }
    }
}

/// Writes drafts, final reviews and marks on one thread with its own connection, in the order
/// they were asked for: a later keystroke's draft can never be overwritten by an earlier one,
/// and the draw loop never waits on SQLite.
struct Saver {
    jobs: std_mpsc::Sender<SaveJob>,
    thread: std::thread::JoinHandle<()>,
}

impl Saver {
    fn start(
        db: PathBuf,
        reviewer: String,
        write_back: bool,
        tx: mpsc::UnboundedSender<Action>,
    ) -> Saver {
        let (jobs, rx) = std_mpsc::channel::<SaveJob>();
        let thread = std::thread::spawn(move || {
            // Read once: a final save with write-back composes its note with it.
            let write_back = write_back.then(crate::domain::Taxonomy::builtin);
            let mut store = None;
            for job in rx {
                if store.is_none() {
                    store = Store::open(&db).ok();
                }
                let Some(store) = store.as_ref() else {
                    let why = format!(
                        "cannot open the cache at {} to save; what you typed is still on screen",
                        db.display()
                    );
                    let _ = tx.send(match job {
                        SaveJob::Mark(..) => Action::Marked(Err(why)),
                        job => Action::Saved {
                            kind: job.kind(),
                            result: Err(why),
                        },
                    });
                    continue;
                };
                let action = run_job(store, &reviewer, write_back.as_ref(), job);
                // The receiver is gone only when the UI has quit; the write is done anyway.
                let _ = tx.send(action);
            }
        });
        Saver { jobs, thread }
    }

    fn send(&self, job: SaveJob) {
        // The thread only ends when `jobs` is dropped, in `finish`.
        let _ = self.jobs.send(job);
    }

    fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
    }
}

/// A draft of a review never signed off is its live rows; an amendment of a final review (a
/// revision above 0) is kept beside it until it is signed off in turn.
fn save_draft(
    conn: &rusqlite::Connection,
    review: &Review,
    traces: &[DecisionTrace],
) -> std::result::Result<(), store::StoreError> {
    if review.revision > 0 {
        store::reviews::save_amendment(conn, review, traces, review.updated_at)
    } else {
        store::reviews::save_draft(conn, review, traces)
    }
}

/// Runs a write up to three times while SQLite reports the cache busy or locked.
fn retry(
    mut write: impl FnMut() -> std::result::Result<(), store::StoreError>,
) -> std::result::Result<(), store::StoreError> {
    let mut tries = 0;
    loop {
        match write() {
            Err(store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if tries < 2
                    && matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Saves a final review and, with write-back on (`write_back` is then the taxonomy the note's
/// reasons are named from), queues its CRM note in the same transaction:
/// a final review without its queued note (or the reverse) can never be left behind.
fn save_final(
    conn: &rusqlite::Connection,
    review: &Review,
    traces: &[DecisionTrace],
    reviewer: &str,
    write_back: Option<&crate::domain::Taxonomy>,
) -> std::result::Result<(), store::StoreError> {
    let tx = conn.unchecked_transaction()?;
    store::reviews::finalize(&tx, review, traces, reviewer, review.updated_at)?;
    // What the review says of the advisor's recommendations is the rep's own mark.
    store::lessons::mark_from_traces(&tx, traces)?;
    if let Some(taxonomy) = write_back
        && let Some(deal) = store::deals::get(&tx, &review.deal_id)?
    {
        crate::crm::writeback::enqueue_review(
            &tx,
            review,
            traces,
            &deal.name,
            taxonomy,
            &deal.source,
            review.updated_at,
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn run_job(
    store: &Store,
    reviewer: &str,
    write_back: Option<&crate::domain::Taxonomy>,
    job: SaveJob,
) -> Action {
    let conn = store.conn();
    let one_line = |e: store::StoreError| crate::cmd::one_line(&eyre!(e));
    match job {
        SaveJob::Draft(job) => {
            let (review, traces) = *job;
            // A lock held by a sync's commit outlasting the busy timeout is worth a few more
            // tries before the user is told the change is not saved.
            let result = retry(|| save_draft(conn, &review, &traces));
            Action::Saved {
                kind: SaveKind::Draft,
                result: result.map_err(one_line),
            }
        }
        SaveJob::Final(job) => {
            let (review, traces) = *job;
            Action::Saved {
                kind: SaveKind::Final(review.deal_id.clone()),
                result: retry(|| save_final(conn, &review, &traces, reviewer, write_back))
                    .map_err(one_line),
            }
        }
        SaveJob::Mark(id, at) => Action::Marked(
            store::marks::mark_reviewed(conn, &id, at, reviewer)
                .map(|()| id)
                .map_err(one_line),
        ),
    }
}

/// Reads the deals on a blocking thread in two steps, each reported as an action: the review
/// queue first (what the home screen shows), then every deal for the pipeline.
fn spawn_load(
    db: PathBuf,
    config: Config,
    generation: u64,
    queue_first: bool,
    tx: mpsc::UnboundedSender<Action>,
) {
    tokio::task::spawn_blocking(move || {
        let one_line = |e: color_eyre::Report| crate::cmd::one_line(&e);
        let queue = match load::queue(&db, &config, generation) {
            Ok(queue) => queue,
            Err(e) => {
                // The receiver is gone only when the UI has quit; nobody waits for the result.
                let _ = tx.send(Action::DealsLoaded(Err(one_line(e))));
                return;
            }
        };
        if queue_first {
            let _ = tx.send(Action::DealsLoaded(Ok(queue.list.clone())));
        }
        let all = load::everything(&db, queue).map_err(one_line);
        let _ = tx.send(Action::DealsLoaded(all));
    });
}

fn spawn_detail(db: PathBuf, id: DealId, tx: mpsc::UnboundedSender<Action>) {
    tokio::task::spawn_blocking(move || {
        let result = load::detail(&db, &id).map_err(|e| crate::cmd::one_line(&e));
        let _ = tx.send(Action::DealLoaded(Box::new(result)));
    });
}

fn spawn_review_source(db: PathBuf, id: DealId, tx: mpsc::UnboundedSender<Action>) {
    tokio::task::spawn_blocking(move || {
        let result = load::review_source(&db, &id).map_err(|e| crate::cmd::one_line(&e));
        let _ = tx.send(Action::ReviewLoaded(Box::new(result)));
    });
}

/// Runs the advisor on a thread of its own (it reads every deal's history).
fn spawn_advice(db: PathBuf, config: Config, tx: mpsc::UnboundedSender<Action>) {
    std::thread::spawn(move || {
        let result = load::advice(&db, &config)
            .map(std::sync::Arc::new)
            .map_err(|e| crate::cmd::one_line(&e));
        let _ = tx.send(Action::Advised(result));
    });
}

/// Records shown recommendations on a thread of its own; only a failure is reported.
fn spawn_record_shown(
    db: PathBuf,
    records: Vec<crate::domain::RecommendationRecord>,
    tx: mpsc::UnboundedSender<Action>,
) {
    std::thread::spawn(move || {
        let result = (|| -> Result<()> {
            let store = Store::open(&db)?;
            let tx = store.conn().unchecked_transaction()?;
            for r in &records {
                store::lessons::record_shown(&tx, r)?;
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = tx.send(Action::LessonSaved(Err(format!(
                "a recommendation shown was not recorded: {}",
                crate::cmd::one_line(&e)
            ))));
        }
    });
}

/// Reads the lessons on a thread of its own (it reads every deal's history).
fn spawn_lessons(db: PathBuf, config: Config, generation: u64, tx: mpsc::UnboundedSender<Action>) {
    std::thread::spawn(move || {
        let result = load::lessons(&db, &config).map_err(|e| crate::cmd::one_line(&e));
        let _ = tx.send(Action::LessonsLoaded {
            generation,
            result: Box::new(result),
        });
    });
}

/// A change to the lesson library asked for from the UI.
enum LessonWrite {
    Promote(Box<crate::patterns::mine::Pattern>),
    Status(crate::domain::LessonId, crate::domain::LessonStatus),
}

/// Writes to the lesson library on a thread of its own and says what happened.
fn spawn_lesson_write(
    db: PathBuf,
    config: Config,
    write: LessonWrite,
    tx: mpsc::UnboundedSender<Action>,
) {
    std::thread::spawn(move || {
        let by = config.reviewer_name();
        let result = (|| -> Result<String> {
            let store = Store::open(&db)?;
            match write {
                LessonWrite::Promote(pattern) => {
                    let skills = crate::cmd::skills(&config)?;
                    let l = crate::cmd::lessons::promote(&store, &skills, &pattern, None, &by)?;
                    Ok(format!(
                        "proposed lesson: {} (4 shows the lessons)",
                        l.statement
                    ))
                }
                LessonWrite::Status(id, status) => {
                    match crate::cmd::lessons::change_status(&store, &id, status, &by)? {
                        Some(l) => Ok(format!("lesson is {} (v{})", status.as_str(), l.version)),
                        None => Ok(format!("lesson already {}", status.as_str())),
                    }
                }
            }
        })()
        .map_err(|e| crate::cmd::one_line(&e));
        let _ = tx.send(Action::LessonSaved(result));
    });
}

/// Mines on a thread of its own (it keeps both cores busy for seconds on a big cache), so the
/// draw loop keeps drawing and answering keys; progress and the run come back as actions.
fn spawn_mine(db: PathBuf, config: Config, generation: u64, tx: mpsc::UnboundedSender<Action>) {
    std::thread::spawn(move || {
        let progress = |phase| {
            let _ = tx.send(Action::MineProgress { generation, phase });
        };
        let result = load::mine(&db, &config, progress).map_err(|e| crate::cmd::one_line(&e));
        // The receiver is gone only when the UI has quit.
        let _ = tx.send(Action::Mined {
            generation,
            result: Box::new(result),
        });
    });
}

/// Posts queued review notes to the CRM on a thread of its own; offline, they stay queued and
/// the next sync posts them.
fn spawn_post_notes(db: PathBuf, config: Config, tx: mpsc::UnboundedSender<Action>) {
    std::thread::spawn(move || {
        let result = match crate::crm::writeback::post_now(&db, &config) {
            Ok(s) if s.busy => Ok("another dealtrace is posting review notes".to_owned()),
            Ok(s) if s.failed > 0 => Err(format!(
                "{} review note(s) could not be posted: {}",
                s.failed,
                s.errors.join("; ")
            )),
            Ok(s) if s.pending > 0 => Ok(format!(
                "review note queued ({} waiting; the next sync posts it)",
                s.pending
            )),
            Ok(s) => Ok(format!("posted {} review note(s) to the CRM", s.posted)),
            Err(e) => Err(format!(
                "review note queued; posting it failed ({e}); the next sync retries"
            )),
        };
        let _ = tx.send(Action::NotesPosted(result));
    });
}

/// Runs one sync on a thread of its own with its own runtime, so neither its requests nor its
/// SQLite commits can hold up the draw loop; progress and the outcome come back as actions.
/// The engine commits batch by batch, so quitting the UI mid-sync loses nothing but the batch
/// in flight, and the next sync resumes.
fn spawn_sync(db: PathBuf, config: Config, tx: mpsc::UnboundedSender<Action>) {
    std::thread::spawn(move || {
        let result = sync_now(&db, &config, &tx).map_err(|e| crate::cmd::one_line(&e));
        // The receiver is gone only when the UI has quit.
        let _ = tx.send(Action::SyncFinished(result));
    });
}

fn sync_now(db: &Path, config: &Config, tx: &mpsc::UnboundedSender<Action>) -> Result<String> {
    let connector = crate::cmd::sync::connector(config)?;
    let mut store = Store::open(db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the sync's runtime")?;
    let summary = runtime
        .block_on(crate::crm::engine::run(
            &mut store,
            &connector,
            &crate::crm::engine::SyncOptions::default(),
            Timestamp::now,
            |event| {
                let _ = tx.send(Action::SyncProgress(event));
            },
        ))
        .wrap_err("the sync stopped; what it committed is kept and the next run resumes")?;
    Ok(crate::cmd::sync::one_line_summary(&summary))
}
