//! SVG charts for `flowmatch run` and `flowmatch compare`, drawn with `plotters` (SVG backend).
//!
//! No font features are enabled: titles, tick labels and legends are emitted as `<text>`
//! elements and left to the viewer's fonts, so no font files or system libraries are needed.
//! Everything is integer pixel arithmetic over the input numbers: the same data gives
//! byte-identical SVG. Non-finite inputs are dropped or clamped, never a panic; if plotters
//! itself reports an error the chart degrades to an SVG carrying the title and the error.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

/// Tableau-10 colours, in order.
pub const COLORS: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
];
/// Neutral grey (e.g. "at the quote" bins).
pub const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Text of a bar's value label.
const LABEL_GREY: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Text of a mark that explains a missing bar.
const MARK_RED: RGBColor = RGBColor(0xb0, 0x00, 0x00);
/// Smallest height of a non-zero bar, pixels.
const MIN_BAR_PX: f64 = 3.0;

/// Tick-label formatter.
pub type Fmt = fn(f64) -> String;

const W: u32 = 960;
const H: u32 = 480;
/// Width of the legend strip on the right.
const LEGEND_W: u32 = 200;
const FONT: &str = "sans-serif";

type Res<T> = Result<T, Box<dyn Error>>;

/// The axis titles and the look every chart's grid shares (fonts, faint minor lines);
/// each chart then sets its own tick counts and formatters.
fn house_mesh<X, Y, DB>(mesh: &mut MeshStyle<'_, '_, X, Y, DB>, x_desc: &str, y_desc: &str)
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0));
}

/// One named line.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn against the right-hand axis (`LineChart::y2`).
    pub secondary: bool,
}

/// A line chart with several named series.
#[derive(Default)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_log: bool,
    pub y_log: bool,
    /// Axis ranges; `None` = from the data.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub x_fmt: Option<Fmt>,
    pub y_fmt: Option<Fmt>,
    /// Label and range of a linear right-hand axis for the series marked `secondary`.
    pub y2: Option<(&'a str, (f64, f64))>,
    pub series: &'a [Series],
    /// A remark printed under the legend (wrapped), e.g. what is not drawn and why.
    pub note: &'a str,
}

/// Bars: one group per label, one bar per series in each group (or stacked).
#[derive(Default)]
pub struct BarChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub groups: &'a [String],
    /// `(name, one value per group)`; missing values count as 0.
    pub series: &'a [(String, Vec<f64>)],
    pub log_y: bool,
    /// Stack the series in each group instead of placing them side by side.
    pub stacked: bool,
    /// Top of the y axis; `None` = from the data.
    pub y_max: Option<f64>,
    pub y_fmt: Option<Fmt>,
    /// Print each bar's value above it with this format (side-by-side bars only), so a
    /// bar too small to see still reads.
    pub value_labels: Option<Fmt>,
    /// Slots that have no value and must say why: `(series, group, text)`, drawn as a
    /// cross at the base of the slot with the text above it (e.g. a peer that hung).
    pub missing: &'a [(usize, usize, String)],
}

/// One histogram bin `[lo, hi)`, coloured by `class` (an index into `Hist::classes`).
#[derive(Clone, Copy, Debug)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub value: f64,
    pub class: usize,
}

/// A histogram whose bins are coloured by class, with a legend of the classes.
#[derive(Default)]
pub struct Hist<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_range: (f64, f64),
    pub bins: &'a [Bin],
    pub classes: &'a [(&'a str, RGBColor)],
    pub x_fmt: Option<Fmt>,
    pub y_fmt: Option<Fmt>,
}

/// Compact tick label, one format at every magnitude: 0.25, 7, 340, 1k, 2.5k, 25k, 1.5M,
/// 10M, 2G (an SI suffix from 1000 on, at most one decimal, no trailing `.0`).
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if suffix.is_empty() && a < 100.0 { 2 } else { 1 };
    let s = format!("{scaled:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    format!("{s}{suffix}")
}

/// A duration in nanoseconds as a tick label with its unit: 500 ns, 1 µs, 2.5 µs, 10 ms.
pub fn ns(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let (scaled, unit) = if a >= 1e9 {
        (v / 1e9, "s")
    } else if a >= 1e6 {
        (v / 1e6, "ms")
    } else if a >= 1e3 {
        (v / 1e3, "µs")
    } else {
        (v, "ns")
    };
    format!("{} {unit}", num(scaled))
}

/// A percentile-axis label for x = 1/(1-p): `p0`, `p90`, `p99`, `p99.9`, ... (empty off
/// the decades' range).
pub fn percentile_label(x: f64) -> String {
    if x.is_nan() || x < 1.0 {
        return String::new();
    }
    let nines = x.log10();
    if nines < 0.5 {
        return "p0".into();
    }
    let decimals = (nines.round() as usize).saturating_sub(2);
    format!("p{:.*}", decimals, 100.0 - 100.0 / x)
}

/// Shortest service time the clocks resolve, ns: readings of 0 or 1 ns mean "too short to
/// measure" (two back-to-back TSC reads, converted), not a real latency, so the percentile
/// curves start at the first value at or above this.
pub const RESOLVABLE_NS: u64 = 2;

/// Latency percentile curves on log-log axes, one per histogram of nanoseconds:
/// x = 1/(1-p), so p90, p99, p99.9, ... are evenly spaced (51 points, p0 to p99.999);
/// y in time units. Points below [`RESOLVABLE_NS`] are not drawn and the chart says so.
/// Used by `flowmatch run` and `flowmatch compare` alike.
pub fn latency_by_percentile(
    title: &str,
    series: &[(&str, &hdrhistogram::Histogram<u64>)],
) -> String {
    let s: Vec<Series> = series
        .iter()
        .map(|(name, h)| Series {
            name: name.to_string(),
            points: if h.is_empty() {
                vec![]
            } else {
                (0..=50)
                    .map(|i| {
                        let x = 10f64.powf(i as f64 * 0.1); // up to p99.999
                        (x, h.value_at_quantile(1.0 - 1.0 / x))
                    })
                    .filter(|&(_, v)| v >= RESOLVABLE_NS)
                    .map(|(x, v)| (x, v as f64))
                    .collect()
            },
            secondary: false,
        })
        .collect();
    LineChart {
        title,
        x_label: "percentile (log scale in 1/(1-p): one step per extra nine)",
        y_label: "time per command (log scale)",
        x_log: true,
        y_log: true,
        x_range: Some((1.0, 1e5)),
        x_fmt: Some(percentile_label),
        y_fmt: Some(ns),
        note: "Readings under 2 ns are the clock's granularity, not a latency: each curve starts at its first percentile of 2 ns or more.",
        series: &s,
        ..Default::default()
    }
    .svg()
}

/// A finite, non-empty linear range (NaN or empty bounds widened by one either side).
fn lin_span((lo, hi): (f64, f64)) -> (f64, f64) {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() { hi } else { lo + 1.0 };
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

/// Whole decades covering `[lo, hi]`, at least one decade, never below 1e-12.
fn log_span((lo, hi): (f64, f64)) -> (f64, f64) {
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1.0 }.max(1e-12);
    let hi = if hi.is_finite() { hi.max(lo) } else { lo };
    let a = lo.log10().floor();
    let b = hi.log10().ceil().max(a + 1.0);
    (10f64.powf(a), 10f64.powf(b))
}

fn data_bounds<'a>(vals: impl Iterator<Item = &'a f64>, positive_only: bool) -> (f64, f64) {
    vals.copied()
        .filter(|v| v.is_finite() && (!positive_only || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

/// Render into a string; on a plotters error, a minimal SVG with the title and the error.
fn render(title: &str, draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Res<()>) -> String {
    let mut buf = String::new();
    let res = {
        let root = SVGBackend::with_string(&mut buf, (W, H)).into_drawing_area();
        draw(&root).and_then(|()| root.present().map_err(|e| e.into()))
    };
    match res {
        Ok(()) => buf,
        Err(e) => {
            let esc = |s: &str| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            };
            format!(
                "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
                 <text x=\"20\" y=\"30\">{}</text>\n<text x=\"20\" y=\"60\">chart error: {}</text>\n</svg>\n",
                esc(title),
                esc(&e.to_string())
            )
        }
    }
}

/// White background, title on top, legend strip on the right; returns the plot area.
fn frame<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
    legend: &[(String, RGBColor)],
    note: &str,
) -> Res<DrawingArea<SVGBackend<'a>, Shift>> {
    root.fill(&WHITE)?;
    let body = root.titled(title, (FONT, 18))?;
    let (plot, side) = body.split_horizontally(W - LEGEND_W);
    for (i, (name, color)) in legend.iter().enumerate() {
        let y = 20 + 22 * i as i32;
        side.draw(&Rectangle::new([(8, y), (22, y + 12)], color.filled()))?;
        side.draw(&Text::new(name.as_str(), (28, y), (FONT, 13)))?;
    }
    let top = 20 + 22 * legend.len() as i32 + 16;
    for (i, line) in wrap(note, NOTE_CHARS).iter().enumerate() {
        let style = TextStyle::from((FONT, 11).into_font()).color(&NOTE_GREY);
        side.draw(&Text::new(line.as_str(), (8, top + 14 * i as i32), style))?;
    }
    Ok(plot)
}

/// Text of a note under the legend.
const NOTE_GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Characters per line of a note in the legend strip.
const NOTE_CHARS: usize = 30;

/// Greedy word wrap at `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

impl LineChart<'_> {
    pub fn svg(&self) -> String {
        render(self.title, |root| {
            let series: Vec<Series> = self
                .series
                .iter()
                .map(|s| Series {
                    name: s.name.clone(),
                    secondary: s.secondary && self.y2.is_some(),
                    points: s
                        .points
                        .iter()
                        .copied()
                        .filter(|(x, y)| {
                            x.is_finite()
                                && y.is_finite()
                                && (!self.x_log || *x > 0.0)
                                && (!self.y_log || *y > 0.0)
                        })
                        .collect(),
                })
                .collect();
            let prim = || {
                series
                    .iter()
                    .filter(|s| !s.secondary)
                    .flat_map(|s| &s.points)
            };
            let xs = data_bounds(series.iter().flat_map(|s| &s.points).map(|p| &p.0), false);
            let ys = data_bounds(prim().map(|p| &p.1), false);
            let xr = self.x_range.unwrap_or(xs);
            let yr = self.y_range.unwrap_or(ys);
            match (self.x_log, self.y_log) {
                (false, false) => {
                    let (x, y) = (lin_span(xr), lin_span(yr));
                    self.draw(root, &series, x.0..x.1, y.0..y.1, x, y)
                }
                (true, false) => {
                    let (x, y) = (log_span(xr), lin_span(yr));
                    self.draw(root, &series, (x.0..x.1).log_scale(), y.0..y.1, x, y)
                }
                (false, true) => {
                    let (x, y) = (lin_span(xr), log_span(yr));
                    self.draw(root, &series, x.0..x.1, (y.0..y.1).log_scale(), x, y)
                }
                (true, true) => {
                    let (x, y) = (log_span(xr), log_span(yr));
                    self.draw(
                        root,
                        &series,
                        (x.0..x.1).log_scale(),
                        (y.0..y.1).log_scale(),
                        x,
                        y,
                    )
                }
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn draw<X, Y>(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        series: &[Series],
        xc: X,
        yc: Y,
        xr: (f64, f64),
        yr: (f64, f64),
    ) -> Res<()>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let legend: Vec<(String, RGBColor)> = series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), COLORS[i % COLORS.len()]))
            .collect();
        let plot = frame(root, self.title, &legend, self.note)?;
        let y2 = self.y2.map(|(l, r)| (l, lin_span(r)));
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .right_y_label_area_size(if y2.is_some() { 72 } else { 0 })
            .build_cartesian_2d(xc, yc)?
            .set_secondary_coord(xr.0..xr.1, y2.map_or(0.0..1.0, |(_, r)| r.0..r.1));
        let xf = self.x_fmt.unwrap_or(num);
        let yf = self.y_fmt.unwrap_or(num);
        let xfmt = |v: &f64| xf(*v);
        let yfmt = |v: &f64| yf(*v);
        let mut mesh = chart.configure_mesh();
        house_mesh(&mut mesh, self.x_label, self.y_label);
        mesh.x_labels(8)
            .y_labels(8)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .draw()?;
        if let Some((label, _)) = y2 {
            let nfmt = |v: &f64| num(*v);
            chart
                .configure_secondary_axes()
                .y_desc(label)
                .y_labels(8)
                .y_label_formatter(&nfmt)
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()?;
        }
        let clamp = |v: f64, r: (f64, f64)| v.max(r.0).min(r.1);
        for (i, s) in series.iter().enumerate() {
            let style = COLORS[i % COLORS.len()].stroke_width(2);
            if s.secondary {
                let r = y2.map_or((0.0, 1.0), |(_, r)| r);
                let pts = s.points.iter().map(|&(x, y)| (clamp(x, xr), clamp(y, r)));
                chart.draw_secondary_series(LineSeries::new(pts, style))?;
            } else {
                let pts = s.points.iter().map(|&(x, y)| (clamp(x, xr), clamp(y, yr)));
                chart.draw_series(LineSeries::new(pts, style))?;
            }
        }
        Ok(())
    }
}

impl BarChart<'_> {
    pub fn svg(&self) -> String {
        render(self.title, |root| {
            let value = |s: usize, g: usize| -> f64 {
                let v = self.series[s].1.get(g).copied().unwrap_or(0.0);
                if v.is_finite() {
                    v.max(0.0)
                } else {
                    0.0
                }
            };
            let ng = self.groups.len();
            let tops: Vec<f64> = if self.stacked {
                (0..ng)
                    .map(|g| (0..self.series.len()).map(|s| value(s, g)).sum())
                    .collect()
            } else {
                (0..ng)
                    .flat_map(|g| (0..self.series.len()).map(move |s| (s, g)))
                    .map(|(s, g)| value(s, g))
                    .collect()
            };
            let max = self.y_max.unwrap_or_else(|| {
                let m = data_bounds(tops.iter(), false).1;
                if self.log_y {
                    m
                } else {
                    m * 1.1
                }
            });
            if self.log_y {
                let lo = data_bounds(tops.iter(), true).0.min(1.0);
                let (a, b) = log_span((lo, max));
                self.draw(root, (a..b).log_scale(), (a, b), &value)
            } else {
                let (a, b) = lin_span((0.0, if max > 0.0 { max } else { 1.0 }));
                self.draw(root, a..b, (a, b), &value)
            }
        })
    }

    fn draw<Y>(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        yc: Y,
        yr: (f64, f64),
        value: &dyn Fn(usize, usize) -> f64,
    ) -> Res<()>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let legend: Vec<(String, RGBColor)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.0.clone(), COLORS[i % COLORS.len()]))
            .collect();
        let plot = frame(root, self.title, &legend, "")?;
        let ng = self.groups.len().max(1);
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(if self.x_label.is_empty() { 30 } else { 50 })
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..ng as f64, yc)?;
        let yf = self.y_fmt.unwrap_or(num);
        let yfmt = |v: &f64| yf(*v);
        let mut mesh = chart.configure_mesh();
        house_mesh(&mut mesh, self.x_label, self.y_label);
        mesh.disable_x_mesh()
            // Group names are drawn below instead of numeric ticks.
            .x_labels(0)
            .y_labels(8)
            .y_label_formatter(&yfmt)
            .draw()?;
        let ns = self.series.len().max(1);
        let clamp = |v: f64| v.max(yr.0).min(yr.1);
        // A non-zero bar is at least MIN_BAR_PX tall, so 0.12 next to 60 is still a mark.
        let plot_h = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
        let min_visible = if self.log_y {
            0.0
        } else {
            (yr.1 - yr.0) * MIN_BAR_PX / plot_h
        };
        let slot = |si: usize, g: usize| {
            let bw = 0.8 / ns as f64;
            let x0 = g as f64 + 0.1 + si as f64 * bw;
            (x0, x0 + bw)
        };
        for (si, _) in self.series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()].filled();
            let bars = (0..self.groups.len()).map(|g| {
                let (x0, x1, y0, y1) = if self.stacked {
                    let base: f64 = (0..si).map(|k| value(k, g)).sum();
                    (g as f64 + 0.2, g as f64 + 0.8, base, base + value(si, g))
                } else {
                    let (x0, x1) = slot(si, g);
                    let v = value(si, g);
                    let v = if v > 0.0 {
                        v.max(yr.0 + min_visible)
                    } else {
                        v
                    };
                    (x0, x1, yr.0, v)
                };
                Rectangle::new([(x0, clamp(y0)), (x1, clamp(y1))], color)
            });
            chart.draw_series(bars)?;
        }
        // Rotated labels read upwards from just above the bar (or the base).
        let up = |color: &'static RGBColor| {
            TextStyle::from((FONT, 10).into_font())
                .color(color)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Left, VPos::Center))
        };
        if let (Some(fmt), false) = (self.value_labels, self.stacked) {
            for si in 0..self.series.len() {
                for g in 0..self.groups.len() {
                    if self.missing.iter().any(|m| (m.0, m.1) == (si, g)) {
                        continue;
                    }
                    let (x0, x1) = slot(si, g);
                    let v = value(si, g);
                    let top = if v > 0.0 {
                        v.max(yr.0 + min_visible)
                    } else {
                        yr.0
                    };
                    let (px, py) = chart.backend_coord(&((x0 + x1) / 2.0, clamp(top)));
                    root.draw(&Text::new(fmt(v), (px, py - 3), up(&LABEL_GREY)))?;
                }
            }
        }
        for (si, g, text) in self.missing {
            if *si >= self.series.len() || *g >= self.groups.len() || self.stacked {
                continue;
            }
            let (x0, x1) = slot(*si, *g);
            let (px, py) = chart.backend_coord(&((x0 + x1) / 2.0, yr.0));
            let color = COLORS[si % COLORS.len()];
            let r = 5;
            for (a, b) in [((-r, -r), (r, r)), ((-r, r), (r, -r))] {
                root.draw(&PathElement::new(
                    vec![(px + a.0, py - r - 2 + a.1), (px + b.0, py - r - 2 + b.1)],
                    color.stroke_width(2),
                ))?;
            }
            root.draw(&Text::new(
                text.as_str(),
                (px, py - 2 * r - 8),
                up(&MARK_RED),
            ))?;
        }
        let style = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (g, name) in self.groups.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64 + 0.5, yr.0));
            root.draw(&Text::new(name.as_str(), (px, py + 8), style.clone()))?;
        }
        Ok(())
    }
}

impl Hist<'_> {
    pub fn svg(&self) -> String {
        render(self.title, |root| {
            let legend: Vec<(String, RGBColor)> = self
                .classes
                .iter()
                .map(|(n, c)| (n.to_string(), *c))
                .collect();
            let plot = frame(root, self.title, &legend, "")?;
            let ok = |b: &&Bin| b.value.is_finite() && b.lo.is_finite() && b.hi.is_finite();
            // The axis covers `x_range` and widens to hold every bin with a value in full,
            // plus half a bin of air where a bin with a value touches the edge: the last
            // bin of price improvement ([2.9, 3) on a -2..3 axis) used to sit flush against
            // the frame, where it read as cut off.
            let filled = || {
                self.bins
                    .iter()
                    .filter(ok)
                    .filter(|b| b.value > 0.0 && b.hi > b.lo)
            };
            let (lo, hi) = filled().fold(self.x_range, |(lo, hi), b| (lo.min(b.lo), hi.max(b.hi)));
            let lo = filled()
                .filter(|b| b.lo <= lo)
                .fold(lo, |l, b| l.min(b.lo - (b.hi - b.lo) / 2.0));
            let hi = filled()
                .filter(|b| b.hi >= hi)
                .fold(hi, |h, b| h.max(b.hi + (b.hi - b.lo) / 2.0));
            let (x0, x1) = lin_span((lo, hi));
            let top = data_bounds(self.bins.iter().filter(ok).map(|b| &b.value), false).1;
            let (y0, y1) = lin_span((0.0, if top > 0.0 { top * 1.1 } else { 1.0 }));
            let mut chart = ChartBuilder::on(&plot)
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, y0..y1)?;
            let xf = self.x_fmt.unwrap_or(num);
            let yf = self.y_fmt.unwrap_or(num);
            let xfmt = |v: &f64| xf(*v);
            let yfmt = |v: &f64| yf(*v);
            let mut mesh = chart.configure_mesh();
            house_mesh(&mut mesh, self.x_label, self.y_label);
            mesh.x_labels(11)
                .y_labels(8)
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .draw()?;
            // A bin with a value is at least MIN_BAR_PX tall: 0.2% of the shares must not
            // vanish under the axis line.
            let plot_h = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
            let min_visible = (y1 - y0) * MIN_BAR_PX / plot_h;
            let bars = self
                .bins
                .iter()
                .filter(ok)
                .filter(|b| b.hi > x0 && b.lo < x1 && b.hi > b.lo)
                .map(|b| {
                    let color = self.classes.get(b.class).map_or(GREY, |c| c.1);
                    // A hair narrower than the bin so neighbours stay apart.
                    let gap = (b.hi - b.lo) * 0.08;
                    let v = b.value.max(0.0).min(y1);
                    let v = if v > 0.0 { v.max(min_visible) } else { v };
                    Rectangle::new(
                        [(b.lo.max(x0) + gap, 0.0), (b.hi.min(x1) - gap, v)],
                        color.filled(),
                    )
                });
            chart.draw_series(bars)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    fn lines() -> Vec<Series> {
        vec![
            Series {
                name: "alpha & <beta>".into(),
                points: vec![(1.0, 10.0), (10.0, 100.0), (100.0, 1000.0)],
                secondary: false,
            },
            Series {
                name: "gamma".into(),
                points: vec![(1.0, 20.0), (100.0, 30.0), (f64::NAN, 5.0)],
                secondary: false,
            },
        ]
    }

    #[test]
    fn line_chart_has_title_legend_and_log_ticks() {
        let s = lines();
        let c = LineChart {
            title: "Latency by percentile",
            x_label: "percentile",
            y_label: "ns",
            x_log: true,
            y_log: true,
            series: &s,
            ..Default::default()
        };
        let svg = c.svg();
        let t = texts(&svg);
        for want in [
            "Latency by percentile",
            "percentile",
            "ns",
            "alpha & <beta>",
            "gamma",
        ] {
            assert!(t.iter().any(|x| x == want), "{want} missing in {t:?}");
        }
        // Log y over 10..1000 → decade ticks 10, 100, 1k (hand-checked decade span).
        for tick in ["10", "100", "1k"] {
            assert!(t.iter().any(|x| x == tick), "tick {tick} missing in {t:?}");
        }
        // Two series → two 2-px polylines (axes and ticks are 1 px).
        assert_eq!(svg.matches(r#"stroke-width="2""#).count(), 2, "{svg}");
        // alpha is y = 10x: a straight line on log-log axes, from the bottom-left corner of the
        // plot (1, 10) to the top-right (100, 1000); its middle point sits halfway between.
        let line = svg
            .lines()
            .find(|l| l.contains(r##"stroke="#1F77B4" stroke-width="2""##))
            .expect("alpha line");
        let pts: Vec<(i32, i32)> = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .filter_map(|p| {
                let (x, y) = p.trim_matches(|c| c == '"' || c == '/').split_once(',')?;
                Some((x.parse().ok()?, y.parse().ok()?))
            })
            .collect();
        assert_eq!(pts.len(), 3, "{line}");
        assert!(pts[0].0 < pts[2].0 && pts[0].1 > pts[2].1, "{pts:?}");
        assert!((2 * pts[1].0 - pts[0].0 - pts[2].0).abs() <= 2, "{pts:?}");
        assert!((2 * pts[1].1 - pts[0].1 - pts[2].1).abs() <= 2, "{pts:?}");
        assert_eq!(svg, c.svg(), "same input, different bytes");
    }

    #[test]
    fn secondary_axis_gets_its_label() {
        let s = vec![
            Series {
                name: "inventory".into(),
                points: vec![(0.0, -5.0), (1.0, 5.0)],
                secondary: false,
            },
            Series {
                name: "net P&L".into(),
                points: vec![(0.0, 100.0), (1.0, -100.0)],
                secondary: true,
            },
        ];
        let c = LineChart {
            title: "inv",
            y2: Some(("P&L (dollars)", (-200.0, 200.0))),
            series: &s,
            ..Default::default()
        };
        let t = texts(&c.svg());
        assert!(t.iter().any(|x| x == "P&L (dollars)"), "{t:?}");
        assert!(t.iter().any(|x| x == "-200"), "{t:?}");
    }

    #[test]
    fn grouped_and_stacked_bars() {
        let groups = vec!["market".to_string(), "limit".to_string()];
        let series = vec![
            ("fast".to_string(), vec![30.0, 60.0]),
            ("reference".to_string(), vec![10.0]),
        ];
        let c = BarChart {
            title: "Throughput",
            groups: &groups,
            series: &series,
            ..Default::default()
        };
        let svg = c.svg();
        let t = texts(&svg);
        for want in ["Throughput", "market", "limit", "fast", "reference"] {
            assert!(t.iter().any(|x| x == want), "{want} missing in {t:?}");
        }
        // 2 groups x 2 series bars (the missing value is a zero-height bar) + 2 legend
        // swatches + the white background.
        assert_eq!(svg.matches("<rect").count(), 4 + 2 + 1, "{svg}");
        assert_eq!(svg, c.svg());
        let stacked = BarChart {
            stacked: true,
            y_max: Some(100.0),
            ..c
        };
        assert!(texts(&stacked.svg()).iter().any(|x| x == "100"));
        let log = BarChart {
            log_y: true,
            series: &[("x".to_string(), vec![5.0, 5_000.0])],
            groups: &groups,
            title: "log",
            ..Default::default()
        };
        let t = texts(&log.svg());
        // 5..5000 → decades 1..10000.
        assert!(t.iter().any(|x| x == "10k"), "{t:?}");
    }

    #[test]
    fn histogram_classes_and_bad_input() {
        let bins = [
            Bin {
                lo: -0.1,
                hi: 0.0,
                value: 5.0,
                class: 2,
            },
            Bin {
                lo: 0.0,
                hi: 0.1,
                value: 50.0,
                class: 1,
            },
            Bin {
                lo: 0.1,
                hi: 0.2,
                value: 45.0,
                class: 0,
            },
            Bin {
                lo: 9.0,
                hi: 9.1,
                value: 1.0,
                class: 0,
            },
            Bin {
                lo: 0.2,
                hi: 0.3,
                value: f64::NAN,
                class: 7,
            },
        ];
        let classes = [
            ("improved", COLORS[0]),
            ("at the quote", GREY),
            ("outside", COLORS[3]),
        ];
        let h = Hist {
            title: "Price improvement",
            x_range: (-1.0, 1.0),
            bins: &bins,
            classes: &classes,
            ..Default::default()
        };
        let svg = h.svg();
        let t = texts(&svg);
        for want in ["Price improvement", "improved", "at the quote", "outside"] {
            assert!(t.iter().any(|x| x == want), "{want} missing");
        }
        // Every bin with a value (the axis widens to 9.1 for the last) + three swatches +
        // background.
        assert_eq!(svg.matches("<rect").count(), 4 + 3 + 1, "{svg}");
        assert_eq!(svg, h.svg());
        // Empty and degenerate inputs still give a well-formed chart.
        let empty = Hist {
            title: "empty",
            x_range: (f64::NAN, f64::NAN),
            ..Default::default()
        };
        texts(&empty.svg());
        let no_series = LineChart {
            title: "none",
            x_log: true,
            y_log: true,
            ..Default::default()
        };
        texts(&no_series.svg());
        let no_bars = BarChart {
            title: "none",
            log_y: true,
            ..Default::default()
        };
        texts(&no_bars.svg());
    }

    #[test]
    fn num_labels() {
        assert_eq!(num(1_500_000.0), "1.5M");
        assert_eq!(num(25_000.0), "25k");
        assert_eq!(num(340.0), "340");
        assert_eq!(num(7.0), "7");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(num(f64::NAN), "");
    }

    #[test]
    fn decade_ticks_share_one_format() {
        // A log axis from 1 to 10M used to read 1, 10, 100, 1000, 10k, 100k, 1.0M, 10.0M.
        let got: Vec<String> = (0..8).map(|e| num(10f64.powi(e))).collect();
        assert_eq!(got, ["1", "10", "100", "1k", "10k", "100k", "1M", "10M"]);
        assert_eq!(num(2_500.0), "2.5k");
        assert_eq!(num(1e9), "1G");
        let got: Vec<String> = (0..8).map(|e| ns(10f64.powi(e))).collect();
        assert_eq!(
            got,
            ["1 ns", "10 ns", "100 ns", "1 µs", "10 µs", "100 µs", "1 ms", "10 ms"]
        );
        assert_eq!(ns(f64::NAN), "");
    }

    /// `(x, width)` of every `<rect>` filled with `color` (e.g. "#1F77B4").
    fn rects(svg: &str, color: &str) -> Vec<(f64, f64, f64, f64)> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(color))
            .map(|n| {
                let a = |k| n.attribute(k).unwrap().parse::<f64>().unwrap();
                (a("x"), a("y"), a("width"), a("height"))
            })
            .collect()
    }

    #[test]
    fn an_edge_bin_is_drawn_whole() {
        // Price improvement's -2..3 axis with a bin [3, 3.1): that bar used to be cut to a
        // sliver at the right edge. Every bin is 0.1 wide, so every bar has one width.
        let bins: Vec<Bin> = [(-1.0, 5.0), (0.5, 20.0), (3.0, 10.0), (2.9, 0.05)]
            .iter()
            .map(|&(lo, value)| Bin {
                lo,
                hi: lo + 0.1,
                value,
                class: 0,
            })
            .collect();
        let svg = Hist {
            title: "Price improvement",
            x_range: (-2.0, 3.0),
            bins: &bins,
            classes: &[("improved", COLORS[0])],
            ..Default::default()
        }
        .svg();
        let bars: Vec<_> = rects(&svg, "#1F77B4")
            .into_iter()
            .filter(|r| r.0 < f64::from(W - LEGEND_W)) // not the legend swatch
            .collect();
        assert_eq!(bars.len(), 4, "{bars:?}");
        let w0 = bars[0].2;
        assert!(w0 > 2.0, "{bars:?}");
        for b in &bars {
            assert!((b.2 - w0).abs() <= 1.0, "bar widths differ: {bars:?}");
        }
        // The last bar ends well before the right edge of the plot (half a bin of air),
        // and the 0.05% bin is at least 2 px tall.
        let plot_right = bars.iter().map(|b| b.0 + b.2).fold(0.0, f64::max);
        assert!(
            plot_right < f64::from(W - LEGEND_W) - 12.0 - 4.0,
            "{bars:?}"
        );
        assert!(bars.iter().all(|b| b.3 >= 2.0), "{bars:?}");
    }

    #[test]
    fn bars_carry_value_labels_a_floor_height_and_marks_for_missing_slots() {
        let groups = vec!["calm".to_string(), "trending".to_string()];
        let series = vec![
            ("fast".to_string(), vec![60.0, 40.0]),
            ("lobster".to_string(), vec![7.5, 0.12]),
            ("nanobook".to_string(), vec![0.0, 0.0]),
        ];
        let missing = vec![
            (2, 0, "hung at 123".to_string()),
            (2, 1, "hung at 7".to_string()),
        ];
        let svg = BarChart {
            title: "Throughput",
            groups: &groups,
            series: &series,
            value_labels: Some(|v| format!("{v:.2}")),
            missing: &missing,
            ..Default::default()
        }
        .svg();
        let t = texts(&svg);
        for want in ["60.00", "40.00", "7.50", "0.12", "hung at 123", "hung at 7"] {
            assert!(t.iter().any(|x| x == want), "{want} missing in {t:?}");
        }
        // The hung slots carry no value label (0.00 would read as a measurement).
        assert!(!t.iter().any(|x| x == "0.00"), "{t:?}");
        // 0.12 of 66 on ~400 px is under one pixel; it is drawn 2 to 4 px tall.
        let lobster = rects(&svg, "#FF7F0E");
        assert!(
            lobster.iter().any(|r| r.3 >= 2.0 && r.3 <= 4.0),
            "{lobster:?}"
        );
        // Each hung slot: a cross of two 2-px strokes in the series colour.
        let crosses = svg
            .lines()
            .filter(|l| {
                l.contains("<polyline") && l.contains(r##"stroke="#2CA02C" stroke-width="2""##)
            })
            .count();
        assert_eq!(crosses, 4, "{svg}");
    }

    #[test]
    fn latency_curves_start_at_the_first_resolvable_value_and_say_so() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
        // 30% of the samples read 0 or 1 ns (clock granularity), the rest 10..1000 ns.
        for _ in 0..15 {
            h.record(0).unwrap();
            h.record(1).unwrap();
        }
        for v in 0..70u64 {
            h.record(10 + v * 14).unwrap();
        }
        let svg = latency_by_percentile("Latency by percentile", &[("service", &h)]);
        let t = texts(&svg);
        // The note is wrapped into the legend strip; its words are all there.
        let joined = t.join(" ");
        assert!(joined.contains("granularity"), "{t:?}");
        assert!(
            !t.iter().any(|x| x == "1 ns"),
            "no tick at 1 ns when nothing is below 10: {t:?}"
        );
        assert!(t.iter().any(|x| x == "100 ns"), "{t:?}");
        // Every drawn point is >= 10 ns: the lowest y pixel of the line is the 10 ns
        // sample's, i.e. the curve does not drop to the bottom of the plot.
        let line = svg
            .lines()
            .find(|l| l.contains(r##"stroke="#1F77B4" stroke-width="2""##))
            .expect("service line");
        let n_points = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .filter(|p| p.contains(','))
            .count();
        // p0 .. p99.999 is 51 points; the ones at p < 30% (x < 1/0.7, i.e. i = 0 and 1)
        // read 0 or 1 ns and are not drawn.
        assert_eq!(n_points, 51 - 2, "{line}");
    }
}
