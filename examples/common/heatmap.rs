//! Heat maps on [−1, 1]² for the likelihood examples (included with `#[path]`): a field on a
//! G × G grid with its colour bar, optionally labelled points on top and the cells where the
//! field crosses a level outlined (a decision boundary). Text needs a font (`font.rs`); without
//! one the panels are drawn without it.

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

use crate::colour::lerp_map;

pub type Res = Result<(), Box<dyn Error>>;

/// ColorBrewer RdBu reversed (blue low, red high): for probabilities around ½.
pub fn rdbu_r(t: f64) -> RGBColor {
    const S: [(u8, u8, u8); 7] = [
        (0x21, 0x66, 0xac),
        (0x67, 0xa9, 0xcf),
        (0xd1, 0xe5, 0xf0),
        (0xf7, 0xf7, 0xf7),
        (0xfd, 0xdb, 0xc7),
        (0xef, 0x8a, 0x62),
        (0xb2, 0x18, 0x2b),
    ];
    lerp_map(&S, t)
}

/// An approximation of matplotlib's "viridis" through seven stops: for rates.
pub fn viridis(t: f64) -> RGBColor {
    const S: [(u8, u8, u8); 7] = [
        (68, 1, 84),
        (68, 57, 131),
        (49, 104, 142),
        (33, 145, 140),
        (53, 183, 121),
        (144, 215, 67),
        (253, 231, 37),
    ];
    lerp_map(&S, t)
}

/// Points drawn on a panel: (x1, x2) pairs and a class (0 or 1) each.
pub struct Points<'a> {
    pub xy: &'a [f64],
    pub class: &'a [f64],
}

/// A G × G field on [−1, 1]² (x1 fastest) with its colour map, range, an optional level to
/// outline and optional points.
pub struct Panel<'a> {
    pub title: String,
    pub values: &'a [f64],
    pub cmap: fn(f64) -> RGBColor,
    pub lo: f64,
    pub hi: f64,
    pub level: Option<f64>,
    pub points: Option<Points<'a>>,
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    p: &Panel,
    g: usize,
    text: bool,
) -> Res
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(if text { 56 } else { 28 }));
    let mut cb = ChartBuilder::on(&main);
    cb.margin(8);
    if text {
        cb.caption(&p.title, ("sans-serif", 16)).x_label_area_size(28).y_label_area_size(36);
    }
    let mut chart = cb.build_cartesian_2d(-1.0..1.0, -1.0..1.0)?;
    if text {
        chart.configure_mesh().disable_mesh().x_labels(5).y_labels(5).x_desc("x1").y_desc("x2").draw()?;
    }
    let h = 2.0 / (g - 1) as f64;
    let at = |i: usize| -1.0 + i as f64 * h - h / 2.0;
    let v = |i: usize, j: usize| p.values[j * g + i];
    chart.draw_series((0..g * g).map(|k| {
        let (i, j) = (k % g, k / g);
        let t = (p.values[k] - p.lo) / (p.hi - p.lo);
        Rectangle::new([(at(i), at(j)), (at(i) + h, at(j) + h)], (p.cmap)(t).filled())
    }))?;
    if let Some(level) = p.level {
        // A cell is on the boundary when it and its right or upper neighbour lie on either side.
        let crosses = |a: f64, b: f64| (a - level) * (b - level) <= 0.0 && a != b;
        chart.draw_series((0..g * g).filter_map(|k| {
            let (i, j) = (k % g, k / g);
            let on =
                (i + 1 < g && crosses(v(i, j), v(i + 1, j))) || (j + 1 < g && crosses(v(i, j), v(i, j + 1)));
            on.then(|| Rectangle::new([(at(i), at(j)), (at(i) + h, at(j) + h)], BLACK.filled()))
        }))?;
    }
    if let Some(pts) = &p.points {
        let colour = |c: f64| if c > 0.5 { RGBColor(0xb2, 0x18, 0x2b) } else { RGBColor(0x21, 0x66, 0xac) };
        // A white disc under each coloured one, so a point stands out on the field of its class.
        chart.draw_series(pts.xy.chunks_exact(2).map(|q| Circle::new((q[0], q[1]), 4, WHITE.filled())))?;
        chart.draw_series(
            pts.xy
                .chunks_exact(2)
                .zip(pts.class)
                .map(|(q, &c)| Circle::new((q[0], q[1]), 3, colour(c).filled())),
        )?;
    }

    // Colour bar, in pixels: a strip aligned with the plot's height, tick labels on its right.
    let (_, hp) = bar.dim_in_pixel();
    let (top, bottom) = if text { (34, 36) } else { (8, 8) };
    let (x0, x1) = (4, 20);
    let span = (hp as i32 - top - bottom).max(1);
    for py in 0..span {
        let t = 1.0 - (py as f64 + 0.5) / span as f64;
        bar.draw(&Rectangle::new([(x0, top + py), (x1, top + py + 1)], (p.cmap)(t).filled()))?;
    }
    bar.draw(&Rectangle::new([(x0, top), (x1, top + span)], BLACK.stroke_width(1)))?;
    if text {
        for k in 0..=4 {
            let py = top + span * (4 - k) / 4;
            let val = p.lo + (p.hi - p.lo) * k as f64 / 4.0;
            bar.draw(&PathElement::new([(x1, py), (x1 + 3, py)], BLACK))?;
            let label = format!("{val:.2}");
            let label = label.trim_end_matches('0').trim_end_matches('.');
            bar.draw(&Text::new(label.to_string(), (x1 + 5, py - 6), ("sans-serif", 12)))?;
        }
    }
    Ok(())
}

/// Panels side by side in one PNG.
pub fn panels(path: &Path, row: &[Panel], g: usize, text: bool) -> Res {
    let n = row.len().max(1) as u32;
    let (cw, ch) = (if text { 440 } else { 380 }, if text { 400 } else { 350 });
    let root = BitMapBackend::new(path, (cw * n, ch)).into_drawing_area();
    root.fill(&WHITE)?;
    let cells = root.split_evenly((1, n as usize));
    for (cell, p) in cells.iter().zip(row) {
        draw_panel(cell, p, g, text)?;
    }
    root.present()?;
    Ok(())
}

/// Saves a figure, naming the file in the error.
pub fn save(path: &Path, draw: impl FnOnce(&Path) -> Res) -> Result<(), String> {
    draw(path).map_err(|e| format!("cannot write the figure {}: {e}", path.display()))
}
