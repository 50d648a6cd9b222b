//! PNG figures with plotters' bitmap backend: field maps, loss curves, the learned warp.
//!
//! Text (titles, tick labels) needs a font: `examples/common/font.rs` loads one at run time
//! (`init_font`); without one the figures are drawn without text rather than failing.

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

use crate::colour::lerp_map;

pub type Res = Result<(), Box<dyn Error>>;

/// matplotlib's "RdBu_r" (ColorBrewer RdBu, reversed: blue low, red high).
pub fn rdbu_r(t: f64) -> RGBColor {
    const S: [(u8, u8, u8); 11] = [
        (0x05, 0x30, 0x61),
        (0x21, 0x66, 0xac),
        (0x43, 0x93, 0xc3),
        (0x92, 0xc5, 0xde),
        (0xd1, 0xe5, 0xf0),
        (0xf7, 0xf7, 0xf7),
        (0xfd, 0xdb, 0xc7),
        (0xf4, 0xa5, 0x82),
        (0xd6, 0x60, 0x4d),
        (0xb2, 0x18, 0x2b),
        (0x67, 0x00, 0x1f),
    ];
    lerp_map(&S, t)
}

/// An approximation of matplotlib's "magma" through nine stops.
pub fn magma(t: f64) -> RGBColor {
    const S: [(u8, u8, u8); 9] = [
        (0, 0, 4),
        (28, 16, 68),
        (79, 18, 123),
        (129, 37, 129),
        (181, 54, 122),
        (229, 80, 100),
        (251, 135, 97),
        (254, 194, 135),
        (252, 253, 191),
    ];
    lerp_map(&S, t)
}

/// A G × G field on [−1, 1]² (x1 fastest) with its colour map and range.
pub struct Field<'a> {
    pub title: String,
    pub values: &'a [f64],
    pub cmap: fn(f64) -> RGBColor,
    pub lo: f64,
    pub hi: f64,
}

fn draw_field<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    f: &Field,
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
        cb.caption(&f.title, ("sans-serif", 16)).x_label_area_size(28).y_label_area_size(36);
    }
    let mut chart = cb.build_cartesian_2d(-1.0..1.0, -1.0..1.0)?;
    if text {
        chart.configure_mesh().disable_mesh().x_labels(5).y_labels(5).x_desc("x1").y_desc("x2").draw()?;
    }
    let h = 2.0 / (g - 1) as f64;
    let at = |i: usize| -1.0 + i as f64 * h - h / 2.0;
    chart.draw_series((0..g * g).map(|k| {
        let (i, j) = (k % g, k / g);
        let t = (f.values[k] - f.lo) / (f.hi - f.lo);
        Rectangle::new([(at(i), at(j)), (at(i) + h, at(j) + h)], (f.cmap)(t).filled())
    }))?;

    let (top, bottom) = if text { (34, 36) } else { (8, 8) };
    colour_bar(&bar, f.cmap, (f.lo, f.hi), (top, bottom), text)?;
    Ok(())
}

/// A vertical colour bar filling `area`'s height less `top` and `bottom` pixels, with five
/// tick labels from `range.0` (bottom) to `range.1` (top) on its right when `text`.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    cmap: fn(f64) -> RGBColor,
    range: (f64, f64),
    (top, bottom): (i32, i32),
    text: bool,
) -> Res
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let (x0, x1) = (4, 20);
    let span = (h as i32 - top - bottom).max(1);
    for py in 0..span {
        let t = 1.0 - (py as f64 + 0.5) / span as f64;
        area.draw(&Rectangle::new([(x0, top + py), (x1, top + py + 1)], cmap(t).filled()))?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, top + span)], BLACK.stroke_width(1)))?;
    if text {
        for k in 0..=4 {
            let py = top + span * (4 - k) / 4;
            let v = range.0 + (range.1 - range.0) * k as f64 / 4.0;
            area.draw(&PathElement::new([(x1, py), (x1 + 3, py)], BLACK))?;
            let label = format!("{v:.2}");
            let label = label.trim_end_matches('0').trim_end_matches('.');
            area.draw(&Text::new(label.to_string(), (x1 + 5, py - 6), ("sans-serif", 12)))?;
        }
    }
    Ok(())
}

/// A grid of field maps, `rows[r][c]`, saved as one PNG.
pub fn field_grid(path: &Path, rows: &[Vec<Field>], g: usize, text: bool) -> Res {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let (cw, ch) = (if text { 400 } else { 360 }, if text { 360 } else { 330 });
    let root = BitMapBackend::new(path, (cw * ncols, ch * rows.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let cells = root.split_evenly((rows.len(), ncols as usize));
    for (r, row) in rows.iter().enumerate() {
        for (c, f) in row.iter().enumerate() {
            draw_field(&cells[r * ncols as usize + c], f, g, text)?;
        }
    }
    root.present()?;
    Ok(())
}

/// Linear threshold of the loss axis: linear within ±`SYMLOG_LIN`, logarithmic beyond.
const SYMLOG_LIN: f64 = 10.0;

/// matplotlib's symlog (linear threshold [`SYMLOG_LIN`]): the −ELBO changes sign (the deep
/// kernel's ends below 0), so a log axis of the loss itself cannot show it; this one keeps the
/// loss's own values on the axis, logarithmic in magnitude away from 0.
pub fn symlog(y: f64) -> f64 {
    y.signum() * (1.0 + y.abs() / SYMLOG_LIN).log10()
}

/// The inverse of [`symlog`].
pub fn symlog_inv(t: f64) -> f64 {
    t.signum() * SYMLOG_LIN * (10f64.powf(t.abs()) - 1.0)
}

/// Tick values for a symlog axis showing loss values in [lo, hi]: 0 (when inside) and
/// ±m·10^k with m in {1, 2, 5}, or m = 1 alone on a side (positive or negative) that spans
/// more than three decades, so the labels read 100, 200, 500, 1000 rather than 310, 990, 3200.
pub fn nice_symlog_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = vec![0.0];
    for (sign, extent) in [(1.0, hi), (-1.0, -lo)] {
        let mantissas: &[f64] = if symlog(extent) > 3.0 { &[1.0] } else { &[1.0, 2.0, 5.0] };
        for k in 1..=15 {
            ticks.extend(mantissas.iter().map(|m| sign * m * 10f64.powi(k)));
        }
    }
    ticks.retain(|&v| v >= lo && v <= hi);
    ticks.sort_by(f64::total_cmp);
    ticks
}

/// A tick label for a nice value: no decimals, a minus sign for negatives.
fn tick_label(v: f64) -> String {
    let r = v.round();
    if r == 0.0 {
        "0".to_string()
    } else {
        format!("{r:.0}")
    }
}

/// Centred moving average over `window` points (odd; shrunk at both ends so every point
/// averages the same number of neighbours on each side). Non-finite values are skipped.
pub fn smooth(ys: &[f64], window: usize) -> Vec<f64> {
    let half = window / 2;
    let n = ys.len();
    let mut prefix = vec![(0.0, 0usize); n + 1];
    for (i, &v) in ys.iter().enumerate() {
        let (s, c) = prefix[i];
        prefix[i + 1] = if v.is_finite() { (s + v, c + 1) } else { (s, c) };
    }
    (0..n)
        .map(|i| {
            let h = half.min(i).min(n - 1 - i);
            let (a, b) = (prefix[i - h], prefix[i + h + 1]);
            let count = b.1 - a.1;
            if count == 0 {
                f64::NAN
            } else {
                (b.0 - a.0) / count as f64
            }
        })
        .collect()
}

/// Loss curves (−ELBO per step) on a symlog axis with nice ticks: each curve's raw values faint,
/// and their centred moving average (window ≈ 2 % of the steps) on top.
pub fn loss_curves(path: &Path, curves: &[(&str, &[f64], RGBColor)], text: bool) -> Res {
    let root = BitMapBackend::new(path, (1000, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let steps = curves.iter().map(|c| c.1.len()).max().unwrap_or(1).max(2);
    let window = (steps / 50) | 1;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in curves.iter().flat_map(|c| c.1.iter()).filter(|v| v.is_finite()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() || hi <= lo {
        (lo, hi) = (-1.0, 1.0);
    }
    let (tlo, thi) = (symlog(lo), symlog(hi));
    let pad = 0.04 * (thi - tlo);
    let (tlo, thi) = (tlo - pad, thi + pad);
    let ticks: Vec<f64> =
        nice_symlog_ticks(symlog_inv(tlo), symlog_inv(thi)).into_iter().map(symlog).collect();
    let mut cb = ChartBuilder::on(&root);
    cb.margin(12);
    if text {
        cb.caption(
            format!(
                "SVGP training: -ELBO per step (symlog axis: linear within ±{SYMLOG_LIN}, log beyond); \
                 faint: raw, solid: {window}-step moving average"
            ),
            ("sans-serif", 16),
        )
        .x_label_area_size(36)
        .y_label_area_size(64);
    }
    let mut chart = cb.build_cartesian_2d(1.0..steps as f64, tlo..thi)?;
    // The y ticks are drawn by hand at the nice values (plotters would space them evenly in
    // the transformed coordinate, giving labels like 310 and 3200).
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh().light_line_style(WHITE.mix(0.0)).y_labels(0);
    if text {
        mesh.x_desc("step").y_desc("-ELBO").x_label_formatter(&|v| format!("{v:.0}"));
    } else {
        mesh.x_labels(0);
    }
    mesh.draw()?;
    // Keep the labels apart: 0 and the powers of ten first, then 5s, then 2s, each only where
    // it lies at least 16 px from every tick already kept.
    let priority = |t: f64| {
        let v = symlog_inv(t).abs().round();
        let m = v / 10f64.powi(v.max(1.0).log10().floor() as i32);
        if v == 0.0 {
            0
        } else {
            [(1.0, 1), (5.0, 2), (2.0, 3)].iter().find(|p| (m - p.0).abs() < 1e-9).map_or(4, |p| p.1)
        }
    };
    let mut order = ticks.clone();
    order.sort_by_key(|&t| priority(t));
    let mut kept: Vec<f64> = Vec::new();
    for t in order {
        let py = chart.backend_coord(&(1.0, t)).1;
        if kept.iter().all(|&k| (chart.backend_coord(&(1.0, k)).1 - py).abs() >= 16) {
            kept.push(t);
        }
    }
    for &t in &kept {
        let grid = if t == 0.0 { BLACK.mix(0.35) } else { BLACK.mix(0.1) };
        chart.draw_series(std::iter::once(PathElement::new([(1.0, t), (steps as f64, t)], grid)))?;
        if text {
            let (px, py) = chart.backend_coord(&(1.0, t));
            let label = tick_label(symlog_inv(t));
            let w = 7 * label.chars().count() as i32;
            root.draw(&PathElement::new([(px - 5, py), (px, py)], BLACK))?;
            root.draw(&Text::new(label, (px - 8 - w, py - 7), ("sans-serif", 13)))?;
        }
    }
    let finite_points = |ys: Vec<f64>| -> Vec<(f64, f64)> {
        ys.into_iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| ((i + 1) as f64, symlog(v)))
            .collect()
    };
    for &(_, ys, color) in curves {
        chart.draw_series(LineSeries::new(finite_points(ys.to_vec()), color.mix(0.25).stroke_width(1)))?;
    }
    for &(name, ys, color) in curves {
        let s =
            chart.draw_series(LineSeries::new(finite_points(smooth(ys, window)), color.stroke_width(2)))?;
        if text {
            s.label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        }
    }
    if text {
        chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).draw()?;
    }
    root.present()?;
    Ok(())
}

/// Two scatter panels coloured by the target in [−1, 1]: the input grid, and the learned warp
/// projected on its first two principal components; a colour bar for f(x) on the right.
pub fn warp(path: &Path, inputs: &[f64], pcs: &[f64], colour: &[f64], text: bool) -> Res {
    let bar_w = if text { 64 } else { 28 };
    let root = BitMapBackend::new(path, (1000 + bar_w, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let (panels, bar) = root.split_horizontally(1000);
    let (left, right) = panels.split_horizontally(500);
    scatter(&left, inputs, colour, "input space, coloured by f(x)", ("x1", "x2"), text)?;
    scatter(&right, pcs, colour, "warped space: first two PCs of MLP(x)", ("PC1", "PC2"), text)?;
    // The scatter panels' plot area: 10 px margin, the caption (~26 px) above, the x labels below.
    let (top, bottom) = if text { (36, 40) } else { (10, 10) };
    colour_bar(&bar, rdbu_r, (-1.0, 1.0), (top, bottom), text)?;
    if text {
        bar.draw(&Text::new("f(x)", (6, top - 16), ("sans-serif", 13)))?;
    }
    root.present()?;
    Ok(())
}

fn scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    pts: &[f64],
    colour: &[f64],
    title: &str,
    desc: (&str, &str),
    text: bool,
) -> Res
where
    DB::ErrorType: 'static,
{
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in pts.chunks_exact(2).filter(|p| p[0].is_finite() && p[1].is_finite()) {
        (x0, x1, y0, y1) = (x0.min(p[0]), x1.max(p[0]), y0.min(p[1]), y1.max(p[1]));
    }
    if !(x1 > x0 && y1 > y0) {
        (x0, x1, y0, y1) = (-1.0, 1.0, -1.0, 1.0);
    }
    let (px, py) = (0.04 * (x1 - x0), 0.04 * (y1 - y0));
    let mut cb = ChartBuilder::on(area);
    cb.margin(10);
    if text {
        cb.caption(title, ("sans-serif", 16)).x_label_area_size(30).y_label_area_size(44);
    }
    let mut chart = cb.build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))?;
    if text {
        chart.configure_mesh().disable_mesh().x_labels(5).y_labels(5).x_desc(desc.0).y_desc(desc.1).draw()?;
    }
    chart.draw_series(
        pts.chunks_exact(2)
            .zip(colour)
            .map(|(p, &c)| Circle::new((p[0], p[1]), 2, rdbu_r((c + 1.0) / 2.0).filled())),
    )?;
    Ok(())
}

/// Rows projected on the first two principal components: `x` is n × d row-major; returns n × 2.
/// (Covariance eigenvectors by cyclic Jacobi rotations: d is small, 8 for the reference warp.)
pub fn first_two_pcs(x: &[f64], d: usize) -> Vec<f64> {
    let n = x.len() / d;
    let mut mean = vec![0.0; d];
    for r in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / n as f64;
        }
    }
    let mut c = vec![0.0; d * d];
    for r in x.chunks_exact(d) {
        for i in 0..d {
            for j in 0..d {
                c[i * d + j] += (r[i] - mean[i]) * (r[j] - mean[j]);
            }
        }
    }
    let (vals, vecs) = jacobi_eigen(c, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let (a, b) = (order[0], order.get(1).copied().unwrap_or(order[0]));
    x.chunks_exact(d)
        .flat_map(|r| {
            let p = |k: usize| (0..d).map(|i| (r[i] - mean[i]) * vecs[i * d + k]).sum::<f64>();
            [p(a), p(b)]
        })
        .collect()
}

/// Eigenvalues and eigenvectors (columns of the returned d × d matrix) of a symmetric matrix.
fn jacobi_eigen(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j].powi(2))
            .sum();
        let diag: f64 = (0..d).map(|i| a[i * d + i].powi(2)).sum();
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (cs, sn) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = cs * akp - sn * akq;
                    a[k * d + q] = sn * akp + cs * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = cs * apk - sn * aqk;
                    a[q * d + k] = sn * apk + cs * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = cs * vkp - sn * vkq;
                    v[k * d + q] = sn * vkp + cs * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_ticks_are_nice_values_inside_the_range() {
        // The deep kernel's −ELBO: from ~40,000 down to −455.
        let t = nice_symlog_ticks(-455.0, 40_000.0);
        assert_eq!(t, vec![-200.0, -100.0, -50.0, -20.0, -10.0, 0.0, 10.0, 100.0, 1000.0, 10_000.0]);
        // One side only, few decades: 1, 2, 5 steps.
        assert_eq!(nice_symlog_ticks(15.0, 600.0), vec![20.0, 50.0, 100.0, 200.0, 500.0]);
        for v in [-455.0, -3.0, 0.0, 7.5, 990.0, 3200.0] {
            assert!((symlog_inv(symlog(v)) - v).abs() < 1e-9 * v.abs().max(1.0), "{v}");
        }
        assert_eq!(tick_label(symlog_inv(symlog(-200.0))), "-200");
        assert_eq!(tick_label(symlog_inv(symlog(1000.0))), "1000");
    }

    #[test]
    fn smoothing_averages_a_centred_window() {
        let ys = [0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 0.0];
        let s = smooth(&ys, 3);
        // Ends shrink the window to stay centred: the first and last points stay as they are.
        assert_eq!(s[0], 0.0);
        assert_eq!(s[6], 0.0);
        assert!((s[1] - 10.0 / 3.0).abs() < 1e-12 && (s[2] - 20.0 / 3.0).abs() < 1e-12);
        // A line is left unchanged, and a NaN is skipped, not spread.
        let line: Vec<f64> = (0..20).map(|i| 2.0 * i as f64 - 3.0).collect();
        assert!(smooth(&line, 7).iter().zip(&line).all(|(a, b)| (a - b).abs() < 1e-12));
        let s = smooth(&[1.0, f64::NAN, 3.0], 3);
        assert_eq!(s, vec![1.0, 2.0, 3.0]);
    }
}
