//! Signals as of an instant T: pure functions of a deal's [`DealFacts`] that read only facts
//! timestamped at or before T (spec §5.2, guard 1 of §5.10). Adding any fact later than T —
//! an activity, a stage entry, a slip, a new amount — leaves every signal at T unchanged; a
//! property test below holds the code to that.

use super::facts::DealFacts;
use crate::domain::time::{DAY, from_unix};

/// The knobs of the signals, from the skills file and the config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignalParams {
    /// Personas with a "live" signal: (persona index, window in days).
    pub live: Vec<(u32, i64)>,
    /// A close-date move later by at least this many days is a slip.
    pub slip_min_days: i64,
}

/// One deal's signals as of T.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SignalsAt {
    /// Distinct contacts who took part in an activity at or before T.
    pub contacts_engaged: u32,
    /// At most one distinct contact took part in the deal's activities at or before T.
    pub single_threaded: bool,
    /// The close date moved later by at least the slip threshold at or before T.
    pub slipped_before: bool,
    /// Personas (bits) of contacts who took part in an activity at or before T.
    pub engaged: u64,
    /// Personas (bits) with a live window who took part in an activity within it, up to T.
    pub live: u64,
    /// Phrase lists (bits) some activity at or before T matched.
    pub mentioned: u64,
    /// Personas (bits) who took part in an activity since the stage was entered, up to T.
    pub stage_engaged: u64,
    /// Phrase lists (bits) matched by an activity since the stage was entered, up to T.
    pub stage_mentioned: u64,
    /// The amount at T, if one was recorded by then.
    pub amount: Option<f64>,
}

/// The signals of `facts` as of `t`, where the stage being studied was entered at
/// `stage_since` (≤ `t`; equal when there is no landmark).
pub fn signals_at(facts: &DealFacts, t: i64, stage_since: i64, params: &SignalParams) -> SignalsAt {
    let mut s = SignalsAt::default();
    // Distinct contacts: decks are small (a handful of contacts), so a bitset of up to 64
    // contact slots, with a sorted fallback beyond, keeps this allocation-free in practice.
    let mut seen_small: u64 = 0;
    let mut seen_large: Vec<u32> = Vec::new();
    for a in facts.activities.iter().filter(|a| a.at <= t) {
        s.mentioned |= a.phrases;
        let in_stage = a.at >= stage_since;
        if in_stage {
            s.stage_mentioned |= a.phrases;
        }
        for &c in &a.contacts {
            if c < 64 {
                seen_small |= 1 << c;
            } else if !seen_large.contains(&c) {
                seen_large.push(c);
            }
            let personas = facts.contacts.get(c as usize).map_or(0, |x| x.personas);
            s.engaged |= personas;
            if in_stage {
                s.stage_engaged |= personas;
            }
            for &(persona, days) in &params.live {
                let bit = 1u64 << persona;
                if personas & bit != 0 && a.at >= t - days * DAY {
                    s.live |= bit;
                }
            }
        }
    }
    s.contacts_engaged = seen_small.count_ones() + seen_large.len() as u32;
    s.single_threaded = s.contacts_engaged <= 1;
    let at = from_unix(t);
    s.slipped_before = facts
        .history
        .slips(params.slip_min_days)
        .iter()
        .any(|slip| slip.at <= at);
    s.amount = facts.history.amount_at(at);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AmountChange, CloseDateChange, StageChange, StageId};
    use crate::signals::facts::{ActivityFact, ContactFact};
    use proptest::prelude::*;

    const CTO: u64 = 1 << 0;
    const CFO: u64 = 1 << 2;
    const COMPETITOR: u64 = 1 << 1;

    fn params() -> SignalParams {
        SignalParams {
            live: vec![(2, 30)],
            slip_min_days: 7,
        }
    }

    fn activity(day: i64, contacts: &[u32], phrases: u64) -> ActivityFact {
        ActivityFact {
            at: day * DAY,
            two_way: true,
            contacts: contacts.into(),
            phrases,
        }
    }

    fn deal() -> DealFacts {
        DealFacts {
            id: "d1".into(),
            created_at: 0,
            contacts: vec![
                ContactFact { personas: 0 },
                ContactFact { personas: CTO },
                ContactFact { personas: CFO },
            ],
            activities: vec![
                activity(1, &[0], 0),
                activity(10, &[0], COMPETITOR),
                activity(20, &[1], 0),
                activity(50, &[2], 0),
            ],
            ..DealFacts::default()
        }
    }

    #[test]
    fn each_signal_reads_only_its_window() {
        let d = deal();
        let at15 = signals_at(&d, 15 * DAY, 5 * DAY, &params());
        assert!(at15.single_threaded);
        assert_eq!(at15.mentioned, COMPETITOR);
        assert_eq!(at15.stage_mentioned, COMPETITOR);
        assert_eq!(at15.engaged, 0);
        let at20 = signals_at(&d, 20 * DAY, 15 * DAY, &params());
        assert!(!at20.single_threaded, "a fact at exactly T counts");
        assert_eq!(at20.engaged, CTO);
        assert_eq!(at20.stage_engaged, CTO);
        assert_eq!(at20.stage_mentioned, 0, "the mention came before the stage");
        let at60 = signals_at(&d, 60 * DAY, 60 * DAY, &params());
        assert_eq!(at60.live, CFO, "the CFO took part 10 days before T");
        let at90 = signals_at(&d, 90 * DAY, 90 * DAY, &params());
        assert_eq!(at90.live, 0, "40 days ago is not live");
        assert_eq!(at90.engaged, CTO | CFO);
        assert_eq!(at90.contacts_engaged, 3);
    }

    #[test]
    fn slips_and_amounts_are_read_as_of_t() {
        let mut d = deal();
        d.history.close_dates = vec![
            CloseDateChange {
                at: from_unix(0),
                close_date: Some(from_unix(60 * DAY)),
            },
            CloseDateChange {
                at: from_unix(30 * DAY),
                close_date: Some(from_unix(90 * DAY)),
            },
        ];
        d.history.amounts = vec![AmountChange {
            at: from_unix(5 * DAY),
            amount: Some(1000.0),
        }];
        assert!(!signals_at(&d, 29 * DAY, 0, &params()).slipped_before);
        assert!(signals_at(&d, 30 * DAY, 0, &params()).slipped_before);
        assert_eq!(signals_at(&d, 4 * DAY, 0, &params()).amount, None);
        assert_eq!(signals_at(&d, 5 * DAY, 0, &params()).amount, Some(1000.0));
    }

    /// Facts strictly later than `t` of every kind signals read.
    fn later_facts() -> impl Strategy<Value = Vec<(u8, i64, u32, u64, i64)>> {
        prop::collection::vec(
            (0u8..4, 1i64..400, 0u32..6, any::<u64>(), -40i64..40),
            0..12,
        )
    }

    proptest! {
        /// Guard 1 of §5.10: adding facts timestamped after T never changes a signal at T.
        #[test]
        fn facts_after_t_never_change_signals_at_t(
            t_day in 0i64..200,
            since_back in 0i64..30,
            later in later_facts(),
            base_contacts in prop::collection::vec(any::<u64>(), 1..6),
            base_acts in prop::collection::vec((0i64..200, 0u32..6, any::<u64>()), 0..10),
        ) {
            let t = t_day * DAY;
            let since = t - since_back * DAY;
            let mut d = DealFacts {
                contacts: base_contacts.iter().map(|&p| ContactFact { personas: p }).collect(),
                ..DealFacts::default()
            };
            let n_contacts = d.contacts.len() as u32;
            d.activities = base_acts
                .iter()
                .map(|&(day, c, phrases)| activity(day, &[c % n_contacts], phrases))
                .collect();
            d.activities.sort_by_key(|a| a.at);
            d.history.close_dates.push(CloseDateChange { at: from_unix(0), close_date: Some(from_unix(100 * DAY)) });
            let before = signals_at(&d, t, since, &params());
            let mut grown = d.clone();
            for (kind, after, c, bits, shift) in later {
                let at = t + after * 3_600;
                match kind {
                    0 => grown.activities.push(ActivityFact {
                        at,
                        two_way: true,
                        contacts: [c % n_contacts][..].into(),
                        phrases: bits,
                    }),
                    1 => grown.history.close_dates.push(CloseDateChange {
                        at: from_unix(at),
                        close_date: Some(from_unix(100 * DAY + shift * DAY)),
                    }),
                    2 => grown.history.amounts.push(AmountChange { at: from_unix(at), amount: Some(bits as f64) }),
                    _ => grown.history.stages.push(StageChange { at: from_unix(at), stage_id: StageId::from("closedlost") }),
                }
            }
            grown.activities.sort_by_key(|a| a.at);
            grown.history.normalise();
            prop_assert_eq!(before, signals_at(&grown, t, since, &params()));
        }
    }
}
