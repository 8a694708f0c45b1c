//! Chart geometry as plain data: units and their formatting, "nice" axis ticks, and the shapes of a stacked bar
//! chart or a line chart in a `W` × `H` SVG coordinate box that the view stretches to its width. Axis labels are
//! placed in per cent of the plot, so the view writes them as HTML text that keeps its size on a narrow screen.
//! Everything here is integer output (SVG coordinates, per-mille positions): no float formatting in the wasm.

use super::series::{Series, Step};
use crate::format;

/// Width of the SVG coordinate box.
pub const W: i32 = 1000;
/// Height of the SVG coordinate box.
pub const H: i32 = 200;

/// What a chart's values measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Requests.
    Requests,
    /// Tokens.
    Tokens,
    /// US dollars.
    Usd,
    /// Milliseconds.
    Ms,
    /// A share, 0 to 1, shown in per cent.
    Share,
}

/// `950`, `1.2k`, `12k`, `1.2M`.
pub fn compact(n: f64) -> String {
    let n = n.max(0.0).round() as u64;
    let short = |scale: u64, suffix: &str| {
        let tenths = (n * 10 + scale / 2) / scale;
        if tenths >= 100 || tenths.is_multiple_of(10) {
            format!("{}{suffix}", (tenths + 5) / 10)
        } else {
            format!("{}.{}{suffix}", tenths / 10, tenths % 10)
        }
    };
    match n {
        0..=999 => n.to_string(),
        1_000..=999_949 => short(1_000, "k"),
        _ => short(1_000_000, "M"),
    }
}

/// A share in per cent with one decimal under 10 % (`4.2%`, `37%`, `100%`).
pub fn percent(share: f64) -> String {
    let tenths = (share.clamp(0.0, 1.0) * 1000.0).round() as u64;
    if tenths < 100 && !tenths.is_multiple_of(10) {
        format!("{}.{}%", tenths / 10, tenths % 10)
    } else {
        format!("{}%", (tenths + 5) / 10)
    }
}

impl Unit {
    /// A value in full, for tooltips and figures: `1,234 requests`, `12,345 tokens`, `$0.0123`, `840 ms`, `4.2%`.
    pub fn full(self, v: f64) -> String {
        match self {
            Self::Requests => format!("{} req", format::count(v.round() as u64)),
            Self::Tokens => format!("{} tokens", format::count(v.round() as u64)),
            Self::Usd => format::cost(v),
            Self::Ms => format::duration(v),
            Self::Share => percent(v),
        }
    }

    /// An axis label of tick `v` on an axis of ticks every `step`: `1.2k`, `$0.05`, `1.5 s`, `20%`.
    pub fn tick(self, v: f64, step: f64) -> String {
        match self {
            Self::Requests | Self::Tokens => compact(v),
            Self::Usd if step >= 1.0 => format!("${}", format::count(v.round() as u64)),
            Self::Usd => {
                let mut places = 2;
                while places < 6 && step * 10f64.powi(places as i32) < 0.999 {
                    places += 1;
                }
                format::dollars(v, places)
            }
            Self::Ms => format::duration(v),
            Self::Share => percent(v),
        }
    }

    /// The axis caption: `requests`, `tokens (input + output)`, `cost, US$`, `ms, s`, `% of requests`.
    pub fn caption(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Tokens => "tokens (input + output)",
            Self::Usd => "cost, US$",
            Self::Ms => "ms, s",
            Self::Share => "% of requests",
        }
    }

    fn whole(self) -> bool {
        matches!(self, Self::Requests | Self::Tokens)
    }
}

/// A "nice" axis for values up to `max`: `(top, step)` with 2 to 5 steps of 1, 2 or 5 × 10ⁿ; counts step by at
/// least 1. An empty axis (max 0) is 0 to 1.
pub fn axis(max: f64, whole: bool) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, if whole { 1.0 } else { 0.25 });
    }
    let raw = max / 4.0;
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let norm = raw / mag;
    let mut step = mag
        * if norm <= 1.0 {
            1.0
        } else if norm <= 2.0 {
            2.0
        } else if norm <= 5.0 {
            5.0
        } else {
            10.0
        };
    if whole {
        step = step.max(1.0).round();
    }
    let n = (max / step - 1e-9).ceil().max(1.0);
    (n * step, step)
}

/// A rectangle of a stacked bar, in SVG coordinates; `color` is the series index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
    /// The series (its colour).
    pub color: usize,
}

/// A line through the buckets that have a value (a gap breaks it into several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `x,y x,y …` in SVG coordinates.
    pub points: String,
    /// The series (its colour).
    pub color: usize,
}

/// A bucket's column: where a hover shows its `title` (every series' value in that bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Left.
    pub x: i32,
    /// Width.
    pub w: i32,
    /// The tooltip.
    pub title: String,
}

/// An axis label at `at` per mille of the plot (from the top for the value axis, from the left for time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// Position in per mille.
    pub at: u32,
    /// The label.
    pub text: String,
}

/// A chart, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plot {
    /// Stacked bar rectangles.
    pub bars: Vec<Bar>,
    /// Lines.
    pub lines: Vec<Line>,
    /// Hover columns.
    pub columns: Vec<Column>,
    /// Value axis labels, bottom (0) first; a grid line at each.
    pub y: Vec<Tick>,
    /// Time axis labels.
    pub x: Vec<Tick>,
    /// The chart in words (its accessible name).
    pub summary: String,
}

/// Value axis ticks of `(top, step)`.
fn y_ticks(unit: Unit, top: f64, step: f64) -> Vec<Tick> {
    let n = (top / step).round() as u32;
    (0..=n)
        .map(|i| {
            let v = step * f64::from(i);
            Tick { at: 1000 - (v / top * 1000.0).round() as u32, text: unit.tick(v, step) }
        })
        .collect()
}

/// Time axis labels: at most `max` of them, evenly spaced, on bucket centres.
fn x_ticks(step: Step, starts: &[i64], max: usize) -> Vec<Tick> {
    let n = starts.len();
    let every = n.div_ceil(max.max(1)).max(1);
    (0..n)
        .rev()
        .step_by(every)
        .map(|i| Tick { at: ((2 * i + 1) * 1000 / (2 * n)) as u32, text: step.label(starts[i]) })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn y_of(v: f64, top: f64) -> i32 {
    H - (v / top * f64::from(H)).round() as i32
}

/// The busiest bucket: `(index, value)`.
fn peak(values: &[f64]) -> Option<(usize, f64)> {
    values.iter().copied().enumerate().filter(|(_, v)| *v > 0.0).fold(None, |best, (i, v)| match best {
        Some((_, b)) if b >= v => best,
        _ => Some((i, v)),
    })
}

/// Bars of `series` stacked per bucket (the first series at the bottom). `what` names the chart in its summary
/// (`Requests per hour`).
pub fn stacked_bars(what: &str, step: Step, starts: &[i64], series: &[Series], unit: Unit) -> Plot {
    let n = starts.len().max(1);
    let sums: Vec<f64> = (0..starts.len()).map(|i| series.iter().map(|s| s.values[i]).sum()).collect();
    let (top, tick) = axis(sums.iter().copied().fold(0.0, f64::max), unit.whole());
    let slot = f64::from(W) / n as f64;
    let mut plot = Plot { y: y_ticks(unit, top, tick), x: x_ticks(step, starts, 6), ..Plot::default() };
    for (i, start) in starts.iter().enumerate() {
        let left = (slot * i as f64).round() as i32;
        let right = (slot * (i + 1) as f64).round() as i32;
        let gap = ((right - left) / 6).max(1);
        let mut below = 0.0;
        let mut lines = vec![step.long_label(*start)];
        for (color, s) in series.iter().enumerate() {
            let v = s.values[i];
            if v > 0.0 {
                let (y0, y1) = (y_of(below, top), y_of(below + v, top));
                // A value too small to see still shows as a hairline.
                let y1 = y1.min(y0 - 1);
                plot.bars.push(Bar { x: left + gap, y: y1, w: right - left - 2 * gap, h: y0 - y1, color });
                lines.push(format!("{}: {}", s.name, unit.full(v)));
            }
            below += v;
        }
        if series.len() > 1 || below == 0.0 {
            lines.push(format!("total: {}", unit.full(below)));
        }
        plot.columns.push(Column { x: left, w: right - left, title: lines.join("\n") });
    }
    let total: f64 = sums.iter().sum();
    let mut summary = format!("{what}: {} in all", unit.full(total));
    let parts: Vec<String> =
        series.iter().filter(|s| s.total() > 0.0).map(|s| format!("{} {}", s.name, unit.full(s.total()))).collect();
    if !parts.is_empty() {
        summary += &format!(" ({})", parts.join(", "));
    }
    if let Some((i, v)) = peak(&sums) {
        summary += &format!("; most in {}: {}", step.long_label(starts[i]), unit.full(v));
    }
    plot.summary = summary + ".";
    plot
}

/// Lines of `series` (`None` is a bucket without a value: the line breaks there; a lone value is a short dash).
pub fn lines(what: &str, step: Step, starts: &[i64], series: &[(&str, Vec<Option<f64>>)], unit: Unit) -> Plot {
    let n = starts.len().max(1);
    let max = series.iter().flat_map(|(_, v)| v.iter().flatten().copied()).fold(0.0, f64::max);
    let (top, tick) = axis(if unit == Unit::Share { max.min(1.0) } else { max }, false);
    let slot = f64::from(W) / n as f64;
    let centre = |i: usize| (slot * (i as f64 + 0.5)).round() as i32;
    let mut plot = Plot { y: y_ticks(unit, top, tick), x: x_ticks(step, starts, 6), ..Plot::default() };
    for (color, (_, values)) in series.iter().enumerate() {
        let mut run: Vec<(i32, i32)> = Vec::new();
        for i in 0..=values.len() {
            match values.get(i).copied().flatten() {
                Some(v) => run.push((centre(i), y_of(v, top))),
                None if !run.is_empty() => {
                    if run.len() == 1 {
                        let (x, y) = run[0];
                        let half = ((slot / 3.0) as i32).max(2);
                        run = vec![(x - half, y), (x + half, y)];
                    }
                    let points: Vec<String> = run.iter().map(|(x, y)| format!("{x},{y}")).collect();
                    plot.lines.push(Line { points: points.join(" "), color });
                    run.clear();
                }
                None => {}
            }
        }
    }
    for (i, start) in starts.iter().enumerate() {
        let mut lines = vec![step.long_label(*start)];
        for (name, values) in series {
            lines.push(match values[i] {
                Some(v) => format!("{name}: {}", unit.full(v)),
                None => format!("{name}: –"),
            });
        }
        let left = (slot * i as f64).round() as i32;
        plot.columns.push(Column {
            x: left,
            w: (slot * (i + 1) as f64).round() as i32 - left,
            title: lines.join("\n"),
        });
    }
    let parts: Vec<String> = series
        .iter()
        .map(|(name, values)| {
            let vals: Vec<f64> = values.iter().flatten().copied().collect();
            match vals.iter().copied().reduce(f64::max) {
                Some(hi) => {
                    let lo = vals.iter().copied().fold(hi, f64::min);
                    format!("{name} from {} to {}", unit.full(lo), unit.full(hi))
                }
                None => format!("{name}: no data"),
            }
        })
        .collect();
    plot.summary = format!("{what}: {}.", parts.join("; "));
    plot
}

/// Per mille as CSS: `375` → `37.5%`.
pub fn css_percent(per_mille: u32) -> String {
    match per_mille % 10 {
        0 => format!("{}%", per_mille / 10),
        d => format!("{}.{d}%", per_mille / 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::key_ms;

    #[test]
    fn units_read_at_a_glance() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(999.0), "999");
        assert_eq!(compact(1_000.0), "1k");
        assert_eq!(compact(1_240.0), "1.2k");
        assert_eq!(compact(12_400.0), "12k");
        assert_eq!(compact(999_949.0), "1000k");
        assert_eq!(compact(999_950.0), "1M");
        assert_eq!(compact(2_560_000.0), "2.6M");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(percent(0.37), "37%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(Unit::Requests.full(1234.0), "1,234 req");
        assert_eq!(Unit::Tokens.full(12_345.0), "12,345 tokens");
        assert_eq!(Unit::Usd.full(0.01234), "$0.0123");
        assert_eq!(Unit::Ms.full(1_530.0), "1.5 s");
        assert_eq!(Unit::Usd.tick(0.05, 0.05), "$0.05");
        assert_eq!(Unit::Usd.tick(0.004, 0.002), "$0.004");
        assert_eq!(Unit::Usd.tick(0.00025, 0.00005), "$0.00025");
        assert_eq!(Unit::Usd.tick(10.0, 5.0), "$10");
        assert_eq!(Unit::Tokens.tick(20_000.0, 5_000.0), "20k");
        assert_eq!(css_percent(375), "37.5%");
        assert_eq!(css_percent(1000), "100%");
    }

    #[test]
    fn axes_are_round_numbers() {
        assert_eq!(axis(37.0, true), (40.0, 10.0));
        assert_eq!(axis(3.0, true), (3.0, 1.0));
        assert_eq!(axis(40.0, true), (40.0, 10.0));
        assert_eq!(axis(0.0, true), (1.0, 1.0));
        assert_eq!(axis(1_234.0, true), (1_500.0, 500.0));
        let (top, step) = axis(0.0123, false);
        assert!((top - 0.015).abs() < 1e-12 && (step - 0.005).abs() < 1e-12, "{top} {step}");
        assert_eq!(axis(850.0, false), (1_000.0, 500.0));
    }

    fn hours(n: usize) -> Vec<i64> {
        Step::Hour.buckets(key_ms("2026-12-07T12:00:00Z").unwrap(), n)
    }

    #[test]
    fn stacked_bars_stack_in_series_order() {
        let starts = hours(4);
        let series = vec![
            Series { name: "fast".into(), values: vec![0.0, 10.0, 0.0, 30.0] },
            Series { name: "smart".into(), values: vec![0.0, 10.0, 0.0, 0.0] },
        ];
        let p = stacked_bars("Requests per hour", Step::Hour, &starts, &series, Unit::Requests);
        // Axis 0..30 step 10: 4 labels, bottom first.
        assert_eq!(
            p.y.iter().map(|t| (t.at, t.text.as_str())).collect::<Vec<_>>(),
            [(1000, "0"), (667, "10"), (333, "20"), (0, "30")]
        );
        assert_eq!(
            p.bars,
            [
                Bar { x: 291, y: 133, w: 168, h: 67, color: 0 },
                Bar { x: 291, y: 67, w: 168, h: 66, color: 1 },
                Bar { x: 791, y: 0, w: 168, h: 200, color: 0 },
            ]
        );
        assert_eq!(p.columns.len(), 4);
        assert_eq!(p.columns[1].title, "7 Dec 10:00–11:00 UTC\nfast: 10 req\nsmart: 10 req\ntotal: 20 req");
        assert_eq!(p.columns[0].title, "7 Dec 09:00–10:00 UTC\ntotal: 0 req");
        assert_eq!(p.x.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), ["09:00", "10:00", "11:00", "12:00"]);
        assert_eq!(p.x[0].at, 125);
        assert_eq!(
            p.summary,
            "Requests per hour: 50 req in all (fast 40 req, smart 10 req); most in 7 Dec 12:00–13:00 UTC: 30 req."
        );
    }

    #[test]
    fn a_tiny_value_is_still_visible_and_labels_thin_out() {
        let starts = hours(24);
        let mut v = vec![0.0; 24];
        v[0] = 1000.0;
        v[5] = 1.0;
        let p = stacked_bars("Tokens", Step::Hour, &starts, &[Series { name: "m".into(), values: v }], Unit::Tokens);
        assert_eq!(p.bars[1].h, 1);
        assert!(p.x.len() <= 6 && p.x.last().unwrap().text == "12:00", "{:?}", p.x);
    }

    #[test]
    fn lines_break_at_gaps() {
        let starts = hours(5);
        let p50 = vec![Some(100.0), Some(200.0), None, Some(150.0), None];
        let p = lines("Time to first byte", Step::Hour, &starts, &[("p50", p50)], Unit::Ms);
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[0].points, "100,100 300,0");
        assert_eq!(p.lines[1].points, "634,50 766,50", "a lone point is a short dash");
        assert_eq!(p.columns[2].title, "7 Dec 10:00–11:00 UTC\np50: –");
        assert_eq!(p.summary, "Time to first byte: p50 from 100 ms to 200 ms.");
        let empty = lines("x", Step::Hour, &starts, &[("p95", vec![None; 5])], Unit::Ms);
        assert!(empty.lines.is_empty());
        assert_eq!(empty.summary, "x: p95: no data.");
    }
}
