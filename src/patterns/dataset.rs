//! What the miner works on: populations of analysis units, each with its selector covers,
//! outcome covers, follow-up for survival and confounder strata — plain data, built from the
//! cache by [`super::build`] or directly by tests and benchmarks.

use super::cover::Cover;
use super::outcomes::Exclusions;
use super::survival::SurvivalIndex;

/// How a selector reads in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phrase {
    /// Goes before "deals": "single-threaded".
    Adjective(String),
    /// Goes after "deals": "with the CTO engaged".
    Clause(String),
}

/// A boolean fact about each unit of a population (spec §5.2).
#[derive(Debug, Clone)]
pub struct Selector {
    /// Stable name: `single_threaded`, `engaged:cto`, `buying_center=engineering`.
    pub name: String,
    /// The attribute it belongs to: conjunctions join selectors of different attributes only.
    pub attribute: String,
    /// How it reads.
    pub phrase: Phrase,
    /// The units it holds.
    pub cover: Cover,
}

/// A binary outcome over a population's units (meaningful on the eligible ones).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `slipped`, `won`, `lost`, `discount_pressure`.
    pub name: String,
    /// Units where the event happened in (T, T + W].
    pub cover: Cover,
}

/// A stratifying variable for the Mantel–Haenszel check (§5.7).
#[derive(Debug, Clone)]
pub struct Confounder {
    /// `owner`, `quarter`, `size`, or a segment id.
    pub name: String,
    /// Stratum of each unit; units without a value share stratum `u32::MAX`.
    pub strata: Vec<u32>,
}

/// The survival follow-up of a population (the `decay` outcome).
#[derive(Debug, Clone)]
pub struct Follow {
    /// Durations and events, indexed for fast log-rank tests.
    pub index: SurvivalIndex,
}

/// One population context: deals that reached a stage, with index time T = first entry plus a
/// landmark (§5.1).
#[derive(Debug, Clone)]
pub struct Population {
    /// Stable key: `reached:<stage id>` or `reached:<stage id>+14d` or `created`.
    pub key: String,
    /// The stage id (empty for `created`).
    pub stage: String,
    /// How the context reads: "after Demo", "14 days into Proposal", "from creation".
    pub context: String,
    /// Landmark L in days.
    pub landmark_days: i64,
    /// Deal id of each unit.
    pub deal_ids: Vec<String>,
    /// Index time of each unit (Unix seconds).
    pub index_times: Vec<i64>,
    /// Units whose binary window has elapsed by the cutoff.
    pub eligible: Cover,
    /// Deals left out, by reason.
    pub exclusions: Exclusions,
    /// Candidate selectors.
    pub selectors: Vec<Selector>,
    /// Selectors that only moderate (type C) and are not candidates here.
    pub moderators: Vec<Selector>,
    /// Indices of `selectors` whose values also define restricted populations (type B).
    pub segments: Vec<usize>,
    /// Binary outcomes.
    pub outcomes: Vec<Outcome>,
    /// Follow-up for `decay`, when computed.
    pub follow: Option<Follow>,
    /// Confounders.
    pub confounders: Vec<Confounder>,
    /// Owner of each unit (index into the dataset's owner names; `u32::MAX` none).
    pub owners: Vec<u32>,
    /// Account of each unit (index; `u32::MAX` none).
    pub accounts: Vec<u32>,
}

impl Population {
    /// Number of units.
    pub fn len(&self) -> usize {
        self.deal_ids.len()
    }

    /// Whether the population holds no unit.
    pub fn is_empty(&self) -> bool {
        self.deal_ids.is_empty()
    }

    /// Looks a selector up by name among candidates and moderators.
    pub fn selector(&self, name: &str) -> Option<&Selector> {
        self.selectors
            .iter()
            .chain(self.moderators.iter())
            .find(|s| s.name == name)
    }
}

/// Everything one mining run reads.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Population contexts.
    pub populations: Vec<Population>,
    /// The data cutoff (Unix seconds).
    pub cutoff: i64,
    /// Window W of the binary outcomes, in days.
    pub window_days: i64,
}
