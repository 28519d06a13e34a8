//! The post-mortem workflow as a state machine, independent of any front end.
//!
//! A review walks one deal in four steps (DESIGN section 2): record the outcome and its reasons
//! from the taxonomy, record a decision trace for each key moment worth learning from, propose
//! lessons, and sign it off. Everything here is pure: it reads a [`DealDetail`] already loaded
//! from the cache, takes `now` and id generators as parameters, and returns values the caller
//! persists — so the wizard is tested with plain values and could serve any front end.
//!
//! - [`moments`]: the key moments proposed from the deal's history;
//! - [`snapshot`]: the deal's state as of a moment, with no look-ahead;
//! - [`outcomes`]: proposals for a trace's actual outcome once its expected-by date passed;
//! - [`wizard`]: the state machine the review screen drives.
//!
//! [`DealDetail`]: crate::store::detail::DealDetail

pub mod moments;
pub mod outcomes;
pub mod snapshot;
pub mod wizard;

#[cfg(test)]
pub(crate) mod fixtures;

pub use moments::{KeyMoment, MomentKind, propose_moments};
pub use outcomes::propose_actual;
pub use snapshot::state_at;
pub use wizard::{
    Field, MomentDraft, ReasonOption, Step, Wizard, WizardEffect, WizardInput, parse_date,
    state_rows, state_value_text,
};
