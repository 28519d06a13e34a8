//! The terminal UI: event → action → update(state) → view (see ../shared/STYLE.md).
//!
//! [`app`] holds the state and the pure `update`; [`keys`] turns terminal events into actions;
//! [`views`] draw state and nothing else; [`event_loop`] is the only place that touches the
//! terminal, the clock and the cache, and it never blocks the draw loop on I/O.

pub mod action;
pub mod app;
pub mod deal_view;
mod event_loop;
pub mod keys;
pub mod lessons_view;
pub mod list;
pub mod load;
pub mod patterns_view;
pub mod rows;
pub mod theme;
pub mod views;

use crate::config::Config;
use crate::domain::DealId;
use color_eyre::eyre::{Result, WrapErr};
use std::path::Path;

/// Opens the terminal UI on the cache at `db` (at the review of `review`, when given) and
/// returns when the user quits.
pub fn run(db: &Path, config: &Config, review: Option<DealId>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("cannot start the UI's runtime")?;
    runtime.block_on(event_loop::run(db.to_owned(), config.clone(), review))
}
