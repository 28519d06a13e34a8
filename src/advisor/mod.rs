//! The advisor (issue 6): lessons become recommendations on open deals, and recommendations
//! are measured.
//!
//! - [`advise`]: active lessons on open deals as of now, and what became of each recommendation;
//! - [`follow`]: outcomes when a recommendation was followed against when not;
//! - [`library`]: the lesson library as TOML, and the merge that imports it;
//! - [`measure`]: re-measuring a lesson's pattern on the current dataset, with verdicts;
//! - [`promote`]: a surfaced pattern as a proposed lesson;
//!
//! Pure like the pattern engine it builds on: plain data in, plain data out; the store and
//! the front ends do the reading and writing.

pub mod advise;
pub mod follow;
pub mod library;
pub mod measure;
pub mod promote;
