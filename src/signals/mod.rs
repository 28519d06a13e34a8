//! Signals: facts about a deal as of a point in time, derived from the skills file and the deal's
//! history.
//!
//! Everything here is pure (no I/O beyond reading a skills file on request) so that the pattern
//! engine and the UI can call it freely. A signal as of time T may read only facts timestamped at
//! or before T; that is what keeps the pattern engine free of look-ahead.
//!
//! - [`skills`]: the skills file — personas by job title, phrase lists (competitors, discount,
//!   business case…), segment dimensions and exception hypotheses;
//! - [`facts`]: what signals may read of a deal, history only (the module boundary that keeps
//!   current-state columns out of the pattern engine);
//! - [`asof`]: the signals as of an instant T, with the leakage property test.

pub mod asof;
pub mod facts;
pub mod skills;

pub use skills::{
    Moderator, Persona, PhraseList, Segment, SegmentSource, Skills, SkillsError, normalize,
    persona_ids, phrase_list_ids,
};
