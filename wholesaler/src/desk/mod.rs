//! A netting desk for a futures-referencing retail product (the shape of Bank of China's
//! "Yuan You Bao" in 2020): clients trade with the desk at its price, the desk crosses
//! their buys and sells internally and hedges only its net exposure on a futures exchange
//! (a flowmatch book), rolls positions from the expiring contract to the next, and settles
//! variation margin daily. Beside the equity internalizer rather than in it: different
//! product, same idea (internalize, hedge the rest).
//!
//! - [`ledger`]: positions, margin accounts, variation margin and the conservation check;
//! - [`netting`]: the desk itself ([`NettingDesk`]) and the exchange books it hedges on.

pub mod ledger;
pub mod netting;

pub use ledger::{Account, Conservation, Ledger};
pub use netting::{
    ClientReject, DeskConfig, HedgeFill, HedgeResult, NettingDesk, RollResult, DESK_CLIENTS,
    DESK_HEDGE, EXCHANGE, FIRST_CLIENT, MAKERS,
};
