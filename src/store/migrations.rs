//! The cache schema as numbered migrations. Never edit a migration that has shipped: add one.
//!
//! Conventions: every instant is INTEGER Unix seconds UTC; ids from a CRM are TEXT; ids dealtrace
//! mints are UUID v7 TEXT; booleans are INTEGER 0/1 with a CHECK.

use rusqlite_migration::{M, Migrations};

/// Migration 1: the spine — CRM facts (pipelines, owners, companies, contacts, deals with their
/// field history, stakeholders, activities) and the records dealtrace owns (reviews, decision
/// traces, lessons), plus a key/value table for cache metadata.
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE teams (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE owners (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    email   TEXT,
    team_id TEXT REFERENCES teams(id) ON DELETE SET NULL,
    active  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) WITHOUT ROWID;

CREATE TABLE pipelines (
    id            TEXT PRIMARY KEY,
    label         TEXT NOT NULL,
    display_order INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE stages (
    pipeline_id   TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    label         TEXT NOT NULL,
    display_order INTEGER NOT NULL DEFAULT 0,
    probability   REAL,
    is_closed     INTEGER NOT NULL CHECK (is_closed IN (0, 1)),
    is_won        INTEGER NOT NULL CHECK (is_won IN (0, 1)),
    PRIMARY KEY (pipeline_id, id)
) WITHOUT ROWID;

CREATE TABLE companies (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    domain        TEXT,
    industry      TEXT,
    size_band     TEXT,
    buying_center TEXT
) WITHOUT ROWID;

CREATE TABLE company_properties (
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (company_id, name)
) WITHOUT ROWID;

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY,
    company_id TEXT REFERENCES companies(id) ON DELETE SET NULL,
    name       TEXT NOT NULL,
    email      TEXT,
    title      TEXT,
    created_at INTEGER
) WITHOUT ROWID;
CREATE INDEX contacts_company ON contacts(company_id);

CREATE TABLE deals (
    id            TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    name          TEXT NOT NULL,
    company_id    TEXT REFERENCES companies(id) ON DELETE SET NULL,
    owner_id      TEXT REFERENCES owners(id) ON DELETE SET NULL,
    pipeline_id   TEXT NOT NULL,
    stage_id      TEXT NOT NULL,
    amount        REAL,
    currency      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    close_date    INTEGER,
    is_closed     INTEGER NOT NULL CHECK (is_closed IN (0, 1)),
    is_won        INTEGER NOT NULL CHECK (is_won IN (0, 1)),
    closed_reason TEXT,
    last_modified INTEGER NOT NULL,
    archived_at   INTEGER
);
CREATE INDEX deals_owner ON deals(owner_id);
CREATE INDEX deals_company ON deals(company_id);
CREATE INDEX deals_stage ON deals(pipeline_id, stage_id);

CREATE TABLE deal_properties (
    deal_id TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (deal_id, name)
) WITHOUT ROWID;

-- Field history: one table per field so each value keeps its type. `seq` keeps the CRM's order
-- for changes within the same second.
CREATE TABLE stage_history (
    deal_id    TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    entered_at INTEGER NOT NULL,
    stage_id   TEXT NOT NULL,
    PRIMARY KEY (deal_id, seq)
) WITHOUT ROWID;

CREATE TABLE amount_history (
    deal_id    TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    amount     REAL,
    PRIMARY KEY (deal_id, seq)
) WITHOUT ROWID;

CREATE TABLE close_date_history (
    deal_id    TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    close_date INTEGER,
    PRIMARY KEY (deal_id, seq)
) WITHOUT ROWID;

CREATE TABLE deal_contacts (
    deal_id    TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    role       TEXT,
    added_at   INTEGER,
    PRIMARY KEY (deal_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX deal_contacts_contact ON deal_contacts(contact_id);

CREATE TABLE activities (
    id          TEXT PRIMARY KEY,
    deal_id     TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('call', 'meeting', 'email', 'note')),
    occurred_at INTEGER NOT NULL,
    direction   TEXT CHECK (direction IN ('inbound', 'outbound')),
    subject     TEXT,
    body        TEXT NOT NULL,
    owner_id    TEXT REFERENCES owners(id) ON DELETE SET NULL
);
CREATE INDEX activities_deal_time ON activities(deal_id, occurred_at);

CREATE TABLE activity_contacts (
    activity_id TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (activity_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX activity_contacts_contact ON activity_contacts(contact_id);

-- Records dealtrace owns. Reviews and traces reference deals without cascading: a deal removed
-- from the CRM is archived, never deleted, so nothing a reviewer wrote can vanish with it.
CREATE TABLE reviews (
    id         TEXT PRIMARY KEY,
    deal_id    TEXT NOT NULL REFERENCES deals(id),
    reviewer   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'final')),
    outcome    TEXT CHECK (outcome IN ('won', 'lost', 'open')),
    notes      TEXT NOT NULL DEFAULT '',
    revision   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX reviews_deal ON reviews(deal_id);

CREATE TABLE review_reasons (
    review_id  TEXT NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    code       TEXT NOT NULL,
    detail     TEXT,
    is_primary INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    PRIMARY KEY (review_id, seq)
) WITHOUT ROWID;

CREATE TABLE review_lesson_candidates (
    review_id   TEXT NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    text        TEXT NOT NULL,
    pattern_key TEXT,
    PRIMARY KEY (review_id, seq)
) WITHOUT ROWID;

CREATE TABLE lessons (
    id                TEXT PRIMARY KEY,
    statement         TEXT NOT NULL,
    recommendation    TEXT NOT NULL,
    condition         TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'retired')),
    status_changed_by TEXT,
    status_changed_at INTEGER,
    owner             TEXT,
    tags_json         TEXT NOT NULL DEFAULT '[]',
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE lesson_patterns (
    lesson_id  TEXT NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    key        TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    population TEXT NOT NULL,
    condition  TEXT NOT NULL,
    PRIMARY KEY (lesson_id, seq)
) WITHOUT ROWID;

CREATE TABLE decision_traces (
    id                  TEXT PRIMARY KEY,
    review_id           TEXT REFERENCES reviews(id) ON DELETE SET NULL,
    deal_id             TEXT NOT NULL REFERENCES deals(id),
    at                  INTEGER NOT NULL,
    stage_id            TEXT,
    state_json          TEXT NOT NULL DEFAULT '{}',
    actor               TEXT NOT NULL,
    action              TEXT NOT NULL,
    rec_lesson_id       TEXT,
    rec_text            TEXT,
    rationale           TEXT NOT NULL DEFAULT '',
    expected_outcome    TEXT NOT NULL DEFAULT '',
    expected_by         INTEGER,
    actual_outcome      TEXT,
    followed            INTEGER CHECK (followed IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK ((rec_lesson_id IS NULL) = (rec_text IS NULL))
) WITHOUT ROWID;
CREATE INDEX decision_traces_deal ON decision_traces(deal_id, at);
CREATE INDEX decision_traces_review ON decision_traces(review_id);
"#;

/// Migration 2: sync bookkeeping. Checkpoints live in `sync_state` and are written in the same
/// transaction as the data they cover, so a killed sync resumes exactly where its last commit
/// left off. `deals.sync_run` records the full-scan run that last saw a deal: after a complete
/// scan, deals of that CRM the scan did not see were deleted there and are archived here.
const V2: &str = r#"
CREATE TABLE sync_state (
    connector  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connector, key)
) WITHOUT ROWID;

CREATE TABLE sync_runs (
    id            INTEGER PRIMARY KEY,
    connector     TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    deals_new     INTEGER NOT NULL DEFAULT 0,
    deals_changed INTEGER NOT NULL DEFAULT 0,
    deals_removed INTEGER NOT NULL DEFAULT 0,
    requests      INTEGER NOT NULL DEFAULT 0,
    retries       INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE deals ADD COLUMN sync_run INTEGER;
"#;

/// Migration 3: activities on several deals. A CRM engagement can be associated with more than
/// one deal (an email about two opportunities at one company). `activities.deal_id` keeps the
/// first deal it was seen on; `activity_deals` holds each further deal, so the common case of
/// one deal costs no extra row. `deal_activity_links` lists every (deal, activity) pair for
/// readers that want them all.
const V3: &str = r#"
CREATE TABLE activity_deals (
    activity_id TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    deal_id     TEXT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    PRIMARY KEY (deal_id, activity_id)
) WITHOUT ROWID;
CREATE INDEX activity_deals_activity ON activity_deals(activity_id);

CREATE VIEW deal_activity_links (deal_id, activity_id) AS
    SELECT deal_id, id FROM activities
    UNION ALL
    SELECT deal_id, activity_id FROM activity_deals;
"#;

/// Migration 4: the review workstation. `review_revisions` keeps every saved final version of a
/// review (its JSON, with its traces), so amending never loses what was signed off.
/// `deal_review_marks` records when a deal was last looked at in a review, which the queue
/// uses to show only what happened since. `writeback_queue` holds notes to post to the CRM;
/// `marker` is written into each note so that a post whose answer was lost can be found again
/// instead of posted twice.
const V4: &str = r#"
CREATE TABLE review_revisions (
    review_id     TEXT NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    revision      INTEGER NOT NULL,
    saved_at      INTEGER NOT NULL,
    saved_by      TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    PRIMARY KEY (review_id, revision)
) WITHOUT ROWID;

CREATE TABLE deal_review_marks (
    deal_id     TEXT PRIMARY KEY REFERENCES deals(id),
    reviewed_at INTEGER NOT NULL,
    reviewer    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE writeback_queue (
    review_id   TEXT NOT NULL REFERENCES reviews(id),
    revision    INTEGER NOT NULL,
    deal_id     TEXT NOT NULL REFERENCES deals(id),
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    marker      TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'failed')),
    crm_note_id TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    posted_at   INTEGER,
    PRIMARY KEY (review_id, revision)
) WITHOUT ROWID;
CREATE INDEX writeback_queue_status ON writeback_queue(status);
"#;

/// Migration 5: amendments are written beside the review they amend. A final review stays as it
/// was signed off — in `reviews`, its traces and every export — until the amendment is saved as
/// final itself; until then the amendment in progress is one JSON document here, autosaved on
/// every change.
const V5: &str = r#"
CREATE TABLE review_amendments (
    review_id  TEXT PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    draft_json TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// Migration 6: the lesson library and the advisor. A lesson's trigger (when it fires on an
/// open deal) is one JSON document; each pattern behind it keeps what re-measuring it needs.
/// `library_base` is the lesson as it last left or entered a library file, so an import can
/// tell a local edit from an incoming one and never overwrite the first. `lesson_changes` is
/// the change history (one row per version), `lesson_evidence` every re-measurement (the
/// trend), and `recommendations` each lesson shown for a deal — once per deal and lesson
/// version — with whether it was followed.
const V6: &str = r#"
ALTER TABLE lessons ADD COLUMN trigger_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE lessons ADD COLUMN library_base TEXT;
ALTER TABLE lesson_patterns ADD COLUMN kind TEXT NOT NULL DEFAULT 'risk';
ALTER TABLE lesson_patterns ADD COLUMN segment TEXT;
ALTER TABLE lesson_patterns ADD COLUMN unless_selector TEXT;
ALTER TABLE lesson_patterns ADD COLUMN effect REAL NOT NULL DEFAULT 1.0;
ALTER TABLE lesson_patterns ADD COLUMN context TEXT NOT NULL DEFAULT '';

CREATE TABLE lesson_changes (
    lesson_id TEXT NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    by        TEXT,
    what      TEXT NOT NULL,
    PRIMARY KEY (lesson_id, version)
) WITHOUT ROWID;

CREATE TABLE lesson_evidence (
    lesson_id        TEXT NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    measured_at      INTEGER NOT NULL,
    lesson_version   INTEGER NOT NULL,
    cutoff           INTEGER NOT NULL,
    effect           REAL,
    ci_low           REAL,
    ci_high          REAL,
    p                REAL,
    q                REAL,
    n_exposed        INTEGER NOT NULL,
    n_unexposed      INTEGER NOT NULL,
    events_exposed   INTEGER NOT NULL,
    events_unexposed INTEGER NOT NULL,
    verdict          TEXT NOT NULL
        CHECK (verdict IN ('holds', 'weakened', 'reversed', 'insufficient')),
    PRIMARY KEY (lesson_id, measured_at)
) WITHOUT ROWID;

CREATE TABLE recommendations (
    deal_id         TEXT NOT NULL REFERENCES deals(id),
    lesson_id       TEXT NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    lesson_version  INTEGER NOT NULL,
    text            TEXT NOT NULL,
    shown_at        INTEGER NOT NULL,
    followed        INTEGER CHECK (followed IN (0, 1)),
    followed_source TEXT CHECK (followed_source IN ('marked', 'inferred')),
    followed_at     INTEGER,
    CHECK ((followed IS NULL) = (followed_source IS NULL)),
    PRIMARY KEY (deal_id, lesson_id, lesson_version)
) WITHOUT ROWID;
CREATE INDEX recommendations_lesson ON recommendations(lesson_id);
"#;

/// Migration 7: a snapshot of each deal's facts (`store::facts`), so that the pattern engine
/// and the advisor read one small row per deal instead of every activity's text. The snapshot
/// is a cache of what the history tables say, and a row is deleted in the same transaction as
/// any change to what it was computed from; the next read computes it again. A row that is
/// there is therefore never stale; `meta.facts_key` names the skills the rows were computed
/// under (other skills recompute them all).
///
/// Two mechanisms delete rows, chosen by how many rows a table takes. The history, property and
/// activity tables take millions, written only by `store::deals::upsert` and
/// `store::activities`, which forget the deal's facts once per deal or activity (a trigger
/// per row made a sync's upserts three times slower), and by the bulk loader, which empties
/// the table. The few rows of deals, contacts and accounts that other facts read are watched
/// by the triggers below, which fire only when a value facts read actually changes, so that a
/// sync rewriting a row as it was leaves the snapshot be.
const V7: &str = r#"
CREATE TABLE deal_facts (
    deal_id TEXT PRIMARY KEY REFERENCES deals(id) ON DELETE CASCADE,
    facts   BLOB NOT NULL
) WITHOUT ROWID;

-- The deal's own columns that facts read.
CREATE TRIGGER deal_facts_deals_upd AFTER UPDATE ON deals
WHEN OLD.id IS NOT NEW.id OR OLD.created_at IS NOT NEW.created_at
  OR OLD.owner_id IS NOT NEW.owner_id OR OLD.company_id IS NOT NEW.company_id
  OR OLD.archived_at IS NOT NEW.archived_at
BEGIN
    DELETE FROM deal_facts WHERE deal_id IN (OLD.id, NEW.id);
END;

-- Titles make a deal's participants personas. (A new contact is on no activity yet.)
CREATE TRIGGER deal_facts_contacts_upd AFTER UPDATE ON contacts
WHEN OLD.id IS NOT NEW.id OR OLD.title IS NOT NEW.title
BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT a.deal_id FROM activity_contacts ac JOIN activities a ON a.id = ac.activity_id
         WHERE ac.contact_id IN (OLD.id, NEW.id));
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT l.deal_id FROM activity_contacts ac JOIN activity_deals l
             ON l.activity_id = ac.activity_id
         WHERE ac.contact_id IN (OLD.id, NEW.id));
END;
-- Before, so that the participants a cascade is about to delete still name the deals.
CREATE TRIGGER deal_facts_contacts_del BEFORE DELETE ON contacts BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT a.deal_id FROM activity_contacts ac JOIN activities a ON a.id = ac.activity_id
         WHERE ac.contact_id = OLD.id);
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT l.deal_id FROM activity_contacts ac JOIN activity_deals l
             ON l.activity_id = ac.activity_id
         WHERE ac.contact_id = OLD.id);
END;

-- The account's segment values. (A new account is on no deal yet.)
CREATE TRIGGER deal_facts_companies_upd AFTER UPDATE ON companies
WHEN OLD.id IS NOT NEW.id OR OLD.industry IS NOT NEW.industry
  OR OLD.size_band IS NOT NEW.size_band OR OLD.buying_center IS NOT NEW.buying_center
BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT id FROM deals WHERE company_id IN (OLD.id, NEW.id));
END;
CREATE TRIGGER deal_facts_companies_del BEFORE DELETE ON companies BEGIN
    DELETE FROM deal_facts WHERE deal_id IN (SELECT id FROM deals WHERE company_id = OLD.id);
END;
CREATE TRIGGER deal_facts_company_props_ins AFTER INSERT ON company_properties BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT id FROM deals WHERE company_id = NEW.company_id);
END;
CREATE TRIGGER deal_facts_company_props_upd AFTER UPDATE ON company_properties
WHEN OLD.company_id IS NOT NEW.company_id OR OLD.name IS NOT NEW.name
  OR OLD.value IS NOT NEW.value
BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT id FROM deals WHERE company_id IN (OLD.company_id, NEW.company_id));
END;
CREATE TRIGGER deal_facts_company_props_del AFTER DELETE ON company_properties BEGIN
    DELETE FROM deal_facts WHERE deal_id IN
        (SELECT id FROM deals WHERE company_id = OLD.company_id);
END;
"#;

/// Every migration, oldest first. The cache's `user_version` is the number applied.
pub fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

static MIGRATIONS: &[M<'static>] = &[
    M::up(V1),
    M::up(V2),
    M::up(V3),
    M::up(V4),
    M::up(V5),
    M::up(V6),
    M::up(V7),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    /// A cache written by the previous schema upgrades in place and keeps its rows.
    #[test]
    fn version_1_caches_upgrade_keeping_their_data() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO pipelines (id, label) VALUES ('default', 'Sales');
             INSERT INTO deals (id, source, name, pipeline_id, stage_id, currency, created_at,
                                is_closed, is_won, last_modified)
             VALUES ('1', 'hubspot', 'Acme', 'default', 'demo', 'USD', 0, 0, 0, 0);",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let (name, run): (String, Option<i64>) = conn
            .query_row("SELECT name, sync_run FROM deals", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((name.as_str(), run), ("Acme", None));
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
    }
}
