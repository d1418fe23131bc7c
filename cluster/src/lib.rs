//! flowmatch on a replicated log: one NATS JetStream stream per shard is the sequenced
//! journal of that shard's commands, deterministic engine nodes consume it strictly in
//! order, the primary of each shard (holder of a lease in a JetStream key-value bucket)
//! publishes each command's events stamped with the command's stream sequence, and a
//! standby that consumed the same stream takes over when the lease lapses. This crate
//! keeps tokio and the NATS client out of the harness's build: the `flowmatch-cluster`
//! binary (gateway, node, verify) lives here. See `docs/DISTRIBUTED.md`.

pub mod engine;
pub mod gateway;
pub mod log;
pub mod node;
pub mod routing;
pub mod snapshot;
pub mod verify;
