//! `dealtrace sync` as a user runs it: a child process against the fake HubSpot on 127.0.0.1,
//! killed with SIGKILL at random points and run again, and refused by the server.

mod common;
mod support;

use common::Sandbox;
use dealtrace::crm::engine::SyncOptions;
use dealtrace::store::Store;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::hubspot_fake::{FakeHubSpot, Options};
use support::sync_check::{assert_matches_server, fake_world, write_sync_config};

/// A sandbox whose config points `dealtrace sync` at the fake.
fn configured(fake: &FakeHubSpot) -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let config = write_sync_config(sandbox.path(), fake, false);
    (sandbox, config)
}

fn sync_command(sandbox: &Sandbox, config: &PathBuf, token: &str) -> Command {
    let mut cmd = sandbox.command();
    cmd.arg("--config")
        .arg(config)
        .arg("sync")
        .env("HUBSPOT_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Where a kill lands: after the fake has answered a number of requests more, or after a
/// time. Both are needed: a request count only ever fires while the sync is sending, never
/// while it is committing to SQLite, where a time does.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Requests an uninterrupted run makes.
    requests: usize,
    /// Its wall time.
    time: Duration,
}

/// Runs `dealtrace sync` until it finishes, killing it with SIGKILL at a random point within
/// the first two thirds of an uninterrupted run (by request count or by time, at random); at
/// most `max_kills` kills, then one run to completion. Returns the number of kills.
async fn sync_with_kills(
    fake: &FakeHubSpot,
    sandbox: &Sandbox,
    config: &PathBuf,
    rng: &mut ChaCha8Rng,
    twin: Run,
    max_kills: usize,
) -> usize {
    let mut kills = 0;
    loop {
        let started = std::time::Instant::now();
        let mut child = sync_command(sandbox, config, &fake.token())
            .spawn()
            .expect("spawn dealtrace sync");
        let by_time = rng.random_bool(0.5);
        let target = fake.request_count() + rng.random_range(1..=(twin.requests * 2 / 3).max(1));
        let deadline = twin.time.mul_f64(rng.random_range(0.05..0.67));
        let killing = kills < max_kills;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll child") {
                break Some(status);
            }
            let due = if by_time {
                started.elapsed() >= deadline
            } else {
                fake.request_count() >= target
            };
            if killing && due {
                // std's kill is SIGKILL on Unix: no destructor, no rollback, no goodbye.
                child.kill().expect("kill -9");
                child.wait().expect("reap");
                break None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        match status {
            None => kills += 1,
            Some(status) => {
                let out = child.wait_with_output().expect("output");
                assert!(
                    status.success(),
                    "sync failed after {kills} kills: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                return kills;
            }
        }
    }
}

/// Deal-list pages served (the full scan's unit of resumption).
fn list_pages(fake: &FakeHubSpot) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.path == "/crm/v3/objects/deals"
                && r.param("archived") != Some("true")
                && r.status == 200
        })
        .count()
}

/// Runs one uninterrupted `dealtrace sync` in `sandbox` and measures it.
fn sync_through(fake: &FakeHubSpot, sandbox: &Sandbox, config: &PathBuf) -> Run {
    let before = fake.request_count();
    let started = std::time::Instant::now();
    let out = sync_command(sandbox, config, &fake.token())
        .output()
        .expect("run sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        requests: fake.request_count() - before,
        time: started.elapsed(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_random_points_and_rerun_ends_equal() {
    for seed in [7_u64, 8, 9] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let fake = fake_world(
            240,
            seed,
            Options {
                // Slow enough that kills land inside pages, commits and enrichment alike.
                latency: Duration::from_millis(3),
                ..Options::default()
            },
        )
        .await;
        let (sandbox, config) = configured(&fake);
        // An uninterrupted twin measures how many requests each phase takes, so that kill
        // points spread over the whole run rather than bunching at its start.
        let (twin, twin_config) = configured(&fake);

        // A full sync, killed and resumed.
        let full = sync_through(&fake, &twin, &twin_config);
        fake.clear_log();
        let kills = sync_with_kills(&fake, &sandbox, &config, &mut rng, full, 6).await;
        assert!(
            kills >= 2,
            "seed {seed}: the sync was interrupted ({kills} kills)"
        );
        {
            let store = Store::open(&sandbox.db()).expect("open cache");
            assert_matches_server(&store, &fake);
        }
        // Resuming never refetches a committed page: each kill can cost at most the pages in
        // flight (the engine's concurrency) and the one being listed.
        let pages = fake.expected_deals().len().div_ceil(50);
        assert!(
            list_pages(&fake) <= pages + kills * (SyncOptions::default().concurrency + 1),
            "seed {seed}: {} list pages for {pages} pages and {kills} kills",
            list_pages(&fake)
        );

        // Server-side changes, then an incremental sync killed and resumed.
        let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
        let ids = fake.deal_ids();
        for (i, id) in ids.iter().step_by(3).enumerate() {
            fake.touch_deal(id, now + jiff::SignedDuration::from_secs(i as i64));
        }
        for id in ids.iter().skip(1).step_by(29) {
            fake.archive_deal(id, now);
        }
        fake.add_bare_deals(30, now);
        let incremental = sync_through(&fake, &twin, &twin_config);
        let kills = sync_with_kills(&fake, &sandbox, &config, &mut rng, incremental, 4).await;
        assert!(
            kills >= 1,
            "seed {seed}: the incremental sync was interrupted"
        );
        let store = Store::open(&sandbox.db()).expect("open cache");
        assert_matches_server(&store, &fake);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_says_which_variable_to_fix() {
    let fake = fake_world(5, 1, Options::default()).await;
    let (sandbox, config) = configured(&fake);
    let out = sync_command(&sandbox, &config, "pat-na1-wrong")
        .output()
        .expect("run sync");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("401") && last.contains("HUBSPOT_TOKEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pat-na1-wrong"),
        "the token is never echoed"
    );
    assert_eq!(fake.count_status(401), 1, "a 401 is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_is_named() {
    let fake = fake_world(
        5,
        1,
        Options {
            missing_scopes: vec!["crm.objects.contacts.read".into()],
            ..Options::default()
        },
    )
    .await;
    let (sandbox, config) = configured(&fake);
    let out = sync_command(&sandbox, &config, &fake.token())
        .output()
        .expect("run sync");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("403") && last.contains("crm.objects.contacts.read"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_says_where_to_put_one() {
    let fake = fake_world(5, 1, Options::default()).await;
    let (sandbox, config) = configured(&fake);
    let out = sync_command(&sandbox, &config, "")
        .env_remove("HUBSPOT_TOKEN")
        .output()
        .expect("run sync");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HUBSPOT_TOKEN"), "{stderr}");
    assert_eq!(fake.request_count(), 0, "nothing is sent without a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_syncs_in_the_background_and_shows_what_landed() {
    let fake = fake_world(40, 3, Options::default()).await;
    let (sandbox, config) = configured(&fake);
    let mut cmd = sandbox.command();
    cmd.arg("--config")
        .arg(&config)
        .env("HUBSPOT_TOKEN", fake.token())
        .env("TERM", "xterm-256color");
    let deals = fake.expected_deals().len();
    // expectrl blocks; the fake needs this runtime's workers to answer meanwhile.
    let screen = tokio::task::spawn_blocking(move || {
        let mut tty = common::tty::Tty::spawn(cmd, 120, 30);
        tty.see("Pipeline 0");
        tty.keys("s");
        tty.see(&format!("{deals} new"));
        tty.see(&format!("Pipeline {deals}"));
        tty.keys("q");
        tty.exit();
    });
    screen.await.expect("the pty session");
    let store = Store::open(&sandbox.db()).expect("open cache");
    assert_matches_server(&store, &fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_draws_a_progress_bar_on_a_terminal_and_plain_lines_otherwise() {
    use expectrl::{Eof, Expect, Session};
    let fake = fake_world(
        150,
        4,
        Options {
            latency: Duration::from_millis(5),
            ..Options::default()
        },
    )
    .await;

    // Not a terminal: one line per phase and per thousand deals, then the summary.
    let (plain, config) = configured(&fake);
    let out = sync_command(&plain, &config, &fake.token())
        .output()
        .expect("run sync");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let deals = fake.expected_deals().len();
    for line in [
        "sync: pipelines".to_owned(),
        "sync: deals".to_owned(),
        format!("sync: {deals}/{deals} deals"),
        format!("sync full: {deals} new, 0 changed, 0 removed"),
    ] {
        assert!(stderr.contains(&line), "{line:?} in {stderr}");
    }
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape sequences in plain output"
    );

    // A terminal: an indicatif bar with the count, the rate and an ETA, cleared at the end.
    let (tty, config) = configured(&fake);
    let mut cmd = tty.command();
    cmd.arg("--config")
        .arg(&config)
        .arg("sync")
        .env("HUBSPOT_TOKEN", fake.token())
        .env("TERM", "xterm-256color");
    let shown = tokio::task::spawn_blocking(move || {
        let mut session = Session::spawn(cmd).expect("spawn dealtrace sync in a pty");
        session.set_expect_timeout(Some(Duration::from_secs(30)));
        let out = session.expect(Eof).expect("sync finishes");
        String::from_utf8_lossy(out.as_bytes()).into_owned()
    })
    .await
    .expect("the pty session");
    assert!(
        shown.contains(&format!("/{deals} deals")),
        "the count of the total: {shown:?}"
    );
    assert!(shown.contains("/s ["), "a rate is shown: {shown:?}");
    assert!(shown.contains("ETA "), "an ETA is shown: {shown:?}");
    assert!(
        shown.contains(&format!("sync full: {deals} new")),
        "the summary follows the bar: {shown:?}"
    );
}
