//! Helpers every benchmark uses: knobs from the environment, medians, and the seeded demo cache
//! they run on.

#![allow(dead_code)] // Each bench uses its own subset.

/// The binary's allocator (src/main.rs), so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use dealtrace::demo::{DemoSpec, write_demo};
use dealtrace::store::Store;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `name` from the environment as a number, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median (upper middle for an even count) of a non-empty sample.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The demo cache of `deals` deals (seed 42) at `BENCH_DB`, else at `default`, written first
/// when it does not exist.
pub fn demo_cache(deals: usize, default: &Path) -> PathBuf {
    let path = std::env::var_os("BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| default.to_path_buf());
    if !path.exists() {
        eprintln!("writing a {deals}-deal demo cache at {} …", path.display());
        let t = Instant::now();
        let mut store = Store::open(&path).expect("open the bench cache");
        let spec = DemoSpec {
            deals,
            seed: 42,
            as_of: DemoSpec::default_as_of(),
        };
        write_demo(&mut store, &spec).expect("write the demo");
        eprintln!("demo written in {:.1} s", t.elapsed().as_secs_f64());
    }
    path
}
