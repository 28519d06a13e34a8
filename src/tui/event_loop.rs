//! The only part of the UI that touches the terminal, the clock and the cache.

use super::action::{Action, Command, DealList};
use super::app::App;
use super::keys::actions_for;
use super::views;
use crate::config::{Config, UiConfig};
use crate::store::{self, Store};
use color_eyre::eyre::{Result, WrapErr};
use futures_util::StreamExt;
use jiff::Timestamp;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use ratatui::crossterm::execute;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// Set by the end-to-end test to prove the terminal is restored when the UI panics.
const PANIC_FOR_TEST: &str = "DEALTRACE_TEST_PANIC";

/// Takes over the terminal, runs the UI until the user quits, and restores the terminal — also
/// when the loop fails or panics (ratatui's panic hook restores before the report prints).
pub async fn run(db: PathBuf, config: Config) -> Result<()> {
    let ui = config.ui.clone();
    let mut terminal = ratatui::init();
    if ui.mouse {
        install_mouse_restore_hook();
        // Mouse support is a nicety: a terminal that refuses it still gets the UI.
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    let result = main_loop(&mut terminal, db, &config).await;
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

async fn main_loop(terminal: &mut DefaultTerminal, db: PathBuf, config: &Config) -> Result<()> {
    let ui: &UiConfig = &config.ui;
    let size = terminal.size().wrap_err("cannot read the terminal size")?;
    let color = ui.use_color(std::env::var("NO_COLOR").ok().as_deref());
    let label = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| db.display().to_string());
    let (mut app, mut commands) = App::new(label, size.width, size.height, color);
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(ui.tick_ms.max(50)));
    let panic_for_test = std::env::var_os(PANIC_FOR_TEST).is_some();

    loop {
        for command in commands.drain(..) {
            match command {
                Command::Quit => return Ok(()),
                Command::LoadDeals => spawn_load(db.clone(), tx.clone()),
                Command::Sync => spawn_sync(db.clone(), config.clone(), tx.clone()),
            }
        }
        terminal
            .draw(|frame| views::draw(frame, &app))
            .wrap_err("cannot draw to the terminal")?;
        if panic_for_test {
            panic!("panic requested by {PANIC_FOR_TEST}");
        }
        let actions = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => actions_for(&event),
                Some(Err(e)) => return Err(e).wrap_err("cannot read from the terminal"),
                None => vec![Action::Quit],
            },
            Some(action) = rx.recv() => vec![action],
            _ = tick.tick() => vec![Action::Tick(Timestamp::now())],
        };
        for action in actions {
            commands.extend(app.update(action));
        }
    }
}

/// Reads the deal list on a blocking thread and reports back as an action.
fn spawn_load(db: PathBuf, tx: mpsc::UnboundedSender<Action>) {
    tokio::task::spawn_blocking(move || {
        let result = load(&db).map_err(|e| crate::cmd::one_line(&e));
        // The receiver is gone only when the UI has quit; nothing is waiting for the result.
        let _ = tx.send(Action::DealsLoaded(result));
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

fn sync_now(
    db: &std::path::Path,
    config: &Config,
    tx: &mpsc::UnboundedSender<Action>,
) -> Result<String> {
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

fn load(db: &std::path::Path) -> Result<DealList> {
    let store = Store::open(db)?;
    let conn = store.conn();
    let deals = store::deals::list(conn, &store::deals::DealFilter::default())?;
    let demo_as_of = store::meta::get_instant(conn, store::meta::keys::DEMO_AS_OF)?;
    Ok(DealList {
        deals,
        as_of: demo_as_of.unwrap_or_else(Timestamp::now),
        last_sync: store::meta::get_instant(conn, store::meta::keys::LAST_SYNC)?,
        is_demo: demo_as_of.is_some(),
    })
}
