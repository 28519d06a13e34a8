//! The command-line contract (DESIGN section 6). Scripts rely on it: change it only with a
//! deprecation.

use crate::domain::DealStatus;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A terminal deal-review workstation: every deal teaches.
#[derive(Debug, Parser)]
#[command(name = "dealtrace", version, about, long_about = None)]
pub struct Cli {
    /// The cache file (default: the platform data dir, dealtrace/cache.sqlite).
    #[arg(long, global = true, env = "DEALTRACE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The config file (default: the platform config dir, dealtrace/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Open the terminal UI on a freshly generated demo team history (no CRM, no config needed).
    #[arg(long)]
    pub demo: bool,

    /// What to do; without one, the terminal UI opens on the configured cache.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the process arguments, including the checks clap cannot express: `--demo` opens
    /// the UI, so it cannot be combined with a subcommand.
    pub fn parse_checked() -> Result<Cli, clap::Error> {
        Self::try_parse()?.checked()
    }

    /// Parses the given arguments like [`Cli::parse_checked`].
    pub fn parse_checked_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)?.checked()
    }

    fn checked(self) -> Result<Cli, clap::Error> {
        use clap::CommandFactory;
        if self.demo && self.command.is_some() {
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--demo opens the terminal UI and cannot be combined with a subcommand; use `dealtrace demo` to write a demo history into a cache",
            ));
        }
        Ok(self)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a demo team history (seeded, with planted patterns) into the cache.
    Demo(DemoArgs),
    /// List or show the cached deals.
    #[command(subcommand)]
    Deals(DealsCommand),
    /// Import deals from a CRM's export file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Sync deals from the CRM in the config (incremental unless --full); progress on stderr.
    Sync {
        /// Scan every deal instead of only what changed since the last sync.
        #[arg(long)]
        full: bool,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Every decision trace or review, for analysis elsewhere (stdout).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Open the terminal UI at a deal's post-mortem (resumes its draft, or amends its final
    /// review).
    Review {
        /// The deal's id, as `dealtrace deals list` shows it.
        deal_id: String,
    },
    /// Mine the team's history for patterns, with honest statistics (ranked table or JSON).
    Patterns(PatternsArgs),
    /// The lesson library: patterns promoted to lessons, curated, re-measured, and kept in
    /// git as TOML.
    #[command(subcommand)]
    Lessons(LessonsCommand),
    /// What the cache holds: counts per table, date range, last sync.
    Stats {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `dealtrace patterns`
#[derive(Debug, Clone, Default, Args)]
pub struct PatternsArgs {
    /// Print JSON: `{ "tested": m, "patterns": [...] , ...}`.
    #[arg(long)]
    pub json: bool,
    /// Only this outcome: slipped, won, lost, discount_pressure, stalled or decay.
    #[arg(long, value_name = "O")]
    pub outcome: Option<String>,
    /// Only populations about this stage (id or label).
    #[arg(long, value_name = "S")]
    pub stage: Option<String>,
    /// Fewest exposed (and unexposed) deals a candidate needs to be tested (default 20).
    #[arg(long, value_name = "N")]
    pub min_support: Option<u64>,
    /// False discovery rate patterns are surfaced at (default 0.10).
    #[arg(long, value_name = "Q")]
    pub fdr: Option<f64>,
    /// Benjamini–Yekutieli instead of Benjamini–Hochberg (valid under any dependence).
    #[arg(long)]
    pub by: bool,
}

/// A lesson's status, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LessonStatusArg {
    /// Suggested, not yet advising anyone.
    Proposed,
    /// Advising open deals.
    Active,
    /// No longer advising; kept for the record.
    Retired,
}

impl From<LessonStatusArg> for crate::domain::LessonStatus {
    fn from(s: LessonStatusArg) -> Self {
        match s {
            LessonStatusArg::Proposed => crate::domain::LessonStatus::Proposed,
            LessonStatusArg::Active => crate::domain::LessonStatus::Active,
            LessonStatusArg::Retired => crate::domain::LessonStatus::Retired,
        }
    }
}

/// `dealtrace lessons …`
#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// Every lesson with its status and latest verdict.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Only lessons with this status.
        #[arg(long, value_enum)]
        status: Option<LessonStatusArg>,
    },
    /// One lesson: its claim, trigger, patterns, evidence over time, change history, and how
    /// its recommendations went when followed and when not.
    Show {
        /// The lesson's id.
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a surfaced pattern a proposed lesson (PATTERN: its key, or its rank as
    /// `dealtrace patterns` prints it).
    Promote {
        /// The pattern's key or rank.
        pattern: String,
        /// What reps should do (default: a first draft written from the pattern).
        #[arg(long)]
        recommendation: Option<String>,
        /// Who promotes it (default: the config's reviewer, else the login name).
        #[arg(long)]
        by: Option<String>,
        /// Print the lesson as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a lesson's status: proposed, active (it advises open deals) or retired.
    Status {
        /// The lesson's id.
        id: String,
        /// The new status.
        #[arg(value_enum)]
        status: LessonStatusArg,
        /// Who changes it (default: the config's reviewer, else the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Edit a lesson's words, owner or tags (each edit is a new version in its history).
    Edit {
        /// The lesson's id.
        id: String,
        /// The claim.
        #[arg(long)]
        statement: Option<String>,
        /// What reps should do.
        #[arg(long)]
        recommendation: Option<String>,
        /// Who curates it.
        #[arg(long)]
        owner: Option<String>,
        /// Tags (repeat the flag; replaces the tags).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Who edits it (default: the config's reviewer, else the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Turn the lesson candidates of final reviews into proposed lessons (once each).
    FromReviews {
        /// Print the lessons proposed as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The active lessons' recommendations on the open deals as of now (each is recorded once
    /// per deal and lesson version, so its outcome can be measured later).
    Advise {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Re-measure every lesson on the cache now and record the evidence (every mining run
    /// does this too).
    Measure {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the library as TOML: to stdout, to FILE, or into a folder (one file per lesson).
    Export {
        /// A file, or an existing folder (default: stdout).
        path: Option<PathBuf>,
    },
    /// Merge a library file (or a folder of them) into the cache by lesson id. A lesson changed
    /// both in the file and here is reported and left as it is here, never overwritten.
    Import {
        /// A file or a folder of `.toml` files.
        path: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `dealtrace demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many deals to generate.
    #[arg(long, default_value_t = crate::demo::DemoSpec::DEFAULT_DEALS as u32, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    pub deals: u32,
    /// The random seed; the same seed gives byte-identical cache content.
    #[arg(long, default_value_t = crate::demo::DemoSpec::DEFAULT_SEED)]
    pub seed: u64,
    /// The day the history ends ("now" in the demo), as YYYY-MM-DD (default: 2026-11-23).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

/// `dealtrace export …`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every decision trace, by deal and time.
    Traces {
        /// One JSON object per line, or CSV with a header.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
    /// Every review, oldest first.
    Reviews {
        /// One JSON object per line, or CSV with a header.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
}

/// `--format` values of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// JSON Lines: one object per line, nested fields as JSON.
    Jsonl,
    /// CSV with a header row; nested fields (state, reasons, lesson candidates) as JSON text.
    Csv,
}

/// `dealtrace import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import deals from any CRM's CSV export; re-importing updates, never duplicates.
    Csv {
        /// The deals file.
        file: PathBuf,
        /// A mapping file (TOML) naming the columns; see assets/mappings/generic.toml. Without
        /// one, common header names are recognised.
        #[arg(long, value_name = "FILE.toml")]
        mapping: Option<PathBuf>,
        /// A stage-history file (deal id, stage, entered at).
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// A contacts file (id, name, email, title, company, deal id, role).
        #[arg(long, value_name = "FILE")]
        contacts: Option<PathBuf>,
        /// An activities file (id, deal id, kind, time, body, contacts).
        #[arg(long, value_name = "FILE")]
        activities: Option<PathBuf>,
        /// Check the files and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary and every skipped row as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `dealtrace deals …`
#[derive(Debug, Subcommand)]
pub enum DealsCommand {
    /// The cached deals, newest first.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Only deals in this stage (id or label, case-insensitive).
        #[arg(long)]
        stage: Option<String>,
        /// Only deals of this owner (id, or part of the name or email).
        #[arg(long)]
        owner: Option<String>,
        /// Only open, won or lost deals.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// One deal with its field history, stakeholders and activities.
    Show {
        /// The deal's id (see `dealtrace deals list`).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `--status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Not closed.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

impl From<StatusArg> for DealStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Open => DealStatus::Open,
            StatusArg::Won => DealStatus::Won,
            StatusArg::Lost => DealStatus::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_forms() {
        let cli = Cli::try_parse_from([
            "dealtrace",
            "--db",
            "x.sqlite",
            "deals",
            "list",
            "--json",
            "--status",
            "won",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Deals(DealsCommand::List {
                json: true,
                status: Some(StatusArg::Won),
                ..
            }))
        ));
        let cli =
            Cli::try_parse_from(["dealtrace", "demo", "--deals", "10", "--seed", "7"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Demo(DemoArgs {
                deals: 10,
                seed: 7,
                ..
            }))
        ));
        assert!(Cli::try_parse_from(["dealtrace", "demo", "--deals", "0"]).is_err());
        let err = Cli::parse_checked_from(["dealtrace", "--demo", "stats"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            Cli::parse_checked_from(["dealtrace", "--demo"])
                .unwrap()
                .demo
        );
    }
}
