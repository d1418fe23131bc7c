//! # flowmatch-harness
//!
//! The lab around the core: the text formats, flow generators, the simulated exchange,
//! runners, metrics and reports, and the `flowmatch` command line (one module per
//! subcommand under [`cmd`]).

pub mod benchgate;
pub mod chart;
pub mod clock;
pub mod cmd;
pub mod compare;
pub mod desk;
pub mod instrument_replay;
pub mod instrument_text;
pub mod journaled;
pub mod latency;
pub mod lobster;
pub mod market;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod provenance;
pub mod replay_loop;
pub mod report;
pub mod retail;
pub mod stress;
pub mod surveil;
pub mod text;
pub mod workload;
