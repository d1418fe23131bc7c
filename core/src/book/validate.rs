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

/// The stateless checks of a new order, in the order the contract lists them:
/// 1. quantity in `1..=cfg.max_order_qty` ([`RejectReason::BadQty`]);
/// 2. a limit order has a price inside `cfg.min_price..=cfg.max_price`, a market order has
///    none ([`RejectReason::BadPrice`]);
/// 3. a market order is IOC or FOK, never GTC or post-only ([`RejectReason::BadTif`]).
///
/// The checks that need the book (a live duplicate id, a post-only order that would cross)
/// come after these and are the book's own.
#[inline(always)]
pub fn check_new(cfg: &BookConfig, order: &NewOrder) -> Result<(), RejectReason> {
    if !cfg.qty_ok(order.qty) {
        return Err(RejectReason::BadQty);
    }
    match (order.ord_type, order.price) {
        (OrdType::Limit, Some(p)) if cfg.price_ok(p) => {}
        (OrdType::Market, None) => {}
        _ => return Err(RejectReason::BadPrice),
    }
    if order.ord_type == OrdType::Market && matches!(order.tif, Tif::Gtc | Tif::Post) {
        return Err(RejectReason::BadTif);
    }
    Ok(())
}

/// The stateless checks of a replace's new terms, after the book has found the order:
/// quantity in `1..=cfg.max_order_qty` ([`RejectReason::BadQty`]), then price inside the
/// band ([`RejectReason::BadPrice`]).
#[inline(always)]
pub fn check_replace(cfg: &BookConfig, price: Price, qty: Qty) -> Result<(), RejectReason> {
    if !cfg.qty_ok(qty) {
        return Err(RejectReason::BadQty);
    }
    if !cfg.price_ok(price) {
        return Err(RejectReason::BadPrice);
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
