//! The Lessons screen's state: every lesson with its evidence over time, the open deals it
//! fires on now, and how its recommendations went when followed and when not. Pure: the event
//! loop reads the cache, `update` only records.

use crate::cmd::lessons::FollowTables;
use crate::domain::{Evidence, Lesson};
use crate::text::sanitize_line;
use jiff::Timestamp;
use std::sync::Arc;

/// One lesson as the screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonRow {
    /// The lesson, its text made safe to draw (a library file can come from anyone).
    pub lesson: Lesson,
    /// Its re-measurements, oldest first.
    pub trend: Vec<Evidence>,
    /// Outcomes when its recommendation was followed against when not.
    pub follow: FollowTables,
    /// Open deals it fires on now (active lessons only).
    pub firing: usize,
}

impl LessonRow {
    /// A row with every string of the lesson sanitised.
    pub fn new(
        mut lesson: Lesson,
        trend: Vec<Evidence>,
        follow: FollowTables,
        firing: usize,
    ) -> Self {
        lesson.statement = sanitize_line(&lesson.statement);
        lesson.recommendation = sanitize_line(&lesson.recommendation);
        lesson.owner = lesson.owner.as_deref().map(sanitize_line);
        lesson.status_changed_by = lesson.status_changed_by.as_deref().map(sanitize_line);
        for t in &mut lesson.tags {
            *t = sanitize_line(t);
        }
        for c in &mut lesson.trigger.condition {
            *c = sanitize_line(c);
        }
        lesson.trigger.population = sanitize_line(&lesson.trigger.population);
        for p in &mut lesson.patterns {
            p.context = sanitize_line(&p.context);
        }
        LessonRow {
            lesson,
            trend,
            follow,
            firing,
        }
    }

    /// The newest re-measurement.
    pub fn latest(&self) -> Option<&Evidence> {
        self.trend.last()
    }
}

/// What the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonsData {
    /// The cache's "now" the advisor used.
    pub as_of: Timestamp,
    /// Every lesson, oldest first.
    pub rows: Vec<LessonRow>,
    /// The advisor's recommendations by deal, read in the same pass (so the queue's at-risk
    /// marks agree with the counts shown here without a second read of the cache).
    pub advice: Arc<crate::tui::action::Advice>,
}

/// The Lessons screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LessonsScreen {
    /// The last load.
    pub data: Option<Arc<LessonsData>>,
    /// A load is in flight.
    pub loading: bool,
    /// The last load failed: why.
    pub failed: Option<String>,
    /// Loads asked for; an older one landing late is ignored.
    pub generation: u64,
    /// The selected lesson.
    pub selected: usize,
}

impl LessonsScreen {
    /// Starts a load and returns its generation.
    pub fn start(&mut self) -> u64 {
        self.generation += 1;
        self.loading = true;
        self.generation
    }

    /// A load finished; the selection stays on the same lesson when it is still there.
    pub fn finished(&mut self, generation: u64, result: Result<LessonsData, String>) {
        if generation != self.generation {
            return;
        }
        self.loading = false;
        match result {
            Ok(data) => {
                let id = self.selected_row().map(|r| r.lesson.id.clone());
                self.selected = id
                    .and_then(|id| data.rows.iter().position(|r| r.lesson.id == id))
                    .unwrap_or(0);
                self.data = Some(Arc::new(data));
                self.failed = None;
            }
            Err(why) => self.failed = Some(sanitize_line(&why)),
        }
    }

    /// The selected lesson.
    pub fn selected_row(&self) -> Option<&LessonRow> {
        self.data.as_ref()?.rows.get(self.selected)
    }

    /// Moves the selection by `delta` (clamped).
    pub fn step(&mut self, delta: isize) {
        let len = self.data.as_ref().map_or(0, |d| d.rows.len());
        if len == 0 {
            self.selected = 0;
            return;
        }
        let at = if delta < 0 {
            self.selected.saturating_sub(delta.unsigned_abs())
        } else {
            self.selected.saturating_add(delta as usize)
        };
        self.selected = at.min(len - 1);
    }
}

/// Effects over time as a sparkline of ▁…█ on the log scale, 1 in the middle; a measurement
/// that could not be made is a space.
pub fn sparkline(effects: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    // ±ln 4 spans the bars: effects beyond 4x (or 1/4x) sit at the ends.
    let reach = 4f64.ln();
    effects
        .iter()
        .map(|&e| {
            if !(e.is_finite() && e > 0.0) {
                return ' ';
            }
            let f = ((e.ln() / reach).clamp(-1.0, 1.0) + 1.0) / 2.0;
            BARS[((f * 7.0).round() as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_put_1_in_the_middle_and_clip_the_ends() {
        assert_eq!(
            sparkline(&[0.1, 0.25, 1.0, 2.0, 4.0, 40.0, f64::NAN]),
            "▁▁▅▆██ "
        );
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn steps_clamp_and_stale_loads_are_ignored() {
        let mut s = LessonsScreen::default();
        let g = s.start();
        s.finished(g + 1, Err("late".into()));
        assert!(s.loading);
        s.finished(g, Err("no \u{1b}[2Jcache".into()));
        assert_eq!(s.failed.as_deref(), Some("no cache"));
        s.step(5);
        assert_eq!(s.selected, 0);
    }
}
