//! The deal rows both lists draw from, prepared once per load, off the draw loop.
//!
//! Everything a keystroke needs is precomputed here so that filtering and searching 100,000
//! deals stays a linear scan with no allocation per row: CRM text is sanitised, each deal gets
//! one lower-cased search text, and every sort order is computed once.

use crate::domain::queue::{Badge, QueueReviewStatus};
use crate::store::deals::DealSummary;
use jiff::Timestamp;

/// What the review queue knows about one deal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueMark {
    /// Why the deal needs a look (empty: it is not in the queue).
    pub badges: Vec<Badge>,
    /// Where its review stands.
    pub review: QueueReviewStatus,
    /// An active lesson fires on it as of now (the advisor's "at risk").
    pub at_risk: bool,
}

impl QueueMark {
    /// Whether the deal belongs in the review queue: a badge, or a lesson's recommendation.
    pub fn in_queue(&self) -> bool {
        !self.badges.is_empty() || self.at_risk
    }
}

/// How a list can be ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Most urgent badges first, then the earliest close date.
    Urgency,
    /// Close date.
    Close,
    /// Amount.
    Amount,
    /// Deal name.
    Name,
    /// Owner's name.
    Owner,
    /// Stage.
    Stage,
    /// When the deal was created.
    Created,
}

impl SortKey {
    /// Every key, in the order `S` cycles through them.
    pub const ALL: [SortKey; 7] = [
        SortKey::Urgency,
        SortKey::Close,
        SortKey::Amount,
        SortKey::Name,
        SortKey::Owner,
        SortKey::Stage,
        SortKey::Created,
    ];

    /// The name shown in the title bar.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Urgency => "urgency",
            SortKey::Close => "close date",
            SortKey::Amount => "amount",
            SortKey::Name => "name",
            SortKey::Owner => "owner",
            SortKey::Stage => "stage",
            SortKey::Created => "created",
        }
    }

    /// The key after this one.
    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    fn index(self) -> usize {
        SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// The deals as the UI holds them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    /// The deals, CRM text made safe for the terminal.
    pub deals: Vec<DealSummary>,
    /// Per deal: its queue badges and review state.
    pub marks: Vec<QueueMark>,
    /// Per deal: name, company and owner, lower-cased, for `/` search.
    search_text: Vec<String>,
    /// Per sort key (in [`SortKey::ALL`] order): deal indices, ascending.
    orders: Vec<Vec<u32>>,
    /// Owner names, sorted, for the owner filter.
    pub owners: Vec<String>,
    /// Team names, sorted, for the team filter.
    pub teams: Vec<String>,
    /// The cache's "now".
    pub as_of: Option<Timestamp>,
}

impl Rows {
    /// Prepares loaded deals for the lists. `marks` is parallel to `deals` (missing entries
    /// count as "not in the queue").
    pub fn build(deals: Vec<DealSummary>, mut marks: Vec<QueueMark>, as_of: Timestamp) -> Rows {
        let deals: Vec<DealSummary> = deals.into_iter().map(DealSummary::sanitized).collect();
        marks.resize(deals.len(), QueueMark::default());
        let search_text = deals
            .iter()
            .map(|d| {
                let mut s = d.name.to_lowercase();
                for part in [&d.company, &d.owner].into_iter().flatten() {
                    s.push('\u{1f}');
                    s.push_str(&part.to_lowercase());
                }
                s
            })
            .collect();
        let orders = SortKey::ALL
            .iter()
            .map(|key| order_by(&deals, &marks, *key))
            .collect();
        let mut owners: Vec<String> = deals.iter().filter_map(|d| d.owner.clone()).collect();
        owners.sort_unstable();
        owners.dedup();
        let mut teams: Vec<String> = deals.iter().filter_map(|d| d.team.clone()).collect();
        teams.sort_unstable();
        teams.dedup();
        Rows {
            deals,
            marks,
            search_text,
            orders,
            owners,
            teams,
            as_of: Some(as_of),
        }
    }

    /// Deal indices in ascending order of `key`.
    pub fn order(&self, key: SortKey) -> &[u32] {
        self.orders
            .get(key.index())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether deal `i`'s name, company or owner contains `needle` (already lower-cased).
    pub fn matches_text(&self, i: usize, needle: &str) -> bool {
        needle.is_empty() || self.search_text.get(i).is_some_and(|s| s.contains(needle))
    }

    /// How many deals are in the review queue.
    pub fn queue_len(&self) -> usize {
        self.marks.iter().filter(|m| m.in_queue()).count()
    }

    /// The index of the deal with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.deals.iter().position(|d| d.id.as_str() == id)
    }
}

fn order_by(deals: &[DealSummary], marks: &[QueueMark], key: SortKey) -> Vec<u32> {
    let mut order: Vec<u32> = (0..deals.len() as u32).collect();
    let close = |i: u32| deals[i as usize].close_date;
    match key {
        SortKey::Urgency => order.sort_by_key(|&i| {
            // Badges are ordered most telling first: closed deals, then slips, stalls and
            // passed close dates. Deals without a badge go last.
            let most = marks[i as usize].badges.iter().min().copied();
            (most.is_none(), most, close(i))
        }),
        SortKey::Close => order.sort_by_key(|&i| (close(i).is_none(), close(i))),
        SortKey::Amount => order.sort_by(|&a, &b| {
            let (x, y) = (deals[a as usize].amount, deals[b as usize].amount);
            x.unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&y.unwrap_or(f64::NEG_INFINITY))
        }),
        SortKey::Name => order.sort_by_cached_key(|&i| deals[i as usize].name.to_lowercase()),
        // Lower-case each owner once, not at every comparison; deals without one go last.
        SortKey::Owner => order.sort_by_cached_key(|&i| {
            let owner = deals[i as usize].owner.as_deref();
            (owner.is_none(), owner.map(str::to_lowercase))
        }),
        SortKey::Stage => order.sort_by_cached_key(|&i| deals[i as usize].stage.to_lowercase()),
        SortKey::Created => order.sort_by_key(|&i| deals[i as usize].created_at),
    }
    order
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};

    /// A plain open deal `i` for tests.
    pub(crate) fn deal(i: usize) -> DealSummary {
        DealSummary {
            id: format!("{i}").into(),
            name: format!("Deal {i}"),
            company: Some("Acme".into()),
            owner: Some(if i.is_multiple_of(2) { "Ada" } else { "Bo" }.into()),
            team: Some(if i.is_multiple_of(3) { "East" } else { "West" }.into()),
            pipeline: "Sales".into(),
            stage: "Demo".into(),
            stage_id: "presentationscheduled".into(),
            amount: Some(1000.0 * i as f64),
            currency: "USD".into(),
            created_at: from_unix(i as i64 * DAY),
            close_date: Some(from_unix((100 - i as i64) * DAY)),
            is_closed: false,
            is_won: false,
        }
    }

    #[test]
    fn text_is_sanitised_and_searchable_case_insensitively() {
        let mut evil = deal(0);
        evil.name = "Acme\u{1b}[2J\u{1b}]52;c;eA==\u{7} Renewal".into();
        evil.owner = Some("Evil\u{7}Owner".into());
        let rows = Rows::build(vec![evil, deal(1)], vec![], from_unix(0));
        assert_eq!(rows.deals[0].name, "Acme Renewal");
        assert_eq!(rows.deals[0].owner.as_deref(), Some("EvilOwner"));
        assert!(rows.matches_text(0, "renewal"));
        assert!(rows.matches_text(0, "evilowner"));
        assert!(!rows.matches_text(1, "renewal"));
        assert_eq!(rows.marks.len(), 2, "missing marks mean: not in the queue");
    }

    #[test]
    fn orders_are_ascending_for_every_key() {
        let rows = Rows::build((0..5).map(deal).collect(), vec![], from_unix(0));
        assert_eq!(rows.order(SortKey::Created), &[0, 1, 2, 3, 4]);
        assert_eq!(rows.order(SortKey::Close), &[4, 3, 2, 1, 0]);
        assert_eq!(rows.order(SortKey::Amount), &[0, 1, 2, 3, 4]);
        assert_eq!(rows.owners, vec!["Ada", "Bo"]);
        assert_eq!(rows.teams, vec!["East", "West"]);
        let mut key = SortKey::Urgency;
        for _ in 0..SortKey::ALL.len() {
            assert_eq!(rows.order(key).len(), 5);
            key = key.next();
        }
        assert_eq!(key, SortKey::Urgency, "the cycle comes back round");
    }
}
