//! A seeded demo team history: two years of a B2B sales team's deals, written into the cache,
//! with four patterns planted through the generating probabilities and a dozen attributes that
//! have no effect at all.
//!
//! # The world
//!
//! `as_of` (default 2026-11-23T00:00:00Z) is the demo's "now". Deals are created over
//! [as_of − 730 d, as_of − 7 d] at a steadily rising rate (a growing team): about 2× a year, so
//! the second year holds about twice the deals of the first. About 30% of deals are still open at
//! `as_of`: deals in flight and, making up about half of the open deals, "no decision" deals
//! lingering before Demo (below). Three teams of four reps; companies (about one per 2.5 deals)
//! with an industry, a size band (which sets only the deal amount), a buying center (engineering
//! 40%, finance 35%, operations 25%) and 3–6 contacts with realistic titles. One pipeline with
//! HubSpot's default stage ids. Each deal's whole life is simulated (stage path and durations,
//! close-date and amount changes, calls, meetings, emails and notes with its company's contacts)
//! and then cut at `as_of`: nothing after `as_of` is written, and the deal's current stage,
//! flags, amount and close date are those at `as_of`. Closed deals carry a free-text reason and a
//! taxonomy code (deal property `closed_reason_code`), drawn last from the deal's facts; reasons
//! are post-close facts and influence nothing.
//!
//! # "No decision" deals
//!
//! 40% of deals die before Demo (25% in Discovery, then 20% of the rest in Qualified). 70% of
//! those (about 28% of all deals) are never disqualified: after a normal stay in Discovery or
//! Qualified the customer goes quiet for good (no call, meeting or inbound email again), the rep
//! sends one to three one-way chases, and the deal lingers open in its stage until a pipeline
//! clean-up closes it lost ("no decision", mostly). Clean-ups come in the last 10 days of a
//! calendar quarter: at the first clean-up at least 45 days after the last conversation with
//! probability 0.3, else at a later quarter's (at most eight quarters later). The rep edits the
//! close date (a first guess 45–120 days after creation, then slips, pushes and pull-ins at the
//! same base rates as in other deals before Demo) only while the deal is worked, so the date
//! passes while the deal lingers, and the clean-up moves it to the day of closing. More than
//! half of these deals are still open at `as_of`, most of them past their close date: the
//! stalled and past-close-date deals of the review queue. The other deals that die before Demo
//! are disqualified while still being worked. Only deals that never reach Demo linger, so
//! nothing about them touches the planted patterns, which are all measured from T_demo or
//! T_proposal on.
//!
//! # The planted patterns
//!
//! T_stage is the deal's first entry into that stage (stage history); W = 90 days. "Two-way"
//! activity is a call, a meeting or an inbound email. Magnitudes are the generating
//! probabilities in [`planted`].
//!
//! 1. **Single-threaded deals slip about 2.4× as often after Demo.** Population: deals that reach
//!    Demo. Exposure `single_threaded`: at most one distinct contact took part in the deal's
//!    activities with `occurred_at ≤ T_demo` (prevalence 0.35). Outcome: a close-date change in
//!    (T_demo, T_demo + 90 d] that moves the date later by ≥ 7 days. P = 0.60 single-threaded vs
//!    0.25 otherwise (RR 2.4). The slip happens while the deal is open. Slips before Demo (15%) and
//!    after T_demo + 90 d (30% of deals still open then) occur at rates independent of threading;
//!    every other close-date change moves the date by less than 7 days later (small pushes,
//!    pull-ins, and the close-date update the CRM makes at closing), except the clean-up that
//!    closes a "no decision" deal, which never reaches Demo.
//! 2. **CTO engagement raises the win rate in engineering-led accounts, not elsewhere.**
//!    Population: deals that reach Demo. Exposure `cto_engaged`: a contact titled `CTO` took part
//!    in an activity with `occurred_at ≤ T_demo` (prevalence 0.40 in every segment). Outcome: the
//!    deal is eventually won. P(win) = 0.55 with vs 0.25 without in `buying_center =
//!    "engineering"` (RR 2.2); 0.35 vs 0.35 in finance- and operations-led accounts. Every deal
//!    closes within 180 days of Demo, so the final outcome is fully observed for deals with
//!    T_demo + 180 d ≤ as_of (what the tests measure). Stage timing does not depend on the CTO and
//!    about three quarters of wins come within 90 days of Demo, so the engine's 90-day `won`
//!    outcome shows the same ratio at a lower level (about 0.41 vs 0.19).
//! 3. **Proposal-stage deals without a live economic buyer stall more and move slower.**
//!    Population: deals that reach Proposal. Exposure `economic_buyer_live`: a contact titled
//!    `CFO`, `VP Finance` or `Controller` took part in an activity in [T_proposal − 30 d,
//!    T_proposal] (prevalence 0.50). Effects: P(a gap of ≥ 21 days between consecutive two-way
//!    activities during Proposal) = 0.15 with vs 0.55 without; time in Proposal is drawn as
//!    8 d + Gamma with mean 20 d with vs 40 d without, and a stall lengthens a short stay, so
//!    deals that move on to Negotiation spend about 22 vs 42 days there (about 2×); lost deals
//!    that reach Proposal are lost in Proposal 45% with vs 75% without (else in Negotiation). The
//!    win rate does not depend on the economic buyer. Stays in Proposal are at most 90 days.
//! 4. **Competitor mentions in late-stage calls raise discount pressure unless a business case
//!    was anchored earlier.** Population: deals that reach Proposal, all of which are still open
//!    at the landmark L = T_proposal + 14 d. Exposure `competitor_mentioned`: a call or meeting in
//!    [T_proposal, L] whose body names one of [`COMPETITORS`] (prevalence 0.40). Moderator
//!    `business_case_anchored`: an activity body containing [`BUSINESS_CASE_PHRASE`] with
//!    `occurred_at < T_proposal` (prevalence 0.40). Outcome `discount_pressure` in (L, L + 90 d]:
//!    an activity body containing [`DISCOUNT_WORD`] and/or an amount change that lowers the amount
//!    by ≥ 10%. Planted as a discount ask, with probability 0.7 followed within a week by an
//!    amount cut of 12–25%. P = 0.55 with vs 0.25 without a competitor when not anchored (RR 2.2);
//!    0.25 vs 0.25 when anchored. No other activity contains "discount"; other amount changes are
//!    increases or trims of at most about 5%.
//!
//! Between consecutive two-way activities there are always fewer than 21 days, except in the
//! planted stalls of pattern 3 (which begin and end inside Proposal). The last two-way activity
//! is less than 21 days before the close, except in "no decision" deals, which go quiet for good
//! at least 45 days before their clean-up (and never reach Demo). The exposures are drawn
//! independently of each other and of everything else.
//!
//! # Null attributes
//!
//! Drawn independently of everything and read by nothing: the deal properties `lead_source`,
//! `deal_type`, `product_line`, `contract_term`, `billing_frequency`, `partner_involved`,
//! `trial_requested`, `campaign`, `sdr_sourced` and `payment_terms`, and the company properties
//! `region` and `ownership`. Industry, size band (beyond the amount) and the owner have no effect
//! on any outcome either.
//!
//! # Determinism
//!
//! The generation is pure: no clock, no I/O, only `ChaCha8Rng` streams keyed by the seed (one for
//! the reference data, one per deal). The same [`DemoSpec`] gives identical cache content on the
//! same platform, whatever the thread timing; a different seed gives a different history.

mod sim;
mod vocab;
mod world;
mod write;

pub use sim::{DealBundle, Planted};
pub use vocab::{
    ALL_TITLES, BUSINESS_CASE_PHRASE, COMPETITORS, DISCOUNT_WORD, ECONOMIC_BUYER_TITLES,
    SECURITY_REVIEW_PHRASE, TITLE_CFO, TITLE_CONTROLLER, TITLE_COO, TITLE_CTO,
    TITLE_ENGINEERING_MANAGER, TITLE_HEAD_OF_PLATFORM, TITLE_HEAD_OF_PRODUCT, TITLE_IT_DIRECTOR,
    TITLE_OPERATIONS_MANAGER, TITLE_PROCUREMENT_MANAGER, TITLE_PRODUCT_MANAGER,
    TITLE_SECURITY_LEAD, TITLE_VP_ENGINEERING, TITLE_VP_FINANCE,
};
pub use world::DemoWorld;

use crate::domain::time::from_unix;
use crate::domain::{ActivityId, DealId};
use crate::store::{Store, StoreError};
use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use serde::Serialize;

/// Seconds in a day.
const DAY: i64 = crate::domain::DAY;
/// Seconds in an hour.
const HOUR: i64 = 3_600;

/// The source name of demo deals.
pub const SOURCE: &str = "demo";

/// HubSpot's default stage ids, as the demo pipeline uses them.
pub mod stage_ids {
    /// "Discovery" (probability 0.1).
    pub const DISCOVERY: &str = "appointmentscheduled";
    /// "Qualified" (0.2).
    pub const QUALIFIED: &str = "qualifiedtobuy";
    /// "Demo" (0.4).
    pub const DEMO: &str = "presentationscheduled";
    /// "Proposal" (0.6).
    pub const PROPOSAL: &str = "decisionmakerboughtin";
    /// "Negotiation" (0.8).
    pub const NEGOTIATION: &str = "contractsent";
    /// "Closed Won" (closed, won).
    pub const CLOSED_WON: &str = "closedwon";
    /// "Closed Lost" (closed).
    pub const CLOSED_LOST: &str = "closedlost";
}

/// The definitions and generating magnitudes of the planted patterns (see the module docs).
pub mod planted {
    /// W: the fixed horizon of binary outcomes, in days.
    pub const WINDOW_DAYS: i64 = 90;
    /// A slip moves the close date later by at least this many days.
    pub const SLIP_MIN_DAYS: i64 = 7;
    /// Pattern 3: the economic buyer is live if engaged this many days before Proposal.
    pub const EB_LOOKBACK_DAYS: i64 = 30;
    /// Pattern 4: the landmark, in days after Proposal.
    pub const LANDMARK_DAYS: i64 = 14;
    /// Pattern 3: a stall is at least this many days without two-way activity.
    pub const STALL_GAP_DAYS: i64 = 21;
    /// Every deal that reaches Demo closes within this many days of it.
    pub const DEMO_TO_CLOSE_MAX_DAYS: i64 = 180;
    /// No deal stays in Proposal longer than this many days.
    pub const PROPOSAL_MAX_DAYS: i64 = 90;

    /// The deal properties drawn independently of everything and read by nothing.
    pub const NULL_DEAL_PROPERTIES: [&str; 10] = [
        "lead_source",
        "deal_type",
        "product_line",
        "contract_term",
        "billing_frequency",
        "partner_involved",
        "trial_requested",
        "campaign",
        "sdr_sourced",
        "payment_terms",
    ];
    /// The company properties drawn independently of everything and read by nothing.
    pub const NULL_COMPANY_PROPERTIES: [&str; 2] = ["region", "ownership"];

    /// Pattern 1: prevalence of single-threaded deals at Demo.
    pub const P_SINGLE_THREADED: f64 = 0.35;
    /// Pattern 1: P(slip in the window) when single-threaded.
    pub const P_SLIP_SINGLE_THREADED: f64 = 0.60;
    /// Pattern 1: P(slip in the window) otherwise.
    pub const P_SLIP_MULTI_THREADED: f64 = 0.25;

    /// Pattern 2: prevalence of CTO engagement at Demo.
    pub const P_CTO_ENGAGED: f64 = 0.40;
    /// Pattern 2: P(win) in engineering-led accounts with the CTO engaged.
    pub const P_WIN_ENGINEERING_CTO: f64 = 0.55;
    /// Pattern 2: P(win) in engineering-led accounts without.
    pub const P_WIN_ENGINEERING_NO_CTO: f64 = 0.25;
    /// Pattern 2: P(win) in every other account, with or without the CTO.
    pub const P_WIN_ELSEWHERE: f64 = 0.35;

    /// Pattern 3: prevalence of a live economic buyer at Proposal.
    pub const P_ECONOMIC_BUYER_LIVE: f64 = 0.50;
    /// Pattern 3: P(stall in Proposal) with a live economic buyer.
    pub const P_STALL_WITH_EB: f64 = 0.15;
    /// Pattern 3: P(stall in Proposal) without.
    pub const P_STALL_WITHOUT_EB: f64 = 0.55;
    /// Pattern 3: mean days in Proposal (before stall extensions) with a live economic buyer.
    pub const PROPOSAL_MEAN_DAYS_WITH_EB: f64 = 20.0;
    /// Pattern 3: mean days in Proposal (before stall extensions) without.
    pub const PROPOSAL_MEAN_DAYS_WITHOUT_EB: f64 = 40.0;

    /// Pattern 4: prevalence of a competitor mention in [T_proposal, landmark].
    pub const P_COMPETITOR_MENTIONED: f64 = 0.40;
    /// Pattern 4: prevalence of a business case anchored before Proposal.
    pub const P_BUSINESS_CASE_ANCHORED: f64 = 0.40;
    /// Pattern 4: P(discount pressure) with a competitor mention and no anchored business case.
    pub const P_DISCOUNT_COMPETITOR_NOT_ANCHORED: f64 = 0.55;
    /// Pattern 4: P(discount pressure) without a competitor mention, not anchored.
    pub const P_DISCOUNT_BASE: f64 = 0.25;
    /// Pattern 4: P(discount pressure) when the business case was anchored, either way.
    pub const P_DISCOUNT_ANCHORED: f64 = 0.25;
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSpec {
    /// How many deals.
    pub deals: usize,
    /// The seed of every random draw.
    pub seed: u64,
    /// The demo's "now": the data cutoff.
    pub as_of: Timestamp,
}

impl DemoSpec {
    /// Deals in a default demo: enough for every planted pattern to surface.
    pub const DEFAULT_DEALS: usize = 2_000;
    /// The default seed.
    pub const DEFAULT_SEED: u64 = 42;

    /// The default cutoff, 2026-11-23T00:00:00Z: a constant rather than the clock, so that the
    /// same seed always gives the same cache.
    pub fn default_as_of() -> Timestamp {
        from_unix(1_795_392_000)
    }
}

impl Default for DemoSpec {
    fn default() -> Self {
        DemoSpec {
            deals: Self::DEFAULT_DEALS,
            seed: Self::DEFAULT_SEED,
            as_of: Self::default_as_of(),
        }
    }
}

/// What [`write_demo`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// Deals written.
    pub deals: usize,
    /// Deals open at `as_of`.
    pub open: usize,
    /// Deals won by `as_of`.
    pub won: usize,
    /// Deals lost by `as_of`.
    pub lost: usize,
    /// Companies written.
    pub companies: usize,
    /// Contacts written.
    pub contacts: usize,
    /// Activities written.
    pub activities: usize,
    /// Rows written in all tables together.
    pub rows: usize,
}

/// Why the demo was not written. Nothing in the cache changes when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The cache holds deals from a real CRM, which the demo would replace.
    #[error(
        "the cache already holds {deals} deals from {sources}; the demo replaces every deal in \
         the cache, so use --db to write the demo elsewhere"
    )]
    CacheInUse {
        /// How many deals are not demo deals.
        deals: i64,
        /// Their sources, comma-separated.
        sources: String,
    },
    /// The demo in the cache has reviews, decision traces or lessons, which would be orphaned.
    #[error(
        "the demo in this cache has {reviews} reviews, {traces} decision traces and {lessons} \
         lessons; replacing it would orphan them, so use --db to write the demo elsewhere"
    )]
    HasReviews {
        /// Reviews in the cache.
        reviews: i64,
        /// Decision traces in the cache.
        traces: i64,
        /// Lessons in the cache.
        lessons: i64,
    },
    /// The cache could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Replaces any previous demo in the cache with a freshly generated history, in one transaction
/// (a crash or an error leaves the previous state).
///
/// Refuses a cache that holds deals from another source, or reviews, decision traces or lessons.
/// The generation runs on a second thread while this one writes; for the duration of the write
/// the connection skips fsyncs and foreign-key checks (the data is consistent by construction),
/// and the previous settings are restored afterwards.
pub fn write_demo(store: &mut Store, spec: &DemoSpec) -> Result<DemoSummary, DemoError> {
    let world = DemoWorld::new(spec);
    write::write(store, &world)
}

/// The demo's random stream for one purpose (`stream`) and item (`index`): the seed, stream and
/// index together form the ChaCha key, so streams never overlap and each deal's draws do not
/// depend on how many draws other deals made.
fn rng_for(seed: u64, stream: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&stream.to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    key[24..].copy_from_slice(b"dealtrce");
    ChaCha8Rng::from_seed(key)
}

/// HubSpot-like numeric deal ids, increasing with creation.
fn deal_id(i: usize) -> DealId {
    (12_000_000_001u64 + 3 * i as u64).to_string().into()
}

/// Numeric activity ids, increasing with time within a deal (room for 10,000 per deal; a deal
/// has a few dozen at most).
fn activity_id(deal: usize, k: usize) -> ActivityId {
    (40_000_000_000u64 + 10_000 * deal as u64 + k as u64)
        .to_string()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cutoff_is_the_documented_instant() {
        let expected: Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        assert_eq!(DemoSpec::default_as_of(), expected);
    }

    #[test]
    fn generation_is_pure_and_seeded() {
        let spec = DemoSpec {
            deals: 40,
            ..DemoSpec::default()
        };
        let a = DemoWorld::new(&spec);
        let b = DemoWorld::new(&spec);
        assert_eq!(a.companies, b.companies);
        assert_eq!(a.contacts, b.contacts);
        for i in 0..40 {
            let (x, y) = (sim::simulate(&a, i), sim::simulate(&b, i));
            assert_eq!(x.deal, y.deal);
            assert_eq!(x.activities, y.activities);
        }
        let other = DemoWorld::new(&DemoSpec { seed: 7, ..spec });
        assert_ne!(a.contacts, other.contacts);
    }
}
