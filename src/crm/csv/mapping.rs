//! The mapping file (TOML): how an export's columns become deal fields, and how to read the file.
//! `assets/mappings/generic.toml` documents every key. Without a mapping (or for a section that
//! names no columns), columns are recognised by their header names.

use super::values::{DateOptions, DateOrder, header_key, parse_currency, property_name};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One column, or several where the first non-empty cell wins (`["Closed Won Reason",
/// "Closed Lost Reason"]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    /// One column.
    One(String),
    /// Several columns, first non-empty wins.
    Many(Vec<String>),
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Which other columns become deal properties.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Properties {
    /// `"*"`: every column not mapped to a field, named after its header (`Lead Source` →
    /// `lead_source`).
    All(String),
    /// These columns, named after their headers.
    List(Vec<String>),
    /// Column header → property name.
    Named(BTreeMap<String, String>),
}

/// The `[deals]` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealColumns {
    /// The CRM's deal id (required for an explicit mapping).
    pub id: Option<Columns>,
    /// Deal name.
    pub name: Option<Columns>,
    /// Stage, by id or label.
    pub stage: Option<Columns>,
    /// Pipeline, by id or label.
    pub pipeline: Option<Columns>,
    /// The pipeline of rows without a pipeline cell (id or label; default "Sales Pipeline").
    pub default_pipeline: Option<String>,
    /// Amount.
    pub amount: Option<Columns>,
    /// Currency code.
    pub currency: Option<Columns>,
    /// When the deal was created.
    pub created: Option<Columns>,
    /// Expected (or actual) close date.
    pub close_date: Option<Columns>,
    /// When the CRM last changed the deal.
    pub modified: Option<Columns>,
    /// Owner, by name.
    pub owner: Option<Columns>,
    /// Owner, by the CRM's id.
    pub owner_id: Option<Columns>,
    /// Company, by name.
    pub company: Option<Columns>,
    /// Company, by the CRM's id.
    pub company_id: Option<Columns>,
    /// A status cell: open / won / lost.
    pub status: Option<Columns>,
    /// A yes/no "is closed" cell.
    pub closed: Option<Columns>,
    /// A yes/no "is won" cell.
    pub won: Option<Columns>,
    /// The win or loss reason.
    pub closed_reason: Option<Columns>,
    /// Columns kept as deal properties.
    pub properties: Option<Properties>,
}

/// The `[history]` section: one row per stage entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryColumns {
    /// The file, relative to the mapping file.
    pub file: Option<PathBuf>,
    /// Overrides the top-level `encoding` for this file.
    pub encoding: Option<String>,
    /// Overrides the top-level `delimiter` for this file.
    pub delimiter: Option<String>,
    /// The deal.
    pub deal_id: Option<Columns>,
    /// The stage entered, by id or label.
    pub stage: Option<Columns>,
    /// When it was entered.
    pub entered_at: Option<Columns>,
}

/// The `[contacts]` section: one row per contact, or per contact and deal.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactColumns {
    /// The file, relative to the mapping file.
    pub file: Option<PathBuf>,
    /// Overrides the top-level `encoding` for this file.
    pub encoding: Option<String>,
    /// Overrides the top-level `delimiter` for this file.
    pub delimiter: Option<String>,
    /// The CRM's contact id.
    pub id: Option<Columns>,
    /// Full name.
    pub name: Option<Columns>,
    /// First name (joined with `last_name` when there is no full name).
    pub first_name: Option<Columns>,
    /// Last name.
    pub last_name: Option<Columns>,
    /// Email.
    pub email: Option<Columns>,
    /// Job title.
    pub title: Option<Columns>,
    /// Company, by name.
    pub company: Option<Columns>,
    /// Company, by the CRM's id.
    pub company_id: Option<Columns>,
    /// The deal the contact is on.
    pub deal_id: Option<Columns>,
    /// The contact's role on that deal.
    pub role: Option<Columns>,
    /// When the contact was created.
    pub created: Option<Columns>,
}

/// The `[activities]` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityColumns {
    /// The file, relative to the mapping file.
    pub file: Option<PathBuf>,
    /// Overrides the top-level `encoding` for this file.
    pub encoding: Option<String>,
    /// Overrides the top-level `delimiter` for this file.
    pub delimiter: Option<String>,
    /// The CRM's activity id.
    pub id: Option<Columns>,
    /// The deal.
    pub deal_id: Option<Columns>,
    /// Call, meeting, email or note.
    pub kind: Option<Columns>,
    /// When it happened.
    pub time: Option<Columns>,
    /// Subject or title.
    pub subject: Option<Columns>,
    /// Body text or notes.
    pub body: Option<Columns>,
    /// Inbound or outbound.
    pub direction: Option<Columns>,
    /// The rep, by name.
    pub owner: Option<Columns>,
    /// The rep, by the CRM's id.
    pub owner_id: Option<Columns>,
    /// Contact ids, separated by `;`, `,` or `|`.
    pub contacts: Option<Columns>,
}

/// A whole mapping file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The source name stored on each deal (default `csv`).
    pub source: Option<String>,
    /// `auto` (default), or an encoding label such as `utf-8`, `utf-16le`, `windows-1252`.
    pub encoding: Option<String>,
    /// `auto` (default), `,`, `;`, `tab` or `|`.
    pub delimiter: Option<String>,
    /// `mdy` or `dmy`, for dates like `03/04/2026` (default: what the file's dates show, else
    /// `mdy`).
    pub date_order: Option<DateOrder>,
    /// `auto` (default), `.` or `,`.
    pub decimal: Option<String>,
    /// IANA zone of dates and times without an offset (default UTC).
    pub timezone: Option<String>,
    /// Currency of amounts with no currency cell or code (default USD).
    pub default_currency: Option<String>,
    /// The deals file's columns.
    #[serde(default)]
    pub deals: DealColumns,
    /// The stage-history file.
    pub history: Option<HistoryColumns>,
    /// The contacts file.
    pub contacts: Option<ContactColumns>,
    /// The activities file.
    pub activities: Option<ActivityColumns>,
}

impl Mapping {
    /// Parses mapping text; `Err` is `line L, column C: what is wrong`.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start).min(text.len());
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {}", e.message().trim())
        })
    }

    /// The format settings, checked.
    pub fn format(&self) -> Result<Format, String> {
        let source = match self.source.as_deref().map(str::trim) {
            None => "csv".to_owned(),
            Some("") => return Err("`source` is empty; leave it out for \"csv\"".into()),
            Some(s) => s.to_owned(),
        };
        let zone = match self.timezone.as_deref().map(str::trim) {
            None | Some("") | Some("UTC") => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|_| {
                format!(
                    "`timezone` {name:?} is not an IANA time zone name (like \"Europe/Berlin\")"
                )
            })?,
        };
        let decimal = match self.decimal.as_deref().map(str::trim) {
            None | Some("auto") => None,
            Some(".") => Some(super::values::Decimal::Point),
            Some(",") => Some(super::values::Decimal::Comma),
            Some(other) => {
                return Err(format!(
                    "`decimal` {other:?} must be \".\", \",\" or \"auto\""
                ));
            }
        };
        let default_currency = match self.default_currency.as_deref() {
            None => "USD".to_owned(),
            Some(c) => parse_currency(c).ok_or_else(|| {
                format!("`default_currency` {c:?} is not a three-letter ISO 4217 code")
            })?,
        };
        Ok(Format {
            source,
            encoding: self.encoding.clone(),
            delimiter: parse_delimiter(self.delimiter.as_deref())?,
            dates: DateOptions {
                order: self.date_order.unwrap_or_default(),
                zone,
            },
            date_order_given: self.date_order.is_some(),
            decimal,
            default_currency,
            default_pipeline: self
                .deals
                .default_pipeline
                .clone()
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| "Sales Pipeline".to_owned()),
        })
    }
}

/// `auto` or absent → detect; `,` `;` `|` `tab` (or a literal tab) → that byte.
pub fn parse_delimiter(setting: Option<&str>) -> Result<Option<u8>, String> {
    match setting {
        None | Some("auto") | Some("") => Ok(None),
        Some("tab") | Some("\t") | Some("\\t") => Ok(Some(b'\t')),
        Some(d) if d.len() == 1 && d.is_ascii() => Ok(Some(d.as_bytes()[0])),
        Some(d) => Err(format!(
            "`delimiter` {d:?} must be one character (\",\", \";\", \"|\"), \"tab\" or \"auto\""
        )),
    }
}

/// How to read the files, from the mapping's top-level keys.
#[derive(Debug, Clone)]
pub struct Format {
    /// The source name stored on each deal.
    pub source: String,
    /// The encoding label, if one was given.
    pub encoding: Option<String>,
    /// The delimiter, if one was given.
    pub delimiter: Option<u8>,
    /// Date order and zone.
    pub dates: DateOptions,
    /// Whether the mapping set `date_order` (else each file's dates may settle it).
    pub date_order_given: bool,
    /// The decimal separator, if one was given (else inferred per file).
    pub decimal: Option<super::values::Decimal>,
    /// Currency of amounts that carry none.
    pub default_currency: String,
    /// The pipeline of rows without one.
    pub default_pipeline: String,
}

/// A field a file can have: its name, the header names that mean it, and whether rows need it.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The mapping key (`close_date`).
    pub key: &'static str,
    /// What to call it in messages (`close date`).
    pub label: &'static str,
    /// Header keys (see [`header_key`]) recognised without a mapping.
    pub aliases: &'static [&'static str],
    /// Whether the file must have the column.
    pub required: bool,
}

const fn f(
    key: &'static str,
    label: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> Field {
    Field {
        key,
        label,
        aliases,
        required,
    }
}

/// What a deals file can hold. Order matters for detection: a header is claimed by the first
/// field that recognises it.
pub const DEAL_FIELDS: &[Field] = &[
    f(
        "id",
        "deal id",
        &["id", "recordid", "dealid", "opportunityid"],
        true,
    ),
    f(
        "name",
        "name",
        &["name", "dealname", "title", "opportunityname"],
        false,
    ),
    f(
        "stage",
        "stage",
        &["stage", "dealstage", "stagename", "pipelinestage"],
        true,
    ),
    f("pipeline", "pipeline", &["pipeline", "pipelinename"], false),
    f(
        "amount",
        "amount",
        &["amount", "value", "dealvalue", "dealsize", "totalamount"],
        false,
    ),
    f(
        "currency",
        "currency",
        &[
            "currency",
            "currencycode",
            "amountcurrency",
            "currencyofvalue",
            "valuecurrency",
        ],
        false,
    ),
    f(
        "created",
        "created date",
        &[
            "created",
            "createdate",
            "createddate",
            "createdat",
            "createdon",
            "creationdate",
            "addtime",
            "dealcreated",
        ],
        true,
    ),
    f(
        "close_date",
        "close date",
        &[
            "closedate",
            "expectedclosedate",
            "closingdate",
            "closedat",
            "closedon",
            "closedate",
        ],
        false,
    ),
    f(
        "modified",
        "modified date",
        &[
            "modified",
            "lastmodified",
            "lastmodifieddate",
            "modifieddate",
            "modifiedat",
            "updated",
            "updatedat",
            "updatetime",
            "lastupdated",
            "lastmodifiedat",
        ],
        false,
    ),
    f(
        "owner_id",
        "owner id",
        &["ownerid", "hubspotownerid", "userid"],
        false,
    ),
    f(
        "owner",
        "owner",
        &[
            "owner",
            "ownername",
            "opportunityowner",
            "assignedto",
            "salesrep",
        ],
        false,
    ),
    f(
        "company_id",
        "company id",
        &[
            "companyid",
            "accountid",
            "organizationid",
            "associatedcompanyid",
            "associatedcompanyids",
        ],
        false,
    ),
    f(
        "company",
        "company",
        &[
            "company",
            "companyname",
            "account",
            "accountname",
            "organization",
            "organisation",
            "organizationname",
            "associatedcompany",
            "customer",
        ],
        false,
    ),
    f(
        "status",
        "status",
        &["status", "dealstatus", "outcome"],
        false,
    ),
    f("closed", "closed flag", &["closed", "isclosed"], false),
    f("won", "won flag", &["won", "iswon", "isclosedwon"], false),
    f(
        "closed_reason",
        "closed reason",
        &[
            "closedreason",
            "closedlostreason",
            "closedwonreason",
            "lostreason",
            "wonreason",
            "lossreason",
            "reason",
            "closereason",
            "winlossreason",
        ],
        false,
    ),
];

/// What a stage-history file can hold.
pub const HISTORY_FIELDS: &[Field] = &[
    f(
        "deal_id",
        "deal id",
        &["dealid", "recordid", "id", "opportunityid", "deal"],
        true,
    ),
    f(
        "entered_at",
        "entered-at time",
        &[
            "enteredat",
            "entered",
            "entereddate",
            "date",
            "timestamp",
            "changedat",
            "changedate",
            "changeddate",
            "at",
            "time",
            "datetime",
            "createddate",
            "createdate",
        ],
        true,
    ),
    f(
        "stage",
        "stage",
        &[
            "stage",
            "dealstage",
            "tostage",
            "newstage",
            "stagename",
            "newvalue",
        ],
        true,
    ),
];

/// What a contacts file can hold.
pub const CONTACT_FIELDS: &[Field] = &[
    f(
        "id",
        "contact id",
        &["id", "contactid", "recordid", "personid"],
        true,
    ),
    f(
        "deal_id",
        "deal id",
        &[
            "dealid",
            "associateddeal",
            "associateddealid",
            "associateddealids",
            "deal",
            "opportunityid",
        ],
        false,
    ),
    f(
        "name",
        "name",
        &["name", "fullname", "contactname", "personname"],
        false,
    ),
    f(
        "first_name",
        "first name",
        &["firstname", "givenname"],
        false,
    ),
    f(
        "last_name",
        "last name",
        &["lastname", "surname", "familyname"],
        false,
    ),
    f(
        "email",
        "email",
        &["email", "emailaddress", "workemail", "mail"],
        false,
    ),
    f("title", "title", &["title", "jobtitle", "position"], false),
    f(
        "role",
        "role",
        &["role", "dealrole", "contactrole", "buyingrole"],
        false,
    ),
    f(
        "company_id",
        "company id",
        &[
            "companyid",
            "accountid",
            "organizationid",
            "associatedcompanyid",
        ],
        false,
    ),
    f(
        "company",
        "company",
        &[
            "company",
            "companyname",
            "account",
            "accountname",
            "organization",
            "associatedcompany",
        ],
        false,
    ),
    f(
        "created",
        "created date",
        &["created", "createdate", "createddate", "createdat"],
        false,
    ),
];

/// What an activities file can hold.
pub const ACTIVITY_FIELDS: &[Field] = &[
    f(
        "id",
        "activity id",
        &[
            "id",
            "activityid",
            "engagementid",
            "recordid",
            "callid",
            "meetingid",
            "emailid",
            "noteid",
        ],
        true,
    ),
    f(
        "deal_id",
        "deal id",
        &[
            "dealid",
            "associateddeal",
            "associateddealid",
            "associateddealids",
            "deal",
            "opportunityid",
        ],
        true,
    ),
    f(
        "kind",
        "kind",
        &["kind", "type", "activitytype", "engagementtype", "activity"],
        true,
    ),
    f(
        "time",
        "time",
        &[
            "time",
            "date",
            "timestamp",
            "occurredat",
            "activitydate",
            "datetime",
            "when",
            "starttime",
            "start",
            "activitytimestamp",
            "createdate",
            "createddate",
        ],
        true,
    ),
    f("subject", "subject", &["subject", "title"], false),
    f(
        "body",
        "body",
        &[
            "body",
            "notes",
            "note",
            "description",
            "content",
            "details",
            "text",
            "callnotes",
        ],
        false,
    ),
    f("direction", "direction", &["direction"], false),
    f("owner_id", "owner id", &["ownerid", "userid"], false),
    f(
        "owner",
        "owner",
        &["owner", "ownername", "assignedto", "activityowner"],
        false,
    ),
    f(
        "contacts",
        "contacts",
        &[
            "contacts",
            "contactids",
            "contactid",
            "participants",
            "associatedcontacts",
            "associatedcontactids",
            "attendees",
        ],
        false,
    ),
];

/// A kind of file: the fields it can hold and the header prefixes that name its object and are
/// dropped before matching (`Deal - Close Date`, `Opportunity Owner`, `Contact ID`).
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The fields.
    pub fields: &'static [Field],
    /// The prefixes.
    pub prefixes: &'static [&'static str],
}

/// A deals file.
pub const DEALS: Schema = Schema {
    fields: DEAL_FIELDS,
    prefixes: &["deal", "opportunity", "opp"],
};
/// A stage-history file.
pub const HISTORY: Schema = Schema {
    fields: HISTORY_FIELDS,
    prefixes: &[],
};
/// A contacts file.
pub const CONTACTS: Schema = Schema {
    fields: CONTACT_FIELDS,
    prefixes: &["contact", "person"],
};
/// An activities file.
pub const ACTIVITIES: Schema = Schema {
    fields: ACTIVITY_FIELDS,
    prefixes: &["activity", "engagement"],
};

/// The keys a header is matched by: its full key and the key with object prefixes dropped.
fn candidate_keys(header: &str, prefixes: &[&str]) -> Vec<String> {
    let full = header_key(header);
    let mut keys = vec![full.clone()];
    let mut k = full.as_str();
    'strip: loop {
        for p in prefixes {
            if let Some(rest) = k.strip_prefix(p)
                && !rest.is_empty()
            {
                k = rest;
                keys.push(k.to_owned());
                continue 'strip;
            }
        }
        break;
    }
    keys
}

/// Which columns hold which field, for one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    columns: BTreeMap<&'static str, Vec<usize>>,
    /// Columns kept as properties: (column, property name).
    pub properties: Vec<(usize, String)>,
    /// The header names, for messages.
    pub headers: Vec<String>,
}

impl Plan {
    /// Whether the file has a column for the field.
    pub fn has(&self, key: &str) -> bool {
        self.columns.get(key).is_some_and(|c| !c.is_empty())
    }

    /// The field's cell in a row: the first non-empty one among its columns.
    pub fn cell<'r>(&self, cells: &'r [String], key: &str) -> Option<&'r str> {
        self.columns
            .get(key)?
            .iter()
            .find_map(|&i| cells.get(i).map(String::as_str).filter(|c| !c.is_empty()))
    }

    /// The headers of the field's columns (for `--json` and messages).
    pub fn column_names(&self, key: &str) -> Vec<&str> {
        self.columns
            .get(key)
            .map(|c| {
                c.iter()
                    .filter_map(|&i| self.headers.get(i))
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Builds a plan: `explicit` lists what a mapping section named (`None` means detect every field
/// from the headers). `properties` says which other columns to keep; `None` keeps none in an
/// explicit plan and all in a detected one.
pub fn plan(
    headers: &[String],
    schema: Schema,
    explicit: Option<&[(&'static str, Option<&Columns>)]>,
    properties: Option<&Properties>,
) -> Result<Plan, String> {
    let find = |name: &str| -> Option<usize> {
        let wanted = name.trim().to_lowercase();
        headers
            .iter()
            .position(|h| h.trim().to_lowercase() == wanted)
    };
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut columns: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    match explicit {
        Some(named) => {
            for (key, spec) in named {
                let Some(spec) = spec else { continue };
                let mut idx = Vec::new();
                for name in spec.names() {
                    let i = find(name).ok_or_else(|| {
                        format!(
                            "the mapping's `{key}` names the column {name:?}, which the file does \
                             not have (its columns: {})",
                            list_headers(headers)
                        )
                    })?;
                    used.insert(i);
                    idx.push(i);
                }
                columns.insert(key, idx);
            }
            for field in schema.fields.iter().filter(|f| f.required) {
                if !columns.contains_key(field.key) {
                    return Err(format!(
                        "the mapping names no {} column; add `{} = \"…\"` to its section",
                        field.label, field.key
                    ));
                }
            }
        }
        None => {
            let keys: Vec<Vec<String>> = headers
                .iter()
                .map(|h| candidate_keys(h, schema.prefixes))
                .collect();
            for field in schema.fields {
                let idx: Vec<usize> = (0..headers.len())
                    .filter(|i| !used.contains(i))
                    .filter(|&i| keys[i].iter().any(|k| field.aliases.contains(&k.as_str())))
                    .collect();
                used.extend(&idx);
                if !idx.is_empty() {
                    columns.insert(field.key, idx);
                }
            }
            for field in schema.fields.iter().filter(|f| f.required) {
                if !columns.contains_key(field.key) {
                    return Err(format!(
                        "no column looks like the {} (columns: {}); name it in a mapping file \
                         (see assets/mappings/generic.toml)",
                        field.label,
                        list_headers(headers)
                    ));
                }
            }
        }
    }
    let rest = |used: &BTreeSet<usize>| -> Vec<(usize, String)> {
        (0..headers.len())
            .filter(|i| !used.contains(i) && !headers[*i].trim().is_empty())
            .map(|i| (i, property_name(&headers[i])))
            .filter(|(_, n)| !n.is_empty())
            .collect()
    };
    let properties = match (properties, explicit.is_some()) {
        (None, true) => Vec::new(),
        (None, false) => rest(&used),
        (Some(Properties::All(star)), _) if star.trim() == "*" => rest(&used),
        (Some(Properties::All(one)), _) => vec![(
            find(one).ok_or_else(|| missing_property(one, headers))?,
            property_name(one),
        )],
        (Some(Properties::List(list)), _) => list
            .iter()
            .map(|c| {
                Ok((
                    find(c).ok_or_else(|| missing_property(c, headers))?,
                    property_name(c),
                ))
            })
            .collect::<Result<_, String>>()?,
        (Some(Properties::Named(map)), _) => map
            .iter()
            .map(|(c, name)| {
                Ok((
                    find(c).ok_or_else(|| missing_property(c, headers))?,
                    name.trim().to_owned(),
                ))
            })
            .collect::<Result<_, String>>()?,
    };
    Ok(Plan {
        columns,
        properties,
        headers: headers.to_vec(),
    })
}

fn missing_property(name: &str, headers: &[String]) -> String {
    format!(
        "the mapping's `properties` names the column {name:?}, which the file does not have (its \
         columns: {})",
        list_headers(headers)
    )
}

/// The headers for a message, shortened when there are many.
fn list_headers(headers: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = headers
        .iter()
        .take(SHOWN)
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if headers.len() > SHOWN {
        s.push_str(&format!(" and {} more", headers.len() - SHOWN));
    }
    s
}

impl DealColumns {
    /// The named columns, or `None` when the section names no id (detect from headers).
    pub fn explicit(&self) -> Option<Vec<(&'static str, Option<&Columns>)>> {
        self.id.as_ref()?;
        Some(vec![
            ("id", self.id.as_ref()),
            ("name", self.name.as_ref()),
            ("stage", self.stage.as_ref()),
            ("pipeline", self.pipeline.as_ref()),
            ("amount", self.amount.as_ref()),
            ("currency", self.currency.as_ref()),
            ("created", self.created.as_ref()),
            ("close_date", self.close_date.as_ref()),
            ("modified", self.modified.as_ref()),
            ("owner", self.owner.as_ref()),
            ("owner_id", self.owner_id.as_ref()),
            ("company", self.company.as_ref()),
            ("company_id", self.company_id.as_ref()),
            ("status", self.status.as_ref()),
            ("closed", self.closed.as_ref()),
            ("won", self.won.as_ref()),
            ("closed_reason", self.closed_reason.as_ref()),
        ])
    }
}

impl HistoryColumns {
    /// The named columns, or `None` when the section names no deal id (detect from headers).
    pub fn explicit(&self) -> Option<Vec<(&'static str, Option<&Columns>)>> {
        self.deal_id.as_ref()?;
        Some(vec![
            ("deal_id", self.deal_id.as_ref()),
            ("stage", self.stage.as_ref()),
            ("entered_at", self.entered_at.as_ref()),
        ])
    }
}

impl ContactColumns {
    /// The named columns, or `None` when the section names no id (detect from headers).
    pub fn explicit(&self) -> Option<Vec<(&'static str, Option<&Columns>)>> {
        self.id.as_ref()?;
        Some(vec![
            ("id", self.id.as_ref()),
            ("name", self.name.as_ref()),
            ("first_name", self.first_name.as_ref()),
            ("last_name", self.last_name.as_ref()),
            ("email", self.email.as_ref()),
            ("title", self.title.as_ref()),
            ("company", self.company.as_ref()),
            ("company_id", self.company_id.as_ref()),
            ("deal_id", self.deal_id.as_ref()),
            ("role", self.role.as_ref()),
            ("created", self.created.as_ref()),
        ])
    }
}

impl ActivityColumns {
    /// The named columns, or `None` when the section names no id (detect from headers).
    pub fn explicit(&self) -> Option<Vec<(&'static str, Option<&Columns>)>> {
        self.id.as_ref()?;
        Some(vec![
            ("id", self.id.as_ref()),
            ("deal_id", self.deal_id.as_ref()),
            ("kind", self.kind.as_ref()),
            ("time", self.time.as_ref()),
            ("subject", self.subject.as_ref()),
            ("body", self.body.as_ref()),
            ("direction", self.direction.as_ref()),
            ("owner", self.owner.as_ref()),
            ("owner_id", self.owner_id.as_ref()),
            ("contacts", self.contacts.as_ref()),
        ])
    }
}

/// A path named in a mapping, relative to the mapping file's folder.
pub fn relative_to(mapping_file: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() {
        return file.to_owned();
    }
    mapping_file
        .parent()
        .map(|dir| dir.join(file))
        .unwrap_or_else(|| file.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hubspot_headers_are_recognised_without_a_mapping() {
        let h = headers(&[
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Amount",
            "Close Date",
            "Create Date",
            "Deal owner",
            "Pipeline",
            "Associated Company",
            "Deal Type",
            "Closed Lost Reason",
            "Closed Won Reason",
        ]);
        let p = plan(&h, DEALS, None, None).unwrap();
        let col = |k| p.column_names(k);
        assert_eq!(col("id"), vec!["Record ID"]);
        assert_eq!(col("name"), vec!["Deal Name"]);
        assert_eq!(col("stage"), vec!["Deal Stage"]);
        assert_eq!(col("created"), vec!["Create Date"]);
        assert_eq!(col("close_date"), vec!["Close Date"]);
        assert_eq!(col("owner"), vec!["Deal owner"]);
        assert_eq!(col("company"), vec!["Associated Company"]);
        assert_eq!(
            col("closed_reason"),
            vec!["Closed Lost Reason", "Closed Won Reason"]
        );
        assert_eq!(p.properties, vec![(9, "deal_type".to_string())]);
    }

    #[test]
    fn other_crms_headers_case_insensitively() {
        let pipedrive = headers(&[
            "Deal - ID",
            "Deal - Title",
            "Deal - Value",
            "Deal - Currency of Value",
            "Deal - Stage",
            "Deal - Status",
            "Deal - Deal created",
            "Deal - Expected close date",
            "Deal - Organization",
            "Deal - Owner",
        ]);
        let p = plan(&pipedrive, DEALS, None, None).unwrap();
        for (k, col) in [
            ("id", "Deal - ID"),
            ("name", "Deal - Title"),
            ("amount", "Deal - Value"),
            ("currency", "Deal - Currency of Value"),
            ("status", "Deal - Status"),
            ("created", "Deal - Deal created"),
            ("close_date", "Deal - Expected close date"),
            ("company", "Deal - Organization"),
            ("owner", "Deal - Owner"),
        ] {
            assert_eq!(p.column_names(k), vec![col], "{k}");
        }
        let salesforce = headers(&[
            "OPPORTUNITY ID",
            "Opportunity Name",
            "Account Name",
            "Stage",
            "Created Date",
            "Opportunity Owner",
            "Won",
            "Closed",
        ]);
        let p = plan(&salesforce, DEALS, None, None).unwrap();
        assert_eq!(p.column_names("id"), vec!["OPPORTUNITY ID"]);
        assert_eq!(p.column_names("company"), vec!["Account Name"]);
        assert_eq!(p.column_names("owner"), vec!["Opportunity Owner"]);
        assert_eq!(p.column_names("won"), vec!["Won"]);
        assert_eq!(p.column_names("closed"), vec!["Closed"]);
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let err = plan(&headers(&["Name", "Stage"]), DEALS, None, None).unwrap_err();
        assert!(err.contains("deal id"), "{err}");
        let err = plan(&headers(&["ID", "Stage", "Amount"]), DEALS, None, None).unwrap_err();
        assert!(err.contains("created date"), "{err}");
    }

    #[test]
    fn an_explicit_mapping_reads_only_what_it_names() {
        let m = Mapping::parse(
            r#"
            [deals]
            id = "Opp #"
            stage = "Phase"
            created = "Opened"
            closed_reason = ["Why won", "Why lost"]
            properties = { "Lead Source" = "lead_source" }
            "#,
        )
        .unwrap();
        let h = headers(&[
            "opp #",
            "Phase",
            "Opened",
            "Why won",
            "Why lost",
            "Lead Source",
            "Amount",
        ]);
        let named = m.deals.explicit().unwrap();
        let p = plan(&h, DEALS, Some(&named), m.deals.properties.as_ref()).unwrap();
        assert_eq!(p.column_names("id"), vec!["opp #"], "case-insensitive");
        assert!(!p.has("amount"), "not named, not read");
        assert_eq!(p.properties, vec![(5, "lead_source".to_string())]);
        let cells = headers(&["1", "Demo", "2026-01-01", "", "price", "Web", "5"]);
        assert_eq!(p.cell(&cells, "closed_reason"), Some("price"));

        let err = plan(&headers(&["Opp #"]), DEALS, Some(&named), None).unwrap_err();
        assert!(err.contains("\"Phase\""), "{err}");
    }

    #[test]
    fn mapping_errors_have_positions_and_format_is_checked() {
        let err = Mapping::parse("[deals]\nid = \"x\"\nclose_dat = \"y\"\n").unwrap_err();
        assert!(err.starts_with("line 3, column 1:"), "{err}");
        assert!(err.contains("close_dat"), "{err}");
        let bad_zone = Mapping::parse("timezone = \"Mars/Base\"").unwrap();
        assert!(bad_zone.format().unwrap_err().contains("Mars/Base"));
        let bad_decimal = Mapping::parse("decimal = \";\"").unwrap();
        assert!(bad_decimal.format().is_err());
        let f =
            Mapping::parse("delimiter = \"tab\"\ndate_order = \"dmy\"\ndefault_currency = \"eur\"")
                .unwrap()
                .format()
                .unwrap();
        assert_eq!(f.delimiter, Some(b'\t'));
        assert_eq!(f.dates.order, DateOrder::Dmy);
        assert_eq!(f.default_currency, "EUR");
        assert_eq!(f.source, "csv");
        assert!(Mapping::parse("date_order = \"ymd\"").is_err());
    }

    #[test]
    fn the_shipped_mappings_parse() {
        for text in [
            include_str!("../../../assets/mappings/generic.toml"),
            include_str!("../../../assets/mappings/hubspot-export.toml"),
        ] {
            let m = Mapping::parse(text).unwrap();
            m.format().unwrap();
            assert!(m.deals.explicit().is_some());
        }
    }
}
