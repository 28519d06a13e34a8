//! Skills: the declarative signal definitions of `assets/skills/*.toml`.
//!
//! A skills file tells dealtrace what to look for in a team's CRM data, in four sections:
//!
//! - **personas** (`[[personas]]`): who a stakeholder is, read from the job title the CRM holds;
//!   a persona with `live_days` also has a "live" signal;
//! - **phrase lists** (`[[phrases]]`): what an activity talks about, read from its text
//!   (competitor names, discount requests, business cases…);
//! - **segments** (`[[segments]]`): which company and deal properties split deals into
//!   comparable groups, which of them also define populations of their own and which the pattern
//!   engine stratifies by; a segment is categorical (one group per value) unless it is marked
//!   `numeric`, in which case the engine splits its values into thirds;
//! - **moderators** (`[[moderators]]`): the exceptions a team already suspects, named by signal,
//!   each tested against the exposures it lists.
//!
//! The file is versioned (`version = 1`) and every table is checked strictly
//! (`deny_unknown_fields`), so a typo is an error with its line rather than a persona silently
//! missing. Every rule is checked when the file is parsed and reported as `file:line:column:
//! message` ([`SkillsError::Invalid`]): ids are snake_case and unique, lists are not empty, a
//! segment never reads a property the CRM sets when the deal closes ([`POST_CLOSE_PROPERTIES`]),
//! and every signal a moderator names is well formed and refers to something the file defines.
//!
//! # Matching titles and text
//!
//! A title or an activity text and every pattern or phrase go through [`normalize`]: lower case,
//! every run of characters that are not letters or digits becomes one space, and the filler
//! words `of`, `and` and `the` are dropped ("VP, Finance & Operations" → `vp finance
//! operations`). A persona matches a title, and a phrase list a text, when one of its patterns
//! occurs as a run of whole words and none of its `exclude` patterns does. Whole words keep
//! "CTO" out of "Director", "Office" out of "Officer" and "Closely" out of "disclosed".
//! Patterns are compiled at parse time, so [`Skills::personas_of`] costs one normalisation of the
//! title plus a substring search per pattern, and [`Skills::phrase_hits`] one lower-casing of the
//! text plus a hash lookup per word, whatever the number of phrases.
//!
//! # Signal names
//!
//! Moderators name signals as text. The forms are `single_threaded`, `slipped_before`,
//! `engaged:<persona>`, `live:<persona>` (the persona needs `live_days`), `mentioned:<phrase
//! list>`, `stage_engaged:<persona>`, `stage_mentioned:<phrase list>` and `<segment>=<value>`,
//! where the value of a numeric segment is one of its thirds, [`NUMERIC_BANDS`].
//! This module checks the names; what each signal means as of a point in time is defined where
//! signals are computed.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use toml::Spanned;

/// The skills file shipped with dealtrace.
pub const BUILTIN: &str = include_str!("../../assets/skills/default.toml");

/// The name the built-in file is reported under.
const BUILTIN_NAME: &str = "assets/skills/default.toml (built in)";

/// The only format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The most phrase lists a file may define: [`Skills::phrase_hits`] answers with one bit per list
/// in a `u64`.
pub const MAX_PHRASE_LISTS: usize = 64;

/// The most personas a file may define: the signals hold one bit per persona in a `u64`
/// (a contact's personas, and the engaged and live sets of a deal), so a 65th would share the
/// first one's bit.
pub const MAX_PERSONAS: usize = 64;

/// The values of a numeric segment, lowest third first: a signal names one as
/// `<segment>=<band>`, and the pattern engine's selectors are named the same way.
pub const NUMERIC_BANDS: [&str; 3] = ["low", "mid", "high"];

/// Properties the CRM records when a deal closes, or that hold the deal's current state (stage,
/// amount, close date); a segment on one of them would leak the outcome into the pattern, so a
/// segment naming one (in any letter case) is refused.
pub const POST_CLOSE_PROPERTIES: [&str; 12] = [
    "closed_reason",
    "closed_reason_code",
    "closed_lost_reason",
    "closed_won_reason",
    "hs_closed_amount",
    "closedate",
    "hs_is_closed",
    "hs_is_closed_won",
    "dealstage",
    "hs_deal_stage_probability",
    "amount",
    "close_value",
];

/// Words that carry no meaning in a title, dropped so that "VP of Engineering" is "VP
/// Engineering" and "Finance & Operations" is "Finance Operations".
const FILLER_WORDS: [&str; 3] = ["of", "and", "the"];

/// The signal kinds written `<kind>:<persona id>`.
const PERSONA_SIGNAL_KINDS: [&str; 3] = ["engaged", "live", "stage_engaged"];

/// The signal kinds written `<kind>:<phrase list id>`.
const PHRASE_SIGNAL_KINDS: [&str; 2] = ["mentioned", "stage_mentioned"];

/// The signals that take no argument.
const PLAIN_SIGNALS: [&str; 2] = ["single_threaded", "slipped_before"];

/// Ids of the personas the built-in file defines and signals refer to.
///
/// A team's own skills file may leave any of them out; code that looks one up must cope with
/// [`Skills::persona`] returning `None`.
pub mod persona_ids {
    /// The chief technology executive.
    pub const CTO: &str = "cto";
    /// Engineering and IT leaders below the CTO (VP Engineering, CIO, IT Director…).
    pub const TECHNICAL_LEADER: &str = "technical_leader";
    /// Finance: the usual economic buyer (CFO, VP Finance, Controller…).
    pub const ECONOMIC_BUYER: &str = "economic_buyer";
    /// CEO, founders, COO, president.
    pub const EXECUTIVE: &str = "executive";
    /// Procurement and purchasing.
    pub const PROCUREMENT: &str = "procurement";
    /// Security (CISO, security leads).
    pub const SECURITY: &str = "security";
    /// Revenue / sales operations.
    pub const REVENUE_OPERATIONS: &str = "revenue_operations";
    /// Sales leadership.
    pub const SALES_LEADER: &str = "sales_leader";
}

/// Ids of the phrase lists the built-in file defines and signals refer to.
///
/// A team's own skills file may leave any of them out; code that looks one up must cope with
/// [`Skills::phrase_list`] returning `None`.
pub mod phrase_list_ids {
    /// Competitor names.
    pub const COMPETITOR: &str = "competitor";
    /// A discount request.
    pub const DISCOUNT: &str = "discount";
    /// A business case or ROI.
    pub const BUSINESS_CASE: &str = "business_case";
    /// A security review (questionnaire, pen test, SOC 2…).
    pub const SECURITY_REVIEW: &str = "security_review";
    /// Legal or procurement review (redlines, MSA…).
    pub const LEGAL: &str = "legal";
}

/// A kind of stakeholder, recognised by job-title patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    id: String,
    label: String,
    patterns: Vec<String>,
    exclude: Vec<String>,
    live_days: Option<u32>,
    /// `patterns` normalised and padded with a space each side, so that a plain substring search
    /// in a padded title is a whole-word match.
    match_needles: Vec<String>,
    /// `exclude`, compiled the same way.
    exclude_needles: Vec<String>,
}

impl Persona {
    /// Stable snake_case id (`economic_buyer`); signals and stored data refer to it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What people read ("Finance (economic buyer)").
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The title patterns as written in the file.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The exclusion patterns as written in the file.
    pub fn exclude(&self) -> &[String] {
        &self.exclude
    }

    /// How many days before a point in time an engagement keeps this persona "live" (`live_days`
    /// in the file); `None` when the persona has no live signal. Never zero.
    pub fn live_days(&self) -> Option<u32> {
        self.live_days
    }

    /// Whether a job title has this persona (see the module doc for the rules).
    pub fn matches(&self, title: &str) -> bool {
        matches_padded(&padded(title), &self.match_needles, &self.exclude_needles)
    }
}

/// A named list of phrases, recognised in activity text (see the module doc for the rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseList {
    id: String,
    label: String,
    phrases: Vec<String>,
    exclude: Vec<String>,
    /// `phrases` compiled like [`Persona`]'s patterns.
    match_needles: Vec<String>,
    /// `exclude`, compiled the same way.
    exclude_needles: Vec<String>,
}

impl PhraseList {
    /// Stable snake_case id (`competitor`); signals refer to it (`mentioned:competitor`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What people read ("Competitor named").
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The phrases as written in the file.
    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    /// The exclusion phrases as written in the file.
    pub fn exclude(&self) -> &[String] {
        &self.exclude
    }

    /// Whether a text matches this list. Checking many texts against every list is faster with
    /// [`Skills::phrase_hits`], which gives the same answers.
    pub fn matches(&self, text: &str) -> bool {
        matches_padded(&padded(text), &self.match_needles, &self.exclude_needles)
    }
}

/// Where a segment's property lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentSource {
    /// The deal's company: a column (`industry`, `size_band`, `buying_center`) or an extra
    /// company property copied into the cache.
    Company,
    /// The deal itself: an extra deal property copied into the cache.
    Deal,
}

impl SegmentSource {
    /// The name the file uses (`company`, `deal`).
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentSource::Company => "company",
            SegmentSource::Deal => "deal",
        }
    }
}

/// A segment dimension: a company or deal property that the pattern engine may select on,
/// either categorical (`buying_center = engineering`) or numeric (`revenue` in its low third).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    id: String,
    label: String,
    source: SegmentSource,
    property: String,
    numeric: bool,
    population: bool,
    confounder: bool,
}

impl Segment {
    /// Stable snake_case id (`buying_center`); signals name a value as `<id>=<value>`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What people read ("Buying center").
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the property is the company's or the deal's.
    pub fn source(&self) -> SegmentSource {
        self.source
    }

    /// The property's name as the cache holds it: for a company, `industry`, `size_band`,
    /// `buying_center` or the name of an extra company property; for a deal, the name of an
    /// extra deal property. Never one of [`POST_CLOSE_PROPERTIES`].
    pub fn property(&self) -> &str {
        &self.property
    }

    /// Whether the values are numbers, split into thirds ([`NUMERIC_BANDS`]) rather than
    /// taken one by one. A value that does not read as a finite number counts as missing.
    pub fn numeric(&self) -> bool {
        self.numeric
    }

    /// Whether each value of this segment also defines a population of its own ("in
    /// engineering-led accounts"). Never true for a numeric segment.
    pub fn population(&self) -> bool {
        self.population
    }

    /// Whether the pattern engine stratifies by this segment (Mantel–Haenszel).
    pub fn confounder(&self) -> bool {
        self.confounder
    }
}

/// An exception hypothesis held before looking at the data: the effect of an exposure may not
/// hold when this signal is present (an interaction test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderator {
    signal: String,
    label: String,
    exposures: Vec<String>,
}

impl Moderator {
    /// The moderating signal's name (`mentioned:business_case`; see the module doc).
    pub fn signal(&self) -> &str {
        &self.signal
    }

    /// How the exception reads after "unless" ("a business case was anchored earlier").
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The exposure signals this moderator is tested against; empty means every signal.
    pub fn exposures(&self) -> &[String] {
        &self.exposures
    }
}

/// A parsed and checked skills file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skills {
    source_name: String,
    personas: Vec<Persona>,
    phrase_lists: Vec<PhraseList>,
    segments: Vec<Segment>,
    moderators: Vec<Moderator>,
    /// Every phrase list's phrases, by first word (see [`Skills::phrase_hits`]).
    phrase_index: HashMap<String, Vec<PhraseNeedle>>,
}

/// One compiled phrase (or exclusion) of one phrase list, filed under its first word.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PhraseNeedle {
    /// The normalised words after the first.
    rest: Vec<String>,
    /// The list's bit in [`Skills::phrase_hits`].
    bit: u64,
    /// Whether a match excludes the list rather than matching it.
    exclude: bool,
}

/// Why a skills file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SkillsError {
    /// The file could not be read.
    #[error("cannot read the skills file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has a key this version does not know, or breaks a rule.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file (or the name the text was given).
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem, in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// The file as written; spans are kept so that rule violations found after parsing can still
/// name their line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<u32>,
    #[serde(default)]
    personas: Vec<RawPersona>,
    #[serde(default)]
    phrases: Vec<RawPhraseList>,
    #[serde(default)]
    segments: Vec<RawSegment>,
    #[serde(default)]
    moderators: Vec<RawModerator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersona {
    id: Spanned<String>,
    label: Spanned<String>,
    // Defaulted so that a missing list gets the same "needs at least one pattern" message, at the
    // persona's id, as an empty one.
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    live_days: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhraseList {
    id: Spanned<String>,
    label: Spanned<String>,
    // Defaulted for the same reason as `RawPersona::patterns`.
    #[serde(default)]
    phrases: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    id: Spanned<String>,
    label: Spanned<String>,
    source: SegmentSource,
    property: Spanned<String>,
    #[serde(default)]
    numeric: bool,
    // Spanned so that a numeric segment's refused `population = true` is reported at its value.
    population: Option<Spanned<bool>>,
    #[serde(default)]
    confounder: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModerator {
    signal: Spanned<String>,
    label: Spanned<String>,
    #[serde(default)]
    exposures: Vec<Spanned<String>>,
}

impl Skills {
    /// The skills shipped with dealtrace.
    pub fn builtin() -> Skills {
        // A unit test parses the asset, so this cannot fail in a build that passed its tests.
        Skills::parse(BUILTIN, BUILTIN_NAME).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads and checks the skills file at `path`.
    pub fn load(path: &Path) -> Result<Skills, SkillsError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SkillsError::Read {
            path: name.clone(),
            source,
        })?;
        Skills::parse(&text, &name)
    }

    /// The skills file at `path` ([`Skills::load`]), or the built-in skills when there is none.
    pub fn load_or_builtin(path: Option<&Path>) -> Result<Skills, SkillsError> {
        match path {
            Some(path) => Skills::load(path),
            None => Ok(Skills::builtin()),
        }
    }

    /// The skills the configuration names (`[skills] file`), or the built-in skills.
    pub fn from_config(config: &crate::config::Config) -> Result<Skills, SkillsError> {
        Skills::load_or_builtin(config.skills.file.as_deref())
    }

    /// Parses and checks skills text; `source_name` is the file name errors report.
    pub fn parse(text: &str, source_name: &str) -> Result<Skills, SkillsError> {
        let invalid = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            SkillsError::Invalid {
                file: source_name.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_owned(),
            )
        })?;
        if *raw.version.get_ref() != FORMAT_VERSION {
            return Err(invalid(
                raw.version.span().start,
                format!(
                    "skills format version {} is not known to this dealtrace, which reads \
                     version {FORMAT_VERSION}",
                    raw.version.get_ref()
                ),
            ));
        }

        let personas = check_personas(raw.personas, &invalid)?;
        let phrase_lists = check_phrase_lists(raw.phrases, &invalid)?;
        let segments = check_segments(raw.segments, &personas, &phrase_lists, &invalid)?;
        let defined = Defined {
            personas: &personas,
            phrase_lists: &phrase_lists,
            segments: &segments,
        };
        let moderators = check_moderators(raw.moderators, &defined, &invalid)?;
        let phrase_index = index_phrases(&phrase_lists);
        Ok(Skills {
            source_name: source_name.to_owned(),
            personas,
            phrase_lists,
            segments,
            moderators,
            phrase_index,
        })
    }

    /// The name of the file these skills came from.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// What of the file decides a deal's facts (see `store::facts`), in one line: each
    /// persona's compiled title patterns, each phrase list's compiled phrases and each segment's
    /// source and property, in the file's order. Two files with the same key give every deal
    /// the same facts, so a cache may keep facts computed under one and reuse them under the
    /// other; labels, live days, moderators and the like are read later and are left out.
    pub fn facts_key(&self) -> String {
        let needles = |m: &[String], x: &[String]| format!("{m:?}-{x:?}");
        let personas: Vec<String> = self
            .personas
            .iter()
            .map(|p| needles(&p.match_needles, &p.exclude_needles))
            .collect();
        let phrases: Vec<String> = self
            .phrase_lists
            .iter()
            // The word index `phrase_hits` reads is built from the phrases as written.
            .map(|l| {
                needles(&l.match_needles, &l.exclude_needles) + &needles(&l.phrases, &l.exclude)
            })
            .collect();
        let segments: Vec<String> = self
            .segments
            .iter()
            .map(|s| format!("{:?}:{:?}", s.source, s.property))
            .collect();
        format!("personas {personas:?}; phrases {phrases:?}; segments {segments:?}")
    }

    /// Every persona, in the file's order.
    pub fn personas(&self) -> &[Persona] {
        &self.personas
    }

    /// The persona with this id, if the file defines it.
    pub fn persona(&self, id: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| p.id == id)
    }

    /// The personas a job title has, in the file's order; empty when none matches.
    pub fn personas_of(&self, title: &str) -> Vec<&Persona> {
        let title = padded(title);
        if title.len() <= 1 {
            // Nothing but punctuation or filler: no pattern can match (none is empty).
            return Vec::new();
        }
        self.personas
            .iter()
            .filter(|p| matches_padded(&title, &p.match_needles, &p.exclude_needles))
            .collect()
    }

    /// Every phrase list, in the file's order; list `i` is bit `i` of [`Skills::phrase_hits`].
    pub fn phrase_lists(&self) -> &[PhraseList] {
        &self.phrase_lists
    }

    /// The index of the phrase list with this id (its bit in [`Skills::phrase_hits`]), if the
    /// file defines it.
    pub fn phrase_list(&self, id: &str) -> Option<usize> {
        self.phrase_lists.iter().position(|l| l.id == id)
    }

    /// Which phrase lists a text matches: bit `i` is set when list `i` of
    /// [`Skills::phrase_lists`] matches, exactly as [`PhraseList::matches`] would say.
    ///
    /// Made for scanning every activity of a cache: the text is lower-cased once (one
    /// allocation) and each of its words costs one hash lookup, however many lists and phrases
    /// the file has, plus a comparison of the following words for each phrase starting with it.
    pub fn phrase_hits(&self, text: &str) -> u64 {
        if self.phrase_index.is_empty() {
            return 0;
        }
        let lower = text.to_lowercase();
        let mut words = words(&lower);
        let (mut hits, mut excluded) = (0u64, 0u64);
        while let Some(word) = words.next() {
            let Some(needles) = self.phrase_index.get(word) else {
                continue;
            };
            for needle in needles {
                let known = if needle.exclude { excluded } else { hits };
                if known & needle.bit != 0 {
                    continue;
                }
                let mut ahead = words.clone();
                if needle.rest.iter().all(|w| ahead.next() == Some(w.as_str())) {
                    if needle.exclude {
                        excluded |= needle.bit;
                    } else {
                        hits |= needle.bit;
                    }
                }
            }
        }
        hits & !excluded
    }

    /// Every segment dimension, in the file's order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segment with this id, if the file defines it.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// Every moderator, in the file's order.
    pub fn moderators(&self) -> &[Moderator] {
        &self.moderators
    }
}

/// Checks the `[[personas]]` tables and compiles their patterns.
fn check_personas(
    raw: Vec<RawPersona>,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<Vec<Persona>, SkillsError> {
    let mut personas: Vec<Persona> = Vec::with_capacity(raw.len());
    for p in raw {
        let id = p.id.get_ref();
        let at_id = p.id.span().start;
        check_id(
            &p.id,
            "persona",
            personas.iter().map(|q| q.id.as_str()),
            invalid,
        )?;
        if personas.len() == MAX_PERSONAS {
            return Err(invalid(
                at_id,
                format!(
                    "persona {id:?} is one too many: a skills file holds at most {MAX_PERSONAS} \
                     personas"
                ),
            ));
        }
        check_label(&p.label, "persona", id, invalid)?;
        if p.patterns.is_empty() {
            return Err(invalid(
                at_id,
                format!("persona {id:?} needs at least one title pattern in `patterns`"),
            ));
        }
        let owner = format!("persona {id:?}");
        let match_needles = compile(&p.patterns, &owner, "patterns", invalid)?;
        let exclude_needles = compile(&p.exclude, &owner, "exclude", invalid)?;
        let live_days = match p.live_days {
            Some(days) if *days.get_ref() == 0 => {
                return Err(invalid(
                    days.span().start,
                    format!(
                        "persona {id:?}: `live_days` must be at least 1 (leave it out for no live \
                         signal)"
                    ),
                ));
            }
            days => days.map(Spanned::into_inner),
        };
        personas.push(Persona {
            id: p.id.into_inner(),
            label: p.label.into_inner().trim().to_owned(),
            patterns: p.patterns.into_iter().map(Spanned::into_inner).collect(),
            exclude: p.exclude.into_iter().map(Spanned::into_inner).collect(),
            live_days,
            match_needles,
            exclude_needles,
        });
    }
    Ok(personas)
}

/// Checks the `[[phrases]]` tables and compiles their phrases.
fn check_phrase_lists(
    raw: Vec<RawPhraseList>,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<Vec<PhraseList>, SkillsError> {
    let mut lists: Vec<PhraseList> = Vec::with_capacity(raw.len());
    for l in raw {
        let id = l.id.get_ref();
        let at_id = l.id.span().start;
        check_id(
            &l.id,
            "phrase list",
            lists.iter().map(|q| q.id.as_str()),
            invalid,
        )?;
        if lists.len() == MAX_PHRASE_LISTS {
            return Err(invalid(
                at_id,
                format!(
                    "phrase list {id:?} is one too many: a skills file holds at most \
                     {MAX_PHRASE_LISTS} phrase lists"
                ),
            ));
        }
        check_label(&l.label, "phrase list", id, invalid)?;
        if l.phrases.is_empty() {
            return Err(invalid(
                at_id,
                format!("phrase list {id:?} needs at least one phrase in `phrases`"),
            ));
        }
        let owner = format!("phrase list {id:?}");
        let match_needles = compile(&l.phrases, &owner, "phrases", invalid)?;
        let exclude_needles = compile(&l.exclude, &owner, "exclude", invalid)?;
        lists.push(PhraseList {
            id: l.id.into_inner(),
            label: l.label.into_inner().trim().to_owned(),
            phrases: l.phrases.into_iter().map(Spanned::into_inner).collect(),
            exclude: l.exclude.into_iter().map(Spanned::into_inner).collect(),
            match_needles,
            exclude_needles,
        });
    }
    Ok(lists)
}

/// Checks the `[[segments]]` tables.
fn check_segments(
    raw: Vec<RawSegment>,
    personas: &[Persona],
    phrase_lists: &[PhraseList],
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<Vec<Segment>, SkillsError> {
    let mut segments: Vec<Segment> = Vec::with_capacity(raw.len());
    for s in raw {
        let id = s.id.get_ref();
        let at_id = s.id.span().start;
        check_id(
            &s.id,
            "segment",
            segments.iter().map(|q| q.id.as_str()),
            invalid,
        )?;
        let other = if personas.iter().any(|p| p.id == *id) {
            Some("persona")
        } else if phrase_lists.iter().any(|l| l.id == *id) {
            Some("phrase list")
        } else {
            None
        };
        if let Some(other) = other {
            return Err(invalid(
                at_id,
                format!(
                    "segment id {id:?} is also a {other} id; give the segment an id of its own \
                     so that signal names stay unambiguous"
                ),
            ));
        }
        check_label(&s.label, "segment", id, invalid)?;
        let property = s.property.get_ref();
        let at_property = s.property.span().start;
        if property.trim().is_empty() || property.trim() != property {
            return Err(invalid(
                at_property,
                format!(
                    "segment {id:?}: `property` must be a property's name as the cache holds it, \
                     not empty and without spaces around it (got {property:?})"
                ),
            ));
        }
        if POST_CLOSE_PROPERTIES
            .iter()
            .any(|p| p.eq_ignore_ascii_case(property))
        {
            return Err(invalid(
                at_property,
                format!(
                    "segment {id:?}: {property:?} is recorded when the deal closes (or is the \
                     deal's current state), so it would leak the outcome into the pattern; \
                     choose a property known while the deal is open"
                ),
            ));
        }
        if let Some(first) = segments
            .iter()
            .find(|q| q.source == s.source && q.property == *property)
        {
            return Err(invalid(
                at_property,
                format!(
                    "segment {id:?} reads the {} property {property:?}, which segment {:?} \
                     already reads",
                    s.source.as_str(),
                    first.id
                ),
            ));
        }
        let population = match s.population {
            Some(p) if s.numeric && *p.get_ref() => {
                return Err(invalid(
                    p.span().start,
                    format!(
                        "segment {id:?} is numeric, so it cannot define populations: a \
                         population is a group of deals sharing one value, and a numeric \
                         segment's thirds are cut afresh from each population's values, so they \
                         name no fixed group; remove `population = true`, or add a categorical \
                         property (a size band) for the populations"
                    ),
                ));
            }
            p => p.is_some_and(Spanned::into_inner),
        };
        segments.push(Segment {
            id: s.id.into_inner(),
            label: s.label.into_inner().trim().to_owned(),
            source: s.source,
            property: s.property.into_inner(),
            numeric: s.numeric,
            population,
            confounder: s.confounder,
        });
    }
    Ok(segments)
}

/// What the file defines, for checking the signal names moderators use.
struct Defined<'a> {
    personas: &'a [Persona],
    phrase_lists: &'a [PhraseList],
    segments: &'a [Segment],
}

/// Checks the `[[moderators]]` tables.
fn check_moderators(
    raw: Vec<RawModerator>,
    defined: &Defined<'_>,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<Vec<Moderator>, SkillsError> {
    let mut moderators: Vec<Moderator> = Vec::with_capacity(raw.len());
    for m in raw {
        let signal = m.signal.get_ref();
        let at_signal = m.signal.span().start;
        check_signal(signal, defined).map_err(|e| invalid(at_signal, format!("moderator: {e}")))?;
        if moderators.iter().any(|q| q.signal == *signal) {
            return Err(invalid(
                at_signal,
                format!(
                    "moderator signal {signal:?} is listed twice; list all its exposures in one \
                     moderator"
                ),
            ));
        }
        if m.label.get_ref().trim().is_empty() {
            return Err(invalid(
                m.label.span().start,
                format!("moderator {signal:?} has an empty label"),
            ));
        }
        for (k, exposure) in m.exposures.iter().enumerate() {
            let name = exposure.get_ref();
            let at = exposure.span().start;
            check_signal(name, defined)
                .map_err(|e| invalid(at, format!("moderator {signal:?}: exposure {e}")))?;
            if name == signal {
                return Err(invalid(
                    at,
                    format!(
                        "moderator {signal:?} lists itself as an exposure; a signal cannot \
                         moderate its own effect"
                    ),
                ));
            }
            if m.exposures[..k].iter().any(|e| e.get_ref() == name) {
                return Err(invalid(
                    at,
                    format!("moderator {signal:?} lists the exposure {name:?} twice"),
                ));
            }
        }
        moderators.push(Moderator {
            signal: m.signal.into_inner(),
            label: m.label.into_inner().trim().to_owned(),
            exposures: m.exposures.into_iter().map(Spanned::into_inner).collect(),
        });
    }
    Ok(moderators)
}

/// Checks one signal name against the grammar of the module doc and the ids the file defines;
/// the error completes a sentence that starts with what named the signal.
fn check_signal(name: &str, defined: &Defined<'_>) -> Result<(), String> {
    if PLAIN_SIGNALS.contains(&name) {
        return Ok(());
    }
    if let Some((kind, id)) = name.split_once(':') {
        if PERSONA_SIGNAL_KINDS.contains(&kind) {
            let Some(persona) = defined.personas.iter().find(|p| p.id == id) else {
                return Err(format!(
                    "signal {name:?} names the persona {id:?}, which this file does not define"
                ));
            };
            if kind == "live" && persona.live_days.is_none() {
                return Err(format!(
                    "signal {name:?}: persona {id:?} has no `live_days`, so it has no live signal"
                ));
            }
            return Ok(());
        }
        if PHRASE_SIGNAL_KINDS.contains(&kind) {
            if defined.phrase_lists.iter().any(|l| l.id == id) {
                return Ok(());
            }
            return Err(format!(
                "signal {name:?} names the phrase list {id:?}, which this file does not define"
            ));
        }
    }
    if let Some((segment, value)) = name.split_once('=') {
        let Some(defined_segment) = defined.segments.iter().find(|s| s.id == segment) else {
            return Err(format!(
                "signal {name:?} names the segment {segment:?}, which this file does not define"
            ));
        };
        if value.is_empty() || value.trim() != value {
            return Err(format!(
                "signal {name:?} needs a segment value after `=`, without spaces around it"
            ));
        }
        // A numeric segment's selectors are its thirds; any other value would name a signal
        // that never exists.
        if defined_segment.numeric && !NUMERIC_BANDS.contains(&value) {
            return Err(format!(
                "signal {name:?}: segment {segment:?} is numeric, so its values are its thirds \
                 {}",
                NUMERIC_BANDS.join(", ")
            ));
        }
        return Ok(());
    }
    Err(format!(
        "{name:?} is not a signal name; a signal is single_threaded, slipped_before, \
         engaged:<persona>, live:<persona>, stage_engaged:<persona>, mentioned:<phrase list>, \
         stage_mentioned:<phrase list> or <segment>=<value>"
    ))
}

/// Refuses an id that is not snake_case or that an earlier table of the same kind already has.
fn check_id<'a>(
    id: &Spanned<String>,
    what: &str,
    mut earlier: impl Iterator<Item = &'a str>,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<(), SkillsError> {
    let name = id.get_ref();
    if !is_snake_case(name) {
        return Err(invalid(
            id.span().start,
            format!(
                "{what} id {name:?} must be snake_case: lower-case letters, digits and single \
                 underscores, starting with a letter"
            ),
        ));
    }
    if earlier.any(|e| e == name) {
        return Err(invalid(
            id.span().start,
            format!("{what} id {name:?} is defined twice"),
        ));
    }
    Ok(())
}

/// Refuses an empty (or blank) label.
fn check_label(
    label: &Spanned<String>,
    what: &str,
    id: &str,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<(), SkillsError> {
    if label.get_ref().trim().is_empty() {
        return Err(invalid(
            label.span().start,
            format!("{what} {id:?} has an empty label"),
        ));
    }
    Ok(())
}

/// Files every phrase and exclusion of every list under its first normalised word.
fn index_phrases(lists: &[PhraseList]) -> HashMap<String, Vec<PhraseNeedle>> {
    let mut index: HashMap<String, Vec<PhraseNeedle>> = HashMap::new();
    for (i, list) in lists.iter().enumerate() {
        let bit = 1u64 << i;
        for (needles, exclude) in [(&list.match_needles, false), (&list.exclude_needles, true)] {
            for needle in needles {
                let mut words = needle.split_whitespace().map(str::to_owned);
                // A compiled needle always has a word (`compile` refuses empty ones).
                let Some(first) = words.next() else { continue };
                index.entry(first).or_default().push(PhraseNeedle {
                    rest: words.collect(),
                    bit,
                    exclude,
                });
            }
        }
    }
    index
}

/// Normalises title text the way matching sees it: lower case, runs of characters that are not
/// letters or digits become one space, the filler words `of`, `and` and `the` are dropped, and
/// the words are joined by single spaces ("VP, Finance & Operations" → `vp finance operations`).
pub fn normalize(text: &str) -> String {
    let padded = padded(text);
    padded.trim().to_owned()
}

/// The words [`normalize`] keeps, in order, from text that is already lower case.
fn words(lower: &str) -> impl Iterator<Item = &str> + Clone {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER_WORDS.contains(w))
}

/// [`normalize`] with one space before and after (and `" "` for nothing), so that
/// `padded(title).contains(&padded(pattern))` is a whole-word match.
fn padded(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len() + 2);
    out.push(' ');
    for word in words(&lower) {
        out.push_str(word);
        out.push(' ');
    }
    out
}

/// Whether a padded text contains one of `needles` and none of `exclude` (both compiled).
fn matches_padded(text: &str, needles: &[String], exclude: &[String]) -> bool {
    needles.iter().any(|n| text.contains(n.as_str()))
        && !exclude.iter().any(|n| text.contains(n.as_str()))
}

/// Compiles one list of patterns of `owner` (`persona "cto"`), refusing any that normalises to
/// nothing (it would match every text).
fn compile(
    patterns: &[Spanned<String>],
    owner: &str,
    key: &str,
    invalid: &impl Fn(usize, String) -> SkillsError,
) -> Result<Vec<String>, SkillsError> {
    patterns
        .iter()
        .map(|p| {
            let needle = padded(p.get_ref());
            if needle.len() <= 1 {
                Err(invalid(
                    p.span().start,
                    format!(
                        "{owner}: `{key}` entry {:?} has no words to match (empty, only \
                         punctuation, or only \"of\"/\"and\"/\"the\")",
                        p.get_ref()
                    ),
                ))
            } else {
                Ok(needle)
            }
        })
        .collect()
}

/// `cto`, `economic_buyer`, `tier2_buyer`: ASCII lower case and digits, starting with a letter,
/// words joined by single underscores.
fn is_snake_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.split('_').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// 1-based line and column (in characters) of a byte offset; an offset past the end or inside a
/// character is clamped back to the nearest character start.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::persona_ids::*;
    use super::*;
    // The demo's title constants (`demo::vocab`, re-exported by `demo`).
    use crate::demo as vocab;
    use proptest::prelude::*;

    fn ids_of<'a>(skills: &'a Skills, title: &str) -> Vec<&'a str> {
        skills
            .personas_of(title)
            .into_iter()
            .map(Persona::id)
            .collect()
    }

    fn builtin_ids(title: &str) -> Vec<String> {
        let skills = Skills::builtin();
        ids_of(&skills, title)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Asserts the built-in personas of each title, exactly.
    fn check(cases: &[(&str, &[&str])]) {
        let skills = Skills::builtin();
        for (title, expected) in cases {
            assert_eq!(ids_of(&skills, title), *expected, "title {title:?}");
        }
    }

    fn invalid(text: &str) -> (usize, usize, String) {
        match Skills::parse(text, "team.toml") {
            Err(SkillsError::Invalid {
                file,
                line,
                column,
                message,
            }) => {
                assert_eq!(file, "team.toml");
                (line, column, message)
            }
            other => panic!("expected an invalid-file error, got {other:?}"),
        }
    }

    #[test]
    fn builtin_parses_and_defines_every_known_persona_id() {
        let skills = Skills::builtin();
        for id in [
            CTO,
            TECHNICAL_LEADER,
            ECONOMIC_BUYER,
            EXECUTIVE,
            PROCUREMENT,
            SECURITY,
            REVENUE_OPERATIONS,
            SALES_LEADER,
        ] {
            let persona = skills.persona(id);
            assert!(persona.is_some(), "builtin lacks persona {id}");
            assert!(persona.is_some_and(|p| !p.label().is_empty()));
        }
        assert_eq!(skills.personas().len(), 8);
        assert!(skills.source_name().contains("default.toml"));
    }

    #[test]
    fn normalize_folds_case_punctuation_and_filler_words() {
        assert_eq!(
            normalize("VP, Finance & Operations"),
            "vp finance operations"
        );
        assert_eq!(normalize("  vp of   ENGINEERING "), "vp engineering");
        assert_eq!(normalize("Head of R&D"), "head r d");
        assert_eq!(normalize("Co-Founder/CTO"), "co founder cto");
        assert_eq!(normalize("Directrice Financière"), "directrice financière");
        assert_eq!(normalize("—"), "");
        assert_eq!(normalize("of the and"), "");
    }

    #[test]
    fn cto_is_the_chief_technology_executive_only() {
        check(&[
            ("CTO", &[CTO]),
            ("Chief Technology Officer", &[CTO]),
            ("chief technical officer", &[CTO]),
            ("CTO, EMEA", &[CTO]),
            ("Interim CTO", &[CTO]),
            // Engineering leaders below the CTO are their own persona (see the asset's comment).
            ("VP Engineering", &[TECHNICAL_LEADER]),
            ("VP of Engineering", &[TECHNICAL_LEADER]),
            ("VP, Engineering", &[TECHNICAL_LEADER]),
            ("Head of Engineering", &[TECHNICAL_LEADER]),
            // The CTO's staff are not the CTO.
            ("CTO Office Manager", &[]),
            ("Office of the CTO", &[]),
            ("Assistant to the CTO", &[]),
            ("Chief of Staff to the CTO", &[]),
            // Whole words: "cto" inside another word is not the CTO.
            ("Director", &[]),
            ("Factory Manager", &[]),
        ]);
    }

    #[test]
    fn technical_leader_covers_engineering_and_it_leadership() {
        check(&[
            ("Vice President Engineering", &[TECHNICAL_LEADER]),
            ("SVP Engineering", &[TECHNICAL_LEADER]),
            ("Director of Engineering", &[TECHNICAL_LEADER]),
            ("CIO", &[TECHNICAL_LEADER]),
            ("Chief Information Officer", &[TECHNICAL_LEADER]),
            ("VP of R&D", &[TECHNICAL_LEADER]),
            ("Engineering Manager", &[]),
            ("Software Engineer", &[]),
        ]);
    }

    #[test]
    fn economic_buyer_is_finance_leadership() {
        check(&[
            ("CFO", &[ECONOMIC_BUYER]),
            ("Chief Financial Officer", &[ECONOMIC_BUYER]),
            ("VP Finance", &[ECONOMIC_BUYER]),
            ("VP, Finance & Operations", &[ECONOMIC_BUYER]),
            ("vp of finance and administration", &[ECONOMIC_BUYER]),
            ("Head of Finance", &[ECONOMIC_BUYER]),
            ("Finance Director", &[ECONOMIC_BUYER]),
            ("Financial Controller", &[ECONOMIC_BUYER]),
            ("Controller", &[ECONOMIC_BUYER]),
            // Support roles around the budget holder are not the budget holder.
            ("Assistant to the CFO", &[]),
            ("Executive Assistant to the CFO", &[]),
            ("Assistant Controller", &[]),
            ("Office of the CFO", &[]),
            // Finance staff below the leadership are not the economic buyer.
            ("Finance Manager", &[]),
            ("Accountant", &[]),
        ]);
    }

    #[test]
    fn executive_is_ceo_founder_coo_and_president_but_not_vice_president() {
        check(&[
            ("CEO", &[EXECUTIVE]),
            ("Founder", &[EXECUTIVE]),
            ("Co-Founder", &[EXECUTIVE]),
            ("Cofounder", &[EXECUTIVE]),
            ("COO", &[EXECUTIVE]),
            ("Chief Operating Officer", &[EXECUTIVE]),
            ("President", &[EXECUTIVE]),
            ("President & CEO", &[EXECUTIVE]),
            ("Vice President, Engineering", &[TECHNICAL_LEADER]),
            ("Executive Vice President", &[]),
            ("Assistant to the CEO", &[]),
        ]);
    }

    #[test]
    fn procurement_security_and_revenue_roles() {
        check(&[
            ("Procurement Manager", &[PROCUREMENT]),
            ("Head of Purchasing", &[PROCUREMENT]),
            ("Strategic Sourcing Lead", &[PROCUREMENT]),
            ("Vendor Management Office", &[PROCUREMENT]),
            ("CISO", &[SECURITY]),
            ("Chief Information Security Officer", &[SECURITY]),
            ("Security Lead", &[SECURITY]),
            ("InfoSec Engineer", &[SECURITY]),
            ("Social Security Specialist", &[]),
            ("RevOps Manager", &[REVENUE_OPERATIONS]),
            ("Revenue Operations Lead", &[REVENUE_OPERATIONS]),
            ("Director, Sales Operations", &[REVENUE_OPERATIONS]),
            ("Go-to-Market Operations", &[REVENUE_OPERATIONS]),
            ("Head of Sales", &[SALES_LEADER]),
            ("Chief Revenue Officer", &[SALES_LEADER]),
            ("Sales Director", &[SALES_LEADER]),
            ("Account Executive", &[]),
        ]);
    }

    #[test]
    fn a_title_can_have_several_personas_in_file_order() {
        check(&[
            ("Co-Founder & CTO", &[CTO, EXECUTIVE]),
            ("CFO & COO", &[ECONOMIC_BUYER, EXECUTIVE]),
            ("CRO & Head of RevOps", &[REVENUE_OPERATIONS, SALES_LEADER]),
            // Sales operations is not sales leadership.
            ("VP Sales Operations", &[REVENUE_OPERATIONS]),
            ("CTO / CISO", &[CTO, SECURITY]),
        ]);
    }

    #[test]
    fn empty_and_junk_titles_have_no_persona() {
        check(&[
            ("", &[]),
            ("   ", &[]),
            ("--/--", &[]),
            ("of the", &[]),
            ("n/a", &[]),
        ]);
    }

    #[test]
    fn demo_titles_map_to_the_personas_the_planted_patterns_assume() {
        check(&[
            (vocab::TITLE_CTO, &[CTO]),
            (vocab::TITLE_VP_ENGINEERING, &[TECHNICAL_LEADER]),
            (vocab::TITLE_HEAD_OF_PLATFORM, &[TECHNICAL_LEADER]),
            (vocab::TITLE_IT_DIRECTOR, &[TECHNICAL_LEADER]),
            (vocab::TITLE_CFO, &[ECONOMIC_BUYER]),
            (vocab::TITLE_VP_FINANCE, &[ECONOMIC_BUYER]),
            (vocab::TITLE_CONTROLLER, &[ECONOMIC_BUYER]),
            (vocab::TITLE_PROCUREMENT_MANAGER, &[PROCUREMENT]),
            (vocab::TITLE_COO, &[EXECUTIVE]),
            (vocab::TITLE_SECURITY_LEAD, &[SECURITY]),
            (vocab::TITLE_ENGINEERING_MANAGER, &[]),
            (vocab::TITLE_HEAD_OF_PRODUCT, &[]),
            (vocab::TITLE_PRODUCT_MANAGER, &[]),
            (vocab::TITLE_OPERATIONS_MANAGER, &[]),
        ]);
        // The demo plants "CTO engaged" and "economic buyer live" on exactly these titles and
        // gives champions none of them (nor procurement); the personas must agree on every demo
        // title, or a champion would switch a planted exposure on and blur the planted effects.
        for title in vocab::ALL_TITLES {
            let ids = builtin_ids(title);
            assert_eq!(
                ids.iter().any(|id| id == ECONOMIC_BUYER),
                vocab::ECONOMIC_BUYER_TITLES.contains(&title),
                "{title}"
            );
            assert_eq!(
                ids.iter().any(|id| id == CTO),
                title == vocab::TITLE_CTO,
                "{title}"
            );
            assert_eq!(
                ids.iter().any(|id| id == PROCUREMENT),
                title == vocab::TITLE_PROCUREMENT_MANAGER,
                "{title}"
            );
        }
    }

    #[test]
    fn persona_matches_agrees_with_personas_of() {
        let skills = Skills::builtin();
        let cfo = skills.persona(ECONOMIC_BUYER);
        assert!(cfo.is_some_and(|p| p.matches("VP, Finance")));
        assert!(cfo.is_some_and(|p| !p.matches("Assistant to the CFO")));
        assert_eq!(skills.persona("nobody"), None);
    }

    #[test]
    fn a_minimal_team_file_parses_and_keeps_patterns_as_written() {
        let text = "version = 1\n\n[[personas]]\nid = \"legal\"\nlabel = \" Legal \"\n\
                    patterns = [\"General Counsel\", \"Legal\"]\nexclude = [\"Paralegal\"]\n";
        let skills = Skills::parse(text, "team.toml");
        assert!(skills.is_ok(), "{skills:?}");
        let Ok(skills) = skills else { return };
        let legal = &skills.personas()[0];
        assert_eq!(legal.label(), "Legal");
        assert_eq!(legal.patterns(), ["General Counsel", "Legal"]);
        assert_eq!(legal.exclude(), ["Paralegal"]);
        assert_eq!(ids_of(&skills, "Deputy General Counsel"), ["legal"]);
        // Whole words: "Paralegal" is neither "legal" nor excluded by it elsewhere.
        assert!(ids_of(&skills, "Paralegal").is_empty());
        // A file with no personas is valid (nothing is recognised).
        assert!(Skills::parse("version = 1\n", "empty.toml").is_ok());
    }

    #[test]
    fn bad_toml_is_reported_with_its_line() {
        let (line, column, message) =
            invalid("version = 1\n\n[[personas]]\nid = \"cto\nlabel = \"x\"\n");
        assert_eq!(line, 4, "{message}");
        assert!(column >= 1);
        assert!(!message.is_empty());
    }

    #[test]
    fn unknown_field_is_reported_with_its_line_and_name() {
        let text = "version = 1\n[[personas]]\nid = \"cto\"\nlabel = \"CTO\"\n\
                    patterns = [\"CTO\"]\npatern = [\"Chief\"]\n";
        let (line, _, message) = invalid(text);
        assert_eq!(line, 6, "{message}");
        assert!(message.contains("patern"), "{message}");
        // Sections this version does not know are refused too, rather than silently ignored.
        let (line, _, message) = invalid("version = 1\n\n[[competitors]]\nname = \"Quantivo\"\n");
        assert_eq!(line, 3, "{message}");
        assert!(message.contains("competitors"), "{message}");
    }

    #[test]
    fn duplicate_id_is_reported_at_the_second_definition() {
        let text = "version = 1\n\
                    [[personas]]\nid = \"cto\"\nlabel = \"CTO\"\npatterns = [\"CTO\"]\n\
                    [[personas]]\nid = \"cto\"\nlabel = \"Also CTO\"\npatterns = [\"Chief Technology Officer\"]\n";
        let (line, column, message) = invalid(text);
        assert_eq!((line, column), (7, 6), "{message}");
        assert!(message.contains("\"cto\" is defined twice"), "{message}");
    }

    #[test]
    fn empty_pattern_is_reported_at_the_pattern() {
        let text = "version = 1\n[[personas]]\nid = \"cfo\"\nlabel = \"CFO\"\n\
                    patterns = [\"CFO\",\n  \"  \"]\n";
        let (line, column, message) = invalid(text);
        assert_eq!((line, column), (6, 3), "{message}");
        assert!(message.contains("no words to match"), "{message}");
        // A pattern of filler words only would match every title.
        let text = "version = 1\n[[personas]]\nid = \"x\"\nlabel = \"X\"\npatterns = [\"CFO\"]\n\
                    exclude = [\"of the\"]\n";
        let (line, _, message) = invalid(text);
        assert_eq!(line, 6, "{message}");
        assert!(message.contains("`exclude`"), "{message}");
    }

    #[test]
    fn persona_rules_are_reported_at_the_persona() {
        let (line, _, message) = invalid(
            "version = 1\n[[personas]]\nid = \"Economic Buyer\"\nlabel = \"EB\"\npatterns = [\"CFO\"]\n",
        );
        assert_eq!(line, 3, "{message}");
        assert!(message.contains("snake_case"), "{message}");
        let (line, _, message) =
            invalid("version = 1\n[[personas]]\nid = \"cfo\"\nlabel = \"CFO\"\npatterns = []\n");
        assert_eq!(line, 3, "{message}");
        assert!(message.contains("at least one title pattern"), "{message}");
        let (line, _, message) =
            invalid("version = 1\n[[personas]]\nid = \"cfo\"\nlabel = \"CFO\"\n");
        assert_eq!(line, 3, "{message}");
        let (line, _, message) = invalid(
            "version = 1\n[[personas]]\nid = \"cfo\"\nlabel = \"\"\npatterns = [\"CFO\"]\n",
        );
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("empty label"), "{message}");
        let (line, _, message) = invalid("# team skills\nversion = 2\n");
        assert_eq!(line, 2, "{message}");
        assert!(message.contains("version 2"), "{message}");
    }

    #[test]
    fn snake_case_ids() {
        for ok in ["cto", "economic_buyer", "tier2_buyer", "a1"] {
            assert!(is_snake_case(ok), "{ok}");
        }
        for bad in [
            "",
            "CTO",
            "_cto",
            "cto_",
            "economic__buyer",
            "2fa",
            "vp-eng",
            "é",
        ] {
            assert!(!is_snake_case(bad), "{bad}");
        }
    }

    #[test]
    fn error_display_names_file_line_and_column() {
        let err = Skills::parse("version = 1\npersonas = 3\n", "skills/team.toml");
        let text = err.map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&text, Err(t) if t.starts_with("skills/team.toml:2:")),
            "{text:?}"
        );
    }

    #[test]
    fn load_reads_a_file_and_reports_a_missing_one() {
        let dir = tempfile::tempdir();
        assert!(dir.is_ok());
        let Ok(dir) = dir else { return };
        let path = dir.path().join("team.toml");
        assert!(std::fs::write(&path, BUILTIN).is_ok());
        let loaded = Skills::load(&path);
        assert!(
            matches!(&loaded, Ok(s) if s.personas() == Skills::builtin().personas()),
            "{loaded:?}"
        );
        let missing = Skills::load(&dir.path().join("missing.toml"));
        assert!(
            matches!(missing, Err(SkillsError::Read { .. })),
            "{missing:?}"
        );
    }

    #[test]
    fn line_column_counts_characters_and_clamps() {
        let text = "ab\néé x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // Byte 7 is after the two two-byte characters and the space: column 4.
        assert_eq!(line_column(text, 8), (2, 4));
        // Inside a character, and past the end.
        assert_eq!(line_column(text, 4), (2, 1));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    proptest! {
        #[test]
        fn personas_of_never_panics_and_agrees_with_matches(title in any::<String>()) {
            let skills = Skills::builtin();
            let found = skills.personas_of(&title);
            for p in skills.personas() {
                prop_assert_eq!(found.iter().any(|f| f.id() == p.id()), p.matches(&title));
            }
        }

        #[test]
        fn matching_ignores_case_and_punctuation(
            title in "[A-Za-z ,&/-]{0,40}",
        ) {
            let skills = Skills::builtin();
            let upper = ids_of(&skills, &title.to_uppercase());
            let lower = ids_of(&skills, &title.to_lowercase());
            let respaced = ids_of(&skills, &title.replace([',', '/', '-'], " "));
            prop_assert_eq!(&upper, &lower);
            prop_assert_eq!(&ids_of(&skills, &title), &respaced);
        }

        #[test]
        fn normalize_is_idempotent(text in any::<String>()) {
            let once = normalize(&text);
            prop_assert_eq!(normalize(&once), once);
        }
    }

    // --- Phrase lists, segments, moderators, live personas ---

    use super::phrase_list_ids::{BUSINESS_CASE, COMPETITOR, DISCOUNT, LEGAL, SECURITY_REVIEW};

    /// The ids of the lists `text` hits, by [`Skills::phrase_hits`], after checking that
    /// [`PhraseList::matches`] agrees.
    fn hit_ids<'a>(skills: &'a Skills, text: &str) -> Vec<&'a str> {
        let hits = skills.phrase_hits(text);
        for (i, list) in skills.phrase_lists().iter().enumerate() {
            assert_eq!(
                hits & (1 << i) != 0,
                list.matches(text),
                "list {} on {text:?}",
                list.id()
            );
        }
        skills
            .phrase_lists()
            .iter()
            .enumerate()
            .filter(|(i, _)| hits & (1 << i) != 0)
            .map(|(_, l)| l.id())
            .collect()
    }

    fn parsed(text: &str) -> Skills {
        match Skills::parse(text, "team.toml") {
            Ok(skills) => skills,
            Err(e) => panic!("{e}"),
        }
    }

    /// A file with one persona (`cfo`, live for 30 days), one phrase list (`competitor`) and one
    /// segment (`buying_center`), followed by `rest`; the first line of `rest` is line 20.
    fn with_definitions(rest: &str) -> String {
        format!(
            "version = 1\n\
             [[personas]]\nid = \"cfo\"\nlabel = \"CFO\"\npatterns = [\"CFO\"]\nlive_days = 30\n\
             [[personas]]\nid = \"cto\"\nlabel = \"CTO\"\npatterns = [\"CTO\"]\n\
             [[phrases]]\nid = \"competitor\"\nlabel = \"Competitor\"\nphrases = [\"Quantivo\"]\n\
             [[segments]]\nid = \"buying_center\"\nlabel = \"Buying center\"\nsource = \"company\"\n\
             property = \"buying_center\"\n{rest}"
        )
    }

    #[test]
    fn builtin_defines_the_documented_phrase_lists() {
        let skills = Skills::builtin();
        let ids: Vec<&str> = skills.phrase_lists().iter().map(PhraseList::id).collect();
        assert_eq!(
            ids,
            [COMPETITOR, DISCOUNT, BUSINESS_CASE, SECURITY_REVIEW, LEGAL]
        );
        for (i, list) in skills.phrase_lists().iter().enumerate() {
            assert_eq!(skills.phrase_list(list.id()), Some(i));
            assert!(!list.label().is_empty() && !list.phrases().is_empty());
        }
        assert_eq!(skills.phrase_list("nothing"), None);
        // The competitor list is the demo's competitors, as written.
        let competitor = skills
            .phrase_list(COMPETITOR)
            .map(|i| &skills.phrase_lists()[i]);
        assert!(competitor.is_some_and(|l| l.phrases() == vocab::COMPETITORS));
        assert!(competitor.is_some_and(|l| l.exclude().is_empty()));
    }

    #[test]
    fn builtin_segments_are_the_demo_fields() {
        let skills = Skills::builtin();
        let seg = |id: &str| {
            let s = skills.segment(id);
            assert!(s.is_some(), "no segment {id}");
            s.map(|s| (s.source(), s.property(), s.population(), s.confounder()))
        };
        use SegmentSource::{Company, Deal};
        assert_eq!(seg("industry"), Some((Company, "industry", false, true)));
        assert_eq!(seg("size_band"), Some((Company, "size_band", false, false)));
        assert_eq!(
            seg("buying_center"),
            Some((Company, "buying_center", true, true))
        );
        assert_eq!(seg("lead_source"), Some((Deal, "lead_source", false, true)));
        // The demo's null attributes (see `src/demo.rs`), each read from where the demo writes it.
        // lead_source is the one null property that is also a confounder (checked above).
        for p in crate::demo::planted::NULL_DEAL_PROPERTIES
            .into_iter()
            .filter(|p| *p != "lead_source")
        {
            assert_eq!(seg(p), Some((Deal, p, false, false)));
        }
        for p in crate::demo::planted::NULL_COMPANY_PROPERTIES {
            assert_eq!(seg(p), Some((Company, p, false, false)));
        }
        assert_eq!(skills.segments().len(), 15);
        // Only buying_center defines populations; three segments are stratifiers.
        let populations: Vec<&str> = skills
            .segments()
            .iter()
            .filter(|s| s.population())
            .map(Segment::id)
            .collect();
        assert_eq!(populations, ["buying_center"]);
        assert_eq!(
            skills.segments().iter().filter(|s| s.confounder()).count(),
            3
        );
        assert!(skills.segments().iter().all(|s| !s.label().is_empty()));
        assert_eq!(SegmentSource::Company.as_str(), "company");
        assert_eq!(SegmentSource::Deal.as_str(), "deal");
    }

    #[test]
    fn builtin_moderator_is_the_business_case_exception() {
        let skills = Skills::builtin();
        let [m] = skills.moderators() else {
            panic!("{:?}", skills.moderators())
        };
        assert_eq!(m.signal(), "mentioned:business_case");
        assert_eq!(m.label(), "a business case was anchored earlier");
        assert_eq!(
            m.exposures(),
            ["stage_mentioned:competitor", "mentioned:competitor"]
        );
    }

    #[test]
    fn only_the_economic_buyer_is_live_in_the_builtin_file() {
        let skills = Skills::builtin();
        for p in skills.personas() {
            let expected = (p.id() == ECONOMIC_BUYER).then_some(30);
            assert_eq!(p.live_days(), expected, "{}", p.id());
        }
        // The demo's live economic buyer (pattern 3) is engaged within 30 days of Proposal.
        assert_eq!(
            i64::from(
                skills
                    .persona(ECONOMIC_BUYER)
                    .and_then(Persona::live_days)
                    .unwrap_or(0)
            ),
            crate::demo::planted::EB_LOOKBACK_DAYS
        );
    }

    #[test]
    fn phrases_match_whole_words_ignoring_case_and_punctuation() {
        let skills = Skills::builtin();
        let cases: &[(&str, &[&str])] = &[
            ("They are looking at QUANTIVO too.", &[COMPETITOR]),
            ("quantivo's pricing page", &[COMPETITOR]),
            ("(Pipeworks/DealForge)", &[COMPETITOR]),
            // Whole words: a name that is also a word matches as that word (so the demo's
            // background text never uses it), but not inside another word.
            ("They watch the numbers closely", &[COMPETITOR]),
            ("Nothing disclosed yet", &[]),
            ("Forecasting is manual", &[]),
            ("Can we get a 10% discount?", &[DISCOUNT]),
            ("DISCOUNT!", &[DISCOUNT]),
            ("discountable", &[]),
            ("They want us to lower the price.", &[DISCOUNT]),
            ("A price-reduction of 5%", &[DISCOUNT]),
            ("Pricing questions about seats", &[]),
            ("Business case and ROI signed off", &[BUSINESS_CASE]),
            ("business-case draft", &[BUSINESS_CASE]),
            ("Payback in 9 months", &[BUSINESS_CASE]),
            ("Roi, the CFO's assistant", &[BUSINESS_CASE]),
            ("a heroic effort", &[]),
            ("Sent the SOC 2 report", &[SECURITY_REVIEW]),
            ("SOC2 Type II", &[SECURITY_REVIEW]),
            ("pen-test summary", &[SECURITY_REVIEW]),
            ("security documentation", &[]),
            ("Legal sent redlines on the MSA", &[LEGAL]),
            ("msa", &[LEGAL]),
            ("Then legal.", &[]),
            (
                "Quantivo offered a discount; our business case holds, pending security review and redlines.",
                &[COMPETITOR, DISCOUNT, BUSINESS_CASE, SECURITY_REVIEW, LEGAL],
            ),
            ("", &[]),
            ("  --  ", &[]),
            ("the and of", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(hit_ids(&skills, text), *expected, "{text:?}");
        }
    }

    #[test]
    fn phrase_exclusions_apply_to_the_whole_text() {
        let skills = parsed(
            "version = 1\n[[phrases]]\nid = \"discount\"\nlabel = \"Discount\"\n\
             phrases = [\"discount\", \"price cut\"]\nexclude = [\"no discount\"]\n\
             [[phrases]]\nid = \"cut\"\nlabel = \"Cut\"\nphrases = [\"cut\"]\n",
        );
        assert_eq!(hit_ids(&skills, "They want a discount"), ["discount"]);
        assert_eq!(hit_ids(&skills, "No discount, please"), Vec::<&str>::new());
        // An exclusion anywhere in the text excludes the list, as for personas.
        assert_eq!(
            hit_ids(&skills, "No discount now, a price cut later"),
            ["cut"]
        );
        assert_eq!(hit_ids(&skills, "a price cut"), ["discount", "cut"]);
        assert_eq!(hit_ids(&skills, "the price, cut"), ["discount", "cut"]);
        assert_eq!(hit_ids(&skills, "the price is cut"), ["cut"]);
        let list = &skills.phrase_lists()[0];
        assert_eq!(list.phrases(), ["discount", "price cut"]);
        assert_eq!(list.exclude(), ["no discount"]);
    }

    /// `src/demo/vocab.rs`, scanned for its string literals: the module is private to `demo`,
    /// and scanning the source means a template added there later is checked here too.
    const DEMO_VOCAB: &str = include_str!("../demo/vocab.rs");

    /// `(constant, literal)` for every string literal of a `pub` or `pub(crate)` constant in
    /// `src/demo/vocab.rs`, outside its tests. Every literal there sits on one line.
    fn demo_vocab_literals() -> Vec<(String, String)> {
        let code = DEMO_VOCAB.split("#[cfg(test)]").next().unwrap_or("");
        let mut out = Vec::new();
        let mut constant: Option<String> = None;
        for line in code.lines() {
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            if let Some(rest) = t
                .strip_prefix("pub const ")
                .or_else(|| t.strip_prefix("pub(crate) const "))
            {
                constant = Some(
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect(),
                );
            } else if ["const ", "static ", "fn ", "pub", "mod ", "use "]
                .iter()
                .any(|item| t.starts_with(item))
            {
                // Other items (private ones, functions) hold none of the demo's text.
                constant = None;
            }
            let mut chars = t.chars();
            let mut previous = ' ';
            while let Some(c) = chars.next() {
                if c == '/' && previous == '/' {
                    break;
                }
                previous = c;
                if c != '"' {
                    continue;
                }
                let mut literal = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => literal.push('\n'),
                            Some('t') => literal.push('\t'),
                            Some(e @ ('\\' | '"' | '\'')) => literal.push(e),
                            other => panic!("escape {other:?} not understood in {line:?}"),
                        },
                        Some(c) => literal.push(c),
                        None => {
                            panic!("a string literal spans lines in src/demo/vocab.rs: {line:?}")
                        }
                    }
                }
                previous = '"';
                if let Some(name) = &constant {
                    out.push((name.clone(), literal));
                }
            }
        }
        out
    }

    /// The demo constants whose text is planted, with the lists each must hit (and no other).
    const DEMO_PLANTED: [(&str, &[&str]); 8] = [
        ("COMPETITORS", &[COMPETITOR]),
        ("COMPETITOR_TALK", &[COMPETITOR]),
        ("DISCOUNT_WORD", &[DISCOUNT]),
        ("DISCOUNT_ASKS", &[DISCOUNT]),
        ("BUSINESS_CASE_PHRASE", &[BUSINESS_CASE]),
        ("BUSINESS_CASE_NOTES", &[BUSINESS_CASE]),
        ("SECURITY_REVIEW_PHRASE", &[SECURITY_REVIEW]),
        ("SECURITY_TALK", &[SECURITY_REVIEW]),
    ];

    /// The demo constants whose text is background: no list may match it, except the legal
    /// talk of Negotiation in [`DEMO_LEGAL_TEXT`].
    const DEMO_BACKGROUND: [&str; 42] = [
        "TITLE_CTO",
        "TITLE_VP_ENGINEERING",
        "TITLE_HEAD_OF_PLATFORM",
        "TITLE_ENGINEERING_MANAGER",
        "TITLE_CFO",
        "TITLE_VP_FINANCE",
        "TITLE_CONTROLLER",
        "TITLE_PROCUREMENT_MANAGER",
        "TITLE_IT_DIRECTOR",
        "TITLE_HEAD_OF_PRODUCT",
        "TITLE_PRODUCT_MANAGER",
        "TITLE_COO",
        "TITLE_OPERATIONS_MANAGER",
        "TITLE_SECURITY_LEAD",
        "OWN_DOMAIN",
        "TEAMS",
        "OWNER_NAMES",
        "INDUSTRIES",
        "INDUSTRY_SUFFIXES",
        "NAME_FIRST",
        "NAME_SECOND",
        "SIZE_BANDS",
        "BUYING_CENTERS",
        "REGIONS",
        "OWNERSHIP",
        "PERSON_FIRST",
        "PERSON_LAST",
        "PRODUCT_LINES",
        "DEAL_TYPES",
        "LEAD_SOURCES",
        "CONTRACT_TERMS",
        "BILLING_FREQUENCIES",
        "CAMPAIGNS",
        "PAYMENT_TERMS",
        "YES_NO",
        "TALK",
        "INBOUND",
        "OUTBOUND",
        "NOTES",
        "EB_MEETING",
        "RESUME_TALK",
        "WON_NOTES",
    ];

    /// More background constants (split only to keep the arrays readable).
    const DEMO_BACKGROUND_MORE: [&str; 4] = [
        "LOST_NOTES",
        "CHASE_EMAILS",
        "CLEANUP_NOTES",
        "MEETING_SUBJECTS",
    ];

    /// Background templates of Negotiation that talk about the contract: realistic, with no
    /// planted effect, and the only demo text the `legal` list matches.
    const DEMO_LEGAL_TEXT: [&str; 6] = [
        "Legal sent redlines on the MSA: liability cap and the data processing addendum.",
        "Redline call with {name}: resolved the termination clause; one open point on data retention.",
        "Our legal team's comments on the MSA are attached.",
        "Order form and MSA attached for review.",
        "Following up on the redlines: our counsel has replied to each point.",
        "Contract review",
    ];

    /// Activity text that `src/demo/sim.rs` writes itself (copies; the subjects with a name and a
    /// company filled in). None may match a list.
    const DEMO_SIM_TEXT: [&str; 9] = [
        "Checking in on the proposal: any update from your side?",
        "Call with Alex",
        "Re: Amber Ridge Labs evaluation",
        "Amber Ridge Labs next steps",
        "Amber Ridge Labs proposal",
        "Amber Ridge Labs follow-up",
        "Re: Amber Ridge Labs order form",
        "Pricing call",
        "Commercial review",
    ];

    /// A template with its placeholders filled the way the demo fills them.
    fn fill_demo(template: &str, competitor: &str) -> String {
        let text = template
            .replace("{name}", "Alex")
            .replace("{company}", "Amber Ridge Labs")
            .replace("{competitor}", competitor)
            .replace("{n}", "3")
            .replace("{weeks}", "4")
            .replace("{pct}", "15");
        assert!(!text.contains('{'), "unknown placeholder in {template:?}");
        text
    }

    #[test]
    fn demo_text_hits_exactly_the_planted_lists() {
        let skills = Skills::builtin();
        let literals = demo_vocab_literals();
        assert!(
            literals.len() > 300,
            "only {} literals found",
            literals.len()
        );

        // Every constant with text is classified, and every classified constant still exists.
        let mut found: Vec<&str> = literals.iter().map(|(c, _)| c.as_str()).collect();
        let mut classified: Vec<&str> = DEMO_PLANTED
            .iter()
            .map(|(c, _)| *c)
            .chain(DEMO_BACKGROUND)
            .chain(DEMO_BACKGROUND_MORE)
            .collect();
        found.sort_unstable();
        found.dedup();
        classified.sort_unstable();
        assert_eq!(
            found, classified,
            "classify every constant of src/demo/vocab.rs here"
        );

        let mut legal_seen = Vec::new();
        for (constant, literal) in &literals {
            let competitors: &[&str] = if literal.contains("{competitor}") {
                &vocab::COMPETITORS
            } else {
                &[""]
            };
            for competitor in competitors {
                let text = fill_demo(literal, competitor);
                let expected: &[&str] = match DEMO_PLANTED.iter().find(|(c, _)| c == constant) {
                    Some((_, lists)) => lists,
                    None if DEMO_LEGAL_TEXT.contains(&literal.as_str()) => {
                        legal_seen.push(literal.as_str());
                        &[LEGAL]
                    }
                    None => &[],
                };
                assert_eq!(hit_ids(&skills, &text), expected, "{constant}: {text:?}");
            }
        }
        legal_seen.sort_unstable();
        let mut legal_expected = DEMO_LEGAL_TEXT.to_vec();
        legal_expected.sort_unstable();
        assert_eq!(legal_seen, legal_expected, "DEMO_LEGAL_TEXT is out of date");

        for text in DEMO_SIM_TEXT {
            assert_eq!(hit_ids(&skills, text), Vec::<&str>::new(), "{text:?}");
        }
        // The public markers themselves, by value rather than by scanning.
        for c in vocab::COMPETITORS {
            assert_eq!(hit_ids(&skills, c), [COMPETITOR], "{c}");
        }
        assert_eq!(hit_ids(&skills, vocab::DISCOUNT_WORD), [DISCOUNT]);
        assert_eq!(
            hit_ids(&skills, vocab::BUSINESS_CASE_PHRASE),
            [BUSINESS_CASE]
        );
        assert_eq!(
            hit_ids(&skills, vocab::SECURITY_REVIEW_PHRASE),
            [SECURITY_REVIEW]
        );
    }

    #[test]
    fn phrase_list_rules_are_reported_where_they_break() {
        // Duplicate id: at the second definition's id.
        let text = "version = 1\n\
                    [[phrases]]\nid = \"competitor\"\nlabel = \"A\"\nphrases = [\"Quantivo\"]\n\
                    [[phrases]]\nid = \"competitor\"\nlabel = \"B\"\nphrases = [\"Closely\"]\n";
        let (line, column, message) = invalid(text);
        assert_eq!((line, column), (7, 6), "{message}");
        assert!(
            message.contains("phrase list id \"competitor\" is defined twice"),
            "{message}"
        );
        // Empty or missing phrases: at the id.
        let (line, column, message) =
            invalid("version = 1\n[[phrases]]\nid = \"x\"\nlabel = \"X\"\nphrases = []\n");
        assert_eq!((line, column), (3, 6), "{message}");
        assert!(message.contains("at least one phrase"), "{message}");
        let (line, _, message) = invalid("version = 1\n[[phrases]]\nid = \"x\"\nlabel = \"X\"\n");
        assert_eq!(line, 3, "{message}");
        assert!(message.contains("at least one phrase"), "{message}");
        // A phrase with no words: at the phrase.
        let (line, column, message) = invalid(
            "version = 1\n[[phrases]]\nid = \"x\"\nlabel = \"X\"\nphrases = [\"a\", \"&\"]\n",
        );
        assert_eq!((line, column), (5, 17), "{message}");
        assert!(
            message.contains("phrase list \"x\": `phrases` entry \"&\" has no words"),
            "{message}"
        );
        // Bad id, empty label, unknown key.
        let (line, column, message) = invalid(
            "version = 1\n[[phrases]]\nid = \"Competitor\"\nlabel = \"X\"\nphrases = [\"a\"]\n",
        );
        assert_eq!((line, column), (3, 6), "{message}");
        assert!(message.contains("snake_case"), "{message}");
        let (line, column, message) =
            invalid("version = 1\n[[phrases]]\nid = \"x\"\nlabel = \" \"\nphrases = [\"a\"]\n");
        assert_eq!((line, column), (4, 9), "{message}");
        assert!(message.contains("empty label"), "{message}");
        let (line, _, message) = invalid(
            "version = 1\n[[phrases]]\nid = \"x\"\nlabel = \"X\"\nphrases = [\"a\"]\nphrase = [\"b\"]\n",
        );
        assert_eq!(line, 6, "{message}");
        assert!(message.contains("phrase"), "{message}");
    }

    #[test]
    fn at_most_64_phrase_lists_fit_and_the_65th_is_reported() {
        let lists = |n: usize| {
            let mut text = String::from("version = 1\n");
            for i in 0..n {
                text.push_str(&format!(
                    "[[phrases]]\nid = \"list{i}\"\nlabel = \"List {i}\"\nphrases = [\"word{i}\"]\n"
                ));
            }
            text
        };
        let skills = parsed(&lists(MAX_PHRASE_LISTS));
        assert_eq!(skills.phrase_lists().len(), 64);
        assert_eq!(skills.phrase_hits("WORD63"), 1 << 63);
        assert_eq!(skills.phrase_hits("word0 and word63"), 1 | 1 << 63);
        assert_eq!(skills.phrase_hits("word64"), 0);
        // List i's id is on line 3 + 4i, so the 65th (i = 64) is on line 259.
        let (line, column, message) = invalid(&lists(MAX_PHRASE_LISTS + 1));
        assert_eq!((line, column), (259, 6), "{message}");
        assert!(message.contains("\"list64\""), "{message}");
        assert!(message.contains("at most 64 phrase lists"), "{message}");
    }

    #[test]
    fn at_most_64_personas_fit_and_the_65th_is_reported() {
        let personas = |n: usize| {
            let mut text = String::from("version = 1\n");
            for i in 0..n {
                text.push_str(&format!(
                    "[[personas]]\nid = \"p{i}\"\nlabel = \"P {i}\"\npatterns = [\"title{i}\"]\n"
                ));
            }
            text
        };
        let skills = parsed(&personas(MAX_PERSONAS));
        assert_eq!(skills.personas().len(), 64);
        assert_eq!(ids_of(&skills, "Title63"), ["p63"]);
        assert_eq!(ids_of(&skills, "title0 / title63"), ["p0", "p63"]);
        // Persona i's id is on line 3 + 4i, so the 65th (i = 64) is on line 259.
        let (line, column, message) = invalid(&personas(MAX_PERSONAS + 1));
        assert_eq!((line, column), (259, 6), "{message}");
        assert!(message.contains("\"p64\""), "{message}");
        assert!(message.contains("at most 64 personas"), "{message}");
    }

    /// A file with one numeric segment (`revenue`) whose table ends with `extra`, then `rest`;
    /// `extra` starts on line 7.
    fn with_numeric(extra: &str, rest: &str) -> String {
        format!(
            "version = 1\n[[segments]]\nid = \"revenue\"\nlabel = \"Revenue\"\nsource = \"company\"\n\
             property = \"revenue\"\n{extra}{rest}"
        )
    }

    #[test]
    fn numeric_segments_parse_and_default_to_categorical() {
        let skills = parsed(&with_numeric(
            "numeric = true\nconfounder = true\npopulation = false\n",
            "[[segments]]\nid = \"tier\"\nlabel = \"Tier\"\nsource = \"deal\"\nproperty = \"tier\"\n",
        ));
        let [revenue, tier] = skills.segments() else {
            panic!("{:?}", skills.segments())
        };
        assert!(revenue.numeric() && revenue.confounder() && !revenue.population());
        assert!(!tier.numeric());
        assert!(!parsed(&with_numeric("numeric = false\n", "")).segments()[0].numeric());
        assert_eq!(NUMERIC_BANDS, ["low", "mid", "high"]);
    }

    #[test]
    fn numeric_segment_rules_are_reported_where_they_break() {
        // A numeric segment cannot define populations: at the `population` value.
        let (line, column, message) =
            invalid(&with_numeric("numeric = true\npopulation = true\n", ""));
        assert_eq!((line, column), (8, 14), "{message}");
        assert!(
            message.contains("segment \"revenue\" is numeric, so it cannot define populations"),
            "{message}"
        );
        // ...whichever key comes first.
        let (line, column, message) =
            invalid(&with_numeric("population = true\nnumeric = true\n", ""));
        assert_eq!((line, column), (7, 14), "{message}");
        assert!(message.contains("cannot define populations"), "{message}");
        // `numeric` is a boolean.
        for bad in ["\"yes\"", "1", "[true]"] {
            let (line, _, message) = invalid(&with_numeric(&format!("numeric = {bad}\n"), ""));
            assert_eq!(line, 7, "{bad}: {message}");
        }
        // A moderator names one of the thirds, never a raw number.
        let moderator = |signal: &str| {
            with_numeric(
                "numeric = true\n",
                &format!("[[moderators]]\nsignal = {signal:?}\nlabel = \"unless\"\n"),
            )
        };
        for band in NUMERIC_BANDS {
            let signal = format!("revenue={band}");
            assert_eq!(parsed(&moderator(&signal)).moderators()[0].signal(), signal);
        }
        for value in ["1000", "Low", "medium", "low "] {
            let (line, column, message) = invalid(&moderator(&format!("revenue={value}")));
            assert_eq!((line, column), (9, 10), "{value}: {message}");
            assert!(
                message.contains("is numeric, so its values are its thirds low, mid, high")
                    || message.contains("without spaces"),
                "{value}: {message}"
            );
        }
        // A categorical segment takes any value.
        let text = with_numeric(
            "",
            "[[moderators]]\nsignal = \"revenue=1000\"\nlabel = \"unless\"\n",
        );
        assert_eq!(parsed(&text).moderators().len(), 1);
    }

    #[test]
    fn segment_rules_are_reported_where_they_break() {
        let segment = |id: &str, source: &str, property: &str| {
            format!(
                "version = 1\n[[personas]]\nid = \"cto\"\nlabel = \"CTO\"\npatterns = [\"CTO\"]\n\
                 [[segments]]\nid = {id}\nlabel = \"S\"\nsource = {source}\nproperty = {property}\n"
            )
        };
        // A property recorded at the close: at the property, whatever its case.
        for property in ["\"closedate\"", "\"Closed_Reason_Code\"", "\"amount\""] {
            let (line, column, message) = invalid(&segment("\"s\"", "\"deal\"", property));
            assert_eq!((line, column), (10, 12), "{message}");
            assert!(
                message.contains("is recorded when the deal closes")
                    && message.contains("would leak the outcome into the pattern")
                    && message.contains("choose a property known while the deal is open"),
                "{message}"
            );
        }
        // Every denied name is refused, from either source.
        for property in POST_CLOSE_PROPERTIES {
            for source in ["\"deal\"", "\"company\""] {
                let text = segment("\"s\"", source, &format!("{property:?}"));
                assert!(Skills::parse(&text, "t").is_err(), "{property} {source}");
            }
        }
        // An id that is a persona's: at the id.
        let (line, column, message) = invalid(&segment("\"cto\"", "\"company\"", "\"industry\""));
        assert_eq!((line, column), (7, 6), "{message}");
        assert!(message.contains("also a persona id"), "{message}");
        // An unknown source: at the value.
        let (line, column, message) = invalid(&segment("\"s\"", "\"contact\"", "\"industry\""));
        assert_eq!((line, column), (9, 10), "{message}");
        assert!(message.contains("contact"), "{message}");
        // An empty property.
        let (line, column, message) = invalid(&segment("\"s\"", "\"deal\"", "\" \""));
        assert_eq!((line, column), (10, 12), "{message}");
        assert!(message.contains("`property`"), "{message}");
        // The same property twice: at the second.
        let text = format!(
            "{}[[segments]]\nid = \"t\"\nlabel = \"T\"\nsource = \"company\"\nproperty = \"industry\"\n",
            segment("\"s\"", "\"company\"", "\"industry\"")
        );
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (15, 12), "{message}");
        assert!(message.contains("already reads"), "{message}");
        // ...but a company and a deal property may share a name.
        let text = format!(
            "{}[[segments]]\nid = \"t\"\nlabel = \"T\"\nsource = \"deal\"\nproperty = \"industry\"\n",
            segment("\"s\"", "\"company\"", "\"industry\"")
        );
        assert_eq!(parsed(&text).segments().len(), 2);
        // Phrase list ids collide too.
        let text = "version = 1\n[[phrases]]\nid = \"legal\"\nlabel = \"L\"\nphrases = [\"MSA\"]\n\
                    [[segments]]\nid = \"legal\"\nlabel = \"L\"\nsource = \"deal\"\nproperty = \"legal\"\n";
        let (line, column, message) = invalid(text);
        assert_eq!((line, column), (7, 6), "{message}");
        assert!(message.contains("also a phrase list id"), "{message}");
    }

    #[test]
    fn segments_parse_with_their_defaults() {
        let skills = parsed(
            "version = 1\n[[segments]]\nid = \"region\"\nlabel = \" Region \"\nsource = \"company\"\n\
             property = \"region\"\n[[segments]]\nid = \"tier\"\nlabel = \"Tier\"\nsource = \"deal\"\n\
             property = \"Deal Tier\"\npopulation = true\nconfounder = true\n",
        );
        let [region, tier] = skills.segments() else {
            panic!("{:?}", skills.segments())
        };
        assert_eq!(
            (
                region.id(),
                region.label(),
                region.source(),
                region.property()
            ),
            ("region", "Region", SegmentSource::Company, "region")
        );
        assert!(!region.population() && !region.confounder());
        assert_eq!(
            (tier.source(), tier.property()),
            (SegmentSource::Deal, "Deal Tier")
        );
        assert!(tier.population() && tier.confounder());
        assert!(skills.segment("tier").is_some_and(|s| s.id() == "tier"));
        assert_eq!(skills.segment("nothing"), None);
    }

    #[test]
    fn every_signal_form_is_accepted() {
        let text = with_definitions(
            "[[moderators]]\nsignal = \"single_threaded\"\nlabel = \"one thread\"\n\
             exposures = [\"slipped_before\", \"engaged:cto\", \"live:cfo\", \"mentioned:competitor\", \
             \"stage_engaged:cfo\", \"stage_mentioned:competitor\", \"buying_center=engineering\", \
             \"buying_center=Finance: EMEA=1\"]\n\
             [[moderators]]\nsignal = \"buying_center=engineering\"\nlabel = \"engineering-led\"\n",
        );
        let skills = parsed(&text);
        let [first, second] = skills.moderators() else {
            panic!("{:?}", skills.moderators())
        };
        assert_eq!(first.signal(), "single_threaded");
        assert_eq!(first.label(), "one thread");
        assert_eq!(first.exposures().len(), 8);
        assert_eq!(first.exposures()[7], "buying_center=Finance: EMEA=1");
        // No exposures means every signal.
        assert!(second.exposures().is_empty());
        assert_eq!(skills.persona("cfo").and_then(Persona::live_days), Some(30));
        assert_eq!(skills.persona("cto").and_then(Persona::live_days), None);
    }

    #[test]
    fn moderator_rules_are_reported_where_they_break() {
        // `rest` starts on line 20 (`[[moderators]]`); the signal's value is at 21:10.
        let moderator = |signal: &str| {
            with_definitions(&format!(
                "[[moderators]]\nsignal = {signal:?}\nlabel = \"unless\"\n"
            ))
        };
        let cases = [
            (
                "engaged:cfo_office",
                "persona \"cfo_office\", which this file does not define",
            ),
            (
                "stage_engaged:",
                "persona \"\", which this file does not define",
            ),
            ("live:cto", "persona \"cto\" has no `live_days`"),
            (
                "mentioned:discount",
                "phrase list \"discount\", which this file does not define",
            ),
            ("stage_mentioned:Competitor", "phrase list \"Competitor\""),
            (
                "region=EMEA",
                "segment \"region\", which this file does not define",
            ),
            ("buying_center=", "needs a segment value"),
            ("buying_center= finance", "needs a segment value"),
            ("mention:competitor", "is not a signal name"),
            ("single-threaded", "is not a signal name"),
            ("", "is not a signal name"),
            ("competitor", "is not a signal name"),
        ];
        for (signal, expected) in cases {
            let (line, column, message) = invalid(&moderator(signal));
            assert_eq!((line, column), (21, 10), "{signal:?}: {message}");
            assert!(message.contains(expected), "{signal:?}: {message}");
        }
        // A bad exposure: at the exposure.
        let text = with_definitions(
            "[[moderators]]\nsignal = \"single_threaded\"\nlabel = \"x\"\n\
             exposures = [\"engaged:cto\", \"engaged:ceo\"]\n",
        );
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (23, 29), "{message}");
        assert!(
            message.contains("exposure signal \"engaged:ceo\" names the persona \"ceo\""),
            "{message}"
        );
        // An exposure listed twice, or the moderator itself.
        let text = with_definitions(
            "[[moderators]]\nsignal = \"single_threaded\"\nlabel = \"x\"\n\
             exposures = [\"engaged:cto\", \"engaged:cto\"]\n",
        );
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (23, 29), "{message}");
        assert!(message.contains("twice"), "{message}");
        let text = with_definitions(
            "[[moderators]]\nsignal = \"engaged:cto\"\nlabel = \"x\"\nexposures = [\"engaged:cto\"]\n",
        );
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (23, 14), "{message}");
        assert!(message.contains("its own effect"), "{message}");
        // The same moderator twice: at the second.
        let text = with_definitions(
            "[[moderators]]\nsignal = \"engaged:cto\"\nlabel = \"x\"\n\
             [[moderators]]\nsignal = \"engaged:cto\"\nlabel = \"y\"\n",
        );
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (24, 10), "{message}");
        assert!(message.contains("listed twice"), "{message}");
        // An empty label, and a missing one.
        let text = with_definitions("[[moderators]]\nsignal = \"engaged:cto\"\nlabel = \"\"\n");
        let (line, column, message) = invalid(&text);
        assert_eq!((line, column), (22, 9), "{message}");
        assert!(message.contains("empty label"), "{message}");
        let (line, _, message) = invalid(&with_definitions(
            "[[moderators]]\nsignal = \"engaged:cto\"\n",
        ));
        assert_eq!(line, 20, "{message}");
        assert!(message.contains("label"), "{message}");
        // Moderators may come before what they name: the whole file is read first.
        let text = "version = 1\n[[moderators]]\nsignal = \"mentioned:x\"\nlabel = \"x\"\n\
                    [[phrases]]\nid = \"x\"\nlabel = \"X\"\nphrases = [\"x\"]\n";
        assert_eq!(parsed(text).moderators().len(), 1);
    }

    #[test]
    fn live_days_must_be_a_positive_number() {
        let persona = |days: &str| {
            format!(
                "version = 1\n[[personas]]\nid = \"cfo\"\nlabel = \"CFO\"\npatterns = [\"CFO\"]\n\
                 live_days = {days}\n"
            )
        };
        assert_eq!(parsed(&persona("45")).personas()[0].live_days(), Some(45));
        let (line, column, message) = invalid(&persona("0"));
        assert_eq!((line, column), (6, 13), "{message}");
        assert!(message.contains("at least 1"), "{message}");
        for bad in ["-3", "\"30\"", "1.5"] {
            let (line, _, message) = invalid(&persona(bad));
            assert_eq!(line, 6, "{bad}: {message}");
        }
    }

    #[test]
    fn load_or_builtin_and_from_config() {
        let builtin = Skills::load_or_builtin(None);
        assert!(
            matches!(&builtin, Ok(s) if *s == Skills::builtin()),
            "{builtin:?}"
        );
        let config = crate::config::Config::default();
        assert!(matches!(Skills::from_config(&config), Ok(s) if s == Skills::builtin()));

        let dir = tempfile::tempdir();
        assert!(dir.is_ok());
        let Ok(dir) = dir else { return };
        let path = dir.path().join("team.toml");
        let team =
            "version = 1\n[[phrases]]\nid = \"rival\"\nlabel = \"Rival\"\nphrases = [\"Acme\"]\n";
        assert!(std::fs::write(&path, team).is_ok());
        let loaded = Skills::load_or_builtin(Some(&path));
        assert!(
            matches!(&loaded, Ok(s) if s.phrase_hits("acme") == 1 && s.personas().is_empty()),
            "{loaded:?}"
        );
        let mut config = crate::config::Config::default();
        config.skills.file = Some(path.clone());
        let from_config = Skills::from_config(&config);
        assert!(
            matches!(&from_config, Ok(s) if s.source_name() == path.display().to_string()),
            "{from_config:?}"
        );
        config.skills.file = Some(dir.path().join("missing.toml"));
        assert!(matches!(
            Skills::from_config(&config),
            Err(SkillsError::Read { .. })
        ));
        // A broken team file is an error, never a silent fallback to the built-in skills.
        assert!(std::fs::write(&path, "version = 1\n[[phrases]]\nid = \"x\"\n").is_ok());
        let broken = Skills::load_or_builtin(Some(&path));
        assert!(
            matches!(&broken, Err(SkillsError::Invalid { line: 2, .. })),
            "{broken:?}"
        );
    }

    /// Words and separators that exercise overlapping phrases, exclusions and filler words.
    fn phrase_text() -> impl Strategy<Value = String> {
        let word = prop::sample::select(vec![
            "price", "PRICE", "cut", "list", "off", "of", "the", "and", "no", "discount",
            "Discount", "business", "case", "ROI", "soc", "2", "pen", "test", "Quantivo",
            "closely", "MSA", "legal", "review", "security", "ΣΑΣ", "straße", "",
        ]);
        let sep = prop::sample::select(vec![" ", ", ", "-", " & ", "/", "  ", "'", "\n", ""]);
        prop::collection::vec((word, sep), 0..12).prop_map(|parts| {
            parts
                .into_iter()
                .flat_map(|(w, s)| [w, s])
                .collect::<String>()
        })
    }

    const OVERLAPPING: &str = "version = 1\n\
        [[phrases]]\nid = \"a\"\nlabel = \"A\"\nphrases = [\"price\", \"price cut\"]\nexclude = [\"price list\"]\n\
        [[phrases]]\nid = \"b\"\nlabel = \"B\"\nphrases = [\"price cut\", \"cut off the list\"]\n\
        [[phrases]]\nid = \"c\"\nlabel = \"C\"\nphrases = [\"cut\"]\nexclude = [\"cut off\", \"no\"]\n\
        [[phrases]]\nid = \"d\"\nlabel = \"D\"\nphrases = [\"ΣΑΣ\", \"STRASSE\", \"straße\"]\n";

    proptest! {
        #[test]
        fn phrase_hits_never_panics_and_agrees_with_matches(text in any::<String>()) {
            let skills = Skills::builtin();
            let hits = skills.phrase_hits(&text);
            prop_assert_eq!(hits >> skills.phrase_lists().len(), 0);
            for (i, list) in skills.phrase_lists().iter().enumerate() {
                prop_assert_eq!(hits & (1 << i) != 0, list.matches(&text));
            }
        }

        #[test]
        fn phrase_hits_agrees_with_matches_on_phrase_words(text in phrase_text()) {
            for skills in [Skills::builtin(), parsed(OVERLAPPING)] {
                let hits = skills.phrase_hits(&text);
                for (i, list) in skills.phrase_lists().iter().enumerate() {
                    prop_assert_eq!(
                        hits & (1 << i) != 0,
                        list.matches(&text),
                        "list {} on {:?}", list.id(), text
                    );
                }
                // Outside ASCII, lower-casing depends on the neighbours (a Greek final sigma
                // depends on the next character, even across an apostrophe), so punctuation can
                // change a word: the invariances hold for ASCII text.
                if text.is_ascii() {
                    prop_assert_eq!(
                        skills.phrase_hits(&text.to_uppercase()),
                        skills.phrase_hits(&text.to_lowercase())
                    );
                    prop_assert_eq!(
                        skills.phrase_hits(&text.replace([',', '/', '-', '&', '\''], " ")),
                        skills.phrase_hits(&text.replace('&', " and "))
                    );
                }
            }
        }
    }
}
