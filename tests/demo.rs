//! The demo history: determinism, invariants and the planted rates, measured with SQL on the
//! written cache exactly as the pattern engine will define them (see the `dealtrace::demo` docs).

mod common;

use common::content_hash;
use dealtrace::demo::{
    BUSINESS_CASE_PHRASE, COMPETITORS, DISCOUNT_WORD, DemoError, DemoSpec, DemoWorld,
    ECONOMIC_BUYER_TITLES, Planted, TITLE_CTO, planted, stage_ids, write_demo,
};
use dealtrace::store::Store;
use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

const DAY: i64 = 86_400;

/// Deals in the cache the rate tests share. The smallest cells (engineering-led deals with the
/// CTO engaged, whose outcome is fully observed) then hold about 300 units, so a 4-standard-error
/// band is narrower than the planted effect. Writing it takes about 2 s in a debug build.
const RATE_DEALS: usize = 10_000;

fn rate_spec() -> DemoSpec {
    DemoSpec {
        deals: RATE_DEALS,
        ..DemoSpec::default()
    }
}

/// The shared cache (seed 42), written once per test run; each test opens its own connection.
/// It lives in Cargo's target temp directory under a fixed name, replaced on every run (a static
/// temporary directory would never be dropped, so it would leak one cache per run).
fn shared() -> Connection {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    let path = CACHE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-rates.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let mut store = Store::open(&path).unwrap();
        write_demo(&mut store, &rate_spec()).unwrap();
        path
    });
    Connection::open(path).unwrap()
}

/// What the generator drew for each deal of the shared cache, by deal id.
fn truth() -> &'static HashMap<String, Planted> {
    static TRUTH: OnceLock<HashMap<String, Planted>> = OnceLock::new();
    TRUTH.get_or_init(|| {
        DemoWorld::new(&rate_spec())
            .deals()
            .map(|b| (b.deal.id.0, b.planted))
            .collect()
    })
}

fn as_of(conn: &Connection) -> i64 {
    conn.query_row("SELECT value FROM meta WHERE key = 'demo_as_of'", [], |r| {
        r.get::<_, String>(0)
    })
    .unwrap()
    .parse()
    .unwrap()
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The deal ids a query returns.
fn ids(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Asserts that every deal in `deals` is a "no decision" deal (see the `dealtrace::demo` docs).
fn only_no_decision(what: &str, deals: &[String]) {
    let truth = truth();
    for id in deals {
        assert!(truth[id].no_decision, "{what}: deal {id}");
    }
}

/// One unit of analysis: a deal in a population, its stratum, exposure and outcome.
#[derive(Debug)]
struct Unit {
    deal: String,
    stratum: String,
    exposed: bool,
    event: bool,
}

/// Runs a query returning (deal_id, stratum, exposed, event) with `?1` = as_of.
fn units(conn: &Connection, sql: &str) -> Vec<Unit> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([as_of(conn)], |r| {
        Ok(Unit {
            deal: r.get(0)?,
            stratum: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            exposed: r.get(2)?,
            event: r.get(3)?,
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// (units, events) among `units` in `stratum` (any stratum for `None`) with this exposure.
fn cell(units: &[Unit], stratum: Option<&str>, exposed: bool) -> (i64, i64) {
    units
        .iter()
        .filter(|u| stratum.is_none_or(|s| u.stratum == s) && u.exposed == exposed)
        .fold((0, 0), |(n, k), u| (n + 1, k + i64::from(u.event)))
}

/// Asserts that events/units is within 4 binomial standard errors of `p`; returns the rate.
fn assert_rate(what: &str, (units, events): (i64, i64), p: f64) -> f64 {
    assert!(units >= 50, "{what}: only {units} units");
    let rate = events as f64 / units as f64;
    let tolerance = 4.0 * (p * (1.0 - p) / units as f64).sqrt();
    assert!(
        (rate - p).abs() <= tolerance,
        "{what}: {events}/{units} = {rate:.3}, planted {p} ± {tolerance:.3}"
    );
    rate
}

fn assert_between(what: &str, x: f64, lo: f64, hi: f64) {
    assert!(
        (lo..=hi).contains(&x),
        "{what} = {x:.3}, expected [{lo}, {hi}]"
    );
}

fn competitor_like(column: &str) -> String {
    COMPETITORS
        .iter()
        .map(|c| format!("{column} LIKE '%{c}%'"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn eb_titles() -> String {
    ECONOMIC_BUYER_TITLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deals that reached Demo, with T_demo, among those whose `horizon_days` after T_demo ended by
/// as_of.
fn demo_units(horizon_days: i64) -> String {
    format!(
        "units AS (SELECT deal_id, MIN(entered_at) AS t FROM stage_history
                    WHERE stage_id = '{}' GROUP BY deal_id HAVING t + {} <= ?1)",
        stage_ids::DEMO,
        horizon_days * DAY
    )
}

/// Pattern 1: stratum = lead source (a null attribute), exposed = single-threaded at Demo (at
/// most one distinct contact in activities up to T_demo), event = a close-date change in
/// (T_demo, T_demo + 90 d] that moves the date later by 7+ days. Units: T_demo + 90 d ≤ as_of.
fn pattern1(conn: &Connection) -> Vec<Unit> {
    let sql = format!(
        "WITH {units}
         SELECT u.deal_id,
           (SELECT value FROM deal_properties p WHERE p.deal_id = u.deal_id AND p.name = 'lead_source'),
           (SELECT COUNT(DISTINCT ac.contact_id) FROM activities a
              JOIN activity_contacts ac ON ac.activity_id = a.id
             WHERE a.deal_id = u.deal_id AND a.occurred_at <= u.t) <= 1,
           EXISTS (SELECT 1 FROM close_date_history h
                     JOIN close_date_history p ON p.deal_id = h.deal_id AND p.seq = h.seq - 1
                    WHERE h.deal_id = u.deal_id AND h.changed_at > u.t AND h.changed_at <= u.t + {w}
                      AND h.close_date - p.close_date >= {slip})
         FROM units u",
        units = demo_units(planted::WINDOW_DAYS),
        w = planted::WINDOW_DAYS * DAY,
        slip = planted::SLIP_MIN_DAYS * DAY,
    );
    units(conn, &sql)
}

/// Pattern 2: stratum = buying center, exposed = a contact titled CTO took part in an activity up
/// to T_demo, event = the deal is won. Units: T_demo + 180 d ≤ as_of, so every unit has closed.
fn pattern2(conn: &Connection) -> Vec<Unit> {
    let sql = format!(
        "WITH {units}
         SELECT u.deal_id, c.buying_center,
           EXISTS (SELECT 1 FROM activities a
                     JOIN activity_contacts ac ON ac.activity_id = a.id
                     JOIN contacts p ON p.id = ac.contact_id
                    WHERE a.deal_id = u.deal_id AND a.occurred_at <= u.t AND p.title = '{cto}'),
           d.is_won
         FROM units u JOIN deals d ON d.id = u.deal_id JOIN companies c ON c.id = d.company_id",
        units = demo_units(planted::DEMO_TO_CLOSE_MAX_DAYS),
        cto = TITLE_CTO,
    );
    units(conn, &sql)
}

/// Facts about deals that reached Proposal with T_proposal + `horizon_days` ≤ as_of: when they
/// left Proposal, entered Negotiation and closed; whether an economic buyer was live, a
/// competitor named by the landmark, a business case anchored before Proposal, discount
/// pressure after the landmark, and a stall inside the Proposal stay.
fn proposal_facts(horizon_days: i64) -> String {
    format!(
        "WITH units AS (
           SELECT deal_id, MIN(entered_at) AS t FROM stage_history
            WHERE stage_id = '{prop}' GROUP BY deal_id HAVING t + {horizon} <= ?1),
         two_way AS (
           SELECT deal_id, occurred_at AS at,
                  LAG(occurred_at) OVER (PARTITION BY deal_id ORDER BY occurred_at) AS prev
             FROM activities
            WHERE kind IN ('call', 'meeting') OR (kind = 'email' AND direction = 'inbound')),
         facts AS (
           SELECT u.deal_id, u.t,
             (SELECT MIN(entered_at) FROM stage_history s
               WHERE s.deal_id = u.deal_id AND s.entered_at > u.t) AS exit_at,
             (SELECT MIN(entered_at) FROM stage_history s
               WHERE s.deal_id = u.deal_id AND s.stage_id = '{neg}') AS neg_at,
             (SELECT MIN(entered_at) FROM stage_history s
               WHERE s.deal_id = u.deal_id AND s.stage_id IN ('{won}', '{lost}')) AS closed_at,
             EXISTS (SELECT 1 FROM activities a
                       JOIN activity_contacts ac ON ac.activity_id = a.id
                       JOIN contacts p ON p.id = ac.contact_id
                      WHERE a.deal_id = u.deal_id AND a.occurred_at BETWEEN u.t - {eb} AND u.t
                        AND p.title IN ({eb_titles})) AS eb_live,
             EXISTS (SELECT 1 FROM activities a
                      WHERE a.deal_id = u.deal_id AND a.kind IN ('call', 'meeting')
                        AND a.occurred_at BETWEEN u.t AND u.t + {l}
                        AND ({competitor})) AS competitor,
             EXISTS (SELECT 1 FROM activities a
                      WHERE a.deal_id = u.deal_id AND a.occurred_at < u.t
                        AND a.body LIKE '%{anchor}%') AS anchored,
             (EXISTS (SELECT 1 FROM activities a
                       WHERE a.deal_id = u.deal_id AND a.body LIKE '%{discount}%'
                         AND a.occurred_at > u.t + {l} AND a.occurred_at <= u.t + {l} + {w})
              OR EXISTS (SELECT 1 FROM amount_history h
                           JOIN amount_history p ON p.deal_id = h.deal_id AND p.seq = h.seq - 1
                          WHERE h.deal_id = u.deal_id
                            AND h.changed_at > u.t + {l} AND h.changed_at <= u.t + {l} + {w}
                            AND h.amount <= 0.9 * p.amount)) AS discount
           FROM units u),
         stalls AS (
           SELECT f.deal_id,
                  COALESCE(MAX(w.prev >= f.t AND w.at <= f.exit_at AND w.at - w.prev >= {stall}), 0)
                    AS stalled
             FROM facts f LEFT JOIN two_way w ON w.deal_id = f.deal_id
            GROUP BY f.deal_id)",
        prop = stage_ids::PROPOSAL,
        neg = stage_ids::NEGOTIATION,
        won = stage_ids::CLOSED_WON,
        lost = stage_ids::CLOSED_LOST,
        horizon = horizon_days * DAY,
        eb = planted::EB_LOOKBACK_DAYS * DAY,
        eb_titles = eb_titles(),
        l = planted::LANDMARK_DAYS * DAY,
        w = planted::WINDOW_DAYS * DAY,
        competitor = competitor_like("a.body"),
        anchor = BUSINESS_CASE_PHRASE,
        discount = DISCOUNT_WORD,
        stall = planted::STALL_GAP_DAYS * DAY,
    )
}

/// Every stay in Proposal is at most 90 days, so 120 days after T_proposal each stay is over.
const PROPOSAL_OBSERVED_DAYS: i64 = planted::PROPOSAL_MAX_DAYS + 30;

/// Pattern 3: exposed = an economic buyer took part in an activity in [T − 30 d, T], event = a
/// gap of 21+ days between consecutive two-way activities inside the Proposal stay.
fn pattern3(conn: &Connection) -> Vec<Unit> {
    let sql = format!(
        "{} SELECT deal_id, '', eb_live, stalled FROM facts JOIN stalls USING (deal_id)",
        proposal_facts(PROPOSAL_OBSERVED_DAYS)
    );
    units(conn, &sql)
}

/// Pattern 4: stratum = anchored or not, exposed = a competitor named in a call or meeting in
/// [T, T + 14 d], event = discount pressure in (T + 14 d, T + 104 d]. Units: T + 104 d ≤ as_of.
fn pattern4(conn: &Connection) -> Vec<Unit> {
    let sql = format!(
        "{} SELECT deal_id, CASE WHEN anchored THEN 'anchored' ELSE 'not anchored' END,
                  competitor, discount FROM facts",
        proposal_facts(planted::LANDMARK_DAYS + planted::WINDOW_DAYS)
    );
    units(conn, &sql)
}

// --- The planted patterns ---

#[test]
fn pattern_1_single_threaded_deals_slip_more_after_demo() {
    let u = pattern1(&shared());
    let single = assert_rate(
        "slip | single-threaded",
        cell(&u, None, true),
        planted::P_SLIP_SINGLE_THREADED,
    );
    let multi = assert_rate(
        "slip | multi-threaded",
        cell(&u, None, false),
        planted::P_SLIP_MULTI_THREADED,
    );
    assert_between("pattern 1 RR", single / multi, 1.7, 3.4);
    let prevalence = cell(&u, None, true).0 as f64 / u.len() as f64;
    assert_between("single-threaded prevalence", prevalence, 0.30, 0.40);
}

#[test]
fn pattern_2_cto_engagement_wins_in_engineering_led_accounts_only() {
    let u = pattern2(&shared());
    let with = assert_rate(
        "win | engineering, CTO",
        cell(&u, Some("engineering"), true),
        planted::P_WIN_ENGINEERING_CTO,
    );
    let without = assert_rate(
        "win | engineering, no CTO",
        cell(&u, Some("engineering"), false),
        planted::P_WIN_ENGINEERING_NO_CTO,
    );
    assert_between("pattern 2 RR in engineering", with / without, 1.6, 3.2);
    for center in ["finance", "operations"] {
        for cto in [true, false] {
            assert_rate(
                &format!("win | {center}, CTO {cto}"),
                cell(&u, Some(center), cto),
                planted::P_WIN_ELSEWHERE,
            );
        }
    }
    let pooled = |cto| {
        let (a, b) = (
            cell(&u, Some("finance"), cto),
            cell(&u, Some("operations"), cto),
        );
        (a.1 + b.1) as f64 / (a.0 + b.0) as f64
    };
    assert_between(
        "RR outside engineering",
        pooled(true) / pooled(false),
        0.7,
        1.4,
    );
    for center in ["engineering", "finance", "operations"] {
        let (n1, n0) = (
            cell(&u, Some(center), true).0,
            cell(&u, Some(center), false).0,
        );
        let prevalence = n1 as f64 / (n1 + n0) as f64;
        assert_between(
            &format!("CTO prevalence in {center}"),
            prevalence,
            0.33,
            0.47,
        );
    }
}

#[test]
fn pattern_3_no_live_economic_buyer_stalls_and_slows_proposals() {
    let conn = shared();
    let u = pattern3(&conn);
    let without = assert_rate(
        "stall | no live EB",
        cell(&u, None, false),
        planted::P_STALL_WITHOUT_EB,
    );
    let with = assert_rate(
        "stall | live EB",
        cell(&u, None, true),
        planted::P_STALL_WITH_EB,
    );
    assert_between("pattern 3 RR", without / with, 2.5, 5.5);
    let prevalence = cell(&u, None, true).0 as f64 / u.len() as f64;
    assert_between("live EB prevalence", prevalence, 0.44, 0.56);

    // Time in Proposal for deals that moved on, and whether the economic buyer moves the win rate.
    let sql = format!(
        "{} SELECT eb_live, AVG((neg_at - t) / 86400.0), COUNT(*),
                  SUM((SELECT is_won FROM deals d WHERE d.id = facts.deal_id))
             FROM facts WHERE neg_at IS NOT NULL GROUP BY eb_live ORDER BY eb_live",
        proposal_facts(PROPOSAL_OBSERVED_DAYS)
    );
    let rows: Vec<(bool, f64, i64, i64)> = conn
        .prepare(&sql)
        .unwrap()
        .query_map([as_of(&conn)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let (slow, fast) = (rows[0].1, rows[1].1);
    assert_between("days in Proposal without live EB", slow, 36.0, 50.0);
    assert_between("days in Proposal with live EB", fast, 18.0, 27.0);
    assert_between("Proposal time ratio", slow / fast, 1.6, 2.6);

    let won = |eb: bool| {
        let sql = format!(
            "{} SELECT COUNT(*), SUM((SELECT is_won FROM deals d WHERE d.id = facts.deal_id))
                 FROM facts WHERE eb_live = ?2",
            proposal_facts(PROPOSAL_OBSERVED_DAYS)
        );
        let (n, k): (i64, i64) = conn
            .query_row(&sql, rusqlite::params![as_of(&conn), eb], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        k as f64 / n as f64
    };
    // Among deals reaching Proposal, the win rate does not depend on the economic buyer (loose:
    // a 6-point difference is about 2.5 standard errors here).
    assert!(
        (won(true) - won(false)).abs() < 0.06,
        "{} vs {}",
        won(true),
        won(false)
    );
}

#[test]
fn pattern_4_competitor_mentions_raise_discount_pressure_unless_anchored() {
    let u = pattern4(&shared());
    let c = assert_rate(
        "discount | competitor, not anchored",
        cell(&u, Some("not anchored"), true),
        planted::P_DISCOUNT_COMPETITOR_NOT_ANCHORED,
    );
    let n = assert_rate(
        "discount | no competitor, not anchored",
        cell(&u, Some("not anchored"), false),
        planted::P_DISCOUNT_BASE,
    );
    assert_between("pattern 4 RR when not anchored", c / n, 1.6, 3.0);
    let ca = assert_rate(
        "discount | competitor, anchored",
        cell(&u, Some("anchored"), true),
        planted::P_DISCOUNT_ANCHORED,
    );
    let na = assert_rate(
        "discount | no competitor, anchored",
        cell(&u, Some("anchored"), false),
        planted::P_DISCOUNT_ANCHORED,
    );
    assert_between("pattern 4 RR when anchored", ca / na, 0.6, 1.6);
    let exposed = u.iter().filter(|x| x.exposed).count() as f64 / u.len() as f64;
    let anchored = u.iter().filter(|x| x.stratum == "anchored").count() as f64 / u.len() as f64;
    assert_between("competitor prevalence", exposed, 0.34, 0.46);
    assert_between("anchoring prevalence", anchored, 0.34, 0.46);
}

/// The exposures and events measured by SQL are exactly the ones the generator drew: the
/// activity layout realises each flag, and nothing else produces them.
#[test]
fn measured_exposures_and_events_equal_the_draws() {
    let conn = shared();
    let truth = truth();
    let check = |name: &str, u: &[Unit], flag: &dyn Fn(&Planted) -> (bool, bool)| {
        assert!(!u.is_empty());
        for x in u {
            let (exposed, event) = flag(&truth[&x.deal]);
            assert_eq!(x.exposed, exposed, "{name}: exposure of deal {}", x.deal);
            assert_eq!(x.event, event, "{name}: event of deal {}", x.deal);
        }
    };
    check("pattern 1", &pattern1(&conn), &|p| {
        (p.single_threaded, p.slipped_after_demo)
    });
    check("pattern 2", &pattern2(&conn), &|p| (p.cto_engaged, p.won));
    check("pattern 3", &pattern3(&conn), &|p| {
        (p.economic_buyer_live, p.stalled_in_proposal)
    });
    check("pattern 4", &pattern4(&conn), &|p| {
        (p.competitor_mentioned, p.discount_pressure)
    });
    for x in pattern4(&conn) {
        assert_eq!(
            x.stratum == "anchored",
            truth[&x.deal].business_case_anchored,
            "anchoring of deal {}",
            x.deal
        );
    }
}

#[test]
fn null_attributes_have_no_effect() {
    let conn = shared();
    // Slip rate after Demo by lead source (pattern 1's units): within 4 standard errors of the
    // pooled rate in every group.
    let u = pattern1(&conn);
    let pooled = u.iter().filter(|x| x.event).count() as f64 / u.len() as f64;
    let mut groups: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for x in &u {
        let g = groups.entry(x.stratum.as_str()).or_default();
        g.0 += 1;
        g.1 += i64::from(x.event);
    }
    assert_eq!(groups.len(), 5, "{groups:?}");
    for (source, counts) in &groups {
        assert_rate(&format!("slip | lead source {source}"), *counts, pooled);
    }
    // Win rate after Demo by every null deal property, over pattern 2's units.
    for property in planted::NULL_DEAL_PROPERTIES {
        let sql = format!(
            "WITH {units}
             SELECT p.value, COUNT(*), SUM(d.is_won) FROM units u
               JOIN deals d ON d.id = u.deal_id
               JOIN deal_properties p ON p.deal_id = u.deal_id AND p.name = '{property}'
              GROUP BY p.value",
            units = demo_units(planted::DEMO_TO_CLOSE_MAX_DAYS)
        );
        let rows: Vec<(String, i64, i64)> = conn
            .prepare(&sql)
            .unwrap()
            .query_map([as_of(&conn)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let (n, k) = rows.iter().fold((0, 0), |(n, k), r| (n + r.1, k + r.2));
        let pooled = k as f64 / n as f64;
        assert!(rows.len() >= 2, "{property}: {rows:?}");
        for (value, n, k) in rows {
            assert_rate(&format!("win | {property} = {value}"), (n, k), pooled);
        }
    }
}

// --- Invariants of the written history ---

#[test]
fn about_thirty_percent_of_a_default_demo_is_open() {
    let mut store = Store::open_in_memory().unwrap();
    let summary = write_demo(&mut store, &DemoSpec::default()).unwrap();
    assert_eq!(summary.deals, 2_000);
    assert_eq!(summary.open + summary.won + summary.lost, summary.deals);
    let open = summary.open as f64 / summary.deals as f64;
    assert_between("open share", open, 0.25, 0.35);
    let c = store.conn();
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM deals WHERE is_closed = 0") as usize,
        summary.open
    );
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM deals WHERE is_won = 1") as usize,
        summary.won
    );
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM activities") as usize,
        summary.activities
    );
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM companies") as usize,
        summary.companies
    );
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM contacts") as usize,
        summary.contacts
    );
    let rows: i64 = [
        "meta",
        "pipelines",
        "stages",
        "teams",
        "owners",
        "companies",
        "company_properties",
        "contacts",
        "deals",
        "deal_properties",
        "stage_history",
        "amount_history",
        "close_date_history",
        "deal_contacts",
        "activities",
        "activity_contacts",
    ]
    .iter()
    .map(|t| scalar(c, &format!("SELECT COUNT(*) FROM {t}")))
    .sum();
    assert_eq!(rows as usize, summary.rows);
}

#[test]
fn reference_data_is_as_documented() {
    let c = shared();
    assert_eq!(scalar(&c, "SELECT COUNT(*) FROM teams"), 3);
    assert_eq!(scalar(&c, "SELECT COUNT(*) FROM owners"), 12);
    assert_eq!(
        scalar(
            &c,
            "SELECT COUNT(*) FROM (SELECT team_id FROM owners GROUP BY team_id HAVING COUNT(*) = 4)"
        ),
        3
    );
    assert_eq!(
        scalar(
            &c,
            "SELECT COUNT(*) FROM owners WHERE email NOT LIKE '%@%.example'"
        ),
        0
    );
    assert_eq!(
        scalar(&c, "SELECT COUNT(*) FROM companies"),
        RATE_DEALS as i64 * 2 / 5
    );
    // 3–6 contacts per company.
    let (lo, hi): (i64, i64) = c
        .query_row(
            "SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) AS n FROM contacts GROUP BY company_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(lo >= 3 && hi <= 6, "{lo}..{hi}");
    let titles: Vec<String> = c
        .prepare("SELECT DISTINCT title FROM contacts ORDER BY title")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut expected: Vec<String> = dealtrace::demo::ALL_TITLES
        .iter()
        .map(|t| t.to_string())
        .collect();
    expected.sort();
    assert_eq!(titles, expected);
    // One pipeline with HubSpot's stage ids.
    let stages: Vec<(String, String, f64, bool, bool)> = c
        .prepare(
            "SELECT id, label, probability, is_closed, is_won FROM stages ORDER BY display_order",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let ids: Vec<&str> = stages.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost"
        ]
    );
    assert_eq!(stages[2].1, "Demo");
    assert_eq!(stages[5].2, 1.0);
    assert!(stages[5].3 && stages[5].4 && stages[6].3 && !stages[6].4);
    // Buying centers roughly 40/35/25.
    for (center, share) in [
        ("engineering", 0.40),
        ("finance", 0.35),
        ("operations", 0.25),
    ] {
        let n = scalar(
            &c,
            &format!("SELECT COUNT(*) FROM companies WHERE buying_center = '{center}'"),
        );
        assert_rate(
            &format!("buying center {center}"),
            (RATE_DEALS as i64 * 2 / 5, n),
            share,
        );
    }
}

#[test]
fn deals_are_consistent_with_their_history() {
    let c = shared();
    let as_of = as_of(&c);
    let none = |what: &str, sql: &str| {
        let sql = sql.replace("?AS_OF", &as_of.to_string());
        assert_eq!(scalar(&c, &sql), 0, "{what}: {sql}");
    };
    none(
        "ids are numeric",
        "SELECT COUNT(*) FROM deals WHERE id GLOB '*[^0-9]*' OR source <> 'demo' OR currency <> 'USD'",
    );
    none(
        "stage history starts at creation in Discovery",
        "SELECT COUNT(*) FROM deals d WHERE NOT EXISTS (
           SELECT 1 FROM stage_history s WHERE s.deal_id = d.id AND s.seq = 0
              AND s.entered_at = d.created_at AND s.stage_id = 'appointmentscheduled')",
    );
    none(
        "the current stage is the last one entered",
        "SELECT COUNT(*) FROM deals d WHERE d.stage_id <> (
           SELECT stage_id FROM stage_history s WHERE s.deal_id = d.id ORDER BY seq DESC LIMIT 1)",
    );
    none(
        "closed deals sit in a closed stage matching is_won",
        "SELECT COUNT(*) FROM deals WHERE
           (is_closed = 1 AND stage_id NOT IN ('closedwon', 'closedlost'))
           OR (is_closed = 0 AND stage_id IN ('closedwon', 'closedlost'))
           OR (is_won = 1) <> (stage_id = 'closedwon')",
    );
    none(
        "closed deals have a reason and a code, open deals neither",
        "SELECT COUNT(*) FROM deals d WHERE
           (d.is_closed = 1) <> (d.closed_reason IS NOT NULL)
           OR (d.is_closed = 1) <> EXISTS (SELECT 1 FROM deal_properties p
                WHERE p.deal_id = d.id AND p.name = 'closed_reason_code')",
    );
    none(
        "the close date of a closed deal is its close",
        "SELECT COUNT(*) FROM deals d WHERE d.is_closed = 1 AND d.close_date <> (
           SELECT entered_at FROM stage_history s WHERE s.deal_id = d.id
              AND s.stage_id IN ('closedwon', 'closedlost'))",
    );
    none(
        "the current amount and close date are the last in history",
        "SELECT COUNT(*) FROM deals d WHERE
           d.amount <> (SELECT amount FROM amount_history h WHERE h.deal_id = d.id
                         ORDER BY seq DESC LIMIT 1)
           OR d.close_date <> (SELECT close_date FROM close_date_history h WHERE h.deal_id = d.id
                         ORDER BY seq DESC LIMIT 1)",
    );
    none(
        "nothing is timestamped after as_of",
        "SELECT (SELECT COUNT(*) FROM deals WHERE created_at > ?AS_OF OR last_modified > ?AS_OF)
              + (SELECT COUNT(*) FROM stage_history WHERE entered_at > ?AS_OF)
              + (SELECT COUNT(*) FROM amount_history WHERE changed_at > ?AS_OF)
              + (SELECT COUNT(*) FROM close_date_history WHERE changed_at > ?AS_OF)
              + (SELECT COUNT(*) FROM activities WHERE occurred_at > ?AS_OF)
              + (SELECT COUNT(*) FROM deal_contacts WHERE added_at > ?AS_OF)
              + (SELECT COUNT(*) FROM contacts WHERE created_at > ?AS_OF)",
    );
    // The deal flow grows about 2× a year: the second year (as_of − 365 d on) has about twice
    // the deals of the first.
    let second_year = scalar(
        &c,
        &format!("SELECT COUNT(*) FROM deals WHERE created_at >= {as_of} - 365 * {DAY}"),
    );
    let growth = second_year as f64 / (RATE_DEALS as i64 - second_year) as f64;
    assert_between("second year / first year", growth, 1.75, 2.2);
    none(
        "deals are created in [as_of − 730 d, as_of − 7 d]",
        &format!(
            "SELECT COUNT(*) FROM deals WHERE created_at < ?AS_OF - 730 * {DAY}
               OR created_at > ?AS_OF - 7 * {DAY}"
        ),
    );
    none(
        "activities lie in the open life of their deal",
        "SELECT COUNT(*) FROM activities a JOIN deals d ON d.id = a.deal_id
          WHERE a.occurred_at < d.created_at OR (d.is_closed = 1 AND a.occurred_at > d.close_date)",
    );
    none(
        "every participant works at the deal's company",
        "SELECT COUNT(*) FROM activity_contacts ac JOIN activities a ON a.id = ac.activity_id
           JOIN deals d ON d.id = a.deal_id JOIN contacts p ON p.id = ac.contact_id
          WHERE p.company_id IS NOT d.company_id",
    );
    none(
        "stakeholders are exactly the participants, added at first involvement",
        "SELECT (SELECT COUNT(*) FROM deal_contacts dc WHERE dc.added_at IS NOT (
                   SELECT MIN(a.occurred_at) FROM activities a
                     JOIN activity_contacts ac ON ac.activity_id = a.id
                    WHERE a.deal_id = dc.deal_id AND ac.contact_id = dc.contact_id))
              + (SELECT COUNT(*) FROM (SELECT DISTINCT a.deal_id, ac.contact_id FROM activities a
                   JOIN activity_contacts ac ON ac.activity_id = a.id) x
                  WHERE NOT EXISTS (SELECT 1 FROM deal_contacts dc
                    WHERE dc.deal_id = x.deal_id AND dc.contact_id = x.contact_id))",
    );
    none(
        "contacts exist before they are involved",
        "SELECT COUNT(*) FROM deal_contacts dc JOIN contacts p ON p.id = dc.contact_id
          WHERE p.created_at > dc.added_at",
    );
    none(
        "economic buyers carry that role",
        &format!(
            "SELECT COUNT(*) FROM deal_contacts dc JOIN contacts p ON p.id = dc.contact_id
              WHERE p.title IN ({}) AND dc.role IS NOT 'economic_buyer'",
            eb_titles()
        ),
    );
    let fk: i64 = c
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count() as i64;
    assert_eq!(fk, 0, "foreign keys hold");
    // Every deal has one champion among its stakeholders.
    none(
        "one champion per deal",
        "SELECT COUNT(*) FROM deals d WHERE (SELECT COUNT(*) FROM deal_contacts dc
           WHERE dc.deal_id = d.id AND dc.role = 'champion') <> 1",
    );
    // Volume: about 10–14 activities per deal and 1–2 people per conversation.
    let per_deal = scalar(&c, "SELECT COUNT(*) FROM activities") as f64 / RATE_DEALS as f64;
    assert_between("activities per deal", per_deal, 10.0, 14.0);
    let people: f64 = c
        .query_row(
            "SELECT AVG((SELECT COUNT(*) FROM activity_contacts ac WHERE ac.activity_id = a.id))
               FROM activities a WHERE a.kind IN ('call', 'meeting')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_between("people per conversation", people, 1.0, 2.0);
}

#[test]
fn closing_reasons_come_from_the_taxonomy() {
    #[derive(serde::Deserialize)]
    struct Taxonomy {
        reason: Vec<Reason>,
    }
    #[derive(serde::Deserialize)]
    struct Reason {
        code: String,
        outcomes: Vec<String>,
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/taxonomy.toml"),
    )
    .unwrap();
    let taxonomy: Taxonomy = toml::from_str(&text).unwrap();
    let c = shared();
    let rows: Vec<(String, bool, i64)> = c
        .prepare(
            "SELECT p.value, d.is_won, COUNT(*) FROM deals d
               JOIN deal_properties p ON p.deal_id = d.id AND p.name = 'closed_reason_code'
              GROUP BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(rows.len() >= 12, "most codes are used: {rows:?}");
    for (code, won, _) in &rows {
        let reason = taxonomy
            .reason
            .iter()
            .find(|r| &r.code == code)
            .unwrap_or_else(|| panic!("{code} is not in the taxonomy"));
        let outcome = if *won { "won" } else { "lost" };
        assert!(
            reason.outcomes.iter().any(|o| o == outcome),
            "{code} used for a {outcome} deal"
        );
    }
    // Plausible, not random: a competitor named anywhere makes "lost to a competitor" likelier.
    let share = |named: bool| -> f64 {
        let sql = format!(
            "SELECT AVG(p.value = 'lost_to_competitor') FROM deals d
               JOIN deal_properties p ON p.deal_id = d.id AND p.name = 'closed_reason_code'
              WHERE d.is_closed = 1 AND d.is_won = 0
                AND {} EXISTS (SELECT 1 FROM activities a WHERE a.deal_id = d.id AND ({}))",
            if named { "" } else { "NOT" },
            competitor_like("a.body")
        );
        c.query_row(&sql, [], |r| r.get(0)).unwrap()
    };
    assert!(
        share(true) > 2.0 * share(false),
        "{} vs {}",
        share(true),
        share(false)
    );
}

/// The markers of patterns 1, 3 and 4 appear only where they are planted.
#[test]
fn signals_appear_only_where_planted() {
    let c = shared();
    let as_of = as_of(&c);
    let prop = |expr: &str| {
        format!(
            "(SELECT MIN(entered_at) FROM stage_history s WHERE s.deal_id = {expr}
               AND s.stage_id = '{}')",
            stage_ids::PROPOSAL
        )
    };
    let demo = |expr: &str| {
        format!(
            "(SELECT MIN(entered_at) FROM stage_history s WHERE s.deal_id = {expr}
               AND s.stage_id = '{}')",
            stage_ids::DEMO
        )
    };
    let (l, w) = (planted::LANDMARK_DAYS * DAY, planted::WINDOW_DAYS * DAY);
    // "discount" only in one ask per deal, inside (T_proposal + 14 d, T_proposal + 104 d].
    let sql = format!(
        "SELECT COUNT(*) FROM activities a WHERE a.body LIKE '%{DISCOUNT_WORD}%'
            AND NOT COALESCE(a.occurred_at > {p} + {l} AND a.occurred_at <= {p} + {l} + {w}, 0)",
        p = prop("a.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "discount outside the window");
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT deal_id FROM activities WHERE body LIKE '%{DISCOUNT_WORD}%'
           GROUP BY deal_id HAVING COUNT(*) > 1)"
    );
    assert_eq!(scalar(&c, &sql), 0, "one discount ask per deal");
    let sql = format!(
        "SELECT COUNT(*) FROM amount_history h JOIN amount_history p
            ON p.deal_id = h.deal_id AND p.seq = h.seq - 1
          WHERE h.amount <= 0.9 * p.amount
            AND NOT COALESCE(h.changed_at > {t} + {l} AND h.changed_at <= {t} + {l} + {w}, 0)",
        t = prop("h.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "amount cuts outside the window");
    // The business-case phrase only before Proposal (or in deals that never got there).
    let sql = format!(
        "SELECT COUNT(*) FROM activities a WHERE a.body LIKE '%{BUSINESS_CASE_PHRASE}%'
            AND (a.occurred_at >= {p} OR a.kind <> 'note'
                 OR a.occurred_at <= {d})",
        p = prop("a.deal_id"),
        d = demo("a.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "anchoring notes sit in Demo");
    // Competitors named in [T_proposal, landmark] only by the planted call, in calls/meetings.
    let sql = format!(
        "SELECT COUNT(*) FROM activities a WHERE ({})
            AND (a.kind NOT IN ('call', 'meeting')
                 OR (SELECT COUNT(*) FROM activities b WHERE b.deal_id = a.deal_id
                       AND b.occurred_at BETWEEN {p} AND {p} + {l} AND ({})) > 1)",
        competitor_like("a.body"),
        competitor_like("b.body"),
        p = prop("a.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "competitor mentions");
    // Slips of 7+ days: at most one in (T_demo, T_demo + 90 d]; the close-date update at
    // closing never moves the date later by 7+ days.
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT h.deal_id FROM close_date_history h
            JOIN close_date_history p ON p.deal_id = h.deal_id AND p.seq = h.seq - 1
           WHERE h.close_date - p.close_date >= {slip}
             AND h.changed_at > {d} AND h.changed_at <= {d} + {w}
           GROUP BY h.deal_id HAVING COUNT(*) > 1)",
        slip = planted::SLIP_MIN_DAYS * DAY,
        d = demo("h.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "one slip in the window");
    // The close-date update at closing moves the date later by 7+ days only when a pipeline
    // clean-up closes a "no decision" deal (which never reached Demo).
    let sql = format!(
        "SELECT h.deal_id FROM close_date_history h JOIN close_date_history p
            ON p.deal_id = h.deal_id AND p.seq = h.seq - 1
           JOIN deals d ON d.id = h.deal_id
          WHERE d.is_closed = 1 AND h.changed_at = d.close_date
            AND h.close_date - p.close_date >= {}",
        planted::SLIP_MIN_DAYS * DAY
    );
    only_no_decision("closing slips", &ids(&c, &sql));
    // Two-way activity: a gap of 21+ days only inside a Proposal stay (a planted stall), within
    // three days of creation at first, and within 21 days of the close (or of as_of) at last,
    // except in an open Proposal stay and in "no decision" deals, which go quiet for good.
    let sql = format!(
        "WITH tw AS (
           SELECT deal_id, occurred_at AS at,
                  LAG(occurred_at) OVER (PARTITION BY deal_id ORDER BY occurred_at) AS prev
             FROM activities
            WHERE kind IN ('call', 'meeting') OR (kind = 'email' AND direction = 'inbound'))
         SELECT COUNT(*) FROM tw WHERE at - prev >= {gap} AND NOT (
           prev >= {p} AND at <= (SELECT MIN(entered_at) FROM stage_history s
                                   WHERE s.deal_id = tw.deal_id AND s.entered_at > {p}))",
        gap = planted::STALL_GAP_DAYS * DAY,
        p = prop("tw.deal_id")
    );
    assert_eq!(scalar(&c, &sql), 0, "gaps outside Proposal");
    let sql = format!(
        "SELECT COUNT(*) FROM deals d WHERE
           (SELECT MIN(occurred_at) FROM activities a WHERE a.deal_id = d.id
              AND a.kind IN ('call', 'meeting')) > d.created_at + 3 * {DAY}"
    );
    assert_eq!(scalar(&c, &sql), 0, "quiet starts");
    let sql = format!(
        "SELECT d.id FROM deals d WHERE
           (CASE WHEN d.is_closed = 1 THEN d.close_date ELSE {as_of} END)
              - (SELECT MAX(occurred_at) FROM activities a WHERE a.deal_id = d.id
                   AND (a.kind IN ('call', 'meeting') OR (a.kind = 'email'
                        AND a.direction = 'inbound'))) >= {gap}
              AND NOT EXISTS (SELECT 1 FROM stage_history s WHERE s.deal_id = d.id
                   AND s.stage_id = '{prop}' AND d.is_closed = 0)",
        gap = planted::STALL_GAP_DAYS * DAY,
        prop = stage_ids::PROPOSAL,
    );
    let quiet_ends = ids(&c, &sql);
    only_no_decision("quiet ends", &quiet_ends);
    assert!(quiet_ends.len() > RATE_DEALS / 10, "{}", quiet_ends.len());
}

/// "No decision" deals never reach Demo: they go quiet in Discovery or Qualified and linger open
/// until a pipeline clean-up late in a calendar quarter closes them lost, at least 45 days after
/// the last conversation; many are still open at as_of, past their close date.
#[test]
fn no_decision_deals_linger_before_demo() {
    let c = shared();
    let as_of = as_of(&c);
    let truth = truth();
    let share = |f: &dyn Fn(&Planted) -> bool| {
        truth.values().filter(|p| f(p)).count() as f64 / truth.len() as f64
    };
    // 70% of the 40% of deals that die before Demo.
    assert_between("no-decision share", share(&|p| p.no_decision), 0.25, 0.31);
    assert_eq!(share(&|p| p.no_decision && p.reached_demo), 0.0);
    c.execute("CREATE TEMP TABLE nd (id TEXT PRIMARY KEY)", [])
        .unwrap();
    let mut insert = c.prepare("INSERT INTO nd (id) VALUES (?1)").unwrap();
    for (id, _) in truth.iter().filter(|(_, p)| p.no_decision) {
        insert.execute([id]).unwrap();
    }
    let none = |what: &str, sql: &str| {
        let sql = sql.replace("?AS_OF", &as_of.to_string());
        assert_eq!(scalar(&c, &sql), 0, "{what}: {sql}");
    };
    none(
        "no-decision deals stay in Discovery or Qualified until lost",
        &format!(
            "SELECT COUNT(*) FROM stage_history s JOIN nd ON nd.id = s.deal_id
              WHERE s.stage_id NOT IN ('{}', '{}', '{}')",
            stage_ids::DISCOVERY,
            stage_ids::QUALIFIED,
            stage_ids::CLOSED_LOST
        ),
    );
    none(
        "clean-ups come in the last 10 days of a calendar quarter",
        "SELECT COUNT(*) FROM deals d JOIN nd ON nd.id = d.id WHERE d.is_closed = 1 AND NOT (
           CAST(strftime('%m', d.close_date, 'unixepoch') AS INTEGER) % 3 = 0
           AND julianday(date(d.close_date, 'unixepoch', 'start of month', '+1 month'))
               - julianday(d.close_date, 'unixepoch') <= 10)",
    );
    none(
        "clean-ups come 45+ days after the last conversation",
        &format!(
            "SELECT COUNT(*) FROM deals d JOIN nd ON nd.id = d.id WHERE d.is_closed = 1
               AND d.close_date - (SELECT MAX(occurred_at) FROM activities a
                    WHERE a.deal_id = d.id AND (a.kind IN ('call', 'meeting')
                      OR (a.kind = 'email' AND a.direction = 'inbound'))) < 45 * {DAY}"
        ),
    );
    // More than half of the no-decision deals are open at as_of, where they make up about half
    // of the open deals; most of them are past their close date.
    let (nd, open, past): (i64, i64, i64) = c
        .query_row(
            &format!(
                "SELECT COUNT(*), SUM(d.is_closed = 0),
                        SUM(d.is_closed = 0 AND d.close_date < {as_of})
                   FROM deals d JOIN nd ON nd.id = d.id"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let all_open = scalar(&c, "SELECT COUNT(*) FROM deals WHERE is_closed = 0");
    assert_between(
        "open share of no-decision deals",
        open as f64 / nd as f64,
        0.45,
        0.7,
    );
    assert_between(
        "no-decision share of open deals",
        open as f64 / all_open as f64,
        0.45,
        0.65,
    );
    assert_between(
        "past close date among open ones",
        past as f64 / open as f64,
        0.5,
        0.8,
    );
}

// --- Determinism, refusals and replacement ---

fn small(seed: u64) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    write_demo(
        &mut store,
        &DemoSpec {
            deals: 300,
            seed,
            ..DemoSpec::default()
        },
    )
    .unwrap();
    store
}

#[test]
fn the_same_seed_gives_the_same_cache() {
    let a = content_hash(small(7).conn());
    let b = content_hash(small(7).conn());
    assert_eq!(a, b);
    assert_ne!(a, content_hash(small(8).conn()));
}

#[test]
fn a_cache_with_crm_data_is_refused_untouched() {
    let mut store = small(1);
    store
        .conn()
        .execute(
            "UPDATE deals SET source = 'hubspot' WHERE rowid % 2 = 0",
            [],
        )
        .unwrap();
    store
        .conn()
        .execute("UPDATE deals SET source = 'csv' WHERE rowid % 7 = 1", [])
        .unwrap();
    let before = content_hash(store.conn());
    let err = write_demo(&mut store, &DemoSpec::default()).unwrap_err();
    match &err {
        DemoError::CacheInUse { deals, sources } => {
            assert!(*deals > 100, "{deals}");
            assert_eq!(sources, "csv, hubspot");
        }
        other => panic!("{other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("hubspot") && msg.contains("--db"), "{msg}");
    assert_eq!(content_hash(store.conn()), before);
}

#[test]
fn a_demo_with_reviews_is_not_replaced() {
    let mut store = small(1);
    let deal: String = store
        .conn()
        .query_row("SELECT id FROM deals LIMIT 1", [], |r| r.get(0))
        .unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO reviews (id, deal_id, reviewer, created_at, updated_at, status)
             VALUES ('r1', ?1, 'maren', 0, 0, 'draft')",
            [deal],
        )
        .unwrap();
    let before = content_hash(store.conn());
    let err = write_demo(&mut store, &DemoSpec::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DemoError::HasReviews {
                reviews: 1,
                traces: 0,
                lessons: 0
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1 reviews"), "{err}");
    assert_eq!(content_hash(store.conn()), before);
}

#[test]
fn a_new_demo_replaces_the_old_one_and_restores_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite");
    let mut store = Store::open(&path).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO meta (key, value) VALUES ('last_sync', '5')",
            [],
        )
        .unwrap();
    let first = write_demo(
        &mut store,
        &DemoSpec {
            deals: 250,
            seed: 1,
            ..DemoSpec::default()
        },
    )
    .unwrap();
    let spec = DemoSpec {
        deals: 120,
        seed: 2,
        ..DemoSpec::default()
    };
    let second = write_demo(&mut store, &spec).unwrap();
    assert_eq!((first.deals, second.deals), (250, 120));
    let c = store.conn();
    assert_eq!(scalar(c, "SELECT COUNT(*) FROM deals"), 120);
    assert_eq!(scalar(c, "SELECT COUNT(*) FROM companies"), 48);
    assert_eq!(
        scalar(c, "SELECT COUNT(*) FROM contacts") as usize,
        second.contacts
    );
    let meta = |k: &str| -> String {
        c.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(meta("demo_seed"), "2");
    assert_eq!(meta("demo_as_of"), spec.as_of.as_second().to_string());
    assert_eq!(meta("last_sync"), "5", "other metadata is kept");
    // Same content as a demo written into a fresh cache (with the same other metadata).
    let mut fresh = Store::open_in_memory().unwrap();
    fresh
        .conn()
        .execute(
            "INSERT INTO meta (key, value) VALUES ('last_sync', '5')",
            [],
        )
        .unwrap();
    write_demo(&mut fresh, &spec).unwrap();
    assert_eq!(content_hash(c), content_hash(fresh.conn()));
    // The connection's settings are back, and the indexes the load dropped are rebuilt.
    assert_eq!(scalar(c, "PRAGMA foreign_keys"), 1);
    assert_eq!(scalar(c, "PRAGMA synchronous"), 1);
    for index in [
        "activities_deal_time",
        "activity_contacts_contact",
        "deal_contacts_contact",
        "contacts_company",
        "deals_owner",
        "deals_company",
        "deals_stage",
    ] {
        assert_eq!(
            scalar(
                c,
                &format!(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'"
                )
            ),
            1,
            "{index}"
        );
    }
    // Written once, the history stays put when read back by a new connection.
    drop(store);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(scalar(reopened.conn(), "SELECT COUNT(*) FROM deals"), 120);
}

#[test]
fn tiny_demos_work() {
    for deals in [1, 5] {
        let mut store = Store::open_in_memory().unwrap();
        let s = write_demo(
            &mut store,
            &DemoSpec {
                deals,
                ..DemoSpec::default()
            },
        )
        .unwrap();
        let companies = ((deals as f64 / 2.5).round() as usize).max(1);
        assert_eq!((s.deals, s.companies), (deals, companies));
    }
}

/// `cargo test --release --test demo -- --ignored timing --nocapture` (DEMO_DEALS to change the
/// size): writes a fresh demo, then replaces it, and prints both times.
#[test]
#[ignore = "timing: run in release mode"]
fn timing() {
    let n: usize = std::env::var("DEMO_DEALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite");
    let spec = DemoSpec {
        deals: n,
        ..DemoSpec::default()
    };
    let started = Instant::now();
    let mut store = Store::open(&path).unwrap();
    let summary = write_demo(&mut store, &spec).unwrap();
    drop(store);
    println!(
        "fresh: {n} deals in {:.2} s (open, write, close): {summary:?}",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut store = Store::open(&path).unwrap();
    write_demo(&mut store, &spec).unwrap();
    drop(store);
    println!("replace: {:.2} s", started.elapsed().as_secs_f64());
}

/// `cargo test --test demo -- --ignored print_measured_rates --nocapture`: the measured rates
/// of the shared cache, for reading rather than asserting.
#[test]
#[ignore = "diagnostic"]
fn print_measured_rates() {
    let conn = shared();
    let show = |name: &str, u: &[Unit]| {
        println!("{name}");
        let mut strata: Vec<&str> = u.iter().map(|x| x.stratum.as_str()).collect();
        strata.sort_unstable();
        strata.dedup();
        for s in strata {
            for e in [true, false] {
                let (n, k) = cell(u, Some(s), e);
                println!(
                    "  {s:>14} exposed={e:<5} {k:>5}/{n:<5} = {:.3}",
                    k as f64 / n as f64
                );
            }
        }
    };
    let mut p1 = pattern1(&conn);
    p1.iter_mut().for_each(|u| u.stratum.clear());
    show("1: slip in (T_demo, T_demo+90d] by single-threaded", &p1);
    show("2: won by CTO engaged, per buying center", &pattern2(&conn));
    show(
        "3: 21-day stall in Proposal by live economic buyer",
        &pattern3(&conn),
    );
    show(
        "4: discount pressure by competitor, per anchoring",
        &pattern4(&conn),
    );
    let sql = format!(
        "{} SELECT eb_live, AVG((neg_at - t) / 86400.0), COUNT(*) FROM facts
             WHERE neg_at IS NOT NULL GROUP BY eb_live",
        proposal_facts(PROPOSAL_OBSERVED_DAYS)
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt
        .query_map([as_of(&conn)], |r| {
            Ok((
                r.get::<_, bool>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (eb, days, n) = row.unwrap();
        println!("3: days in Proposal before Negotiation, live EB {eb}: {days:.1} (n = {n})");
    }
    let c = &conn;
    println!(
        "open {} of {}, activities/deal {:.2}, participants/activity {:.2}",
        scalar(c, "SELECT COUNT(*) FROM deals WHERE is_closed = 0"),
        scalar(c, "SELECT COUNT(*) FROM deals"),
        scalar(c, "SELECT COUNT(*) FROM activities") as f64 / RATE_DEALS as f64,
        scalar(c, "SELECT COUNT(*) FROM activity_contacts") as f64
            / scalar(c, "SELECT COUNT(*) FROM activities") as f64,
    );
    let early = format!("('{}', '{}')", stage_ids::DISCOVERY, stage_ids::QUALIFIED);
    println!(
        "open before Demo {} ({} past their close date), from Demo on {}; no decision {}",
        scalar(
            c,
            &format!("SELECT COUNT(*) FROM deals WHERE is_closed = 0 AND stage_id IN {early}")
        ),
        scalar(
            c,
            &format!(
                "SELECT COUNT(*) FROM deals WHERE is_closed = 0 AND stage_id IN {early}
                    AND close_date < {}",
                as_of(c)
            )
        ),
        scalar(
            c,
            &format!("SELECT COUNT(*) FROM deals WHERE is_closed = 0 AND stage_id NOT IN {early}")
        ),
        truth().values().filter(|p| p.no_decision).count(),
    );
}

/// The planted exposures are drawn independently of each other (checked on the draws, which the
/// test above ties to the SQL measures, over every deal of the shared cache).
#[test]
fn exposures_are_independent_of_each_other() {
    let flags: Vec<[bool; 5]> = truth()
        .values()
        .map(|p| {
            [
                p.single_threaded,
                p.cto_engaged,
                p.economic_buyer_live,
                p.competitor_mentioned,
                p.business_case_anchored,
            ]
        })
        .collect();
    let names = ["single", "cto", "eb_live", "competitor", "anchored"];
    for a in 0..5 {
        for b in 0..5 {
            if a == b {
                continue;
            }
            let pooled = flags.iter().filter(|f| f[a]).count() as f64 / flags.len() as f64;
            for given in [true, false] {
                let group: Vec<_> = flags.iter().filter(|f| f[b] == given).collect();
                let hits = group.iter().filter(|f| f[a]).count() as i64;
                assert_rate(
                    &format!("{} | {} = {given}", names[a], names[b]),
                    (group.len() as i64, hits),
                    pooled,
                );
            }
        }
    }
}
