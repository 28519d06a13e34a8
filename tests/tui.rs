//! The first screen, rendered without a terminal (ratatui's TestBackend) and snapshotted.

use dealtrace::demo::{DemoSpec, write_demo};
use dealtrace::store::{self, Store};
use dealtrace::tui::action::{Action, DealList};
use dealtrace::tui::app::App;
use dealtrace::tui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

fn demo_list(deals: usize) -> DealList {
    let mut store = Store::open_in_memory().unwrap();
    let spec = DemoSpec {
        deals,
        seed: 42,
        as_of: DemoSpec::default_as_of(),
    };
    write_demo(&mut store, &spec).unwrap();
    DealList {
        deals: store::deals::list(store.conn(), &Default::default()).unwrap(),
        as_of: spec.as_of,
        last_sync: None,
        is_demo: true,
    }
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| views::draw(f, app)).unwrap();
    terminal
}

fn loaded_app(width: u16, height: u16) -> App {
    let (mut app, _) = App::new("demo.sqlite".into(), width, height, false);
    app.update(Action::DealsLoaded(Ok(demo_list(60))));
    app
}

#[test]
fn deal_list_at_80x24() {
    let mut app = loaded_app(80, 24);
    for _ in 0..3 {
        app.update(Action::Down);
    }
    let terminal = render(&app);
    insta::assert_snapshot!(terminal.backend());

    // The selected row (fourth table row, below title and header) is drawn reversed.
    let buffer = terminal.backend().buffer();
    let selected_line = 2 + 3;
    assert!(
        buffer[(1, selected_line)]
            .modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        !buffer[(1, selected_line + 1)]
            .modifier
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn deal_list_wide_shows_owners() {
    let app = loaded_app(120, 16);
    let terminal = render(&app);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn scrolled_to_the_bottom() {
    let mut app = loaded_app(80, 24);
    app.update(Action::Bottom);
    assert_eq!(app.selected, 59);
    let terminal = render(&app);
    let text = terminal.backend().to_string();
    let last = app
        .deals
        .last()
        .unwrap()
        .name
        .chars()
        .take(20)
        .collect::<String>();
    assert!(text.contains(&last), "the last deal is on screen");
}

#[test]
fn loading_and_failure_states() {
    let (mut app, _) = App::new("cache.sqlite".into(), 80, 6, false);
    insta::assert_snapshot!("loading", render(&app).backend());
    app.update(Action::DealsLoaded(Err(
        "cannot open the cache at /x: file is not a database".into(),
    )));
    insta::assert_snapshot!("failed", render(&app).backend());
}

#[test]
fn tiny_and_resized_terminals_do_not_break() {
    let mut app = loaded_app(80, 24);
    for (w, h) in [(20, 3), (1, 1), (200, 60), (80, 24)] {
        app.update(Action::Resize {
            width: w,
            height: h,
        });
        let _ = render(&app);
        assert!(app.selected < app.offset + app.page_rows());
    }
}

/// The last line of the screen, as text.
fn status_line(app: &App) -> String {
    let terminal = render(app);
    let buffer = terminal.backend().buffer();
    let y = app.height - 1;
    (0..app.width)
        .map(|x| buffer[(x, y)].symbol().to_owned())
        .collect::<String>()
}

#[test]
fn the_status_line_follows_a_background_sync() {
    use dealtrace::crm::engine::SyncEvent;
    let (mut app, _) = App::new("cache.sqlite".into(), 100, 12, false);
    let mut list = demo_list(5);
    list.is_demo = false;
    app.update(Action::DealsLoaded(Ok(list)));
    assert!(status_line(&app).contains("s sync"), "the key is offered");
    app.update(Action::StartSync);
    app.update(Action::SyncProgress(SyncEvent::Phase("deals")));
    app.update(Action::SyncProgress(SyncEvent::Deals {
        done: 150,
        total: Some(400),
    }));
    insta::assert_snapshot!("syncing", status_line(&app));
    app.update(Action::SyncFinished(Err(
        "the CRM rejected the token (HTTP 401): check that HUBSPOT_TOKEN holds a current token"
            .into(),
    )));
    insta::assert_snapshot!("sync_failed", status_line(&app));
}
