//! Reads every live deal's [`DealFacts`] for the pattern engine: history tables, activities
//! with their participants, and the segment dimensions the skills file declares — never the
//! deals' current-state columns (stage, amount, close date, flags), which is what keeps the
//! engine free of look-ahead (spec §5.10, guard 3).
//!
//! Computing facts reads every activity's text (a 100,000-deal cache holds 1.3 million), so
//! each deal's facts are kept in `deal_facts`, one compact row per deal, and computed again
//! only for the deals whose rows are missing. A row is deleted in the same transaction as any
//! change to what it was computed from — by [`forget`] and [`forget_activity`] in the writers
//! of the history and activity tables, by triggers for deals, contacts and accounts (migration
//! 7) — so a row that is there is current; one computed under other skills is never read.

use super::{BUSY_TIMEOUT, Result, in_savepoint, meta};
use crate::domain::time::from_unix;
use crate::domain::{AmountChange, CloseDateChange, StageChange, StageId};
use crate::signals::facts::{ActivityFact, ContactFact, Contacts, DealFacts};
use crate::signals::skills::MAX_PERSONAS;
use crate::signals::{SegmentSource, Skills};
use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The layout of a `deal_facts` row; part of the key, so a new layout recomputes every row.
const LAYOUT: u32 = 1;

/// Every deal not archived, in id order, with its facts: from `deal_facts` where a current row
/// is there, computed from the history tables (and kept) where not.
pub fn load(conn: &Connection, skills: &Skills) -> Result<Vec<DealFacts>> {
    let key = format!("layout {LAYOUT}; {}", skills.facts_key());
    // One read transaction, so that the rows read and the rows computed describe the same
    // moment, and so that keeping the computed ones fails rather than stores stale facts when
    // another connection has written since (SQLite refuses to upgrade a stale snapshot).
    in_savepoint(conn, || {
        let current = meta::get(conn, meta::keys::FACTS_KEY)?.as_deref() == Some(key.as_str());
        // The rows first, then their decoding on every core: decoding is most of the work.
        let mut rows: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        {
            let mut stmt = conn.prepare(
                "SELECT d.id, f.facts FROM deals d LEFT JOIN deal_facts f ON f.deal_id = d.id
                 WHERE d.archived_at IS NULL ORDER BY d.id",
            )?;
            let mut found = stmt.query([])?;
            while let Some(r) = found.next()? {
                let bytes = match r.get_ref(1)? {
                    ValueRef::Blob(bytes) if current => Some(bytes.to_vec()),
                    _ => None,
                };
                rows.push((r.get(0)?, bytes));
            }
        }
        let deals: Vec<Option<DealFacts>> = rows
            .par_iter_mut()
            .map(|(id, bytes)| {
                let mut d = decode(bytes.as_deref()?)?;
                d.id = std::mem::take(id);
                Some(d)
            })
            .collect();
        // A decoded row took its id; the others still hold theirs.
        let missing: Vec<String> = rows
            .into_iter()
            .zip(&deals)
            .filter(|(_, d)| d.is_none())
            .map(|((id, _), _)| id)
            .collect();
        if missing.is_empty() {
            return Ok(deals.into_iter().flatten().collect());
        }
        let scope = if missing.len() == deals.len() {
            Scope::All
        } else {
            Scope::Wanted(&missing)
        };
        let computed = compute(conn, skills, &scope)?;
        if let Err(e) = keep(conn, &key, current, &computed) {
            // Only a cache: the facts are right either way, and the next read tries again.
            tracing::debug!("deal facts not kept: {e}");
        }
        let mut computed: HashMap<String, DealFacts> =
            computed.into_iter().map(|d| (d.id.clone(), d)).collect();
        // The empty slots are the missing ids, in the same order.
        let mut ids = missing.iter();
        Ok(deals
            .into_iter()
            .filter_map(|slot| slot.or_else(|| computed.remove(ids.next()?)))
            .collect())
    })
}

/// Drops the kept facts of `deal`, whose history or activities are being rewritten. Writers of
/// the history, property and activity tables call it (see migration 7).
pub fn forget(conn: &Connection, deal: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM deal_facts WHERE deal_id = ?1")?
        .execute([deal])?;
    Ok(())
}

/// Drops the kept facts of every deal activity `activity` is on: `first_deal` (its
/// `activities.deal_id`) and the further ones of `activity_deals`.
pub fn forget_activity(conn: &Connection, activity: &str, first_deal: &str) -> Result<()> {
    forget(conn, first_deal)?;
    // Plain lookups rather than a DELETE … IN (SELECT …), which SQLite runs through a temporary
    // table on every call: this runs once per activity a sync writes, and nearly always finds
    // no further deal.
    let further: Vec<String> = conn
        .prepare_cached("SELECT deal_id FROM activity_deals WHERE activity_id = ?1")?
        .query_map([activity], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for deal in further {
        forget(conn, &deal)?;
    }
    Ok(())
}

/// Which deals [`compute`] reads.
enum Scope<'a> {
    /// Every live deal.
    All,
    /// These live deals.
    Wanted(&'a [String]),
}

impl Scope<'_> {
    /// A condition on `column` (a deal id) that keeps the deals in scope, to follow a `WHERE`.
    /// The ids are in a temporary table, never in the SQL text.
    fn filter(&self, column: &str) -> String {
        match self {
            Scope::All => String::new(),
            Scope::Wanted(_) => format!(" AND {column} IN (SELECT id FROM temp.facts_wanted)"),
        }
    }

    /// A condition on `column` that keeps the rows whose `of` (a column of
    /// `activity_contacts`) belongs to an activity of a deal in scope.
    fn in_activities(&self, column: &str, of: &str) -> String {
        match self {
            Scope::All => String::new(),
            Scope::Wanted(_) => format!(
                " AND {column} IN (SELECT ac.{of} FROM activity_contacts ac
                  JOIN deal_activity_links l ON l.activity_id = ac.activity_id
                  WHERE l.deal_id IN (SELECT id FROM temp.facts_wanted))"
            ),
        }
    }
}

/// Every live deal in scope, in id order, with its facts computed from the history tables.
fn compute(conn: &Connection, skills: &Skills, scope: &Scope) -> Result<Vec<DealFacts>> {
    if let Scope::Wanted(ids) = scope {
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS facts_wanted (id TEXT PRIMARY KEY) WITHOUT ROWID;
             DELETE FROM temp.facts_wanted;",
        )?;
        let mut insert =
            conn.prepare("INSERT OR IGNORE INTO temp.facts_wanted (id) VALUES (?1)")?;
        for id in *ids {
            insert.execute([id])?;
        }
    }
    let mut deals: Vec<DealFacts> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut companies: Vec<Option<String>> = Vec::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, created_at, owner_id, company_id FROM deals
             WHERE archived_at IS NULL{} ORDER BY id",
            scope.filter("id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            index.insert(id.clone(), deals.len());
            let company: Option<String> = r.get(3)?;
            companies.push(company.clone());
            deals.push(DealFacts {
                id,
                created_at: r.get(1)?,
                owner: r.get(2)?,
                company,
                segments: vec![None; skills.segments().len()],
                ..DealFacts::default()
            });
        }
    }
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT deal_id, entered_at, stage_id FROM stage_history
             WHERE 1{} ORDER BY deal_id, seq",
            scope.filter("deal_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            if let Some(&i) = index.get(&id) {
                deals[i].history.stages.push(StageChange {
                    at: from_unix(r.get(1)?),
                    stage_id: StageId::from(r.get::<_, String>(2)?),
                });
            }
        }
    }
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT deal_id, changed_at, amount FROM amount_history
             WHERE 1{} ORDER BY deal_id, seq",
            scope.filter("deal_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            if let Some(&i) = index.get(&id) {
                deals[i].history.amounts.push(AmountChange {
                    at: from_unix(r.get(1)?),
                    amount: r.get(2)?,
                });
            }
        }
    }
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT deal_id, changed_at, close_date FROM close_date_history
             WHERE 1{} ORDER BY deal_id, seq",
            scope.filter("deal_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            if let Some(&i) = index.get(&id) {
                let close: Option<i64> = r.get(2)?;
                deals[i].history.close_dates.push(CloseDateChange {
                    at: from_unix(r.get(1)?),
                    close_date: close.map(from_unix),
                });
            }
        }
    }
    for d in &mut deals {
        d.history.normalise();
    }
    load_activities(conn, skills, scope, &index, &mut deals)?;
    load_segments(conn, skills, scope, &index, &companies, &mut deals)?;
    if let Scope::Wanted(_) = scope {
        conn.execute_batch("DELETE FROM temp.facts_wanted")?;
    }
    Ok(deals)
}

/// Stores computed facts in `deal_facts` (all of them afresh when the rows there were computed
/// under another key). Never waits for another writer: a busy cache just keeps nothing.
fn keep(conn: &Connection, key: &str, current: bool, deals: &[DealFacts]) -> Result<()> {
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let kept = in_savepoint(conn, || {
        if !current {
            conn.execute("DELETE FROM deal_facts", [])?;
            meta::set(conn, meta::keys::FACTS_KEY, key)?;
        }
        let mut insert =
            conn.prepare("INSERT OR REPLACE INTO deal_facts (deal_id, facts) VALUES (?1, ?2)")?;
        for d in deals {
            insert.execute(params![d.id, encode(d)])?;
        }
        Ok(())
    });
    conn.busy_timeout(BUSY_TIMEOUT)?;
    kept
}

/// A `deal_facts` row: [`DealFacts`] without its id (the row's key), times in Unix seconds.
/// Its text borrows from the facts when written and from the row's bytes when read, so that
/// each string is allocated once, in the facts.
#[derive(Serialize, Deserialize)]
struct Row<'a> {
    created_at: i64,
    owner: Option<&'a str>,
    company: Option<&'a str>,
    #[serde(borrow)]
    segments: Vec<Option<&'a str>>,
    #[serde(borrow)]
    stages: Vec<(i64, &'a str)>,
    amounts: Vec<(i64, Option<f64>)>,
    close_dates: Vec<(i64, Option<i64>)>,
    /// `(seconds since the activity before, two-way, contacts, phrases)`: activities are in time
    /// order, so the gaps are small numbers, which the encoding writes in few bytes.
    activities: Vec<(i64, bool, Contacts, u64)>,
    contacts: Vec<u64>,
}

fn encode(d: &DealFacts) -> Vec<u8> {
    let h = &d.history;
    let mut last = 0i64;
    let row = Row {
        created_at: d.created_at,
        owner: d.owner.as_deref(),
        company: d.company.as_deref(),
        segments: d.segments.iter().map(Option::as_deref).collect(),
        stages: h
            .stages
            .iter()
            .map(|c| (c.at.as_second(), c.stage_id.as_str()))
            .collect(),
        amounts: h
            .amounts
            .iter()
            .map(|c| (c.at.as_second(), c.amount))
            .collect(),
        close_dates: h
            .close_dates
            .iter()
            .map(|c| (c.at.as_second(), c.close_date.map(|t| t.as_second())))
            .collect(),
        activities: d
            .activities
            .iter()
            .map(|a| {
                let gap = a.at.wrapping_sub(last);
                last = a.at;
                (gap, a.two_way, a.contacts.clone(), a.phrases)
            })
            .collect(),
        contacts: d.contacts.iter().map(|c| c.personas).collect(),
    };
    // Plain integers, strings and vectors into a vector: postcard has no way to fail here, and
    // were it ever to, an empty row does not decode and is computed again.
    postcard::to_stdvec(&row).unwrap_or_default()
}

/// The facts in a row, but for the id (the row's key); `None` (compute them again) when the row
/// does not read.
fn decode(bytes: &[u8]) -> Option<DealFacts> {
    let row: Row = postcard::from_bytes(bytes).ok()?;
    let mut last = 0i64;
    Some(DealFacts {
        id: String::new(),
        created_at: row.created_at,
        history: crate::domain::DealHistory {
            stages: row
                .stages
                .into_iter()
                .map(|(at, s)| StageChange {
                    at: from_unix(at),
                    stage_id: StageId::from(s.to_owned()),
                })
                .collect(),
            amounts: row
                .amounts
                .into_iter()
                .map(|(at, amount)| AmountChange {
                    at: from_unix(at),
                    amount,
                })
                .collect(),
            close_dates: row
                .close_dates
                .into_iter()
                .map(|(at, close)| CloseDateChange {
                    at: from_unix(at),
                    close_date: close.map(from_unix),
                })
                .collect(),
        },
        activities: row
            .activities
            .into_iter()
            .map(|(gap, two_way, contacts, phrases)| {
                last = last.wrapping_add(gap);
                ActivityFact {
                    at: last,
                    two_way,
                    contacts,
                    phrases,
                }
            })
            .collect(),
        contacts: row
            .contacts
            .into_iter()
            .map(|personas| ContactFact { personas })
            .collect(),
        segments: row
            .segments
            .into_iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        owner: row.owner.map(str::to_owned),
        company: row.company.map(str::to_owned),
    })
}

fn load_activities(
    conn: &Connection,
    skills: &Skills,
    scope: &Scope,
    index: &HashMap<String, usize>,
    deals: &mut [DealFacts],
) -> Result<()> {
    // Persona bits of every contact, from the title.
    let mut personas: HashMap<String, u64> = HashMap::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, title FROM contacts WHERE 1{}",
            scope.in_activities("id", "contact_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let title: Option<String> = r.get(1)?;
            let bits = title.map_or(0, |t| {
                skills
                    .personas()
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.matches(&t))
                    .fold(0u64, |acc, (i, _)| acc | persona_bit(i))
            });
            personas.insert(id, bits);
        }
    }
    let mut participants: HashMap<String, Vec<String>> = HashMap::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT activity_id, contact_id FROM activity_contacts WHERE 1{}",
            scope.in_activities("activity_id", "activity_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            participants.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    // Per deal, contact id → index into its `contacts`.
    let mut slots: Vec<HashMap<String, u32>> = vec![HashMap::new(); deals.len()];
    let mut stmt = conn.prepare(&format!(
        "SELECT l.deal_id, a.id, a.kind, a.occurred_at, a.direction, a.subject, a.body
         FROM deal_activity_links l JOIN activities a ON a.id = l.activity_id WHERE 1{}",
        scope.filter("l.deal_id")
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let deal: String = r.get(0)?;
        let Some(&i) = index.get(&deal) else {
            continue;
        };
        let id: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let direction: Option<String> = r.get(4)?;
        let two_way = match kind.as_str() {
            "call" | "meeting" => true,
            "email" => direction.as_deref() == Some("inbound"),
            _ => false,
        };
        let subject: Option<String> = r.get(5)?;
        let body: String = r.get(6)?;
        let mut phrases = skills.phrase_hits(&body);
        if let Some(s) = subject {
            phrases |= skills.phrase_hits(&s);
        }
        let mut contacts = Contacts::new();
        for c in participants.get(&id).into_iter().flatten() {
            let next = slots[i].len() as u32;
            let slot = *slots[i].entry(c.clone()).or_insert_with(|| {
                deals[i].contacts.push(ContactFact {
                    personas: personas.get(c).copied().unwrap_or(0),
                });
                next
            });
            contacts.push(slot);
        }
        deals[i].activities.push(ActivityFact {
            at: r.get(3)?,
            two_way,
            contacts,
            phrases,
        });
    }
    for d in deals.iter_mut() {
        d.activities.sort_by_key(|a| a.at);
    }
    Ok(())
}

/// The bit of persona `i` (in the skills file's order) in a contact's persona set. The skills
/// parser refuses more than [`MAX_PERSONAS`], so every persona has a bit of its own; were that
/// rule ever lifted, the shift is checked so that extra personas get no bit rather than
/// aliasing the first ones' (which `1 << (i % 64)` did).
fn persona_bit(i: usize) -> u64 {
    debug_assert!(i < MAX_PERSONAS, "persona {i} has no bit");
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .unwrap_or(0)
}

fn load_segments(
    conn: &Connection,
    skills: &Skills,
    scope: &Scope,
    index: &HashMap<String, usize>,
    companies: &[Option<String>],
    deals: &mut [DealFacts],
) -> Result<()> {
    let mut company_values: HashMap<(String, String), String> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT id, industry, size_band, buying_center FROM companies")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            for (col, name) in [(1, "industry"), (2, "size_band"), (3, "buying_center")] {
                if let Some(v) = r.get::<_, Option<String>>(col)? {
                    company_values.insert((id.clone(), name.to_owned()), v);
                }
            }
        }
        let mut stmt = conn.prepare("SELECT company_id, name, value FROM company_properties")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            company_values.insert((r.get(0)?, r.get(1)?), r.get(2)?);
        }
    }
    let deal_segments: HashMap<&str, usize> = skills
        .segments()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.source() == SegmentSource::Deal)
        .map(|(i, s)| (s.property(), i))
        .collect();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT deal_id, name, value FROM deal_properties WHERE 1{}",
            scope.filter("deal_id")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let deal: String = r.get(0)?;
            let name: String = r.get(1)?;
            if let (Some(&i), Some(&s)) = (index.get(&deal), deal_segments.get(name.as_str())) {
                let value: String = r.get(2)?;
                let value = value.trim();
                if !value.is_empty() {
                    deals[i].segments[s] = Some(value.to_owned());
                }
            }
        }
    }
    for (s, segment) in skills.segments().iter().enumerate() {
        if segment.source() != SegmentSource::Company {
            continue;
        }
        for (d, company) in deals.iter_mut().zip(companies) {
            if let Some(c) = company {
                let key = (c.clone(), segment.property().to_owned());
                d.segments[s] = company_values.get(&key).cloned();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_as_the_facts_it_was_made_from() {
        let at = |s: i64| from_unix(s);
        let deal = DealFacts {
            id: "d1".into(),
            created_at: -86_400,
            history: crate::domain::DealHistory {
                stages: vec![
                    StageChange {
                        at: at(10),
                        stage_id: StageId::from("appointment".to_owned()),
                    },
                    StageChange {
                        at: at(1_700_000_000),
                        stage_id: StageId::from("closedwon".to_owned()),
                    },
                ],
                amounts: vec![
                    AmountChange {
                        at: at(20),
                        amount: None,
                    },
                    AmountChange {
                        at: at(30),
                        amount: Some(12_500.75),
                    },
                ],
                close_dates: vec![CloseDateChange {
                    at: at(40),
                    close_date: Some(at(1_800_000_000)),
                }],
            },
            // Out of order on purpose: a gap may be negative and must survive.
            activities: vec![
                ActivityFact {
                    at: 500,
                    two_way: true,
                    contacts: [0, 1, 2][..].into(),
                    phrases: u64::MAX,
                },
                ActivityFact {
                    at: 100,
                    two_way: false,
                    contacts: Contacts::new(),
                    phrases: 0b101,
                },
            ],
            contacts: vec![
                ContactFact { personas: 1 << 63 },
                ContactFact { personas: 0 },
                ContactFact { personas: 3 },
            ],
            segments: vec![Some("Healthcare".into()), None, Some("é—ü".into())],
            owner: Some("owner-7".into()),
            company: None,
        };
        let bytes = encode(&deal);
        assert!(!bytes.is_empty());
        let mut back = decode(&bytes).expect("a row just written reads");
        assert_eq!(back.id, "", "the id is the row's key, not in the row");
        back.id = deal.id.clone();
        assert_eq!(back, deal);
        assert!(
            decode(&bytes[..bytes.len() - 1]).is_none(),
            "a cut row is refused"
        );
        assert!(decode(&[]).is_none());
    }

    #[test]
    fn every_persona_the_parser_allows_has_a_bit_of_its_own() {
        let bits: Vec<u64> = (0..MAX_PERSONAS).map(persona_bit).collect();
        assert_eq!(bits[0], 1);
        assert_eq!(bits[63], 1 << 63);
        assert_eq!(bits.iter().fold(0u64, |acc, b| acc | b), u64::MAX);
        assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 64);
    }
}
