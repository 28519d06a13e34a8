//! Reads every live deal's [`DealFacts`] for the pattern engine: history tables, activities
//! with their participants, and the segment dimensions the skills file declares — never the
//! deals' current-state columns (stage, amount, close date, flags), which is what keeps the
//! engine free of look-ahead (spec §5.10, guard 3).

use super::Result;
use crate::domain::time::from_unix;
use crate::domain::{AmountChange, CloseDateChange, StageChange, StageId};
use crate::signals::facts::{ActivityFact, ContactFact, DealFacts};
use crate::signals::skills::MAX_PERSONAS;
use crate::signals::{SegmentSource, Skills};
use rusqlite::Connection;
use std::collections::HashMap;

/// Every deal not archived, in id order, with its facts.
pub fn load(conn: &Connection, skills: &Skills) -> Result<Vec<DealFacts>> {
    let mut deals: Vec<DealFacts> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut companies: Vec<Option<String>> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT id, created_at, owner_id, company_id FROM deals
             WHERE archived_at IS NULL ORDER BY id",
        )?;
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
        let mut stmt = conn.prepare(
            "SELECT deal_id, entered_at, stage_id FROM stage_history ORDER BY deal_id, seq",
        )?;
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
        let mut stmt = conn.prepare(
            "SELECT deal_id, changed_at, amount FROM amount_history ORDER BY deal_id, seq",
        )?;
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
        let mut stmt = conn.prepare(
            "SELECT deal_id, changed_at, close_date FROM close_date_history ORDER BY deal_id, seq",
        )?;
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
    load_activities(conn, skills, &index, &mut deals)?;
    load_segments(conn, skills, &index, &companies, &mut deals)?;
    Ok(deals)
}

fn load_activities(
    conn: &Connection,
    skills: &Skills,
    index: &HashMap<String, usize>,
    deals: &mut [DealFacts],
) -> Result<()> {
    // Persona bits of every contact, from the title.
    let mut personas: HashMap<String, u64> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, title FROM contacts")?;
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
        let mut stmt = conn.prepare("SELECT activity_id, contact_id FROM activity_contacts")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            participants.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    // Per deal, contact id → index into its `contacts`.
    let mut slots: Vec<HashMap<String, u32>> = vec![HashMap::new(); deals.len()];
    let mut stmt = conn.prepare(
        "SELECT l.deal_id, a.id, a.kind, a.occurred_at, a.direction, a.subject, a.body
         FROM deal_activity_links l JOIN activities a ON a.id = l.activity_id",
    )?;
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
        let mut contacts = Vec::new();
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
        let mut stmt = conn.prepare("SELECT deal_id, name, value FROM deal_properties")?;
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
    fn every_persona_the_parser_allows_has_a_bit_of_its_own() {
        let bits: Vec<u64> = (0..MAX_PERSONAS).map(persona_bit).collect();
        assert_eq!(bits[0], 1);
        assert_eq!(bits[63], 1 << 63);
        assert_eq!(bits.iter().fold(0u64, |acc, b| acc | b), u64::MAX);
        assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 64);
    }
}
