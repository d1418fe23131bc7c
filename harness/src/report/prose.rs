//! The sentences of `report.md` that explain the figures: every number and every claim in
//! them comes from the scenario's parameters or from the run's results, so that a report
//! never describes another scenario (a fixed text once said "inventory limit 300, no hedge"
//! over a run with a 5,000-share limit that hedged millions of shares) nor a loss over a
//! profit.

use crate::metrics::Economics;
use crate::retail::scenario::Scenario;
use std::fmt::Write as _;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let mut rev = String::new();
    for (run, c) in n.to_string().chars().rev().enumerate() {
        if run > 0 && run % 3 == 0 {
            rev.push(',');
        }
        rev.push(c);
    }
    rev.chars().rev().collect()
}

/// Signed dollars with thousands separators: `+$3.97`, `-$50,296.12`.
pub fn dollars(v: f64) -> String {
    let cents = (v.abs() * 100.0).round() as u64;
    let sign = if v < 0.0 && cents > 0 { "-" } else { "+" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// Unsigned dollars with thousands separators, for an amount whose direction the sentence
/// states: `$448,059.76`.
pub fn usd(v: f64) -> String {
    dollars(v.abs())[1..].to_string()
}

/// The cents of a quoted spread of 1, 2, ... cents drawn with the scenario's weights:
/// (percent of draws at 1-2 cents, mean spread in cents).
fn spread_profile(scn: &Scenario) -> (f64, f64) {
    let w = &scn.market.spread_weights;
    let sum: f64 = w.iter().sum();
    let narrow: f64 = w.iter().take(2).sum::<f64>() / sum * 100.0;
    let mean: f64 = w
        .iter()
        .enumerate()
        .map(|(i, x)| (i + 1) as f64 * x)
        .sum::<f64>()
        / sum;
    (narrow, mean)
}

/// "How the figures come about": the mechanisms, with this scenario's settings and this
/// run's results.
pub fn how_figures_come_about(scn: &Scenario, ec: &Economics) -> String {
    let w = &scn.wholesaler;
    let m = &ec.marketable;
    let p = &ec.pnl;
    let routed = |reason: &str| ec.routed_by_reason.get(reason).copied().unwrap_or(0);
    let mut s = String::from("### How the figures come about\n\n");

    // Routing.
    let _ = write!(
        s,
        "- **Routing** sent {:.1}% of the marketable shares out (published: 28.6%). Orders above \
         the auto-execution size ({} shares) first cross resting customer orders at the NBBO and \
         route the rest ({} shares of all orders routed for size); orders that would take the \
         inventory past its limit ({} shares) are routed ({} shares). ",
        100.0 - m.internalized_pct,
        thousands(w.max_autoex_qty),
        thousands(routed("size_over_autoex")),
        thousands(w.max_inventory),
        thousands(routed("inventory_limit")),
    );
    if w.hedge_threshold < w.max_inventory {
        let _ = write!(
            s,
            "Past {} shares of inventory the wholesaler hedges back to {} shares on the exchange: \
             it hedged {} shares. ",
            thousands(w.hedge_threshold),
            thousands(w.hedge_target),
            thousands(p.hedged_shares)
        );
    } else {
        let _ = write!(
            s,
            "The hedge threshold equals the inventory limit, so the wholesaler manages its position \
             by routing, not hedging (it hedged {} shares). ",
            thousands(p.hedged_shares)
        );
    }
    let wide = routed("wide_quote");
    if wide == 0 {
        let _ = writeln!(
            s,
            "The wide-quote rule ({} cents) did not bind: no order arrived while the quoted spread \
             was wider.",
            w.max_autoex_spread_cents
        );
    } else {
        let _ = writeln!(
            s,
            "The wide-quote rule ({} cents) routed {} shares that arrived while the quoted spread \
             was wider.",
            w.max_autoex_spread_cents,
            thousands(wide)
        );
    }

    // Agency crosses.
    let _ = writeln!(
        s,
        "- **Agency crosses** ({} marketable shares) run only where they are the best execution \
         for the incoming order: against resting customer orders at least as good as the \
         wholesaler's improved price, or, for an order the wholesaler will not fill, at the NBBO \
         (as good as the exchange).",
        thousands(m.agency_shares)
    );

    // Price improvement.
    let (narrow, mean_spread) = spread_profile(scn);
    let kind = |k: &str| ec.rule605.by_kind.iter().find(|x| x.kind == k);
    let f = w.improvement_fraction;
    let _ = write!(
        s,
        "- **Price improvement** is {:.0}% of the quoted spread on principal fills (ticks of \
         $0.0001, rounded down), on a spread drawn at 1-2 cents {narrow:.0}% of the time (mean \
         {mean_spread:.2} cents; measured at receipt over executed marketable shares: {:.2} \
         cents). So principal shares sit near E/Q 1 - 2 x {f} = {:.2}",
        f * 100.0,
        ec.rule605.avg_quoted_spread_cents,
        1.0 - 2.0 * f
    );
    let measured: Vec<String> = ["principal", "agency", "routed"]
        .iter()
        .filter_map(|k| kind(k))
        .filter(|k| k.executed_shares > 0)
        .map(|k| format!("{} {:.3}", k.kind, k.e_over_q))
        .collect();
    let _ = writeln!(
        s,
        "; measured E/Q by kind: {}; the all-shares E/Q ({:.3}) is their quoted-spread-weighted \
         mean, and overall improvement is {:.3} ¢/share.",
        if measured.is_empty() {
            "no executed shares".to_string()
        } else {
            measured.join(", ")
        },
        ec.rule605.e_over_q,
        ec.rule605.price_improvement_cents_per_share
    );

    // Collar.
    let collar = ec
        .routed_unfilled_by_reason
        .get("collar")
        .copied()
        .unwrap_or(0);
    let _ = writeln!(
        s,
        "- **Price collar** of {} cents: no customer fill beyond it from the NBBO at receipt; \
         routed orders go to the exchange limited at it, and {} routed shares that displayed \
         depth beyond it would have filled were cancelled (`collar`).",
        w.collar_cents,
        thousands(collar)
    );

    // PFOF.
    let rates: Vec<String> = scn
        .retail
        .brokers
        .iter()
        .map(|b| format!("{} {}", b.name, b.pfof_cents_per_100))
        .collect();
    let _ = writeln!(
        s,
        "- **PFOF** is each broker's rate ({} cents per 100 shares) times its executed marketable \
         shares (routed ones included, as Rule 606 counts them): {} in all, {:.2} cents per 100 \
         shares on average.",
        rates.join(", "),
        usd(p.pfof_paid),
        ec.pfof_cents_per_100_shares
    );

    // The P&L, with its sign and its arithmetic.
    let principal_shares = m.principal_shares + ec.nonmarketable_limits.wholesaler_filled_shares;
    let per = |v: f64, n: u64| if n > 0 { v * 100.0 / n as f64 } else { 0.0 };
    let verdict = if p.net_pnl < 0.0 {
        "loses money"
    } else {
        "makes money"
    };
    let _ = write!(
        s,
        "- **The wholesaler {verdict}: net {}.** Spread capture {} ({:.3} cents on each of {} \
         principal shares), hedge spread cost {}, inventory (price moves) {}, access fees {} \
         ({} cents a share on {} shares routed or hedged), PFOF {}. ",
        dollars(p.net_pnl),
        dollars(p.spread_capture),
        per(p.spread_capture, principal_shares),
        thousands(principal_shares),
        dollars(p.hedge_spread_cost),
        dollars(p.inventory_pnl),
        dollars(-p.access_fees),
        scn.market.access_fee * 100.0,
        thousands(ec.conservation.filled_on_exchange + p.hedged_shares),
        dollars(-p.pfof_paid),
    );
    let costs = p.access_fees + p.pfof_paid - p.hedge_spread_cost;
    let mkt = &scn.market;
    let drift = if mkt.drift_cents == 0.0 {
        String::new()
    } else {
        let lean = match scn.retail.buy_bias {
            b if b > 0.0 => format!(" while the flow leans to buying (buy_bias {b})"),
            b if b < 0.0 => format!(" while the flow leans to selling (buy_bias {b})"),
            _ => String::new(),
        };
        format!(", but drifts {} cents over the day{lean}", mkt.drift_cents)
    };
    match p.markouts.last() {
        Some((h, v)) if v.abs() <= 0.5 * p.spread_capture.abs() => {
            let _ = write!(
                s,
                "Markouts of principal fills are small beside the spread capture ({} at {h}): the \
                 mid is a random walk drawn independently of the orders, so the flow carries no \
                 information about future prices. ",
                dollars(*v)
            );
        }
        Some((h, v)) if *v < 0.0 => {
            let _ = write!(
                s,
                "Markouts of principal fills are adverse ({} at {h}, {:.1} times the spread \
                 capture): the mid walks independently of the orders{drift}, and the price moved \
                 against the wholesaler's fills after it traded. ",
                dollars(*v),
                v.abs() / p.spread_capture.abs().max(0.01)
            );
        }
        Some((h, v)) => {
            let _ = write!(
                s,
                "Markouts of principal fills are favourable ({} at {h}): the mid walks \
                 independently of the orders{drift}, and the price moved the wholesaler's way \
                 after it traded. ",
                dollars(*v)
            );
        }
        None => {}
    }
    let _ = writeln!(
        s,
        "Spread capture ({}) {} access fees, PFOF and the hedges' spread cost together ({}); \
         the inventory's price moves contribute {}.",
        dollars(p.spread_capture),
        if p.spread_capture >= costs {
            "covers"
        } else {
            "falls short of"
        },
        usd(costs),
        dollars(p.inventory_pnl)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_signed() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(49_230_885), "49,230,885");
        assert_eq!(dollars(3.974), "+$3.97");
        assert_eq!(dollars(-50_296.123), "-$50,296.12");
        assert_eq!(dollars(-0.001), "+$0.00");
        assert_eq!(usd(-448_059.764), "$448,059.76");
    }
}
