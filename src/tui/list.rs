//! A filtered, searched and sorted window over the deal rows. The review queue and the
//! pipeline are two of these over the same [`Rows`]: the queue keeps only deals with a badge.

use super::rows::{Rows, SortKey};
use crate::domain::queue::Badge;

/// Which list this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// The deals that need a look: at least one badge.
    Queue,
    /// Every deal.
    Pipeline,
}

/// What a list is narrowed to. `None` matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// Only this owner's deals.
    pub owner: Option<String>,
    /// Only deals of owners in this team.
    pub team: Option<String>,
    /// Only deals with this badge.
    pub badge: Option<Badge>,
}

impl Filter {
    /// Whether anything is filtered.
    pub fn is_active(&self) -> bool {
        self.owner.is_some() || self.team.is_some() || self.badge.is_some()
    }

    /// One line describing the filter ("owner Ada · badge stalled").
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = &self.owner {
            parts.push(format!("owner {o}"));
        }
        if let Some(t) = &self.team {
            parts.push(format!("team {t}"));
        }
        if let Some(b) = self.badge {
            parts.push(format!("badge {}", b.as_str()));
        }
        parts.join(" · ")
    }
}

/// One list's state: what it shows, in which order, and where the selection is.
#[derive(Debug, Clone, PartialEq)]
pub struct ListView {
    /// Queue or pipeline.
    pub kind: ListKind,
    /// Indices into [`Rows::deals`] of the deals shown, in display order.
    pub rows: Vec<u32>,
    /// Position of the selection within `rows`.
    pub selected: usize,
    /// Position of the first row drawn.
    pub offset: usize,
    /// The `/` search text as typed.
    pub query: String,
    /// Owner, team and badge filters.
    pub filter: Filter,
    /// The order.
    pub sort: SortKey,
    /// Whether the order is reversed.
    pub descending: bool,
}

impl ListView {
    /// An empty list of this kind with its natural order: the queue by urgency, the pipeline
    /// newest first.
    pub fn new(kind: ListKind) -> ListView {
        let (sort, descending) = match kind {
            ListKind::Queue => (SortKey::Urgency, false),
            ListKind::Pipeline => (SortKey::Created, true),
        };
        ListView {
            kind,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            query: String::new(),
            filter: Filter::default(),
            sort,
            descending,
        }
    }

    /// The index into [`Rows::deals`] of the selected deal.
    pub fn selected_index(&self) -> Option<usize> {
        self.rows.get(self.selected).map(|&i| i as usize)
    }

    /// Recomputes the rows after the data, the query, the filter or the order changed, keeping
    /// the same deal selected when it is still shown. One pass over the precomputed order.
    pub fn refresh(&mut self, data: &Rows, page: usize) {
        let keep = self.selected_index();
        self.rebuild(data, page, keep);
    }

    /// Recomputes the rows over new data (a reload), keeping the deal `keep` selected when it
    /// is still shown.
    pub fn reload(&mut self, data: &Rows, page: usize, keep: Option<&crate::domain::DealId>) {
        let keep = keep.and_then(|id| data.position(id.as_str()));
        self.rebuild(data, page, keep);
    }

    fn rebuild(&mut self, data: &Rows, page: usize, keep: Option<usize>) {
        let needle = self.query.trim().to_lowercase();
        let order = data.order(self.sort);
        let keeps = |&&i: &&u32| {
            let i = i as usize;
            let (deal, mark) = (&data.deals[i], &data.marks[i]);
            (self.kind == ListKind::Pipeline || mark.in_queue())
                && self
                    .filter
                    .owner
                    .as_ref()
                    .is_none_or(|o| deal.owner.as_ref() == Some(o))
                && self
                    .filter
                    .team
                    .as_ref()
                    .is_none_or(|t| deal.team.as_ref() == Some(t))
                && self.filter.badge.is_none_or(|b| mark.badges.contains(&b))
                && data.matches_text(i, &needle)
        };
        self.rows.clear();
        if self.descending {
            self.rows.extend(order.iter().rev().filter(keeps));
        } else {
            self.rows.extend(order.iter().filter(keeps));
        }
        let index = keep
            .and_then(|k| self.rows.iter().position(|&i| i as usize == k))
            .unwrap_or(0);
        self.select(index, page);
    }

    /// Selects `index` (clamped) and scrolls just enough to keep it visible in `page` rows.
    pub fn select(&mut self, index: usize, page: usize) {
        let page = page.max(1);
        let last = self.rows.len().saturating_sub(1);
        self.selected = index.min(last);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        // After a resize or a shorter list, leave no empty rows below the last deal.
        self.offset = self.offset.min(self.rows.len().saturating_sub(page));
    }

    /// Moves the selection by `delta` rows (clamped at both ends).
    pub fn step(&mut self, delta: isize, page: usize) {
        let target = self.selected.saturating_add_signed(delta);
        self.select(target, page);
    }

    /// Cycles the owner filter through `owners` and back to "everyone".
    pub fn cycle_owner(&mut self, owners: &[String]) {
        self.filter.owner = cycle(self.filter.owner.as_ref(), owners);
    }

    /// Cycles the team filter through `teams` and back to "every team".
    pub fn cycle_team(&mut self, teams: &[String]) {
        self.filter.team = cycle(self.filter.team.as_ref(), teams);
    }

    /// Cycles the badge filter through every badge and back to "any".
    pub fn cycle_badge(&mut self) {
        self.filter.badge = cycle(self.filter.badge.as_ref(), &Badge::ALL);
    }

    /// Moves on to the next order, each in its natural direction (amounts and creation
    /// dates biggest and newest first).
    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.descending = matches!(self.sort, SortKey::Amount | SortKey::Created);
    }
}

/// The value after `current` in `values`, then `None` after the last one.
fn cycle<T: Clone + PartialEq>(current: Option<&T>, values: &[T]) -> Option<T> {
    match current {
        None => values.first().cloned(),
        Some(c) => values
            .iter()
            .position(|v| v == c)
            .and_then(|i| values.get(i + 1))
            .cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;
    use crate::tui::rows::QueueMark;
    use crate::tui::rows::tests::deal;

    fn rows(n: usize) -> Rows {
        let marks = (0..n)
            .map(|i| QueueMark {
                badges: match i % 4 {
                    0 => vec![Badge::Lost],
                    1 => vec![Badge::Stalled, Badge::PastClose],
                    _ => vec![],
                },
                ..Default::default()
            })
            .collect();
        Rows::build((0..n).map(deal).collect(), marks, from_unix(0))
    }

    fn ids(list: &ListView) -> Vec<u32> {
        list.rows.clone()
    }

    #[test]
    fn the_queue_keeps_only_deals_with_a_badge() {
        let data = rows(8);
        let mut queue = ListView::new(ListKind::Queue);
        queue.sort = SortKey::Created;
        queue.refresh(&data, 10);
        assert_eq!(ids(&queue), vec![0, 1, 4, 5]);
        let mut all = ListView::new(ListKind::Pipeline);
        all.refresh(&data, 10);
        assert_eq!(ids(&all), vec![7, 6, 5, 4, 3, 2, 1, 0], "newest first");
    }

    #[test]
    fn filters_combine_and_cycle_back_to_everything() {
        let data = rows(12);
        let mut list = ListView::new(ListKind::Pipeline);
        list.sort = SortKey::Created;
        list.descending = false;
        list.cycle_owner(&data.owners);
        assert_eq!(list.filter.owner.as_deref(), Some("Ada"));
        list.cycle_team(&data.teams);
        assert_eq!(list.filter.team.as_deref(), Some("East"));
        list.refresh(&data, 10);
        assert_eq!(
            ids(&list),
            vec![0, 6],
            "even (Ada) and divisible by 3 (East)"
        );
        list.cycle_badge();
        assert_eq!(list.filter.badge, Some(Badge::ALL[0]));
        list.filter = Filter::default();
        list.filter.badge = Some(Badge::Stalled);
        list.refresh(&data, 10);
        assert_eq!(ids(&list), vec![1, 5, 9]);
        assert_eq!(list.filter.describe(), "badge stalled");
        list.cycle_owner(&data.owners);
        list.cycle_owner(&data.owners);
        list.cycle_owner(&data.owners);
        assert_eq!(
            list.filter.owner, None,
            "past the last owner: everyone again"
        );
    }

    #[test]
    fn search_is_incremental_and_keeps_the_selection() {
        let data = rows(30);
        let mut list = ListView::new(ListKind::Pipeline);
        list.refresh(&data, 10);
        let want = data.position("12").unwrap();
        let at = list.rows.iter().position(|&i| i as usize == want).unwrap();
        list.select(at, 10);
        list.query = "DEAL 1".into();
        list.refresh(&data, 10);
        assert_eq!(list.rows.len(), 11, "Deal 1 and Deal 10-19");
        assert_eq!(list.selected_index(), Some(want), "still on Deal 12");
        list.query = "deal 12".into();
        list.refresh(&data, 10);
        assert_eq!(list.rows.len(), 1);
        list.query = "nothing".into();
        list.refresh(&data, 10);
        assert!(list.rows.is_empty());
        assert_eq!(list.selected_index(), None);
    }

    #[test]
    fn a_reload_keeps_the_selected_deal_by_id() {
        let data = rows(10);
        let mut list = ListView::new(ListKind::Pipeline);
        list.refresh(&data, 10);
        list.select(3, 10);
        let id = data.deals[list.selected_index().unwrap()].id.clone();
        // New data with one more deal in front: the same deal sits at another index.
        let mut deals: Vec<_> = (0..10).map(deal).collect();
        deals.insert(0, deal(99));
        let more = Rows::build(deals, vec![], from_unix(0));
        list.reload(&more, 10, Some(&id));
        assert_eq!(more.deals[list.selected_index().unwrap()].id, id);
        list.reload(&more, 10, Some(&"gone".into()));
        assert_eq!(list.selected, 0, "a deal no longer there: back to the top");
    }

    #[test]
    fn sorting_cycles_and_the_window_follows_the_selection() {
        let data = rows(50);
        let mut list = ListView::new(ListKind::Pipeline);
        list.refresh(&data, 10);
        list.step(25, 10);
        assert_eq!((list.selected, list.offset), (25, 16));
        list.step(-100, 10);
        assert_eq!((list.selected, list.offset), (0, 0));
        list.step(100, 10);
        assert_eq!((list.selected, list.offset), (49, 40));
        list.cycle_sort();
        assert_eq!(list.sort, SortKey::Urgency);
        list.refresh(&data, 10);
        assert_eq!(list.rows.len(), 50);
    }
}
