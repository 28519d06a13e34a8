//! CSV import of any CRM's export: `dealtrace import csv FILE [--mapping FILE.toml]`.
//!
//! The pipeline is bytes → text ([`text`]: encoding, delimiter, line numbers) → records
//! ([`mapping`] says which column is which field, [`rows`] turns cells into values with
//! [`values`]) → the cache ([`apply`], in one transaction). Everything up to the last step is
//! pure: plain data in, plain data and per-row issues out.
//!
//! Rules the import keeps:
//! - **Idempotent.** Ids are the CRM's, every write is an upsert, and nothing depends on the
//!   clock: importing the same files twice leaves the cache byte-for-byte as it was; importing
//!   an edited file updates those deals. Deals missing from a later file are left as they are
//!   (an export may be a filtered view).
//! - **Bad rows are skipped, not fatal.** Each is reported with its file, line (the header is
//!   line 1) and reason, and the rest is imported. If more than half of a file's rows are bad,
//!   nothing is imported: the mapping is probably wrong.
//! - **Other sources are never touched.** A deal id that the cache holds from another source
//!   stops the import before anything is written.
//! - **History is not invented.** With a stage-history file, its entries are the deal's stage
//!   history. Without one, a closed deal gets one entry, its closing stage on its close date;
//!   an open deal gets none (when it entered its stage is unknown); amount and close-date
//!   histories are never synthesised, so no slip is invented. History already in the cache is
//!   kept and only extended.

pub mod apply;
pub mod mapping;
pub mod rows;
pub mod text;
pub mod values;

use crate::store::{Store, StoreError};
use apply::{ApplyError, Created, Input};
use mapping::{ACTIVITIES, CONTACTS, Columns, DEALS, Format, HISTORY, Mapping, Properties, Schema};
use rows::{Parsed, RowIssue};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The deals file.
    pub deals: PathBuf,
    /// The mapping file, if any (else the built-in header recognition).
    pub mapping: Option<PathBuf>,
    /// A stage-history file (overrides the mapping's `[history] file`).
    pub history: Option<PathBuf>,
    /// A contacts file (overrides the mapping's `[contacts] file`).
    pub contacts: Option<PathBuf>,
    /// An activities file (overrides the mapping's `[activities] file`).
    pub activities: Option<PathBuf>,
    /// Check everything and report, but write nothing.
    pub dry_run: bool,
}

/// One file that was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// `deals`, `history`, `contacts` or `activities`.
    pub kind: &'static str,
    /// The path as given.
    pub path: String,
    /// The encoding it was read in.
    pub encoding: &'static str,
    /// The delimiter it was split on.
    pub delimiter: String,
    /// Data rows (the header not counted).
    pub rows: usize,
    /// Rows skipped.
    pub skipped: usize,
}

/// Deal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DealCounts {
    /// Not in the cache before.
    pub new: usize,
    /// In the cache and changed.
    pub updated: usize,
    /// In the cache exactly as the file has them.
    pub unchanged: usize,
}

/// The outcome of an import (the `--json` shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The source name stored on the deals.
    pub source: String,
    /// True when the import checked everything and wrote nothing (`--dry-run`, or refused).
    pub dry_run: bool,
    /// The files read.
    pub files: Vec<FileReport>,
    /// Data rows in the deals file.
    pub rows_read: usize,
    /// Deals new, updated and unchanged.
    pub deals: DealCounts,
    /// Rows skipped, over all files.
    pub skipped_rows: usize,
    /// Stage-history entries the imported deals have after the import.
    pub stage_entries: usize,
    /// Contacts written.
    pub contacts: usize,
    /// Deal–contact links written.
    pub stakeholders: usize,
    /// Activities written.
    pub activities: usize,
    /// Records created because the cache did not know them.
    pub created: Created,
    /// Every skipped row with its reason.
    pub bad_rows: Vec<RowIssue>,
    /// Caveats on rows that were imported.
    pub notes: Vec<RowIssue>,
}

/// Why an import did not happen. Messages are one sentence saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}; check the path")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The mapping file is invalid.
    #[error(
        "the mapping file {path} is not valid ({message}); see assets/mappings/generic.toml for \
         every key"
    )]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong, with its line and column when the TOML itself is.
        message: String,
    },
    /// A file cannot be read as the mapping describes it (encoding, header, columns).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// More than half of a file's rows are bad; nothing was imported.
    #[error(
        "{bad} of {rows} rows in {path} are bad (first: line {first_line}: {first_reason}), so \
         nothing was imported; check the mapping (column names, date_order, decimal, encoding)"
    )]
    TooManyBad {
        /// The file.
        path: String,
        /// Bad rows.
        bad: usize,
        /// All rows.
        rows: usize,
        /// The first bad row's line.
        first_line: u64,
        /// Its reason.
        first_reason: String,
        /// What the import found, for `--json`.
        report: Box<ImportReport>,
    },
    /// A deal id in the file belongs to another source in the cache.
    #[error(
        "deal {id} (line {line} of {path}) is already in the cache from source {theirs:?}, not \
         {ours:?}, so nothing was imported; import into another cache (--db PATH) or set `source \
         = {theirs:?}` in the mapping if the file really is that CRM's export"
    )]
    SourceClash {
        /// The deal.
        id: String,
        /// Its line.
        line: u64,
        /// The deals file.
        path: String,
        /// The source in the cache.
        theirs: String,
        /// The import's source.
        ours: String,
    },
    /// The cache failed.
    #[error("cannot write the import to the cache: {0}")]
    Store(#[from] StoreError),
    /// Used to roll a dry run back; never leaves [`import`].
    #[error("dry run")]
    DryRun(Box<ImportReport>),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// A file read into a table.
struct Loaded {
    table: text::Table,
    report: FileReport,
}

fn load(
    kind: &'static str,
    path: &Path,
    encoding: Option<&str>,
    delimiter: Option<u8>,
) -> Result<Loaded, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file_err = |message: String| ImportError::File {
        path: path.to_owned(),
        message,
    };
    let decoded = text::decode(&bytes, encoding).map_err(file_err)?;
    let table = text::read_table(&decoded.text, delimiter).map_err(file_err)?;
    let report = FileReport {
        kind,
        path: path.display().to_string(),
        encoding: decoded.encoding,
        delimiter: match table.delimiter {
            b'\t' => "tab".to_owned(),
            d => (d as char).to_string(),
        },
        rows: table.rows.len(),
        skipped: 0,
    };
    Ok(Loaded { table, report })
}

fn plan_for(
    loaded: &Loaded,
    path: &Path,
    schema: Schema,
    explicit: Option<Vec<(&'static str, Option<&Columns>)>>,
    properties: Option<&Properties>,
) -> Result<mapping::Plan, ImportError> {
    mapping::plan(
        &loaded.table.headers,
        schema,
        explicit.as_deref(),
        properties,
    )
    .map_err(|message| ImportError::File {
        path: path.to_owned(),
        message,
    })
}

/// Reads the mapping (or the built-in default).
pub fn load_mapping(path: Option<&Path>) -> Result<Mapping, ImportError> {
    let Some(path) = path else {
        return Ok(Mapping::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    Mapping::parse(&text).map_err(|message| ImportError::Mapping {
        path: path.to_owned(),
        message,
    })
}

/// An extra file's path: the command line's, else the mapping's (relative to the mapping).
fn extra_path(
    flag: Option<&PathBuf>,
    in_mapping: Option<&PathBuf>,
    mapping: Option<&Path>,
) -> Option<PathBuf> {
    flag.cloned().or_else(|| {
        let file = in_mapping?;
        Some(match mapping {
            Some(m) => mapping::relative_to(m, file),
            None => file.clone(),
        })
    })
}

/// What the extra files share: the format, the mapping's location, the imported deal ids.
struct Extras<'a> {
    format: &'a Format,
    encoding: Option<&'a str>,
    mapping: Option<&'a Path>,
    known: &'a std::collections::HashSet<&'a str>,
}

/// An extra file, read and parsed.
struct Extra<T> {
    report: FileReport,
    parsed: Parsed<T>,
}

/// The first file with more than half its rows bad.
struct Refusal {
    path: String,
    bad: usize,
    rows: usize,
    first_line: u64,
    first_reason: String,
}

/// What the files add up to: their reports, skipped rows and notes, and whether to refuse.
#[derive(Default)]
struct Tally {
    files: Vec<FileReport>,
    bad_rows: Vec<RowIssue>,
    notes: Vec<RowIssue>,
    refusal: Option<Refusal>,
}

impl Tally {
    /// Adds a file and returns its good records.
    fn add<T>(&mut self, report: FileReport, parsed: Parsed<T>) -> Vec<T> {
        // More than half of a file's rows bad: the mapping is probably wrong, so import nothing.
        if self.refusal.is_none()
            && parsed.issues.len() * 2 > parsed.rows
            && let Some(first) = parsed.issues.first()
        {
            self.refusal = Some(Refusal {
                path: report.path.clone(),
                bad: parsed.issues.len(),
                rows: parsed.rows,
                first_line: first.line,
                first_reason: first.reason.clone(),
            });
        }
        self.bad_rows.extend(parsed.issues);
        self.notes.extend(parsed.notes);
        self.files.push(report);
        parsed.records
    }
}

/// Parses an extra file's table into records.
type ParseFn<T> =
    fn(&text::Table, &mapping::Plan, &Format, &str, &std::collections::HashSet<&str>) -> Parsed<T>;

impl Extras<'_> {
    /// Reads one extra file, if there is one, with its section's encoding and delimiter.
    fn read<T>(
        &self,
        kind: &'static str,
        path: Option<&Path>,
        (encoding, delimiter): (Option<&String>, Option<&String>),
        schema: Schema,
        explicit: Option<Vec<(&'static str, Option<&Columns>)>>,
        parse: ParseFn<T>,
    ) -> Result<Option<Extra<T>>, ImportError> {
        let Some(path) = path else { return Ok(None) };
        let delimiter = match delimiter {
            Some(d) => {
                mapping::parse_delimiter(Some(d)).map_err(|message| ImportError::Mapping {
                    path: self.mapping.unwrap_or(Path::new("(built-in)")).to_owned(),
                    message,
                })?
            }
            None => self.format.delimiter,
        };
        let encoding = encoding.map(String::as_str).or(self.encoding);
        let mut loaded = load(kind, path, encoding, delimiter)?;
        let plan = plan_for(&loaded, path, schema, explicit, None)?;
        let name = path.display().to_string();
        let parsed = parse(&loaded.table, &plan, self.format, &name, self.known);
        loaded.report.skipped = parsed.issues.len();
        Ok(Some(Extra {
            report: loaded.report,
            parsed,
        }))
    }
}

/// The files read and checked, ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The report so far: files, rows, skipped rows.
    pub report: ImportReport,
    source: String,
    default_pipeline: String,
    deals_file: String,
    deals: Vec<rows::DealRow>,
    history: Option<Vec<rows::HistoryRow>>,
    contacts: Vec<rows::ContactRow>,
    activities: Vec<rows::ActivityRow>,
    activities_file: String,
}

/// Imports the files into the cache in one transaction, per the module's rules.
pub fn import(store: &mut Store, req: &ImportRequest) -> Result<ImportReport, ImportError> {
    let prepared = prepare(req)?;
    write(store, &prepared, req.dry_run)
}

/// Reads, decodes and parses every file, without touching the cache. Refuses files it cannot
/// read and files with more than half their rows bad.
pub fn prepare(req: &ImportRequest) -> Result<Prepared, ImportError> {
    let mapping_path = req.mapping.as_deref();
    let m = load_mapping(mapping_path)?;
    let format: Format = m.format().map_err(|message| ImportError::Mapping {
        path: mapping_path.map_or_else(|| PathBuf::from("(built-in)"), Path::to_owned),
        message,
    })?;
    let enc = m.encoding.as_deref();

    let deals_path = &req.deals;
    let mut deals_file = load("deals", deals_path, enc, format.delimiter)?;
    let deal_plan = plan_for(
        &deals_file,
        deals_path,
        DEALS,
        m.deals.explicit(),
        m.deals.properties.as_ref(),
    )?;
    let deals_name = deals_path.display().to_string();
    let deals = rows::deals(&deals_file.table, &deal_plan, &format, &deals_name);
    deals_file.report.skipped = deals.issues.len();
    let known = rows::deal_ids(&deals.records);
    // Extra files whose own dates do not settle day-first or month-first read them as the
    // deals file did.
    let mut extra_format = format.clone();
    extra_format.dates.order = deals.date_order;

    let ctx = Extras {
        format: &extra_format,
        encoding: enc,
        mapping: mapping_path,
        known: &known,
    };
    let section = m.history.clone().unwrap_or_default();
    let history = ctx.read(
        "history",
        extra_path(req.history.as_ref(), section.file.as_ref(), mapping_path).as_deref(),
        (section.encoding.as_ref(), section.delimiter.as_ref()),
        HISTORY,
        section.explicit(),
        rows::history,
    )?;
    let section = m.contacts.clone().unwrap_or_default();
    let contacts = ctx.read(
        "contacts",
        extra_path(req.contacts.as_ref(), section.file.as_ref(), mapping_path).as_deref(),
        (section.encoding.as_ref(), section.delimiter.as_ref()),
        CONTACTS,
        section.explicit(),
        rows::contacts,
    )?;
    let section = m.activities.clone().unwrap_or_default();
    let activities = ctx.read(
        "activities",
        extra_path(req.activities.as_ref(), section.file.as_ref(), mapping_path).as_deref(),
        (section.encoding.as_ref(), section.delimiter.as_ref()),
        ACTIVITIES,
        section.explicit(),
        rows::activities,
    )?;

    let rows_read = deals.rows;
    let mut tally = Tally::default();
    let deals = tally.add(deals_file.report, deals);
    let history = history.map(|e| tally.add(e.report, e.parsed));
    let contacts = contacts
        .map(|e| tally.add(e.report, e.parsed))
        .unwrap_or_default();
    let activities_file = activities
        .as_ref()
        .map(|e| e.report.path.clone())
        .unwrap_or_default();
    let activities = activities
        .map(|e| tally.add(e.report, e.parsed))
        .unwrap_or_default();

    let report = ImportReport {
        source: format.source.clone(),
        dry_run: req.dry_run,
        rows_read,
        skipped_rows: tally.bad_rows.len(),
        files: tally.files,
        deals: DealCounts::default(),
        stage_entries: 0,
        contacts: 0,
        stakeholders: 0,
        activities: 0,
        created: Created::default(),
        bad_rows: tally.bad_rows,
        notes: tally.notes,
    };
    if let Some(r) = tally.refusal {
        return Err(ImportError::TooManyBad {
            path: r.path,
            bad: r.bad,
            rows: r.rows,
            first_line: r.first_line,
            first_reason: r.first_reason,
            report: Box::new(ImportReport {
                dry_run: true,
                ..report
            }),
        });
    }

    Ok(Prepared {
        report,
        source: format.source,
        default_pipeline: format.default_pipeline,
        deals_file: deals_name,
        deals,
        history,
        contacts,
        activities,
        activities_file,
    })
}

/// Writes prepared records in one transaction (rolled back when `dry_run`), and completes the
/// report with what changed.
pub fn write(
    store: &mut Store,
    prepared: &Prepared,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let p = prepared;
    let input = Input {
        source: &p.source,
        default_pipeline: &p.default_pipeline,
        deals: &p.deals,
        history: p.history.as_deref(),
        contacts: &p.contacts,
        activities: &p.activities,
        activities_file: &p.activities_file,
    };
    let outcome = store.transaction(|tx| {
        let written = apply::apply(tx, &input).map_err(|e| match e {
            ApplyError::Store(e) => ImportError::Store(e),
            ApplyError::Clash { id, line, theirs } => ImportError::SourceClash {
                id,
                line,
                path: p.deals_file.clone(),
                theirs,
                ours: p.source.clone(),
            },
        })?;
        let mut report = p.report.clone();
        report.dry_run = dry_run;
        report.deals = DealCounts {
            new: written.deals_new,
            updated: written.deals_updated,
            unchanged: written.deals_unchanged,
        };
        report.stage_entries = written.stage_entries;
        report.contacts = written.contacts;
        report.stakeholders = written.stakeholders;
        report.activities = written.activities;
        report.created = written.created;
        report.notes.extend(written.notes);
        if dry_run {
            // An error rolls the transaction back; the report rides along.
            return Err(ImportError::DryRun(Box::new(report)));
        }
        Ok(report)
    });
    match outcome {
        Err(ImportError::DryRun(report)) => Ok(*report),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deals::tests::seeded;

    fn request(dir: &Path, csv: &str) -> ImportRequest {
        let path = dir.join("deals.csv");
        std::fs::write(&path, csv).unwrap();
        ImportRequest {
            deals: path,
            ..ImportRequest::default()
        }
    }

    fn count(store: &Store, table: &str) -> i64 {
        store
            .conn()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    const CSV: &str = "id,name,stage,amount,created,owner,company\n\
                       n1,One,Demo,10,2026-01-01,Ada Byron,Acme\n\
                       n2,Two,Closed Won,20,2026-01-02,Grace Hopper,Initech\n";

    #[test]
    fn importing_twice_changes_nothing_and_links_known_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = seeded(0); // pipeline "default" (Sales), owner o1 Ada Byron, company c1 Acme
        let req = request(dir.path(), CSV);
        let first = import(&mut store, &req).unwrap();
        assert_eq!(
            first.deals,
            DealCounts {
                new: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let n1 = crate::store::deals::get(store.conn(), &"n1".into())
            .unwrap()
            .unwrap();
        assert_eq!(n1.owner_id, Some("o1".into()), "known owner by name");
        assert_eq!(n1.company_id, Some("c1".into()), "known company by name");
        assert_eq!(
            n1.pipeline_id.as_str(),
            "sales-pipeline",
            "the default pipeline is new: the cache's is labelled \"Sales\""
        );
        assert_eq!(first.created.pipelines, 1);
        assert_eq!(first.created.owners, 1);
        assert_eq!(first.created.companies, 1);
        let second = import(&mut store, &req).unwrap();
        assert_eq!(second.deals.unchanged, 2);
        assert_eq!(second.created, Created::default());
        assert_eq!(count(&store, "deals"), 2);
    }

    #[test]
    fn a_clash_or_a_dry_run_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = seeded(2); // deals d0, d1 from source "test"
        let clash = request(
            dir.path(),
            "id,stage,created\nnew,Brand New Stage,2026-01-01\nd1,Demo,2026-01-01\n",
        );
        let err = import(&mut store, &clash).unwrap_err();
        assert!(
            matches!(&err, ImportError::SourceClash { id, line: 3, theirs, .. }
                if id == "d1" && theirs == "test"),
            "{err}"
        );
        assert_eq!(count(&store, "deals"), 2);
        assert_eq!(count(&store, "stages"), 2, "nothing appended");

        let mut dry = request(dir.path(), CSV);
        dry.dry_run = true;
        let report = import(&mut store, &dry).unwrap();
        assert!(report.dry_run);
        assert_eq!(report.deals.new, 2);
        assert_eq!(count(&store, "deals"), 2);
        assert_eq!(count(&store, "owners"), 1);
    }

    #[test]
    fn too_many_bad_rows_refuse_with_the_first_reason() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(
            dir.path(),
            "id,stage,created\n1,Demo,2026-01-01\n2,Demo,later\n3,Demo,never\n",
        );
        match prepare(&req) {
            Err(ImportError::TooManyBad {
                bad: 2,
                rows: 3,
                first_line: 3,
                first_reason,
                report,
                ..
            }) => {
                assert_eq!(first_reason, "created date \"later\" is not a date");
                assert_eq!(report.bad_rows.len(), 2);
                assert!(report.dry_run);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Exactly half is not "more than half".
        let half = request(
            dir.path(),
            "id,stage,created\n1,Demo,2026-01-01\n2,Demo,x\n",
        );
        assert_eq!(prepare(&half).unwrap().report.skipped_rows, 1);
    }
}
