//! Shared helpers for the integration tests (`mod support;`).
// Each test crate uses a different part of the support code.
#![allow(dead_code)]

pub mod cli;
#[path = "../pg/mod.rs"]
pub mod pg;
