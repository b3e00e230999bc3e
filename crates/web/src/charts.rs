//! Charts drawn on the server as SVG (issue 6 §4): no script, no fonts fetched, readable on paper.
//!
//! Text width is estimated per character — a CJK character is one em, digits and Latin letters about 0.55 em
//! — so Chinese labels get the room they need (a label of twelve characters is twice as wide as one of six,
//! which counting bytes or chars alone would get wrong for mixed text). Every bar carries its value as text,
//! and the colours are dark enough to print in grey.

use maud::{Markup, html};

const FONT: f64 = 14.0;
const BAR: &str = "#0b4f9c";
const BAD: &str = "#a30000";

/// Estimated width in pixels of `s` at `size` px.
pub fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                if c.is_ascii_uppercase() || c == '%' { 0.65 } else { 0.55 }
            } else {
                1.0 // CJK characters and full-width punctuation
            }
        })
        .sum::<f64>()
        * size
}

/// A coordinate with one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

fn frame(width: f64, height: f64, title: &str, inner: Markup) -> Markup {
    let (w, h) = (width.ceil(), height.ceil());
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) width="100%" role="img"
                aria-label=(title) font-family="system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
                font-size=(FONT) {
                title { (title) }
                rect width=(w) height=(h) fill="#fff" {}
                (inner)
            }
            figcaption { (title) }
        }
    }
}

/// One bar: its label, its value (sets the length), the text shown at its end, and whether it is bad news.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
    pub bad: bool,
}

/// Horizontal bars, one per row, labels on the left measured to fit (units, channels, levels).
pub fn bars(title: &str, rows: &[Bar]) -> Markup {
    if rows.is_empty() {
        return frame(480.0, 60.0, title, html! { text x="16" y="36" fill="#444" { "暂无数据" } });
    }
    let label_w = rows.iter().map(|r| text_width(&r.label, FONT)).fold(0.0, f64::max) + 12.0;
    let value_w = rows.iter().map(|r| text_width(&r.text, FONT)).fold(0.0, f64::max) + 12.0;
    let bar_w = 320.0;
    let row_h = 24.0;
    let width = label_w + bar_w + value_w + 8.0;
    let height = rows.len() as f64 * row_h + 12.0;
    let max = rows.iter().map(|r| r.value).fold(0.0, f64::max);
    let inner = html! {
        @for (i, r) in rows.iter().enumerate() {
            @let y = 6.0 + i as f64 * row_h;
            @let len = if max > 0.0 { (r.value / max * bar_w).max(if r.value > 0.0 { 1.0 } else { 0.0 }) } else { 0.0 };
            text x=(n(label_w - 6.0)) y=(n(y + 16.0)) text-anchor="end" fill="#111" { (r.label) }
            rect x=(n(label_w)) y=(n(y)) width=(n(len)) height=(n(row_h - 6.0)) fill=(if r.bad { BAD } else { BAR }) {}
            text x=(n(label_w + len + 6.0)) y=(n(y + 16.0)) fill="#111" { (r.text) }
        }
    };
    frame(width, height, title, inner)
}

/// One point of a trend: its label on the axis, and the value (a rate 0..=1) or none.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
}

/// A line over time (rates, 0–100%), with each point's value written above it; gaps where there is none.
pub fn trend(title: &str, points: &[Point], bad: bool) -> Markup {
    let (left, top, plot_h) = (48.0, 24.0, 180.0);
    let step = points.iter().map(|p| text_width(&p.label, 12.0)).fold(48.0, f64::max) + 8.0;
    let width = left + step * points.len().max(1) as f64 + 16.0;
    let height = top + plot_h + 40.0;
    let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else {
        let lo = values.iter().copied().fold(1.0, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        let pad = ((hi - lo) * 0.2).max(0.01);
        ((lo - pad).max(0.0), (hi + pad).min(1.0))
    };
    let y_of = |v: f64| top + plot_h - (v - lo) / (hi - lo).max(1e-9) * plot_h;
    let color = if bad { BAD } else { BAR };
    let x_of = |i: usize| left + step * (i as f64 + 0.5);
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                path.push_str(&format!("{}{:.1} {:.1}", if pen_down { " L" } else { " M" }, x_of(i), y_of(v)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let bottom = top + plot_h;
    let inner = html! {
        line x1=(left) y1=(top) x2=(left) y2=(bottom) stroke="#888" {}
        line x1=(left) y1=(bottom) x2=(width - 8.0) y2=(bottom) stroke="#888" {}
        text x=(left - 4.0) y=(n(top + 4.0)) text-anchor="end" font-size="11" fill="#444" { (format!("{:.0}%", hi * 100.0)) }
        text x=(left - 4.0) y=(n(bottom)) text-anchor="end" font-size="11" fill="#444" { (format!("{:.0}%", lo * 100.0)) }
        @for (i, p) in points.iter().enumerate() {
            text x=(n(x_of(i))) y=(n(bottom + 18.0)) text-anchor="middle" font-size="12" fill="#111" { (p.label) }
            @if let Some(v) = p.value {
                circle cx=(n(x_of(i))) cy=(n(y_of(v))) r="3.5" fill=(color) {}
                text x=(n(x_of(i))) y=(n(y_of(v) - 8.0)) text-anchor="middle" font-size="11" fill="#111" {
                    (format!("{:.1}%", v * 100.0))
                }
            }
        }
        @if !path.is_empty() { path d=(path.trim()) fill="none" stroke=(color) stroke-width="2" {} }
    };
    frame(width, height, title, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_wider_than_latin() {
        assert_eq!(text_width("非常满意", 10.0), 40.0);
        assert!(text_width("abcd", 10.0) < 25.0);
        assert!(text_width("县市场监督管理局", 14.0) > 2.0 * text_width("综合窗口", 14.0) - 0.1);
    }

    #[test]
    fn labels_get_their_room() {
        let rows = vec![
            Bar { label: "县市场监督管理局".into(), value: 2.0, text: "2.0%".into(), bad: true },
            Bar { label: "青山镇".into(), value: 1.0, text: "1.0%".into(), bad: false },
        ];
        let svg = bars("差评率", &rows).into_string();
        // Bars start right of the longest label: 8 CJK chars × 14 px + 12.
        assert!(svg.contains(r#"<rect x="124.0""#), "{svg}");
        assert!(svg.contains("县市场监督管理局") && svg.contains("2.0%") && svg.contains("<title>差评率</title>"));
        assert!(bars("空", &[]).into_string().contains("暂无数据"));
    }

    #[test]
    fn a_trend_leaves_gaps() {
        let pts = vec![
            Point { label: "1月".into(), value: Some(0.9) },
            Point { label: "2月".into(), value: None },
            Point { label: "3月".into(), value: Some(0.95) },
        ];
        let svg = trend("满意度", &pts, false).into_string();
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(r#"d="M76.0 178.3 M188.0 49.7""#), "the line restarts after the gap: {svg}");
        assert!(svg.contains("90.0%") && svg.contains("95.0%"));
    }
}
