//! Logging to a file: a terminal UI cannot log to stdout or stderr.
//!
//! The log goes to `DEALTRACE_LOG_DIR` or the platform's local data dir, as `dealtrace.log`; its
//! level comes from `DEALTRACE_LOG` (default `info`, `tracing` filter syntax). Tokens never reach
//! it: nothing logs request headers, and secrets are wrapped so they cannot be formatted.

use std::path::PathBuf;
use tracing_appender::non_blocking::WorkerGuard;

/// Where the log file goes.
pub fn log_dir() -> Option<PathBuf> {
    std::env::var_os("DEALTRACE_LOG_DIR")
        .map(PathBuf::from)
        .or_else(|| crate::config::project_dirs().map(|d| d.data_local_dir().to_owned()))
}

/// Starts logging to the file; keep the guard alive until exit so the last lines are flushed.
/// Returns `None` (and logs nowhere) if the directory cannot be created: logging must never stop
/// the user's work.
pub fn init() -> Option<WorkerGuard> {
    let dir = log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "dealtrace.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEALTRACE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
