//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

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
