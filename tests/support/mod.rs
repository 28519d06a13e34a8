//! Test support shared by integration tests and benchmarks.
//!
//! Integration tests include it with `mod support;`; a benchmark with
//! `#[path = "../tests/support/mod.rs"] mod support;`. Each test binary uses a different part of
//! it, so unused items are expected here.
#![allow(dead_code)]

pub mod hubspot_fake;
pub mod sync_check;
