//! The facts signals may read: a deal's timestamped history and nothing of its current state.
//!
//! This type is the module boundary of guard 3 in spec §5.10 ("no current-state columns"):
//! the loader fills it from the history tables only (stage, amount and close-date history,
//! activities with their participants, contacts with the time they joined the deal) plus the
//! segment dimensions the skills file declares, which describe the account or the deal from
//! its start and are refused there when they are known to be set at closing. There is no field
//! for the deal's current stage, amount, close date or flags, so signal code cannot read them.

use crate::domain::DealHistory;

/// The contacts of one activity (see [`ActivityFact::contacts`]).
pub type Contacts = smallvec::SmallVec<[u32; 2]>;

/// One activity, reduced to what signals use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityFact {
    /// When it happened (Unix seconds).
    pub at: i64,
    /// A call, a meeting or an inbound email: the customer took part.
    pub two_way: bool,
    /// The deal's contacts who took part, as indices into [`DealFacts::contacts`]. Held inline
    /// up to two, which is nearly every activity: a cache holds a million of them.
    pub contacts: Contacts,
    /// Which phrase lists of the skills file its text matches (bit i = list i).
    pub phrases: u64,
}

/// One contact of the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactFact {
    /// Which personas the title denotes (bit i = persona i of the skills file).
    pub personas: u64,
}

/// Everything the signals and outcomes of one deal may read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DealFacts {
    /// The CRM's deal id.
    pub id: String,
    /// When the deal was created (Unix seconds).
    pub created_at: i64,
    /// Stage, amount and close-date history.
    pub history: DealHistory,
    /// Activities, oldest first.
    pub activities: Vec<ActivityFact>,
    /// The deal's contacts.
    pub contacts: Vec<ContactFact>,
    /// Per segment dimension of the skills file, the deal's value (`None`: not recorded).
    pub segments: Vec<Option<String>>,
    /// The owner, for the "concentrated" flag and as a confounder.
    pub owner: Option<String>,
    /// The account, for the "concentrated" flag.
    pub company: Option<String>,
}

impl DealFacts {
    /// The instants of the two-way activities, for the `decay` outcome.
    pub fn two_way_times(&self) -> Vec<i64> {
        self.activities
            .iter()
            .filter(|a| a.two_way)
            .map(|a| a.at)
            .collect()
    }
}
