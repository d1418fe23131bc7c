//! [`Router`]: one producer's handle on every shard, sending each message to the ring of
//! its shard with back-pressure (a full ring hands the message back or is waited on,
//! never dropped), batching commits per shard.

use crate::engine::Stamped;
use crate::ingress::{spin_hint, spsc, Full};

/// A producer's handle on every shard: one producing end per shard and the routing
/// function. One per producer thread; `Send`, not shared.
pub struct Router<M, R> {
    /// `lanes[s]`: this producer's ring into shard `s`.
    pub(super) lanes: Box<[spsc::Producer<Stamped<M>>]>,
    /// Scratch for [`send_slice`](Self::send_slice): the shards it staged into, each once.
    /// Sized once (one slot per shard), never grown.
    pub(super) touched: Box<[u32]>,
    pub(super) route: R,
    pub(super) producer: u32,
}

impl<M: Copy + Send, R: Fn(&M) -> usize> Router<M, R> {
    /// This router's producer index (the `source` of its messages' outputs in every shard).
    pub fn producer(&self) -> u32 {
        self.producer
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.lanes.len()
    }

    /// The shard `msg` goes to: the routing function's answer, reduced modulo the shard
    /// count if it is not below it.
    #[inline(always)]
    pub fn shard_of(&self, msg: &M) -> usize {
        let s = (self.route)(msg);
        let n = self.lanes.len();
        if s < n {
            s
        } else {
            s % n
        }
    }

    /// Pushes `m` into its shard's ring and publishes it, returning the shard, or hands it
    /// back if that ring is full.
    #[inline]
    pub fn try_send(&mut self, m: Stamped<M>) -> Result<usize, Full<Stamped<M>>> {
        let s = self.shard_of(&m.msg);
        self.lanes[s].try_push(m).map(|()| s)
    }

    /// Pushes `m` into its shard's ring, spinning while that ring is full (back-pressure by
    /// waiting), and returns the shard.
    #[inline]
    pub fn send(&mut self, mut m: Stamped<M>) -> usize {
        loop {
            match self.try_send(m) {
                Ok(s) => return s,
                Err(Full(back)) => {
                    m = back;
                    spin_hint();
                }
            }
        }
    }

    /// Pushes as many messages from the front of `items` as fit, each into its shard's
    /// ring, and publishes them with one release store per shard touched. Stops at the
    /// first message whose ring is full, so what was sent is always a prefix: returns its
    /// length (0: the first message's ring is full).
    #[inline]
    pub fn send_slice(&mut self, items: &[Stamped<M>]) -> usize {
        let mut sent = 0;
        let mut touched = 0;
        for m in items {
            let s = self.shard_of(&m.msg);
            let lane = &mut self.lanes[s];
            let first_here = lane.staged() == 0;
            if lane.stage(*m).is_err() {
                break;
            }
            if first_here {
                // Each shard is recorded once per call, so `touched` stays below the
                // number of shards, the scratch's length.
                self.touched[touched] = s as u32;
                touched += 1;
            }
            sent += 1;
        }
        for &s in &self.touched[..touched] {
            self.lanes[s as usize].commit();
        }
        sent
    }
}
