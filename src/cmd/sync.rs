//! `dealtrace sync`

use crate::config::{Config, CrmKind};
use crate::crm::engine::{self, SyncEvent, SyncOptions, SyncSummary};
use crate::crm::hubspot::connector::HubSpot;
use crate::crm::writeback::{self, WritebackSummary};
use crate::store::Store;
use color_eyre::eyre::{Result, WrapErr, eyre};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;
use std::io::IsTerminal;

/// The connector the config describes, with its token from the environment. Fails with one
/// sentence saying what to set when there is no CRM configured or no token.
pub fn connector(config: &Config) -> Result<HubSpot> {
    let crm = &config.crm;
    if crm.kind != CrmKind::Hubspot {
        return Err(eyre!(
            "no CRM to sync from: set `[crm] kind = \"hubspot\"` in the config file (or use \
             `dealtrace import csv` for other CRMs' exports)"
        ));
    }
    Ok(HubSpot::from_config(crm)?)
}

/// Builds the configured connector and runs one sync.
pub(super) fn run(store: &mut Store, config: &Config, full: bool, json: bool) -> Result<()> {
    let connector = connector(config)?;
    let options = SyncOptions {
        full,
        ..SyncOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("cannot start the sync's runtime")?;
    let mut report = Reporter::new(std::io::stderr().is_terminal());
    let summary = runtime.block_on(engine::run(
        store,
        &connector,
        &options,
        Timestamp::now,
        |event| report.event(event),
    ));
    report.finish();
    let summary =
        summary.wrap_err("the sync stopped; what it committed is kept and the next run resumes")?;
    // Queued review notes go out only after a successful sync: a CRM that just failed the sync
    // would fail them too, and they wait safely in the queue.
    let notes = if config.crm.write_back {
        let notes = runtime
            .block_on(writeback::post_pending(store, &connector, Timestamp::now()))
            .wrap_err("the sync finished, but the queued review notes could not be posted")?;
        Some(notes)
    } else {
        None
    };
    print_summary(&summary, notes.as_ref(), json)
}

/// Progress on stderr: a bar on a terminal, plain lines otherwise (logs, CI, pipes).
struct Reporter {
    bar: Option<ProgressBar>,
    last_line: u64,
}

impl Reporter {
    fn new(terminal: bool) -> Reporter {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:10} {human_pos}/{human_len} deals {rate} [{elapsed_precise}] \
                     {wide_bar} ETA {eta}",
                )
                .map(|style| {
                    // indicatif's own {per_sec} prints four decimals; whole deals per second read
                    // better.
                    style.with_key(
                        "rate",
                        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", state.per_sec());
                        },
                    )
                })
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Reporter { bar, last_line: 0 }
    }

    fn event(&mut self, event: SyncEvent) {
        match (&self.bar, event) {
            (Some(bar), SyncEvent::Phase(phase)) => bar.set_message(phase),
            (Some(bar), SyncEvent::Deals { done, total }) => {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(done);
            }
            (None, SyncEvent::Phase(phase)) => eprintln!("sync: {phase}"),
            (None, SyncEvent::Deals { done, total }) => {
                // A line per 1,000 deals keeps logs readable on big syncs.
                if done == 0 || done >= self.last_line + 1_000 || Some(done) == total {
                    self.last_line = done;
                    match total {
                        Some(t) => eprintln!("sync: {done}/{t} deals"),
                        None => eprintln!("sync: {done} deals"),
                    }
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `sync --json`: the engine's summary with the write-back's count beside it.
#[derive(serde::Serialize)]
struct JsonSummary<'a> {
    #[serde(flatten)]
    sync: &'a SyncSummary,
    /// Review notes posted to the CRM by this run (0 when `[crm] write_back` is off).
    notes_posted: usize,
}

fn print_summary(s: &SyncSummary, notes: Option<&WritebackSummary>, json: bool) -> Result<()> {
    if json {
        let out = JsonSummary {
            sync: s,
            notes_posted: notes.map_or(0, |n| n.posted),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        eprintln!("sync {}", one_line_summary(s));
    }
    if let Some(n) = notes {
        if !json {
            eprintln!(
                "posted {} review note{}",
                n.posted,
                if n.posted == 1 { "" } else { "s" }
            );
        }
        // Problems go to stderr in both modes: the sync itself succeeded, so they are warnings.
        for error in &n.errors {
            eprintln!("warning: {error}");
        }
        if n.busy {
            eprintln!(
                "warning: review notes are being posted by another dealtrace; they were left to it"
            );
        }
        if n.pending > 0 && !n.busy {
            eprintln!(
                "{} review note{} still queued; the next sync tries again",
                n.pending,
                if n.pending == 1 { " is" } else { "s are" }
            );
        }
    }
    Ok(())
}

/// What a sync did, in one line: "full: 3 new, 1 changed, 0 removed; 40 requests, 0 retries;
/// 2.1 s".
pub fn one_line_summary(s: &SyncSummary) -> String {
    let c = &s.counts;
    format!(
        "{}{}: {} new, {} changed, {} removed; {} requests, {} retries; {:.1} s",
        match s.kind {
            crate::store::sync::RunKind::Full => "full",
            crate::store::sync::RunKind::Incremental => "incremental",
        },
        if s.resumed { " (resumed)" } else { "" },
        c.deals_new,
        c.deals_changed,
        c.deals_removed,
        c.requests,
        c.retries,
        s.seconds
    )
}
