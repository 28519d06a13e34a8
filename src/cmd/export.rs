//! `dealtrace export traces|reviews`: every field, stable snake_case keys, RFC 3339 instants.
//!
//! JSON Lines carries nested fields as JSON; CSV flattens them into JSON text in one column each,
//! so both load into a dataframe or a spreadsheet without a schema. The column and key names
//! are part of the command-line contract (README, "Exports").

use crate::cli::ExportFormat;
use crate::domain::{DecisionTrace, Review};
use crate::store::{self, Store};
use crate::text::sanitize_block;
use color_eyre::eyre::{Result, WrapErr};
use std::io::{IsTerminal, Write};

/// CSV columns of `export traces`, in order.
pub const TRACE_COLUMNS: [&str; 17] = [
    "id",
    "review_id",
    "deal_id",
    "at",
    "stage_id",
    "state",
    "actor",
    "action",
    "recommendation_lesson_id",
    "recommendation_text",
    "rationale",
    "expected_outcome",
    "expected_by",
    "actual_outcome",
    "followed",
    "created_at",
    "updated_at",
];

/// CSV columns of `export reviews`, in order.
pub const REVIEW_COLUMNS: [&str; 12] = [
    "id",
    "deal_id",
    "reviewer",
    "created_at",
    "updated_at",
    "status",
    "outcome",
    "primary_reason",
    "reasons",
    "notes",
    "lesson_candidates",
    "revision",
];

/// Writes every decision trace to stdout.
pub(super) fn traces(store: &Store, format: ExportFormat) -> Result<()> {
    let mut out = Output::new(format, &TRACE_COLUMNS)?;
    store::traces::each(store.conn(), |t| out.record(&t, || trace_row(&t)))
        .wrap_err("cannot export the traces")?;
    out.finish()
}

/// Writes every review to stdout.
pub(super) fn reviews(store: &Store, format: ExportFormat) -> Result<()> {
    let mut out = Output::new(format, &REVIEW_COLUMNS)?;
    for r in store::reviews::all(store.conn()).wrap_err("cannot read the reviews")? {
        out.record(&r, || review_row(&r))?;
    }
    out.finish()
}

/// Stdout as JSON Lines or CSV. Text typed by people (and CRM text quoted in it) could carry
/// escape sequences: JSON escapes them anyway; CSV cells are made inert when stdout is a
/// terminal, and left byte-exact when it is a file or a pipe.
enum Output {
    Jsonl(std::io::BufWriter<std::io::Stdout>),
    Csv {
        // Boxed: the CSV writer carries its own buffer, and the output lives once per export.
        writer: Box<csv::Writer<std::io::Stdout>>,
        terminal: bool,
    },
}

impl Output {
    fn new(format: ExportFormat, columns: &[&str]) -> Result<Output> {
        let stdout = std::io::stdout();
        Ok(match format {
            ExportFormat::Jsonl => Output::Jsonl(std::io::BufWriter::new(stdout)),
            ExportFormat::Csv => {
                let terminal = stdout.is_terminal();
                // csv buffers on its own. The header is written even for an empty export, so
                // readers always see the schema.
                let mut writer = Box::new(csv::Writer::from_writer(stdout));
                writer
                    .write_record(columns)
                    .wrap_err("cannot write to stdout")?;
                Output::Csv { writer, terminal }
            }
        })
    }

    fn record<T: serde::Serialize>(
        &mut self,
        value: &T,
        row: impl FnOnce() -> Vec<String>,
    ) -> Result<()> {
        match self {
            Output::Jsonl(out) => {
                serde_json::to_writer(&mut *out, value).wrap_err("cannot write to stdout")?;
                out.write_all(b"\n").wrap_err("cannot write to stdout")?;
            }
            Output::Csv { writer, terminal } => {
                let mut cells = row();
                if *terminal {
                    cells = cells.iter().map(|c| sanitize_block(c)).collect();
                }
                writer
                    .write_record(&cells)
                    .wrap_err("cannot write to stdout")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Output::Jsonl(mut out) => out.flush(),
            Output::Csv { mut writer, .. } => writer.flush(),
        }
        .wrap_err("cannot write to stdout")
    }
}

fn instant(t: jiff::Timestamp) -> String {
    t.to_string()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn trace_row(t: &DecisionTrace) -> Vec<String> {
    vec![
        t.id.clone(),
        opt(t.review_id.as_deref()),
        t.deal_id.as_str().to_owned(),
        instant(t.at),
        opt(t.stage_id.as_ref().map(|s| s.as_str())),
        serde_json::to_string(&t.state).unwrap_or_default(),
        t.actor.clone(),
        t.action.clone(),
        opt(t.recommendation.as_ref().map(|r| r.lesson_id.as_str())),
        opt(t.recommendation.as_ref().map(|r| r.text.as_str())),
        t.rationale.clone(),
        t.expected_outcome.clone(),
        opt(t.expected_by.map(instant)),
        opt(t.actual_outcome.as_deref()),
        opt(t.followed),
        instant(t.created_at),
        instant(t.updated_at),
    ]
}

fn review_row(r: &Review) -> Vec<String> {
    vec![
        r.id.clone(),
        r.deal_id.as_str().to_owned(),
        r.reviewer.clone(),
        instant(r.created_at),
        instant(r.updated_at),
        r.status.as_str().to_owned(),
        opt(r.outcome.map(|o| o.as_str())),
        opt(r
            .reasons
            .iter()
            .find(|x| x.primary)
            .map(|x| x.code.as_str())),
        serde_json::to_string(&r.reasons).unwrap_or_default(),
        r.notes.clone(),
        serde_json::to_string(&r.lesson_candidates).unwrap_or_default(),
        r.revision.to_string(),
    ]
}
