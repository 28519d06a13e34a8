//! The subcommands: each opens what it needs, does its work and prints plain text or JSON.
//!
//! Errors leave here as `eyre` reports whose top message is one sentence that says what to do;
//! `main` prints it on one line and exits 1.

mod deals;
mod demo;
mod export;
mod import;
pub mod lessons;
pub mod patterns;
mod stats;
pub mod sync;

use crate::cli::{Cli, Command, DealsCommand, ExportCommand, ImportCommand};
use crate::config::{self, Config};
use crate::store::{self, Store};
use color_eyre::eyre::{Result, WrapErr, eyre};
use jiff::Timestamp;
use std::path::{Path, PathBuf};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let config = load_config(cli.config.as_deref())?;
    if cli.demo {
        let path = match cli.db.clone() {
            Some(p) => p,
            None => config::project_dirs()
                .map(|d| d.data_dir().join("demo.sqlite"))
                .ok_or_else(|| {
                    eyre!("cannot find a home directory for the demo cache; pass --db PATH")
                })?,
        };
        let mut store = open_store(&path)?;
        let spec = crate::demo::DemoSpec {
            deals: crate::demo::DemoSpec::DEFAULT_DEALS,
            seed: crate::demo::DemoSpec::DEFAULT_SEED,
            as_of: crate::demo::DemoSpec::default_as_of(),
        };
        demo::generate(&mut store, &spec, false)?;
        drop(store);
        return crate::tui::run(&path, &config, None);
    }
    let db = cache_path(cli.db.as_deref(), &config)?;
    match cli.command {
        None => {
            // Make sure the cache opens (and migrates) before the screen is taken over, so that
            // an error is printed as a sentence rather than inside the UI.
            drop(open_store(&db)?);
            crate::tui::run(&db, &config, None)
        }
        Some(Command::Review { deal_id }) => {
            let store = open_store(&db)?;
            let id = crate::domain::DealId::from(deal_id.as_str());
            // Refuse an unknown id before the screen is taken over, in one sentence.
            if store::deals::summary(store.conn(), &id)?.is_none() {
                return Err(eyre!(
                    "the cache holds no deal {deal_id}; find its id with `dealtrace deals list`"
                ));
            }
            drop(store);
            crate::tui::run(&db, &config, Some(id))
        }
        Some(Command::Demo(args)) => {
            let mut store = open_store(&db)?;
            let spec = demo::spec_from_args(&args)?;
            demo::generate(&mut store, &spec, true)
        }
        Some(Command::Deals(DealsCommand::List {
            json,
            stage,
            owner,
            status,
        })) => {
            let store = open_existing(&db)?;
            let filter = store::deals::DealFilter {
                stage,
                owner,
                status: status.map(Into::into),
                include_archived: false,
            };
            deals::list(&store, &filter, json)
        }
        Some(Command::Deals(DealsCommand::Show { id, json })) => {
            let store = open_existing(&db)?;
            deals::show(&store, &id, json, config.review.slip_min_days)
        }
        Some(Command::Import(ImportCommand::Csv {
            file,
            mapping,
            history,
            contacts,
            activities,
            dry_run,
            json,
        })) => {
            let request = crate::crm::csv::ImportRequest {
                deals: file,
                mapping,
                history,
                contacts,
                activities,
                dry_run,
            };
            import::csv(&db, &request, json)
        }
        Some(Command::Sync { full, json }) => {
            let mut store = open_store(&db)?;
            sync::run(&mut store, &config, full, json)
        }
        Some(Command::Export(what)) => {
            let store = open_existing(&db)?;
            match what {
                ExportCommand::Traces { format } => export::traces(&store, format),
                ExportCommand::Reviews { format } => export::reviews(&store, format),
            }
        }
        Some(Command::Patterns(request)) => {
            if let Some(q) = request.fdr.filter(|q| !(*q > 0.0 && *q < 1.0)) {
                return Err(eyre!(
                    "--fdr must be between 0 and 1 (got {q}); 0.10 is the default"
                ));
            }
            let store = open_existing(&db)?;
            patterns::print(&store, &skills(&config)?, &request)
        }
        Some(Command::Lessons(command)) => {
            let store = open_existing(&db)?;
            lessons::run(&store, &config, command)
        }
        Some(Command::Stats { json }) => {
            let store = open_existing(&db)?;
            stats::print(&store, json)
        }
    }
}

fn load_config(flag: Option<&Path>) -> Result<Config> {
    match flag {
        // An explicitly named file must exist: a typo in --config should not silently mean
        // defaults.
        Some(path) => {
            if !path.exists() {
                return Err(eyre!(
                    "the config file {} does not exist; check the --config path",
                    path.display()
                ));
            }
            Ok(Config::load(path)?)
        }
        None => match config::default_config_path() {
            Some(path) => Ok(Config::load(&path)?),
            None => Ok(Config::default()),
        },
    }
}

fn cache_path(flag: Option<&Path>, config: &Config) -> Result<PathBuf> {
    config::resolve_cache_path(flag, config)
        .ok_or_else(|| eyre!("cannot find a home directory for the cache; pass --db PATH"))
}

/// Opens (creating if needed) the cache.
pub(crate) fn open_store(path: &Path) -> Result<Store> {
    Ok(Store::open(path)?)
}

/// Opens a cache that must already exist: reading commands never create an empty one by accident.
fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        return Err(eyre!(
            "no cache at {}; run `dealtrace demo` (or `dealtrace sync`) first, or pass --db",
            path.display()
        ));
    }
    open_store(path).wrap_err("cannot read the cache")
}

/// The skills the config names (else the built-in ones), or an error saying what to fix.
pub fn skills(config: &Config) -> Result<crate::signals::Skills> {
    crate::signals::Skills::from_config(config)
        .map_err(|e| eyre!("{e}; fix the skills file or remove [skills] file from the config"))
}

/// "Now" for derived facts: a demo history's own as-of instant, else the clock.
pub(crate) fn reference_now(store: &Store) -> Result<Timestamp> {
    Ok(
        store::meta::get_instant(store.conn(), store::meta::keys::DEMO_AS_OF)?
            .unwrap_or_else(Timestamp::now),
    )
}

/// An error report as one line: the top message, then causes that add something.
pub fn one_line(report: &color_eyre::eyre::Report) -> String {
    let mut line = String::new();
    for cause in report.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    crate::text::sanitize_line(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_causes_without_repeating_them() {
        let inner = std::io::Error::other("disk full");
        let report = color_eyre::eyre::Report::new(inner).wrap_err("cannot write the cache");
        assert_eq!(one_line(&report), "cannot write the cache: disk full");
        let store_err = store::StoreError::Invalid {
            what: "thing",
            value: "x".into(),
        };
        let report = color_eyre::eyre::Report::new(store_err);
        assert_eq!(one_line(&report), "the cache holds an invalid thing: \"x\"");
    }
}
