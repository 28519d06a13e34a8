//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

pub mod tty;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary home for one test: its own cache, config dir and log dir, so that nothing the
/// developer has on the machine leaks in.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("cache.sqlite")
    }

    /// The dealtrace binary with this sandbox's environment and `--db`.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dealtrace"));
        self.isolate(&mut cmd);
        cmd.arg("--db").arg(self.db());
        cmd
    }

    /// The binary as an `assert_cmd` command, for `.assert()` chains.
    pub fn cli(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command())
    }

    /// Runs dealtrace with `args`, which must succeed, and parses its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_slice(&succeed(self.cli().args(args)).stdout).expect("stdout is JSON")
    }

    /// The environment every spawned dealtrace gets.
    pub fn isolate(&self, cmd: &mut Command) {
        let home = self.dir.path();
        cmd.env_remove("DEALTRACE_DB")
            .env_remove("DEALTRACE_LOG")
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("DEALTRACE_LOG_DIR", home.join("logs"))
            .env("NO_COLOR", "1");
    }

    /// Writes a demo history of `deals` deals into the sandbox cache.
    pub fn demo(&self, deals: usize, seed: u64) {
        let out = self
            .command()
            .args([
                "demo",
                "--deals",
                &deals.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .output()
            .expect("run dealtrace demo");
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `cmd`, which must succeed, and returns what it printed.
pub fn succeed(cmd: &mut assert_cmd::Command) -> std::process::Output {
    cmd.assert().success().get_output().clone()
}

/// SHA-256 over every table, rows in primary-key order, values tagged by type.
pub fn content_hash(conn: &Connection) -> String {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut hash = Sha256::new();
    for table in tables {
        let mut key: Vec<(i64, String)> = conn
            .prepare(&format!(
                "SELECT pk, name FROM pragma_table_info('{table}') WHERE pk > 0"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        key.sort();
        let order = if key.is_empty() {
            "rowid".to_owned()
        } else {
            key.iter()
                .map(|k| k.1.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        hash.update(format!("\u{1d}{table}\u{1d}").as_bytes());
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let width = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..width {
                let field = match row.get_ref(i).unwrap() {
                    ValueRef::Null => "N".to_owned(),
                    ValueRef::Integer(v) => format!("I{v}"),
                    ValueRef::Real(v) => format!("R{:016x}", v.to_bits()),
                    ValueRef::Text(t) => format!("T{}:{}", t.len(), String::from_utf8_lossy(t)),
                    ValueRef::Blob(b) => format!("B{}:{b:02x?}", b.len()),
                };
                hash.update(field.as_bytes());
                hash.update(b"\x1f");
            }
            hash.update(b"\x1e");
        }
    }
    format!("{:x}", hash.finalize())
}
