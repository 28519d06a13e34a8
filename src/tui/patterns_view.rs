//! The Patterns screen's state: the last mining run as plain data, the background run in
//! flight, and where the reader is (the ranked list, one pattern's deals, or the candidates
//! that lacked the data to be tested). Pure: the event loop mines, `update` only records.

use crate::domain::DealId;
use crate::patterns::dataset::Dataset;
use crate::patterns::mine::{Insufficient, Pattern, Run};
use crate::text::sanitize_line;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A finished mining run, with every string that can carry CRM text made safe to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Mined {
    /// Tests in the main family (m in "m patterns tested").
    pub tested: usize,
    /// Tests in the exception family.
    pub tested_exceptions: usize,
    /// The false discovery rate patterns were surfaced at.
    pub fdr: f64,
    /// The data cutoff the run used.
    pub cutoff: Timestamp,
    /// The outcome window in days (slipped, won, … within this many days of T).
    pub window_days: i64,
    /// Deals whose history was read.
    pub deals: usize,
    /// The surfaced patterns, best first.
    pub patterns: Vec<Pattern>,
    /// How many were set aside (redundant, or reversed under a confounder).
    pub set_aside: usize,
    /// Single-condition candidates that failed a support gate.
    pub insufficient: Vec<Insufficient>,
    /// Every candidate that failed a support gate.
    pub insufficient_count: usize,
}

impl Mined {
    /// The screen's copy of a run: segment values and selector names come from the CRM, so
    /// every sentence, name and id is sanitised once here rather than on every frame.
    /// Insufficient candidates name their population by what it reads as ("after Demo").
    pub fn new(run: Run, data: &Dataset, deals: usize, fdr: f64) -> Mined {
        let contexts: HashMap<&str, &str> = data
            .populations
            .iter()
            .map(|p| (p.key.as_str(), p.context.as_str()))
            .collect();
        let clean_all = |v: &mut Vec<String>| v.iter_mut().for_each(|s| *s = sanitize_line(s));
        let patterns = run
            .patterns
            .into_iter()
            .map(|mut p| {
                p.sentence = sanitize_line(&p.sentence);
                p.population.context = sanitize_line(&p.population.context);
                p.population.segment = p.population.segment.as_deref().map(sanitize_line);
                clean_all(&mut p.condition);
                clean_all(&mut p.deal_ids);
                clean_all(&mut p.event_deal_ids);
                for c in &mut p.confounders {
                    c.confounder = sanitize_line(&c.confounder);
                }
                p
            })
            .collect();
        let insufficient = run
            .insufficient
            .into_iter()
            .map(|i| Insufficient {
                population: sanitize_line(
                    contexts
                        .get(i.population.as_str())
                        .copied()
                        .unwrap_or(&i.population),
                ),
                outcome: sanitize_line(&i.outcome),
                condition: sanitize_line(&i.condition),
                reason: sanitize_line(&i.reason),
            })
            .collect();
        Mined {
            tested: run.tested,
            tested_exceptions: run.tested_exceptions,
            fdr,
            cutoff: crate::domain::time::from_unix(data.cutoff),
            window_days: data.window_days,
            deals,
            patterns,
            set_aside: run.set_aside.len(),
            insufficient,
            insufficient_count: run.insufficient_count,
        }
    }
}

/// What a background mining run is doing, for the screen to say while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinePhase {
    /// Reading every deal's history from the cache.
    Reading,
    /// Building the stage populations and their signals.
    Building,
    /// Counting and testing the candidates.
    Testing,
}

impl MinePhase {
    /// How the screen names it.
    pub fn label(self) -> &'static str {
        match self {
            MinePhase::Reading => "reading every deal's history",
            MinePhase::Building => "building the stage populations",
            MinePhase::Testing => "testing the candidates",
        }
    }
}

/// The background run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Job {
    /// Nothing running.
    #[default]
    Idle,
    /// Running since `started` (the clock when it was asked for).
    Running {
        /// Where it is.
        phase: MinePhase,
        /// When it started, for the elapsed time on screen.
        started: Option<Timestamp>,
    },
    /// The last run failed: why, in one sentence.
    Failed(String),
}

/// Which part of the screen has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatternsPane {
    /// The ranked patterns.
    #[default]
    List,
    /// The deals behind the selected pattern.
    Deals,
    /// The candidates that lacked the data to be tested.
    Insufficient,
}

/// The Patterns screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternsScreen {
    /// The last finished run (kept on screen while a new one runs).
    pub mined: Option<Arc<Mined>>,
    /// The run in flight, or why the last one failed.
    pub job: Job,
    /// Runs asked for so far; a run answering for an older one is ignored.
    pub generation: u64,
    /// The cache changed (a sync finished) since the run on screen.
    pub stale: bool,
    /// The pane with the keys.
    pub pane: PatternsPane,
    /// The selected pattern.
    pub selected: usize,
    /// The selected deal in the drill-down.
    pub deal_selected: usize,
    /// The first line of the insufficient-data list shown.
    pub insufficient_offset: usize,
}

impl PatternsScreen {
    /// Whether a run is in flight.
    pub fn running(&self) -> bool {
        matches!(self.job, Job::Running { .. })
    }

    /// Starts a new run (unless one is in flight) and returns its generation.
    pub fn start(&mut self, now: Option<Timestamp>) -> Option<u64> {
        if self.running() {
            return None;
        }
        self.generation += 1;
        self.job = Job::Running {
            phase: MinePhase::Reading,
            started: now,
        };
        Some(self.generation)
    }

    /// A run reports progress.
    pub fn progress(&mut self, generation: u64, phase: MinePhase) {
        if generation != self.generation {
            return;
        }
        if let Job::Running { phase: p, .. } = &mut self.job {
            *p = phase;
        }
    }

    /// A run finished. The selection stays on the same pattern (by key) when it surfaced again.
    pub fn finished(&mut self, generation: u64, result: Result<Mined, String>) {
        if generation != self.generation {
            return;
        }
        match result {
            Ok(mined) => {
                let key = self.selected_pattern().map(|p| p.key.clone());
                self.selected = key
                    .and_then(|k| mined.patterns.iter().position(|p| p.key == k))
                    .unwrap_or(0);
                self.deal_selected = 0;
                self.insufficient_offset = 0;
                if self.pane == PatternsPane::Deals && mined.patterns.is_empty() {
                    self.pane = PatternsPane::List;
                }
                self.mined = Some(Arc::new(mined));
                self.job = Job::Idle;
                self.stale = false;
            }
            Err(why) => self.job = Job::Failed(sanitize_line(&why)),
        }
    }

    /// The selected pattern, once a run has finished.
    pub fn selected_pattern(&self) -> Option<&Pattern> {
        self.mined.as_ref()?.patterns.get(self.selected)
    }

    /// The deals behind the selected pattern in drill-down order: those with the outcome
    /// first, each with whether it had it.
    pub fn deals(&self) -> Vec<(&str, bool)> {
        let Some(p) = self.selected_pattern() else {
            return Vec::new();
        };
        drill_down(p)
    }

    /// Moves the selection of the pane with the keys by `delta` rows (clamped).
    pub fn step(&mut self, delta: isize) {
        let len = self.pane_len();
        let at = match self.pane {
            PatternsPane::List => &mut self.selected,
            PatternsPane::Deals => &mut self.deal_selected,
            PatternsPane::Insufficient => &mut self.insufficient_offset,
        };
        *at = clamp_step(*at, delta, len);
    }

    /// Jumps to the first (`false`) or last (`true`) row of the pane with the keys.
    pub fn jump(&mut self, end: bool) {
        self.step(if end { isize::MAX } else { isize::MIN });
    }

    fn pane_len(&self) -> usize {
        let Some(m) = &self.mined else { return 0 };
        match self.pane {
            PatternsPane::List => m.patterns.len(),
            PatternsPane::Deals => self.selected_pattern().map_or(0, |p| p.deal_ids.len()),
            PatternsPane::Insufficient => m.insufficient.len(),
        }
    }

    /// Enter: from the list, drill into the selected pattern's deals; from the deals, the
    /// deal to open.
    pub fn enter(&mut self) -> Option<DealId> {
        match self.pane {
            PatternsPane::List => {
                if self
                    .selected_pattern()
                    .is_some_and(|p| !p.deal_ids.is_empty())
                {
                    self.pane = PatternsPane::Deals;
                    self.deal_selected = 0;
                }
                None
            }
            PatternsPane::Deals => self
                .deals()
                .get(self.deal_selected)
                .map(|(id, _)| DealId::from(*id)),
            PatternsPane::Insufficient => None,
        }
    }

    /// Tab: between the list and the selected pattern's deals.
    pub fn toggle_deals(&mut self) {
        self.pane = match self.pane {
            PatternsPane::List => {
                if self
                    .selected_pattern()
                    .is_some_and(|p| !p.deal_ids.is_empty())
                {
                    PatternsPane::Deals
                } else {
                    PatternsPane::List
                }
            }
            PatternsPane::Deals | PatternsPane::Insufficient => PatternsPane::List,
        };
    }

    /// `i`: show or hide the candidates that lacked the data to be tested.
    pub fn toggle_insufficient(&mut self) {
        self.pane = match self.pane {
            PatternsPane::Insufficient => PatternsPane::List,
            _ => PatternsPane::Insufficient,
        };
    }
}

fn clamp_step(at: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let moved = if delta < 0 {
        at.saturating_sub(delta.unsigned_abs())
    } else {
        at.saturating_add(delta as usize)
    };
    moved.min(len - 1)
}

/// A pattern's deals, those with the outcome first (each group in the run's order).
pub fn drill_down(p: &Pattern) -> Vec<(&str, bool)> {
    let events: HashSet<&str> = p.event_deal_ids.iter().map(String::as_str).collect();
    let (mut with, without): (Vec<_>, Vec<_>) = p
        .deal_ids
        .iter()
        .map(|id| (id.as_str(), events.contains(id.as_str())))
        .partition(|(_, e)| *e);
    with.extend(without);
    with
}

/// A log-scale axis for the forest plot: where an effect, or the end of an interval, falls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// ln of the leftmost ratio.
    pub low: f64,
    /// ln of the rightmost ratio.
    pub high: f64,
}

/// The widest range the plot spans: beyond it an interval is drawn as running off the edge.
const AXIS_LIMIT: f64 = 16.0;

impl Axis {
    /// An axis symmetric about 1 on the log scale, at powers of two, wide enough for every
    /// interval (up to 1/16–16) and at least 1/2–2, so that effects of the same size on
    /// either side look the same size.
    pub fn spanning<'a>(intervals: impl IntoIterator<Item = (f64, f64)> + 'a) -> Axis {
        let mut reach: f64 = 2f64.ln();
        for (lo, hi) in intervals {
            for x in [lo, hi] {
                if x.is_finite() && x > 0.0 {
                    reach = reach.max(x.ln().abs());
                }
            }
        }
        let reach = reach.min(AXIS_LIMIT.ln());
        // Round out to a power of two.
        let two = 2f64.ln();
        let reach = (reach / two - 1e-9).ceil() * two;
        Axis {
            low: -reach,
            high: reach,
        }
    }

    /// The column (0..width) a ratio falls in, and whether it is off the axis.
    fn column(&self, x: f64, width: usize) -> (usize, bool) {
        let last = width.saturating_sub(1);
        if x.is_nan() || x <= 0.0 {
            return (0, true);
        }
        if !x.is_finite() {
            return (last, true);
        }
        let f = (x.ln() - self.low) / (self.high - self.low);
        if f < 0.0 {
            return (0, true);
        }
        if f > 1.0 {
            return (last, true);
        }
        ((f * last as f64).round() as usize, false)
    }

    /// One row of the forest plot `width` columns wide: the interval as a line with its ends,
    /// the effect as a dot, and a dotted rule at 1 (no effect). An interval off the axis ends
    /// in an arrow.
    pub fn plot(&self, effect: f64, low: f64, high: f64, width: usize) -> String {
        if width == 0 {
            return String::new();
        }
        let mut cells = vec![' '; width];
        let (one, _) = self.column(1.0, width);
        cells[one] = '┊';
        let (l, l_off) = self.column(low, width);
        let (h, h_off) = self.column(high, width);
        for c in cells.iter_mut().take(h + 1).skip(l) {
            *c = '─';
        }
        cells[l] = if l_off { '◂' } else { '├' };
        cells[h] = if h_off { '▸' } else { '┤' };
        let (e, _) = self.column(effect, width);
        cells[e] = '●';
        cells.into_iter().collect()
    }

    /// The tick labels under the plot: the two ends and 1, each centred on its column where
    /// it fits.
    pub fn ticks(&self, width: usize) -> String {
        let mut cells = vec![' '; width];
        let mut put = |label: &str, centre: usize| {
            let n = label.chars().count();
            let start = centre.saturating_sub(n / 2).min(width.saturating_sub(n));
            // A label keeps a blank column from its neighbours, or is left out.
            let around = start.saturating_sub(1)..(start + n + 1).min(width);
            if cells[around].iter().all(|c| *c == ' ') {
                for (i, ch) in label.chars().enumerate() {
                    if let Some(cell) = cells.get_mut(start + i) {
                        *cell = ch;
                    }
                }
            }
        };
        let (one, _) = self.column(1.0, width);
        put("1", one);
        put(&tick_label(self.low.exp()), 0);
        put(&tick_label(self.high.exp()), width.saturating_sub(1));
        cells.into_iter().collect()
    }
}

/// "4", "0.5", "0.25", then "1/8" and "1/16" (a decimal there would be rounded).
fn tick_label(x: f64) -> String {
    if x >= 1.0 {
        format!("{}", x.round())
    } else if x >= 0.25 {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').to_owned()
    } else {
        format!("1/{}", (1.0 / x).round())
    }
}

/// A Kaplan–Meier curve's steps as the points of a line that draws the step function: each
/// drop is vertical at its event time.
pub fn km_points(steps: &[(u32, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(steps.len() * 2);
    let mut last: Option<f64> = None;
    for &(t, s) in steps {
        if let Some(prev) = last {
            out.push((f64::from(t), prev));
        }
        out.push((f64::from(t), s));
        last = Some(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_is_symmetric_at_powers_of_two() {
        let a = Axis::spanning([(1.6, 3.6), (0.5, 0.9)]);
        assert!((a.high.exp() - 4.0).abs() < 1e-9, "{}", a.high.exp());
        assert!((a.low.exp() - 0.25).abs() < 1e-9);
        let tight = Axis::spanning([(1.1, 1.3)]);
        assert!((tight.high.exp() - 2.0).abs() < 1e-9);
        let wide = Axis::spanning([(0.001, f64::INFINITY), (f64::NAN, 2.0)]);
        assert!((wide.high.exp() - 16.0).abs() < 1e-9);
        assert!((wide.low.exp() - 1.0 / 16.0).abs() < 1e-9);
    }

    #[test]
    fn a_forest_row_puts_the_dot_inside_its_interval_and_1_in_the_middle() {
        let a = Axis::spanning([(0.25, 4.0)]);
        let row = a.plot(2.0, 1.41, 2.83, 17);
        let cells: Vec<char> = row.chars().collect();
        assert_eq!(cells.len(), 17);
        assert_eq!(cells[8], '┊', "{row}");
        assert_eq!(cells[12], '●', "{row}");
        assert_eq!(cells[10], '├', "{row}");
        assert_eq!(cells[14], '┤', "{row}");
        // An interval crossing 1 covers the rule.
        let crossing: Vec<char> = a.plot(1.2, 0.7, 2.0, 17).chars().collect();
        assert_eq!(crossing[8], '─');
        // Off the axis: arrows at the edges.
        let off = a.plot(8.0, 0.01, 100.0, 17);
        assert!(off.starts_with('◂') && off.ends_with('●'), "{off}");
        assert_eq!(a.plot(1.0, 1.0, 1.0, 0), "");
    }

    #[test]
    fn ticks_label_the_ends_and_1() {
        let a = Axis::spanning([(0.25, 4.0)]);
        assert_eq!(a.ticks(17), "0.25    1       4");
        let narrow = a.ticks(5);
        assert!(narrow.contains('1'), "{narrow:?}");
        let wide = Axis::spanning([(0.1, 2.0)]);
        assert_eq!(wide.ticks(11), "1/16 1   16");
        assert_eq!(
            wide.ticks(9),
            "    1  16",
            "a label that would touch another is left out"
        );
        assert_eq!(Axis::spanning([(0.6, 1.2)]).ticks(9), "0.5 1   2");
    }

    #[test]
    fn km_points_draw_vertical_drops() {
        let pts = km_points(&[(0, 1.0), (10, 0.8), (30, 0.5)]);
        assert_eq!(
            pts,
            vec![
                (0.0, 1.0),
                (10.0, 1.0),
                (10.0, 0.8),
                (30.0, 0.8),
                (30.0, 0.5)
            ]
        );
    }

    #[test]
    fn steps_clamp_and_stale_runs_are_ignored() {
        let mut s = PatternsScreen::default();
        assert_eq!(s.start(None), Some(1));
        assert_eq!(s.start(None), None, "one run at a time");
        s.progress(1, MinePhase::Testing);
        assert!(matches!(
            s.job,
            Job::Running {
                phase: MinePhase::Testing,
                ..
            }
        ));
        s.finished(0, Err("old".into()));
        assert!(s.running(), "an older generation's answer is ignored");
        s.finished(1, Err("the cache is \u{1b}[31mlocked".into()));
        assert_eq!(s.job, Job::Failed("the cache is locked".into()));
        assert_eq!(clamp_step(0, -3, 5), 0);
        assert_eq!(clamp_step(3, 10, 5), 4);
        assert_eq!(clamp_step(3, isize::MIN, 5), 0);
        assert_eq!(clamp_step(0, 1, 0), 0);
    }
}
