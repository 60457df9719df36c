//! Horizontal (stacked) bar charts as plain SVG text: no plotting dependency.

use std::fmt::Write as _;

/// One bar: a label and its segments' values, in the chart's segment order.
pub struct Bar {
    pub label: String,
    pub values: Vec<f64>,
}

/// A chart of horizontal bars, each the stack of its segments.
pub struct Chart {
    pub title: String,
    pub unit: String,
    pub segments: Vec<String>,
    pub bars: Vec<Bar>,
}

const COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];
const LABEL_W: f64 = 260.0;
const PLOT_W: f64 = 420.0;
const BAR_H: f64 = 18.0;
const GAP: f64 = 8.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A round axis maximum at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * p)
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Chart {
    /// The SVG document.
    pub fn render(&self) -> String {
        let max = self
            .bars
            .iter()
            .map(|b| b.values.iter().sum::<f64>())
            .fold(0.0, f64::max);
        let axis = nice_max(max);
        let legend_h = if self.segments.len() > 1 { 22.0 } else { 0.0 };
        let top = 34.0 + legend_h;
        let h = top + self.bars.len() as f64 * (BAR_H + GAP) + 34.0;
        let w = LABEL_W + PLOT_W + 80.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
            esc(&self.title)
        );
        self.legend(&mut s);
        self.grid(&mut s, axis, top, h);
        for (i, bar) in self.bars.iter().enumerate() {
            let y = top + i as f64 * (BAR_H + GAP);
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                LABEL_W - 6.0,
                y + BAR_H * 0.75,
                esc(&bar.label)
            );
            let mut x = LABEL_W;
            for (j, v) in bar.values.iter().enumerate() {
                let bw = (v / axis * PLOT_W).max(0.0);
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{BAR_H}" fill="{}"><title>{}: {} {}</title></rect>"#,
                    COLORS[j % COLORS.len()],
                    esc(self.segments.get(j).map_or("", String::as_str)),
                    fmt_num(*v),
                    esc(&self.unit)
                );
                x += bw;
            }
            let total: f64 = bar.values.iter().sum();
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}">{}</text>"#,
                x + 4.0,
                y + BAR_H * 0.75,
                fmt_num(total)
            );
        }
        let _ = writeln!(s, "</svg>");
        s
    }

    fn legend(&self, s: &mut String) {
        if self.segments.len() < 2 {
            return;
        }
        let mut x = 10.0;
        for (j, name) in self.segments.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<rect x="{x}" y="30" width="12" height="12" fill="{}"/><text x="{}" y="40">{}</text>"#,
                COLORS[j % COLORS.len()],
                x + 16.0,
                esc(name)
            );
            x += 16.0 + 7.0 * name.len() as f64 + 14.0;
        }
    }

    fn grid(&self, s: &mut String, axis: f64, top: f64, h: f64) {
        for k in 0..=4 {
            let v = axis * f64::from(k) / 4.0;
            let x = LABEL_W + PLOT_W * f64::from(k) / 4.0;
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
                h - 28.0,
                h - 14.0,
                fmt_num(v)
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            LABEL_W + PLOT_W / 2.0,
            h - 2.0,
            esc(&self.unit)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_round_axis_and_escape_labels() {
        let c = Chart {
            title: "a < b".into(),
            unit: "µs".into(),
            segments: vec!["x".into(), "y".into()],
            bars: vec![Bar {
                label: "r&d".into(),
                values: vec![30.0, 10.0],
            }],
        };
        let svg = c.render();
        assert!(svg.contains("a &lt; b") && svg.contains("r&amp;d"));
        // 30 of an axis of 50 is 60 % of the plot width.
        assert!(
            svg.contains(&format!("width=\"{:.1}\"", PLOT_W * 0.6)),
            "{svg}"
        );
        assert_eq!(nice_max(41.0), 50.0);
        assert_eq!(nice_max(0.0), 1.0);
    }
}
