//! Configuration: one typed struct with defaults, loaded from a commented TOML file.
//!
//! A missing file means defaults; a malformed one is reported with the file, line and column and
//! what is wrong. Secrets are never read from here: the CRM token comes from the environment
//! variable named by `crm.token_env` (or the OS keyring).

use directories::ProjectDirs;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the cache lives.
    pub cache: CacheConfig,
    /// Which CRM to sync from.
    pub crm: CrmConfig,
    /// Review defaults.
    pub review: ReviewConfig,
    /// Terminal UI preferences.
    pub ui: UiConfig,
    /// Which skills file defines the signals.
    #[serde(skip_serializing_if = "SkillsConfig::is_default")]
    pub skills: SkillsConfig,
}

/// `[cache]`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// The cache file. Default: the platform data dir, `dealtrace/cache.sqlite`.
    pub path: Option<PathBuf>,
}

/// Which CRM a cache syncs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmKind {
    /// No CRM configured: demo data or CSV imports only.
    #[default]
    None,
    /// HubSpot CRM v3/v4 REST API.
    Hubspot,
    /// Salesforce (a later connector).
    Salesforce,
    /// Pipedrive (a later connector).
    Pipedrive,
}

/// `[crm]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrmConfig {
    /// Which CRM.
    pub kind: CrmKind,
    /// The API host; overridable so that tests and proxies can point elsewhere.
    pub base_url: String,
    /// The name of the environment variable that holds the token (never the token itself).
    pub token_env: String,
    /// Request budget per rolling 10 s (HubSpot: 100, or 190 on Professional/Enterprise).
    pub requests_per_10s: u32,
    /// Post a summary of each finished review back to the CRM as a note.
    pub write_back: bool,
    /// Extra deal properties to copy into the cache (lead source, deal type, …).
    pub deal_properties: Vec<String>,
    /// Extra company properties to copy into the cache (region, …).
    pub company_properties: Vec<String>,
    /// The company property holding the size band or the number of employees.
    pub size_band_property: String,
    /// The company property naming the function that leads the purchase.
    pub buying_center_property: String,
    /// The account's currency, for deals that do not name one.
    pub currency: String,
}

impl Default for CrmConfig {
    fn default() -> Self {
        CrmConfig {
            kind: CrmKind::None,
            base_url: "https://api.hubapi.com".into(),
            token_env: "HUBSPOT_TOKEN".into(),
            requests_per_10s: 100,
            write_back: false,
            deal_properties: Vec::new(),
            company_properties: Vec::new(),
            size_band_property: "numberofemployees".into(),
            buying_center_property: "buying_center".into(),
            currency: "USD".into(),
        }
    }
}

/// `[review]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// The name recorded on reviews. Default: the `USER` environment variable.
    pub reviewer: Option<String>,
    /// A close-date move later by at least this many days counts as a slip.
    pub slip_min_days: i64,
    /// A deal is stalled when its time in stage exceeds this quantile of the stage's completed
    /// stays in the team's history (0.75 = longer than three deals in four took).
    pub stall_quantile: f64,
    /// How far back the review queue looks for deals that closed or slipped, in days.
    pub lookback_days: i64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            reviewer: None,
            slip_min_days: 7,
            stall_quantile: 0.75,
            lookback_days: 7,
        }
    }
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    /// Colour unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `[ui]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Colour mode.
    pub color: ColorMode,
    /// Mouse clicks and scrolling.
    pub mouse: bool,
    /// How often the screen refreshes while idle, in milliseconds (the status line's clock).
    pub tick_ms: u64,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            color: ColorMode::Auto,
            mouse: true,
            tick_ms: 1000,
        }
    }
}

impl UiConfig {
    /// Whether to draw in colour, given the value of `NO_COLOR` (any non-empty value disables it).
    pub fn use_color(&self, no_color: Option<&str>) -> bool {
        match self.color {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => no_color.is_none_or(str::is_empty),
        }
    }
}

/// `[skills]`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkillsConfig {
    /// The skills file (personas, phrase lists, segments, moderators). A relative path is taken
    /// from the working directory, like `cache.path`. Default: the built-in
    /// `assets/skills/default.toml`.
    pub file: Option<PathBuf>,
}

impl SkillsConfig {
    /// Whether nothing is set, so that a serialised default configuration has no empty
    /// `[skills]` table.
    fn is_default(&self) -> bool {
        *self == SkillsConfig::default()
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a key or value this version does not understand.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Key names that would hold a secret; they are refused with advice instead of read.
const SECRET_KEYS: &[&str] = &[
    "token",
    "api_key",
    "apikey",
    "access_token",
    "password",
    "secret",
];

impl Config {
    /// The name recorded on reviews and lesson changes: the config's reviewer, else the login
    /// name.
    pub fn reviewer_name(&self) -> String {
        self.review
            .reviewer
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "reviewer".into())
    }

    /// Parses configuration text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let position = |offset: usize| {
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        };
        // Refuse secrets by name before the generic "unknown field" error, so the message says
        // what to do instead.
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(crm) = table.get("crm").and_then(|v| v.as_table())
            && let Some(key) = crm.keys().find(|k| SECRET_KEYS.contains(&k.as_str()))
        {
            let offset = text.find(key.as_str()).unwrap_or(0);
            let (line, column) = position(offset);
            return Err(ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: format!(
                    "`crm.{key}`: secrets are never read from the config file; put the token in \
                     the environment variable named by `crm.token_env` instead"
                ),
            });
        }
        toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| position(s.start));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })
    }

    /// Loads the file at `path`; a missing file means defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

/// The platform directories dealtrace uses, if the platform has a home directory.
pub fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "dealtrace")
}

/// The default config file: the platform config dir, `dealtrace/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// The default cache file: the platform data dir, `dealtrace/cache.sqlite`.
pub fn default_cache_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().join("cache.sqlite"))
}

/// The cache to use: `--db` / `DEALTRACE_DB` first, then the config file, then the default.
pub fn resolve_cache_path(flag: Option<&Path>, config: &Config) -> Option<PathBuf> {
    flag.map(Path::to_owned)
        .or_else(|| config.cache.path.clone())
        .or_else(default_cache_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("config.toml"))
    }

    #[test]
    fn empty_text_means_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn the_example_file_parses_and_covers_every_key() {
        let text = include_str!("../config.example.toml");
        let parsed = parse(text).unwrap();
        // Every key the code reads appears in the example: serialising the defaults and checking
        // each key name is present (commented or not) keeps the two in step.
        let defaults = toml::to_string(&Config {
            cache: CacheConfig {
                path: Some("x".into()),
            },
            review: ReviewConfig {
                reviewer: Some("x".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        let table: toml::Table = defaults.parse().unwrap();
        for (section, value) in &table {
            assert!(
                text.contains(&format!("[{section}]")),
                "missing [{section}]"
            );
            for key in value.as_table().unwrap().keys() {
                assert!(
                    text.contains(&format!("{key} =")),
                    "config.example.toml does not document {section}.{key}"
                );
            }
        }
        assert_eq!(parsed.crm.token_env, "HUBSPOT_TOKEN");
    }

    #[test]
    fn malformed_toml_reports_line_and_column() {
        let err = parse("[review]\nslip_min_days = 7\nstall_quantile = = 3\n").unwrap_err();
        let ConfigError::Parse { line, column, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!((*line, *column), (3, 18));
        assert!(err.to_string().starts_with("config.toml:3:18: "), "{err}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_reported() {
        let err = parse("[ui]\ncolour = \"never\"\n").unwrap_err().to_string();
        assert!(err.contains("config.toml:2:1"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let err = parse("[crm]\nrequests_per_10s = \"fast\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.toml:2:"), "{err}");
    }

    #[test]
    fn secrets_in_the_file_are_refused_with_advice() {
        let err = parse("[crm]\nkind = \"hubspot\"\ntoken = \"pat-123\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.toml:3:1"), "{err}");
        assert!(err.contains("never read from the config file"), "{err}");
        assert!(!err.contains("pat-123"), "the secret must not be echoed");
    }

    #[test]
    fn missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(&dir.path().join("nope.toml")).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn no_color_is_honoured_in_auto_mode_only() {
        let ui = UiConfig::default();
        assert!(ui.use_color(None));
        assert!(ui.use_color(Some("")));
        assert!(!ui.use_color(Some("1")));
        let always = UiConfig {
            color: ColorMode::Always,
            ..UiConfig::default()
        };
        assert!(always.use_color(Some("1")));
    }

    #[test]
    fn skills_file_is_optional_and_checked_strictly() {
        assert_eq!(parse("").unwrap().skills.file, None);
        let cfg = parse("[skills]\nfile = \"team-skills.toml\"\n").unwrap();
        assert_eq!(cfg.skills.file, Some(PathBuf::from("team-skills.toml")));
        let err = parse("[skills]\npath = \"team-skills.toml\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.toml:2:1"), "{err}");
        assert!(err.contains("path"), "{err}");
        // A set file survives a round trip; an unset one writes no empty table.
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(parse(&text).unwrap(), cfg);
        let defaults = toml::to_string(&Config::default()).unwrap();
        assert!(!defaults.contains("[skills]"), "{defaults}");
    }

    #[test]
    fn cache_path_precedence() {
        let cfg = Config {
            cache: CacheConfig {
                path: Some("/from/config.sqlite".into()),
            },
            ..Default::default()
        };
        assert_eq!(
            resolve_cache_path(Some(Path::new("/flag.sqlite")), &cfg),
            Some(PathBuf::from("/flag.sqlite"))
        );
        assert_eq!(
            resolve_cache_path(None, &cfg),
            Some(PathBuf::from("/from/config.sqlite"))
        );
    }
}
