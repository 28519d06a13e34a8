//! dealtrace: a terminal deal-review workstation.
//!
//! Layers, each importing only those below it: [`domain`] (plain types) → [`store`] (the SQLite
//! cache) → [`demo`] (a seeded team history) → the front ends: [`cmd`] (the command line) and
//! [`tui`] (the terminal UI).
//! [`signals`] (skills: personas from job titles, later as-of-time signals) and [`patterns`]
//! (the pattern engine's statistics) are pure and sit beside [`domain`], below everything that
//! uses them; [`review`] (the post-mortem state machine) reads the store's plain types and sits
//! below the front ends.

#![warn(missing_docs)]

pub mod advisor;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod crm;
pub mod demo;
pub mod domain;
pub mod format;
pub mod logging;
pub mod patterns;
pub mod review;
pub mod signals;
pub mod store;
pub mod text;
pub mod tui;
