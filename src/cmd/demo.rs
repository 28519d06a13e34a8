//! `dealtrace demo`

use crate::cli::DemoArgs;
use crate::demo::{DemoSpec, write_demo};
use crate::store::Store;
use color_eyre::eyre::{Result, WrapErr};
use std::time::Instant;

/// The spec for the demo command's arguments.
pub(super) fn spec_from_args(args: &DemoArgs) -> Result<DemoSpec> {
    let as_of = match args.as_of {
        None => DemoSpec::default_as_of(),
        Some(date) => date
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .wrap_err("the --as-of date is out of range; use a date like 2026-11-23")?
            .timestamp(),
    };
    Ok(DemoSpec {
        deals: args.deals as usize,
        seed: args.seed,
        as_of,
    })
}

/// Writes the demo history and reports what was written (on stderr when `verbose`).
pub(super) fn generate(store: &mut Store, spec: &DemoSpec, verbose: bool) -> Result<()> {
    let started = Instant::now();
    let path = store.path().display().to_string();
    let summary = write_demo(store, spec)
        .wrap_err_with(|| format!("cannot write the demo history into {path}"))?;
    if verbose {
        eprintln!(
            "wrote a demo team history into {path}: {} deals ({} open, {} won, {} lost), {} companies, \
             {} contacts, {} activities; {} rows in {:.2} s (seed {})",
            summary.deals,
            summary.open,
            summary.won,
            summary.lost,
            summary.companies,
            summary.contacts,
            summary.activities,
            summary.rows,
            started.elapsed().as_secs_f64(),
            spec.seed
        );
    }
    Ok(())
}
