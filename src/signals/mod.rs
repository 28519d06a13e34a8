//! Signals: facts about a deal as of a point in time, derived from the skills file and the deal's
//! history.
//!
//! Everything here is pure (no I/O beyond reading a skills file on request) so that the pattern
//! engine and the UI can call it freely. A signal as of time T may read only facts timestamped at
//! or before T; that is what keeps the pattern engine free of look-ahead.
//!
//! So far only the persona part of [`skills`] exists: which kinds of stakeholder (CTO, finance,
//! procurement…) a job title denotes. Competitor names, phrase lists, segment dimensions,
//! moderators and the as-of-time extraction itself are still to come.

pub mod skills;

pub use skills::{Persona, Skills, SkillsError, normalize, persona_ids};
