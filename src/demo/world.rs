//! Reference data of the demo: teams, owners, the pipeline, companies with their contacts, and
//! the schedule of deal creations. Pure: built from the seed alone.

use super::vocab::{
    BUYING_CENTERS, CHAMPION_TITLES, ECONOMIC_BUYER_TITLES, INDUSTRIES, INDUSTRY_SUFFIXES,
    NAME_FIRST, NAME_SECOND, OWN_DOMAIN, OWNER_NAMES, OWNERSHIP, PERSON_FIRST, PERSON_LAST,
    REGIONS, SIZE_BANDS, TEAMS, TITLE_CTO, TITLE_PROCUREMENT_MANAGER,
};
use super::{DAY, DemoSpec, rng_for, stage_ids};
use crate::domain::time::from_unix;
use crate::domain::{Company, Contact, Owner, Pipeline, Stage, Team};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};

/// Days of history before `as_of` in which deals are created: [as_of − 730 d, as_of − 7 d].
pub(crate) const HISTORY_START_DAYS: i64 = 730;
/// The newest deal is created this many days before `as_of`.
pub(crate) const HISTORY_END_DAYS: i64 = 7;
/// The rate of new deals doubles every this many days: a steadily growing team, about 2× a year
/// (4× from the first week of the history to the last). Deals in flight alone would leave about
/// 17% open at `as_of`; the "no decision" deals lingering before Demo bring it to about 30%.
const DOUBLING_DAYS: f64 = 365.0;

/// Where a company's contacts sit in [`DemoWorld::contacts`], by the part they can play.
#[derive(Debug, Clone, Default)]
pub(crate) struct Staff {
    /// The CTO, if the CRM has one for this company.
    pub cto: Option<u32>,
    /// Economic buyers (CFO, VP Finance, Controller); possibly none.
    pub economic_buyers: Vec<u32>,
    /// The procurement manager, if any.
    pub procurement: Option<u32>,
    /// Everyone who can champion a deal (at least two).
    pub others: Vec<u32>,
}

/// A deal to generate: when it is created, with whom, by whom.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DealSlot {
    /// Creation instant (Unix seconds).
    pub created: i64,
    /// Index into [`DemoWorld::companies`].
    pub company: u32,
    /// Index into [`DemoWorld::owners`].
    pub owner: u32,
}

/// The reference data the deals are generated against.
#[derive(Debug, Clone)]
pub struct DemoWorld {
    /// The spec it was built from.
    pub spec: DemoSpec,
    /// The three sales teams.
    pub teams: Vec<Team>,
    /// The twelve reps (four per team). They have no effect on anything.
    pub owners: Vec<Owner>,
    /// The one pipeline ("default") with HubSpot's default stage ids.
    pub pipeline: Pipeline,
    /// Customer accounts.
    pub companies: Vec<Company>,
    /// People at the accounts (3–6 per company).
    pub contacts: Vec<Contact>,
    pub(crate) staff: Vec<Staff>,
    pub(crate) slots: Vec<DealSlot>,
}

impl DemoWorld {
    /// Builds the reference data and the deal schedule for `spec`.
    pub fn new(spec: &DemoSpec) -> DemoWorld {
        // Separate streams for separate concerns, so that e.g. changing the contact model does
        // not reshuffle every deal's creation date.
        let mut rng = rng_for(spec.seed, u64::MAX - 1, 0);
        let as_of = spec.as_of.as_second();
        let teams = build_teams();
        let owners = build_owners();
        let pipeline = build_pipeline();

        let n_companies = if spec.deals == 0 {
            0
        } else {
            ((spec.deals as f64 / 2.5).round() as usize).max(1)
        };
        let mut companies = Vec::with_capacity(n_companies);
        let mut used_names = HashSet::with_capacity(n_companies);
        for j in 0..n_companies {
            companies.push(build_company(&mut rng, j, &mut used_names));
        }

        let slots = schedule(&mut rng, spec, &companies);
        // Contacts exist in the CRM before the company's first deal.
        let mut first_deal = vec![as_of - HISTORY_START_DAYS * DAY; n_companies];
        let mut seen = vec![false; n_companies];
        for s in &slots {
            let c = s.company as usize;
            if !seen[c] {
                seen[c] = true;
                first_deal[c] = s.created;
            }
        }
        let mut contacts = Vec::with_capacity(n_companies * 5);
        let mut staff = Vec::with_capacity(n_companies);
        for (j, company) in companies.iter().enumerate() {
            staff.push(build_staff(&mut rng, company, first_deal[j], &mut contacts));
        }
        DemoWorld {
            spec: spec.clone(),
            teams,
            owners,
            pipeline,
            companies,
            contacts,
            staff,
            slots,
        }
    }
}

impl DemoWorld {
    /// The deals, generated one at a time in creation order (deal `i` depends only on the seed,
    /// `i` and the reference data, so this is cheap to restart and never holds more than one).
    pub fn deals(&self) -> impl Iterator<Item = super::DealBundle> + '_ {
        (0..self.slots.len()).map(|i| super::sim::simulate(self, i))
    }

    /// Deal number `i` (0-based, in creation order) of the schedule.
    ///
    /// # Panics
    /// If `i` is not below [`DemoWorld::deal_count`].
    pub fn deal(&self, i: usize) -> super::DealBundle {
        super::sim::simulate(self, i)
    }

    /// How many deals the world schedules.
    pub fn deal_count(&self) -> usize {
        self.slots.len()
    }
}

fn build_teams() -> Vec<Team> {
    TEAMS
        .iter()
        .enumerate()
        .map(|(i, name)| Team {
            id: format!("{}", 5_100_001 + i).into(),
            name: (*name).to_owned(),
        })
        .collect()
}

fn build_owners() -> Vec<Owner> {
    OWNER_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let email = format!("{}@{OWN_DOMAIN}", name.to_lowercase().replace(' ', "."));
            Owner {
                id: format!("{}", 81_200_101 + i).into(),
                name: (*name).to_owned(),
                email: Some(email),
                team_id: Some(format!("{}", 5_100_001 + i / 4).into()),
                active: true,
            }
        })
        .collect()
}

fn build_pipeline() -> Pipeline {
    let stage = |order: i64, id: &str, label: &str, p: f64, closed: bool, won: bool| Stage {
        id: id.into(),
        label: label.to_owned(),
        display_order: order,
        probability: Some(p),
        is_closed: closed,
        is_won: won,
    };
    Pipeline {
        id: "default".into(),
        label: "Sales Pipeline".to_owned(),
        display_order: 0,
        stages: vec![
            stage(0, stage_ids::DISCOVERY, "Discovery", 0.1, false, false),
            stage(1, stage_ids::QUALIFIED, "Qualified", 0.2, false, false),
            stage(2, stage_ids::DEMO, "Demo", 0.4, false, false),
            stage(3, stage_ids::PROPOSAL, "Proposal", 0.6, false, false),
            stage(4, stage_ids::NEGOTIATION, "Negotiation", 0.8, false, false),
            stage(5, stage_ids::CLOSED_WON, "Closed Won", 1.0, true, true),
            stage(6, stage_ids::CLOSED_LOST, "Closed Lost", 0.0, true, false),
        ],
    }
}

/// Picks an index with the given weights (which need not sum to one).
pub(crate) fn weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random_range(0.0..1.0) * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// One item of a constant, non-empty list.
pub(crate) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn build_company(rng: &mut ChaCha8Rng, j: usize, used: &mut HashSet<String>) -> Company {
    let industry = rng.random_range(0..INDUSTRIES.len());
    let size = weighted(rng, &[0.20, 0.30, 0.25, 0.15, 0.10]);
    let center = weighted(rng, &[0.40, 0.35, 0.25]);
    let mut name = format!(
        "{}{} {}",
        pick(rng, &NAME_FIRST),
        pick(rng, &NAME_SECOND).to_lowercase(),
        pick(rng, &INDUSTRY_SUFFIXES[industry])
    );
    if used.contains(&name) {
        // Two-word names run out in a big demo; a second word keeps names unique and plausible.
        name = format!("{} {}", pick(rng, &NAME_FIRST), name);
        if used.contains(&name) {
            name = format!("{name} {}", j + 1);
        }
    }
    used.insert(name.clone());
    let domain = format!(
        "{}.example",
        name.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
    );
    let mut properties = BTreeMap::new();
    properties.insert("region".to_owned(), (*pick(rng, &REGIONS)).to_owned());
    properties.insert("ownership".to_owned(), (*pick(rng, &OWNERSHIP)).to_owned());
    Company {
        id: format!("{}", 20_000_000_001u64 + j as u64).into(),
        name,
        domain: Some(domain),
        industry: Some(INDUSTRIES[industry].to_owned()),
        size_band: Some(SIZE_BANDS[size].to_owned()),
        buying_center: Some(BUYING_CENTERS[center].to_owned()),
        properties,
    }
}

/// Probability that the CRM holds the company's CTO (resp. an economic buyer). High, so that the
/// exposures of patterns 2 and 3 can reach their planted prevalence.
pub(crate) const P_HAS_CTO: f64 = 0.92;
/// See [`P_HAS_CTO`].
pub(crate) const P_HAS_ECONOMIC_BUYER: f64 = 0.92;

fn build_staff(
    rng: &mut ChaCha8Rng,
    company: &Company,
    first_deal: i64,
    contacts: &mut Vec<Contact>,
) -> Staff {
    let mut titles: Vec<&'static str> = Vec::with_capacity(6);
    let has_cto = rng.random_bool(P_HAS_CTO);
    let has_eb = rng.random_bool(P_HAS_ECONOMIC_BUYER);
    let second_eb = has_eb && rng.random_bool(0.15);
    let has_procurement = rng.random_bool(0.35);
    let mut n_others = rng.random_range(2..=3usize);
    let fixed = usize::from(has_cto)
        + usize::from(has_eb)
        + usize::from(second_eb)
        + usize::from(has_procurement);
    if fixed + n_others < 3 {
        n_others = 3 - fixed;
    }
    let n_others = n_others.min(6usize.saturating_sub(fixed).max(2));
    // Champion-capable titles without repeats.
    let mut pool: Vec<&'static str> = CHAMPION_TITLES.to_vec();
    let mut others = Vec::with_capacity(n_others);
    for _ in 0..n_others {
        let k = rng.random_range(0..pool.len());
        others.push(pool.swap_remove(k));
    }
    let mut staff = Staff::default();
    let mut push = |title: &'static str, rng: &mut ChaCha8Rng, contacts: &mut Vec<Contact>| {
        let idx = contacts.len() as u32;
        let first = pick(rng, &PERSON_FIRST);
        let last = pick(rng, &PERSON_LAST);
        let domain = company.domain.as_deref().unwrap_or("example.com");
        let created = first_deal - rng.random_range(0..60 * DAY);
        contacts.push(Contact {
            id: format!("{}", 30_000_000_001u64 + u64::from(idx)).into(),
            company_id: Some(company.id.clone()),
            name: format!("{first} {last}"),
            email: Some(format!(
                "{}.{}@{domain}",
                first.to_lowercase(),
                last.to_lowercase()
            )),
            title: Some(title.to_owned()),
            created_at: Some(from_unix(created)),
        });
        titles.push(title);
        idx
    };
    if has_cto {
        staff.cto = Some(push(TITLE_CTO, rng, contacts));
    }
    if has_eb {
        let mut ebs: Vec<&'static str> = ECONOMIC_BUYER_TITLES.to_vec();
        let n = if second_eb { 2 } else { 1 };
        for _ in 0..n {
            let k = rng.random_range(0..ebs.len());
            let t = ebs.swap_remove(k);
            staff.economic_buyers.push(push(t, rng, contacts));
        }
    }
    if has_procurement {
        staff.procurement = Some(push(TITLE_PROCUREMENT_MANAGER, rng, contacts));
    }
    for t in others {
        staff.others.push(push(t, rng, contacts));
    }
    staff
}

/// Creation instants (sorted, so deal ids follow creation order) with a company and an owner each.
fn schedule(rng: &mut ChaCha8Rng, spec: &DemoSpec, companies: &[Company]) -> Vec<DealSlot> {
    let as_of = spec.as_of.as_second();
    let start = as_of - HISTORY_START_DAYS * DAY;
    let span_days = (HISTORY_START_DAYS - HISTORY_END_DAYS) as f64;
    // Inverse CDF of an exponentially rising density over [0, span]: t = ln(1 + u (e^{kT} − 1)) / k.
    let k = std::f64::consts::LN_2 / DOUBLING_DAYS;
    let growth = (k * span_days).exp_m1();
    let mut created: Vec<i64> = (0..spec.deals)
        .map(|_| {
            let u: f64 = rng.random_range(0.0..1.0);
            let day = (u * growth).ln_1p() / k;
            start + (day.min(span_days) * DAY as f64) as i64
        })
        .collect();
    created.sort_unstable();
    created
        .into_iter()
        .map(|t| {
            let company = rng.random_range(0..companies.len().max(1));
            // Reps mostly work accounts of their team's size; owners still have no effect.
            let sized_team = match companies.get(company).and_then(|c| c.size_band.as_deref()) {
                Some("1001-5000" | "5000+") => 0,
                Some("201-1000") => 1,
                _ => 2,
            };
            let team = if rng.random_bool(0.15) {
                rng.random_range(0..3usize)
            } else {
                sized_team
            };
            let owner = (team * 4 + rng.random_range(0..4usize)) as u32;
            DealSlot {
                created: t,
                company: company as u32,
                owner,
            }
        })
        .collect()
}
