//! Minimal hand-written SVG charts: axes, polylines and bars, with text left to the viewer's
//! fonts (no font files needed to produce them).

use crate::metrics::Economics;
use hdrhistogram::Histogram;
use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 420.0;
const L: f64 = 80.0; // left margin
const R: f64 = 150.0; // right margin (legend)
const T: f64 = 40.0;
const B: f64 = 60.0;
const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

struct Frame {
    s: String,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    /// Numeric labels under the x axis (off for category charts).
    x_ticks: bool,
}

impl Frame {
    fn new(
        title: &str,
        xlabel: &str,
        ylabel: &str,
        x: (f64, f64),
        y: (f64, f64),
        x_ticks: bool,
    ) -> Frame {
        let (mut y0, mut y1) = y;
        // Also catches NaN bounds.
        if y1.partial_cmp(&y0) != Some(std::cmp::Ordering::Greater) {
            y0 -= 1.0;
            y1 += 1.0;
        }
        let (mut x0, mut x1) = x;
        if x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) {
            x0 -= 1.0;
            x1 += 1.0;
        }
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
            W / 2.0,
            esc(title)
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            L + (W - L - R) / 2.0,
            H - 15.0,
            esc(xlabel)
        );
        let _ = writeln!(
            s,
            r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}</text>"#,
            T + (H - T - B) / 2.0,
            T + (H - T - B) / 2.0,
            esc(ylabel)
        );
        let mut f = Frame {
            s,
            x0,
            x1,
            y0,
            y1,
            x_ticks,
        };
        f.axes();
        f
    }

    fn px(&self, x: f64) -> f64 {
        L + (x - self.x0) / (self.x1 - self.x0) * (W - L - R)
    }
    fn py(&self, y: f64) -> f64 {
        H - B - (y - self.y0) / (self.y1 - self.y0) * (H - T - B)
    }

    fn axes(&mut self) {
        let (xa, xb, ya, yb) = (L, W - R, T, H - B);
        let _ = writeln!(
            self.s,
            r##"<rect x="{xa}" y="{ya}" width="{}" height="{}" fill="none" stroke="#444"/>"##,
            xb - xa,
            yb - ya
        );
        for i in 0..=5 {
            let fy = i as f64 / 5.0;
            let v = self.y0 + fy * (self.y1 - self.y0);
            let y = self.py(v);
            let _ = writeln!(
                self.s,
                r##"<line x1="{xa}" x2="{xb}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                xa - 5.0,
                y + 4.0,
                num(v)
            );
            if !self.x_ticks {
                continue;
            }
            let vx = self.x0 + fy * (self.x1 - self.x0);
            let x = self.px(vx);
            let _ = writeln!(
                self.s,
                r##"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                yb + 16.0,
                num(vx)
            );
        }
    }

    fn line(&mut self, pts: &[(f64, f64)], color: &str, label: &str, idx: usize) {
        let mut d = String::new();
        for (x, y) in pts {
            let _ = write!(d, "{:.1},{:.1} ", self.px(*x), self.py(*y));
        }
        let _ = writeln!(
            self.s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{d}"/>"#
        );
        self.legend(color, label, idx);
    }

    fn legend(&mut self, color: &str, label: &str, idx: usize) {
        let y = T + 10.0 + 18.0 * idx as f64;
        let x = W - R + 10.0;
        let _ = writeln!(
            self.s,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            y - 10.0,
            x + 16.0,
            y,
            esc(label)
        );
    }

    fn finish(mut self) -> String {
        self.s.push_str("</svg>\n");
        self.s
    }
}

fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Latency percentile curves: x = log10(1/(1-p)) ("nines"), y = latency in ns.
pub fn latency_curve(series: &[(&str, &Histogram<u64>)]) -> String {
    let pts = |h: &Histogram<u64>| -> Vec<(f64, f64)> {
        if h.is_empty() {
            return vec![];
        }
        (0..=50)
            .map(|i| {
                let nines = i as f64 * 0.1; // up to p99.999
                let p = 1.0 - 10f64.powf(-nines);
                (nines, h.value_at_quantile(p) as f64)
            })
            .collect()
    };
    let s: Vec<(&str, Vec<(f64, f64)>)> = series.iter().map(|(n, h)| (*n, pts(h))).collect();
    // Log scale on y: latencies span orders of magnitude.
    let ymax = s
        .iter()
        .flat_map(|x| &x.1)
        .map(|p| p.1)
        .fold(10.0f64, f64::max);
    let mut f = Frame::new(
        "Latency by percentile",
        "percentile (1 = p90, 2 = p99, 3 = p99.9, 4 = p99.99, 5 = p99.999)",
        "log10(nanoseconds)",
        (0.0, 5.0),
        (0.0, ymax.log10().ceil()),
        true,
    );
    for (i, (name, p)) in s.iter().enumerate() {
        let lp: Vec<(f64, f64)> = p.iter().map(|(x, y)| (*x, y.max(1.0).log10())).collect();
        f.line(&lp, COLORS[i % COLORS.len()], name, i);
    }
    f.finish()
}

/// Stacked bars per order type: % of marketable shares agency / principal / routed.
pub fn internalization_by_type(ec: &Economics) -> String {
    let groups: Vec<(&String, &crate::metrics::Split)> = ec.by_class.iter().collect();
    let n = groups.len().max(1) as f64;
    let mut f = Frame::new(
        "Marketable shares by outcome, per order type",
        "order type",
        "% of shares",
        (0.0, n),
        (0.0, 100.0),
        false,
    );
    // Replace the numeric x labels with the type names.
    let bw = (W - L - R) / n * 0.6;
    for (i, (name, s)) in groups.iter().enumerate() {
        let total = s.shares.max(1) as f64;
        let parts = [
            s.agency_shares as f64 / total * 100.0,
            s.principal_shares as f64 / total * 100.0,
            s.routed_shares as f64 / total * 100.0,
        ];
        let cx = f.px(i as f64 + 0.5);
        let mut base = 0.0;
        for (k, v) in parts.iter().enumerate() {
            let y_top = f.py(base + v);
            let y_bot = f.py(base);
            let _ = writeln!(
                f.s,
                r#"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{}"/>"#,
                cx - bw / 2.0,
                y_top,
                (y_bot - y_top).max(0.0),
                COLORS[k]
            );
            base += v;
        }
        let _ = writeln!(
            f.s,
            r#"<text x="{cx:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            H - B + 30.0,
            esc(name)
        );
    }
    for (k, name) in ["agency cross", "principal", "routed"].iter().enumerate() {
        f.legend(COLORS[k], name, k);
    }
    f.finish()
}

/// Inventory (shares) and net P&L (dollars) over the session, on two scaled lines.
pub fn inventory_pnl(ec: &Economics) -> String {
    let s = &ec.samples;
    let tmax = s.last().map(|x| x.t_s).unwrap_or(1.0);
    let imax = s
        .iter()
        .map(|x| x.inventory.unsigned_abs() as f64)
        .fold(1.0, f64::max);
    let pmax = s
        .iter()
        .map(|x| x.net_pnl.abs().max(x.trading_pnl.abs()))
        .fold(1.0, f64::max);
    let mut f = Frame::new(
        "Wholesaler inventory and P&L over the session",
        "seconds since the open",
        "inventory (shares)",
        (0.0, tmax),
        (-imax * 1.1, imax * 1.1),
        true,
    );
    let inv: Vec<(f64, f64)> = s.iter().map(|x| (x.t_s, x.inventory as f64)).collect();
    f.line(&inv, COLORS[0], "inventory", 0);
    // P&L scaled onto the inventory axis; its own scale is given in the legend.
    let k = imax / pmax;
    let net: Vec<(f64, f64)> = s.iter().map(|x| (x.t_s, x.net_pnl * k)).collect();
    let tr: Vec<(f64, f64)> = s.iter().map(|x| (x.t_s, x.trading_pnl * k)).collect();
    f.line(
        &tr,
        COLORS[2],
        &format!("trading P&L (±${})", num(pmax * 1.1)),
        1,
    );
    f.line(
        &net,
        COLORS[1],
        &format!("net P&L (±${})", num(pmax * 1.1)),
        2,
    );
    f.finish()
}

/// Distribution of price improvement per share over marketable executed shares.
pub fn improvement_hist(ec: &Economics) -> String {
    let h = &ec.rule605.improvement_histogram;
    let total: u64 = h.iter().map(|x| x.1).sum::<u64>().max(1);
    let ymax = h
        .iter()
        .map(|x| x.1 as f64 / total as f64 * 100.0)
        .fold(1.0, f64::max);
    let mut f = Frame::new(
        "Price improvement per share (marketable orders)",
        "cents per share (negative: outside the quote)",
        "% of executed shares",
        (-2.0, 3.0),
        (0.0, ymax * 1.1),
        true,
    );
    for (lo, n) in h {
        let pctv = *n as f64 / total as f64 * 100.0;
        let x0 = f.px(*lo);
        let x1 = f.px(*lo + 0.1);
        let y = f.py(pctv);
        let color = if *lo < 0.0 {
            COLORS[1]
        } else if *lo < 0.1 && *lo >= 0.0 {
            "#888"
        } else {
            COLORS[0]
        };
        let _ = writeln!(
            f.s,
            r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"/>"#,
            (x1 - x0 - 1.0).max(0.5),
            (f.py(0.0) - y).max(0.0)
        );
    }
    f.legend(COLORS[0], "improved", 0);
    f.legend("#888", "at the quote", 1);
    f.legend(COLORS[1], "outside", 2);
    f.finish()
}
