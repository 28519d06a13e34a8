//! The local SQLite cache. This layer owns every SQL statement in dealtrace.
//!
//! One module per aggregate; each takes a `&Connection` (a `Transaction` derefs to one), so that a
//! caller can group any writes into one transaction. Statements are prepared through the
//! connection's cache, which makes repeated calls inside a bulk transaction cheap.

pub mod activities;
pub mod bulk;
pub mod companies;
pub mod deals;
pub mod detail;
pub mod facts;
pub mod lessons;
pub mod marks;
pub mod meta;
pub mod migrations;
pub mod people;
pub mod pipelines;
pub mod queue;
pub mod reviews;
pub mod sync;
pub mod traces;
pub mod writeback;

use crate::domain::time::from_unix;
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be created or opened.
    #[error("cannot open the cache at {path}: {source}")]
    Open {
        /// The cache file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The cache was written by a newer dealtrace; migrating it down would lose data.
    #[error(
        "the cache at {path} has schema version {found}, newer than the {supported} this dealtrace \
         understands; upgrade dealtrace or point --db at another cache"
    )]
    NewerSchema {
        /// The cache file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A migration failed.
    #[error("cannot upgrade the cache schema at {path}: {source}")]
    Migrate {
        /// The cache file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: rusqlite_migration::Error,
    },
    /// A stored value does not fit the domain (a corrupt or hand-edited cache).
    #[error("the cache holds an invalid {what}: {value:?}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// Any other SQLite error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Results of cache operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open, migrated cache.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// How long a statement waits for another connection's write lock before giving up.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(5000);

impl Store {
    /// Opens (creating if needed, owner-only) and migrates the cache at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(Box::new(e)))?;
        }
        create_owner_only(path).map_err(|e| open_err(Box::new(e)))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_err(Box::new(e)))?;
        Self::init(conn, path.to_owned())
    }

    /// An in-memory cache, for tests and throw-away work.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, PathBuf::from(":memory:"))
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Store> {
        // WAL lets readers (the TUI) and a writer (sync) work at once; the busy timeout turns
        // short lock waits into waits instead of errors.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_or_not_db(&path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(64);

        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = migrations::latest_version();
        if found > supported {
            return Err(StoreError::NewerSchema {
                path,
                found,
                supported,
            });
        }
        migrations::migrations()
            .to_latest(&mut conn)
            .map_err(|source| StoreError::Migrate {
                path: path.clone(),
                source,
            })?;
        Ok(Store { conn, path })
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Where the cache lives (`:memory:` for an in-memory cache).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction: committed if `f` returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let tx = self.conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// The schema version of the open cache.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn open_or_not_db(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        source: Box::new(e),
    }
}

/// Creates the file with mode 0600 if it does not exist, and tightens an existing file's mode:
/// the cache holds customer names and call notes.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let mut perms = file.metadata()?.permissions();
        if perms.mode() & 0o077 != 0 {
            perms.set_mode(0o600);
            file.set_permissions(perms)?;
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
    }
    Ok(())
}

/// A timestamp as stored: Unix seconds.
pub(crate) fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

/// An optional timestamp as stored.
pub(crate) fn opt_secs(t: Option<Timestamp>) -> Option<i64> {
    t.map(secs)
}

/// A stored optional timestamp.
pub(crate) fn opt_ts(s: Option<i64>) -> Option<Timestamp> {
    s.map(from_unix)
}

/// A savepoint rather than `unchecked_transaction`, because it nests: on a bare connection it
/// opens a transaction, and inside a caller's transaction (a `Transaction` derefs to the
/// `&Connection` these functions take) it becomes part of it instead of failing.
pub(crate) fn in_savepoint<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch("SAVEPOINT dealtrace_write")?;
    match f() {
        Ok(value) => {
            conn.execute_batch("RELEASE dealtrace_write")?;
            Ok(value)
        }
        Err(e) => {
            // The caller needs the error that caused the rollback, not a failure of the rollback
            // itself; if even that fails, SQLite rolls the transaction back on close.
            let _ = conn.execute_batch("ROLLBACK TO dealtrace_write; RELEASE dealtrace_write");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_from_empty_reaches_latest() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            migrations::latest_version()
        );
    }

    #[test]
    fn a_newer_schema_is_refused_not_migrated_down() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        drop(Store::open(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", migrations::latest_version() + 1)
                .unwrap();
        }
        let err = Store::open(&path)
            .err()
            .expect("newer schema must be refused");
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("newer than"), "{msg}");
        assert!(msg.contains("upgrade dealtrace"), "{msg}");
        // The file is left as it was.
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, migrations::latest_version() + 1);
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/cache.sqlite");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            migrations::latest_version()
        );
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_cache_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        drop(Store::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A file someone loosened is tightened on open.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(Store::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        std::fs::write(
            &path,
            b"this is not sqlite, just some text that is long enough to matter",
        )
        .unwrap();
        let err = Store::open(&path).err().expect("must fail");
        assert!(err.to_string().contains("cannot open the cache"), "{err}");
    }
}
