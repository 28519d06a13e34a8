//! `dealtrace sync`

use crate::config::{Config, CrmKind};
use crate::crm::engine::{self, SyncEvent, SyncOptions, SyncSummary};
use crate::crm::hubspot::client::Client;
use crate::crm::hubspot::connector::HubSpot;
use crate::crm::hubspot::convert::FieldMap;
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
    let token = crate::crm::token::lookup(&crm.token_env)?;
    let client = Client::new(&crm.base_url, token, &crm.token_env, crm.requests_per_10s)?;
    Ok(HubSpot::new(
        client,
        FieldMap {
            deal_extra: crm.deal_properties.clone(),
            company_extra: crm.company_properties.clone(),
            size_band: crm.size_band_property.clone(),
            buying_center: crm.buying_center_property.clone(),
            currency: crm.currency.clone(),
        },
    ))
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
    print_summary(&summary, json)
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

fn print_summary(s: &SyncSummary, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(s)?);
    } else {
        eprintln!("sync {}", one_line_summary(s));
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
