//! Running an [`Engine`] on a thread of its own: [`spawn`] starts it (optionally pinned to
//! a core) and returns only once that thread is running, so a caller can start its
//! schedule at once and never hand-rolls the thread; [`EngineHandle`] stops and joins it.

use super::{Clock, Engine, EngineStats, Processor};
use crate::ingress::CachePadded;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// A running engine thread.
pub struct EngineHandle<P> {
    /// Padded: the engine polls it whenever idle, so it must not share a line with
    /// anything the client writes.
    stop: Arc<CachePadded<AtomicBool>>,
    join: JoinHandle<(P, EngineStats)>,
    pinned: bool,
}

impl<P> EngineHandle<P> {
    /// Asks the engine to finish: it drains everything already pushed, then exits. Call it
    /// only after the producers' last push (it is what orders those pushes before the
    /// final drain).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// True once the engine thread has returned (its output is then complete).
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Whether the engine thread was pinned to the core it was given.
    pub fn pinned(&self) -> bool {
        self.pinned
    }

    /// Waits for the engine thread and returns its processor and counters. The caller must
    /// keep draining the output ring until [`is_finished`](Self::is_finished), or the
    /// engine may wait forever on a full ring. `Err` carries the panic of the engine thread.
    pub fn join(self) -> std::thread::Result<(P, EngineStats)> {
        self.join.join()
    }
}

/// Starts `engine` on a new thread named `flowmatch-engine`, pinned to `core` if given
/// (read the core list once, before any thread pins itself, and hand the ids out), and
/// returns once that thread runs (pinned, about to poll). `Err` if the operating system
/// refuses the thread, or the thread ends before it starts running.
pub fn spawn<M, P, C>(
    engine: Engine<M, P, C>,
    core: Option<core_affinity::CoreId>,
) -> std::io::Result<EngineHandle<P>>
where
    M: Copy + Send + 'static,
    P: Processor<M> + Send + 'static,
    C: Clock + Send + 'static,
{
    let stop = Arc::new(CachePadded::new(AtomicBool::new(false)));
    let flag = stop.clone();
    // The started handshake: the thread reports (and whether it pinned) before it polls.
    let (started_tx, started_rx) = mpsc::sync_channel::<bool>(1);
    let join = std::thread::Builder::new()
        .name("flowmatch-engine".into())
        .spawn(move || {
            let pinned = core.map(core_affinity::set_for_current).unwrap_or(false);
            // The receiver lives until spawn returns; a failed send only means it is gone.
            let _ = started_tx.send(pinned);
            drop(started_tx);
            let (p, mut stats) = engine.run(&flag);
            stats.pinned = pinned;
            (p, stats)
        })?;
    let pinned = started_rx
        .recv()
        .map_err(|_| std::io::Error::other("the engine thread ended before it started running"))?;
    Ok(EngineHandle { stop, join, pinned })
}
