//! One deal's whole life, simulated from its own seeded stream and then cut at `as_of`.
//!
//! The order of work matters for honesty: null attributes and exposures are drawn first and
//! independently; the outcomes of the planted patterns are drawn from probabilities that depend
//! only on the documented exposures; the activities are then laid out so that each exposure, as
//! the pattern engine will measure it from the written facts, equals the drawn flag; reasons are
//! drawn last and feed nothing.

use super::vocab::{
    BILLING_FREQUENCIES, BUSINESS_CASE_NOTES, CAMPAIGNS, CHASE_EMAILS, CLEANUP_NOTES,
    COMPETITOR_TALK, COMPETITORS, CONTRACT_TERMS, DEAL_TYPES, DISCOUNT_ASKS, EB_MEETING, INBOUND,
    LEAD_SOURCES, LOST_NOTES, MEETING_SUBJECTS, NOTES, OUTBOUND, PAYMENT_TERMS, PRODUCT_LINES,
    RESUME_TALK, SECURITY_TALK, TALK, WON_NOTES, YES_NO,
};
use super::world::{DemoWorld, P_HAS_CTO, P_HAS_ECONOMIC_BUYER, Staff, pick, weighted};
use super::{DAY, HOUR, planted, rng_for, stage_ids};
use crate::domain::time::from_unix;
use crate::domain::{
    Activity, ActivityKind, AmountChange, CloseDateChange, DealRole, Direction, StageChange,
    Stakeholder,
};
use crate::domain::{Deal, DealHistory};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal};
use std::collections::BTreeMap;

/// One generated deal, ready to write: the deal as of `as_of`, its field history, stakeholders
/// and activities (all cut at `as_of`), and the truth behind them.
#[derive(Debug, Clone)]
pub struct DealBundle {
    /// The deal as the CRM shows it at `as_of`.
    pub deal: Deal,
    /// Stage, amount and close-date history up to `as_of`.
    pub history: DealHistory,
    /// Contacts involved by `as_of`, with their first involvement.
    pub stakeholders: Vec<Stakeholder>,
    /// Calls, meetings, emails and notes up to `as_of`, oldest first.
    pub activities: Vec<Activity>,
    /// What the generator drew for this deal (never written to the cache).
    pub planted: Planted,
}

/// The planted exposures and events of one deal as drawn, for tests and diagnostics. The cache
/// does not hold these flags: the pattern engine has to recover them from the facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Planted {
    /// The deal reaches Demo in its full (uncut) life.
    pub reached_demo: bool,
    /// The deal reaches Proposal in its full life.
    pub reached_proposal: bool,
    /// Pattern 1 exposure: at most one contact involved up to Demo.
    pub single_threaded: bool,
    /// Pattern 2 exposure: the CTO took part in an activity up to Demo.
    pub cto_engaged: bool,
    /// Pattern 3 exposure: an economic buyer took part in the 30 days up to Proposal.
    pub economic_buyer_live: bool,
    /// Pattern 4 exposure: a competitor was named in a call in the first 14 days of Proposal.
    pub competitor_mentioned: bool,
    /// Pattern 4 moderator: a business case / ROI sign-off note before Proposal.
    pub business_case_anchored: bool,
    /// Pattern 1 outcome: a planted slip in the 90 days after Demo.
    pub slipped_after_demo: bool,
    /// Pattern 3 event: a two-way gap of 21+ days during Proposal.
    pub stalled_in_proposal: bool,
    /// Pattern 4 outcome: a discount ask 14–104 days after Proposal.
    pub discount_pressure: bool,
    /// The deal is won in its full life.
    pub won: bool,
    /// A "no decision" deal: it never reaches Demo, goes quiet in Discovery or Qualified and
    /// lingers open until a pipeline clean-up closes it lost (possibly after `as_of`).
    pub no_decision: bool,
}

/// Share of the deals that die before Demo which are never disqualified: the customer goes
/// quiet and the deal lingers open ("no decision") until a pipeline clean-up closes it.
const P_NO_DECISION: f64 = 0.7;
/// A clean-up closes a quiet deal no sooner than this many days after its last conversation.
const CLEANUP_MIN_QUIET_DAYS: i64 = 45;
/// Clean-ups happen in the last this many days of a calendar quarter.
const CLEANUP_WINDOW_DAYS: i64 = 10;
/// At each quarter's clean-up a quiet deal is closed with this probability; the rep keeps it
/// open until the next quarter otherwise.
const P_CLEANUP: f64 = 0.3;
/// A quiet deal survives at most this many clean-ups.
const CLEANUP_MAX_SKIPS: u32 = 8;

/// A gamma variate with the given shape and mean (in the caller's unit).
fn gamma(rng: &mut ChaCha8Rng, shape: f64, mean: f64) -> f64 {
    // The parameters are constants that are always valid; the fallback only keeps this total.
    Gamma::new(shape, mean / shape).map_or(mean, |g| g.sample(rng))
}

/// Fractional days as seconds.
fn days_f(d: f64) -> i64 {
    (d * DAY as f64).round() as i64
}

/// A uniform instant in [lo, hi); `lo` when the interval is empty.
fn between(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// A uniform instant in [lo, hi) outside the open interval `zone`, if there is room.
fn between_outside(rng: &mut ChaCha8Rng, lo: i64, hi: i64, zone: Option<(i64, i64)>) -> i64 {
    let Some((zs, ze)) = zone else {
        return between(rng, lo, hi);
    };
    // Free parts: [lo, min(hi, zs)] and [max(lo, ze), hi).
    let a_len = (hi.min(zs + 1) - lo).max(0);
    let b_start = lo.max(ze);
    let b_len = (hi - b_start).max(0);
    if a_len + b_len == 0 {
        return b_start.min(hi);
    }
    let x = rng.random_range(0..a_len + b_len);
    if x < a_len {
        lo + x
    } else {
        b_start + (x - a_len)
    }
}

fn floor_day(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m)
}

/// The first instant (UTC midnight) of the calendar quarter after the one containing `t`.
fn next_quarter_start(t: i64) -> i64 {
    let (y, m) = civil_from_days(t.div_euclid(DAY));
    let q = (m - 1) / 3 * 3 + 4;
    let (y, q) = if q > 12 { (y + 1, q - 12) } else { (y, q) };
    days_from_civil(y, q, 1) * DAY
}

/// When a pipeline clean-up closes a deal that went quiet at `quiet`: late in a calendar
/// quarter, at the first quarter's clean-up at least [`CLEANUP_MIN_QUIET_DAYS`] later with
/// probability [`P_CLEANUP`], else at one of the following quarters'.
fn cleanup(rng: &mut ChaCha8Rng, quiet: i64) -> i64 {
    let mut end = next_quarter_start(quiet + (CLEANUP_MIN_QUIET_DAYS + CLEANUP_WINDOW_DAYS) * DAY);
    for _ in 0..CLEANUP_MAX_SKIPS {
        if rng.random_bool(P_CLEANUP) {
            break;
        }
        end = next_quarter_start(end);
    }
    end - between(rng, HOUR, CLEANUP_WINDOW_DAYS * DAY)
}

/// Where a deal's life ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LostAt {
    Discovery,
    Qualified,
    Demo,
    Proposal,
    Negotiation,
}

/// Stage entry instants of the full life.
#[derive(Debug, Clone, Copy)]
struct Life {
    qualified: Option<i64>,
    demo: Option<i64>,
    proposal: Option<i64>,
    negotiation: Option<i64>,
    close: i64,
}

impl Life {
    /// Phase index (0 Discovery … 4 Negotiation) of an instant in the open life.
    fn phase(&self, t: i64) -> usize {
        let past = |s: Option<i64>| s.is_some_and(|s| t >= s);
        if past(self.negotiation) {
            4
        } else if past(self.proposal) {
            3
        } else if past(self.demo) {
            2
        } else if past(self.qualified) {
            1
        } else {
            0
        }
    }
}

/// An activity before ids are assigned; `who` indexes [`DemoWorld::contacts`].
struct Plan {
    t: i64,
    kind: ActivityKind,
    direction: Option<Direction>,
    subject: Option<String>,
    body: String,
    who: Vec<u32>,
    /// A background conversation whose body may be swapped for a competitor or security line.
    swappable: bool,
}

/// Values for template placeholders.
struct Vars<'a> {
    name: &'a str,
    company: &'a str,
    competitor: &'a str,
    n: u32,
    weeks: u32,
    pct: u32,
}

/// Fills `{name}`, `{company}`, `{competitor}`, `{n}`, `{weeks}` and `{pct}` in one pass.
fn fill(template: &str, v: &Vars<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 24);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        match &after[..close] {
            "name" => out.push_str(v.name),
            "company" => out.push_str(v.company),
            "competitor" => out.push_str(v.competitor),
            "n" => out.push_str(&v.n.to_string()),
            "weeks" => out.push_str(&v.weeks.to_string()),
            "pct" => out.push_str(&v.pct.to_string()),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Who can take part in an activity at a given instant.
struct Cast<'a> {
    world: &'a DemoWorld,
    /// Up to Demo (and for deals that never reach it): the only people involved.
    pre_demo: Vec<u32>,
    champion: u32,
    demo: Option<i64>,
    /// People who join after Demo, each from an instant on.
    later: Vec<(i64, u32)>,
}

impl Cast<'_> {
    fn pool(&self, t: i64) -> Vec<u32> {
        let mut pool = self.pre_demo.clone();
        if self.demo.is_some_and(|d| t > d) {
            pool.extend(
                self.later
                    .iter()
                    .filter(|(since, c)| t >= *since && !pool.contains(c))
                    .map(|(_, c)| *c)
                    .collect::<Vec<_>>(),
            );
        }
        pool
    }

    /// One to `max` distinct participants, the champion most often among them.
    fn pick(&self, rng: &mut ChaCha8Rng, t: i64, max: usize) -> Vec<u32> {
        let mut pool = self.pool(t);
        let mut who = Vec::with_capacity(max);
        if rng.random_bool(0.5) && pool.contains(&self.champion) {
            who.push(self.champion);
            pool.retain(|c| *c != self.champion);
        }
        let want = if max > 1 && rng.random_bool(0.35) {
            2.min(max)
        } else {
            1
        };
        let want = if max > 2 && want == 2 && rng.random_bool(0.2) {
            3
        } else {
            want
        };
        while who.len() < want && !pool.is_empty() {
            let k = rng.random_range(0..pool.len());
            who.push(pool.swap_remove(k));
        }
        who
    }

    fn first_name(&self, c: u32) -> &str {
        let name = self
            .world
            .contacts
            .get(c as usize)
            .map_or("there", |x| x.name.as_str());
        name.split(' ').next().unwrap_or(name)
    }
}

/// Generates deal number `i` of the world's schedule.
pub(crate) fn simulate(world: &DemoWorld, i: usize) -> DealBundle {
    let spec = &world.spec;
    let slot = world.slots[i];
    let mut rng = rng_for(spec.seed, 1, i as u64);
    let rng = &mut rng;
    let as_of = spec.as_of.as_second();
    let company = &world.companies[slot.company as usize];
    let staff: &Staff = &world.staff[slot.company as usize];
    let engineering = company.buying_center.as_deref() == Some("engineering");

    // --- 1. Null attributes: drawn first, independently, and never read again. ---
    let mut properties = BTreeMap::new();
    let product_line = *pick(rng, &PRODUCT_LINES);
    let deal_type = *pick(rng, &DEAL_TYPES);
    for (name, value) in [
        ("lead_source", *pick(rng, &LEAD_SOURCES)),
        ("deal_type", deal_type),
        ("product_line", product_line),
        ("contract_term", *pick(rng, &CONTRACT_TERMS)),
        ("billing_frequency", *pick(rng, &BILLING_FREQUENCIES)),
        ("partner_involved", *pick(rng, &YES_NO)),
        ("trial_requested", *pick(rng, &YES_NO)),
        ("campaign", *pick(rng, &CAMPAIGNS)),
        ("sdr_sourced", *pick(rng, &YES_NO)),
        ("payment_terms", *pick(rng, &PAYMENT_TERMS)),
    ] {
        properties.insert(name.to_owned(), value.to_owned());
    }

    // --- 2. Exposures, each independent of everything else. Companies whose CRM lacks a CTO
    // (or an economic buyer) cannot have that exposure, so the draw is scaled up to keep the
    // planted prevalence; the lack itself is drawn independently of everything. ---
    let single = rng.random_bool(planted::P_SINGLE_THREADED);
    let cto = staff.cto.is_some() && rng.random_bool(planted::P_CTO_ENGAGED / P_HAS_CTO);
    let eb_live = !staff.economic_buyers.is_empty()
        && rng.random_bool(planted::P_ECONOMIC_BUYER_LIVE / P_HAS_ECONOMIC_BUYER);
    let competitor_late = rng.random_bool(planted::P_COMPETITOR_MENTIONED);
    let anchored = rng.random_bool(planted::P_BUSINESS_CASE_ANCHORED);

    // --- 3. The stage path and its durations. ---
    let created = slot.created;
    let mut lost_at = None;
    let mut won = false;
    if rng.random_bool(0.25) {
        lost_at = Some(LostAt::Discovery);
    } else if rng.random_bool(0.20) {
        lost_at = Some(LostAt::Qualified);
    } else {
        // Pattern 2: the final outcome of a deal that reaches Demo.
        let p_win = match (engineering, cto) {
            (true, true) => planted::P_WIN_ENGINEERING_CTO,
            (true, false) => planted::P_WIN_ENGINEERING_NO_CTO,
            (false, _) => planted::P_WIN_ELSEWHERE,
        };
        won = rng.random_bool(p_win);
        if !won {
            // Where a lost deal is lost: the share lost at Demo does not depend on the economic
            // buyer (who is only measured at Proposal); past Demo, a deal without a live economic
            // buyer dies in Proposal more often. The win rate is untouched by the economic buyer.
            lost_at = Some(if rng.random_bool(0.35) {
                LostAt::Demo
            } else if rng.random_bool(if eb_live { 0.45 } else { 0.75 }) {
                LostAt::Proposal
            } else {
                LostAt::Negotiation
            });
        }
    }
    // "No decision": most deals that die before Demo are never disqualified. The customer goes
    // quiet after a normal stay in the stage, and the deal lingers open until a pipeline
    // clean-up closes it lost, months later. Only deals that never reach Demo linger, so the
    // planted patterns (all measured from Demo on) are untouched.
    let no_decision = matches!(lost_at, Some(LostAt::Discovery | LostAt::Qualified))
        && rng.random_bool(P_NO_DECISION);
    // Days in each stage. A deal that is disqualified early lingers in its last stage before
    // someone marks it lost, as real pipelines do; past Demo every stay is capped so that each
    // deal closes within 180 days of Demo.
    let dies = |stage: LostAt| lost_at == Some(stage) && !no_decision;
    let d_disc = if dies(LostAt::Discovery) {
        gamma(rng, 2.0, 40.0).clamp(3.0, 120.0)
    } else {
        gamma(rng, 2.0, 21.0).clamp(2.0, 75.0)
    };
    let d_qual = if dies(LostAt::Qualified) {
        gamma(rng, 2.0, 35.0).clamp(3.0, 120.0)
    } else {
        gamma(rng, 2.0, 18.0).clamp(2.0, 75.0)
    };
    let d_demo = gamma(rng, 3.0, if dies(LostAt::Demo) { 30.0 } else { 24.0 }).clamp(5.0, 45.0);
    let prop_mean = if eb_live {
        planted::PROPOSAL_MEAN_DAYS_WITH_EB
    } else {
        planted::PROPOSAL_MEAN_DAYS_WITHOUT_EB
    };
    let d_prop = 8.0 + gamma(rng, 2.5, prop_mean - 8.0);
    let d_neg = gamma(rng, 3.0, 21.0).clamp(3.0, 40.0);
    let (d_disc, d_qual, d_demo, d_neg) = (
        days_f(d_disc),
        days_f(d_qual),
        days_f(d_demo),
        days_f(d_neg),
    );
    let mut d_prop = days_f(d_prop.min(planted::PROPOSAL_MAX_DAYS as f64));

    // Pattern 3: a stall during Proposal, more often without a live economic buyer.
    let reaches = |stage: LostAt| lost_at.is_none_or(|l| l as u8 >= stage as u8);
    let reached_demo = reaches(LostAt::Demo);
    let reached_proposal = reaches(LostAt::Proposal);
    let stall = reached_proposal
        && rng.random_bool(if eb_live {
            planted::P_STALL_WITH_EB
        } else {
            planted::P_STALL_WITHOUT_EB
        });
    let stall_gap = days_f(rng.random_range(22.0..35.0));
    if stall {
        // The customer goes quiet and comes back while the deal is still in Proposal.
        let needed = stall_gap + 3 * DAY + rng.random_range(0..4 * DAY);
        d_prop = d_prop.max(needed);
    }
    if lost_at == Some(LostAt::Proposal) {
        // Every deal that reaches Proposal is still open at the 14-day landmark (pattern 4).
        d_prop = d_prop.max(17 * DAY + rng.random_range(0..4 * DAY));
    }

    let mut life = Life {
        qualified: None,
        demo: None,
        proposal: None,
        negotiation: None,
        close: 0,
    };
    let t_qual = created + d_disc;
    let t_demo = t_qual + d_qual;
    let t_prop = t_demo + d_demo;
    let t_neg = t_prop + d_prop;
    life.close = match lost_at {
        Some(LostAt::Discovery) => created + d_disc,
        Some(LostAt::Qualified) => t_qual + d_qual,
        Some(LostAt::Demo) => t_demo + d_demo,
        Some(LostAt::Proposal) => t_prop + d_prop,
        Some(LostAt::Negotiation) | None => (t_neg + d_neg).max(t_prop + 17 * DAY),
    };
    // The deal is worked (conversations, field edits) until `active_end`; a "no decision" deal
    // then goes quiet until the clean-up.
    let active_end = life.close;
    if no_decision {
        life.close = cleanup(rng, active_end);
    }
    if lost_at != Some(LostAt::Discovery) {
        life.qualified = Some(t_qual);
    }
    if reached_demo {
        life.demo = Some(t_demo);
    }
    if reached_proposal {
        life.proposal = Some(t_prop);
    }
    if matches!(lost_at, Some(LostAt::Negotiation) | None) {
        life.negotiation = Some(t_neg);
    }
    let close = life.close;
    let stall_zone = if stall {
        let start = t_prop + between(rng, DAY, d_prop - stall_gap - 2 * DAY);
        Some((start, start + stall_gap))
    } else {
        None
    };

    // --- 4. Close-date history. Only the planted slip moves the date later by 7+ days inside
    // the 90 days after Demo. The rep edits a "no decision" deal only while it is worked. ---
    let mut deltas: Vec<(i64, i64)> = Vec::new();
    let mut slipped_after_demo = false;
    let before_demo_end = life.demo.unwrap_or(active_end);
    if rng.random_bool(0.15) && before_demo_end - HOUR > created + DAY {
        let t = between(rng, created + DAY, before_demo_end - HOUR);
        deltas.push((t, rng.random_range(7..=30) * DAY));
    }
    if let Some(demo) = life.demo {
        let p = if single {
            planted::P_SLIP_SINGLE_THREADED
        } else {
            planted::P_SLIP_MULTI_THREADED
        };
        if rng.random_bool(p) {
            slipped_after_demo = true;
            let end = (demo + planted::WINDOW_DAYS * DAY).min(close - HOUR);
            let t = between(rng, demo + HOUR, end);
            deltas.push((t, rng.random_range(14..=45) * DAY));
        }
        let after = demo + planted::WINDOW_DAYS * DAY;
        if close > after + 2 * DAY && rng.random_bool(0.3) {
            let t = between(rng, after + HOUR, close - HOUR);
            deltas.push((t, rng.random_range(7..=30) * DAY));
        }
    }
    if rng.random_bool(0.2) {
        let t = between(rng, created + HOUR, active_end - HOUR);
        deltas.push((t, rng.random_range(1..=5) * DAY));
    }
    if rng.random_bool(0.15) {
        let t = between(rng, created + HOUR, active_end - HOUR);
        deltas.push((t, -rng.random_range(3..=14) * DAY));
    }
    deltas.sort_by_key(|d| d.0);
    // The first expected date is worked back from the real close, so that the date the CRM
    // writes at closing never moves it later by 7+ days: before closing it stands at
    // close + slack, with slack in [−5, 30] days. A "no decision" deal instead keeps the rep's
    // first guess (a normal sales cycle) and its edits: its close date passes while it lingers,
    // and the clean-up moves it to the day of closing.
    let slack = rng.random_range(-5..=30) * DAY;
    let total: i64 = deltas.iter().map(|d| d.1).sum();
    let v0 = if no_decision {
        floor_day(created) + rng.random_range(45..=120) * DAY
    } else {
        (floor_day(close) + slack - total).max(floor_day(created) + 14 * DAY)
    };
    let mut close_dates = vec![(created, v0)];
    let mut current = v0;
    for (t, d) in &deltas {
        current += d;
        close_dates.push((*t, current));
    }
    close_dates.push((close, close));

    // --- 5. Amounts. ---
    let base: f64 = match company.size_band.as_deref() {
        Some("1-50") => 8_000.0,
        Some("51-200") => 20_000.0,
        Some("201-1000") => 45_000.0,
        Some("1001-5000") => 90_000.0,
        _ => 180_000.0,
    };
    let noise = LogNormal::new(0.0, 0.35).map_or(1.0, |d| d.sample(rng));
    let a0: f64 = (base * noise / 100.0).round() * 100.0;
    let mut factors: Vec<(i64, f64)> = Vec::new();
    if rng.random_bool(0.2) {
        let t = between(rng, created + DAY, active_end - HOUR);
        factors.push((t, rng.random_range(1.05..1.20)));
    }
    if rng.random_bool(0.1) {
        let t = between(rng, created + DAY, active_end - HOUR);
        factors.push((t, rng.random_range(0.95..0.98)));
    }

    // --- 6. Pattern 4: discount pressure after the landmark. ---
    let landmark = t_prop + planted::LANDMARK_DAYS * DAY;
    let mut discount_ask: Option<i64> = None;
    if reached_proposal {
        let p = match (anchored, competitor_late) {
            (false, true) => planted::P_DISCOUNT_COMPETITOR_NOT_ANCHORED,
            (false, false) => planted::P_DISCOUNT_BASE,
            (true, _) => planted::P_DISCOUNT_ANCHORED,
        };
        if rng.random_bool(p) {
            let end = (landmark + planted::WINDOW_DAYS * DAY).min(close) - HOUR;
            let ask = between_outside(rng, landmark + HOUR, end, stall_zone);
            discount_ask = Some(ask);
            if rng.random_bool(0.7) {
                let room = (end - ask).clamp(0, 7 * DAY);
                let t = ask
                    + if room > 2 * HOUR {
                        rng.random_range(HOUR..room)
                    } else {
                        room / 2
                    };
                factors.push((t, rng.random_range(0.75..0.88)));
            }
        }
    }
    factors.sort_by_key(|a| a.0);
    let mut amounts = vec![(created, a0)];
    let mut amount = a0;
    for (t, f) in &factors {
        amount = (amount * f / 10.0).round() * 10.0;
        amounts.push((*t, amount));
    }

    // --- 7. Who is involved. ---
    let champion = if single && cto {
        staff.cto.unwrap_or(staff.others[0])
    } else {
        *pick(rng, &staff.others)
    };
    let mut pre_demo = vec![champion];
    if !single {
        let second = if cto {
            staff.cto.unwrap_or(champion)
        } else {
            let rest: Vec<u32> = staff
                .others
                .iter()
                .copied()
                .filter(|c| *c != champion)
                .collect();
            *pick(rng, &rest)
        };
        pre_demo.push(second);
        let spare: Vec<u32> = staff
            .others
            .iter()
            .copied()
            .filter(|c| !pre_demo.contains(c))
            .collect();
        if !spare.is_empty() && rng.random_bool(0.35) {
            pre_demo.push(*pick(rng, &spare));
        }
    }
    let eb = if staff.economic_buyers.is_empty() {
        None
    } else {
        Some(*pick(rng, &staff.economic_buyers))
    };
    let mut cast = Cast {
        world,
        pre_demo,
        champion,
        demo: life.demo,
        later: Vec::new(),
    };
    if let Some(demo) = life.demo {
        let spare: Vec<u32> = staff
            .others
            .iter()
            .copied()
            .filter(|c| !cast.pre_demo.contains(c))
            .collect();
        if !spare.is_empty() && rng.random_bool(0.5) {
            let who = *pick(rng, &spare);
            cast.later.push((between(rng, demo + HOUR, close), who));
        }
        if let Some(c) = staff.cto.filter(|c| !cast.pre_demo.contains(c))
            && rng.random_bool(0.3)
        {
            // A CTO who joins after Demo does not count as engaged at Demo (pattern 2).
            cast.later.push((between(rng, demo + HOUR, close), c));
        }
        if let (Some(p), Some(neg)) = (staff.procurement, life.negotiation) {
            cast.later.push((neg, p));
        }
    }

    // Pattern 3 exposure: the economic buyer in the 30 days up to Proposal, or not. Decided
    // before the background activities, which may then include the economic buyer from the
    // meeting on.
    let mut eb_meetings: Vec<i64> = Vec::new();
    if let (Some(eb), Some(demo), Some(prop)) = (eb, life.demo, life.proposal) {
        let lookback = prop - planted::EB_LOOKBACK_DAYS * DAY;
        if eb_live {
            let t = between(rng, (demo + HOUR).max(lookback), prop - HOUR);
            eb_meetings.push(t);
            cast.later.push((t, eb));
        } else {
            if lookback - HOUR > demo + HOUR && rng.random_bool(0.3) {
                // Engaged early, then quiet: not live at Proposal.
                eb_meetings.push(between(rng, demo + HOUR, lookback - HOUR));
            }
            if let Some(neg) = life.negotiation
                && rng.random_bool(0.7)
            {
                // Looped in late in Proposal, after any stall; then the deal moves on.
                let from = stall_zone.map_or(prop + HOUR, |(_, e)| e + HOUR);
                let t = between(rng, from, neg - HOUR);
                eb_meetings.push(t);
                cast.later.push((t, eb));
            }
        }
    }
    let eb_ever = !eb_meetings.is_empty();

    // --- 8. Activities. ---
    let mut plans: Vec<Plan> = Vec::with_capacity(24);
    let company_name = company.name.as_str();
    let text = |rng: &mut ChaCha8Rng, templates: &[&str], cast: &Cast<'_>, who: &[u32]| -> String {
        let template = *pick(rng, templates);
        let name = who.first().map_or("the team", |c| cast.first_name(*c));
        let (n, weeks) = (rng.random_range(2..=12), rng.random_range(2..=8));
        fill(
            template,
            &Vars {
                name,
                company: company_name,
                competitor: "",
                n,
                weeks,
                pct: 0,
            },
        )
    };

    // Background two-way activities: the first within three days, then gaps under 18 days
    // until the close (a "no decision" deal: until it goes quiet), so that only a planted stall
    // leaves 21+ days without the customer between two conversations.
    let first_bound = life.demo.unwrap_or(active_end);
    let first = created
        + between(
            rng,
            HOUR,
            (3 * DAY).min((first_bound - created) / 2).max(HOUR + 1),
        );
    let mut times = Vec::with_capacity(16);
    let mut t = first;
    while t < active_end {
        times.push(t);
        t += days_f((0.5 + gamma(rng, 2.0, 9.0)).min(18.0));
    }
    if let Some((s, e)) = stall_zone {
        times.retain(|t| *t < s || *t > e);
        times.push(s);
        times.push(e);
        times.sort_unstable();
    }
    for (k, &t) in times.iter().enumerate() {
        let phase = life.phase(t);
        let resume = stall_zone.is_some_and(|(_, e)| e == t);
        let (kind, direction, max) = if k == 0 {
            (ActivityKind::Meeting, None, 3)
        } else if resume {
            (ActivityKind::Call, Some(Direction::Inbound), 2)
        } else {
            match weighted(rng, &[0.45, 0.30, 0.25]) {
                0 => (
                    ActivityKind::Call,
                    Some(if rng.random_bool(0.8) {
                        Direction::Outbound
                    } else {
                        Direction::Inbound
                    }),
                    2,
                ),
                1 => (ActivityKind::Meeting, None, 3),
                _ => (ActivityKind::Email, Some(Direction::Inbound), 1),
            }
        };
        let who = if k == 0 {
            // The discovery meeting brings the champion and, on a multi-threaded deal, a second
            // person, so that such deals really involve two or more people before Demo.
            cast.pre_demo.iter().copied().take(2).collect()
        } else {
            cast.pick(rng, t, max)
        };
        let template = if resume {
            *pick(rng, &RESUME_TALK)
        } else if kind == ActivityKind::Email {
            *pick(rng, INBOUND[phase])
        } else {
            *pick(rng, TALK[phase])
        };
        let body = text(rng, &[template], &cast, &who);
        let subject = match kind {
            ActivityKind::Meeting => Some(MEETING_SUBJECTS[phase].to_owned()),
            ActivityKind::Call => Some(format!(
                "Call with {}",
                who.first().map_or("customer", |c| cast.first_name(*c))
            )),
            _ => Some(format!("Re: {company_name} evaluation")),
        };
        plans.push(Plan {
            t,
            kind,
            direction,
            subject,
            body,
            who,
            swappable: kind != ActivityKind::Email && !resume && k > 0,
        });
        // The rep's own follow-ups: a note after some conversations, an email after many.
        if kind != ActivityKind::Email && rng.random_bool(0.2) {
            let nt = t + between(rng, 10 * 60, 3 * HOUR);
            if nt < close {
                let body = text(rng, NOTES[phase], &cast, &[]);
                plans.push(note(nt, body));
            }
        }
        if rng.random_bool(0.3) {
            let et = t + between(rng, 2 * HOUR, 2 * DAY);
            if et < close {
                let to = cast.pick(rng, et, 1);
                let body = text(rng, OUTBOUND[life.phase(et)], &cast, &to);
                plans.push(Plan {
                    t: et,
                    kind: ActivityKind::Email,
                    direction: Some(Direction::Outbound),
                    subject: Some(format!("{company_name} next steps")),
                    body,
                    who: to,
                    swappable: false,
                });
            }
        }
    }
    if let Some((s, e)) = stall_zone {
        // The rep keeps chasing during the silence; one-way emails do not end a stall.
        let chases = rng.random_range(1..=3);
        for _ in 0..chases {
            let ct = between(rng, s + DAY, e - DAY);
            let to = vec![champion];
            let body = text(
                rng,
                &["Checking in on the proposal: any update from your side?"],
                &cast,
                &to,
            );
            plans.push(Plan {
                t: ct,
                kind: ActivityKind::Email,
                direction: Some(Direction::Outbound),
                subject: Some(format!("{company_name} proposal")),
                body,
                who: to,
                swappable: false,
            });
        }
    }

    if no_decision {
        // The rep chases a quiet deal a few times with one-way emails, then gives up.
        let mut ct = active_end;
        for _ in 0..rng.random_range(1..=3) {
            ct += days_f(5.0 + gamma(rng, 2.0, 20.0));
            if ct >= close - DAY {
                break;
            }
            let to = vec![champion];
            let body = text(rng, &CHASE_EMAILS, &cast, &to);
            plans.push(Plan {
                t: ct,
                kind: ActivityKind::Email,
                direction: Some(Direction::Outbound),
                subject: Some(format!("{company_name} follow-up")),
                body,
                who: to,
                swappable: false,
            });
        }
    }

    for &t in &eb_meetings {
        if let Some(eb) = eb {
            let who = vec![eb, champion];
            let body = text(rng, &EB_MEETING, &cast, &who);
            plans.push(Plan {
                t,
                kind: ActivityKind::Meeting,
                direction: None,
                subject: Some("Commercial review".to_owned()),
                body,
                who,
                swappable: false,
            });
        }
    }

    // Pattern 4 exposure: a competitor named in a call in the first 14 days of Proposal.
    let mut competitor_named: Option<&str> = None;
    if let Some(prop) = life.proposal.filter(|_| competitor_late) {
        let end = stall_zone.map_or(landmark, |(s, _)| s.min(landmark)) - HOUR;
        let t = between(rng, prop + HOUR, end);
        let who = cast.pick(rng, t, 2);
        let name = *pick(rng, &COMPETITORS);
        competitor_named = Some(name);
        plans.push(competitor_call(rng, t, who, name, &cast, company_name));
    }
    // Competitor mentions outside the exposure window, at a base rate independent of all else:
    // earlier in the deal, or after the landmark.
    let outside_window = |t: i64| life.proposal.is_none_or(|p| t < p || t > landmark);
    for (p, early) in [(0.25, true), (0.15, false)] {
        if !rng.random_bool(p) {
            continue;
        }
        let slots: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.swappable
                    && outside_window(a.t)
                    && (life.proposal.is_none_or(|prop| a.t < prop) == early)
            })
            .map(|(k, _)| k)
            .collect();
        if slots.is_empty() {
            continue;
        }
        let k = *pick(rng, &slots);
        let name = *pick(rng, &COMPETITORS);
        competitor_named.get_or_insert(name);
        let a = &mut plans[k];
        let who = a.who.clone();
        a.body = competitor_call(rng, a.t, who, name, &cast, company_name).body;
        a.swappable = false;
    }
    // Security reviews: a realistic fact with no planted effect.
    let mut security = false;
    if let Some(demo) = life.demo
        && rng.random_bool(0.35)
    {
        let slots: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, a)| a.swappable && a.t > demo)
            .map(|(k, _)| k)
            .collect();
        if !slots.is_empty() {
            let k = *pick(rng, &slots);
            let who = plans[k].who.clone();
            plans[k].body = text(rng, &SECURITY_TALK, &cast, &who);
            plans[k].swappable = false;
            security = true;
        }
    }
    // Pattern 4 moderator: the business case anchored during Demo.
    if let Some(demo) = life.demo.filter(|_| anchored) {
        let end = life.proposal.unwrap_or(close) - HOUR;
        let t = between(rng, demo + HOUR, end);
        let signer = eb.unwrap_or(champion);
        let body = text(rng, &BUSINESS_CASE_NOTES, &cast, &[signer]);
        plans.push(note(t, body));
    }
    // Pattern 4 outcome: the discount ask.
    if let Some(t) = discount_ask {
        let who = match staff.procurement {
            Some(p) if life.negotiation.is_some_and(|n| t >= n) => vec![p],
            _ => cast.pick(rng, t, 1),
        };
        let name = who.first().map_or("the team", |c| cast.first_name(*c));
        let pct = *pick(rng, &[10, 15, 20, 25]);
        let body = fill(
            pick::<&str>(rng, &DISCOUNT_ASKS),
            &Vars {
                name,
                company: company_name,
                competitor: "",
                n: 0,
                weeks: 0,
                pct,
            },
        );
        let email = rng.random_bool(0.5);
        plans.push(Plan {
            t,
            kind: if email {
                ActivityKind::Email
            } else {
                ActivityKind::Call
            },
            direction: Some(Direction::Inbound),
            subject: Some(if email {
                format!("Re: {company_name} order form")
            } else {
                "Pricing call".to_owned()
            }),
            body,
            who,
            swappable: false,
        });
    }
    // A closing note just before the stage changes.
    {
        let t = close - between(rng, 5 * 60, HOUR);
        let templates: &[&str] = if won {
            &WON_NOTES
        } else if no_decision {
            &CLEANUP_NOTES
        } else {
            &LOST_NOTES
        };
        let body = text(rng, templates, &cast, &[champion]);
        plans.push(note(t, body));
    }

    // --- 9. Reasons: post-close facts, drawn last so they influence nothing. ---
    let cto_ever = cto || cast.later.iter().any(|(_, c)| Some(*c) == staff.cto);
    let reason = reason(
        rng,
        won,
        &ReasonFacts {
            reached_demo,
            competitor: competitor_named,
            eb_ever,
            anchored: anchored && reached_demo,
            discount: discount_ask.is_some(),
            security,
            sponsor: cto_ever || eb_ever,
            no_decision,
        },
    );

    // --- 10. Cut at as_of and assemble. ---
    let deal_id = super::deal_id(i);
    let owner_id = world.owners[slot.owner as usize].id.clone();
    plans.sort_by_key(|p| p.t);
    let mut activities = Vec::with_capacity(plans.len());
    let mut first_seen: BTreeMap<u32, i64> = BTreeMap::new();
    // Ids leave room for 10,000 activities per deal; a deal has a few dozen at most.
    for (k, p) in plans
        .into_iter()
        .filter(|p| p.t <= as_of)
        .take(9_999)
        .enumerate()
    {
        for c in &p.who {
            first_seen.entry(*c).or_insert(p.t);
        }
        activities.push(Activity {
            id: super::activity_id(i, k),
            deal_id: deal_id.clone(),
            kind: p.kind,
            occurred_at: from_unix(p.t),
            direction: p.direction,
            subject: p.subject,
            body: p.body,
            owner_id: Some(owner_id.clone()),
            contact_ids: p
                .who
                .iter()
                .map(|c| world.contacts[*c as usize].id.clone())
                .collect(),
        });
    }

    let mut stages = vec![(created, stage_ids::DISCOVERY)];
    for (t, s) in [
        (life.qualified, stage_ids::QUALIFIED),
        (life.demo, stage_ids::DEMO),
        (life.proposal, stage_ids::PROPOSAL),
        (life.negotiation, stage_ids::NEGOTIATION),
    ] {
        if let Some(t) = t {
            stages.push((t, s));
        }
    }
    stages.push((
        close,
        if won {
            stage_ids::CLOSED_WON
        } else {
            stage_ids::CLOSED_LOST
        },
    ));
    let history = DealHistory {
        stages: stages
            .iter()
            .filter(|(t, _)| *t <= as_of)
            .map(|(t, s)| StageChange {
                at: from_unix(*t),
                stage_id: (*s).into(),
            })
            .collect(),
        amounts: amounts
            .iter()
            .filter(|(t, _)| *t <= as_of)
            .map(|(t, a)| AmountChange {
                at: from_unix(*t),
                amount: Some(*a),
            })
            .collect(),
        close_dates: close_dates
            .iter()
            .filter(|(t, _)| *t <= as_of)
            .map(|(t, d)| CloseDateChange {
                at: from_unix(*t),
                close_date: Some(from_unix(*d)),
            })
            .collect(),
    };

    let is_closed = close <= as_of;
    let stage_now = stages
        .iter()
        .take_while(|(t, _)| *t <= as_of)
        .last()
        .map_or(stage_ids::DISCOVERY, |(_, s)| *s);
    let amount_now = amounts
        .iter()
        .take_while(|(t, _)| *t <= as_of)
        .last()
        .map_or(a0, |(_, a)| *a);
    let close_now = close_dates
        .iter()
        .take_while(|(t, _)| *t <= as_of)
        .last()
        .map_or(v0, |(_, d)| *d);
    let last_modified = [
        stages.iter().map(|s| s.0).filter(|t| *t <= as_of).max(),
        amounts.iter().map(|s| s.0).filter(|t| *t <= as_of).max(),
        close_dates
            .iter()
            .map(|s| s.0)
            .filter(|t| *t <= as_of)
            .max(),
        activities.last().map(|a| a.occurred_at.as_second()),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(created);
    let closed_reason = if is_closed {
        properties.insert("closed_reason_code".to_owned(), reason.0.to_owned());
        Some(reason.1)
    } else {
        None
    };

    let stakeholders = first_seen
        .iter()
        .map(|(c, t)| {
            let contact = &world.contacts[*c as usize];
            let title = contact.title.as_deref().unwrap_or("");
            Stakeholder {
                deal_id: deal_id.clone(),
                contact_id: contact.id.clone(),
                role: role_for(*c == champion, title, rng),
                added_at: Some(from_unix(*t)),
            }
        })
        .collect();

    let deal = Deal {
        id: deal_id,
        source: "demo".to_owned(),
        name: format!("{} – {product_line} {deal_type}", company.name),
        company_id: Some(company.id.clone()),
        owner_id: Some(owner_id),
        pipeline_id: world.pipeline.id.clone(),
        stage_id: stage_now.into(),
        amount: Some(amount_now),
        currency: "USD".to_owned(),
        created_at: from_unix(created),
        close_date: Some(from_unix(close_now)),
        is_closed,
        is_won: is_closed && won,
        closed_reason,
        last_modified: from_unix(last_modified),
        archived_at: None,
        properties,
    };
    DealBundle {
        deal,
        history,
        stakeholders,
        activities,
        planted: Planted {
            reached_demo,
            reached_proposal,
            single_threaded: single,
            cto_engaged: cto,
            economic_buyer_live: eb_live,
            competitor_mentioned: competitor_late,
            business_case_anchored: anchored,
            slipped_after_demo,
            stalled_in_proposal: stall,
            no_decision,
            discount_pressure: discount_ask.is_some(),
            won,
        },
    }
}

fn note(t: i64, body: String) -> Plan {
    Plan {
        t,
        kind: ActivityKind::Note,
        direction: None,
        subject: None,
        body,
        who: Vec::new(),
        swappable: false,
    }
}

fn competitor_call(
    rng: &mut ChaCha8Rng,
    t: i64,
    who: Vec<u32>,
    competitor: &str,
    cast: &Cast<'_>,
    company: &str,
) -> Plan {
    let name = who.first().map_or("the team", |c| cast.first_name(*c));
    let body = fill(
        pick::<&str>(rng, &COMPETITOR_TALK),
        &Vars {
            name,
            company,
            competitor,
            n: 0,
            weeks: 0,
            pct: 0,
        },
    );
    Plan {
        t,
        kind: ActivityKind::Call,
        direction: Some(Direction::Outbound),
        subject: Some(format!("Call with {name}")),
        body,
        who,
        swappable: false,
    }
}

/// The role a contact gets on the deal; CRMs often leave roles unset.
fn role_for(champion: bool, title: &str, rng: &mut ChaCha8Rng) -> Option<DealRole> {
    use super::vocab::*;
    if champion {
        return Some(DealRole::Champion);
    }
    if ECONOMIC_BUYER_TITLES.contains(&title) {
        return Some(DealRole::EconomicBuyer);
    }
    if !rng.random_bool(0.75) {
        return None;
    }
    Some(match title {
        TITLE_PROCUREMENT_MANAGER => DealRole::Procurement,
        TITLE_CTO
        | TITLE_VP_ENGINEERING
        | TITLE_HEAD_OF_PLATFORM
        | TITLE_SECURITY_LEAD
        | TITLE_IT_DIRECTOR => DealRole::TechnicalBuyer,
        TITLE_ENGINEERING_MANAGER | TITLE_PRODUCT_MANAGER | TITLE_OPERATIONS_MANAGER => {
            DealRole::User
        }
        _ => DealRole::Influencer,
    })
}

/// Facts that make a closing reason plausible.
struct ReasonFacts<'a> {
    reached_demo: bool,
    competitor: Option<&'a str>,
    eb_ever: bool,
    anchored: bool,
    discount: bool,
    security: bool,
    sponsor: bool,
    no_decision: bool,
}

/// A taxonomy code and free text for a closed deal, weighted by what happened in it.
fn reason(rng: &mut ChaCha8Rng, won: bool, f: &ReasonFacts<'_>) -> (&'static str, String) {
    let yes = |b: bool, w: f64| if b { w } else { 0.0 };
    if won {
        let codes = [
            "strong_champion",
            "business_case",
            "product_fit",
            "executive_sponsor",
            "price_value",
        ];
        let weights = [
            2.0,
            0.5 + yes(f.anchored, 2.5),
            2.0,
            0.5 + yes(f.sponsor, 1.5),
            1.0 + yes(f.discount, 1.0),
        ];
        let code = codes[weighted(rng, &weights)];
        let text = match code {
            "strong_champion" => "Champion drove the evaluation internally and lined up approvals.",
            "business_case" => "Finance approved the value case; payback under a year.",
            "product_fit" => "Best fit for their review workflow and CRM setup.",
            "executive_sponsor" => "An executive sponsor pushed the purchase through.",
            _ => "Value was clear at the agreed price.",
        };
        return (code, text.to_owned());
    }
    let codes = [
        "no_decision",
        "lost_to_competitor",
        "no_economic_buyer",
        "weak_business_case",
        "timing",
        "price",
        "product_gap",
        "champion_left",
        "security_review",
        "budget",
    ];
    let late = f.reached_demo;
    let weights = [
        2.0 + yes(f.no_decision, 10.0),
        0.5 + yes(f.competitor.is_some(), 3.0),
        if late {
            0.3 + yes(!f.eb_ever, 2.5)
        } else {
            0.2
        },
        if late {
            0.3 + yes(!f.anchored, 1.5)
        } else {
            0.2
        },
        1.5,
        0.5 + yes(f.discount, 2.0),
        1.0,
        0.5,
        0.2 + yes(f.security, 1.5),
        1.0,
    ];
    let code = codes[weighted(rng, &weights)];
    let text = match code {
        "no_decision" => "Went quiet; no decision this year.".to_owned(),
        "lost_to_competitor" => format!(
            "Chose {} instead.",
            f.competitor.unwrap_or(*pick(rng, &COMPETITORS))
        ),
        "no_economic_buyer" => "Never reached the budget owner; approval path unclear.".to_owned(),
        "weak_business_case" => "Could not quantify the value for their leadership.".to_owned(),
        "timing" => "Reorganisation; project pushed to next fiscal year.".to_owned(),
        "price" => "Price above their ceiling for this year.".to_owned(),
        "product_gap" => "Needed an on-premise deployment we do not offer.".to_owned(),
        "champion_left" => "Our champion left the company mid-evaluation.".to_owned(),
        "security_review" => "Stalled in their security process over data residency.".to_owned(),
        _ => "Budget frozen for the rest of the year.".to_owned(),
    };
    (code, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let v = Vars {
            name: "Ana",
            company: "Basaltridge Labs",
            competitor: "Quantivo",
            n: 3,
            weeks: 4,
            pct: 15,
        };
        assert_eq!(
            fill(
                "{name} at {company} vs {competitor}: {n}/{weeks}/{pct}% {x}",
                &v
            ),
            "Ana at Basaltridge Labs vs Quantivo: 3/4/15% {x}"
        );
        assert_eq!(fill("open { brace", &v), "open { brace");
    }

    #[test]
    fn quarter_starts_follow_the_calendar() {
        let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_second();
        for (t, next) in [
            ("2026-11-23T00:00:00Z", "2027-01-01T00:00:00Z"),
            ("2026-03-31T23:59:59Z", "2026-04-01T00:00:00Z"),
            ("2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"),
            ("2024-02-29T12:00:00Z", "2024-04-01T00:00:00Z"),
            ("1969-12-31T00:00:00Z", "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(next_quarter_start(ts(t)), ts(next), "{t}");
        }
        for day in (-1_000..40_000).step_by(13) {
            let ymd = crate::domain::time::ymd(from_unix(day * DAY));
            let [y, m, d]: [i64; 3] = ymd
                .split('-')
                .map(|x| x.parse().unwrap())
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
            assert_eq!(civil_from_days(day), (y, m), "{ymd}");
            assert_eq!(days_from_civil(y, m, d), day, "{ymd}");
        }
    }

    #[test]
    fn between_outside_avoids_the_zone() {
        let mut rng = rng_for(1, 2, 3);
        for _ in 0..2000 {
            let t = between_outside(&mut rng, 0, 100, Some((10, 90)));
            assert!((0..=10).contains(&t) || (90..100).contains(&t), "{t}");
        }
        assert_eq!(between(&mut rng, 5, 5), 5);
    }
}
