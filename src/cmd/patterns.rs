//! `dealtrace patterns`: mine the cache and print the ranked patterns.

use crate::domain::Pipeline;
use crate::domain::time::rfc3339;
use crate::patterns::build::{self, BuildOptions};
use crate::patterns::dataset::Dataset;
use crate::patterns::mine::{self, Insufficient, ModeratorSpec, Options, Pattern, Run};
use crate::patterns::multiple::FdrMethod;
use crate::signals::Skills;
use crate::signals::facts::DealFacts;
use crate::store::{self, Store};
use color_eyre::eyre::{Result, WrapErr};
use serde::Serialize;
use std::io::Write;

/// What `patterns` was asked for: the command line's arguments.
pub type Request = crate::cli::PatternsArgs;

/// The miner's options from a request and the skills.
pub fn options(request: &Request, skills: &Skills) -> Options {
    let mut o = Options {
        outcome: request.outcome.clone(),
        stage: request.stage.clone(),
        ..Options::default()
    };
    if let Some(n) = request.min_support {
        o.support.group = n;
    }
    if let Some(q) = request.fdr {
        o.fdr = q;
    }
    if request.by {
        o.method = FdrMethod::BenjaminiYekutieli;
    }
    o.moderators = skills
        .moderators()
        .iter()
        .map(|m| ModeratorSpec {
            signal: m.signal().to_owned(),
            label: m.label().to_owned(),
            exposures: m.exposures().to_vec(),
        })
        .collect();
    o
}

/// What the dataset is built from: every deal's facts, the pipelines and the cutoff.
pub struct Source {
    /// Every live deal's history.
    pub deals: Vec<DealFacts>,
    /// Pipelines (which stages are open, won, lost).
    pub pipelines: Vec<Pipeline>,
    /// The data cutoff (Unix seconds): the demo's "now" in a demo cache, else the newest fact.
    pub cutoff: i64,
}

/// Reads what the dataset is built from.
pub fn source(store: &Store, skills: &Skills) -> Result<Source> {
    let conn = store.conn();
    let deals = store::facts::load(conn, skills).wrap_err("reading the deals' history")?;
    let pipelines = store::pipelines::all(conn)?;
    let cutoff = match store::meta::get_instant(conn, store::meta::keys::DEMO_AS_OF)? {
        Some(t) => t.as_second(),
        None => build::newest_fact(&deals),
    };
    Ok(Source {
        deals,
        pipelines,
        cutoff,
    })
}

/// The miner's dataset from a source.
pub fn build_dataset(source: &Source, skills: &Skills) -> Dataset {
    build::build(
        &source.deals,
        &source.pipelines,
        skills,
        &BuildOptions::at(source.cutoff),
    )
}

/// Reads the cache into the miner's dataset.
pub fn dataset(store: &Store, skills: &Skills) -> Result<Dataset> {
    Ok(build_dataset(&source(store, skills)?, skills))
}

#[derive(Serialize)]
struct PopulationJson<'a> {
    key: &'a str,
    context: &'a str,
    units: usize,
    eligible: usize,
    window_open: usize,
    closed_before_landmark: usize,
}

#[derive(Serialize)]
struct InsufficientJson<'a> {
    count: usize,
    single_conditions: &'a [Insufficient],
}

#[derive(Serialize)]
struct RunJson<'a> {
    cutoff: String,
    tested: usize,
    tested_exceptions: usize,
    surfaced: usize,
    fdr: f64,
    populations: Vec<PopulationJson<'a>>,
    patterns: &'a [Pattern],
    set_aside: &'a [Pattern],
    insufficient: InsufficientJson<'a>,
}

/// Mines and prints.
pub fn print(store: &Store, skills: &Skills, request: &Request) -> Result<()> {
    let data = dataset(store, skills)?;
    let options = options(request, skills);
    let run = mine::mine(&data, &options);
    // Every mining run re-measures the lesson library, so its evidence stays current.
    let measured = super::lessons::remeasure_and_record(store, &data, jiff::Timestamp::now())?;
    let mut out = std::io::stdout().lock();
    if !request.json && !measured.is_empty() {
        let attention = measured
            .iter()
            .filter(|(_, e)| e.verdict.needs_attention())
            .count();
        eprintln!(
            "re-measured {} lesson(s): {attention} no longer hold as claimed (`dealtrace lessons list`)",
            measured.len()
        );
    }
    if request.json {
        let body = json_body(&data, &run, options.fdr);
        serde_json::to_writer_pretty(&mut out, &body)?;
        writeln!(out)?;
        return Ok(());
    }
    write_text(&mut out, &data, &run, options.fdr)?;
    Ok(())
}

fn json_body<'a>(data: &'a Dataset, run: &'a Run, fdr: f64) -> RunJson<'a> {
    RunJson {
        cutoff: rfc3339(crate::domain::time::from_unix(data.cutoff)),
        tested: run.tested,
        tested_exceptions: run.tested_exceptions,
        surfaced: run.patterns.len(),
        fdr,
        populations: data
            .populations
            .iter()
            .map(|p| PopulationJson {
                key: &p.key,
                context: &p.context,
                units: p.len(),
                eligible: p.eligible.count_ones(..),
                window_open: p.exclusions.window_open,
                closed_before_landmark: p.exclusions.closed_before_landmark,
            })
            .collect(),
        patterns: &run.patterns,
        set_aside: &run.set_aside,
        insufficient: InsufficientJson {
            count: run.insufficient_count,
            single_conditions: &run.insufficient,
        },
    }
}

fn write_text(out: &mut impl Write, data: &Dataset, run: &Run, fdr: f64) -> Result<()> {
    writeln!(
        out,
        "{} patterns tested ({} exception tests), {} surfaced at FDR {fdr}; data up to {}.",
        crate::format::grouped(run.tested as i64),
        crate::format::grouped(run.tested_exceptions as i64),
        run.patterns.len(),
        rfc3339(crate::domain::time::from_unix(data.cutoff)),
    )?;
    if run.patterns.is_empty() {
        writeln!(
            out,
            "No pattern passes the surfacing rule; {} candidates lacked the data to be tested.",
            run.insufficient_count
        )?;
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>3}  {:<9} {:>6} {:>13} {:>7} {:>6}  {:<8}  sentence",
        "#", "kind", "effect", "95% CI", "q", "n", "tier"
    )?;
    for (i, p) in run.patterns.iter().enumerate() {
        writeln!(
            out,
            "{:>3}  {:<9} {:>6.2} {:>13} {:>7.4} {:>6}  {:<8}  {}",
            i + 1,
            p.kind.as_str(),
            p.effect,
            format!("{:.2}–{:.2}", p.ci_low, p.ci_high),
            p.q,
            p.n_exposed,
            p.tier,
            p.sentence
        )?;
    }
    if !run.set_aside.is_empty() {
        writeln!(out)?;
        writeln!(out, "Set aside ({}):", run.set_aside.len())?;
        for p in &run.set_aside {
            let why: Vec<&str> = p
                .flags
                .iter()
                .map(String::as_str)
                .filter(|f| *f == "redundant" || *f == "simpson_reversal")
                .collect();
            writeln!(out, "  [{}] {}", why.join(", "), p.sentence)?;
        }
    }
    Ok(())
}
