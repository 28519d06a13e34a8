//! Rows to records: each file's rows become plain records with the names they refer to still
//! unresolved (a stage label, an owner's name), or a [`RowIssue`] saying which line is wrong and
//! why. Nothing here reads the cache.

use super::mapping::{Format, Plan};
use super::text::{Row, Table};
use super::values::{
    DateOptions, DateOrder, Decimal, Outcome, infer_date_order, infer_decimal, parse_amount,
    parse_bool, parse_currency, parse_instant, parse_status,
};
use crate::domain::{ActivityKind, DealRole, Direction};
use crate::text::sanitize_line;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A row that was skipped (or kept with a caveat), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowIssue {
    /// The file's name as given.
    pub file: String,
    /// 1-based line the row starts on (the header is line 1).
    pub line: u64,
    /// What is wrong, one sentence.
    pub reason: String,
}

/// A cell value quoted for a message: control characters removed, long values shortened.
pub fn quote(value: &str) -> String {
    const MAX: usize = 40;
    let clean = sanitize_line(value);
    if clean.chars().count() > MAX {
        let cut: String = clean.chars().take(MAX).collect();
        format!("\"{cut}…\"")
    } else {
        format!("\"{clean}\"")
    }
}

/// Checks a row's width against the header. Trailing empty cells past the header are tolerated
/// (some exporters end every line with a delimiter).
fn width_problem(row: &Row, headers: usize) -> Option<String> {
    let n = row.cells.len();
    let extra_empty = n > headers && row.cells[headers..].iter().all(String::is_empty);
    if n == headers || extra_empty {
        return None;
    }
    let mut reason = format!("has {n} fields, the header has {headers}");
    if row.end_line > row.line && n < headers {
        reason.push_str(&format!(
            " (it runs to line {}: an unclosed quote?)",
            row.end_line
        ));
    } else if row.end_line > row.line {
        reason.push_str(&format!(" (it runs to line {})", row.end_line));
    }
    Some(reason)
}

/// Reads the cells of one row with its file's plan, format and date options.
struct Cells<'a> {
    plan: &'a Plan,
    row: &'a Row,
    dates: &'a DateOptions,
}

impl<'a> Cells<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.plan.cell(&self.row.cells, key)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    fn instant(&self, key: &str, label: &str) -> Result<Option<Timestamp>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_instant(v, self.dates)
                .map(Some)
                .map_err(|_| format!("{label} {} is not a date", quote(v))),
        }
    }

    fn flag(&self, key: &str, label: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_bool(v).map_err(|_| format!("{label} {} is not yes or no", quote(v))),
        }
    }
}

/// The date options for one file: the mapping's, with the day/month order settled by the file's
/// own date cells when the mapping does not set it.
fn file_dates(table: &Table, plan: &Plan, format: &Format, keys: &[&str]) -> DateOptions {
    let mut dates = format.dates.clone();
    if !format.date_order_given {
        let cells = table
            .rows
            .iter()
            .flat_map(|r| keys.iter().filter_map(|k| plan.cell(&r.cells, k)));
        if let Some(order) = infer_date_order(cells) {
            dates.order = order;
        }
    }
    dates
}

/// The first id in a cell that may list several (`Associated Company IDs` = `"12;34"`).
fn first_id(cell: &str) -> Option<String> {
    cell.split([';', ',', '|'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A deal row with its references still names.
#[derive(Debug, Clone, PartialEq)]
pub struct DealRow {
    /// The line it came from.
    pub line: u64,
    /// The CRM's id.
    pub id: String,
    /// The deal's name (`Deal <id>` when the cell is empty).
    pub name: String,
    /// The stage cell: an id or a label.
    pub stage: String,
    /// The pipeline cell, if any.
    pub pipeline: Option<String>,
    /// The amount.
    pub amount: Option<f64>,
    /// The currency code.
    pub currency: String,
    /// When the deal was created.
    pub created_at: Timestamp,
    /// The close date.
    pub close_date: Option<Timestamp>,
    /// When the CRM last changed the deal, if the file says.
    pub modified: Option<Timestamp>,
    /// The owner's name.
    pub owner: Option<String>,
    /// The owner's id.
    pub owner_id: Option<String>,
    /// The company's name.
    pub company: Option<String>,
    /// The company's id.
    pub company_id: Option<String>,
    /// What a status cell says, if there is one.
    pub status: Option<Outcome>,
    /// What a yes/no "closed" cell says.
    pub closed: Option<bool>,
    /// What a yes/no "won" cell says.
    pub won: Option<bool>,
    /// The win or loss reason.
    pub closed_reason: Option<String>,
    /// Other columns kept as properties.
    pub properties: BTreeMap<String, String>,
}

/// What reading a file gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// Good records, in file order.
    pub records: Vec<T>,
    /// Skipped rows (and kept rows with a caveat, in `notes`).
    pub issues: Vec<RowIssue>,
    /// Caveats on rows that were kept.
    pub notes: Vec<RowIssue>,
    /// Data rows read.
    pub rows: usize,
    /// How all-numeric dates were read.
    pub date_order: DateOrder,
}

impl<T> Parsed<T> {
    fn new(rows: usize, date_order: DateOrder) -> Self {
        Parsed {
            records: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
            rows,
            date_order,
        }
    }
}

/// The deals file's rows. A duplicate id keeps its first row.
pub fn deals(table: &Table, plan: &Plan, format: &Format, file: &str) -> Parsed<DealRow> {
    let decimal = format.decimal.unwrap_or_else(|| {
        infer_decimal(
            table
                .rows
                .iter()
                .filter_map(|r| plan.cell(&r.cells, "amount")),
            table.delimiter,
        )
    });
    let dates = file_dates(table, plan, format, &["created", "close_date", "modified"]);
    let mut out = Parsed::new(table.rows.len(), dates.order);
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        let result = width_problem(row, table.headers.len())
            .map_or_else(|| deal(row, plan, format, &dates, decimal), Err);
        let issue = |reason| RowIssue {
            file: file.to_owned(),
            line: row.line,
            reason,
        };
        match result {
            Ok(d) => {
                if let Some(first) = seen.get(&d.id) {
                    out.issues.push(issue(format!(
                        "deal id {} already appeared on line {first}",
                        quote(&d.id)
                    )));
                } else {
                    seen.insert(d.id.clone(), d.line);
                    out.records.push(d);
                }
            }
            Err(reason) => out.issues.push(issue(reason)),
        }
    }
    out
}

fn deal(
    row: &Row,
    plan: &Plan,
    format: &Format,
    dates: &DateOptions,
    decimal: Decimal,
) -> Result<DealRow, String> {
    let c = Cells { plan, row, dates };
    let id = c.get("id").ok_or("the deal id is empty")?.to_owned();
    let stage = c.get("stage").ok_or("the stage is empty")?.to_owned();
    let created_at = c
        .instant("created", "created date")?
        .ok_or("the created date is empty")?;
    let close_date = c.instant("close_date", "close date")?;
    let modified = c.instant("modified", "modified date")?;

    let (amount, amount_code) = match c.get("amount") {
        None => (None, None),
        Some(v) => {
            let (a, code) = parse_amount(v, decimal)
                .map_err(|_| format!("amount {} is not a number", quote(v)))?;
            (Some(a), code)
        }
    };
    let currency = match c.get("currency") {
        Some(v) => {
            let code = parse_currency(v)
                .ok_or_else(|| format!("currency {} is not a three-letter code", quote(v)))?;
            if let Some(in_amount) = amount_code.as_ref().filter(|a| **a != code) {
                return Err(format!(
                    "the amount is in {in_amount} but the currency column says {code}"
                ));
            }
            code
        }
        None => amount_code.unwrap_or_else(|| format.default_currency.clone()),
    };

    let status = match c.get("status") {
        None => None,
        Some(v) => {
            parse_status(v).map_err(|_| format!("status {} is not open, won or lost", quote(v)))?
        }
    };
    let closed = c.flag("closed", "closed flag")?;
    let won = c.flag("won", "won flag")?;

    let properties = plan
        .properties
        .iter()
        .filter_map(|(i, name)| {
            row.cells
                .get(*i)
                .filter(|v| !v.is_empty())
                .map(|v| (name.clone(), v.clone()))
        })
        .collect();
    Ok(DealRow {
        line: row.line,
        name: c.text("name").unwrap_or_else(|| format!("Deal {id}")),
        id,
        stage,
        pipeline: c.text("pipeline"),
        amount,
        currency,
        created_at,
        close_date,
        modified,
        owner: c.text("owner"),
        owner_id: c.get("owner_id").and_then(first_id),
        company: c.text("company"),
        company_id: c.get("company_id").and_then(first_id),
        status,
        closed,
        won,
        closed_reason: c.text("closed_reason"),
        properties,
    })
}

/// One stage entry from a history file.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The line it came from.
    pub line: u64,
    /// The deal.
    pub deal_id: String,
    /// The stage cell: an id or a label.
    pub stage: String,
    /// When the stage was entered.
    pub at: Timestamp,
}

/// Checks that a row's deal is one of this import's deals.
fn known_deal(deal_id: &str, deals: &HashSet<&str>) -> Result<(), String> {
    if deals.contains(deal_id) {
        Ok(())
    } else {
        Err(format!(
            "deal {} is not among the imported deals (not in the deals file, or its row was \
             skipped)",
            quote(deal_id)
        ))
    }
}

/// The deal ids of good deal rows, for checking the other files' references.
pub fn deal_ids(deals: &[DealRow]) -> HashSet<&str> {
    deals.iter().map(|d| d.id.as_str()).collect()
}

fn rows_of<T>(
    table: &Table,
    file: &str,
    dates: &DateOptions,
    mut each: impl FnMut(&Row) -> Result<T, String>,
) -> Parsed<T> {
    let mut out = Parsed::new(table.rows.len(), dates.order);
    for row in &table.rows {
        match width_problem(row, table.headers.len()).map_or_else(|| each(row), Err) {
            Ok(r) => out.records.push(r),
            Err(reason) => out.issues.push(RowIssue {
                file: file.to_owned(),
                line: row.line,
                reason,
            }),
        }
    }
    out
}

/// The stage-history file's rows.
pub fn history(
    table: &Table,
    plan: &Plan,
    format: &Format,
    file: &str,
    deals: &HashSet<&str>,
) -> Parsed<HistoryRow> {
    let dates = file_dates(table, plan, format, &["entered_at"]);
    rows_of(table, file, &dates, |row| {
        let c = Cells {
            plan,
            row,
            dates: &dates,
        };
        let deal_id = c.get("deal_id").ok_or("the deal id is empty")?.to_owned();
        known_deal(&deal_id, deals)?;
        let stage = c.get("stage").ok_or("the stage is empty")?.to_owned();
        let at = c
            .instant("entered_at", "entered-at time")?
            .ok_or("the entered-at time is empty")?;
        Ok(HistoryRow {
            line: row.line,
            deal_id,
            stage,
            at,
        })
    })
}

/// A contact row, optionally linking the contact to a deal.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    /// The line it came from.
    pub line: u64,
    /// The CRM's contact id.
    pub id: String,
    /// Full name (first and last joined, else the email, else the id).
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Company, by name.
    pub company: Option<String>,
    /// Company, by id.
    pub company_id: Option<String>,
    /// The deal the contact is on.
    pub deal_id: Option<String>,
    /// Role on that deal.
    pub role: Option<DealRole>,
    /// When the contact was created.
    pub created_at: Option<Timestamp>,
}

/// A role cell: the six roles and common CRM spellings (`Decision Maker`, `End User`).
pub fn parse_role(raw: &str) -> Option<DealRole> {
    let key: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    Some(match key.as_str() {
        "champion" | "coach" | "sponsor" => DealRole::Champion,
        "economicbuyer" | "decisionmaker" | "budgetholder" | "signer" | "economicdecisionmaker" => {
            DealRole::EconomicBuyer
        }
        "technicalbuyer" | "technicalevaluator" | "evaluator" | "technicaldecisionmaker" => {
            DealRole::TechnicalBuyer
        }
        "user" | "enduser" => DealRole::User,
        "procurement" | "purchasing" | "legal" => DealRole::Procurement,
        "influencer" | "other" | "businessuser" | "executivesponsor" => DealRole::Influencer,
        _ => return None,
    })
}

/// The contacts file's rows. A contact may appear on several rows (one per deal); an unknown
/// role keeps the row without a role and leaves a note.
pub fn contacts(
    table: &Table,
    plan: &Plan,
    format: &Format,
    file: &str,
    deals: &HashSet<&str>,
) -> Parsed<ContactRow> {
    let mut notes = Vec::new();
    let dates = file_dates(table, plan, format, &["created"]);
    let mut parsed = rows_of(table, file, &dates, |row| {
        let c = Cells {
            plan,
            row,
            dates: &dates,
        };
        let id = c.get("id").ok_or("the contact id is empty")?.to_owned();
        let deal_id = c.get("deal_id").and_then(first_id);
        if let Some(d) = &deal_id {
            known_deal(d, deals)?;
        }
        let joined = [c.get("first_name"), c.get("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let email = c.text("email");
        let name = c
            .text("name")
            .or_else(|| (!joined.is_empty()).then_some(joined))
            .or_else(|| email.clone())
            .unwrap_or_else(|| id.clone());
        let role = match c.get("role") {
            None => None,
            Some(v) => {
                let role = parse_role(v);
                if role.is_none() {
                    notes.push(RowIssue {
                        file: file.to_owned(),
                        line: row.line,
                        reason: format!(
                            "role {} is not champion, economic buyer, technical buyer, user, \
                             procurement or influencer; the contact was kept without a role",
                            quote(v)
                        ),
                    });
                }
                role
            }
        };
        Ok(ContactRow {
            line: row.line,
            id,
            name,
            email,
            title: c.text("title"),
            company: c.text("company"),
            company_id: c.get("company_id").and_then(first_id),
            deal_id,
            role,
            created_at: c.instant("created", "created date")?,
        })
    });
    parsed.notes = notes;
    parsed
}

/// An activity row.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    /// The line it came from.
    pub line: u64,
    /// The CRM's id.
    pub id: String,
    /// The deal.
    pub deal_id: String,
    /// Call, meeting, email or note.
    pub kind: ActivityKind,
    /// When it happened.
    pub at: Timestamp,
    /// Subject.
    pub subject: Option<String>,
    /// Body text.
    pub body: String,
    /// Inbound or outbound.
    pub direction: Option<Direction>,
    /// The rep, by name.
    pub owner: Option<String>,
    /// The rep, by id.
    pub owner_id: Option<String>,
    /// Contact ids.
    pub contacts: Vec<String>,
}

/// A kind cell, and the direction it implies (`Email received` is inbound).
pub fn parse_kind(raw: &str) -> Option<(ActivityKind, Option<Direction>)> {
    let lower = raw.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    let direction = if has(&["received", "incoming", "inbound", "reply"]) {
        Some(Direction::Inbound)
    } else if has(&["sent", "outgoing", "outbound"]) {
        Some(Direction::Outbound)
    } else {
        None
    };
    let kind = if has(&["call", "calls", "phone", "phonecall"]) {
        ActivityKind::Call
    } else if has(&["meeting", "meetings", "meet", "appointment"]) {
        ActivityKind::Meeting
    } else if has(&["email", "emails", "mail", "e"]) && !has(&["note"]) {
        ActivityKind::Email
    } else if has(&["note", "notes", "comment"]) {
        ActivityKind::Note
    } else {
        return None;
    };
    Some((kind, direction))
}

fn parse_direction(raw: &str) -> Option<Direction> {
    match raw.trim().to_lowercase().as_str() {
        "inbound" | "incoming" | "in" | "received" => Some(Direction::Inbound),
        "outbound" | "outgoing" | "out" | "sent" => Some(Direction::Outbound),
        _ => None,
    }
}

/// The activities file's rows.
pub fn activities(
    table: &Table,
    plan: &Plan,
    format: &Format,
    file: &str,
    deals: &HashSet<&str>,
) -> Parsed<ActivityRow> {
    let dates = file_dates(table, plan, format, &["time"]);
    let mut parsed = rows_of(table, file, &dates, |row| {
        let c = Cells {
            plan,
            row,
            dates: &dates,
        };
        let id = c.get("id").ok_or("the activity id is empty")?.to_owned();
        let deal_id = c
            .get("deal_id")
            .and_then(first_id)
            .ok_or("the deal id is empty")?;
        known_deal(&deal_id, deals)?;
        let kind_cell = c.get("kind").ok_or("the kind is empty")?;
        let (kind, implied) = parse_kind(kind_cell).ok_or_else(|| {
            format!(
                "kind {} is not a call, meeting, email or note",
                quote(kind_cell)
            )
        })?;
        let at = c.instant("time", "time")?.ok_or("the time is empty")?;
        let direction = match c.get("direction") {
            None => implied,
            Some(v) => Some(
                parse_direction(v)
                    .ok_or_else(|| format!("direction {} is not inbound or outbound", quote(v)))?,
            ),
        };
        let mut contacts: Vec<String> = Vec::new();
        for id in c.get("contacts").unwrap_or("").split([';', ',', '|']) {
            let id = id.trim();
            if !id.is_empty() && !contacts.iter().any(|c| c == id) {
                contacts.push(id.to_owned());
            }
        }
        Ok(ActivityRow {
            line: row.line,
            id,
            deal_id,
            kind,
            at,
            subject: c.text("subject"),
            body: c.text("body").unwrap_or_default(),
            direction,
            owner: c.text("owner"),
            owner_id: c.get("owner_id").and_then(first_id),
            contacts,
        })
    });
    // A repeated id would overwrite the first row's activity: keep the first, report the rest.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut kept = Vec::with_capacity(parsed.records.len());
    for a in std::mem::take(&mut parsed.records) {
        if let Some(first) = seen.get(&a.id) {
            parsed.issues.push(RowIssue {
                file: file.to_owned(),
                line: a.line,
                reason: format!(
                    "activity id {} already appeared on line {first}",
                    quote(&a.id)
                ),
            });
        } else {
            seen.insert(a.id.clone(), a.line);
            kept.push(a);
        }
    }
    parsed.records = kept;
    parsed.issues.sort_by_key(|i| i.line);
    parsed
}

#[cfg(test)]
mod tests {
    use super::super::mapping::{DEALS, Mapping, plan};
    use super::super::text::read_table;
    use super::*;

    fn parse_deals(text: &str, mapping: &str) -> Parsed<DealRow> {
        let table = read_table(text, None).unwrap();
        let m = Mapping::parse(mapping).unwrap();
        let format = m.format().unwrap();
        let p = plan(&table.headers, DEALS, None, None).unwrap();
        deals(&table, &p, &format, "deals.csv")
    }

    #[test]
    fn bad_rows_are_reported_with_lines_and_reasons() {
        let text = "\
Deal ID,Name,Stage,Amount,Created,Close Date
1,Acme,Demo,\"1,234.50\",2026-01-05,03/01/2026
2,Beta,Demo,\"12,3,4\",2026-01-05,
3,Gamma,Demo,100,yesterday,
,Delta,Demo,100,2026-01-05,
4,Eps,Demo,100,2026-01-05
1,Acme again,Demo,5,2026-01-05,
5,Zeta,Closed Won,,2026-01-05,2026-02-30
";
        let p = parse_deals(text, "");
        assert_eq!(p.rows, 7);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].amount, Some(1234.5));
        assert_eq!(
            p.records[0].close_date,
            Some("2026-03-01T00:00:00Z".parse().unwrap())
        );
        let got: Vec<(u64, &str)> = p
            .issues
            .iter()
            .map(|i| (i.line, i.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "amount \"12,3,4\" is not a number"),
                (4, "created date \"yesterday\" is not a date"),
                (5, "the deal id is empty"),
                (6, "has 5 fields, the header has 6"),
                (7, "deal id \"1\" already appeared on line 2"),
                (8, "close date \"2026-02-30\" is not a date"),
            ]
        );
    }

    #[test]
    fn outcomes_currencies_and_properties() {
        let text = "\
id;stage;amount;currency;created;status;won;lead source
1;Demo;EUR 1.234,50;;2026-01-05;;;Web
2;Demo;10;gbp;2026-01-05;Won;;
3;Demo;10;;2026-01-05;;yes;
4;Demo;USD 10;EUR;2026-01-05;;;
5;Demo;10;;2026-01-05;deleted;;
";
        let p = parse_deals(text, "default_currency = \"CHF\"");
        let by_id: HashMap<&str, &DealRow> = p.records.iter().map(|d| (d.id.as_str(), d)).collect();
        assert_eq!(by_id["1"].amount, Some(1234.5), "`;` file, decimal comma");
        assert_eq!(by_id["1"].currency, "EUR");
        assert_eq!(by_id["1"].name, "Deal 1");
        assert_eq!(
            by_id["1"].properties.get("lead_source").map(String::as_str),
            Some("Web")
        );
        assert_eq!((by_id["1"].status, by_id["1"].won), (None, None));
        assert_eq!(by_id["2"].currency, "GBP");
        assert_eq!(by_id["2"].status, Some(Outcome::Won));
        assert_eq!(by_id["3"].won, Some(true));
        assert_eq!(by_id["3"].currency, "CHF");
        let reasons: Vec<&str> = p.issues.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec![
                "the amount is in USD but the currency column says EUR",
                "status \"deleted\" is not open, won or lost",
            ]
        );
    }

    #[test]
    fn the_files_dates_settle_day_first_unless_the_mapping_says() {
        let text =
            "id,stage,created,close date\n1,Demo,03/02/2026,\n2,Demo,01/02/2026,28/02/2026\n";
        let p = parse_deals(text, "");
        assert_eq!(p.date_order, DateOrder::Dmy);
        assert_eq!(
            p.records[0].created_at,
            "2026-02-03T00:00:00Z".parse().unwrap(),
            "read day first because another cell can only be"
        );
        let forced = parse_deals(text, "date_order = \"mdy\"");
        assert_eq!(
            forced.records.len(),
            1,
            "28/02/2026 is not a month-first date"
        );
        assert_eq!(
            forced.records[0].created_at,
            "2026-03-02T00:00:00Z".parse().unwrap()
        );
    }

    #[test]
    fn trailing_empty_cells_are_tolerated_and_quotes_spanning_lines_are_explained() {
        let ok = parse_deals("id,stage,created\n1,Demo,2026-01-01,\n", "");
        assert_eq!(ok.records.len(), 1);
        let broken = parse_deals(
            "id,stage,created\n1,\"Demo,2026-01-01\n2,Demo,2026-01-01\n",
            "",
        );
        assert_eq!(broken.issues.len(), 1);
        assert!(
            broken.issues[0].reason.contains("unclosed quote"),
            "{:?}",
            broken.issues
        );
    }

    #[test]
    fn kinds_roles_and_quotes() {
        assert_eq!(parse_kind("Call"), Some((ActivityKind::Call, None)));
        assert_eq!(
            parse_kind("Email received"),
            Some((ActivityKind::Email, Some(Direction::Inbound)))
        );
        assert_eq!(
            parse_kind("E-mail sent"),
            Some((ActivityKind::Email, Some(Direction::Outbound)))
        );
        assert_eq!(parse_kind("MEETING"), Some((ActivityKind::Meeting, None)));
        assert_eq!(parse_kind("Note"), Some((ActivityKind::Note, None)));
        assert_eq!(parse_kind("Task"), None);
        assert_eq!(parse_role("Decision Maker"), Some(DealRole::EconomicBuyer));
        assert_eq!(
            parse_role("technical_buyer"),
            Some(DealRole::TechnicalBuyer)
        );
        assert_eq!(parse_role("Mascot"), None);
        assert_eq!(quote("a\u{1b}[2Jb"), "\"ab\"");
        assert_eq!(quote(&"x".repeat(50)), format!("\"{}…\"", "x".repeat(40)));
    }
}
