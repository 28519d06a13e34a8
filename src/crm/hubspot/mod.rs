//! The HubSpot connector: CRM v3 objects, v4 associations, search for incremental sync.
//!
//! API facts and their sources are in ../shared/CRM-APIS.md; this module follows §0's design
//! consequences: list paging for full loads (50 a page with history), search for changes, batch
//! reads and v4 association batches for enrichment, and the two request budgets.

pub mod client;
pub mod connector;
pub mod convert;
pub mod limits;
pub mod model;
