//! The netting desk's lab: the `crude-2020` scenario (a month of retail flow on a
//! WTI-referencing product through the May 2020 contract's negative settlement), its
//! simulation under two roll schedules, and the report. The desk itself is
//! `flowmatch_wholesaler::desk`.
//!
//! - [`scenario`]: the knobs, the price paths, the preset;
//! - [`sim`]: one month under one roll schedule;
//! - [`report`]: report.json, report.md and the charts, with the cited facts;
//! - [`cli`]: the `flowmatch run --scenario crude-2020` hook.

pub mod cli;
pub mod report;
pub mod scenario;
pub mod sim;
