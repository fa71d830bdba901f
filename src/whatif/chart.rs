//! The what-if chart: monthly net billing per policy, as a self-contained SVG line chart, one
//! panel per currency (amounts of different currencies are never drawn on one axis).

use std::fmt::Write as _;

const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/// The length of a dash of the series drawn after the first.
const DASH: usize = 6;

/// A legend label longer than this is cut (the CSVs keep it whole).
const LEGEND_LABEL_CHARS: usize = 140;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 30.0;
const TITLE_HEIGHT: f64 = 50.0;
const PANEL_HEADING: f64 = 24.0;
const PLOT_HEIGHT: f64 = 280.0;
/// Below a plot: the rotated month labels.
const MONTH_LABELS_HEIGHT: f64 = 70.0;
const LEGEND_ROW: f64 = 18.0;

/// The net billing of each variant month by month, in one currency.
pub struct Panel {
    pub currency: String,
    /// (variant label, net cents per month)
    pub series: Vec<(String, Vec<i128>)>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn cut(label: &str) -> String {
    if label.chars().count() <= LEGEND_LABEL_CHARS {
        return label.to_string();
    }
    let kept: String = label.chars().take(LEGEND_LABEL_CHARS - 1).collect();
    format!("{kept}…")
}

/// The smallest 1, 2 or 5 times a power of ten (in cents) at least `rough`.
fn nice_step(rough: i128) -> i128 {
    let mut power = 100_i128; // one currency unit
    loop {
        for factor in [1, 2, 5] {
            if power.saturating_mul(factor) >= rough {
                return power.saturating_mul(factor);
            }
        }
        power = power.saturating_mul(10);
    }
}

/// Whole currency units with thousands separators: `12,500,000`.
fn grouped(cents: i128) -> String {
    let units = cents / 100;
    let digits = units.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if units < 0 { format!("-{out}") } else { out }
}

/// The first series is solid and wide; each later one is dashed, its dashes offset from the
/// others' so that series with the same values (a sweep value that changes nothing) take
/// turns along the line instead of hiding one another.
fn stroke(number: usize, series: usize) -> String {
    let color = COLORS[number % COLORS.len()];
    if number == 0 {
        return format!(r#"stroke="{color}" stroke-width="3""#);
    }
    let dashed = series.saturating_sub(1).max(1);
    let gap = (DASH * (dashed - 1)).max(4);
    let offset = -((DASH * (number - 1)) as i64);
    format!(r#"stroke="{color}" stroke-width="2" stroke-dasharray="{DASH} {gap}" stroke-dashoffset="{offset}""#)
}

/// `panels`: one per currency, each with the same variants in the same order; `month_label`
/// names month `i` (`2021-04`).
pub fn net_billing_chart(panels: &[Panel], month_label: impl Fn(usize) -> String) -> String {
    let labels: Vec<&str> = panels.first().map(|p| p.series.iter().map(|(label, _)| label.as_str()).collect()).unwrap_or_default();
    let panel_height = PANEL_HEADING + PLOT_HEIGHT + MONTH_LABELS_HEIGHT;
    let legend_top = TITLE_HEIGHT + panel_height * panels.len().max(1) as f64;
    let height = legend_top + LEGEND_ROW * labels.len() as f64 + 20.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, "<title>Net billing per month (billed minus credited), by policy</title>");
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="28" font-size="16" font-weight="bold">Net billing per month (billed minus credited), by policy</text>"#);
    for (index, panel) in panels.iter().enumerate() {
        let top = TITLE_HEIGHT + panel_height * index as f64;
        draw_panel(&mut svg, panel, top, &month_label);
    }
    for (number, label) in labels.iter().enumerate() {
        let row = legend_top + LEGEND_ROW * number as f64 + 10.0;
        let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{row:.1}" x2="{:.1}" y2="{row:.1}" {}/>"#, LEFT + 36.0, stroke(number, labels.len()));
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, LEFT + 46.0, row + 4.0, escape(&cut(label)));
    }
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, panel: &Panel, top: f64, month_label: &impl Fn(usize) -> String) {
    let plot_top = top + PANEL_HEADING;
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let months = panel.series.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(1);
    let values = panel.series.iter().flat_map(|(_, v)| v.iter().copied());
    let (low, high) = values.fold((0_i128, 0_i128), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Round the axis out to a "nice" step (1, 2 or 5 times a power of ten, in cents).
    let step = nice_step((high - low).max(100) / 5);
    let (low, high) = (low.div_euclid(step) * step, (high + step - 1).div_euclid(step) * step);
    let span = (high - low).max(1) as f64;
    // Coordinates are drawing positions, not money: floating point is fine here.
    let x = |index: usize| LEFT + (WIDTH - LEFT - RIGHT) * if months > 1 { index as f64 / (months - 1) as f64 } else { 0.5 };
    let y = |cents: i128| plot_top + PLOT_HEIGHT * (1.0 - (cents - low) as f64 / span);
    let currency = escape(&panel.currency);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="{:.1}" font-weight="bold">{currency}</text>"#, top + 16.0);
    let middle = plot_top + PLOT_HEIGHT / 2.0;
    let _ = writeln!(svg, r#"<text x="20" y="{middle:.1}" text-anchor="middle" transform="rotate(-90 20 {middle:.1})">net billing ({currency})</text>"#);
    let mut cents = low;
    while cents <= high {
        let position = y(cents);
        let _ = writeln!(svg, r##"<line x1="{LEFT}" y1="{position:.1}" x2="{:.1}" y2="{position:.1}" stroke="#ddd"/>"##, WIDTH - RIGHT);
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 8.0, position + 4.0, grouped(cents));
        cents += step;
    }
    let label_every = months.div_ceil(12).max(1);
    for index in (0..months).step_by(label_every) {
        let position = x(index);
        let _ = writeln!(
            svg,
            r#"<text x="{position:.1}" y="{:.1}" text-anchor="end" transform="rotate(-45 {position:.1} {:.1})">{}</text>"#,
            plot_bottom + 18.0,
            plot_bottom + 18.0,
            escape(&month_label(index))
        );
    }
    let _ = writeln!(svg, r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##, y(0), WIDTH - RIGHT, y(0));
    for (number, (_, values)) in panel.series.iter().enumerate() {
        let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = writeln!(svg, r#"<polyline fill="none" {} points="{}"/>"#, stroke(number, panel.series.len()), points.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_with_the_same_values_stay_apart() {
        let strokes: Vec<String> = (0..9).map(|number| stroke(number, 9)).collect();
        assert!(!strokes[0].contains("dasharray"), "the first series is the solid baseline");
        let distinct: std::collections::BTreeSet<&String> = strokes.iter().collect();
        assert_eq!(distinct.len(), strokes.len(), "no two series are drawn alike: {strokes:#?}");
    }

    #[test]
    fn one_panel_per_currency_and_every_variant_in_the_legend() {
        let panel = |currency: &str| Panel { currency: currency.to_string(), series: vec![("a".into(), vec![0, 100]), ("b & c".into(), vec![0, 200])] };
        let svg = net_billing_chart(&[panel("JPY"), panel("USD")], |index| format!("m{index}"));
        assert!(svg.contains("net billing (JPY)") && svg.contains("net billing (USD)"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains(">b &amp; c</text>"), "labels are escaped");
    }
}
