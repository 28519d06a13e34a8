//! Skills: the declarative signal definitions of `assets/skills/*.toml`.
//!
//! So far a skills file holds **personas**: who a stakeholder is, read from the job title the CRM
//! holds. The file is versioned (`version = 1`) and every table is checked strictly
//! (`deny_unknown_fields`), so a typo is an error with its line rather than a persona silently
//! missing. The sections still to come (competitor names, phrase lists, segment dimensions,
//! moderators) are deliberately *not* declared yet: a file that has them is refused until they
//! exist, and adding them later as optional fields keeps every file written today valid.
//!
//! # Matching titles
//!
//! A title and every pattern go through [`normalize`]: lower case, every run of characters that
//! are not letters or digits becomes one space, and the filler words `of`, `and` and `the` are
//! dropped ("VP, Finance & Operations" → `vp finance operations`). A persona matches a title when
//! one of its patterns occurs in the title as a run of whole words and none of its `exclude`
//! patterns does. Whole words keep "CTO" out of "Director" and "Office" out of "Officer".
//! Patterns are compiled at parse time, so [`Skills::personas_of`] costs one normalisation of the
//! title plus a substring search per pattern.

use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The skills file shipped with dealtrace.
pub const BUILTIN: &str = include_str!("../../assets/skills/default.toml");

/// The name the built-in file is reported under.
const BUILTIN_NAME: &str = "assets/skills/default.toml (built in)";

/// The only format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// Words that carry no meaning in a title, dropped so that "VP of Engineering" is "VP
/// Engineering" and "Finance & Operations" is "Finance Operations".
const FILLER_WORDS: [&str; 3] = ["of", "and", "the"];

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

/// A kind of stakeholder, recognised by job-title patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    id: String,
    label: String,
    patterns: Vec<String>,
    exclude: Vec<String>,
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

    /// Whether a job title has this persona (see the module doc for the rules).
    pub fn matches(&self, title: &str) -> bool {
        self.matches_padded(&padded(title))
    }

    /// [`Persona::matches`] on a title already passed through [`padded`], so that a title checked
    /// against every persona is normalised once.
    fn matches_padded(&self, title: &str) -> bool {
        self.match_needles
            .iter()
            .any(|n| title.contains(n.as_str()))
            && !self
                .exclude_needles
                .iter()
                .any(|n| title.contains(n.as_str()))
    }
}

/// A parsed and checked skills file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skills {
    source_name: String,
    personas: Vec<Persona>,
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

        let mut personas: Vec<Persona> = Vec::with_capacity(raw.personas.len());
        for p in raw.personas {
            let id = p.id.get_ref();
            let at_id = p.id.span().start;
            if !is_snake_case(id) {
                return Err(invalid(
                    at_id,
                    format!(
                        "persona id {id:?} must be snake_case: lower-case letters, digits and \
                         single underscores, starting with a letter"
                    ),
                ));
            }
            if let Some(first) = personas.iter().find(|q| q.id == *id) {
                return Err(invalid(
                    at_id,
                    format!("persona id {:?} is defined twice", first.id),
                ));
            }
            if p.label.get_ref().trim().is_empty() {
                return Err(invalid(
                    p.label.span().start,
                    format!("persona {id:?} has an empty label"),
                ));
            }
            if p.patterns.is_empty() {
                return Err(invalid(
                    at_id,
                    format!("persona {id:?} needs at least one title pattern in `patterns`"),
                ));
            }
            let match_needles = compile(&p.patterns, id, "patterns", &invalid)?;
            let exclude_needles = compile(&p.exclude, id, "exclude", &invalid)?;
            personas.push(Persona {
                id: p.id.into_inner(),
                label: p.label.into_inner().trim().to_owned(),
                patterns: p.patterns.into_iter().map(Spanned::into_inner).collect(),
                exclude: p.exclude.into_iter().map(Spanned::into_inner).collect(),
                match_needles,
                exclude_needles,
            });
        }
        Ok(Skills {
            source_name: source_name.to_owned(),
            personas,
        })
    }

    /// The name of the file these skills came from.
    pub fn source_name(&self) -> &str {
        &self.source_name
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
            .filter(|p| p.matches_padded(&title))
            .collect()
    }
}

/// Normalises title text the way matching sees it: lower case, runs of characters that are not
/// letters or digits become one space, the filler words `of`, `and` and `the` are dropped, and
/// the words are joined by single spaces ("VP, Finance & Operations" → `vp finance operations`).
pub fn normalize(text: &str) -> String {
    let padded = padded(text);
    padded.trim().to_owned()
}

/// [`normalize`] with one space before and after (and `" "` for nothing), so that
/// `padded(title).contains(&padded(pattern))` is a whole-word match.
fn padded(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len() + 2);
    out.push(' ');
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER_WORDS.contains(w))
    {
        out.push_str(word);
        out.push(' ');
    }
    out
}

/// Compiles one list of patterns, refusing any that normalises to nothing (it would match
/// every title).
fn compile(
    patterns: &[Spanned<String>],
    id: &str,
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
                        "persona {id:?}: `{key}` entry {:?} has no words to match (empty, only \
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
        // Sections not defined yet are refused too, rather than silently ignored.
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
}
