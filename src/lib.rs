//! dealtrace: a terminal deal-review workstation.
//!
//! Layers, each importing only those below it: [`domain`] (plain types) → [`store`] (the SQLite
//! cache) → [`demo`] (a seeded team history) → the command-line and terminal front ends.

pub mod domain;
pub mod store;
