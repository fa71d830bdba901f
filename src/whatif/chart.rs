//! The what-if chart: monthly net billing per policy, as a self-contained SVG line chart.

use std::fmt::Write as _;

const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
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

/// `series`: (label, net cents per month); `month_label` names month `i` (`2021-04`).
pub fn net_billing_chart(series: &[(String, Vec<i128>)], month_label: impl Fn(usize) -> String) -> String {
    let (width, height) = (960.0_f64, 480.0_f64);
    let (left, right, top, bottom) = (110.0, 30.0, 50.0, 90.0);
    let months = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(1);
    let values = series.iter().flat_map(|(_, v)| v.iter().copied());
    let (low, high) = values.fold((0_i128, 0_i128), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Round the axis out to a "nice" step (1, 2 or 5 times a power of ten, in cents).
    let step = nice_step((high - low).max(100) / 5);
    let (low, high) = (low.div_euclid(step) * step, (high + step - 1).div_euclid(step) * step);
    let span = (high - low).max(1) as f64;
    // Coordinates are drawing positions, not money: floating point is fine here.
    let x = |index: usize| left + (width - left - right) * if months > 1 { index as f64 / (months - 1) as f64 } else { 0.5 };
    let y = |cents: i128| top + (height - top - bottom) * (1.0 - (cents - low) as f64 / span);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{left}" y="28" font-size="16" font-weight="bold">Net billing per month (billed minus credited), by policy</text>"#);
    let mut cents = low;
    while cents <= high {
        let position = y(cents);
        let _ = writeln!(svg, r##"<line x1="{left}" y1="{position:.1}" x2="{:.1}" y2="{position:.1}" stroke="#ddd"/>"##, width - right);
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, left - 8.0, position + 4.0, grouped(cents));
        cents += step;
    }
    let label_every = months.div_ceil(12).max(1);
    for index in (0..months).step_by(label_every) {
        let position = x(index);
        let _ = writeln!(
            svg,
            r#"<text x="{position:.1}" y="{:.1}" text-anchor="end" transform="rotate(-45 {position:.1} {:.1})">{}</text>"#,
            height - bottom + 18.0,
            height - bottom + 18.0,
            escape(&month_label(index))
        );
    }
    let _ = writeln!(svg, r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##, y(0), width - right, y(0));
    for (number, (label, values)) in series.iter().enumerate() {
        let color = COLORS[number % COLORS.len()];
        let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = writeln!(svg, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, points.join(" "));
        let legend_y = top + 6.0 + 16.0 * number as f64;
        if number == 0 {
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="236" height="{:.1}" fill="white" fill-opacity="0.85" stroke="#ccc"/>"##,
                width - right - 246.0,
                top,
                16.0 * series.len() as f64 + 10.0
            );
        }
        let _ = writeln!(svg, r#"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{color}"/>"#, width - right - 240.0, legend_y);
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, width - right - 222.0, legend_y + 10.0, escape(label));
    }
    svg.push_str("</svg>\n");
    svg
}
