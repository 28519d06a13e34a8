//! The portable lesson library: lessons as TOML a team keeps in git, and the three-way merge
//! that imports it without ever losing a local edit.
//!
//! Each lesson in the cache remembers the text it had when it last left for, or came from, a
//! library file (its *base*). On import, a lesson changed only in the file is taken; changed
//! only here, kept; changed on both sides, reported as a conflict and left as it is here.

use crate::domain::Lesson;
use serde::{Deserialize, Serialize};

/// A library file: `[[lessons]]` tables.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LibraryFile {
    /// The lessons, in the order written.
    #[serde(default)]
    pub lessons: Vec<Lesson>,
}

/// The header every exported file starts with.
pub const HEADER: &str = "# dealtrace lesson library: keep it in git; `dealtrace lessons import` \
                          merges it by lesson id\n# and reports a lesson changed both here and \
                          in the cache instead of overwriting either.\n\n";

/// Errors reading a library file.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The TOML does not parse or does not have the library's shape.
    #[error("{0}")]
    Parse(String),
    /// Two lessons in the input share an id.
    #[error("lesson {0} appears twice")]
    Duplicate(String),
}

/// Parses a library file's text.
pub fn parse(text: &str) -> Result<LibraryFile, LibraryError> {
    let file: LibraryFile = toml::from_str(text).map_err(|e| LibraryError::Parse(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    for l in &file.lessons {
        if !seen.insert(l.id.as_str()) {
            return Err(LibraryError::Duplicate(l.id.to_string()));
        }
    }
    Ok(file)
}

/// Writes lessons as a library file's text.
pub fn write(lessons: &[Lesson]) -> Result<String, LibraryError> {
    let body = toml::to_string_pretty(&LibraryFile {
        lessons: lessons.to_vec(),
    })
    .map_err(|e| LibraryError::Parse(e.to_string()))?;
    Ok(format!("{HEADER}{body}"))
}

/// A lesson's content as the merge compares it (and as the cache keeps its base).
pub fn content(l: &Lesson) -> String {
    // Lessons are plain data: serialising one cannot fail; an empty string would only make
    // the merge report a conflict, never overwrite.
    serde_json::to_string(l).unwrap_or_default()
}

/// What importing one lesson does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// New here: added.
    Added,
    /// Changed only in the file: taken.
    Updated,
    /// The same on both sides.
    Unchanged,
    /// Changed only here: the local edit is kept.
    KeptLocal,
    /// Changed on both sides (or never exchanged and different): left as it is here.
    Conflict,
}

impl Merge {
    /// Whether the incoming lesson is written to the cache.
    pub fn takes_incoming(self) -> bool {
        matches!(self, Merge::Added | Merge::Updated)
    }
}

/// The merge of `incoming` into the cache, where `local` is the cache's lesson with the same
/// id (with its base, if it was ever exchanged).
pub fn merge(local: Option<(&Lesson, Option<&str>)>, incoming: &Lesson) -> Merge {
    let Some((local, base)) = local else {
        return Merge::Added;
    };
    let (mine, theirs) = (content(local), content(incoming));
    if mine == theirs {
        return Merge::Unchanged;
    }
    match base {
        Some(base) if base == mine => Merge::Updated,
        Some(base) if base == theirs => Merge::KeptLocal,
        _ => Merge::Conflict,
    }
}

/// The fields that differ between two versions of a lesson, for a conflict report.
pub fn differences(a: &Lesson, b: &Lesson) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            out.push(name);
        }
    };
    check("statement", a.statement != b.statement);
    check("recommendation", a.recommendation != b.recommendation);
    check("trigger", a.trigger != b.trigger);
    check("patterns", a.patterns != b.patterns);
    check("status", a.status != b.status);
    check("owner", a.owner != b.owner);
    check("tags", a.tags != b.tags);
    check("version", a.version != b.version);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LessonStatus;

    /// The store's sample lesson under another id.
    fn lesson(id: &str) -> Lesson {
        Lesson {
            id: id.into(),
            ..crate::store::lessons::tests::lesson()
        }
    }

    #[test]
    fn a_library_round_trips_through_toml() {
        let lessons = vec![lesson("a"), lesson("b")];
        let text = write(&lessons).unwrap();
        assert!(text.starts_with("# dealtrace lesson library"));
        assert!(text.contains("[[lessons]]"), "{text}");
        assert_eq!(parse(&text).unwrap().lessons, lessons);
        assert!(matches!(
            parse(&write(&[lesson("a"), lesson("a")]).unwrap()),
            Err(LibraryError::Duplicate(id)) if id == "a"
        ));
        assert!(matches!(parse("lessons = 3"), Err(LibraryError::Parse(_))));
        assert_eq!(parse("").unwrap().lessons, vec![]);
    }

    #[test]
    fn the_merge_never_loses_a_local_edit() {
        let base = lesson("a");
        let base_text = content(&base);
        let mut local_edit = base.clone();
        local_edit.recommendation = "Book the CFO".into();
        local_edit.version = 3;
        let mut their_edit = base.clone();
        their_edit.status = LessonStatus::Retired;
        their_edit.version = 3;

        assert_eq!(merge(None, &base), Merge::Added);
        assert_eq!(
            merge(Some((&base, Some(&base_text))), &base),
            Merge::Unchanged
        );
        assert_eq!(
            merge(Some((&base, Some(&base_text))), &their_edit),
            Merge::Updated
        );
        assert_eq!(
            merge(Some((&local_edit, Some(&base_text))), &base),
            Merge::KeptLocal
        );
        assert_eq!(
            merge(Some((&local_edit, Some(&base_text))), &their_edit),
            Merge::Conflict
        );
        assert_eq!(
            merge(Some((&local_edit, None)), &their_edit),
            Merge::Conflict,
            "never exchanged and different: nobody can say which is newer"
        );
        assert_eq!(
            differences(&local_edit, &their_edit),
            vec!["recommendation", "status"]
        );
        assert!(Merge::Updated.takes_incoming() && !Merge::Conflict.takes_incoming());
    }
}
