//! Getting deal facts into the cache: CRM connectors behind one trait, the sync engine that
//! drives them, and file imports for every other CRM's export.

pub mod connector;
pub mod csv;
pub mod engine;
pub mod hubspot;
pub mod token;
pub mod writeback;
