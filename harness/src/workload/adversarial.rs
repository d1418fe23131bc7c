//! `adversarial`: the shapes that break order books, not the shapes markets usually have.
//!
//! The stream cycles through four phases, each a few hundred to a few thousand commands,
//! drawn from one seeded generator (same seed, same stream):
//!
//! 1. **Deep FIFO** — a single price level grows to a few thousand orders; a third of them
//!    are cancelled at scattered positions (head, middle, tail, at random); then takers
//!    eat into the level in pieces. Punishes per-level vectors with O(n) removal, and
//!    lazy deletion that leaves tombstones to be skipped.
//! 2. **Long sweep** — one order on each of many distinct price levels, spaced apart, then
//!    one marketable order (market, IOC limit, or a FOK that either just fills or just
//!    fails) that walks all of them. Punishes per-level overhead and level removal.
//! 3. **Far apart / near the limits** — orders at `i64::MIN`, `i64::MIN + 1`, `-1`, `0`,
//!    `1`, `i64::MAX - 1`, `i64::MAX` and at random prices across the whole `i64` domain,
//!    then takers at the extremes. Punishes price-indexed arrays, windows that must
//!    re-centre, and any arithmetic on prices (overflow).
//! 4. **Id reuse** — a tiny pool of ids, each placed, filled or cancelled, and reused at
//!    once. Punishes id maps that keep stale entries or tombstones.
//!
//! Everything a phase leaves resting is cancelled at its end (some of those cancels name
//! orders that already traded and get `UNKNOWN_ID`, as in a real feed), so the book does
//! not grow without bound over long streams.

use flowmatch_core::{Command, NewOrder, OrderId, Price, Qty, Side, Tif};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Sizes of the adversarial phases. The defaults are the `compare` workload.
#[derive(Clone, Debug)]
pub struct AdversarialConfig {
    /// Orders on the single deep level in phase 1.
    pub fifo_depth: usize,
    /// Fraction of the deep level cancelled at scattered positions.
    pub fifo_cancel_frac: f64,
    /// Distinct price levels walked by one sweep in phase 2.
    pub sweep_levels: usize,
    /// Random far-apart prices per phase 3 round (besides the fixed extremes).
    pub far_orders: usize,
    /// Size of the id pool in phase 4, and how many place/consume rounds it runs.
    pub reuse_pool: u64,
    pub reuse_rounds: usize,
    /// Accounts orders are drawn from.
    pub accounts: u32,
}

impl Default for AdversarialConfig {
    fn default() -> Self {
        AdversarialConfig {
            fifo_depth: 2_000,
            fifo_cancel_frac: 0.33,
            sweep_levels: 500,
            far_orders: 64,
            reuse_pool: 8,
            reuse_rounds: 400,
            accounts: 4,
        }
    }
}

/// Ids for phases 1–3 come from a window that wraps, so ids of finished orders are reused
/// (legal) while never colliding with live ones: a window is far larger than what any phase
/// leaves live. Phase 4 uses its own small pool above the window.
const ID_WINDOW: u64 = 1 << 20;
const POOL_BASE: u64 = ID_WINDOW + 1;

struct Gen {
    rng: ChaCha8Rng,
    cfg: AdversarialConfig,
    out: Vec<Command>,
    n: usize,
    next_id: u64,
}

impl Gen {
    fn full(&self) -> bool {
        self.out.len() >= self.n
    }

    fn push(&mut self, c: Command) {
        if !self.full() {
            self.out.push(c);
        }
    }

    fn id(&mut self) -> OrderId {
        self.next_id = self.next_id % ID_WINDOW + 1;
        self.next_id
    }

    fn account(&mut self) -> u32 {
        self.rng.random_range(1..=self.cfg.accounts)
    }

    fn qty(&mut self) -> Qty {
        // Mostly round lots, sometimes odd or large.
        match self.rng.random_range(0..10) {
            0 => self.rng.random_range(1..100),
            1 => self.rng.random_range(1_000..10_000),
            _ => 100 * self.rng.random_range(1..6),
        }
    }

    fn limit(&mut self, id: OrderId, side: Side, price: Price, qty: Qty) {
        let acct = self.account();
        self.push(Command::New(NewOrder::limit(id, acct, side, price, qty)));
    }

    /// Phase 1: one deep level, scattered cancels, takers eating it in pieces.
    fn deep_fifo(&mut self) {
        let side = if self.rng.random_bool(0.5) {
            Side::Sell
        } else {
            Side::Buy
        };
        let price: Price = self.rng.random_range(9_000..11_000);
        let mut ids = Vec::with_capacity(self.cfg.fifo_depth);
        let mut total: Qty = 0;
        for _ in 0..self.cfg.fifo_depth {
            let id = self.id();
            let q = self.qty();
            self.limit(id, side, price, q);
            ids.push((id, q));
            total += q;
        }
        // Scattered cancels: the head, the tail, and random positions in between.
        let cancels = (ids.len() as f64 * self.cfg.fifo_cancel_frac) as usize;
        let mut live = vec![true; ids.len()];
        for k in 0..cancels {
            let pos = match k {
                0 => 0,
                1 => ids.len() - 1,
                _ => self.rng.random_range(0..ids.len()),
            };
            if live[pos] {
                live[pos] = false;
                total -= ids[pos].1;
                self.push(Command::Cancel { id: ids[pos].0 });
            }
        }
        // Takers in pieces, with limit exactly at the level, until most of it is gone.
        let mut eaten: Qty = 0;
        while eaten < total * 3 / 4 && !self.full() {
            let q = self.rng.random_range(1..=total / 8 + 1);
            let id = self.id();
            let acct = self.account();
            let tif = if self.rng.random_bool(0.5) {
                Tif::Ioc
            } else {
                Tif::Gtc
            };
            self.push(Command::New(
                NewOrder::limit(id, acct, side.opposite(), price, q).with_tif(tif),
            ));
            eaten += q;
        }
        // Clear what is left (some of these already traded: the book says UNKNOWN_ID).
        for (i, (id, _)) in ids.iter().enumerate() {
            if live[i] {
                self.push(Command::Cancel { id: *id });
            }
        }
    }

    /// Phase 2: one order per level over many levels, then one order walking all of them.
    fn long_sweep(&mut self) {
        let side = if self.rng.random_bool(0.5) {
            Side::Sell
        } else {
            Side::Buy
        };
        let base: Price = self.rng.random_range(-1_000_000..1_000_000);
        let step: Price = self.rng.random_range(1..50);
        let mut total: Qty = 0;
        let mut ids = Vec::with_capacity(self.cfg.sweep_levels);
        let mut worst = base;
        for k in 0..self.cfg.sweep_levels as i64 {
            let price = match side {
                Side::Sell => base + k * step,
                Side::Buy => base - k * step,
            };
            worst = price;
            let id = self.id();
            let q = self.qty();
            self.limit(id, side, price, q);
            ids.push(id);
            total += q;
        }
        let id = self.id();
        let acct = self.account();
        let taker = side.opposite();
        let order = match self.rng.random_range(0..4) {
            0 => NewOrder::market(id, acct, taker, total),
            1 => NewOrder::limit(id, acct, taker, worst, total + 1_000).with_tif(Tif::Ioc),
            // A FOK one unit too large: the whole walk is simulated, then killed.
            2 => NewOrder::limit(id, acct, taker, worst, total + 1).with_tif(Tif::Fok),
            _ => NewOrder::limit(id, acct, taker, worst, total).with_tif(Tif::Fok),
        };
        self.push(Command::New(order));
        for id in ids {
            self.push(Command::Cancel { id });
        }
    }

    /// Phase 3: prices at and near the ends of `i64`, and scattered across it.
    fn far_apart(&mut self) {
        const EXTREMES: [Price; 7] = [
            Price::MIN,
            Price::MIN + 1,
            -1,
            0,
            1,
            Price::MAX - 1,
            Price::MAX,
        ];
        let mut ids = Vec::new();
        for &p in &EXTREMES {
            // Asks high, bids low, so the extremes rest instead of trading at once.
            let side = if p >= 0 { Side::Sell } else { Side::Buy };
            let id = self.id();
            let q = self.qty();
            self.limit(id, side, p, q);
            ids.push(id);
        }
        for _ in 0..self.cfg.far_orders {
            let p: Price = self.rng.random();
            let side = if p >= 0 { Side::Sell } else { Side::Buy };
            let id = self.id();
            let q = self.qty();
            self.limit(id, side, p, q);
            ids.push(id);
        }
        // Takers at the extremes: a buy limited at i64::MAX takes asks up to the top; a
        // sell limited at i64::MIN takes bids down to the bottom; replaces across the range.
        for _ in 0..4 {
            let id = self.id();
            let acct = self.account();
            let q = self.rng.random_range(1..5_000);
            let (side, p) = if self.rng.random_bool(0.5) {
                (Side::Buy, Price::MAX)
            } else {
                (Side::Sell, Price::MIN)
            };
            self.push(Command::New(
                NewOrder::limit(id, acct, side, p, q).with_tif(Tif::Ioc),
            ));
        }
        for _ in 0..8 {
            let id = ids[self.rng.random_range(0..ids.len())];
            let p: Price = self.rng.random();
            let q = self.qty();
            self.push(Command::Replace {
                id,
                price: p,
                qty: q,
            });
        }
        for id in ids {
            self.push(Command::Cancel { id });
        }
    }

    /// Phase 4: a tiny id pool, each id placed and then filled or cancelled, reused at once.
    fn id_reuse(&mut self) {
        let price: Price = self.rng.random_range(9_000..11_000);
        for _ in 0..self.cfg.reuse_rounds {
            let id = POOL_BASE + self.rng.random_range(0..self.cfg.reuse_pool);
            let q = self.qty();
            self.limit(id, Side::Sell, price, q);
            match self.rng.random_range(0..3) {
                0 => self.push(Command::Cancel { id }),
                1 => {
                    // Filled by a taker that reuses another pool id.
                    let tid = POOL_BASE + self.rng.random_range(0..self.cfg.reuse_pool);
                    let acct = self.account();
                    self.push(Command::New(NewOrder::market(tid, acct, Side::Buy, q)));
                }
                _ => {
                    // Replace (losing priority), then cancel: the id is done either way.
                    self.push(Command::Replace {
                        id,
                        price: price + 1,
                        qty: q + 1,
                    });
                    self.push(Command::Cancel { id });
                }
            }
        }
        // Anything from the pool still resting goes.
        for k in 0..self.cfg.reuse_pool {
            self.push(Command::Cancel { id: POOL_BASE + k });
        }
    }
}

/// Generate `n` commands of the `adversarial` stream with the default phase sizes.
pub fn generate(seed: u64, n: usize) -> Vec<Command> {
    generate_with(&AdversarialConfig::default(), seed, n)
}

/// Generate `n` commands of the `adversarial` stream.
pub fn generate_with(cfg: &AdversarialConfig, seed: u64, n: usize) -> Vec<Command> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        cfg: cfg.clone(),
        out: Vec::with_capacity(n),
        n,
        next_id: 0,
    };
    let mut phase = 0u64;
    while !g.full() {
        match phase % 4 {
            0 => g.deep_fifo(),
            1 => g.long_sweep(),
            2 => g.far_apart(),
            _ => g.id_reuse(),
        }
        phase += 1;
    }
    g.out
}
