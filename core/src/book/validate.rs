//! The stateless part of validating a command: the checks of `docs/SEMANTICS.md` that need
//! only the book's [`BookConfig`] and the command itself, not the book's contents.
//!
//! One function serves every caller that must agree with the fast book on what is a bad
//! order before any state is consulted: the fast book itself (which then adds the stateful
//! checks, duplicate id and post-only crossing) and the internalizer, which screens orders
//! before routing them. The reference book keeps its own transcription of the same rules,
//! on purpose: it is the oracle these checks are tested against.

use crate::command::NewOrder;
use crate::types::{BookConfig, OrdType, Price, Qty, RejectReason, Tif};

/// Whether `cfg` has a price or a quantity grid to check (a tick or a lot above 1). A book
/// computes it once, at construction, and passes it to [`check_new_on`] and
/// [`check_replace_on`], so that on a book without a grid (the common case) both grid
/// checks cost one branch instead of two loads and two compares per command (measured with
/// callgrind: 6 instructions per new order, 2.6% of an add).
#[inline]
pub fn has_grid(cfg: &BookConfig) -> bool {
    cfg.tick > 1 || cfg.lot > 1
}

/// The stateless checks of a new order, in the order the contract lists them:
/// 1. quantity in `1..=cfg.max_order_qty` ([`RejectReason::BadQty`]), then a multiple of
///    `cfg.lot` ([`RejectReason::BadLot`]);
/// 2. a limit order has a price inside `cfg.min_price..=cfg.max_price`, a market order has
///    none ([`RejectReason::BadPrice`]), and a limit price is a multiple of `cfg.tick`
///    ([`RejectReason::BadTick`]);
/// 3. a market order is IOC or FOK, never GTC or post-only ([`RejectReason::BadTif`]).
///
/// The checks that need the book (a live duplicate id, a post-only order that would cross)
/// come after these and are the book's own.
#[inline(always)]
pub fn check_new(cfg: &BookConfig, order: &NewOrder) -> Result<(), RejectReason> {
    check_new_on(cfg, has_grid(cfg), order)
}

/// [`check_new`] with `grid` = [`has_grid`]`(cfg)` computed beforehand.
#[inline(always)]
pub fn check_new_on(cfg: &BookConfig, grid: bool, order: &NewOrder) -> Result<(), RejectReason> {
    if grid {
        new_checks::<true, true>(cfg, order)
    } else {
        new_checks::<false, true>(cfg, order)
    }
}

/// [`check_new_on`] for the fast book's plain path: the same checks, except that every
/// stop, stop-limit, iceberg or midpoint peg comes back as `Err(BadPrice)` without its own checks, so
/// that the plain path carries no arm for them; the book's error path sees the order type
/// and runs [`check_new_on`] on it.
#[inline(always)]
pub(crate) fn check_plain_on(
    cfg: &BookConfig,
    grid: bool,
    order: &NewOrder,
) -> Result<(), RejectReason> {
    if grid {
        new_checks::<true, false>(cfg, order)
    } else {
        new_checks::<false, false>(cfg, order)
    }
}

#[inline(always)]
fn new_checks<const GRID: bool, const STOPS: bool>(
    cfg: &BookConfig,
    order: &NewOrder,
) -> Result<(), RejectReason> {
    if !cfg.qty_ok(order.qty) {
        return Err(RejectReason::BadQty);
    }
    if GRID && !cfg.lot_ok(order.qty) {
        return Err(RejectReason::BadLot);
    }
    match (order.ord_type, order.price) {
        (OrdType::Limit, Some(p)) if cfg.price_ok(p) && (!GRID || cfg.tick_ok(p)) => {}
        (OrdType::Limit, Some(p)) if cfg.price_ok(p) => return Err(RejectReason::BadTick),
        (OrdType::Market, None) => {}
        (OrdType::Stop { .. } | OrdType::StopLimit { .. }, _) if STOPS => {
            return stop_checks(cfg, GRID, order)
        }
        (OrdType::Iceberg { display }, price) if STOPS => {
            return iceberg_checks::<GRID>(cfg, order, price, display)
        }
        (OrdType::MidPeg, cap) if STOPS => return peg_checks::<GRID>(cfg, order, cap),
        _ => return Err(RejectReason::BadPrice),
    }
    if order.ord_type == OrdType::Market && matches!(order.tif, Tif::Gtc | Tif::Post) {
        return Err(RejectReason::BadTif);
    }
    Ok(())
}

/// Steps 2 and 3 for a stop or stop-limit (`docs/SEMANTICS.md`, "Stop orders"): a stop has
/// no price and a stop-limit a price in the band and on the tick, as the market or limit
/// order each becomes; the trigger is in the band and on the tick like a price
/// ([`RejectReason::BadPrice`], [`RejectReason::BadTick`]); a stop is IOC or FOK like a
/// market order, and neither is post-only, which cannot be honoured at trigger time
/// ([`RejectReason::BadTif`]). Out of line: the plain path never runs it.
#[cold]
#[inline(never)]
fn stop_checks(cfg: &BookConfig, grid: bool, order: &NewOrder) -> Result<(), RejectReason> {
    let on_grid = |p: Price| {
        if !cfg.price_ok(p) {
            Err(RejectReason::BadPrice)
        } else if grid && !cfg.tick_ok(p) {
            Err(RejectReason::BadTick)
        } else {
            Ok(())
        }
    };
    let market = match (order.ord_type, order.price) {
        (OrdType::Stop { .. }, None) => true,
        (OrdType::StopLimit { .. }, Some(p)) => {
            on_grid(p)?;
            false
        }
        _ => return Err(RejectReason::BadPrice),
    };
    if let Some(trigger) = order.ord_type.trigger() {
        on_grid(trigger)?;
    }
    match order.tif {
        Tif::Post => Err(RejectReason::BadTif),
        Tif::Gtc if market => Err(RejectReason::BadTif),
        _ => Ok(()),
    }
}

/// The rest of an iceberg's checks, after its quantity and lot: its price as a limit's
/// (present, in the band, on the tick), then GTC ([`RejectReason::BadTif`]), then its
/// display in `1..=qty` ([`RejectReason::BadQty`]) and on the lot
/// ([`RejectReason::BadLot`]), then a price-time book ([`RejectReason::Unsupported`]).
/// Out of line: a plain limit or market order never reaches it.
#[cold]
#[inline(never)]
fn iceberg_checks<const GRID: bool>(
    cfg: &BookConfig,
    order: &NewOrder,
    price: Option<Price>,
    display: Qty,
) -> Result<(), RejectReason> {
    match price {
        Some(p) if cfg.price_ok(p) && (!GRID || cfg.tick_ok(p)) => {}
        Some(p) if cfg.price_ok(p) => return Err(RejectReason::BadTick),
        _ => return Err(RejectReason::BadPrice),
    }
    if order.tif != Tif::Gtc {
        return Err(RejectReason::BadTif);
    }
    if display == 0 || display > order.qty {
        return Err(RejectReason::BadQty);
    }
    if GRID && !cfg.lot_ok(display) {
        return Err(RejectReason::BadLot);
    }
    Ok(())
}

/// The rest of a midpoint peg's checks, after its quantity and lot: its cap, when it has
/// one, as a limit price (in the band, on the tick), then GTC or IOC
/// ([`RejectReason::BadTif`]: a fill-or-kill or post-only peg has no meaning at a price
/// that is not shown), then a price-time book ([`RejectReason::Unsupported`]). Out of
/// line: a plain limit or market order never reaches it.
#[cold]
#[inline(never)]
fn peg_checks<const GRID: bool>(
    cfg: &BookConfig,
    order: &NewOrder,
    cap: Option<Price>,
) -> Result<(), RejectReason> {
    match cap {
        Some(p) if !cfg.price_ok(p) => return Err(RejectReason::BadPrice),
        Some(p) if GRID && !cfg.tick_ok(p) => return Err(RejectReason::BadTick),
        _ => {}
    }
    if !matches!(order.tif, Tif::Gtc | Tif::Ioc) {
        return Err(RejectReason::BadTif);
    }
    Ok(())
}

/// The stateless checks of a replace's new terms, after the book has found the order:
/// quantity in `1..=cfg.max_order_qty` ([`RejectReason::BadQty`]) and on the lot
/// ([`RejectReason::BadLot`]), then price inside the band ([`RejectReason::BadPrice`]) and
/// on the tick ([`RejectReason::BadTick`]).
#[inline(always)]
pub fn check_replace(cfg: &BookConfig, price: Price, qty: Qty) -> Result<(), RejectReason> {
    check_replace_on(cfg, has_grid(cfg), price, qty)
}

/// [`check_replace`] with `grid` = [`has_grid`]`(cfg)` computed beforehand.
#[inline(always)]
pub fn check_replace_on(
    cfg: &BookConfig,
    grid: bool,
    price: Price,
    qty: Qty,
) -> Result<(), RejectReason> {
    if !cfg.qty_ok(qty) {
        return Err(RejectReason::BadQty);
    }
    if grid && !cfg.lot_ok(qty) {
        return Err(RejectReason::BadLot);
    }
    if !cfg.price_ok(price) {
        return Err(RejectReason::BadPrice);
    }
    if grid && !cfg.tick_ok(price) {
        return Err(RejectReason::BadTick);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Side;

    fn band() -> BookConfig {
        BookConfig {
            max_order_qty: 100,
            min_price: -10,
            max_price: 10,
            ..BookConfig::default()
        }
    }

    /// Each rule on both sides of its edge, checked by hand against `docs/SEMANTICS.md`.
    #[test]
    fn new_order_edges() {
        let cfg = band();
        let ok = |o: NewOrder| check_new(&cfg, &o);
        assert_eq!(ok(NewOrder::limit(1, 1, Side::Buy, 10, 100)), Ok(()));
        assert_eq!(ok(NewOrder::limit(1, 1, Side::Buy, -10, 1)), Ok(()));
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 10, 0)),
            Err(RejectReason::BadQty)
        );
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 10, 101)),
            Err(RejectReason::BadQty)
        );
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 11, 1)),
            Err(RejectReason::BadPrice)
        );
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Sell, -11, 1)),
            Err(RejectReason::BadPrice)
        );
        // Quantity is checked before price.
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Sell, -11, 0)),
            Err(RejectReason::BadQty)
        );
        let mut limit_without_price = NewOrder::limit(1, 1, Side::Buy, 0, 1);
        limit_without_price.price = None;
        assert_eq!(ok(limit_without_price), Err(RejectReason::BadPrice));
        assert_eq!(ok(NewOrder::market(1, 1, Side::Buy, 5)), Ok(()));
        let mut market_with_price = NewOrder::market(1, 1, Side::Buy, 5);
        market_with_price.price = Some(0);
        assert_eq!(ok(market_with_price), Err(RejectReason::BadPrice));
        for (tif, want) in [
            (Tif::Ioc, Ok(())),
            (Tif::Fok, Ok(())),
            (Tif::Gtc, Err(RejectReason::BadTif)),
            (Tif::Post, Err(RejectReason::BadTif)),
        ] {
            assert_eq!(
                ok(NewOrder::market(1, 1, Side::Sell, 5).with_tif(tif)),
                want
            );
        }
    }

    /// Tick and lot, by hand: tick 5 admits -10, 0, 995 but not 7 or -3; lot 100 admits
    /// 100 and 300 but not 150; band and quantity range are checked first.
    #[test]
    fn tick_and_lot_edges() {
        let cfg = BookConfig {
            max_order_qty: 1_000,
            min_price: -10,
            max_price: 1_000,
            tick: 5,
            lot: 100,
            ..BookConfig::default()
        };
        let ok = |o: NewOrder| check_new(&cfg, &o);
        for p in [-10, 0, 995] {
            assert_eq!(ok(NewOrder::limit(1, 1, Side::Buy, p, 300)), Ok(()), "{p}");
        }
        for p in [7, -3, 999] {
            assert_eq!(
                ok(NewOrder::limit(1, 1, Side::Buy, p, 100)),
                Err(RejectReason::BadTick),
                "{p}"
            );
        }
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 10, 150)),
            Err(RejectReason::BadLot)
        );
        // Lot before price; band before tick; range before lot.
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 7, 150)),
            Err(RejectReason::BadLot)
        );
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 1_003, 100)),
            Err(RejectReason::BadPrice)
        );
        assert_eq!(
            ok(NewOrder::limit(1, 1, Side::Buy, 7, 1_100)),
            Err(RejectReason::BadQty)
        );
        // A market order has no price to be on the tick; its quantity still needs the lot.
        assert_eq!(ok(NewOrder::market(1, 1, Side::Buy, 200)), Ok(()));
        assert_eq!(
            ok(NewOrder::market(1, 1, Side::Buy, 250)),
            Err(RejectReason::BadLot)
        );
        assert_eq!(check_replace(&cfg, 5, 200), Ok(()));
        assert_eq!(check_replace(&cfg, 6, 200), Err(RejectReason::BadTick));
        assert_eq!(check_replace(&cfg, 6, 250), Err(RejectReason::BadLot));
        // Extreme prices with a tick never overflow.
        let wide = BookConfig {
            tick: 2,
            ..BookConfig::default()
        };
        assert_eq!(
            check_new(&wide, &NewOrder::limit(1, 1, Side::Buy, i64::MIN, 1)),
            Ok(())
        );
        assert_eq!(
            check_new(&wide, &NewOrder::limit(1, 1, Side::Buy, i64::MAX, 1)),
            Err(RejectReason::BadTick)
        );
    }

    /// A grid of exactly 1 (or less) is no grid; 2 on either axis is one.
    #[test]
    fn grid_flag() {
        let with = |tick, lot| BookConfig {
            tick,
            lot,
            ..BookConfig::default()
        };
        assert!(!has_grid(&with(1, 1)));
        assert!(!has_grid(&with(0, 0)));
        assert!(!has_grid(&with(-5, 1)));
        assert!(has_grid(&with(2, 1)));
        assert!(has_grid(&with(1, 2)));
    }

    #[test]
    fn replace_terms_edges() {
        let cfg = band();
        assert_eq!(check_replace(&cfg, 10, 100), Ok(()));
        assert_eq!(check_replace(&cfg, 10, 0), Err(RejectReason::BadQty));
        assert_eq!(check_replace(&cfg, 11, 0), Err(RejectReason::BadQty));
        assert_eq!(check_replace(&cfg, 11, 1), Err(RejectReason::BadPrice));
        assert_eq!(check_replace(&cfg, -11, 1), Err(RejectReason::BadPrice));
    }
}
