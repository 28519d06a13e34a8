//! The one vocabulary of the UI: everything that can happen, as plain values.

use crate::crm::engine::SyncEvent;
use crate::store::deals::DealSummary;
use jiff::Timestamp;

/// Something that happened: a key, a resize, a tick, or a background job reporting back.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Move the selection up one row.
    Up,
    /// Move the selection down one row.
    Down,
    /// Move up one page.
    PageUp,
    /// Move down one page.
    PageDown,
    /// Jump to the first row.
    Top,
    /// Jump to the last row.
    Bottom,
    /// Select the row drawn at this screen line (a mouse click).
    ClickLine(u16),
    /// Leave the UI.
    Quit,
    /// The terminal now has this size.
    Resize {
        /// Columns.
        width: u16,
        /// Lines.
        height: u16,
    },
    /// Time passed (keeps ages in the status line current).
    Tick(Timestamp),
    /// The deal list finished loading from the cache.
    DealsLoaded(Result<DealList, String>),
    /// The user asked for a sync from the CRM.
    StartSync,
    /// The background sync reports progress.
    SyncProgress(SyncEvent),
    /// The background sync ended: a one-line summary, or why it stopped.
    SyncFinished(Result<String, String>),
}

/// What the loader read from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct DealList {
    /// The deals, newest first.
    pub deals: Vec<DealSummary>,
    /// The cache's "now": a demo's as-of instant, else the clock at load time.
    pub as_of: Timestamp,
    /// When the cache was last synced.
    pub last_sync: Option<Timestamp>,
    /// Whether this is a generated demo history.
    pub is_demo: bool,
}

/// Work `update` asks the event loop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Read the deal list from the cache in the background.
    LoadDeals,
    /// Sync from the configured CRM in the background, reporting progress as actions.
    Sync,
    /// Restore the terminal and exit.
    Quit,
}
