//! Deals: the current record, extra properties, field history and stakeholders.

use super::{Result, StoreError, opt_secs, opt_ts, secs};
use crate::domain::time::from_unix;
use crate::domain::{
    AmountChange, CloseDateChange, Deal, DealHistory, DealId, DealRole, DealStatus, StageChange,
    Stakeholder,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// Inserts or updates a deal, replacing its properties and its field history.
///
/// The CRM returns a deal's whole history on every read, so replacing it keeps the cache a
/// faithful copy without having to diff.
pub fn upsert(conn: &Connection, d: &Deal, history: &DealHistory) -> Result<()> {
    let id = d.id.as_str();
    conn.prepare_cached(
        "INSERT INTO deals (id, source, name, company_id, owner_id, pipeline_id, stage_id, amount,
             currency, created_at, close_date, is_closed, is_won, closed_reason, last_modified,
             archived_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT(id) DO UPDATE SET source = excluded.source, name = excluded.name,
             company_id = excluded.company_id, owner_id = excluded.owner_id,
             pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id,
             amount = excluded.amount, currency = excluded.currency,
             created_at = excluded.created_at, close_date = excluded.close_date,
             is_closed = excluded.is_closed, is_won = excluded.is_won,
             closed_reason = excluded.closed_reason, last_modified = excluded.last_modified,
             archived_at = excluded.archived_at",
    )?
    .execute(params![
        id,
        d.source,
        d.name,
        d.company_id.as_ref().map(|c| c.as_str()),
        d.owner_id.as_ref().map(|o| o.as_str()),
        d.pipeline_id.as_str(),
        d.stage_id.as_str(),
        d.amount,
        d.currency,
        secs(d.created_at),
        opt_secs(d.close_date),
        d.is_closed,
        d.is_won,
        d.closed_reason,
        secs(d.last_modified),
        opt_secs(d.archived_at),
    ])?;

    for table in [
        "deal_properties",
        "stage_history",
        "amount_history",
        "close_date_history",
    ] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE deal_id = ?1"))?
            .execute([id])?;
    }
    let mut prop = conn
        .prepare_cached("INSERT INTO deal_properties (deal_id, name, value) VALUES (?1, ?2, ?3)")?;
    for (name, value) in &d.properties {
        prop.execute(params![id, name, value])?;
    }
    let mut stage = conn.prepare_cached(
        "INSERT INTO stage_history (deal_id, seq, entered_at, stage_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, c) in history.stages.iter().enumerate() {
        stage.execute(params![id, seq as i64, secs(c.at), c.stage_id.as_str()])?;
    }
    let mut amount = conn.prepare_cached(
        "INSERT INTO amount_history (deal_id, seq, changed_at, amount) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, c) in history.amounts.iter().enumerate() {
        amount.execute(params![id, seq as i64, secs(c.at), c.amount])?;
    }
    let mut close = conn.prepare_cached(
        "INSERT INTO close_date_history (deal_id, seq, changed_at, close_date)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seq, c) in history.close_dates.iter().enumerate() {
        close.execute(params![id, seq as i64, secs(c.at), opt_secs(c.close_date)])?;
    }
    super::facts::forget(conn, id)
}

/// When the cache's copy of a deal was last modified in its CRM, if the cache holds it.
pub fn last_modified(conn: &Connection, id: &DealId) -> Result<Option<Timestamp>> {
    Ok(conn
        .prepare_cached("SELECT last_modified FROM deals WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get::<_, i64>(0))
        .optional()?
        .map(from_unix))
}

/// Forgets a deal's stakeholders and activities before a sync writes the CRM's current set, so
/// that a contact unlinked or a call deleted in the CRM does not linger in the cache.
pub fn clear_links(conn: &Connection, id: &DealId) -> Result<()> {
    conn.prepare_cached("DELETE FROM deal_contacts WHERE deal_id = ?1")?
        .execute([id.as_str()])?;
    super::activities::unlink_deal(conn, id)
}

/// Links a contact to a deal (or updates the link).
pub fn upsert_stakeholder(conn: &Connection, s: &Stakeholder) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO deal_contacts (deal_id, contact_id, role, added_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(deal_id, contact_id) DO UPDATE SET role = excluded.role,
             added_at = excluded.added_at",
    )?
    .execute(params![
        s.deal_id.as_str(),
        s.contact_id.as_str(),
        s.role.map(DealRole::as_str),
        opt_secs(s.added_at)
    ])?;
    Ok(())
}

const DEAL_COLUMNS: &str = "id, source, name, company_id, owner_id, pipeline_id, stage_id, amount,
    currency, created_at, close_date, is_closed, is_won, closed_reason, last_modified, archived_at";

fn deal_from_row(r: &Row<'_>) -> rusqlite::Result<Deal> {
    Ok(Deal {
        id: r.get::<_, String>(0)?.into(),
        source: r.get(1)?,
        name: r.get(2)?,
        company_id: r.get::<_, Option<String>>(3)?.map(Into::into),
        owner_id: r.get::<_, Option<String>>(4)?.map(Into::into),
        pipeline_id: r.get::<_, String>(5)?.into(),
        stage_id: r.get::<_, String>(6)?.into(),
        amount: r.get(7)?,
        currency: r.get(8)?,
        created_at: from_unix(r.get(9)?),
        close_date: opt_ts(r.get(10)?),
        is_closed: r.get(11)?,
        is_won: r.get(12)?,
        closed_reason: r.get(13)?,
        last_modified: from_unix(r.get(14)?),
        archived_at: opt_ts(r.get(15)?),
        properties: Default::default(),
    })
}

/// One deal with its properties, or `None` if the cache does not hold it.
pub fn get(conn: &Connection, id: &DealId) -> Result<Option<Deal>> {
    let found = conn
        .prepare_cached(&format!("SELECT {DEAL_COLUMNS} FROM deals WHERE id = ?1"))?
        .query_row([id.as_str()], deal_from_row)
        .optional()?;
    let Some(mut deal) = found else {
        return Ok(None);
    };
    deal.properties = conn
        .prepare_cached("SELECT name, value FROM deal_properties WHERE deal_id = ?1")?
        .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(deal))
}

/// A deal's field history, each list in CRM order.
pub fn history(conn: &Connection, id: &DealId) -> Result<DealHistory> {
    let id = id.as_str();
    let stages = conn
        .prepare_cached(
            "SELECT entered_at, stage_id FROM stage_history WHERE deal_id = ?1 ORDER BY seq",
        )?
        .query_map([id], |r| {
            Ok(StageChange {
                at: from_unix(r.get(0)?),
                stage_id: r.get::<_, String>(1)?.into(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let amounts = conn
        .prepare_cached(
            "SELECT changed_at, amount FROM amount_history WHERE deal_id = ?1 ORDER BY seq",
        )?
        .query_map([id], |r| {
            Ok(AmountChange {
                at: from_unix(r.get(0)?),
                amount: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let close_dates = conn
        .prepare_cached(
            "SELECT changed_at, close_date FROM close_date_history WHERE deal_id = ?1 ORDER BY seq",
        )?
        .query_map([id], |r| {
            Ok(CloseDateChange {
                at: from_unix(r.get(0)?),
                close_date: opt_ts(r.get(1)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(DealHistory {
        stages,
        amounts,
        close_dates,
    })
}

/// A stakeholder with the contact's details, as the deal view and `deals show` present it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StakeholderView {
    /// The link itself.
    #[serde(flatten)]
    pub link: Stakeholder,
    /// The contact's name.
    pub name: String,
    /// The contact's job title.
    pub title: Option<String>,
    /// The contact's email.
    pub email: Option<String>,
    /// The last activity on this deal that involved the contact.
    pub last_engaged: Option<Timestamp>,
}

/// The deal's stakeholders, most recently engaged first.
pub fn stakeholders(conn: &Connection, id: &DealId) -> Result<Vec<StakeholderView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT dc.contact_id, dc.role, dc.added_at, c.name, c.title, c.email,
                (SELECT MAX(a.occurred_at) FROM activity_contacts ac
                   JOIN activities a ON a.id = ac.activity_id
                   JOIN deal_activity_links l ON l.activity_id = a.id
                  WHERE ac.contact_id = dc.contact_id AND l.deal_id = dc.deal_id) AS last_engaged
           FROM deal_contacts dc JOIN contacts c ON c.id = dc.contact_id
          WHERE dc.deal_id = ?1
          ORDER BY last_engaged IS NULL, last_engaged DESC, c.name",
    )?;
    let rows = stmt
        .query_map([id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(contact, role, added, name, title, email, last)| {
            let role = match role {
                None => None,
                Some(r) => Some(DealRole::parse(&r).ok_or(StoreError::Invalid {
                    what: "stakeholder role",
                    value: r,
                })?),
            };
            Ok(StakeholderView {
                link: Stakeholder {
                    deal_id: id.clone(),
                    contact_id: contact.into(),
                    role,
                    added_at: opt_ts(added),
                },
                name,
                title,
                email,
                last_engaged: opt_ts(last),
            })
        })
        .collect()
}

/// Which deals a listing shows. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealFilter {
    /// Stage id or label, case-insensitive.
    pub stage: Option<String>,
    /// Owner id, or a case-insensitive part of the owner's name or email.
    pub owner: Option<String>,
    /// Open, won or lost.
    pub status: Option<DealStatus>,
    /// Include deals archived in the CRM.
    pub include_archived: bool,
}

/// One line of a deal listing: the deal with its names resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealSummary {
    /// The deal's id.
    pub id: DealId,
    /// The deal's name.
    pub name: String,
    /// The company's name.
    pub company: Option<String>,
    /// The owner's name.
    pub owner: Option<String>,
    /// The owner's team's name.
    pub team: Option<String>,
    /// The pipeline's label (its id if the pipeline is unknown).
    pub pipeline: String,
    /// The stage's label (its id if the stage is unknown).
    pub stage: String,
    /// The stage's internal id.
    pub stage_id: String,
    /// Current amount.
    pub amount: Option<f64>,
    /// Currency code.
    pub currency: String,
    /// When the deal was created.
    pub created_at: Timestamp,
    /// Current expected (or actual) close date.
    pub close_date: Option<Timestamp>,
    /// Whether the deal is closed.
    pub is_closed: bool,
    /// Whether it was won.
    pub is_won: bool,
}

impl DealSummary {
    /// The summary with every CRM string made safe for a terminal (see [`crate::text`]).
    pub fn sanitized(mut self) -> DealSummary {
        use crate::text::sanitize_line;
        for field in [
            &mut self.name,
            &mut self.stage,
            &mut self.stage_id,
            &mut self.pipeline,
            &mut self.currency,
        ] {
            *field = sanitize_line(field);
        }
        for field in [&mut self.company, &mut self.owner, &mut self.team]
            .into_iter()
            .flatten()
        {
            *field = sanitize_line(field);
        }
        // The id stays as the CRM has it: it is how the deal is found again, and it is never
        // drawn.
        self
    }
}

const SUMMARY_SELECT: &str =
    "SELECT d.id, d.name, c.name, o.name, COALESCE(p.label, d.pipeline_id),
        COALESCE(s.label, d.stage_id), d.stage_id, d.amount, d.currency, d.created_at,
        d.close_date, d.is_closed, d.is_won, t.name
   FROM deals d
   LEFT JOIN companies c ON c.id = d.company_id
   LEFT JOIN owners o ON o.id = d.owner_id
   LEFT JOIN teams t ON t.id = o.team_id
   LEFT JOIN pipelines p ON p.id = d.pipeline_id
   LEFT JOIN stages s ON s.pipeline_id = d.pipeline_id AND s.id = d.stage_id";

fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<DealSummary> {
    Ok(DealSummary {
        id: r.get::<_, String>(0)?.into(),
        name: r.get(1)?,
        company: r.get(2)?,
        owner: r.get(3)?,
        team: r.get(13)?,
        pipeline: r.get(4)?,
        stage: r.get(5)?,
        stage_id: r.get(6)?,
        amount: r.get(7)?,
        currency: r.get(8)?,
        created_at: from_unix(r.get(9)?),
        close_date: opt_ts(r.get(10)?),
        is_closed: r.get(11)?,
        is_won: r.get(12)?,
    })
}

/// One deal's summary (archived or not), or `None` if the cache does not hold it.
pub fn summary(conn: &Connection, id: &DealId) -> Result<Option<DealSummary>> {
    Ok(conn
        .prepare_cached(&format!("{SUMMARY_SELECT} WHERE d.id = ?1"))?
        .query_row([id.as_str()], summary_from_row)
        .optional()?)
}

/// The summaries of the deals with these ids (archived or not), newest first; ids the cache does
/// not hold are left out. One statement however many ids: they travel as one JSON array.
pub fn summaries(conn: &Connection, ids: &[&DealId]) -> Result<Vec<DealSummary>> {
    let ids = serde_json::to_string(&ids.iter().map(|i| i.as_str()).collect::<Vec<_>>()).map_err(
        |e| StoreError::Invalid {
            what: "deal id list",
            value: e.to_string(),
        },
    )?;
    let rows = conn
        .prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE d.id IN (SELECT value FROM json_each(?1))
             ORDER BY d.created_at DESC, d.id"
        ))?
        .query_map([ids], summary_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The deals matching `filter`, newest first.
pub fn list(conn: &Connection, filter: &DealFilter) -> Result<Vec<DealSummary>> {
    let mut sql = format!("{SUMMARY_SELECT} WHERE 1 = 1");
    let mut args: Vec<String> = Vec::new();
    if !filter.include_archived {
        sql.push_str(" AND d.archived_at IS NULL");
    }
    if let Some(stage) = &filter.stage {
        args.push(stage.clone());
        let n = args.len();
        sql.push_str(&format!(
            " AND (d.stage_id = ?{n} COLLATE NOCASE OR s.label = ?{n} COLLATE NOCASE)"
        ));
    }
    if let Some(owner) = &filter.owner {
        args.push(owner.clone());
        let n = args.len();
        sql.push_str(&format!(
            " AND (d.owner_id = ?{n} OR instr(lower(o.name), lower(?{n})) > 0
                   OR instr(lower(o.email), lower(?{n})) > 0)"
        ));
    }
    match filter.status {
        None => {}
        Some(DealStatus::Open) => sql.push_str(" AND d.is_closed = 0"),
        Some(DealStatus::Won) => sql.push_str(" AND d.is_closed = 1 AND d.is_won = 1"),
        Some(DealStatus::Lost) => sql.push_str(" AND d.is_closed = 1 AND d.is_won = 0"),
    }
    sql.push_str(" ORDER BY d.created_at DESC, d.id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), summary_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::time::{DAY, from_unix};
    use crate::domain::{Company, Contact, Owner, Pipeline, Stage, Team};
    use crate::store::{Store, companies, people, pipelines};

    /// A cache with one pipeline, one owner, one company with two contacts and `n` deals.
    pub(crate) fn seeded(n: usize) -> Store {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        pipelines::upsert(
            c,
            &Pipeline {
                id: "default".into(),
                label: "Sales".into(),
                display_order: 0,
                stages: vec![
                    Stage {
                        id: "demo".into(),
                        label: "Demo".into(),
                        display_order: 0,
                        probability: Some(0.4),
                        is_closed: false,
                        is_won: false,
                    },
                    Stage {
                        id: "closedwon".into(),
                        label: "Closed Won".into(),
                        display_order: 1,
                        probability: Some(1.0),
                        is_closed: true,
                        is_won: true,
                    },
                ],
            },
        )
        .unwrap();
        people::upsert_team(
            c,
            &Team {
                id: "t".into(),
                name: "East".into(),
            },
        )
        .unwrap();
        people::upsert_owner(
            c,
            &Owner {
                id: "o1".into(),
                name: "Ada Byron".into(),
                email: Some("ada@example.com".into()),
                team_id: Some("t".into()),
                active: true,
            },
        )
        .unwrap();
        companies::upsert_company(
            c,
            &Company {
                id: "c1".into(),
                name: "Acme".into(),
                domain: None,
                industry: None,
                size_band: None,
                buying_center: None,
                properties: Default::default(),
            },
        )
        .unwrap();
        for (id, title) in [("p1", "CTO"), ("p2", "CFO")] {
            companies::upsert_contact(
                c,
                &Contact {
                    id: id.into(),
                    company_id: Some("c1".into()),
                    name: format!("Person {id}"),
                    email: None,
                    title: Some(title.into()),
                    created_at: None,
                },
            )
            .unwrap();
        }
        for i in 0..n {
            let (deal, history) = sample_deal(i);
            upsert(c, &deal, &history).unwrap();
        }
        store
    }

    pub(crate) fn sample_deal(i: usize) -> (Deal, DealHistory) {
        let won = i % 3 == 1;
        let deal = Deal {
            id: format!("d{i}").into(),
            source: "test".into(),
            name: format!("Deal {i}"),
            company_id: Some("c1".into()),
            owner_id: Some("o1".into()),
            pipeline_id: "default".into(),
            stage_id: if won { "closedwon" } else { "demo" }.into(),
            amount: Some(1000.0 * (i + 1) as f64),
            currency: "USD".into(),
            created_at: from_unix(i as i64 * DAY),
            close_date: Some(from_unix((i as i64 + 30) * DAY)),
            is_closed: won,
            is_won: won,
            closed_reason: won.then(|| "champion".to_string()),
            last_modified: from_unix((i as i64 + 1) * DAY),
            archived_at: None,
            properties: [("lead_source".to_string(), "Inbound".to_string())].into(),
        };
        let history = DealHistory {
            stages: vec![StageChange {
                at: deal.created_at,
                stage_id: "demo".into(),
            }],
            amounts: vec![AmountChange {
                at: deal.created_at,
                amount: deal.amount,
            }],
            close_dates: vec![
                CloseDateChange {
                    at: deal.created_at,
                    close_date: Some(from_unix((i as i64 + 20) * DAY)),
                },
                CloseDateChange {
                    at: from_unix((i as i64 + 5) * DAY),
                    close_date: deal.close_date,
                },
            ],
        };
        (deal, history)
    }

    #[test]
    fn summaries_of_chosen_ids_newest_first_unknown_ids_left_out() {
        let store = seeded(5);
        let (a, b, gone) = (DealId::from("d1"), DealId::from("d3"), DealId::from("nope"));
        let got = summaries(store.conn(), &[&a, &gone, &b]).unwrap();
        let ids: Vec<&str> = got.iter().map(|d| d.id.as_str()).collect();
        let all: Vec<String> = list(store.conn(), &DealFilter::default())
            .unwrap()
            .into_iter()
            .map(|d| d.id.0)
            .filter(|id| id == "d1" || id == "d3")
            .collect();
        assert_eq!(ids, all, "same order as the full listing");
        assert!(summaries(store.conn(), &[]).unwrap().is_empty());
    }

    #[test]
    fn deal_and_history_round_trip() {
        let store = seeded(3);
        let (deal, history) = sample_deal(1);
        assert_eq!(get(store.conn(), &deal.id).unwrap(), Some(deal.clone()));
        assert_eq!(super::history(store.conn(), &deal.id).unwrap(), history);
        assert_eq!(get(store.conn(), &"missing".into()).unwrap(), None);
        assert_eq!(
            last_modified(store.conn(), &deal.id).unwrap(),
            Some(deal.last_modified)
        );
        assert_eq!(
            last_modified(store.conn(), &"missing".into()).unwrap(),
            None
        );
        let summary = super::summary(store.conn(), &deal.id).unwrap().unwrap();
        assert_eq!(
            (summary.name.as_str(), summary.stage.as_str()),
            ("Deal 1", "Closed Won")
        );
        assert_eq!(
            super::summary(store.conn(), &"missing".into()).unwrap(),
            None
        );
    }

    #[test]
    fn upsert_replaces_history_instead_of_duplicating_it() {
        let store = seeded(1);
        let (mut deal, mut history) = sample_deal(0);
        history.close_dates.pop();
        deal.properties.clear();
        deal.name = "Renamed".into();
        upsert(store.conn(), &deal, &history).unwrap();
        upsert(store.conn(), &deal, &history).unwrap();
        assert_eq!(get(store.conn(), &deal.id).unwrap(), Some(deal.clone()));
        assert_eq!(super::history(store.conn(), &deal.id).unwrap(), history);
        let n: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM deals", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn stakeholders_round_trip_with_roles() {
        let store = seeded(1);
        let link = Stakeholder {
            deal_id: "d0".into(),
            contact_id: "p1".into(),
            role: Some(DealRole::TechnicalBuyer),
            added_at: Some(from_unix(DAY)),
        };
        upsert_stakeholder(store.conn(), &link).unwrap();
        let views = stakeholders(store.conn(), &"d0".into()).unwrap();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].link, link);
        assert_eq!(views[0].title.as_deref(), Some("CTO"));
        assert_eq!(views[0].last_engaged, None);
    }

    #[test]
    fn list_filters_by_stage_owner_and_status() {
        let store = seeded(6);
        let all = list(store.conn(), &DealFilter::default()).unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(all[0].id.as_str(), "d5", "newest first");
        assert_eq!(all[0].company.as_deref(), Some("Acme"));
        assert_eq!(all[0].stage, "Demo");

        let won = DealFilter {
            status: Some(DealStatus::Won),
            ..Default::default()
        };
        let won = list(store.conn(), &won).unwrap();
        assert_eq!(won.len(), 2);
        assert!(won.iter().all(|d| d.is_won && d.stage == "Closed Won"));

        let by_label = DealFilter {
            stage: Some("closed won".into()),
            ..Default::default()
        };
        assert_eq!(list(store.conn(), &by_label).unwrap().len(), 2);
        let by_id = DealFilter {
            stage: Some("demo".into()),
            status: Some(DealStatus::Open),
            ..Default::default()
        };
        assert_eq!(list(store.conn(), &by_id).unwrap().len(), 4);

        for owner in ["o1", "ada", "EXAMPLE.com"] {
            let f = DealFilter {
                owner: Some(owner.into()),
                ..Default::default()
            };
            assert_eq!(list(store.conn(), &f).unwrap().len(), 6, "{owner}");
        }
        let nobody = DealFilter {
            owner: Some("zed".into()),
            ..Default::default()
        };
        assert!(list(store.conn(), &nobody).unwrap().is_empty());
    }

    #[test]
    fn archived_deals_are_hidden_unless_asked_for() {
        let store = seeded(2);
        let (mut deal, history) = sample_deal(0);
        deal.archived_at = Some(from_unix(100 * DAY));
        upsert(store.conn(), &deal, &history).unwrap();
        assert_eq!(list(store.conn(), &DealFilter::default()).unwrap().len(), 1);
        let f = DealFilter {
            include_archived: true,
            ..Default::default()
        };
        assert_eq!(list(store.conn(), &f).unwrap().len(), 2);
    }
}
