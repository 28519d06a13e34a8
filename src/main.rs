//! The `dealtrace` binary: parse the command line, set up errors and logging, dispatch.

use dealtrace::cli::Cli;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: reading a cache's deal facts and mining them make
/// millions of small allocations, which it serves about a third faster (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Usage errors exit 2 (clap's convention, and ours); --help and --version exit 0.
    let cli = match Cli::parse_checked() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Installed before the terminal UI starts, so that its panic hook restores the terminal first
    // and this one then prints the report.
    if let Err(e) = color_eyre::install() {
        eprintln!("warning: cannot install the error reporter: {e}");
    }
    let _log = dealtrace::logging::init();
    match dealtrace::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            tracing::error!("{report:?}");
            eprintln!("error: {}", dealtrace::cmd::one_line(&report));
            ExitCode::from(1)
        }
    }
}
